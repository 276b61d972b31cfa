"""FilterSets of the place hierarchy. One FilterSet serves the UI list, the API and the export.

Every level above an object has a pair of filters: ``grid_id`` (primary keys) and ``grid`` (names),
both accepting several values (``?grid_id=3&grid_id=4``). The choices of both are the places the
requesting user may view, so neither the form nor the API can probe places outside the user's scope.
``q`` is the one search box; it understands names, pinyin and addresses ("3幢301", "A1花园3栋1单元301室").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import django_filters as df
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import fields as df_fields

from core.filters import FilterSet
from core.validators import normalise_text
from places.choices import CompoundKind, HouseUse
from places.models import Building, Community, Compound, Grid, House, Street

__all__ = [
    "Address", "BuildingFilterSet", "ChoicesFilter", "CommunityFilterSet", "CompoundFilterSet", "GridFilterSet",
    "HouseFilterSet", "ScopedFilterSet", "StreetFilterSet", "house_address_q", "ids", "names", "parse_address",
    "scoped_queryset", "starts_with",
]

ADDRESS_RE = re.compile(
    r"^(?P<compound>.*?)"
    r"(?:(?P<building>[0-9A-Z]+)(?:幢|栋|号楼|座|号))?"
    r"(?:(?P<unit>\d+)单元)?"
    r"(?P<room>\d{2,5})?(?:室|号)?$"
)


@dataclass
class Address:
    compound: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""


def parse_address(raw: str) -> Address | None:
    """"3幢301" → building 3, room 301; "3栋" = "3号楼" = "3幢"; full-width digits accepted. None if not an address."""
    text = normalise_text(raw or "").upper()
    m = ADDRESS_RE.match(text)
    if not text or not m or not (m["building"] or m["unit"] or m["room"]):
        return None
    return Address(m["compound"] or "", m["building"] or "", m["unit"] or "", m["room"] or "")


def house_address_q(addr: Address, prefix: str = "") -> Q:
    """Houses at ``addr``; ``prefix`` is the lookup path from the queried model to the house (``house__``)."""
    q = Q()
    if addr.compound:
        q &= Q(**{f"{prefix}compound__name__contains": addr.compound})
    if addr.building:
        q &= Q(**{f"{prefix}building__number": addr.building})
    if addr.unit:
        q &= Q(**{f"{prefix}unit": addr.unit})
    if addr.room:
        q &= Q(**{f"{prefix}room": addr.room})
    return q


def starts_with(field: str, prefix: str) -> Q:
    """``field`` starts with ``prefix``, written as a range (``>= 'zs' AND < 'zt'``) that the plain B-tree index
    answers in index order, so that ``ORDER BY field ... LIMIT 50`` stops early.

    ``LIKE 'zs%'`` would not do: SQLite's LIKE is case-insensitive and skips a binary index; PostgreSQL uses
    LIKE on an index only under the C collation (or the ``varchar_pattern_ops`` copy, which cannot give the
    order). The prefixes searched this way are lower-case letters and digits, which every collation in use
    (C, C.UTF-8, zh_CN / en_US.UTF-8) sorts the same way.
    """
    if not prefix:
        return Q()
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)})


def scoped_queryset(model):
    """A callable for ``queryset=``: the instances of ``model`` the requesting user may view."""

    def queryset(request) -> QuerySet:
        return model.objects.restrict(getattr(request, "user", None), "view")

    return queryset


class _ChoicesField(df_fields.ModelMultipleChoiceField):
    def clean(self, value):
        # No value: an empty list, not ``queryset.none()``, whose truth test django-filter would compile.
        if not value and not self.required:
            return []
        return super().clean(value)


class ChoicesFilter(df.ModelMultipleChoiceFilter):
    """Several model instances (``?grid_id=3&grid_id=4``); cheap when absent."""

    field_class = _ChoicesField


def ids(model, path: str) -> ChoicesFilter:
    """``grid_id=3&grid_id=4``: by primary key, among the places the user may view."""
    return ChoicesFilter(field_name=path, queryset=scoped_queryset(model), label=model._meta.verbose_name)


def names(model, path: str, name_field: str = "name") -> ChoicesFilter:
    """``grid=A1网格``: by name, among the places the user may view."""
    return ChoicesFilter(field_name=f"{path}__{name_field}", to_field_name=name_field,
                         queryset=scoped_queryset(model), label=model._meta.verbose_name)


class ScopedFilterSet(FilterSet):
    """Base: a ``q`` search box whose meaning each subclass gives in ``search``; empty and out-of-range values
    as core.filters.FilterSet says."""

    q = df.CharFilter(method="search", label=_("搜索"))

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(self.search_q(value))

    def search_q(self, value: str) -> Q:
        return Q(name__contains=value)


class StreetFilterSet(ScopedFilterSet):
    class Meta:
        model = Street
        fields = ["code"]

    def search_q(self, value: str) -> Q:
        return Q(name__contains=value) | Q(code=value)


class CommunityFilterSet(ScopedFilterSet):
    street_id = ids(Street, "street")
    street = names(Street, "street")

    class Meta:
        model = Community
        fields = ["code"]

    def search_q(self, value: str) -> Q:
        return Q(name__contains=value) | Q(code=value)


class GridFilterSet(ScopedFilterSet):
    street_id = ids(Street, "street")
    street = names(Street, "street")
    community_id = ids(Community, "community")
    community = names(Community, "community")

    class Meta:
        model = Grid
        fields = ["code"]

    def search_q(self, value: str) -> Q:
        return Q(name__contains=value) | Q(code__iexact=value)


class CompoundFilterSet(ScopedFilterSet):
    street_id = ids(Street, "street")
    street = names(Street, "street")
    community_id = ids(Community, "community")
    community = names(Community, "community")
    grid_id = ids(Grid, "grid")
    grid = names(Grid, "grid")
    kind = df.MultipleChoiceFilter(choices=CompoundKind.choices, label=_("类型"))

    class Meta:
        model = Compound
        fields = ["kind"]

    def search_q(self, value: str) -> Q:
        key = "".join(c for c in value.lower() if c.isalnum())
        q = Q(name__contains=value) | Q(address__contains=value)
        if key.isascii() and key.isalpha():
            q |= starts_with("name_pinyin", key)
        return q


class BuildingFilterSet(ScopedFilterSet):
    street_id = ids(Street, "street")
    street = names(Street, "street")
    community_id = ids(Community, "community")
    community = names(Community, "community")
    grid_id = ids(Grid, "grid")
    grid = names(Grid, "grid")
    compound_id = ids(Compound, "compound")
    compound = names(Compound, "compound")

    class Meta:
        model = Building
        fields = ["number"]

    def search_q(self, value: str) -> Q:
        addr = parse_address(value)
        if addr and addr.building and not addr.room:
            q = Q(number=addr.building)
            if addr.compound:
                q &= Q(compound__name__contains=addr.compound)
            return q
        return Q(compound__name__contains=value) | Q(number=value)


class HouseFilterSet(ScopedFilterSet):
    street_id = ids(Street, "street")
    street = names(Street, "street")
    community_id = ids(Community, "community")
    community = names(Community, "community")
    grid_id = ids(Grid, "grid")
    grid = names(Grid, "grid")
    compound_id = ids(Compound, "compound")
    compound = names(Compound, "compound")
    building_id = ids(Building, "building")
    use = df.MultipleChoiceFilter(choices=HouseUse.choices, label=_("用途"))
    unit = df.CharFilter(label=_("单元"))
    floor = df.NumberFilter(label=_("楼层"))
    occupied = df.BooleanFilter(method="filter_occupied", label=_("有人居住"))

    class Meta:
        model = House
        fields = ["use", "unit", "floor", "room"]

    def filter_occupied(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(resident_count__gt=0) if value else queryset.filter(resident_count=0)

    def search_q(self, value: str) -> Q:
        addr = parse_address(value)
        if addr is not None:
            return house_address_q(addr)
        return Q(compound__name__contains=value)
