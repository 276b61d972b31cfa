"""The seeded configuration of cases: the category tree with its deadlines (working days, normal and urgent) and
the 2026 official calendar (国务院办公厅关于2026年部分节假日安排的通知): days off and the weekend days worked
instead (调休). Migration 0002 calls ``seed``; tests that flush the database call it again."""

from __future__ import annotations

import datetime as dt

__all__ = ["CATEGORIES", "HOLIDAYS_2026", "seed"]

CATEGORIES = [
    # code, name, name_en, normal days, urgent days, children [(code, name, name_en)]
    ("neighbour", "邻里纠纷", "Neighbour dispute", 10, 3, [
        ("neighbour-noise", "噪声扰民", "Noise"), ("neighbour-leak", "漏水渗水", "Water leak"),
        ("neighbour-space", "占用公共空间", "Use of shared space")]),
    ("property", "物业管理", "Property management", 5, 1, [
        ("property-repair", "公共设施维修", "Repair of shared facilities"),
        ("property-lift", "电梯故障", "Lift breakdown"), ("property-fee", "物业收费", "Property fees")]),
    ("parking", "停车", "Parking", 5, 1, [
        ("parking-illegal", "违规停车", "Illegal parking"),
        ("parking-ebike", "电动车充电", "E-bike charging")]),
    ("sanitation", "环境卫生", "Environment and sanitation", 3, 1, [
        ("sanitation-rubbish", "垃圾堆放", "Piled rubbish"),
        ("sanitation-sorting", "垃圾分类", "Waste sorting"), ("sanitation-pests", "病媒生物", "Pests")]),
    ("safety", "安全隐患", "Safety hazard", 2, 1, [
        ("safety-fire", "消防通道堵塞", "Blocked fire exit"),
        ("safety-structure", "房屋安全", "Unsafe building"), ("safety-gas", "燃气隐患", "Gas hazard")]),
    ("elderly", "养老服务", "Elderly care", 5, 1, [
        ("elderly-care", "居家养老", "Home care"), ("elderly-meal", "助餐服务", "Meal service")]),
    ("enterprise", "企业诉求", "Enterprise request", 10, 3, [
        ("enterprise-policy", "政策咨询", "Policy question"),
        ("enterprise-environment", "营商环境", "Business environment")]),
    ("suggestion", "意见建议", "Suggestion", 15, 5, []),
]

HOLIDAYS_2026 = {
    "元旦": (["2026-01-01", "2026-01-02", "2026-01-03"], ["2026-01-04"]),
    "春节": ([f"2026-02-{d}" for d in range(15, 24)], ["2026-02-14", "2026-02-28"]),
    "清明节": (["2026-04-04", "2026-04-05", "2026-04-06"], []),
    "劳动节": ([f"2026-05-0{d}" for d in range(1, 6)], ["2026-05-09"]),
    "端午节": (["2026-06-19", "2026-06-20", "2026-06-21"], []),
    "中秋节": (["2026-09-25", "2026-09-26", "2026-09-27"], []),
    "国庆节": ([f"2026-10-0{d}" for d in range(1, 8)], ["2026-09-20", "2026-10-10"]),
}


def seed(Category, Holiday) -> None:
    for i, (code, name, name_en, days, urgent, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "deadline_days": days, "urgent_deadline_days": urgent,
            "order": (i + 1) * 10})
        for j, (ccode, cname, cname_en) in enumerate(children):
            Category.objects.get_or_create(code=ccode, defaults={
                "name": cname, "name_en": cname_en, "parent": parent, "deadline_days": days,
                "urgent_deadline_days": urgent, "order": (i + 1) * 10 + j + 1})
    for name, (off, work) in HOLIDAYS_2026.items():
        for d in off:
            Holiday.objects.get_or_create(date=dt.date.fromisoformat(d), defaults={"name": name, "is_workday": False})
        for d in work:
            Holiday.objects.get_or_create(date=dt.date.fromisoformat(d),
                                          defaults={"name": f"{name}调休", "is_workday": True})
