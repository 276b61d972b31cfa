"""Working-day arithmetic for handling deadlines.

A day is a working day when it is Monday to Friday and not an official day off, or when it is a weekend day
worked instead (调休: ``Holiday.is_workday``). A case reported on day D with a limit of N working days is due at
the end of the N-th working day after D (D itself does not count: a case reported on Friday evening with one
working day is due at the end of Monday). Times are local (Asia/Shanghai).

While a case waits on the resident the clock stops: ``resume_deadline`` moves the deadline on by the working days
the pause covered (the working days after the day it was paused, up to and including the day it resumed).

Lateness is working time: ``working_time_between`` counts the part of an interval that falls on working days, so
a deadline at the end of a Friday is one hour late at 01:00 on Monday, not three days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

__all__ = ["Calendar", "add_working_days", "calendar", "deadline_for", "invalidate", "is_workday",
           "resume_deadline", "working_days_between", "working_time_between"]


@dataclass(frozen=True)
class Calendar:
    """Exceptions to the Monday-to-Friday week: {date: is_workday}."""

    exceptions: dict[dt.date, bool] = field(default_factory=dict)

    def is_workday(self, day: dt.date) -> bool:
        special = self.exceptions.get(day)
        if special is not None:
            return special
        return day.weekday() < 5


_cached: Calendar | None = None


def calendar() -> Calendar:
    """The calendar from the Holiday table, read once per process (``invalidate`` after an edit)."""
    global _cached
    if _cached is None:
        from cases.models import Holiday

        _cached = Calendar(dict(Holiday.objects.values_list("date", "is_workday")))
    return _cached


def invalidate(**_kwargs) -> None:
    global _cached
    _cached = None


def is_workday(day: dt.date, cal: Calendar | None = None) -> bool:
    return (cal or calendar()).is_workday(day)


def add_working_days(day: dt.date, n: int, cal: Calendar | None = None) -> dt.date:
    """The N-th working day after ``day`` (``day`` itself not counted); N = 0 → ``day``."""
    if n < 0:
        raise ValueError("n must not be negative")
    cal = cal or calendar()
    current = day
    left = n
    while left:
        current += dt.timedelta(days=1)
        if cal.is_workday(current):
            left -= 1
    return current


def working_days_between(start: dt.date, end: dt.date, cal: Calendar | None = None) -> int:
    """Working days in (start, end]: 0 when ``end`` is not after ``start``."""
    cal = cal or calendar()
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if cal.is_workday(day):
            count += 1
    return count


def working_time_between(start: dt.datetime, end: dt.datetime, cal: Calendar | None = None) -> dt.timedelta:
    """The part of [start, end) that falls on working days (local dates): zero when ``end`` is not after ``start``."""
    if end <= start:
        return dt.timedelta(0)
    cal = cal or calendar()
    tz = timezone.get_current_timezone()
    start, end = timezone.localtime(start, tz), timezone.localtime(end, tz)
    total = dt.timedelta(0)
    day = start.date()
    while day <= end.date():
        if cal.is_workday(day):
            begin = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
            finish = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min), tz)
            total += min(finish, end) - max(begin, start)
        day += dt.timedelta(days=1)
    return total


def _end_of(day: dt.date) -> dt.datetime:
    tz = timezone.get_current_timezone()
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)), tz)


def deadline_for(start: dt.datetime, days: int, cal: Calendar | None = None) -> dt.datetime:
    """The end (23:59:59 local) of the ``days``-th working day after the local date of ``start``."""
    local = timezone.localtime(start)
    return _end_of(add_working_days(local.date(), days, cal))


def resume_deadline(deadline: dt.datetime, paused_at: dt.datetime, resumed_at: dt.datetime,
                    cal: Calendar | None = None) -> dt.datetime:
    """The deadline after a pause from ``paused_at`` to ``resumed_at``: moved on by the working days it covered."""
    covered = working_days_between(timezone.localtime(paused_at).date(), timezone.localtime(resumed_at).date(), cal)
    local = timezone.localtime(deadline)
    return timezone.make_aware(dt.datetime.combine(add_working_days(local.date(), covered, cal), local.time()),
                               timezone.get_current_timezone())
