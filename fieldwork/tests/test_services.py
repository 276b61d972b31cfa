"""The write path of fieldwork: change requests, visits (idempotent, policy, conflicts), approval and rejection."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from conftest import resident_id
from core.models import AuditEvent
from core.services import ConflictError
from fieldwork import services
from fieldwork.models import ChangePolicy, ChangeRequest, ChangeStatus, Visit
from fieldwork.tests.conftest import fresh, new_id
from people.models import Person, Residence

pytestmark = pytest.mark.django_db

NEW_ID = resident_id("11010119900615123")


def current_names(house) -> set[str]:
    return set(Residence.objects.filter(house=house, moved_out__isnull=True).values_list("person__name", flat=True))


def test_a_change_request_stores_personal_numbers_sealed_and_masked_never_in_clear(world):
    house = world.houses["A1"][3]
    cr = services.create_change_request(house=house, kind="new_person", source="feedback",
                                        payload={"name": "林黛玉", "id_number": NEW_ID, "phone": "13912345678"},
                                        contact={"name": "林黛玉", "phone": "13912345678"})
    raw = str(ChangeRequest.objects.filter(pk=cr.pk).values_list("payload", flat=True).get())
    assert NEW_ID not in raw and "13912345678" not in raw
    assert cr.payload["id_number_masked"].startswith(NEW_ID[:3]) and "*" in cr.payload["id_number_masked"]
    assert services.unseal(cr, "id_number") == NEW_ID
    assert cr.contact_phone_masked and "13912345678" not in cr.contact_phone_enc
    assert cr.status == ChangeStatus.PENDING and cr.grid_id == world.grids["A1"].pk


def test_a_change_request_with_an_invalid_id_number_names_the_field_in_chinese(world):
    with pytest.raises(ValidationError) as exc:
        services.create_change_request(house=world.houses["A1"][3], kind="new_person", source="visit",
                                       payload={"name": "贾宝玉", "id_number": "320507199006151230"})
    assert "id_number" in exc.value.message_dict


def test_a_visit_with_only_unchanged_stamps_the_house_and_applies_at_once(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    visit = services.submit_visit(worker, house, client_id=new_id(), items=[{"kind": "unchanged"}])
    cr = visit.changes.get()
    assert cr.status == ChangeStatus.APPLIED and visit.outcome == "unchanged"
    from quality.models import HouseStatus

    status = HouseStatus.objects.get(pk=house.pk)
    assert status.last_verified_method == "visit" and status.last_verified_by_id == worker.pk


def test_a_move_out_applies_at_once_and_a_new_person_waits_for_approval(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    leaving = Residence.objects.filter(house=house, moved_out__isnull=True).order_by("id").last().person
    visit = services.submit_visit(worker, house, client_id=new_id(), house_version=house.version, items=[
        {"kind": "move_out", "person_id": leaving.pk, "payload": {"reason": "租约到期"}},
        {"kind": "new_person", "payload": {"name": "林黛玉", "id_number": NEW_ID, "relation": "none",
                                            "role": "tenant"}}])
    assert leaving.name not in current_names(house)
    assert "林黛玉" not in current_names(house)
    assert visit.outcome == "pending"
    pending = ChangeRequest.objects.get(visit=visit, kind="new_person")
    assert pending.status == ChangeStatus.PENDING
    officer = fresh(world.users.officer_a)
    services.approve(officer, pending, pending.version)
    assert "林黛玉" in current_names(house)
    pending.refresh_from_db()
    assert pending.status == ChangeStatus.APPLIED and pending.reviewed_by_id == officer.pk
    person = Person.objects.get(name="林黛玉")
    assert Residence.objects.get(person=person).source == "visit"
    assert AuditEvent.objects.filter(action="approve", object_id=str(pending.pk)).exists()
    assert ["林黛玉", "none"] in pending.after["residents"]
    assert "林黛玉" not in {name for name, _rel in pending.before["residents"]}
    assert any(r["key"] == "residents" and "林黛玉（非亲属）" in r["after"] for r in services.describe(pending))


def test_a_retry_with_the_same_client_id_returns_the_first_visit_and_changes_nothing_more(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    leaving = Residence.objects.filter(house=house, moved_out__isnull=True).order_by("id").last().person
    cid = new_id()
    items = [{"kind": "move_out", "person_id": leaving.pk}]
    first = services.submit_visit(worker, house, client_id=cid, items=items, house_version=house.version)
    again = services.submit_visit(worker, house, client_id=cid, items=items, house_version=house.version)
    assert again.pk == first.pk
    assert Visit.objects.filter(client_id=cid).count() == 1
    assert ChangeRequest.objects.filter(visit=first).count() == 1


def test_the_second_of_two_workers_on_the_same_house_gets_a_conflict_and_the_first_change_survives(world):
    house = world.houses["A1"][0]
    version = house.version
    residents = list(Residence.objects.filter(house=house, moved_out__isnull=True).order_by("id"))
    first, second = fresh(world.users.worker_a1), fresh(world.users.officer_a)
    services.submit_visit(first, house, client_id=new_id(), house_version=version,
                          items=[{"kind": "move_out", "person_id": residents[1].person_id}])
    with pytest.raises(ConflictError):
        services.submit_visit(second, house, client_id=new_id(), house_version=version,
                              items=[{"kind": "move_out", "person_id": residents[0].person_id}])
    assert current_names(house) == {residents[0].person.name}
    assert Visit.objects.filter(house=house).count() == 1


def test_a_grid_worker_cannot_visit_a_house_of_another_grid(world):
    with pytest.raises(PermissionDenied):
        services.submit_visit(fresh(world.users.worker_b1), world.houses["A1"][0], client_id=new_id(),
                              items=[{"kind": "unchanged"}])
    assert not Visit.objects.exists()


def test_an_invalid_item_saves_nothing_of_the_visit(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    leaving = Residence.objects.filter(house=house, moved_out__isnull=True).order_by("id").last().person
    with pytest.raises(ValidationError):
        services.submit_visit(worker, house, client_id=new_id(), house_version=house.version, items=[
            {"kind": "move_out", "person_id": leaving.pk},
            {"kind": "phone_fix", "person_id": leaving.pk, "payload": {"phone": "12345"}}])
    assert leaving.name in current_names(house)
    assert not Visit.objects.exists() and not ChangeRequest.objects.exists()


def test_the_policy_is_data_an_admin_can_change(world):
    services.save_policy(None, {"move_out": True})
    assert ChangePolicy.needs_approval_for("move_out") is True
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    leaving = Residence.objects.filter(house=house, moved_out__isnull=True).order_by("id").last().person
    visit = services.submit_visit(worker, house, client_id=new_id(), house_version=house.version,
                                  items=[{"kind": "move_out", "person_id": leaving.pk}])
    assert visit.changes.get().status == ChangeStatus.PENDING and leaving.name in current_names(house)


def test_a_reject_needs_a_reason_and_changes_nothing_in_the_registry(world):
    house = world.houses["A1"][3]
    cr = services.create_change_request(house=house, kind="change_use", source="feedback", payload={"use": "rented"})
    officer = fresh(world.users.officer_a)
    with pytest.raises(ValidationError):
        services.reject(officer, cr, "")
    services.reject(officer, cr, "经核实仍为自住")
    cr.refresh_from_db()
    house.refresh_from_db()
    assert cr.status == ChangeStatus.REJECTED and cr.reason == "经核实仍为自住" and house.use == "owner"


def test_a_grid_worker_may_not_approve_and_an_officer_of_another_community_does_not_see_it(world):
    cr = services.create_change_request(house=world.houses["A1"][3], kind="change_use", source="feedback",
                                        payload={"use": "rented"})
    with pytest.raises(PermissionDenied):
        services.approve(fresh(world.users.worker_a1), cr)
    with pytest.raises(ChangeRequest.DoesNotExist):
        services.approve(fresh(world.users.worker_b1), cr)
    cr.refresh_from_db()
    assert cr.status == ChangeStatus.PENDING


def test_approving_a_householder_change_swaps_the_relations(world):
    house = world.houses["A1"][0]
    spouse = Residence.objects.get(house=house, moved_out__isnull=True, relation="spouse").person
    cr = services.create_change_request(house=house, kind="householder_change", source="visit", person=spouse,
                                        payload={}, submitted_by=fresh(world.users.worker_a1))
    services.approve(fresh(world.users.officer_a), cr)
    assert Residence.objects.get(house=house, moved_out__isnull=True, relation="householder").person == spouse


def test_a_phone_fix_applies_at_once_and_a_stale_person_version_is_a_conflict(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    person = Residence.objects.filter(house=house, moved_out__isnull=True).first().person
    services.submit_visit(worker, house, client_id=new_id(), house_version=house.version,
                          items=[{"kind": "phone_fix", "person_id": person.pk,
                                  "payload": {"phone": "13700001111", "person_version": person.version}}])
    person.refresh_from_db()
    assert person.reveal_phone() == "13700001111"
    house.refresh_from_db()
    with pytest.raises(ConflictError):
        services.submit_visit(worker, house, client_id=new_id(), house_version=house.version,
                              items=[{"kind": "phone_fix", "person_id": person.pk,
                                      "payload": {"phone": "13700002222", "person_version": person.version - 1}}])
    person.refresh_from_db()
    assert person.reveal_phone() == "13700001111"


def test_a_database_dump_of_change_requests_holds_no_clear_number(world):
    services.create_change_request(house=world.houses["A1"][3], kind="new_person", source="feedback",
                                   payload={"name": "林黛玉", "id_number": NEW_ID, "phone": "13912345678"},
                                   contact="13912345679")
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM fieldwork_changerequest")
        text = repr(cur.fetchall())
    for clear in (NEW_ID, "13912345678", "13912345679"):
        assert clear not in text


def test_a_visit_date_in_the_future_for_a_move_in_is_refused(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][3]
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(ValidationError) as exc:
        services.submit_visit(worker, house, client_id=new_id(), house_version=house.version, items=[
            {"kind": "new_person", "payload": {"name": "薛宝钗", "moved_in": tomorrow}}])
    assert "moved_in" in exc.value.message_dict
