"""The one rate limiter (core.ratelimit): sliding windows over rows the apps keep, the wait, the Chinese reason."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core import ratelimit
from core.models import AuditEvent
from core.ratelimit import RateLimited, Window

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)
PER_MINUTE = Window(1, dt.timedelta(minutes=1), gettext_lazy("太频繁：每分钟只能%(n)d次，请%(s)d秒后再试"))
PER_HOUR = Window(3, dt.timedelta(hours=1), gettext_lazy("太多：每小时最多%(n)d次，请%(m)d分钟后再试"))


def mark(ip: str = "10.1.1.1") -> None:
    AuditEvent.objects.create(action="login_failed", ip=ip, at=timezone.now())


def rows(ip: str = "10.1.1.1"):
    return AuditEvent.objects.filter(action="login_failed", ip=ip)


def test_below_the_limit_nothing_is_refused_and_at_the_limit_the_reason_names_the_wait():
    with time_machine.travel(START, tick=False) as clock:
        ratelimit.check(rows(), "at", PER_MINUTE)
        mark()
        clock.shift(dt.timedelta(seconds=20))
        with pytest.raises(RateLimited) as exc:
            ratelimit.check(rows(), "at", PER_MINUTE)
        assert exc.value.retry_after == 41 and str(exc.value) == "太频繁：每分钟只能1次，请41秒后再试"
        clock.shift(dt.timedelta(seconds=41))
        ratelimit.check(rows(), "at", PER_MINUTE)


def test_the_first_window_reached_answers_and_the_wait_is_until_the_oldest_counted_row_leaves():
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            mark()
            clock.shift(dt.timedelta(minutes=10))
        with pytest.raises(RateLimited) as exc:
            ratelimit.check(rows(), "at", PER_MINUTE, PER_HOUR)
        assert exc.value.message == "太多：每小时最多3次，请30分钟后再试"
        assert 30 * 60 <= exc.value.retry_after <= 30 * 60 + 1
        assert ratelimit.exceeded(rows("10.1.1.2"), "at", PER_HOUR) is None  # another key is not held back
        clock.shift(dt.timedelta(minutes=30, seconds=1))
        ratelimit.check(rows(), "at", PER_MINUTE, PER_HOUR)


def test_rows_over_the_limit_wait_for_as_many_to_leave_the_window():
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):  # two more than allowed (counted before a limit was lowered, say)
            mark()
            clock.shift(dt.timedelta(minutes=1))
        wait = ratelimit.exceeded(rows(), "at", PER_HOUR)
        assert wait == (60 - 5 + 2) * 60 + 1  # the third oldest must leave before one more is allowed


def test_two_requests_for_one_key_are_serialised_by_an_advisory_lock_on_postgresql():
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: there is nothing to serialise")
    with transaction.atomic():
        ratelimit.serialise("tests", "key")
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            assert cur.fetchone()[0] == 1
