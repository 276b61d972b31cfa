"""Joint meetings and enterprise services on the cockpit: meetings held, resolutions done / open / overdue,
enterprises' needs raised and resolved by category, and their satisfaction. One GROUP BY per metric and level;
recomputed hourly by ``meetings.cockpit`` (overdue moves with the clock) and by the cockpit's nightly rebuild."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["compute_meetings", "compute_needs_raised", "compute_needs_resolved", "compute_resolutions",
           "compute_satisfaction", "register"]

LEVELS = ("street", "community", "grid")
NEED_LEVELS = ("street", "community", "grid", "compound")


def _grouped(qs, level: str, place_ids, **aggregates) -> dict[int, dict[str, float]]:
    col = f"{level}_id"
    if place_ids is not None:
        qs = qs.filter(**{f"{col}__in": list(place_ids)})
    out: dict[int, dict[str, float]] = {}
    for row in qs.values(col).annotate(**aggregates).order_by():
        place = row.pop(col)
        if place is not None:
            out[place] = {k: v for k, v in row.items()}
    return out


def compute_meetings(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    from meetings.choices import MeetingState
    from meetings.models import Meeting

    return _grouped(Meeting._base_manager.all(), level, place_ids,
                    held=Count("id", filter=Q(state=MeetingState.HELD)),
                    planned=Count("id", filter=~Q(state=MeetingState.HELD)))


def compute_resolutions(level: str, place_ids=None, *, now: dt.datetime | None = None):
    from meetings.choices import OPEN_STATES, ResolutionState
    from meetings.models import Resolution

    now = now or timezone.now()
    return _grouped(Resolution._base_manager.exclude(state=ResolutionState.CANCELLED), level, place_ids,
                    done=Count("id", filter=Q(state=ResolutionState.DONE)),
                    open=Count("id", filter=Q(state__in=OPEN_STATES) & ~Q(deadline_at__lt=now)),
                    overdue=Count("id", filter=Q(state__in=OPEN_STATES, deadline_at__lt=now)))


def _by_category(qs, level: str, place_ids) -> dict[int, dict[str, float]]:
    col = f"{level}_id"
    if place_ids is not None:
        qs = qs.filter(**{f"{col}__in": list(place_ids)})
    out: dict[int, dict[str, float]] = {}
    for place, cat, n in qs.values_list(col, "category").annotate(n=Count("id")).order_by():
        if place is not None:
            out.setdefault(place, {})[cat] = n
    return out


def compute_needs_raised(level: str, place_ids=None):
    from meetings.models import Need

    return _by_category(Need._base_manager.all(), level, place_ids)


def compute_needs_resolved(level: str, place_ids=None):
    from meetings.choices import NeedState
    from meetings.models import Need

    return _by_category(Need._base_manager.filter(state__in=[NeedState.RESOLVED, NeedState.CLOSED]), level,
                        place_ids)


def compute_satisfaction(level: str, place_ids=None):
    from meetings.models import Need

    return _grouped(Need._base_manager.exclude(satisfaction=""), level, place_ids,
                    satisfied=Count("id", filter=Q(satisfaction="satisfied")),
                    basic=Count("id", filter=Q(satisfaction="basic")),
                    dissatisfied=Count("id", filter=Q(satisfaction="dissatisfied")))


def _categories():
    from meetings.choices import NeedCategory

    return dict(NeedCategory.choices)


def _drill_board(level: str, place_id: int, subkey: str):
    from django.urls import reverse

    query = {"overdue": "?overdue=1", "done": "?state=done"}.get(subkey, "")
    return reverse("meetings:board") + query


def _drill_needs(level: str, place_id: int, subkey: str):
    from django.urls import reverse

    return reverse("meetings:needs") + (f"?category={subkey}" if subkey in _categories() else "")


def register() -> None:
    from cockpit.registry import register_metric, register_panel

    register_metric("meetings.meetings", label=_("联席会议"), compute=compute_meetings, levels=LEVELS,
                    subkey_labels={"held": _("已召开"), "planned": _("筹备中")})
    register_metric("meetings.resolutions", label=_("会议决议"), compute=compute_resolutions, levels=LEVELS,
                    subkey_labels={"done": _("已办结"), "open": _("办理中"), "overdue": _("已超期")})
    register_metric("meetings.needs_raised", label=_("企业诉求（提出）"), compute=compute_needs_raised,
                    levels=NEED_LEVELS, subkey_labels=_categories)
    register_metric("meetings.needs_resolved", label=_("企业诉求（已解决）"), compute=compute_needs_resolved,
                    levels=NEED_LEVELS, subkey_labels=_categories)
    register_metric("meetings.satisfaction", label=_("企业满意度"), compute=compute_satisfaction,
                    levels=NEED_LEVELS, subkey_labels={"satisfied": _("满意"), "basic": _("基本满意"),
                                                       "dissatisfied": _("不满意")})
    register_panel("meetings.meetings", title=_("联席会议召开情况"), metrics=["meetings.meetings"],
                   chart="figures", order=80, levels=LEVELS)
    register_panel("meetings.resolutions", title=_("联席会议决议：办结与超期"), metrics=["meetings.resolutions"],
                   chart="figures", order=81, levels=LEVELS, drill=_drill_board)
    register_panel("meetings.needs", title=_("企业诉求：按类别提出与解决"),
                   metrics=["meetings.needs_raised", "meetings.needs_resolved"], chart="bar", order=82,
                   levels=NEED_LEVELS, drill=_drill_needs)
    register_panel("meetings.satisfaction", title=_("企业满意度"), metrics=["meetings.satisfaction"], chart="pie",
                   order=83, levels=NEED_LEVELS)
