"""A retried POST with the same Idempotency-Key creates nothing new (security.md: no data lost)."""

import sqlite3
import threading

import pytest
from django.db import connection

from core.models import IdempotencyKey
from core.testing import api_client
from places.models import House


def new_house(world, room="591"):
    return {"building": world.buildings["A1"].pk, "unit": "2", "floor": 5, "room": room}


def test_a_retried_post_with_the_same_key_returns_the_first_result_and_creates_nothing(world):
    client = api_client(world.users.officer_a)
    first = client.post("/api/places/houses/", new_house(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/places/houses/", new_house(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert House.objects.filter(building=world.buildings["A1"], unit="2", room="591").count() == 1


def test_the_same_key_with_another_body_is_refused(world):
    client = api_client(world.users.officer_a)
    client.post("/api/places/houses/", new_house(world), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post("/api/places/houses/", new_house(world, "592"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 422
    assert not House.objects.filter(room="592", building=world.buildings["A1"]).exists()


def test_a_failed_post_keeps_no_key_so_that_the_corrected_retry_works(world):
    client = api_client(world.users.officer_a)
    bad = client.post("/api/places/houses/", {**new_house(world), "floor": 40}, format="json",
                      HTTP_IDEMPOTENCY_KEY="k-3")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k-3").exists()


def test_keys_are_per_user(world):
    a = api_client(world.users.officer_a).post("/api/places/houses/", new_house(world), format="json",
                                               HTTP_IDEMPOTENCY_KEY="shared")
    b = api_client(world.users.worker_a1).post("/api/places/houses/", new_house(world, "593"), format="json",
                                               HTTP_IDEMPOTENCY_KEY="shared")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_a_retried_move_out_is_answered_once(world):
    from people.models import Residence

    res = Residence.objects.get(person=world.people["张三"])
    client = api_client(world.users.worker_a1)
    url = f"/api/people/residences/{res.pk}/move-out/"
    one = client.post(url, {"reason": "搬家"}, format="json", HTTP_IDEMPOTENCY_KEY="mo-1")
    two = client.post(url, {"reason": "搬家"}, format="json", HTTP_IDEMPOTENCY_KEY="mo-1")
    assert one.status_code == two.status_code == 200
    assert two.json() == one.json()


@pytest.fixture
def separate_connections(transactional_db, world, tmp_path):
    """Threads that each open their own connection to one database, as gunicorn workers would.

    PostgreSQL: the test database itself. SQLite: the in-memory test database is shared-cache, whose table
    locks fail at once instead of waiting, unlike a real SQLite file; so the world is copied into a file
    with the backup API and new connections (new threads) open that file with the production settings
    (WAL, BEGIN IMMEDIATE, busy timeout). This thread keeps its in-memory connection.
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    path = tmp_path / "concurrency.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    settings_dict = connection.settings_dict
    memory_name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = memory_name


def in_thread(fn):
    """Run ``fn`` in a new thread (so on its own connection) and return its result."""
    out = []

    def run():
        try:
            out.append(fn())
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out[0]


def test_ten_parallel_identical_posts_with_one_key_create_one_row(world, separate_connections):
    """Ten threads, each with its own database connection, post the same person at the same moment."""
    from people.models import Person

    # Nothing unique in the body (no ID number, not the householder): only the key can stop a second row.
    body = {"name": "并发", "house": world.houses["A1"][8].pk, "relation": "child"}
    barrier = threading.Barrier(10)
    results: list = []

    def post():
        try:
            client = api_client(world.users.worker_a1)
            barrier.wait()
            r = client.post("/api/people/persons/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
            results.append((r.status_code, r.json().get("id")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = in_thread(lambda: list(Person.objects.filter(name="并发").values_list("pk", flat=True)))
    assert len(rows) == 1
    assert len(results) == 10
    ok = [r for r in results if r[0] == 201]
    assert ok and {r[1] for r in ok} == set(rows)
    assert all(code in (201, 409) for code, _ in results), results
    assert sum(code == 201 for code, _ in results) >= 1


def test_old_idempotency_keys_are_purged_and_recent_ones_kept(db):
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    IdempotencyKey.objects.create(user_id=1, key="old", method="POST", path="/x", fingerprint="f",
                                  created_at=timezone.now() - dt.timedelta(days=8))
    IdempotencyKey.objects.create(user_id=1, key="new", method="POST", path="/x", fingerprint="f")
    call_command("purge_idempotency_keys", "--days", "7")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
