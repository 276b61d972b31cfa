"""The demo sub-district: a street in the manner of Yuanhe (元和街道, Xiangcheng, Suzhou), generated from a seed.

``generate(scale, seed)`` builds 1 street, 8 communities, 30 grids, about 155 × scale compounds (mostly
residential compounds of four styles, some apartment blocks, one office tower per unit of scale with about 100
enterprises), about 50,000 × scale houses and 130,000 × scale people in plausible households, and loads them
with bulk inserts (PostgreSQL ``COPY``, SQLite ``executemany``) in batches, committing batch by batch.

The same seed gives the same data, ids included, on a database holding no other rows of these tables (the
encryption nonces of the personal numbers and the rows' seal ids differ, by design). Everything is dated relative to
``REFERENCE_DATE`` rather than today, for the same reason.

The generator writes the denormalised keys itself (a house's grid, community and street; a person's place
and ``is_current``; a house's ``resident_count``), computes pinyin with ``people.pinyin.name_pinyin`` and seals
personal numbers with ``Person.set_id_number`` / ``set_phone``: the same definitions the services use.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import uuid
from array import array
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections, transaction
from django.utils import timezone
from faker.providers.company.zh_CN import Provider as FakerCompanies
from tqdm import tqdm

from demo import identity
from demo.geo import Lattice
from demo.loader import BulkLoader
from demo.models import DemoDataset
from people.models import Enterprise, Person, PersonTag, Residence, Tag
from people.pinyin import name_pinyin
from places.models import Building, Community, Compound, Grid, House, Street
from places.pinyin import place_pinyin

__all__ = ["DemoMismatch", "REFERENCE_DATE", "STREETS", "STREET_NAME", "StreetSpec", "TAGS", "generate", "wipe"]


@dataclass(frozen=True)
class StreetSpec:
    """One demo street: its name, its 9-digit code, its eight communities, where it lies (an offset in degrees
    from the first street's box), its seed's shift (other compounds, other people) and its first office tower."""

    name: str
    code: str
    communities: tuple[str, ...]
    offset: tuple[float, float] = (0.0, 0.0)
    seed_shift: int = 0
    tower: str = "活力大厦"


STREETS = (
    StreetSpec("元和街道", "320507001", ("御窑社区", "嘉元社区", "朱泾社区", "徐图社区", "采莲社区", "春申社区",
                                      "玉成社区", "华元社区")),
    # A district runs many streets on one database: `manage.py demo --streets 2` adds this one to the east.
    StreetSpec("越溪街道", "320506004", ("吴山社区", "张桥社区", "旺山社区", "溪上社区", "越湖社区", "南石社区",
                                      "东湖社区", "宝带社区"), offset=(0.09, 0.0), seed_shift=7919,
               tower="越溪科创大厦"),
)
STREET_NAME = STREETS[0].name
STREET_CODE = STREETS[0].code
REFERENCE_DATE = dt.date(2026, 7, 1)
HOUSES_PER_SCALE = 50_000
BATCH_PEOPLE = 25_000

COMMUNITIES = list(STREETS[0].communities)
MERGED_GRID_COMMUNITIES = {2, 5}  # two communities have 3 grids (two cells merged): 8 × 4 − 2 = 30 grids
CN_NUM = "一二三四五六七八九十"

TAGS = [
    # code, name, English name, colour
    ("elderly_alone", "独居老人", "Elderly living alone", "#c0392b"),
    ("empty_nest", "空巢老人", "Empty-nest elderly", "#d35400"),
    ("disabled", "残疾人", "Person with disability", "#8e44ad"),
    ("low_income", "低保/低收入", "Low-income household", "#2c3e50"),
    ("veteran", "退役军人", "Veteran", "#27ae60"),
    ("left_behind_child", "留守儿童", "Left-behind child", "#2980b9"),
    ("key_care", "重点关爱对象", "Person needing close care", "#7f8c8d"),
]

ROADS = ["御窑路", "采莲路", "嘉元路", "相城大道", "元和路", "阳澄湖西路", "华元路", "聚元路", "广济北路", "澄阳路",
         "太阳路", "春申湖路", "齐门北大街", "玉成路", "朱泾路", "徐图港路", "华阳路", "富元路", "泰元路", "康元路"]
PREFIXES = ["元和", "御窑", "嘉元", "朱泾", "徐图", "采莲", "春申", "玉成", "华元", "泰元", "润元", "康元", "安元",
            "阳澄", "蠡口", "永昌", "富元", "灵峰", "广济", "天成", "金色", "水韵", "香城", "湖畔", "聚贤", "锦华",
            "秀岸", "海棠", "君悦", "紫金", "星光", "御湖", "琳桥", "漕湖", "聚金", "春晖", "清塘", "亲水", "华阳",
            "荷塘", "和园", "雅居", "怡景", "盛世", "福星", "万家", "望湖", "澄湖", "庆元", "馨苑"]
SUFFIXES = {
    "resettlement": ["新村", "家园", "花园", "佳苑", "苑", "新苑", "嘉园", "安居苑"],
    "commodity": ["华庭", "名邸", "雅苑", "公馆", "府", "花园", "湾", "里", "壹号", "天地", "尚城", "御府", "澜庭"],
    "old": ["新村", "一村", "二村", "三村", "小区"],
    "lowrise": ["别墅", "庄园", "洋房", "水岸", "山庄"],
    "apartment": ["公寓", "人才公寓", "青年公寓", "国际公寓", "服务式公寓"],
}
PHASES = ["", "二期", "三期", "四期", "五期", "六期", "七期", "八期", "九期", "十期"]
PROPERTY = ["东吴", "相城", "元和", "阳澄", "苏房", "中海", "万科", "绿城", "长城", "金螳螂", "华润", "保利"]
INDUSTRIES = ["软件和信息技术服务", "商务服务", "科技推广", "批发零售", "人力资源服务", "文化传媒", "建筑装饰",
              "金融服务", "电子商务", "检验检测", "教育培训", "物流", "医药", "设计咨询"]
BUSINESS = ["科技", "网络科技", "信息技术", "软件", "电子商务", "文化传媒", "企业管理咨询", "人力资源", "供应链管理",
            "建筑装饰工程", "检测技术", "教育科技", "医疗器械", "新材料", "智能装备", "物流", "设计", "贸易",
            "环保科技", "数据服务"]
TRADE_NAMES = [p for p in FakerCompanies.company_prefixes if "公司" not in p and len(p) <= 4]
ETHNIC = ["回族", "满族", "蒙古族", "壮族", "土家族", "苗族", "彝族", "朝鲜族", "布依族", "侗族"]
FORMER_REASONS = ["租期到期", "离开苏州", "购房搬离", "工作调动", "随子女居住"]

# Floating population's home provinces (or prefectures), in proportion.
HOME_REGIONS = [("34", 25), ("41", 14), ("3203", 5), ("3208", 4), ("3209", 3), ("3213", 4), ("51", 8), ("42", 6),
                ("52", 5), ("37", 5), ("36", 5), ("33", 3), ("43", 3), ("62", 2), ("50", 2), ("53", 2), ("23", 1),
                ("13", 1), ("14", 1), ("61", 1), ("45", 1)]


@dataclass
class Style:
    kind: str
    weight: float
    floors: list[int]
    units: tuple[int, int]
    rooms: list[int]
    buildings: tuple[int, int]
    area: tuple[int, int]
    built: tuple[int, int]
    rented: float
    vacant: float
    commercial: float
    registered: float  # share of owner households who are registered residents
    foreign: float  # share of rented households who are foreign or from HK/Macao/Taiwan


STYLES = {
    "resettlement": Style("residential", 0.42, [5, 6, 6, 6, 11, 11, 18], (2, 3), [2], (3, 11), (60, 125),
                          (2001, 2016), 0.25, 0.07, 0.03, 0.95, 0.002),
    "commodity": Style("residential", 0.30, [11, 17, 18, 26, 33], (1, 2), [2, 2, 3, 4], (2, 5), (85, 145),
                       (2008, 2022), 0.20, 0.12, 0.02, 0.78, 0.02),
    "old": Style("residential", 0.12, [5, 6], (2, 4), [2], (4, 12), (48, 85), (1988, 2002), 0.32, 0.07, 0.04,
                 0.95, 0.001),
    "lowrise": Style("residential", 0.06, [3, 4], (1, 2), [2], (8, 24), (140, 260), (2006, 2018), 0.10, 0.22, 0.0,
                     0.75, 0.02),
    "apartment": Style("apartment", 0.10, [8, 12, 16, 20], (1, 1), [10, 12, 16, 20], (1, 2), (28, 55),
                       (2012, 2023), 0.80, 0.10, 0.02, 0.40, 0.025),
}


@dataclass
class CompoundPlan:
    index: int
    style: str
    name: str
    grid: int  # index into the grid list
    built_year: int
    floors: int
    units: int
    rooms: int
    n_buildings: int
    id: int = 0
    cell: tuple[int, int] = (0, 0)
    box: tuple[float, float, float, float] = (0.1, 0.1, 0.9, 0.9)
    extra: dict = field(default_factory=dict)

    @property
    def houses(self) -> int:
        return self.n_buildings * self.floors * self.units * self.rooms


class DemoMismatch(Exception):
    """The demo street exists at another scale or seed, or a street of that name was not made by the demo."""


# --- planning -------------------------------------------------------------------------------------------


def _communities_and_grids(lattice: Lattice, spec: StreetSpec = STREETS[0]):
    communities, grids = [], []
    for k, name in enumerate(spec.communities):
        ci, cj = (k % 4) * 2, (k // 4) * 2
        communities.append({"name": name, "code": f"{spec.code}{k + 1:03d}", "polygon": lattice.block(ci, cj, ci + 2,
                                                                                                        cj + 2)})
        if k in MERGED_GRID_COMMUNITIES:
            blocks = [[(ci, cj), (ci + 1, cj)], [(ci, cj + 1)], [(ci + 1, cj + 1)]]
        else:
            blocks = [[(ci, cj)], [(ci + 1, cj)], [(ci, cj + 1)], [(ci + 1, cj + 1)]]
        for g, cells in enumerate(blocks):
            i0, j0 = cells[0]
            polygon = lattice.block(i0, j0, i0 + len(cells), j0 + 1)
            grids.append({"community": k, "name": f"{name[:-2]}{CN_NUM[g]}网格", "code": f"{k + 1:02d}{g + 1:02d}",
                          "cells": cells, "polygon": polygon})
    return communities, grids


def _unique_name(rng: random.Random, style: str, used: set[str]) -> str:
    for _attempt in range(40):
        name = rng.choice(PREFIXES) + rng.choice(SUFFIXES[style])
        if name not in used:
            used.add(name)
            return name
    base = rng.choice(PREFIXES) + rng.choice(SUFFIXES[style])
    for phase in PHASES[1:] + [f"{n}区" for n in range(2, 1000)]:
        if base + phase not in used:
            used.add(base + phase)
            return base + phase
    raise RuntimeError("no free compound name")


def plan(scale: float, seed: int, n_grids: int, tower: str = "活力大厦") -> list[CompoundPlan]:
    """The compounds of the street, until their houses reach 50,000 × scale (``tower``: its first office tower)."""
    rng = random.Random(f"plan:{seed}")
    target = HOUSES_PER_SCALE * scale
    used: set[str] = set()
    grid_weight = [rng.uniform(0.5, 1.5) for _ in range(n_grids)]
    towers = max(1, round(scale))
    plans: list[CompoundPlan] = []
    size = min(scale, 1.0)
    for t in range(towers):
        name = tower if t == 0 else _unique_name(rng, "commodity", used).rstrip("府湾里") + "商务大厦"
        used.add(name)
        floors = max(4, round(24 * size))
        plans.append(CompoundPlan(len(plans), "office", name, rng.choices(range(n_grids), grid_weight)[0],
                                  rng.randint(2012, 2019), floors, 1, 12, 1,
                                  extra={"enterprises": max(8, round(100 * size))}))
    total = sum(p.houses for p in plans)
    names, weights = list(STYLES), [s.weight for s in STYLES.values()]
    forced = ["apartment", "resettlement", "commodity"]  # even a tiny street has each kind of home
    while total < target:
        style_name = forced.pop(0) if forced else rng.choices(names, weights)[0]
        s = STYLES[style_name]
        p = CompoundPlan(len(plans), style_name, _unique_name(rng, style_name, used),
                         rng.choices(range(n_grids), grid_weight)[0], rng.randint(*s.built), rng.choice(s.floors),
                         rng.randint(*s.units), rng.choice(s.rooms), rng.randint(*s.buildings))
        plans.append(p)
        total += p.houses
    return plans


def _place_compounds(plans: list[CompoundPlan], grids: list[dict]) -> None:
    """Give each compound a box inside one cell of its grid, side by side with its neighbours."""
    by_cell: dict[tuple[int, int], list[CompoundPlan]] = {}
    for p in plans:
        cells = grids[p.grid]["cells"]
        cell = cells[p.index % len(cells)]
        by_cell.setdefault(cell, []).append(p)
    for cell, members in by_cell.items():
        k = math.ceil(math.sqrt(len(members)))
        rows = math.ceil(len(members) / k)
        for n, p in enumerate(members):
            a, b = n % k, n // k
            w, h = 0.8 / k, 0.8 / rows
            u0, v0 = 0.1 + a * w, 0.1 + b * h
            p.cell, p.box = cell, (u0 + 0.08 * w, v0 + 0.08 * h, u0 + 0.92 * w, v0 + 0.92 * h)


# --- people ----------------------------------------------------------------------------------------------

OWNER_HOUSEHOLDS = [("single_elderly", 7), ("elderly_couple", 10), ("single", 4), ("couple", 9), ("nuclear", 34),
                    ("three_gen", 29), ("skipped", 2), ("single_parent", 4), ("extended", 1)]
TENANT_HOUSEHOLDS = [("single", 26), ("couple", 20), ("nuclear", 32), ("shared", 22)]
APARTMENT_HOUSEHOLDS = [("single", 45), ("couple", 30), ("shared", 18), ("nuclear", 7)]


@dataclass
class Member:
    relation: str
    role: str
    sex: str
    age: float
    residency: str = "registered"
    tags: list[str] = field(default_factory=list)


def _other(sex: str) -> str:
    return "F" if sex == "M" else "M"


def _children(rng: random.Random, mother_age: float, n: int) -> list[Member]:
    kids = []
    for _ in range(n):
        age = mother_age - rng.uniform(22, 37)
        if age >= 0:
            kids.append(Member("child", "family", rng.choice("MF"), age))
    return kids


def household(rng: random.Random, use: str, style: str) -> list[Member]:
    """The people of one house: householder first."""
    if use == "owner":
        kind = rng.choices(*zip(*OWNER_HOUSEHOLDS, strict=True))[0]
        lead = "owner"
    else:
        table = APARTMENT_HOUSEHOLDS if style == "apartment" else TENANT_HOUSEHOLDS
        kind = rng.choices(*zip(*table, strict=True))[0]
        lead = "tenant"
    sex = "M" if rng.random() < 0.72 else "F"
    if kind == "single_elderly":
        m = Member("householder", lead, "F" if rng.random() < 0.62 else "M", rng.uniform(65, 96))
        if rng.random() < 0.85:
            m.tags.append("elderly_alone")
        return [m]
    if kind == "elderly_couple":
        age = rng.uniform(60, 88)
        members = [Member("householder", lead, "M", age), Member("spouse", "family", "F", age - rng.uniform(0, 5))]
        if rng.random() < 0.7:
            for m in members:
                if m.age >= 60:
                    m.tags.append("empty_nest")
        return members
    if kind in ("single", "shared"):
        young = lead == "tenant"
        age = rng.uniform(20, 38) if young else rng.uniform(24, 62)
        members = [Member("householder", lead, sex if not young else rng.choice("MMF"), age)]
        if kind == "shared":
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                members.append(Member("none", "tenant", members[0].sex if rng.random() < 0.8 else rng.choice("MF"),
                                      rng.uniform(19, 40)))
        return members
    if kind == "couple":
        age = rng.uniform(22, 40) if lead == "tenant" else rng.uniform(25, 62)
        return [Member("householder", lead, sex, age),
                Member("spouse", "owner" if lead == "owner" and rng.random() < 0.5 else "family", _other(sex),
                       age + rng.uniform(-5, 3))]
    if kind == "skipped":
        age = rng.uniform(56, 76)
        members = [Member("householder", lead, "M", age), Member("spouse", "family", "F", age - rng.uniform(0, 4))]
        for _ in range(rng.choice([1, 1, 2])):
            child = Member("grandchild", "family", rng.choice("MF"), rng.uniform(3, 15))
            if rng.random() < 0.8:
                child.tags.append("left_behind_child")
            members.append(child)
        return members
    if kind == "single_parent":
        age = rng.uniform(30, 55)
        members = [Member("householder", lead, "F" if rng.random() < 0.7 else "M", age)]
        return members + _children(rng, age, 1)
    if kind == "extended":
        age = rng.uniform(28, 60)
        return [Member("householder", lead, sex, age), Member("sibling", "family", rng.choice("MF"),
                                                              age + rng.uniform(-8, 8))]
    # nuclear and three generations
    age = rng.uniform(27, 45) if lead == "tenant" else rng.uniform(28, 58)
    spouse_age = age + rng.uniform(-5, 3)
    members = [Member("householder", lead, sex, age),
               Member("spouse", "owner" if lead == "owner" and rng.random() < 0.5 else "family", _other(sex),
                      spouse_age)]
    mother_age = spouse_age if sex == "M" else age
    n_kids = rng.choices([1, 2, 3], [60, 37, 3])[0]
    members += _children(rng, mother_age, n_kids) or _children(rng, mother_age + 20, 1)
    if kind == "three_gen":
        parent_age = min(age + rng.uniform(24, 34), 99)
        if rng.random() < 0.6:
            members.append(Member("parent", "family", "M", parent_age))
        members.append(Member("parent", "family", "F", parent_age - rng.uniform(0, 4)))
    return members


# --- the generator --------------------------------------------------------------------------------------


class _Ids:
    def __init__(self, loader: BulkLoader) -> None:
        self.next = {m: loader.next_id(m) for m in (Street, Community, Grid, Compound, Building, House, Person,
                                                    Residence, PersonTag, Enterprise)}

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class Generator:
    def __init__(self, scale: float, seed: int, using: str, spec: StreetSpec = STREETS[0]) -> None:
        self.scale, self.seed, self.using, self.spec = scale, seed + spec.seed_shift, using, spec
        # A second street: the resident IDs the other demo streets hold (blind indexes), never drawn again.
        self.other_streets_ids: set[str] = set() if spec is STREETS[0] else set(
            Person.objects.using(using).filter(id_type="resident_id").exclude(id_number_bidx="")
            .values_list("id_number_bidx", flat=True))
        self.loader = BulkLoader(using)
        self.ids = _Ids(self.loader)
        self.names = identity.NameMaker()
        self.codes = identity.region_codes()
        self.taken_ids: set[int] = set()
        self.taken_foreign: set[tuple[str, str]] = set()
        self.taken_credit: set[str] = set()
        self.houses_so_far = array("q")
        self.built_so_far = array("h")  # the built year of each house's compound
        self.buffers: dict[type, list[dict]] = {m: [] for m in (Building, House, Person, Residence, PersonTag,
                                                                Enterprise)}
        self.scratch = Person()
        self.scratch_enterprise = Enterprise()
        self.now = timezone.now()
        self.enterprise_names: set[str] = set()
        self.stats = {"floating": 0, "foreign": 0, "current_people": 0, "past_residence_people": 0}

    # places -------------------------------------------------------------------------------------------
    def create_places(self) -> list[CompoundPlan]:
        lattice = Lattice(8, 4, self.seed, offset=self.spec.offset)
        self.lattice = lattice
        communities, grids = _communities_and_grids(lattice, self.spec)
        street_poly = lattice.block(0, 0, 8, 4)
        lat, lng = lattice.centre(street_poly)
        self.street_id = self.ids.take(Street)
        base = {"created_at": self.now, "updated_at": self.now, "version": 1}
        self.loader.insert(Street, [dict(base, id=self.street_id, name=self.spec.name, code=self.spec.code, lat=lat,
                                         lng=lng,
                                         boundary=street_poly)])
        rows = []
        for c in communities:
            c["id"] = self.ids.take(Community)
            clat, clng = lattice.centre(c["polygon"])
            rows.append(dict(base, id=c["id"], street_id=self.street_id, name=c["name"], code=c["code"], lat=clat,
                             lng=clng, boundary=c["polygon"]))
        self.loader.insert(Community, rows)
        rows = []
        for g in grids:
            g["id"] = self.ids.take(Grid)
            g["community_id"] = communities[g["community"]]["id"]
            rows.append(dict(base, id=g["id"], community_id=g["community_id"], street_id=self.street_id,
                             name=g["name"], code=g["code"], boundary=g["polygon"]))
        self.loader.insert(Grid, rows)
        self.grids = grids
        plans = plan(self.scale, self.seed, len(grids), self.spec.tower)
        _place_compounds(plans, grids)
        rng = random.Random(f"compounds:{self.seed}")
        rows = []
        for p in plans:
            p.id = self.ids.take(Compound)
            g = grids[p.grid]
            i, j = p.cell
            lat, lng = lattice.point(i, j, (p.box[0] + p.box[2]) / 2, (p.box[1] + p.box[3]) / 2)
            kind = "office" if p.style == "office" else STYLES[p.style].kind
            rows.append(dict(base, id=p.id, grid_id=g["id"], community_id=g["community_id"],
                             street_id=self.street_id, name=p.name, name_pinyin=place_pinyin(p.name), kind=kind,
                             address=f"苏州市相城区{rng.choice(ROADS)}{rng.randint(1, 999)}号", lat=lat, lng=lng,
                             boundary=lattice.box(i, j, *p.box), built_year=p.built_year,
                             property_company=f"苏州{rng.choice(PROPERTY)}物业管理有限公司"))
        self.loader.insert(Compound, rows)
        with transaction.atomic(using=self.using):
            for code, name, name_en, color in TAGS:
                Tag.objects.using(self.using).get_or_create(code=code, defaults={
                    "name": name, "name_en": name_en, "color": color, "sensitive": True})
        self.tag_ids = dict(Tag.objects.using(self.using).filter(code__in=[t[0] for t in TAGS])
                            .values_list("code", "id"))
        return plans

    # one compound -------------------------------------------------------------------------------------
    def fill_compound(self, p: CompoundPlan) -> int:
        rng = random.Random(f"compound:{self.seed}:{p.index}")
        g = self.grids[p.grid]
        place = {"grid_id": g["id"], "community_id": g["community_id"], "street_id": self.street_id}
        base = {"created_at": self.now, "updated_at": self.now, "version": 1}
        i, j = p.cell
        u0, v0, u1, v1 = p.box
        k = math.ceil(math.sqrt(p.n_buildings))
        rows_b = math.ceil(p.n_buildings / k)
        office = p.style == "office"
        style = None if office else STYLES[p.style]
        houses = []
        for b in range(p.n_buildings):
            a, c = b % k, b // k
            lat, lng = self.lattice.point(i, j, u0 + (a + 0.5) * (u1 - u0) / k, v0 + (c + 0.5) * (v1 - v0) / rows_b)
            bid = self.ids.take(Building)
            self.buffers[Building].append(dict(base, id=bid, compound_id=p.id, number=str(b + 1), floors=p.floors,
                                               units=p.units, lat=lat, lng=lng, **place))
            for unit in range(1, p.units + 1):
                for floor in range(1, p.floors + 1):
                    for r in range(1, p.rooms + 1):
                        houses.append((bid, unit, floor, r))
        enterprise_rooms = set()
        if office:
            upper = [n for n, h in enumerate(houses) if h[2] >= 3] or list(range(len(houses)))
            enterprise_rooms = set(rng.sample(upper, min(len(upper), p.extra["enterprises"])))
        for n, (bid, unit, floor, r) in enumerate(houses):
            hid = self.ids.take(House)
            if office:
                use = "commercial"
                area = Decimal(rng.randrange(80, 400))
            else:
                area = Decimal(rng.randrange(style.area[0] * 10, style.area[1] * 10)) / 10
                if floor == 1 and rng.random() < style.commercial * 6:
                    use = "commercial"
                else:
                    roll = rng.random()
                    use = "rented" if roll < style.rented else "vacant" if roll < style.rented + style.vacant \
                        else "owner"
            room = f"{floor}{r:02d}"
            members = self.people_of(rng, p, hid, use, place, n in enterprise_rooms)
            self.buffers[House].append(dict(base, id=hid, building_id=bid, compound_id=p.id, unit=str(unit),
                                            floor=floor, room=room, area=area, use=use, resident_count=members,
                                            **place))
            if office and n in enterprise_rooms:
                self.enterprise(rng, p, bid, floor, room, place, base)
            self.houses_so_far.append(hid)
            self.built_so_far.append(p.built_year)
        return len(houses)

    def people_of(self, rng: random.Random, p: CompoundPlan, hid: int, use: str, place: dict, office: bool) -> int:
        """Add the current (and some former) residents of one house; return the number living there now."""
        style = STYLES.get(p.style)
        moved_in_current = None
        current = 0
        if use in ("owner", "rented"):
            members = household(rng, use, p.style)
            foreign = rng.random() < (style.foreign if use == "rented" else style.foreign / 10)
            if use == "owner":
                residency = "registered" if rng.random() < style.registered else "floating"
            else:
                residency = "floating" if rng.random() < 0.75 else "registered"
            moved_in_current = self.add_household(rng, p, hid, members, "foreign" if foreign else residency,
                                                  use, place, past=False)
            current = len(members)
        elif use == "commercial" and not office and rng.random() < 0.2:
            members = [Member("none", "employee", rng.choice("MF"), rng.uniform(20, 50))
                       for _ in range(rng.choice([1, 1, 2]))]
            moved_in_current = self.add_household(rng, p, hid, members, "floating", use, place, past=False)
            current = len(members)
        former_p = {"rented": 0.08, "vacant": 0.2, "owner": 0.015}.get(use, 0.0)
        if rng.random() < former_p:
            members = household(rng, "rented", p.style)[:2]
            self.add_household(rng, p, hid, members, "floating", "rented", place, past=True,
                               before=moved_in_current)
        return current

    def _birth(self, rng: random.Random, age: float) -> dt.date:
        return REFERENCE_DATE - dt.timedelta(days=int(age * 365.25) + rng.randrange(1, 365))

    def add_household(self, rng: random.Random, p: CompoundPlan, hid: int, members: list[Member], residency: str,
                      use: str, place: dict, *, past: bool, before: dt.date | None = None) -> dt.date:
        """Persons, residences and tags of one household. Returns the householder's moved-in date."""
        family_like: tuple[str, str, str] | None = None
        prefix = rng.choices(*zip(*HOME_REGIONS, strict=True))[0]
        home = ""
        ethnicity = "汉族" if rng.random() < 0.986 else rng.choice(ETHNIC)
        surname = self.names.surname(rng)
        low_income = not past and use == "owner" and rng.random() < (0.012 if p.style in ("resettlement", "old")
                                                                     else 0.003)
        # Dates: owners since the compound was built (or later), tenants for the last few years; a former
        # household left before the current one came, and never before the compound was built.
        built = dt.date(p.built_year, 6, 30)
        if past:
            moved_out = (before or REFERENCE_DATE) - dt.timedelta(days=rng.randrange(20, 400))
            if (moved_out - built).days < 150:
                return before or REFERENCE_DATE
            moved_in = max(moved_out - dt.timedelta(days=rng.randrange(120, 3 * 365)), built)
        elif use == "owner":
            span = max((REFERENCE_DATE - built).days, 30)
            moved_in = built + dt.timedelta(days=int(span * rng.random() ** 1.8))
            moved_out = None
        else:
            moved_in = max(REFERENCE_DATE - dt.timedelta(days=rng.randrange(20, 5 * 365)), built)
            moved_out = None
        lead_moved_in = moved_in
        for m in members:
            pid = self.ids.take(Person)
            birth = self._birth(rng, m.age)
            row = {"id": pid, "created_at": self.now, "updated_at": self.now, "version": 1, "sex": m.sex,
                   "birth_date": birth, "ethnicity": ethnicity, "nationality": "中国", "note": "", "work_unit": "",
                   "street_id": place["street_id"], "community_id": place["community_id"],
                   "grid_id": place["grid_id"], "is_current": not past}
            # The row's own seal id, the numbers sealed below bound to it (random, like the nonces).
            row["seal_id"] = self.scratch.seal_id = uuid.uuid4()
            own_residency = residency
            if residency == "registered" and m.relation == "parent" and rng.random() < 0.15:
                own_residency = "floating"  # grandparents who came from their home town to help
            if own_residency == "foreign":
                kind, number, nationality, latin = identity.foreign_identity(rng, self.taken_foreign, family_like)
                if family_like is None:
                    family_like = (kind, nationality, latin.split(" ")[0] if latin else "")
                name = latin or self.names.full(rng, m.sex, birth.year, surname if m.relation != "spouse" else None)
                row.update(name=name, id_type=kind, nationality=nationality, ethnicity="", hukou_address="")
                self.scratch.id_type = kind
                self.scratch.set_id_number(number)
                self.stats["foreign"] += not past
            else:
                if own_residency == "registered":
                    region = identity.local_region(birth.year) if rng.random() < 0.8 else \
                        self.codes.pick(rng, ["32", "34"], birth.year)
                    hukou = f"江苏省苏州市相城区{self.spec.name}{p.name}"
                else:
                    region = self.codes.pick(rng, [prefix, prefix[:2]], birth.year, prefer=home)
                    home = home or region
                    hukou = self.codes.place_name(region)
                given_surname = surname if m.relation in ("householder", "child", "grandchild", "sibling") \
                    or (m.relation == "parent" and m.sex == "M") else None
                if m.relation == "none":
                    given_surname = None
                name = self.names.full(rng, m.sex, birth.year, given_surname)
                number = identity.resident_id_number(rng, region, birth, m.sex, self.taken_ids)
                row.update(name=name, id_type="resident_id", hukou_address=hukou)
                self.scratch.id_type = "resident_id"
                self.scratch.set_id_number(number)
                while self.other_streets_ids and self.scratch.id_number_bidx in self.other_streets_ids:
                    number = identity.resident_id_number(rng, region, birth, m.sex, self.taken_ids)
                    self.scratch.set_id_number(number)  # the same person of another demo street: draw again
                self.stats["floating"] += own_residency == "floating" and not past
            row["residency_type"] = own_residency
            row["name_pinyin"], row["name_initials"] = name_pinyin(row["name"])
            row.update(id_number_enc=self.scratch.id_number_enc, id_number_bidx=self.scratch.id_number_bidx,
                       id_number_masked=self.scratch.id_number_masked)
            wants_phone = m.age >= 16 and rng.random() < (0.55 if m.age >= 80 else 0.95)
            self.scratch.set_phone(identity.mobile_number(rng) if wants_phone else "")
            row.update(phone_enc=self.scratch.phone_enc, phone_bidx=self.scratch.phone_bidx,
                       phone_masked=self.scratch.phone_masked)
            self.buffers[Person].append(row)
            # Residence: the member moved in with the household, or when born.
            m_in = max(moved_in, birth)
            if moved_out is not None and m_in > moved_out:
                m_in = moved_out
            self.buffers[Residence].append({
                "id": self.ids.take(Residence), "created_at": self.now, "updated_at": self.now, "version": 1,
                "person_id": pid, "house_id": hid, "role": m.role, "relation": m.relation, "moved_in": m_in,
                "moved_out": moved_out, "move_out_reason": rng.choice(FORMER_REASONS) if past else "",
                "source": "demo"})
            if past:
                self.stats["past_residence_people"] += 1
            else:
                self.stats["current_people"] += 1
                if m.age >= 20 and self.houses_so_far and rng.random() < 0.025:
                    self.earlier_home(rng, pid, m, m_in, birth)
            tags = list(m.tags)
            if not past:
                if rng.random() < (0.045 if m.age >= 60 else 0.012):
                    tags.append("disabled")
                if low_income:
                    tags.append("low_income")
                if m.sex == "M" and 30 <= m.age <= 85 and own_residency == "registered" and rng.random() < 0.08:
                    tags.append("veteran")
                if m.age >= 18 and rng.random() < 0.0025:
                    tags.append("key_care")
            for code in tags:
                self.buffers[PersonTag].append({
                    "id": self.ids.take(PersonTag), "person_id": pid, "tag_id": self.tag_ids[code],
                    "since": REFERENCE_DATE - dt.timedelta(days=rng.randrange(30, 8 * 365)), "note": ""})
        return lead_moved_in

    def earlier_home(self, rng: random.Random, pid: int, m: Member, moved_in: dt.date, birth: dt.date) -> None:
        """A residence elsewhere in the street, ended when the person moved to the current house."""
        k = rng.randrange(len(self.houses_so_far))
        house, built = self.houses_so_far[k], dt.date(self.built_so_far[k], 6, 30)
        out = moved_in - dt.timedelta(days=rng.randrange(0, 30))
        start = max(out - dt.timedelta(days=rng.randrange(200, 6 * 365)), birth + dt.timedelta(days=18 * 365), built)
        if start > out:
            return
        self.buffers[Residence].append({
            "id": self.ids.take(Residence), "created_at": self.now, "updated_at": self.now, "version": 1,
            "person_id": pid, "house_id": house, "role": "tenant" if m.role == "tenant" else "owner",
            "relation": m.relation if m.relation in ("householder", "spouse", "none") else "householder",
            "moved_in": start, "moved_out": out, "move_out_reason": "搬至本街道其他房屋", "source": "demo"})
        self.stats["past_residence_people"] += 1

    def enterprise_name(self, rng: random.Random) -> str:
        """苏州 + a trade name from Faker zh_CN + a line of business, unique in the street."""
        trade = rng.choice(TRADE_NAMES)
        name = f"{rng.choice(['苏州', '苏州', '江苏', '苏州相城'])}{trade}{rng.choice(BUSINESS)}有限公司"
        n = 1
        base = name
        while name in self.enterprise_names:
            n += 1
            name = f"{base}第{n}分公司"
        self.enterprise_names.add(name)
        return name

    def enterprise(self, rng: random.Random, p: CompoundPlan, bid: int, floor: int, room: str, place: dict,
                   base: dict) -> None:
        name = self.enterprise_name(rng)
        self.scratch_enterprise.seal_id = seal_id = uuid.uuid4()
        self.scratch_enterprise.set_contact_phone(identity.mobile_number(rng))
        sex = rng.choice("MF")
        self.buffers[Enterprise].append(dict(
            base, id=self.ids.take(Enterprise), seal_id=seal_id, name=name,
            credit_code=identity.credit_code(rng, self.spec.code[:6], self.taken_credit), compound_id=p.id,
            building_id=bid,
            floor=floor, room=room, industry=rng.choice(INDUSTRIES),
            contact_name=self.names.full(rng, sex, rng.randint(1970, 2000)),
            contact_phone_enc=self.scratch_enterprise.contact_phone_enc,
            contact_phone_bidx=self.scratch_enterprise.contact_phone_bidx,
            contact_phone_masked=self.scratch_enterprise.contact_phone_masked,
            staff_count=max(2, int(rng.lognormvariate(3.0, 1.0))), **place))

    def flush(self) -> None:
        with transaction.atomic(using=self.using):
            for model, rows in self.buffers.items():
                self.loader.insert(model, rows)
                rows.clear()
        self.loader.reset_sequences(list(self.buffers))


def wipe(using: str = "default", street_name: str = STREET_NAME) -> bool:
    """Delete the demo street and everything in it (and rows of other apps that point at them)."""
    DemoDataset.objects.using(using).filter(street_name=street_name).delete()
    street = Street.objects.using(using).filter(name=street_name).first()
    if street is None:
        return False
    sid = street.pk
    connection = connections[using]
    qn = connection.ops.quote_name
    ours = {Street, Community, Grid, Compound, Building, House, Person, Residence, PersonTag, Enterprise}
    with transaction.atomic(using=using):
        # Rows of other apps (visits, cases...) that point at the demo's places or people go first.
        for model in (Residence, Enterprise, Person, House, Building, Compound, Grid, Community, Street):
            for rel in model._meta.get_fields(include_hidden=True):
                if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
                    continue
                if rel.related_model in ours:
                    continue
                own = model._base_manager.using(using).filter(**({"pk": sid} if model is Street else
                                                                 {_street_lookup(model): sid}))
                rel.related_model._base_manager.using(using).filter(
                    **{f"{rel.field.name}__in": own.values("pk")}).delete()
        person = qn(Person._meta.db_table)
        house = qn(House._meta.db_table)
        statements = [
            f"DELETE FROM {qn(PersonTag._meta.db_table)} WHERE person_id IN (SELECT id FROM {person} "
            f"WHERE street_id = %s)",
            f"DELETE FROM {qn(Residence._meta.db_table)} WHERE house_id IN (SELECT id FROM {house} "
            f"WHERE street_id = %s) OR person_id IN (SELECT id FROM {person} WHERE street_id = %s)",
        ]
        for model in (Person, Enterprise, House, Building, Compound, Grid, Community):
            statements.append(f"DELETE FROM {qn(model._meta.db_table)} WHERE street_id = %s")
        statements.append(f"DELETE FROM {qn(Street._meta.db_table)} WHERE id = %s")
        with connection.cursor() as cur:
            for sql in statements:
                cur.execute(sql, [sid] * sql.count("%s"))
    return True


def _street_lookup(model) -> str:
    return "street_id" if model is not Residence else "house__street_id"


def generate(scale: float = 1.0, seed: int = 2024, *, progress: bool = True, using: str = "default",
             reset: bool = False, out=None, street: int = 0) -> dict:
    """Generate and load the demo street (``street``: which of STREETS); return what was done, the counts and the
    time taken.

    ``status`` is "exists" when the street is already there at this scale and seed (nothing is done),
    "created" otherwise. Raises ``DemoMismatch`` when it exists at another scale or seed and ``reset`` is
    false, or when a street of that name exists that the demo did not make.
    """
    started = time.monotonic()
    spec = STREETS[street]
    existing = DemoDataset.objects.using(using).filter(street_name=spec.name).first()
    if existing and not reset:
        if existing.complete and math.isclose(existing.scale, scale) and existing.seed == seed:
            return {"status": "exists", "scale": scale, "seed": seed, "counts": existing.counts,
                    "seconds": round(time.monotonic() - started, 2), "street_id": existing.street_id}
        if existing.complete:
            raise DemoMismatch(f"demo street exists at scale {existing.scale:g}, seed {existing.seed}")
    elif not existing and not reset and Street.objects.using(using).filter(name=spec.name).exists():
        raise DemoMismatch(f"a street named {spec.name} exists that the demo did not generate")
    wipe(using, spec.name)  # also clears an unfinished earlier run
    gen = Generator(scale, seed, using, spec)
    with transaction.atomic(using=using):
        plans = gen.create_places()
        dataset = DemoDataset.objects.using(using).create(street_name=spec.name, street_id=gen.street_id,
                                                          scale=scale, seed=seed)
    gen.loader.reset_sequences([Street, Community, Grid, Compound])
    total = sum(p.houses for p in plans)
    bar = tqdm(total=total, unit="户", desc="生成演示街道", disable=not progress, file=out, mininterval=0.5)
    for p in plans:
        bar.update(gen.fill_compound(p))
        if len(gen.buffers[Person]) >= BATCH_PEOPLE or len(gen.buffers[House]) >= BATCH_PEOPLE:
            gen.flush()
    gen.flush()
    bar.close()
    counts = {
        "communities": len(spec.communities), "grids": len(gen.grids), "compounds": len(plans),
        "buildings": gen.loader.counts.get("places.Building", 0), "houses": gen.loader.counts.get("places.House", 0),
        "people": gen.loader.counts.get("people.Person", 0), "current_people": gen.stats["current_people"],
        "residences": gen.loader.counts.get("people.Residence", 0),
        "enterprises": gen.loader.counts.get("people.Enterprise", 0),
        "person_tags": gen.loader.counts.get("people.PersonTag", 0),
        "floating": gen.stats["floating"], "foreign": gen.stats["foreign"],
        "past_residence_people": gen.stats["past_residence_people"],
    }
    # Planner statistics after a bulk load: without them both databases read every person through the street
    # index and a search takes seconds (autovacuum may be off, and SQLite has no statistics until ANALYZE).
    with connections[using].cursor() as cur:
        cur.execute("ANALYZE")
    seconds = round(time.monotonic() - started, 2)
    DemoDataset.objects.using(using).filter(pk=dataset.pk).update(complete=True, counts=counts, seconds=seconds)
    return {"status": "created", "scale": scale, "seed": seed, "counts": counts, "seconds": seconds,
            "street_id": gen.street_id}
