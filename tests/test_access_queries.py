"""No N+1 queries: a list page costs the same number of queries with 4 rows as with 40, and the user's scope is
resolved once per request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import resident_id, verified_login
from core import audit
from core.models import Grant
from people.models import Person
from people.services import PersonData, save_person
from tests.test_matrix import MODELS, discover


def queries(client: Client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url, params)
    assert r.status_code == 200, (url, r.status_code)
    return len(ctx.captured_queries)


def grow(world, n: int = 36) -> None:
    """More people (with residences) in grid A1, more grants and more audit rows."""
    houses = world.houses["A1"][4:]
    for i in range(n):
        number = resident_id(f"3205071990{1 + i % 9:02d}{10 + i % 18:02d}{300 + i:03d}")
        save_person(None, PersonData(name=f"测试{i:02d}", id_number=number, phone=f"1370000{i:04d}"),
                    house=houses[i % len(houses)], relation="", moved_in=dt.date(2021, 1, 1),
                    accept_warnings=True, source="test")
    for i in range(n):
        audit.record("test", object_type="test.thing", object_id=str(i), username="system")
    for user in (world.users.worker_a2, world.users.worker_b1):
        for _ in range(3):
            Grant.objects.create(user=user, role=world.roles["grid_worker"], level="grid",
                                 grid_id=world.grids["A1"].pk, community_id=world.communities["A"].pk,
                                 street_id=world.street.pk)


def test_the_scope_is_resolved_once_for_many_restricted_queries(world):
    from places.models import House

    user = world.users.worker_a1
    with CaptureQueriesContext(connection) as ctx:
        Person.objects.restrict(user, "view").count()
        House.objects.restrict(user, "view").count()
        House.objects.restrict(user, "change").count()
    assert len(ctx.captured_queries) == 4  # one read of the grants, three counts


@pytest.mark.parametrize("persona", ["officer_a", "worker_a1"])
def test_registry_list_pages_and_api_lists_do_not_grow_with_the_rows(world, persona):
    endpoints = [e for e in discover() if e.model in MODELS and e.kind in ("ui_list", "api_list")]
    assert len(endpoints) >= 10, "the resolver no longer finds the registry's list pages and API lists"
    client = Client()
    verified_login(client, getattr(world.users, persona))
    client.get(reverse(endpoints[0].name))  # the first request notes the session's start
    before = {e.name: queries(client, reverse(e.name)) for e in endpoints}
    grow(world)
    client.get(reverse(endpoints[0].name))  # the session's "last seen" is written at most every 30 s
    after = {e.name: queries(client, reverse(e.name)) for e in endpoints}
    assert after == before


def test_the_access_pages_do_not_grow_with_the_rows(world):
    pages = {"access:user_list": "sysadmin", "access:grant_list": "secadmin", "access:role_list": "secadmin",
             "access:audit_list": "auditor"}
    clients = {}
    for persona in set(pages.values()):
        clients[persona] = Client()
        verified_login(clients[persona], getattr(world.users, persona))
        clients[persona].get(reverse("access:password_change"))  # the first request notes the session's start
    before = {name: queries(clients[p], reverse(name)) for name, p in pages.items()}
    grow(world)
    for client in clients.values():
        client.get(reverse("access:password_change"))  # the session's "last seen" is written at most every 30 s
    after = {name: queries(clients[p], reverse(name)) for name, p in pages.items()}
    assert after == before
