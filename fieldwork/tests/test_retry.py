"""A visit never duplicates: ten identical submissions at once (threads, each with its own database connection)
record one visit, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection

from fieldwork import services
from fieldwork.models import ChangeRequest, Visit
from fieldwork.tests.conftest import fresh, new_id
from people.models import Residence

N = 10


def submit_until_answered(user, house, client_id, items, version, results, errors, barrier) -> None:
    """One phone's submission, retried like the workbench's script does when the server is busy."""
    try:
        barrier.wait(timeout=30)
        for _attempt in range(200):
            try:
                visit = services.submit_visit(user, house, client_id=client_id, items=items, house_version=version)
                results.append(visit.pk)
                return
            except OperationalError as exc:  # SQLite: "database is locked" while another writer holds it
                if "locked" not in str(exc):
                    raise
                time.sleep(0.02)
        errors.append("never answered")
    except Exception as exc:  # noqa: BLE001  (reported to the test thread)
        errors.append(repr(exc))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_ten_identical_parallel_submissions_record_one_visit(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    leaving = Residence.objects.filter(house=house, moved_out__isnull=True).order_by("id").last()
    items = [{"kind": "move_out", "person_id": leaving.person_id, "payload": {"reason": "退租"}}]
    client_id = new_id()
    results: list[int] = []
    errors: list[str] = []
    barrier = threading.Barrier(N)
    threads = [threading.Thread(target=submit_until_answered,
                                args=(fresh(worker), house, client_id, items, house.version, results, errors, barrier))
               for _ in range(N)]
    close_old_connections()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == N and len(set(results)) == 1
    assert Visit.objects.filter(client_id=client_id).count() == 1
    assert ChangeRequest.objects.filter(kind="move_out").count() == 1
    assert Residence.objects.get(pk=leaving.pk).moved_out is not None


@pytest.mark.django_db
def test_a_resubmission_after_the_answer_was_lost_returns_the_same_visit(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    cid = new_id()
    first = services.submit_visit(worker, house, client_id=cid, items=[{"kind": "unchanged"}])
    # The phone never saw the answer and sends the same draft again, now with a stale house version.
    again = services.submit_visit(worker, house, client_id=cid, items=[{"kind": "unchanged"}], house_version=1)
    assert again.pk == first.pk and Visit.objects.count() == 1


@pytest.mark.django_db
def test_a_client_id_of_another_worker_is_refused(world):
    house = world.houses["A1"][0]
    cid = new_id()
    services.submit_visit(fresh(world.users.worker_a1), house, client_id=cid, items=[{"kind": "unchanged"}])
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.submit_visit(fresh(world.users.officer_a), house, client_id=cid, items=[{"kind": "unchanged"}])
