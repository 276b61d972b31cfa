"""Cockpit figures of fieldwork (registered by fieldwork/cockpit.py): visits this week against the plan, reviews.

Each ``compute(level, place_ids=None)`` is one GROUP BY per query over denormalised place keys, never a loop
over places (cockpit/registry.py).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from fieldwork.models import ChangeRequest, ChangeStatus, Visit

__all__ = ["OVERDUE_REVIEW_DAYS", "reviews_by_place", "visits_by_place", "week_bounds"]

OVERDUE_REVIEW_DAYS = 3
# How a level is reached from a visit or a change request (both carry street/community/grid; below, the house's).
LOOKUP = {"street": "street_id", "community": "community_id", "grid": "grid_id", "compound": "house__compound_id",
          "building": "house__building_id"}


def week_bounds(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to the next Monday 00:00, Asia/Shanghai."""
    local = timezone.localtime(now or timezone.now())
    start = (local - dt.timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=7)


def _grouped(qs, level: str, place_ids, **annotations) -> dict:
    key = LOOKUP[level]
    if place_ids is not None:
        qs = qs.filter(**{f"{key}__in": list(place_ids)})
    out: dict = {}
    for row in qs.values(key).annotate(**annotations).order_by():
        if row[key] is not None:
            out[row[key]] = {name: row[name] for name in annotations}
    return out


def visits_by_place(level: str, place_ids=None) -> dict:
    """{place: {"visits": visits this week, "plan": homes due by the end of the week (quality's HouseStatus)}}."""
    start, end = week_bounds()
    out = _grouped(Visit.objects.filter(visited_at__gte=start, visited_at__lt=end), level, place_ids,
                   visits=Count("id"))
    try:
        from quality.models import HouseStatus
    except ImportError:
        HouseStatus = None
    if HouseStatus is not None:
        key = {"compound": "compound_id", "building": "building_id"}.get(level, LOOKUP[level])
        qs = HouseStatus.objects.filter(Q(due_at__lt=end) | Q(is_stale=True))
        if place_ids is not None:
            qs = qs.filter(**{f"{key}__in": list(place_ids)})
        for row in qs.values(key).annotate(plan=Count("pk")).order_by():
            if row[key] is not None:
                out.setdefault(row[key], {"visits": 0})["plan"] = row["plan"]
    for values in out.values():
        values.setdefault("plan", 0)
    return out


def reviews_by_place(level: str, place_ids=None) -> dict:
    """{place: {"pending": change requests waiting, "overdue": waiting more than three days}}."""
    limit = timezone.now() - dt.timedelta(days=OVERDUE_REVIEW_DAYS)
    return _grouped(ChangeRequest.objects.filter(status=ChangeStatus.PENDING), level, place_ids,
                    pending=Count("id"), overdue=Count("id", filter=Q(created_at__lt=limit)))
