"""No more confirmed places than capacity under any concurrency: 50 threads (SQLite: fewer, it serialises its
writers anyway) each on its own connection sign up for 20 places at once; exactly 20 are confirmed, the rest wait,
and the counter equals the confirmed places."""

from __future__ import annotations

import datetime as dt
import threading

from django.db import OperationalError, connection

from activities import services
from activities.models import Activity, SignUp
from activities.tests.conftest import at, make_activity

NOW = at(dt.date(2027, 6, 1), 9)


def _race(people, fn) -> list[str]:
    barrier = threading.Barrier(len(people))
    errors = []

    def run(p) -> None:
        try:
            barrier.wait()
            try:
                fn(p)
            except OperationalError as exc:  # a busy database is a refusal, never a place too many
                errors.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _read(fn):
    """Run in a new thread: its own connection (SQLite: to the file the racers share)."""
    out = []
    t = threading.Thread(target=lambda: (out.append(fn()), connection.close()))
    t.start()
    t.join()
    return out[0]


def test_fifty_threads_twenty_places_exactly_twenty(world, separate_connections):
    people = separate_connections if connection.vendor == "postgresql" else separate_connections[:30]
    a = _read(lambda: make_activity(world, capacity=20, communities=()))
    errors = _race(people, lambda p: services.sign_up(a, p, [p], now=NOW, audit_it=False))
    confirmed = _read(lambda: SignUp.objects.filter(activity=a, state="confirmed").count())
    waiting = _read(lambda: SignUp.objects.filter(activity=a, state="waiting").count())
    taken = _read(lambda: Activity.objects.get(pk=a.pk).taken)
    assert confirmed == 20 and taken == 20
    assert confirmed + waiting + len(errors) == len(people)


def test_racing_cancellations_free_a_place_once(world, separate_connections):
    people = separate_connections[:12]
    a = _read(lambda: make_activity(world, capacity=4, communities=()))
    signups = _read(lambda: [services.sign_up(a, p, [p], now=NOW, audit_it=False) for p in people])
    first = signups[0]
    # six threads cancel the same confirmed sign-up at once: one succeeds, the place is offered once
    _race(people[:6], lambda p: _try_cancel(first))
    assert _read(lambda: Activity.objects.get(pk=a.pk).taken) == 4
    assert _read(lambda: SignUp.objects.filter(activity=a, state="offered").count()) == 1


def _try_cancel(signup):
    from django.core.exceptions import ValidationError

    try:
        services.cancel(signup, person=signup.applicant, now=NOW)
    except ValidationError:
        pass
