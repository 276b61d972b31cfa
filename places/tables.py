"""Columns of the place lists."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.tables import Column, Table

__all__ = ["BuildingTable", "CommunityTable", "CompoundTable", "GridTable", "HouseTable", "StreetTable"]


def use_css(house) -> str:
    return f"use use-{house.use}"


StreetTable = Table([
    Column(_("名称"), "name", link=True),
    Column(_("区划代码"), "code"),
])

CommunityTable = Table([
    Column(_("名称"), "name", link=True),
    Column(_("街道"), "street.name", link="street"),
    Column(_("代码"), "code"),
], select_related=["street"])

GridTable = Table([
    Column(_("名称"), "name", link=True),
    Column(_("编号"), "code"),
    Column(_("社区"), "community.name", link="community"),
], select_related=["community"])

CompoundTable = Table([
    Column(_("名称"), "name", link=True),
    Column(_("类型"), "get_kind_display"),
    Column(_("网格"), "grid.name", link="grid"),
    Column(_("社区"), "community.name"),
    Column(_("地址"), "address"),
], select_related=["grid", "community"])

BuildingTable = Table([
    Column(_("楼栋"), lambda b: _("%(c)s %(n)s幢") % {"c": b.compound.name, "n": b.number}, link=True),
    Column(_("层数"), "floors", css="num"),
    Column(_("单元数"), "units", css="num"),
    Column(_("网格"), "grid.name", link="grid"),
], select_related=["compound", "grid"])

HouseTable = Table([
    Column(_("地址"), "address", link=True),
    Column(_("用途"), "get_use_display", css=use_css),
    Column(_("楼层"), "floor", css="num"),
    Column(_("面积(㎡)"), "area", css="num"),
    Column(_("现住人数"), "resident_count", css="num"),
    Column(_("网格"), "grid.name", link="grid"),
], select_related=["building__compound", "grid"])
