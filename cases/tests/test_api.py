"""The cases API: the generated list/detail/create/update/delete checks (core.testing) for Case, the report and
transition endpoints, the 409 of a lost race, and the reporter's data kept out of lists."""

from __future__ import annotations

from cases import services
from cases.models import Case, Status
from core.testing import APICRUDTest, api_client


def a1_case(world) -> Case:
    return services.report(None, channel="hotline", category="property-repair", title="水管爆裂",
                           place=world.houses["A1"][0], reporter_name="钱多多", reporter_phone="13700137000")


class TestCaseAPI(APICRUDTest):
    model = Case
    url = "/api/cases/cases/"
    allowed, denied, outsider = "officer_a", "auditor", "worker_b1"
    update_allowed = False  # a case moves only through its workflow (transition)
    delete_allowed = False  # cases are never erased

    def in_scope(self, world):
        return a1_case(world)

    def create_data(self, world):
        return {"category": "property-repair", "title": "接口上报", "house": world.houses["A1"][1].pk}

    def update_data(self, world, obj):
        return {"title": "改标题"}


def test_the_list_never_carries_the_reporters_data(world):
    case = a1_case(world)
    r = api_client(world.users.officer_a).get("/api/cases/cases/")
    assert r.status_code == 200 and "137****7000" not in r.content.decode()
    detail = api_client(world.users.officer_a).get(f"/api/cases/cases/{case.pk}/").json()
    assert detail["reporter"] == {"name": "钱**", "phone": "137****7000"}
    assert api_client(world.users.worker_a1).get(f"/api/cases/cases/{case.pk}/").json()["reporter"] is None


def test_a_transition_through_the_api_and_its_conflict(world):
    case = a1_case(world)
    client = api_client(world.users.officer_a)
    r = client.post(f"/api/cases/cases/{case.pk}/transition/", {"action": "accept", "version": 1}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == Status.ACCEPTED and r.json()["events"][-1]["action"] == "accept"
    r = client.post(f"/api/cases/cases/{case.pk}/transition/", {"action": "reject", "version": 1, "reason": "x"},
                    format="json")
    assert r.status_code == 409 and "已被他人处理" in r.json()["non_field_errors"][0]
    assert r.json()["current_status"] == "accepted"


def test_a_transition_without_the_permission_is_403_and_out_of_scope_is_404(world):
    case = a1_case(world)
    r = api_client(world.users.worker_a1).post(f"/api/cases/cases/{case.pk}/transition/",
                                              {"action": "accept"}, format="json")
    assert r.status_code == 403
    r = api_client(world.users.worker_b1).post(f"/api/cases/cases/{case.pk}/transition/",
                                              {"action": "accept"}, format="json")
    assert r.status_code == 404


def test_a_report_through_the_api_names_the_bad_field(world):
    r = api_client(world.users.worker_a1).post("/api/cases/cases/", {"category": "property-repair", "title": "",
                                                                     "house": world.houses["A1"][0].pk},
                                               format="json")
    assert r.status_code == 400 and "title" in r.json()
    r = api_client(world.users.worker_a1).post("/api/cases/cases/", {"category": "property-repair", "title": "x",
                                                                     "house": world.houses["B1"][0].pk},
                                               format="json")
    assert r.status_code == 400 and "house" in r.json()
