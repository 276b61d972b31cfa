"""Columns of the people and enterprise lists. Personal numbers appear only in their masked form."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.tables import Column, Table

__all__ = ["EnterpriseTable", "PersonTable", "current_address"]


def current_address(person) -> str:
    """The address of the person's current residence (prefetched as ``current_residences``)."""
    residences = getattr(person, "current_residences", None) or []
    return residences[0].house.address if residences else ""


def _current_house(person):
    residences = getattr(person, "current_residences", None) or []
    return residences[0].house if residences else None


PersonTable = Table([
    Column(_("姓名"), "name", link=True),
    Column(_("性别"), "get_sex_display"),
    Column(_("年龄"), "age", css="num"),
    Column(_("证件号码"), "id_number_masked", css="masked"),
    Column(_("联系电话"), "phone_masked", css="masked"),
    Column(_("人口类型"), "get_residency_type_display"),
    Column(_("现住址"), current_address, link=_current_house),
    Column(_("网格"), "grid.name"),
], select_related=["grid"])

EnterpriseTable = Table([
    Column(_("企业名称"), "name", link=True),
    Column(_("统一社会信用代码"), "credit_code"),
    Column(_("所在楼宇"), "compound.name", link="compound"),
    Column(_("楼层"), "floor", css="num"),
    Column(_("房号"), "room"),
    Column(_("行业"), "industry"),
    Column(_("员工人数"), "staff_count", css="num"),
    Column(_("联系电话"), "contact_phone_masked", css="masked"),
], select_related=["compound"])
