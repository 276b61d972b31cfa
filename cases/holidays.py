"""The official calendar in the Holiday table: filled from the ``chinesecalendar`` package where it knows the year,
edited by the system administrator otherwise, and checked for the coming year.

The table stays the source of truth (deadlines read only it): the package seeds it (``load_year``) and cross-checks
it in the tests, but a day added by hand (a typhoon closure) or a year the package does not know yet is entered as
data. ``missing_years`` names the years a deployment should have and has not: the current year when it holds
nothing, and from December on the coming year. The system check ``cases.W001`` (``manage.py check --deploy
--database default``, and every ``migrate``) and the banner for whoever may edit the table report them.
"""

from __future__ import annotations

import datetime as dt

from django.db import DatabaseError, transaction
from django.utils import timezone

__all__ = ["CHINESE_NAMES", "add_day", "delete_day", "load_year", "missing_years", "official_days",
           "package_years"]

CHINESE_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                 "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
                 "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


def package_years() -> set[int]:
    """The years the installed ``chinesecalendar`` package holds official arrangements for."""
    from chinese_calendar import constants

    return {d.year for d in constants.holidays} | {d.year for d in constants.workdays}


def official_days(year: int) -> dict[dt.date, tuple[bool, str]] | None:
    """{date: (is_workday, name)} of ``year`` from the package: the days off (weekend days inside a holiday
    included) and the weekend days worked instead (调休); None when the package does not know the year."""
    from chinese_calendar import constants

    if year not in package_years():
        return None
    days: dict[dt.date, tuple[bool, str]] = {}
    for day, name in constants.holidays.items():
        if day.year == year:
            days[day] = (False, CHINESE_NAMES.get(name, name))
    for day, name in constants.workdays.items():
        if day.year == year:
            days[day] = (True, f"{CHINESE_NAMES.get(name, name)}调休")
    return dict(sorted(days.items()))


def load_year(year: int, actor=None) -> int | None:
    """Add the package's days of ``year`` that the table lacks (rows already there, edited or not, stay as they
    are). Returns how many were added, None when the package does not know the year."""
    from cases.models import Holiday
    from core.audit import record

    days = official_days(year)
    if days is None:
        return None
    with transaction.atomic():
        have = set(Holiday.objects.filter(date__year=year).values_list("date", flat=True))
        new = [Holiday(date=d, is_workday=w, name=n) for d, (w, n) in days.items() if d not in have]
        Holiday.objects.bulk_create(new)
        if new:
            record("create", user=actor, object_type="cases.holiday", object_id=str(year),
                   changes={"loaded": len(new), "source": "chinesecalendar"})
    _invalidate()
    return len(new)


def add_day(actor, day: dt.date, name: str, is_workday: bool):
    """Enter one day (or correct it): a weekday off, or a weekend day worked (调休)."""
    from cases.models import Holiday
    from core.audit import record

    with transaction.atomic():
        row, created = Holiday.objects.update_or_create(date=day, defaults={"name": name[:32],
                                                                            "is_workday": is_workday})
        record("create" if created else "update", row, user=actor,
               changes={"date": day.isoformat(), "name": row.name, "is_workday": is_workday})
    _invalidate()
    return row


def delete_day(actor, row) -> None:
    from core.audit import record

    with transaction.atomic():
        record("delete", row, user=actor, changes={"date": row.date.isoformat(), "name": row.name})
        row.delete()
    _invalidate()


def _invalidate() -> None:
    from cases import deadlines

    deadlines.invalidate()


def missing_years(today: dt.date | None = None) -> list[int]:
    """The years that should be in the table and are not: this year when it has no entry, and the coming year
    from 1 December on. An unmigrated database answers []."""
    from cases.models import Holiday

    today = today or timezone.localdate()
    wanted = [today.year] + ([today.year + 1] if today.month == 12 else [])
    try:
        have = set(Holiday.objects.filter(date__year__in=wanted).values_list("date__year", flat=True).distinct())
    except DatabaseError:
        return []
    return [y for y in wanted if y not in have]
