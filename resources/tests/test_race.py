"""Never twice: 50 threads × 20 attempts race for 10 places, each thread on its own database connection.

On PostgreSQL the threads are real concurrent transactions and the exclusion constraint / the conditional UPDATE
decide; on SQLite (a file database with the production settings: WAL, BEGIN IMMEDIATE, busy timeout) the same
threads race and the unique slot rows and the CHECK on the offer back the service up (the direct proof that the
database refuses an overlap by itself is in test_booking.py).
"""

from __future__ import annotations

import datetime as dt
import threading

import time_machine
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection

from resources import services
from resources.choices import ACTIVE_STATES
from resources.models import Booking, Claim, Offer
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
THREADS, ATTEMPTS = 50, 20


def _race(fn) -> tuple[int, int, list[str]]:
    barrier = threading.Barrier(THREADS)
    won, lost, errors = [], [], []

    def run(i: int) -> None:
        try:
            barrier.wait()
            for j in range(ATTEMPTS):
                try:
                    fn(i, j)
                    won.append((i, j))
                except ValidationError:
                    lost.append((i, j))
                except OperationalError as exc:  # a busy database is a refusal too, never a second booking
                    errors.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(won), len(lost), errors


def _in_thread(fn):
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


@time_machine.travel("2026-03-09 10:00 +0800", tick=True)
def test_fifty_threads_racing_for_ten_night_spaces_get_exactly_ten(world, site, separate_connections):
    people = separate_connections
    start, end = at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8)

    def attempt(i, j):
        from resources.models import Resource

        services.book(people[i], Resource.objects.get(pk=site.garage.pk), start, end)

    won, lost, errors = _race(attempt)
    rows = _in_thread(lambda: list(Booking.objects.filter(resource__parent=site.garage, state__in=ACTIVE_STATES)
                                   .values_list("resource_id", "person_id")))
    claims = _in_thread(lambda: Claim.objects.filter(resource__parent=site.garage, active=True).count())
    assert won == 10 and len(rows) == 10 and claims == 10
    assert len({r for r, _p in rows}) == 10  # ten different spaces
    assert won + lost + len(errors) == THREADS * ATTEMPTS


@time_machine.travel("2026-03-09 10:00 +0800", tick=True)
def test_fifty_threads_racing_for_ten_seats_get_exactly_ten_and_the_count_stays_true(world, site,
                                                                                     separate_connections):
    from resources.models import Resource

    people = separate_connections
    start = at(MONDAY, 12, 15)

    def attempt(i, j):
        services.book(people[i], Resource.objects.get(pk=site.canteen.pk), start)

    won, lost, errors = _race(attempt)
    taken = _in_thread(lambda: Offer.objects.get(resource=site.canteen, starts_at=start).taken)
    rows = _in_thread(lambda: Booking.objects.filter(resource=site.canteen, state__in=ACTIVE_STATES).count())
    assert won == 10 and rows == 10 and taken == 10
