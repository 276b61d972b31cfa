"""What a board shows, read from ``cockpit.Rollup`` only (one query for the place, one for its children).

``resolve_place(user, level, pk)`` finds the place and checks that the user's grant covers the WHOLE place
(a grid worker may read their street's name, but not open the street's board): otherwise ``Http404``.
``board_payload`` builds the figures, the panels (from the registry, in order) and the children, with the
small-cell rule applied on the server: for an aggregate-only viewer, a count between 1 and 4 of a
``small_cells`` metric leaves the server as "<5" and its number as ``null``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cockpit import drill, registry
from cockpit.models import Rollup
from core.scope import PlaceSet, scope_for
from places.models import Building, Community, Compound, Grid, Street

__all__ = ["BOARD_PERM", "SMALL_CELL", "Place", "board_payload", "children_of", "home_place", "map_figures",
           "resolve_place", "rollup_values", "covers", "week_label"]

BOARD_PERM = "cockpit.view_board"
SMALL_CELL = 5
MODELS = {"street": Street, "community": Community, "grid": Grid, "compound": Compound, "building": Building}
DISTRICT = "district"  # the board above the streets: every street the user's board grant covers (pk 0)
CHILD = {"district": "street", "street": "community", "community": "grid", "grid": "compound",
         "compound": "building", "building": None}
LEVEL_LABELS = {"district": gettext_lazy("区县"), "street": gettext_lazy("街道"), "community": gettext_lazy("社区"),
                "grid": gettext_lazy("网格"),
                "compound": gettext_lazy("小区"), "building": gettext_lazy("楼栋")}
CHILD_LIMIT = 300


@dataclass
class District:
    """The streets one board adds up (a district's command centre, or a user granted several streets)."""

    streets: list
    pk: int = 0

    def __str__(self) -> str:
        return _("区级汇总（%(n)d个街道）") % {"n": len(self.streets)}


@dataclass
class Place:
    level: str
    obj: object
    aggregate_only: bool
    places: PlaceSet | None = None

    @property
    def pk(self) -> int:
        return self.obj.pk

    @property
    def name(self) -> str:
        return str(self.obj)

    @property
    def url(self) -> str:
        return reverse("cockpit:board", args=[self.level, self.obj.pk])


def covers(ps: PlaceSet | None, level: str, obj) -> bool:
    if ps is None:
        return False
    ids = {"street": obj.pk if level == "street" else getattr(obj, "street_id", None),
           "community": obj.pk if level == "community" else getattr(obj, "community_id", None),
           "grid": obj.pk if level == "grid" else getattr(obj, "grid_id", None)}
    return (ids["street"] in ps.streets or ids["community"] in ps.communities or ids["grid"] in ps.grids)


def district_streets(user) -> list:
    """The streets whose whole board the user's grant covers (street-level grants), by name."""
    ps = scope_for(user).places_for(BOARD_PERM)
    if ps is None or not ps.streets:
        return []
    return list(Street.objects.filter(pk__in=ps.streets).order_by("name", "pk"))


def resolve_place(user, level: str, pk: int) -> Place:
    """The place if the user's board permission covers all of it; else 404 (out of scope)."""
    if level == DISTRICT:
        streets = district_streets(user)
        if pk != 0 or len(streets) < 2:
            raise Http404(_("区级汇总需要两个或以上街道的授权"))
        scope = scope_for(user)
        ps = scope.places_for(BOARD_PERM)
        detail = scope.detail_perms.get(BOARD_PERM)
        aggregate = ps.aggregate_only and not all(covers(detail, "street", s) for s in streets)
        return Place(DISTRICT, District(streets), aggregate, ps)
    if level not in registry.LEVELS:
        raise Http404
    model = MODELS[level]
    parents = [f for f in ("street", "community", "grid", "compound") if f != level and hasattr(model, f"{f}_id")]
    obj = model.objects.select_related(*parents).filter(pk=pk).first()
    scope = scope_for(user)
    ps = scope.places_for(BOARD_PERM)
    if obj is None or not covers(ps, level, obj):
        raise Http404(_("没有找到该地点，或不在您的管辖范围内"))
    aggregate = ps.aggregate_only and not covers(scope.detail_perms.get(BOARD_PERM), level, obj)
    return Place(level, obj, aggregate, ps)


def home_place(user) -> tuple[str, int] | None:
    """The largest place the user's board grant covers (several streets: the district board; a street, else a
    community, else a grid)."""
    ps = scope_for(user).places_for(BOARD_PERM)
    if ps is None:
        return None
    if len(ps.streets) >= 2:
        return DISTRICT, 0
    for level, ids in (("street", ps.streets), ("community", ps.communities), ("grid", ps.grids)):
        if ids:
            return level, min(ids)
    return None


def rollup_values(level: str, place_ids, metrics=None) -> dict[int, dict[str, dict[str, float]]]:
    """{place_id: {metric: {subkey: value}}} from Rollup (one query)."""
    qs = Rollup.objects.filter(level=level, place_id__in=list(place_ids))
    if metrics is not None:
        qs = qs.filter(metric__in=list(metrics))
    out: dict[int, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for pid, metric, key, value in qs.values_list("place_id", "metric", "key", "value"):
        out[pid][metric][key] = value
    return out


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 4)


def _display(value, small: bool, aggregate_only: bool) -> tuple[float | int | None, str]:
    """(number sent to the browser, text shown): small cells of aggregate-only viewers become (None, "<5")."""
    value = value or 0
    if small and aggregate_only and 0 < value < SMALL_CELL:
        return None, "<5"
    n = _num(value)
    return n, str(n) if isinstance(n, int) else number_format(n, decimal_pos=2)


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")


def week_label(key: str) -> tuple[str, str]:
    """An ISO week subkey ("2026-W49") as people read it: ("11/30", "11月30日起的一周") — its Monday; any other key
    is returned as it is."""
    m = WEEK_KEY.match(key)
    if not m:
        return key, key
    try:
        monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        return key, key
    return f"{monday.month}/{monday.day}", _("%(m)d月%(d)d日起的一周") % {"m": monday.month, "d": monday.day}


def _drill_url(fn, level: str, pk: int, subkey: str) -> str:
    if fn is None or level == DISTRICT:  # the lists filter by one place; a district's drill is its streets
        return ""
    try:
        return fn(level, pk, subkey) or ""
    except NoReverseMatch:
        return ""


def _panel(panel: registry.Panel, place: Place, values: dict[str, dict[str, float]]) -> dict | None:
    series = []
    for key in panel.metrics:
        metric = registry.get_metric(key)
        if metric is None or (place.level == DISTRICT and not metric.additive):
            continue  # a district adds up counts; rates and scores are read on each street's board
        if place.level != DISTRICT and place.level not in metric.levels:
            continue
        labels = metric.labels()
        data = values.get(key, {})
        order = list(labels) + sorted(k for k in data if k not in labels)
        if panel.chart == "line":
            order = sorted(data)
        items = []
        for subkey in order:
            if panel.chart == "pyramid":
                continue
            if subkey not in data and subkey not in labels:
                continue
            number, text = _display(data.get(subkey, 0), metric.small_cells, place.aggregate_only)
            if metric.percent and number is not None:
                text = f"{100 * number:.1f}%"
            label, long_label = str(labels.get(subkey, subkey)), ""
            if subkey not in labels and WEEK_KEY.match(subkey):
                label, long_label = week_label(subkey)
            items.append({"key": subkey, "label": label, "value": number, "text": text,
                          "url": _drill_url(panel.drill, place.level, place.pk, subkey)})
            if long_label:
                items[-1]["long_label"] = long_label
        if panel.chart == "pyramid":
            items = _pyramid_items(data, metric, place)
        if panel.chart == "gauge":
            items = _gauge_items(data)
        series.append({"metric": key, "label": str(metric.label), "items": items,
                       "small_cells": metric.small_cells, "percent": metric.percent or panel.chart == "gauge"})
    if not series:
        return None
    return {"key": panel.key, "title": str(panel.title), "chart": panel.chart, "series": series,
            "wide": panel.wide, "id": "panel-" + panel.key.replace(".", "-")}


def _pyramid_items(data: dict[str, float], metric, place: Place) -> list[dict]:
    from cockpit.metrics import AGE_BANDS

    items = []
    for band in AGE_BANDS:
        m, mt = _display(data.get(f"m:{band}", 0), metric.small_cells, place.aggregate_only)
        f, ft = _display(data.get(f"f:{band}", 0), metric.small_cells, place.aggregate_only)
        items.append({"key": band, "label": band, "male": m, "female": f, "male_text": mt, "female_text": ft})
    return items


def gauge_rate(data: dict[str, float]) -> float | None:
    """The rate a gauge shows: subkey ``rate`` (0..1), else ``num / den``. Rollups store no zeros: a place with
    figures but no ``rate`` row has a rate of 0 (0.0%, not "no data")."""
    if "rate" in data:
        return data["rate"]
    if data.get("den"):
        return data.get("num", 0) / data["den"]
    if data and "den" not in data:
        return 0.0
    return None


def _gauge_items(data: dict[str, float]) -> list[dict]:
    rate = gauge_rate(data)
    return [{"key": "rate", "label": "", "value": None if rate is None else round(rate, 4),
             "text": "—" if rate is None else f"{100 * rate:.1f}%", "url": ""}]


def map_figures() -> list[dict]:
    """The figures the map can be coloured by: metrics with a ``map_value``, and the first metric of every
    gauge panel (a rate, e.g. freshness)."""
    out, seen = [], set()
    # The registry's own figures first (the map opens coloured by the first): a module's rate never takes over.
    for metric in sorted(registry.metrics(), key=lambda m: (not m.key.startswith("cockpit."), m.key)):
        if metric.map_value is not None:
            out.append({"key": metric.key, "label": str(metric.map_label or metric.label),
                        "rate": metric.map_percent})
            seen.add(metric.key)
    for panel in registry.panels():
        if panel.chart == "gauge" and panel.metrics[0] not in seen and registry.get_metric(panel.metrics[0]):
            out.append({"key": panel.metrics[0], "label": str(panel.title), "rate": True})
            seen.add(panel.metrics[0])
    return out


def figure_value(key: str, data: dict[str, float]) -> float | None:
    metric = registry.get_metric(key)
    if metric is None:
        return None
    if metric.map_value is not None:
        return metric.map_value(data)
    return gauge_rate(data)


def _figures(place: Place, values) -> list[dict]:
    houses = values.get("cockpit.houses", {})
    pop = values.get("cockpit.population", {})
    households = values.get("cockpit.households", {})
    groups = values.get("cockpit.groups", {})
    n_houses, n_pop = sum(houses.values()), sum(pop.values())
    n_households = sum(households.values())
    lv, pk = place.level, place.pk

    def link(fn, sub: str) -> str:
        return "" if lv == DISTRICT else fn(lv, pk, sub)

    groups_total, groups_text = _display(sum(groups.values()), True, place.aggregate_only)
    return [
        {"key": "houses", "label": _("房屋"), "text": _display(n_houses, False, False)[1],
         "url": link(drill.houses, "")},
        {"key": "population", "label": _("现住人口"), "text": _display(n_pop, False, False)[1],
         "url": link(drill.people, "")},
        {"key": "households", "label": _("住户"), "text": _display(n_households, False, False)[1],
         "url": link(drill.households, "")},
        {"key": "floating", "label": _("流动人口"), "text": _display(pop.get("floating", 0), False, False)[1],
         "url": link(drill.people, "floating")},
        {"key": "vacancy", "label": _("空置率"), "text": _percent(houses.get("vacant", 0), n_houses),
         "url": link(drill.houses, "vacant")},
        {"key": "groups", "label": _("特殊人群"), "text": groups_text, "url": link(drill.people_tag, "")},
    ]


def children_of(place: Place) -> tuple[str | None, list]:
    """The child level and the child places (at most CHILD_LIMIT), ordered by name."""
    child = CHILD[place.level]
    if child is None:
        return None, []
    if place.level == DISTRICT:
        return child, list(place.obj.streets[:CHILD_LIMIT])
    model = MODELS[child]
    qs = model.objects.filter(**{f"{place.level}_id": place.pk})
    if child == "building":
        qs = qs.select_related("compound")
    return child, list(qs.order_by(*model._meta.ordering or ["pk"])[:CHILD_LIMIT])


def _children(place: Place) -> dict:
    child, objs = children_of(place)
    if child is None:
        return {"level": None, "rows": []}
    vals = rollup_values(child, [o.pk for o in objs], ["cockpit.houses", "cockpit.population", "cockpit.groups"])
    rows = []
    for o in objs:
        v = vals.get(o.pk, {})
        houses, pop = v.get("cockpit.houses", {}), v.get("cockpit.population", {})
        groups = _display(sum(v.get("cockpit.groups", {}).values()), True, place.aggregate_only)[1]
        rows.append({"id": o.pk, "name": str(o), "url": reverse("cockpit:board", args=[child, o.pk]),
                     "houses": _display(sum(houses.values()), False, False)[1],
                     "population": _display(sum(pop.values()), False, False)[1],
                     "population_n": _num(sum(pop.values())),
                     "vacancy": _percent(houses.get("vacant", 0), sum(houses.values())), "groups": groups})
    return {"level": child, "level_label": str(LEVEL_LABELS[child]), "rows": rows}


def _place_values(place: Place):
    """The place's rollups and the time of the latest one (one query)."""
    values: dict[str, dict[str, float]] = defaultdict(dict)
    computed = None
    if place.level == DISTRICT:  # the sum of its streets, for the counts (additive metrics) only
        additive = [m.key for m in registry.metrics() if m.additive]
        rows = Rollup.objects.filter(level="street", place_id__in=[s.pk for s in place.obj.streets],
                                     metric__in=additive).values_list("metric", "key", "value", "computed_at")
        for metric, key, value, at in rows:
            values[metric][key] = values[metric].get(key, 0) + value
            computed = at if computed is None or at > computed else computed
        return values, computed
    for metric, key, value, at in Rollup.objects.filter(level=place.level, place_id=place.pk) \
            .values_list("metric", "key", "value", "computed_at"):
        values[metric][key] = value
        computed = at if computed is None or at > computed else computed
    return values, computed


def board_payload(place: Place) -> dict:
    """Everything a board draws, as JSON-ready data (the page embeds it; the wall screen re-fetches it)."""
    values, computed = _place_values(place)
    level = "street" if place.level == DISTRICT else place.level  # a district shows the streets' panels
    panels = [p for p in (_panel(panel, place, values) for panel in registry.panels(level)) if p]
    return {
        "level": place.level, "level_label": str(LEVEL_LABELS[place.level]), "id": place.pk, "name": place.name,
        "aggregate_only": place.aggregate_only, "figures": _figures(place, values), "panels": panels,
        "children": _children(place),
        "computed_at": timezone.localtime(computed).strftime("%Y-%m-%d %H:%M:%S") if computed else "",
    }
