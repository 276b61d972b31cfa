"""Generated API tests of the fieldwork models (core/testing.py): list, detail, create, and the refusal of edits and
deletes (visits and change requests are history), with permission, without (403) and out of scope (404)."""

from __future__ import annotations

import uuid

import pytest

from core.testing import APICRUDTest, api_client, assert_every_model_has_generated_test, generated_test_classes
from fieldwork import services
from fieldwork.models import ChangeRequest, Visit
from fieldwork.tests.conftest import fresh

pytestmark = pytest.mark.django_db


class TestVisitAPI(APICRUDTest):
    model = Visit
    url = "/api/fieldwork/visits/"
    allowed, denied, outsider = "officer_a", "command", "worker_b1"
    update_allowed = delete_allowed = False

    def in_scope(self, world):
        return Visit.objects.first() or services.submit_visit(
            fresh(world.users.worker_a1), world.houses["A1"][0], client_id=uuid.uuid4(), items=[{"kind": "unchanged"}])

    def create_data(self, world):
        return {"house": world.houses["A1"][1].pk, "client_id": str(uuid.uuid4()), "items": [{"kind": "unchanged"}]}

    def update_data(self, world, obj):
        return {"note": "改写走访记录"}


class TestChangeRequestAPI(APICRUDTest):
    model = ChangeRequest
    url = "/api/fieldwork/changes/"
    allowed, denied, outsider = "officer_a", "command", "worker_b1"
    update_allowed = delete_allowed = False

    def in_scope(self, world):
        return ChangeRequest.objects.first() or services.create_change_request(
            house=world.houses["A1"][3], kind="change_use", source="feedback", payload={"use": "rented"})

    def create_data(self, world):
        return {"house": world.houses["A1"][4].pk, "kind": "change_use", "payload": {"use": "vacant"}}

    def update_data(self, world, obj):
        return {"reason": "改写"}


EXEMPT = {"fieldwork.changepolicy": "street-wide reference data with no place, edited on the policy page "
                                    "(fieldwork.services.save_policy; tests in test_services.py)"}


def test_every_model_of_fieldwork_has_a_generated_api_test():
    assert_every_model_has_generated_test(["fieldwork"], generated_test_classes(globals()), EXEMPT)


def test_the_api_never_shows_a_sealed_number_and_approves_with_a_version(world):
    cr = services.create_change_request(house=world.houses["A1"][0], kind="phone_fix", source="feedback",
                                        person=world.people["张三"], payload={"phone": "13912345678"})
    client = api_client(fresh(world.users.officer_a))
    body = client.get(f"/api/fieldwork/changes/{cr.pk}/").content.decode()
    assert "13912345678" not in body and "_enc" not in body and cr.payload["phone_masked"] in body
    assert client.post(f"/api/fieldwork/changes/{cr.pk}/approve/", {}, format="json").status_code == 428
    worker = api_client(fresh(world.users.worker_a1))
    assert worker.post(f"/api/fieldwork/changes/{cr.pk}/approve/", {"version": cr.version},
                       format="json").status_code == 403
    ok = client.post(f"/api/fieldwork/changes/{cr.pk}/approve/", {"version": cr.version}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "applied"
    world.people["张三"].refresh_from_db()
    assert world.people["张三"].reveal_phone() == "13912345678"


def test_a_visit_posted_twice_through_the_api_is_one_visit(world):
    client = api_client(fresh(world.users.worker_a1))
    data = {"house": world.houses["A1"][1].pk, "client_id": str(uuid.uuid4()), "items": [{"kind": "unchanged"}]}
    first = client.post("/api/fieldwork/visits/", data, format="json")
    second = client.post("/api/fieldwork/visits/", data, format="json")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"] and Visit.objects.count() == 1
    outside = api_client(fresh(world.users.worker_b1)).post("/api/fieldwork/visits/", {
        **data, "client_id": str(uuid.uuid4())}, format="json")
    assert outside.status_code == 400 and Visit.objects.count() == 1
