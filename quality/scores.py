"""Freshness rates and the quality score per place, set-based (one GROUP BY per level), and the weekly snapshot.

The score follows 区不漏房、房不漏户、户不漏人、人不漏项, four parts each 0–100, the score their mean:

* 区不漏房 (``area``): the share of houses verified within their interval (the freshness rate);
* 房不漏户 (``house``): the share of houses without a house-level finding (vacant with residents, rented
  without a tenant, no householder, no area);
* 户不漏人 (``household``): the share of occupied houses without a household finding (overcrowded, a minor
  alone, a resident also current elsewhere);
* 人不漏项 (``person``): the share of current residents without a person finding (missing fields, ID number
  invalid or inconsistent, age over 110, duplicates).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from quality.models import GridSnapshot, HouseStatus, QualityIssue
from quality.rules import RULES

__all__ = ["LEVEL_FIELDS", "PART_RULES", "figures", "take_snapshot", "trend"]

LEVEL_FIELDS = {"street": "street_id", "community": "community_id", "grid": "grid_id",
                "compound": "compound_id", "building": "building_id"}
ISSUE_LEVEL_FIELDS = dict(LEVEL_FIELDS, compound="house__compound_id")
PART_RULES = {
    "house": [c for c, r in RULES.items() if r.pillar in ("house", "area")],
    "household": [c for c, r in RULES.items() if r.pillar == "household"],
    "person": [c for c, r in RULES.items() if r.pillar == "person"],
}


def _ratio(bad: int, total: int) -> float:
    return 100.0 if total <= 0 else round(100.0 * max(total - bad, 0) / total, 1)


def figures(level: str, place_ids=None, statuses=None, issues=None) -> dict[int, dict[str, float]]:
    """``{place_id: {houses, fresh, stale, rate, residents, occupied, open_issues, area, house, household,
    person, score}}`` for every place of ``level`` (two GROUP BY queries). ``statuses`` / ``issues`` narrow the
    querysets (a user's scope)."""
    key = LEVEL_FIELDS[level]
    ikey = ISSUE_LEVEL_FIELDS[level]
    hs = statuses if statuses is not None else HouseStatus.objects.all()
    qi = issues if issues is not None else QualityIssue.objects.all()
    if place_ids is not None:
        hs = hs.filter(**{f"{key}__in": list(place_ids)})
        qi = qi.filter(**{f"{ikey}__in": list(place_ids)})
    out: dict[int, dict[str, float]] = {}
    for row in (hs.order_by().values(key).annotate(
            houses=Count("house_id"), stale=Count("house_id", filter=Q(is_stale=True)),
            people=Sum("residents"), occupied=Count("house_id", filter=Q(residents__gt=0)))):
        pid = row[key]
        if pid is None:
            continue
        houses, stale = row["houses"], row["stale"]
        out[pid] = {"houses": houses, "stale": stale, "fresh": houses - stale,
                    "rate": round((houses - stale) / houses, 4) if houses else 0.0,
                    "residents": row["people"] or 0, "occupied": row["occupied"], "open_issues": 0}
    open_q = Q(status="open")
    for row in (qi.filter(open_q).order_by().values(ikey).annotate(
            n=Count("id"),
            bad_houses=Count("house_id", distinct=True, filter=Q(rule__in=PART_RULES["house"])),
            bad_households=Count("house_id", distinct=True, filter=Q(rule__in=PART_RULES["household"])),
            bad_people=Count("person_id", distinct=True, filter=Q(rule__in=PART_RULES["person"])))):
        f = out.get(row[ikey])
        if f is None:
            continue
        f["open_issues"] = row["n"]
        f["_bh"], f["_bhh"], f["_bp"] = row["bad_houses"], row["bad_households"], row["bad_people"]
    for f in out.values():
        f["area"] = round(100.0 * f["rate"], 1)
        f["house"] = _ratio(f.pop("_bh", 0), f["houses"])
        f["household"] = _ratio(f.pop("_bhh", 0), f["occupied"])
        f["person"] = _ratio(f.pop("_bp", 0), f["residents"])
        f["score"] = round((f["area"] + f["house"] + f["household"] + f["person"]) / 4, 1)
    return out


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@transaction.atomic
def take_snapshot(on: dt.date | None = None) -> int:
    """Store (or replace) this week's row of every grid."""
    from places.models import Grid

    week = week_of(on or timezone.localdate())
    grids = {g.pk: g for g in Grid.objects.all().only("pk", "community_id", "street_id")}
    figs = figures("grid")
    rows = []
    for gid, g in grids.items():
        f = figs.get(gid, {})
        rows.append(GridSnapshot(grid_id=gid, community_id=g.community_id, street_id=g.street_id, week=week,
                                 houses=f.get("houses", 0), fresh=f.get("fresh", 0), stale=f.get("stale", 0),
                                 people=f.get("residents", 0), open_issues=f.get("open_issues", 0),
                                 freshness_rate=f.get("rate", 0.0), score=f.get("score", 0.0)))
    GridSnapshot.objects.bulk_create(rows, update_conflicts=True, unique_fields=["grid", "week"],
                                     update_fields=["houses", "fresh", "stale", "people", "open_issues",
                                                    "freshness_rate", "score", "taken_at"])
    return len(rows)


def trend(level: str, place_ids=None, weeks: int = 12, grid_ids=None) -> dict[int, dict[str, float]]:
    """``{place_id: {"2026-W40": rate, ...}}`` from GridSnapshot for the last ``weeks`` weeks (street, community,
    grid). ``grid_ids`` limits the grids summed (a user's scope)."""
    key = {"street": "street_id", "community": "community_id", "grid": "grid_id"}[level]
    since = week_of(timezone.localdate()) - dt.timedelta(weeks=weeks - 1)
    qs = GridSnapshot.objects.filter(week__gte=since)
    if place_ids is not None:
        qs = qs.filter(**{f"{key}__in": list(place_ids)})
    if grid_ids is not None:
        qs = qs.filter(grid_id__in=list(grid_ids))
    out: dict[int, dict[str, float]] = {}
    for row in qs.order_by().values(key, "week").annotate(h=Sum("houses"), f=Sum("fresh"), s=Sum("score")):
        iso = row["week"].isocalendar()
        out.setdefault(row[key], {})[f"{iso[0]}-W{iso[1]:02d}"] = round(row["f"] / row["h"], 4) if row["h"] else 0.0
    return out
