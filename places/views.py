"""Pages of the place hierarchy: street → community → grid → compound → building → house.

The building page is the building view (楼栋图): every house of the building laid out by unit and floor,
coloured by use and occupancy, read in one query. The house page shows the house; apps above places
(people: its residents) add their sections through ``HOUSE_PANELS`` — places imports none of them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.db.models import Count, Q, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from core.querysets import natural
from core.tables import Table, detail_url
from core.views import ObjectActionView, ObjectDetailView, ObjectListView
from places import filtersets, tables
from places.choices import HouseUse
from places.forms import HouseForm
from places.models import Building, Community, Compound, Grid, House, Street
from places.services import save_house

__all__ = ["BUILDING_PANELS", "HOUSE_PANELS", "breadcrumbs", "building_layout", "natural_key"]

# (request, house, can_change) -> {"template": ..., **context} or None; people registers its residents section.
HOUSE_PANELS: list[Callable[[HttpRequest, House, bool], dict | None]] = []
# (request, building) -> {"template": ..., **context} or None; circle registers the residents' services QR.
BUILDING_PANELS: list[Callable[[HttpRequest, Building], dict | None]] = []
CHILD_LIMIT = 200


def breadcrumbs(obj) -> list[tuple[str, str]]:
    """[(label, url)] from the street down to ``obj`` (the ancestors a user may see: their names are in scope)."""
    chain = []
    for level in ("street", "community", "grid", "compound", "building"):
        if level == obj._meta.model_name:
            break
        parent = getattr(obj, level, None) if hasattr(obj, f"{level}_id") else None
        if parent is not None:
            chain.append((str(parent), detail_url(parent)))
    chain.append((str(obj), ""))
    return chain


def child_list(request, model, table: Table, list_url: str, **filters) -> dict:
    qs = table.prepare(model.objects.restrict(request.user, "view").filter(**filters))
    objects = list(qs[:CHILD_LIMIT + 1])
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return {"headers": table.headers, "rows": table.rows(objects[:CHILD_LIMIT]),
            "more_url": f"{reverse(list_url)}?{query}" if len(objects) > CHILD_LIMIT else "",
            "all_url": f"{reverse(list_url)}?{query}"}


# --- lists ---------------------------------------------------------------------------------------------------
class StreetListView(ObjectListView):
    title = pgettext_lazy("nav", "街道")
    model = Street
    filterset_class = filtersets.StreetFilterSet
    table = tables.StreetTable


class CommunityListView(ObjectListView):
    title = pgettext_lazy("nav", "社区")
    model = Community
    filterset_class = filtersets.CommunityFilterSet
    table = tables.CommunityTable


class GridListView(ObjectListView):
    title = pgettext_lazy("nav", "网格")
    model = Grid
    filterset_class = filtersets.GridFilterSet
    table = tables.GridTable
    filter_fields = ["q", "community_id"]


class CompoundListView(ObjectListView):
    title = pgettext_lazy("nav", "小区")
    model = Compound
    filterset_class = filtersets.CompoundFilterSet
    table = tables.CompoundTable
    filter_fields = ["q", "grid_id", "kind"]


class BuildingListView(ObjectListView):
    title = pgettext_lazy("nav", "楼栋")
    model = Building
    filterset_class = filtersets.BuildingFilterSet
    table = tables.BuildingTable
    filter_fields = ["q", "grid_id"]
    ordering = ["compound_id", *natural("number")]  # 1幢, 2幢 … 10幢

    def extra_context(self, request):
        return {"q_placeholder": _("小区名称、楼栋号（如 3幢）")}


class HouseListView(ObjectListView):
    title = pgettext_lazy("nav", "房屋")
    model = House
    filterset_class = filtersets.HouseFilterSet
    table = tables.HouseTable
    filter_fields = ["q", "grid_id", "use", "occupied"]
    ordering = ["building_id", "unit", "room"]  # the (building, unit, room) unique index: no sort of every row

    def extra_context(self, request):
        return {"q_placeholder": _("地址（如 3幢301、花园1栋2单元301室）")}


# --- details -------------------------------------------------------------------------------------------------
class StreetView(ObjectDetailView):
    model = Street
    template_name = "places/place.html"

    def extra_context(self, request, obj):
        return {"crumbs": breadcrumbs(obj), "children_title": pgettext("nav", "社区"),
                "children": child_list(request, Community, tables.CommunityTable, "places:community_list",
                                       street_id=obj.pk)}


class CommunityView(ObjectDetailView):
    model = Community
    template_name = "places/place.html"
    select_related = ["street"]

    def extra_context(self, request, obj):
        return {"crumbs": breadcrumbs(obj), "children_title": pgettext("nav", "网格"),
                "children": child_list(request, Grid, tables.GridTable, "places:grid_list", community_id=obj.pk)}


class GridView(ObjectDetailView):
    model = Grid
    template_name = "places/place.html"
    select_related = ["street", "community"]

    def extra_context(self, request, obj):
        houses = House.objects.restrict(request.user, "view").filter(grid_id=obj.pk)
        return {"crumbs": breadcrumbs(obj), "children_title": pgettext("nav", "小区/楼宇"),
                "counts": house_counts(houses),
                "children": child_list(request, Compound, tables.CompoundTable, "places:compound_list",
                                       grid_id=obj.pk)}


class CompoundView(ObjectDetailView):
    model = Compound
    template_name = "places/place.html"
    select_related = ["street", "community", "grid"]

    def extra_context(self, request, obj):
        houses = House.objects.restrict(request.user, "view").filter(compound_id=obj.pk)
        return {"crumbs": breadcrumbs(obj), "children_title": pgettext("nav", "楼栋"), "counts": house_counts(houses),
                "children": child_list(request, Building, tables.BuildingTable, "places:building_list",
                                       compound_id=obj.pk)}


def house_counts(houses) -> dict:
    return houses.aggregate(houses=Count("id"), residents=Sum("resident_count"),
                            occupied=Count("id", filter=Q(resident_count__gt=0)),
                            rented=Count("id", filter=Q(use=HouseUse.RENTED)),
                            vacant=Count("id", filter=Q(use=HouseUse.VACANT)))


# --- the building view (楼栋图) -----------------------------------------------------------------------------------
USE_LABELS = dict(HouseUse.choices)
HOUSE_VIEW_FIELDS = ["id", "unit", "floor", "room", "use", "resident_count", "area"]


def natural_key(text: str) -> tuple:
    """Numbered things in their natural order: 1幢, 2幢 … 10幢 (not 1, 10, 11 … 2). Numbers sort before text."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(text or "")) if t)


_natural = natural_key


@dataclass
class Cell:
    house: House
    css: str
    title: str
    url: str


@dataclass
class UnitBlock:
    unit: str
    floors: list[tuple[int, list[Cell]]] = field(default_factory=list)


def occupancy_css(house: House) -> str:
    if house.resident_count and house.use == HouseUse.VACANT:
        return "occ-mismatch"
    return "occ-lived" if house.resident_count else "occ-empty"


def building_layout(building: Building, houses: list[House]) -> list[UnitBlock]:
    """Units side by side (columns), floors from the top down, rooms in number order."""
    by_unit: dict[str, dict[int, list[House]]] = defaultdict(lambda: defaultdict(list))
    for h in houses:
        by_unit[h.unit][h.floor].append(h)
    top = max([building.floors] + [h.floor for h in houses]) if houses else building.floors
    bottom = min([1] + [h.floor for h in houses])
    floors = [f for f in range(top, bottom - 1, -1) if f != 0]
    blocks = []
    for unit in sorted(by_unit, key=_natural):
        block = UnitBlock(unit)
        for f in floors:
            cells = []
            for h in sorted(by_unit[unit].get(f, []), key=lambda x: _natural(x.room)):
                use = USE_LABELS.get(h.use, h.use)
                title = _("%(room)s室 · %(use)s · %(n)d人") % {"room": h.room, "use": use, "n": h.resident_count}
                cells.append(Cell(h, f"cell use-{h.use} {occupancy_css(h)}", title,
                                  reverse("places:house", args=[h.pk])))
            block.floors.append((f, cells))
        blocks.append(block)
    return blocks


class BuildingView(ObjectDetailView):
    model = Building
    template_name = "places/building.html"
    select_related = ["street", "community", "grid", "compound"]

    def extra_context(self, request, obj):
        houses = list(House.objects.restrict(request.user, "view").filter(building_id=obj.pk)
                      .only(*HOUSE_VIEW_FIELDS).order_by())
        counts = {"houses": len(houses), "residents": sum(h.resident_count for h in houses),
                  "occupied": sum(1 for h in houses if h.resident_count),
                  "rented": sum(1 for h in houses if h.use == HouseUse.RENTED),
                  "vacant": sum(1 for h in houses if h.use == HouseUse.VACANT)}
        legend = [(f"use-{value}", label) for value, label in HouseUse.choices]
        panels = [p for p in (panel(request, obj) for panel in BUILDING_PANELS) if p]
        return {"crumbs": breadcrumbs(obj), "units": building_layout(obj, houses), "counts": counts,
                "legend": legend, "panels": panels}


# --- the house -------------------------------------------------------------------------------------------------
class HouseView(ObjectDetailView):
    model = House
    template_name = "places/house.html"
    select_related = ["street", "community", "grid", "compound", "building__compound"]
    audit_view = True

    def extra_context(self, request, obj):
        can_change = self.can(request, obj, "change")
        panels = [p for p in (panel(request, obj, can_change) for panel in HOUSE_PANELS) if p]
        return {"crumbs": breadcrumbs(obj), "panels": panels, "can_change": can_change}


class HouseEditView(ObjectActionView):
    model = House
    action = "change"
    form_class = HouseForm
    title = gettext_lazy("修改房屋信息")
    select_related = ["building__compound", "grid", "community", "street", "compound"]

    def get_form_kwargs(self, request, obj):
        return {"initial": {"use": obj.use, "area": obj.area, "note": obj.note, "version": obj.version}}

    def extra_context(self, request, obj):
        return {"crumbs": breadcrumbs(obj)[:-1] + [(str(obj), detail_url(obj)), (str(self.title), "")]}

    def perform(self, request, obj, form: forms.Form):
        data = {k: form.cleaned_data[k] for k in ("use", "area", "note")}
        return save_house(request.user, data, obj, expected_version=form.cleaned_data["version"])
