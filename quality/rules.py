"""The data-quality rules: a code, a short title and a plain Chinese explanation of what is wrong and how to fix it.

The queries that find them are in quality/engine.py (set-based SQL, one statement per rule). The principle
区不漏房、房不漏户、户不漏人、人不漏项 groups them: ``pillar`` says which of the four a rule guards.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

__all__ = ["PILLARS", "RULES", "Rule"]

PILLARS = {
    "house": _("房不漏户：每套住人的房屋都登记了户（户主、租户）"),
    "household": _("户不漏人：每户的人都登记了，且人数、年龄合乎常理"),
    "person": _("人不漏项：每个人的必填信息齐全、证件号码真实"),
    "area": _("区不漏房：每套房屋都按期核实、状态真实"),
}


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    explanation: str
    pillar: str
    on_person: bool


RULES: dict[str, Rule] = {r.code: r for r in [
    Rule("missing_fields", _("必填项缺失"),
         _("人员缺少必填信息（证件号码、性别、出生日期、联系电话中的一项或多项）。请入户或电话核实后补齐。"),
         "person", True),
    Rule("import_phone_dropped", _("导入时联系电话无效"),
         _("导入表格中此人的联系电话无效（号段不存在、位数不对等），人员已照常导入，电话留空。请电话或入户核实后补登；"
           "补登后此问题自动消除。"), "person", True),
    Rule("house_area_missing", _("房屋面积缺失"),
         _("房屋没有登记面积，无法判断居住人数是否合理。请按房产证或实测补登面积。"), "area", False),
    Rule("id_invalid", _("证件号码无效"),
         _("居民身份证号码不符合国家标准（校验位、行政区划或出生日期不对）。请核对证件原件后更正。"), "person", True),
    Rule("id_birth_mismatch", _("出生日期与证件号码不符"),
         _("登记的出生日期与身份证号码中的出生日期不一致。以证件原件为准更正其中一项。"), "person", True),
    Rule("id_sex_mismatch", _("性别与证件号码不符"),
         _("登记的性别与身份证号码第17位表示的性别不一致。请核对后更正。"), "person", True),
    Rule("two_homes", _("一人同时现住两处"),
         _("同一人在两套或更多房屋都登记为现住。请确认实际居住地，在其他房屋办理迁出。"), "household", True),
    Rule("vacant_with_residents", _("空置房有人居住"),
         _("房屋登记为空置，但有现住人员。请核实后把用途改为自住或出租，或为已离开的人办理迁出。"), "house", False),
    Rule("rented_no_tenant", _("出租房无租户"),
         _("房屋登记为出租，但没有登记为租户的现住人员。请入户登记租户，或更正房屋用途。"), "house", False),
    Rule("overcrowded", _("居住人数超出面积合理范围"),
         _("现住人数多于“面积÷8＋2”（按人均8平方米估算），可能是群租或登记了已搬走的人。请入户核实。"),
         "household", False),
    Rule("minor_alone", _("未成年人独自居住"),
         _("房屋唯一的现住人员未满18周岁。请核实监护人是否漏登，或是否为留守儿童需要关爱。"), "household", False),
    Rule("age_over_110", _("年龄超过110岁"),
         _("按登记的出生日期，此人已超过110岁，可能是出生日期录错或人员已去世未注销。请核实。"), "person", True),
    Rule("householder_missing", _("缺少户主"),
         _("房屋有现住人员，但没有人登记为户主。请确认户主并登记“与户主关系”。"), "house", False),
    Rule("duplicate_id", _("证件号码重复"),
         _("另一条人员记录有相同的证件号码，可能是同一人登记了两次。请核实后合并。"), "person", True),
    Rule("duplicate_name_birth", _("同楼栋同名同生日"),
         _("同一楼栋有两条姓名和出生日期都相同的人员记录，可能是同一人登记了两次。请核实后合并或迁出。"),
         "person", True),
]}
