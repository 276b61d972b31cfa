"""The activities on the cockpit: per grid, community and street, the last 90 days' activities, confirmed
participants, attendances and the attendance rate (present of the attendances recorded), and the people still
on waiting lists."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy

__all__ = ["compute_figures", "compute_rate", "register"]

LEVELS = ("street", "community", "grid")
DAYS = 90


def compute_figures(level: str, place_ids=None, *, now: dt.datetime | None = None) -> dict[int, dict[str, float]]:
    from activities.choices import Attendance, SignUpState
    from activities.models import Participant, SessionAttendance

    now = now or timezone.now()
    col = f"{level}_id"
    since = now - dt.timedelta(days=DAYS)
    parts = Participant._base_manager.filter(live=True, signup__activity__sessions__starts_at__gte=since).distinct()
    att = SessionAttendance._base_manager.filter(session__starts_at__gte=since, session__starts_at__lt=now)
    if place_ids is not None:
        parts = parts.filter(**{f"signup__{col}__in": list(place_ids)})
        att = att.filter(**{f"session__activity__{col}__in": list(place_ids)})
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for row in (parts.values(f"signup__{col}").annotate(
            activities=Count("signup__activity", distinct=True),
            confirmed=Count("id", filter=Q(signup__state=SignUpState.CONFIRMED), distinct=True),
            waiting=Count("id", filter=Q(signup__state__in=[SignUpState.WAITING, SignUpState.OFFERED]),
                          distinct=True)).order_by()):
        out[row[f"signup__{col}"]].update(activities=row["activities"], confirmed=row["confirmed"],
                                          waiting=row["waiting"])
    for row in att.values(f"session__activity__{col}").annotate(
            present=Count("id", filter=Q(state=Attendance.PRESENT)),
            absent=Count("id", filter=Q(state=Attendance.ABSENT))).order_by():
        out[row[f"session__activity__{col}"]].update(present=row["present"], absent=row["absent"])
    return {k: {"activities": 0, "confirmed": 0, "waiting": 0, "present": 0, "absent": 0, **v}
            for k, v in out.items() if k is not None}


def compute_rate(level: str, place_ids=None, *, now: dt.datetime | None = None) -> dict[int, dict[str, float]]:
    """Attendance rate (%) of the last 90 days' sessions: present of present + absent."""
    out = {}
    for place, v in compute_figures(level, place_ids, now=now).items():
        seen = v.get("present", 0) + v.get("absent", 0)
        if seen:
            out[place] = {"rate": round(100 * v["present"] / seen, 1)}
    return out


def _drill(level: str, place_id: int, subkey: str):
    from django.urls import reverse

    return reverse("activities:list")


def register() -> None:
    from cockpit.registry import register_metric, register_panel

    register_metric("activities.figures", label=pgettext_lazy("activities", "社区活动近90天"),
                    compute=compute_figures, levels=LEVELS,
                    subkey_labels={"activities": pgettext_lazy("activities", "活动数"),
                                   "confirmed": pgettext_lazy("activities", "报名成功人数"),
                                   "waiting": pgettext_lazy("activities", "候补人数"),
                                   "present": pgettext_lazy("activities", "出席人次"),
                                   "absent": pgettext_lazy("activities", "缺席人次")})
    register_metric("activities.rate", label=pgettext_lazy("activities", "活动出席率"), compute=compute_rate,
                    levels=LEVELS, subkey_labels={"rate": pgettext_lazy("activities", "出席率")}, percent=False,
                    map_value=lambda v: v.get("rate"), map_label=pgettext_lazy("activities", "活动出席率(%)"))
    register_panel("activities.figures", title=pgettext_lazy("activities", "社区活动：报名与出席（近90天）"),
                   metrics=["activities.figures"], chart="figures", order=75, levels=LEVELS, drill=_drill)
    register_panel("activities.rate", title=pgettext_lazy("activities", "社区活动出席率（%，近90天）"),
                   metrics=["activities.rate"], chart="figures", order=76, levels=LEVELS)
