"""The pages: report (with ?house= and a photo), queue and inbox scoped per persona, the detail's actions, the
conflict page, the permission-checked attachment, the map's GeoJSON and the figures; every page × persona."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from cases import services
from cases.models import Case, CaseAttachment, Status
from cases.tests.test_services import JPEG, new_case, to_status
from conftest import verified_login


def client_of(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


@pytest.fixture
def cases(world, cw):
    a = new_case(world, cw, title="A1的案件", attachments=[SimpleUploadedFile("p.jpg", JPEG)])
    b = new_case(world, cw, title="B1的案件", place=world.houses["B1"][0], user=world.users.worker_b1)
    a = services.transition(world.users.officer_a, a, "accept")
    a = services.transition(world.users.officer_a, a, "dispatch", lead_unit=cw.units.prop)
    return {"A1": a, "B1": b}


# --- report -----------------------------------------------------------------------------------------------------
def test_the_report_page_preselects_the_house_given_in_the_link(world, cw):
    house = world.houses["A1"][3]
    r = client_of(world.users.worker_a1).get(reverse("cases:report"), {"house": house.pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert f'<option value="{house.pk}" selected>' in html
    assert f'<option value="{house.building_id}" selected>' in html


def test_the_report_page_does_not_open_a_house_of_another_grid(world, cw):
    r = client_of(world.users.worker_a1).get(reverse("cases:report"), {"house": world.houses["B1"][0].pk})
    assert r.status_code == 404


def test_a_worker_reports_with_a_photo_and_lands_on_the_case(world, cw):
    house = world.houses["A1"][0]
    r = client_of(world.users.worker_a1).post(reverse("cases:report"), {
        "channel": "worker", "category": "property-repair", "priority": "normal", "title": "单元门坏了",
        "description": "门禁无法关闭", "compound": house.compound_id, "building": house.building_id,
        "house": house.pk, "reporter_name": "张三", "reporter_phone": "13800138000",
        "photos": SimpleUploadedFile("door.jpg", JPEG, content_type="image/jpeg")})
    assert r.status_code == 302
    case = Case.objects.get(title="单元门坏了")
    assert r.url == reverse("cases:detail", args=[case.pk])
    assert case.house_id == house.pk and case.attachments.count() == 1


def test_the_people_involved_are_recorded_and_a_resident_of_the_house_is_linked_to_the_registry(world, cw):
    from people.models import Residence

    res = Residence.objects.filter(house__grid=world.grids["A1"], moved_out__isnull=True).select_related("house",
                                                                                                      "person").first()
    house, resident = res.house, res.person
    c = client_of(world.users.worker_a1)
    form = {"channel": "worker", "category": "neighbour-leak", "priority": "normal", "title": "楼上漏水",
            "compound": house.compound_id, "building": house.building_id, "house": house.pk}
    bad = c.post(reverse("cases:report"), {**form, "parties": f"{resident.name} 证人"})
    assert bad.status_code == 400 and "第1行" in bad.content.decode() and not Case.objects.filter(title="楼上漏水")
    r = c.post(reverse("cases:report"), {**form, "parties": f"{resident.name} 申请人\n路人甲，被申请人\n\n赵某某"})
    assert r.status_code == 302
    parties = {p.name: p for p in Case.objects.get(title="楼上漏水").parties.all()}
    assert [(p.role, p.person_id, p.house_id) for p in (parties[resident.name], parties["路人甲"], parties["赵某某"])] \
        == [("applicant", resident.pk, house.pk), ("respondent", None, house.pk), ("related", None, house.pk)]


def test_a_report_with_a_fake_photo_shows_the_reason_and_saves_nothing(world, cw):
    house = world.houses["A1"][0]
    r = client_of(world.users.worker_a1).post(reverse("cases:report"), {
        "channel": "worker", "category": "property-repair", "priority": "normal", "title": "单元门坏了",
        "compound": house.compound_id, "photos": SimpleUploadedFile("x.jpg", b"MZ\x90\x00not an image")})
    assert r.status_code == 400
    assert "JPEG" in r.content.decode()
    assert not Case.objects.exists()


def test_the_building_and_house_pickers_answer_only_inside_the_grid(world, cw):
    c = client_of(world.users.worker_a1)
    r = c.get(reverse("cases:place_options"), {"compound": world.compounds["A1"].pk})
    assert f'value="{world.buildings["A1"].pk}"' in r.content.decode()
    r = c.get(reverse("cases:place_options"), {"compound": world.compounds["B1"].pk})
    assert f'value="{world.buildings["B1"].pk}"' not in r.content.decode()


# --- lists and scoping ------------------------------------------------------------------------------------------
def test_the_command_centre_queue_shows_the_whole_street(world, cw, cases):
    html = client_of(world.users.command).get(reverse("cases:queue")).content.decode()
    assert cases["A1"].number in html and cases["B1"].number in html


def test_a_grid_worker_sees_only_the_cases_of_their_grid(world, cw, cases):
    html = client_of(world.users.worker_b1).get(reverse("cases:queue")).content.decode()
    assert cases["B1"].number in html and cases["A1"].number not in html
    assert client_of(world.users.worker_b1).get(reverse("cases:detail", args=[cases["A1"].pk])).status_code == 404


def test_a_unit_sees_only_the_cases_dispatched_to_it(world, cw, cases):
    mine = client_of(cw.users.unit_prop)
    html = mine.get(reverse("cases:inbox")).content.decode()
    assert cases["A1"].number in html and cases["B1"].number not in html
    assert mine.get(reverse("cases:detail", args=[cases["B1"].pk])).status_code == 404
    other = client_of(cw.users.unit_other)
    assert cases["A1"].number not in other.get(reverse("cases:inbox")).content.decode()
    assert other.get(reverse("cases:detail", args=[cases["A1"].pk])).status_code == 404
    assert mine.get(reverse("cases:home")).url == reverse("cases:inbox")


def test_a_co_unit_sees_the_case_too(world, cw, cases):
    case = to_status(world, cw, "accepted")
    services.transition(world.users.officer_a, case, "dispatch", lead_unit=cw.units.prop, co_units=[cw.units.dept])
    assert client_of(cw.users.unit_dept).get(reverse("cases:detail", args=[case.pk])).status_code == 200


def test_the_queue_filters_overdue_cases(world, cw, cases):
    from django.utils import timezone

    Case.objects.filter(pk=cases["A1"].pk).update(deadline_at=timezone.now() - timezone.timedelta(hours=1))
    html = client_of(world.users.command).get(reverse("cases:queue"), {"state": "overdue"}).content.decode()
    assert cases["A1"].number in html and cases["B1"].number not in html
    assert "case-overdue" in html


def test_the_reporters_contact_is_masked_and_only_for_roles_that_may_contact(world, cw):
    case = new_case(world, cw, reporter_name="王小明", reporter_phone="13912345678")
    officer = client_of(world.users.officer_a).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "139****5678" in officer and "13912345678" not in officer and "王小明" not in officer
    worker = client_of(world.users.worker_a1).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "139****5678" not in worker


# --- actions ----------------------------------------------------------------------------------------------------
def test_the_detail_offers_only_the_actions_the_user_may_take(world, cw, cases):
    officer = client_of(world.users.officer_a).get(reverse("cases:detail", args=[cases["A1"].pk])).content.decode()
    unit = client_of(cw.users.unit_prop).get(reverse("cases:detail", args=[cases["A1"].pk])).content.decode()
    assert 'data-action="start"' in unit and 'data-action="dispatch"' not in unit
    assert 'data-action="escalate"' in officer


def test_an_action_posted_by_htmx_returns_the_updated_panel(world, cw, cases):
    case = cases["A1"]
    r = client_of(cw.users.unit_prop).post(reverse("cases:act", args=[case.pk, "start"]),
                                          {"version": case.version}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'id="case-panel"' in r.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.IN_PROGRESS


def test_a_stale_form_gets_409_with_the_chinese_conflict_message(world, cw):
    case = to_status(world, cw, "accepted")
    c = client_of(world.users.officer_a)
    url = reverse("cases:act", args=[case.pk, "dispatch"])
    assert c.post(url, {"version": case.version, "lead_unit": cw.units.prop.pk}).status_code == 302
    r = client_of(world.users.command).post(url, {"version": case.version, "lead_unit": cw.units.dept.pk})
    assert r.status_code == 409
    assert "已被他人处理" in r.content.decode()
    assert Case.objects.get(pk=case.pk).lead_unit_id == cw.units.prop.pk


def test_an_action_without_the_permission_is_403(world, cw, cases):
    r = client_of(cw.users.unit_prop).post(reverse("cases:act", args=[cases["A1"].pk, "close"]),
                                          {"version": cases["A1"].version})
    assert r.status_code == 403


def test_a_validation_error_is_shown_in_chinese(world, cw, cases):
    r = client_of(world.users.officer_a).post(reverse("cases:act", args=[cases["B1"].pk, "reject"]),
                                             {"version": cases["B1"].version})
    assert r.status_code in (400, 404)
    r = client_of(world.users.command).post(reverse("cases:act", args=[cases["B1"].pk, "reject"]),
                                           {"version": cases["B1"].version})
    assert r.status_code == 400 and "请填写不予受理的理由" in r.content.decode()


# --- attachments ------------------------------------------------------------------------------------------------
def test_an_attachment_is_served_only_to_users_who_see_the_case(world, cw, cases):
    att = CaseAttachment.objects.get(case=cases["A1"])
    url = reverse("cases:attachment", args=[att.pk])
    r = client_of(world.users.worker_a1).get(url)
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    served = Image.open(io.BytesIO(b"".join(r.streaming_content)))  # the re-encoded copy of the upload
    assert served.format == "JPEG" and served.size == Image.open(io.BytesIO(JPEG)).size
    assert client_of(world.users.worker_b1).get(url).status_code == 404
    assert client_of(cw.users.unit_other).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    page = client_of(world.users.worker_a1).get(reverse("cases:detail", args=[cases["A1"].pk])).content.decode()
    assert url in page and att.file.name not in page


# --- map and figures --------------------------------------------------------------------------------------------
def test_the_geojson_has_points_in_scope_and_hotspots_when_asked(world, cw, cases):
    data = client_of(world.users.worker_a1).get(reverse("cases:geojson")).json()
    assert [f["properties"]["number"] for f in data["features"]] == [cases["A1"].number]
    data = client_of(world.users.command).get(reverse("cases:geojson"), {"cluster": "1"}).json()
    assert data["clustered"] and sum(f["properties"]["count"] for f in data["features"]) == 2


def test_the_figures_count_open_closed_and_satisfaction(world, cw, cases):
    case = to_status(world, cw, "closed")
    services.transition(world.users.officer_a, case, "satisfaction", answer="satisfied")
    r = client_of(world.users.command).get(reverse("cases:figures"))
    assert r.status_code == 200
    assert r.context["totals"]["open"] == 2 and r.context["totals"]["closed_month"] == 1
    assert r.context["rate"] == 100.0
    assert r.context["cat_rows"][0]["n"] == 1
    html = r.content.decode()
    # each figure apart from its label (not "2未结案件"), the rate with how many answered
    assert '<b id="fig-open">2</b> <span>未结案件</span>' in html and "1 件已评价" in html
    assert r.context["cat_rows"][0]["took"].endswith(("小时", "天"))


@pytest.mark.parametrize("hours, text", [(None, "—"), (0.5, "0.5 小时"), (47.9, "47.9 小时"), (48, "2.0 天"),
                                         (2564.0, "106.8 天")])
def test_handling_times_read_in_hours_then_days(hours, text):
    from cases.views import took_text

    assert took_text(hours) == text


# --- every page × persona ---------------------------------------------------------------------------------------
PAGES = ["cases:home", "cases:queue", "cases:inbox", "cases:report", "cases:map", "cases:geojson", "cases:figures"]
VIEWERS = {"worker_a1", "worker_b1", "officer_a", "command", "unit_prop"}


@pytest.mark.parametrize("persona", ["worker_a1", "worker_b1", "officer_a", "command", "sysadmin", "secadmin",
                                     "auditor", "resident", "nobody", "unit_prop", "anonymous"])
def test_every_page_answers_each_persona_as_its_grants_say(world, cw, cases, persona):
    user = None if persona == "anonymous" else (getattr(world.users, persona, None) or getattr(cw.users, persona))
    c = Client() if user is None else client_of(user)
    wrong = []
    for name in PAGES:
        r = c.get(reverse(name))
        want = 302 if user is None else (403 if persona not in VIEWERS else None)
        if name == "cases:report" and persona == "unit_prop":
            want = 403
        if want is None:
            want = (302,) if name == "cases:home" else (200,)
        elif isinstance(want, int):
            want = (want,)
        if r.status_code not in want:
            wrong.append((name, r.status_code, want))
    for side, case in cases.items():
        visible = persona in VIEWERS and {"worker_a1": side == "A1", "worker_b1": side == "B1",
                                          "officer_a": side == "A1", "command": True,
                                          "unit_prop": side == "A1"}[persona]
        r = c.get(reverse("cases:detail", args=[case.pk]))
        want = 302 if user is None else (200 if visible else (403 if persona not in VIEWERS else 404))
        if r.status_code != want:
            wrong.append(("detail", side, r.status_code, want))
    assert wrong == []
