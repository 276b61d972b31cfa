"""The volunteer service on the cockpit: per grid, community and street, the hours verified this year, the active
volunteers (a verified shift in the last 90 days), the shifts of the last 30 days that were staffed (someone
checked in), and the hours verified per month of the year (a bar per month)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import pgettext_lazy

__all__ = ["compute_figures", "compute_monthly", "register"]

LEVELS = ("street", "community", "grid")
ACTIVE_DAYS = 90
STAFFED_DAYS = 30


def _col(level: str) -> str:
    return f"{level}_id"


def compute_figures(level: str, place_ids=None, *, now: dt.datetime | None = None) -> dict[int, dict[str, float]]:
    """Per place: hours verified this year, active volunteers, shifts staffed of the last 30 days."""
    from volunteers.models import Movement, Shift, Signup

    now = now or timezone.now()
    year = timezone.localtime(now).year
    col = _col(level)
    out: dict[int, dict[str, float]] = defaultdict(lambda: {"hours": 0.0, "active": 0, "staffed": 0, "shifts": 0})
    hours = Movement.objects.filter(account__kind="volunteer", unit="hours", transfer__occurred_on__year=year)
    active = Signup._base_manager.filter(verified_at__gte=now - dt.timedelta(days=ACTIVE_DAYS),
                                         verified_hours__isnull=False)
    shifts = Shift._base_manager.filter(starts_at__gte=now - dt.timedelta(days=STAFFED_DAYS), starts_at__lt=now)
    if place_ids is not None:
        ids = list(place_ids)
        hours = hours.filter(**{f"account__{col}__in": ids})
        active = active.filter(**{f"{col}__in": ids})
        shifts = shifts.filter(**{f"{col}__in": ids})
    for row in hours.values(f"account__{col}").annotate(s=Sum("amount")).order_by():
        if row[f"account__{col}"] is not None:
            out[row[f"account__{col}"]]["hours"] = float(row["s"] or 0)
    for row in active.values(col).annotate(n=Count("volunteer_id", distinct=True)).order_by():
        if row[col] is not None:
            out[row[col]]["active"] = row["n"]
    rows = shifts.values(col).annotate(n=Count("id", distinct=True), staffed=Count(
        "id", distinct=True, filter=Q(signups__checked_in_at__isnull=False))).order_by()
    for row in rows:
        if row[col] is not None:
            out[row[col]]["shifts"] = row["n"]
            out[row[col]]["staffed"] = row["staffed"]
    return dict(out)


def compute_monthly(level: str, place_ids=None, *, now: dt.datetime | None = None) -> dict[int, dict[str, float]]:
    """Per place: the hours verified in each month of this year ("01".."12", by the shift's date)."""
    from django.db.models.functions import ExtractMonth

    from volunteers.models import Movement

    now = now or timezone.now()
    year = timezone.localtime(now).year
    col = f"account__{_col(level)}"
    qs = Movement.objects.filter(account__kind="volunteer", unit="hours", transfer__occurred_on__year=year)
    if place_ids is not None:
        qs = qs.filter(**{f"{col}__in": list(place_ids)})
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for row in qs.annotate(month=ExtractMonth("transfer__occurred_on")).values(col, "month").annotate(
            s=Sum("amount")).order_by():
        if row[col] is not None:
            out[row[col]][f"{row['month']:02d}"] = float(row["s"] or 0)
    return dict(out)


def _months() -> dict[str, str]:
    return {f"{m:02d}": f"{m}月" for m in range(1, 13)}


def _drill(level: str, place_id: int, subkey: str):
    from django.urls import reverse

    return reverse("volunteers:honour")


def register() -> None:
    """Called by the cockpit when it starts (cockpit/apps.py discovers every app's ``cockpit.register``)."""
    from cockpit.registry import register_metric, register_panel

    register_metric("volunteers.figures", label=pgettext_lazy("volunteers", "志愿服务"), compute=compute_figures,
                    levels=LEVELS, subkey_labels={
                        "hours": pgettext_lazy("volunteers", "今年核定时长（小时）"),
                        "active": pgettext_lazy("volunteers", "活跃志愿者（近90天）"),
                        "shifts": pgettext_lazy("volunteers", "近30天班次"),
                        "staffed": pgettext_lazy("volunteers", "近30天有人到岗的班次")})
    register_metric("volunteers.monthly", label=pgettext_lazy("volunteers", "每月核定志愿服务时长（小时）"),
                    compute=compute_monthly, levels=LEVELS, subkey_labels=_months)
    register_panel("volunteers.figures", title=pgettext_lazy("volunteers", "志愿服务"), metrics=["volunteers.figures"],
                   chart="figures", order=80, levels=LEVELS, drill=_drill)
    register_panel("volunteers.monthly", title=pgettext_lazy("volunteers", "今年每月核定志愿服务时长（小时）"),
                   metrics=["volunteers.monthly"], chart="bar", order=81, levels=LEVELS)
