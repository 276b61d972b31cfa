"""Generated API tests (in the manner of NetBox's ``utilities/testing/api.py``).

A test class per model subclasses ``APICRUDTest`` and declares its test data; the base runs list, detail,
create, update and delete through the API, each with permission, without permission (403) and out of
scope (404), with the personas of the ``world`` fixture (conftest.py). Models whose history is never
erased declare ``delete_allowed = False`` (and ``update_allowed = False``): the test then proves the
method is refused and the row is still there.

    class TestHouseAPI(APICRUDTest):
        model = House
        url = "/api/places/houses/"
        allowed, denied, outsider = "officer_a", "command", "worker_b1"

        def in_scope(self, world): return world.houses["A1"][0]
        def create_data(self, world): return {"building": world.buildings["A1"].pk, "floor": 3, "room": "399"}
        def update_data(self, world, obj): return {"note": "已走访"}
        def deletable(self, world): ...   # an object nothing refers to

``assert_every_model_has_generated_test`` is the meta-test: it fails when a model of the given apps has
neither a test class nor a stated exemption. This module imports no domain app (core never does).
"""

from __future__ import annotations

import itertools
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Permission
from django.db import models
from rest_framework.test import APIClient

from core.models import AuditEvent, Grant, Role

__all__ = ["APICRUDTest", "api_client", "assert_every_model_has_generated_test", "generated_test_classes",
           "grant_perms"]

_role_seq = itertools.count(1)


def api_client(user=None) -> APIClient:
    """A client authenticated the way API users are: ``Authorization: Token ...`` (no session)."""
    client = APIClient()
    if user is not None:
        from access.tokens import mint  # test support only: core's runtime code never imports access

        client.credentials(HTTP_AUTHORIZATION=f"Token {mint(user)}")
    return client


def grant_perms(user, perms: list[str]) -> None:
    """Give ``user`` extra permissions on the same place as their first grant (a one-off test role)."""
    role = Role.objects.create(code=f"test-extra-{next(_role_seq)}", name="test extra")
    for code in perms:
        app_label, codename = code.split(".", 1)
        role.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    base = Grant.objects.filter(user=user).order_by("id").first()
    Grant.objects.create(user=user, role=role, level=base.level, street_id=base.street_id,
                         community_id=base.community_id, grid_id=base.grid_id)


class APICRUDTest:
    """Declare ``model``, ``url``, the personas and the test data; the test methods below are inherited."""

    model: type[models.Model]
    url: str  # the list endpoint, "/api/places/houses/"
    allowed = "officer_a"  # may do everything on in_scope() (missing permissions are granted on their place)
    denied = "command"  # sees in_scope() but may not write it → 403
    outsider = "worker_b1"  # cannot see in_scope() → 404
    create_allowed = True
    update_allowed = True
    delete_allowed = True
    # A street is set up by the system: even with the permission, a new one lies outside the user's street.
    create_status = 201
    delete_status = 204

    # --- declared by each model's test -------------------------------------------------------------
    def in_scope(self, world) -> models.Model:
        raise NotImplementedError

    def create_data(self, world) -> dict[str, Any]:
        raise NotImplementedError

    def update_data(self, world, obj: models.Model) -> dict[str, Any]:
        raise NotImplementedError

    def deletable(self, world) -> models.Model:
        """An object in the allowed persona's scope that nothing refers to (default: in_scope())."""
        return self.in_scope(world)

    # --- helpers -----------------------------------------------------------------------------------
    def persona(self, world, name: str, *, writer: bool = False):
        user = getattr(world.users, name)
        if writer:
            label, model_name = self.model._meta.app_label, self.model._meta.model_name
            grant_perms(user, [f"{label}.{a}_{model_name}" for a in ("view", "add", "change", "delete")])
        return type(user).objects.get(pk=user.pk)  # fresh: no cached scope

    def detail_url(self, obj: models.Model) -> str:
        return f"{self.url}{obj.pk}/"

    def versioned(self) -> bool:
        return any(f.name == "version" for f in self.model._meta.concrete_fields)

    def if_match(self, obj: models.Model) -> dict[str, str]:
        return {"HTTP_IF_MATCH": f'"{obj.version}"'} if self.versioned() else {}

    def assert_matches(self, obj: models.Model, data: dict[str, Any]) -> None:
        obj.refresh_from_db()
        for name, value in data.items():
            field = obj._meta.get_field(name)
            current = getattr(obj, field.attname)
            assert str(current) == str(value), f"{name}: {current!r} != {value!r}"

    # --- list and detail ---------------------------------------------------------------------------
    def test_list_contains_only_objects_in_the_users_scope(self, world):
        obj = self.in_scope(world)
        user = self.persona(world, self.allowed)
        response = api_client(user).get(self.url, {"page_size": 500})
        assert response.status_code == 200, response.content
        ids = {row["id"] for row in response.json()["results"]}
        assert obj.pk in ids
        visible = self.model._default_manager.all()
        if hasattr(visible, "restrict"):
            assert ids <= set(visible.restrict(user, "view").values_list("pk", flat=True))

    def test_list_of_an_outsider_does_not_contain_the_object(self, world):
        obj = self.in_scope(world)
        response = api_client(self.persona(world, self.outsider)).get(self.url, {"page_size": 500})
        assert response.status_code == 200
        assert obj.pk not in {row["id"] for row in response.json()["results"]}

    def test_anonymous_request_is_refused(self, world):
        response = api_client().get(self.url)
        assert response.status_code == 401

    def test_detail_in_scope_is_shown_with_its_version(self, world):
        obj = self.in_scope(world)
        response = api_client(self.persona(world, self.allowed)).get(self.detail_url(obj))
        assert response.status_code == 200, response.content
        assert response.json()["id"] == obj.pk
        if self.versioned():
            assert response["ETag"] == f'"{obj.version}"'
            assert response.json()["version"] == obj.version

    def test_detail_out_of_scope_is_not_found(self, world):
        obj = self.in_scope(world)
        response = api_client(self.persona(world, self.outsider)).get(self.detail_url(obj))
        assert response.status_code == 404

    # --- create --------------------------------------------------------------------------------------
    def test_create_with_permission(self, world):
        user = self.persona(world, self.allowed, writer=True)
        before = self.model._default_manager.count()
        response = api_client(user).post(self.url, self.create_data(world), format="json")
        if not self.create_allowed:
            assert response.status_code == 405
            assert self.model._default_manager.count() == before
            return
        assert response.status_code == self.create_status, response.content
        if self.create_status == 201:
            assert self.model._default_manager.count() == before + 1
            assert AuditEvent.objects.filter(object_type=self.model._meta.label_lower,
                                             object_id=str(response.json()["id"])).exists()
        else:
            assert self.model._default_manager.count() == before

    def test_create_without_permission_is_forbidden(self, world):
        before = self.model._default_manager.count()
        response = api_client(self.persona(world, self.denied)).post(self.url, self.create_data(world),
                                                                       format="json")
        assert response.status_code == (403 if self.create_allowed else 405), response.content
        assert self.model._default_manager.count() == before

    # --- update --------------------------------------------------------------------------------------
    def test_update_with_permission(self, world):
        obj = self.in_scope(world)
        data = self.update_data(world, obj)
        response = api_client(self.persona(world, self.allowed, writer=True)).patch(
            self.detail_url(obj), data, format="json", **self.if_match(obj))
        if not self.update_allowed:
            assert response.status_code == 405
            return
        assert response.status_code == 200, response.content
        self.assert_matches(obj, data)
        if self.versioned():
            assert obj.version == response.json()["version"] == int(response["ETag"].strip('"'))
        assert AuditEvent.objects.filter(action="update", object_type=self.model._meta.label_lower,
                                         object_id=str(obj.pk)).exists()

    def test_update_without_permission_is_forbidden_and_changes_nothing(self, world):
        obj = self.in_scope(world)
        data = self.update_data(world, obj)
        response = api_client(self.persona(world, self.denied)).patch(self.detail_url(obj), data, format="json",
                                                                        **self.if_match(obj))
        assert response.status_code == (403 if self.update_allowed else 405), response.content
        old_version = getattr(obj, "version", None)
        obj.refresh_from_db()
        assert getattr(obj, "version", None) == old_version

    def test_update_out_of_scope_is_not_found(self, world):
        obj = self.in_scope(world)
        response = api_client(self.persona(world, self.outsider, writer=True)).patch(
            self.detail_url(obj), self.update_data(world, obj), format="json", **self.if_match(obj))
        assert response.status_code == (404 if self.update_allowed else 405)

    def test_update_with_a_stale_version_fails_and_the_first_change_survives(self, world):
        if not (self.update_allowed and self.versioned()):
            return
        obj = self.in_scope(world)
        stale = self.if_match(obj)
        client = api_client(self.persona(world, self.allowed, writer=True))
        data = self.update_data(world, obj)
        assert client.patch(self.detail_url(obj), data, format="json", **stale).status_code == 200
        second = client.patch(self.detail_url(obj), data, format="json", **stale)
        assert second.status_code == 412, second.content
        self.assert_matches(obj, data)

    def test_update_without_a_version_is_refused(self, world):
        if not (self.update_allowed and self.versioned()):
            return
        obj = self.in_scope(world)
        response = api_client(self.persona(world, self.allowed, writer=True)).patch(
            self.detail_url(obj), self.update_data(world, obj), format="json")
        assert response.status_code == 428

    # --- delete --------------------------------------------------------------------------------------
    def test_delete_with_permission(self, world):
        obj = self.deletable(world)
        response = api_client(self.persona(world, self.allowed, writer=True)).delete(self.detail_url(obj))
        exists = self.model._default_manager.filter(pk=obj.pk).exists()
        if not self.delete_allowed:
            assert response.status_code == 405
            assert exists
            return
        assert response.status_code == self.delete_status, response.content
        assert exists == (self.delete_status != 204)
        if not exists:
            assert AuditEvent.objects.filter(action="delete", object_type=self.model._meta.label_lower,
                                             object_id=str(obj.pk)).exists()

    def test_delete_without_permission_is_forbidden(self, world):
        obj = self.deletable(world)
        response = api_client(self.persona(world, self.denied)).delete(self.detail_url(obj))
        assert response.status_code == (403 if self.delete_allowed else 405)
        assert self.model._default_manager.filter(pk=obj.pk).exists()

    def test_delete_out_of_scope_is_not_found(self, world):
        obj = self.deletable(world)
        response = api_client(self.persona(world, self.outsider, writer=True)).delete(self.detail_url(obj))
        assert response.status_code == (404 if self.delete_allowed else 405)
        assert self.model._default_manager.filter(pk=obj.pk).exists()


def generated_test_classes(namespace: dict) -> list[type[APICRUDTest]]:
    return [v for v in namespace.values()
            if isinstance(v, type) and issubclass(v, APICRUDTest) and v is not APICRUDTest]


def assert_every_model_has_generated_test(app_labels: list[str], classes: list[type[APICRUDTest]],
                                          exempt: dict[str, str]) -> None:
    """Every model of ``app_labels`` has a generated test class, or an exemption with its reason."""
    covered = {cls.model._meta.label_lower for cls in classes}
    missing = []
    for label in app_labels:
        for model in apps.get_app_config(label).get_models():
            name = model._meta.label_lower
            if name not in covered and name not in exempt:
                missing.append(name)
    assert not missing, f"models without a generated API test: {missing}"
    assert all(reason.strip() for reason in exempt.values())
