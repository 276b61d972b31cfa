"""The category tree seeded from shared/docs/life-circle.md (GB 50180-2018 appendices as commonly cited,
TD/T 1062-2021 basic / quality-raising split, and the seed communities' own additions).

``confirmed`` is True only where life-circle.md marks the value as confirmed against the standard's text;
every other radius comes from secondary sources and the UI says so. Used by migration 0002 and by
``manage.py circle_seed`` (which never overwrites an administrator's edits).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

# (code, name, name_en, parent, tier, radius_m, kind, group, confirmed, order)
GROUPS = [
    ("tier15", "15分钟生活圈设施", "15-minute circle facilities", None, 15, None, "basic", "all", False, 10),
    ("tier10", "10分钟生活圈设施", "10-minute circle facilities", None, 10, 500, "basic", "all", True, 20),
    ("tier5", "5分钟生活圈设施", "5-minute circle facilities", None, 5, None, "basic", "all", False, 30),
    ("block", "居住街坊配套", "residential block amenities", None, 0, None, "basic", "all", False, 40),
    ("community-extra", "社区特色服务", "community additions", None, 5, None, "quality", "all", False, 50),
]
CATEGORIES = [
    ("middle-school", "初中", "middle school", "tier15", 15, 1000, "basic", "12-15", False, 101),
    ("health-centre", "社区卫生服务中心", "community health service centre", "tier15", 15, 1000, "basic", "all",
     False, 102),
    ("elderly-home", "养老院", "elderly care home", "tier15", 15, None, "basic", "65+", False, 103),
    ("culture-centre", "文化活动中心", "cultural activity centre", "tier15", 15, None, "quality", "all", False, 104),
    ("street-office", "街道办事处", "sub-district office", "tier15", 15, None, "basic", "all", False, 105),
    ("sports-large", "大型多功能运动场地", "large sports ground", "tier15", 15, None, "quality", "all", False, 106),
    ("metro", "轨道交通站点", "metro station", "tier15", 15, 800, "basic", "all", False, 107),
    ("primary-school", "小学", "primary school", "tier10", 10, 500, "basic", "6-12", False, 201),
    ("market", "菜市场或生鲜超市", "food market / fresh supermarket", "tier10", 10, 500, "basic", "all", False, 202),
    ("sports-medium", "中型多功能运动场地", "medium sports ground", "tier10", 10, 500, "quality", "all", False, 203),
    ("service-station", "社区服务站", "community service station", "tier5", 5, None, "basic", "all", False, 301),
    ("canteen", "社区食堂", "community canteen", "tier5", 5, None, "basic", "all", False, 302),
    ("culture-room", "文化活动室", "cultural activity room", "tier5", 5, None, "quality", "all", False, 303),
    ("kindergarten", "幼儿园/托儿所", "kindergarten / nursery", "tier5", 5, 300, "basic", "3-6", False, 304),
    ("elderly-daycare", "老年人日间照料中心", "elderly day care centre", "tier5", 5, 300, "basic", "65+", False, 305),
    ("health-station", "社区卫生服务站", "community health station", "tier5", 5, None, "basic", "all", False, 306),
    ("fitness", "室外综合健身场地", "outdoor fitness ground", "tier5", 5, 300, "quality", "all", False, 307),
    ("bus-stop", "公交车站", "bus stop", "tier5", 5, 500, "basic", "all", False, 308),
    ("parking", "非机动车及机动车停车场", "parking", "tier5", 5, None, "basic", "all", False, 309),
    ("public-toilet", "公共厕所", "public toilet", "tier5", 5, None, "basic", "all", False, 310),
    ("convenience-store", "便利店", "convenience store", "block", 0, None, "basic", "all", False, 401),
    ("parcel-point", "快递服务点", "parcel point", "block", 0, None, "basic", "all", False, 402),
    ("play-space", "儿童、老年人活动场地", "children's and elderly play space", "block", 0, None, "quality", "all",
     False, 403),
    ("shared-living-room", "共享客厅", "shared living room", "community-extra", 5, None, "quality", "all", False, 501),
    ("shared-canteen", "共享食堂", "shared canteen", "community-extra", 5, None, "quality", "all", False, 502),
    ("shared-fridge", "共享冰箱", "shared fridge", "community-extra", 5, None, "quality", "all", False, 503),
    ("youth-station", "青年驿站", "youth station", "community-extra", 10, None, "quality", "all", False, 504),
    ("party-elderly-centre", "党建和养老服务中心", "party-and-elderly-care service centre", "community-extra", 15,
     None, "quality", "65+", False, 505),
    ("rider-station", "暖蜂驿站", "delivery riders' rest station", "community-extra", 15, None, "quality", "all",
     False, 506),
    ("shuttle-stop", "社区巴士站点", "shuttle bus stop", "community-extra", 5, 500, "quality", "all", False, 507),
]
FIELDS = ("code", "name", "name_en", "parent", "tier", "radius_m", "kind", "group", "confirmed", "order")
SOURCE = {"tier15": "GB 50180-2018", "tier10": "GB 50180-2018", "tier5": "GB 50180-2018", "block": "GB 50180-2018",
          "community-extra": gettext_noop("社区自定")}


def seed_categories(Category) -> int:  # noqa: N803 (a model class, historical in migrations)
    """Create the missing categories; returns how many were created. Existing rows are left as edited."""
    created = 0
    by_code = {}
    for row in GROUPS + CATEGORIES:
        data = dict(zip(FIELDS, row, strict=True))
        parent_code = data.pop("parent")
        data["parent"] = by_code.get(parent_code) if parent_code else None
        data["source"] = SOURCE.get(parent_code or data["code"], "")
        obj, made = Category.objects.get_or_create(code=data["code"], defaults=data)
        by_code[obj.code] = obj
        created += made
    return created
