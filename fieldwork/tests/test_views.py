"""The pages: workbench, visit form (errors, conflict 409, photo), review queue (htmx), history, workload."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from django.test import Client

from conftest import resident_id
from fieldwork import services
from fieldwork.models import ChangeRequest, ChangeStatus, Visit
from fieldwork.tests.conftest import fresh, new_id
from people.models import Residence
from tests import upload_samples

pytestmark = pytest.mark.django_db

PNG = upload_samples.png()  # a real image: photos are decoded (core.uploads)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def visit_form(house, **extra) -> dict:
    return {"client_id": str(uuid.uuid4()), "house_version": house.version, **extra}


def test_the_today_list_shows_the_grid_workers_homes_building_by_building(fw):
    world = fw
    response = client_for(world.users.worker_a1).get("/fieldwork/today/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/fieldwork/houses/{world.houses["A1"][0].pk}/"' in html
    assert f'href="/fieldwork/houses/{world.houses["B1"][0].pk}/"' not in html
    assert html.count('class="fw-building card"') == 1


def test_the_house_page_of_another_grid_is_not_found_and_a_resident_is_refused(world):
    house = world.houses["A1"][0]
    assert client_for(world.users.worker_b1).get(f"/fieldwork/houses/{house.pk}/").status_code == 404
    assert client_for(world.users.worker_b1).post(f"/fieldwork/houses/{house.pk}/",
                                                  visit_form(house, unchanged="on")).status_code == 404
    assert client_for(world.users.resident).get(f"/fieldwork/houses/{house.pk}/").status_code == 403
    assert not Visit.objects.exists()


def test_one_tap_unchanged_records_a_visit_and_redirects_to_its_page(world):
    house = world.houses["A1"][0]
    c = client_for(world.users.worker_a1)
    page = c.get(f"/fieldwork/houses/{house.pk}/").content.decode()
    assert "张三" in page and 'data-testid="unchanged"' in page
    response = c.post(f"/fieldwork/houses/{house.pk}/", visit_form(house, unchanged="on"))
    visit = Visit.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/fieldwork/visits/{visit.pk}/"
    assert c.get(response["Location"]).status_code == 200


def test_one_control_means_unchanged_the_full_form_sent_with_only_a_note_records_an_unchanged_visit(world):
    """The quick button is the one "unchanged" control (no second checkbox in the form); the full form sent as the
    page sends it with no change but a note is an unchanged visit, never an error."""
    house = world.houses["A1"][0]
    c = client_for(world.users.worker_a1)
    page = c.get(f"/fieldwork/houses/{house.pk}/").content.decode()
    assert page.count('name="unchanged"') == 1, "one control for 'unchanged'"
    form = re.search(r'<form[^>]*data-draft-form.*?</form>', page, re.S).group(0)
    data = {m[0]: m[1] for m in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    data.update(note="敲门后户主说明无变化")
    response = c.post(f"/fieldwork/houses/{house.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    visit = Visit.objects.get()
    assert visit.outcome == "unchanged"
    assert ChangeRequest.objects.filter(visit=visit, kind="unchanged").count() == 1


def test_after_a_visit_the_page_offers_the_next_home_of_the_same_building(fw):
    world = fw
    c = client_for(world.users.worker_a1)
    today = c.get("/fieldwork/today/").content.decode()
    listed = [int(x) for x in re.findall(r'data-house="(\d+)"', today)]
    first, second = listed[0], listed[1]
    house = next(h for h in world.houses["A1"] if h.pk == first)
    response = c.post(f"/fieldwork/houses/{first}/", visit_form(house, unchanged="on"))
    page = c.get(response["Location"]).content.decode()
    assert f'href="/fieldwork/houses/{second}/" data-next-house' in page, "the next home on the list"
    # the visited home is not offered again, also when visited without being verified
    assert f'href="/fieldwork/houses/{first}/" data-next-house' not in page


def test_a_new_person_with_a_bad_id_number_shows_the_error_on_the_field_and_saves_nothing(world):
    house = world.houses["A1"][0]
    response = client_for(world.users.worker_a1).post(f"/fieldwork/houses/{house.pk}/", visit_form(
        house, add_person="on", **{"new-mode": "new", "new-name": "薛宝钗", "new-id_type": "resident_id",
                                   "new-id_number": "110101199001011234", "new-residency_type": "floating",
                                   "new-role": "tenant"}))
    assert response.status_code == 400
    assert "校验" in response.content.decode() or "身份证" in response.content.decode()
    assert not Visit.objects.exists()


def test_the_second_worker_gets_a_409_page_with_both_versions_and_the_first_change_survives(world):
    house = world.houses["A1"][0]
    residents = list(Residence.objects.filter(house=house, moved_out__isnull=True).order_by("id"))
    stale = house.version
    first = client_for(world.users.worker_a1).post(f"/fieldwork/houses/{house.pk}/", visit_form(
        house, move_out=[residents[1].person_id]))
    assert first.status_code == 302
    second = client_for(world.users.officer_a).post(f"/fieldwork/houses/{house.pk}/", {
        "client_id": new_id(), "house_version": stale, "new_use": "rented"})
    assert second.status_code == 409
    html = second.content.decode()
    assert 'data-testid="conflict"' in html and "用途改为" in html and residents[0].person.name in html
    house.refresh_from_db()
    assert house.use == "owner"
    assert Residence.objects.get(pk=residents[1].pk).moved_out is not None
    assert f'name="house_version" value="{house.version}"' in html


def test_a_photo_is_checked_by_content_and_served_only_in_scope(world):
    house = world.houses["A1"][0]
    c = client_for(world.users.worker_a1)
    fake = io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    fake.name = "x.png"
    assert c.post(f"/fieldwork/houses/{house.pk}/", visit_form(house, note="看过", photo=fake)).status_code == 400
    good = io.BytesIO(PNG)
    good.name = "door.png"
    assert c.post(f"/fieldwork/houses/{house.pk}/", visit_form(house, note="门牌", photo=good)).status_code == 302
    visit = Visit.objects.get()
    photo = c.get(f"/fieldwork/visits/{visit.pk}/photo/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert client_for(world.users.worker_b1).get(f"/fieldwork/visits/{visit.pk}/photo/").status_code == 404


def test_an_offline_draft_sent_again_returns_json_and_a_retry_never_duplicates(world):
    house = world.houses["A1"][0]
    c = client_for(world.users.worker_a1)
    data = visit_form(house, unchanged="on")
    for _ in range(3):
        response = c.post(f"/fieldwork/houses/{house.pk}/", data, HTTP_X_FIELDWORK_DRAFT="1")
        assert response.status_code == 200 and response.json()["ok"]
    assert Visit.objects.count() == 1


def make_pending(world) -> ChangeRequest:
    house = world.houses["A1"][3]
    return services.create_change_request(
        house=house, kind="new_person", source="feedback",
        payload={"name": "林黛玉", "id_number": resident_id("11010119900615123"), "relation": "householder"},
        contact={"name": "林黛玉", "phone": "13912345678"})


def test_the_review_queue_shows_the_diff_masked_and_approves_with_htmx(world):
    cr = make_pending(world)
    c = client_for(world.users.officer_a)
    html = c.get("/fieldwork/review/").content.decode()
    assert f'id="cr-{cr.pk}"' in html and "林黛玉" in html and cr.payload["id_number_masked"] in html
    assert resident_id("11010119900615123") not in html and "13912345678" not in html
    response = c.post(f"/fieldwork/changes/{cr.pk}/approve/", {"version": cr.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-status="applied"' in response.content.decode()
    assert Residence.objects.filter(house_id=cr.house_id, person__name="林黛玉", source="feedback").exists()


def test_a_grid_worker_cannot_open_the_review_queue_or_approve(world):
    cr = make_pending(world)
    c = client_for(world.users.worker_a1)
    assert c.get("/fieldwork/review/").status_code == 403
    assert c.post(f"/fieldwork/changes/{cr.pk}/approve/").status_code == 403
    assert client_for(world.users.worker_b1).get(f"/fieldwork/changes/{cr.pk}/").status_code == 404
    cr.refresh_from_db()
    assert cr.status == ChangeStatus.PENDING


def test_reject_without_a_reason_is_refused_then_with_one_it_is_recorded(world):
    cr = make_pending(world)
    c = client_for(world.users.officer_a)
    response = c.post(f"/fieldwork/changes/{cr.pk}/reject/", {"reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "驳回理由" in response.content.decode()
    c.post(f"/fieldwork/changes/{cr.pk}/reject/", {"reason": "查无此人"}, HTTP_HX_REQUEST="true")
    cr.refresh_from_db()
    assert cr.status == ChangeStatus.REJECTED and cr.reason == "查无此人"


def test_bulk_approve_applies_every_selected_change(world):
    a = make_pending(world)
    b = services.create_change_request(house=world.houses["A1"][4], kind="change_use", source="visit",
                                       payload={"use": "vacant"}, submitted_by=fresh(world.users.worker_a1))
    response = client_for(world.users.officer_a).post("/fieldwork/review/bulk/", {"ids": [a.pk, b.pk]})
    assert response.status_code == 302
    assert set(ChangeRequest.objects.values_list("status", flat=True)) == {ChangeStatus.APPLIED}


def test_the_house_and_person_history_show_each_applied_change_with_its_source_and_who(world):
    cr = make_pending(world)
    officer = fresh(world.users.officer_a)
    services.approve(officer, cr)
    cr.refresh_from_db()
    c = client_for(world.users.officer_a)
    html = c.get(f"/fieldwork/houses/{cr.house_id}/history/").content.decode()
    assert 'data-source="feedback"' in html and 'data-status="applied"' in html and "officer_a" in html
    person_html = c.get(f"/fieldwork/persons/{cr.person_id}/history/").content.decode()
    assert "居民反馈" in person_html and "officer_a" in person_html
    assert client_for(world.users.worker_b1).get(f"/fieldwork/persons/{cr.person_id}/history/").status_code == 404


def test_the_workload_page_counts_visits_and_reassigns_a_house(world):
    worker = fresh(world.users.worker_a1)
    services.submit_visit(worker, world.houses["A1"][0], client_id=new_id(), items=[{"kind": "unchanged"}])
    from quality.services import recompute

    recompute()
    c = client_for(world.users.officer_a)
    response = c.get("/fieldwork/workload/")
    assert response.status_code == 200
    assert response.context["rows"][0]["user"].username == "worker_a1"
    assert [r["visits"] for r in response.context["rows"] if r["user"].username == "worker_a1"] == [1]
    target = world.houses["A1"][5]
    moved = c.post("/fieldwork/workload/", {"houses": [target.pk], "worker": world.users.worker_a1.pk})
    assert moved.status_code == 302
    from quality.models import HouseStatus

    assert HouseStatus.objects.get(pk=target.pk).assignee_id == world.users.worker_a1.pk
    assert client_for(world.users.worker_a1).get("/fieldwork/workload/").status_code == 403
    outside = c.post("/fieldwork/workload/", {"houses": [world.houses["B1"][0].pk],
                                              "worker": world.users.worker_a1.pk})
    assert outside.status_code == 400


def test_the_today_list_and_the_house_page_read_a_bounded_number_of_queries(fw, django_assert_max_num_queries):
    """Not a timing (the bench times them, `python bench/run.py fieldwork`): a bound on the queries, which a
    loop over houses or residents would break whatever the machine's load."""
    world = fw
    c = client_for(world.users.worker_a1)
    house = world.houses["A1"][0]
    c.get("/fieldwork/today/")
    for url in ("/fieldwork/today/", f"/fieldwork/houses/{house.pk}/"):
        with django_assert_max_num_queries(20):
            assert c.get(url).status_code == 200
