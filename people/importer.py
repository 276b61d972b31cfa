"""Import the people-and-houses sheets communities keep: one row per person with the address columns.

``plan_import(source, user)`` reads the file, validates every row through the same path as the forms
(``people.services.clean_person_data`` → ``core.validators``), looks the natural keys up in the database and
returns a ``Plan``: houses and people to create / update / leave unchanged, and every bad row (row number,
column, reason in Chinese). Nothing is written.

``commit_import(source, user)`` plans again, then in one transaction writes the plan in bulk (the rows a
form would write, with the same encrypted numbers, denormalised place keys and resident counts), checks that
everything it wrote is inside the user's scope, and records one audit event (counts and the file's SHA-256,
never personal values). Any error rolls everything back: an import is all or nothing. Re-importing the same
file changes nothing.

Natural keys: a house is (compound name, building number, unit, room); a person is their document number
(by its blind index). The compound must exist and lie where the user holds ``people.import_person``; missing
buildings and houses of such a compound are created. A person already living in another house of the
user's scope moves (the old residence ends today, it is never deleted); one registered outside the user's
scope is refused. Tags in the sheet are added, never removed (removing a vulnerable-group tag is a
deliberate act in the person's page).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, crypto
from core.importexport import Column, SheetError, Table, cell_text, looks_like_formula, read_table
from core.querysets import scope_q
from core.scope import PlaceSet, scope_for
from core.validators import mask_id, mask_phone
from people.choices import IdType, Relation, ResidenceRole, ResidencyType
from people.models import Person, PersonTag, Residence, Tag
from people.pinyin import name_pinyin
from people.services import PersonData, clean_person_data
from places.choices import HouseUse
from places.models import Building, Compound, House

__all__ = ["COLUMNS", "ImportError_", "Plan", "RowError", "commit_import", "fast_insert", "normalise_building",
           "write_error_sheet",
           "normalise_room", "normalise_unit", "plan_import"]

COLUMNS: list[Column] = [
    Column("compound", "小区", ("小区名称", "小区名", "所在小区", "楼盘", "楼盘名称", "小区/楼宇", "楼宇", "小区楼宇",
                               "公寓", "住宅小区"), required=True),
    Column("building", "楼栋", ("楼栋号", "幢", "幢号", "栋", "栋号", "楼号", "楼幢", "楼幢号", "楼栋/幢", "号楼",
                               "楼", "楼栋幢号"), required=True),
    Column("unit", "单元", ("单元号", "单元名称")),
    Column("room", "房号", ("室", "室号", "房间号", "房间", "门牌号", "房屋号", "户号", "房号/室"), required=True),
    Column("floor", "楼层", ("层", "所在楼层")),
    Column("name", "姓名", ("名字", "居民姓名", "人员姓名", "户主姓名/成员姓名"), required=True),
    Column("id_type", "证件类型", ("证件种类",)),
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "公民身份证号码", "证件号码", "证件号", "身份证",
                                  "身份证件号码"), required=True),
    Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码", "联系电话/手机")),
    Column("relation", "与户主关系", ("关系", "户主关系", "与户主的关系", "家庭关系")),
    Column("role", "居住身份", ("人员身份", "居住类型", "产权人/租户")),
    Column("residency_type", "人口类型", ("人员类型", "人口类别", "人员类别", "户籍类型", "户籍类别", "居住性质")),
    Column("sex", "性别"),
    Column("ethnicity", "民族"),
    Column("nationality", "国籍", ("国籍/地区",)),
    Column("hukou_address", "户籍地址", ("户籍地", "户口所在地", "户籍所在地", "户籍地详址")),
    Column("work_unit", "工作单位", ("单位", "工作单位/学校", "就业单位", "工作单位或学校")),
    Column("note", "备注", ("说明",)),
    Column("tags", "标签", ("人群类别", "特殊人群", "人群标签", "重点人群", "人员标签")),
    Column("use", "房屋用途", ("用途", "房屋类型", "房屋性质", "房屋状态")),
    Column("area", "面积", ("建筑面积", "房屋面积", "面积m2", "面积㎡", "面积平方米")),
    Column("moved_in", "入住日期", ("入住时间", "居住起始日期", "迁入日期", "迁入时间")),
]
LABELS = {c.key: c.label for c in COLUMNS}
_BLANK_TEXTS = dict.fromkeys(LABELS, "")
BATCH = 2000
LOOKUP_BATCH = 900  # under SQLite's 999 bound parameters of older builds

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}


def _cn_number(text: str) -> str:
    """"三" → "3", "十二" → "12", "二十" → "20"; anything else unchanged."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return text
    if "十" in text:
        head, _sep, tail = text.partition("十")
        tens = _CN_DIGITS.get(head, 1) if head else 1
        ones = _CN_DIGITS.get(tail, 0) if tail else 0
        return str(tens * 10 + ones)
    return "".join(str(_CN_DIGITS[ch]) for ch in text)


def _nfkc(value: Any) -> str:
    """Half-width, no whitespace anywhere ("３ 幢" → "3幢")."""
    s = cell_text(value)
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    return "".join(s.split())


@lru_cache(maxsize=4096)
def _key_case(text: str) -> str:
    return _nfkc(text)


@lru_cache(maxsize=4096)
def _key(text: str) -> str:
    """A choice cell as a lookup key ("流动 人口" → "流动人口", "Owner" → "owner"); cells repeat, so cached."""
    return _nfkc(text).lower()


def _strip_zeros(text: str) -> str:
    return str(int(text)) if text.isdigit() else text


_BUILDING_RE = re.compile(r"^第?(.+?)(?:号楼|#楼|号幢|号栋|幢|栋|号|#|座|楼)?$")
_UNIT_RE = re.compile(r"^第?(.+?)(?:单元|单|#)?$")
_ROOM_RE = re.compile(r"^(.+?)(?:室|号|房)?$")
_TAG_SPLIT = re.compile(r"[,，、;；/\s]+")
_ROOM_WITH_UNIT = re.compile(r"^(?:(\w+?)(?:单元|-))(\w+?)(?:室|号)?$")


@lru_cache(maxsize=8192)
def normalise_building(value: Any) -> str:
    """"3幢" = "3栋" = "3号楼" = "3#" = "第三栋" = "３" → "3"."""
    s = _nfkc(value)
    m = _BUILDING_RE.match(s)
    if m:
        s = m.group(1)
    return _strip_zeros(_cn_number(s)).upper()


@lru_cache(maxsize=8192)
def normalise_unit(value: Any) -> str:
    """"一单元" = "1单元" = "01" = "1" → "1"."""
    s = _nfkc(value)
    m = _UNIT_RE.match(s)
    if m:
        s = m.group(1)
    return _strip_zeros(_cn_number(s)).upper()


@lru_cache(maxsize=8192)
def normalise_room(value: Any) -> tuple[str, str]:
    """"301室" = "301" = "０３０１" → ("", "301"); "2单元301室" and "2-301" → ("2", "301")."""
    s = _nfkc(value)
    unit = ""
    m = _ROOM_WITH_UNIT.match(s)
    if m:
        unit, s = normalise_unit(m.group(1)), m.group(2)
    m = _ROOM_RE.match(s)
    if m:
        s = m.group(1)
    return unit, _strip_zeros(s).upper()


def floor_of(room: str) -> int:
    """The floor a room number implies: 301 → 3, 1203 → 12, 12 → 1, "B101" → -1."""
    digits = re.sub(r"\D", "", room)
    if room[:1] in {"B", "-"} and len(digits) >= 3:
        return -int(digits[:-2])
    if len(digits) >= 3:
        return int(digits[:-2]) or 1
    return 1


def _choice_map(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {syn: code for code, syns in pairs.items() for syn in syns}


RELATIONS = _choice_map({
    Relation.HOUSEHOLDER: ("户主", "本人", "户主本人", "householder"),
    Relation.SPOUSE: ("配偶", "妻", "妻子", "夫", "丈夫", "老婆", "老公", "spouse"),
    Relation.CHILD: ("子女", "子", "女", "儿子", "女儿", "长子", "次子", "三子", "长女", "次女", "三女", "独子",
                     "独女", "养子", "养女", "继子", "继女", "child"),
    Relation.PARENT: ("父母", "父亲", "母亲", "父", "母", "岳父", "岳母", "公公", "婆婆", "parent"),
    Relation.GRANDCHILD: ("孙子女", "孙子", "孙女", "外孙", "外孙女", "外孙子", "grandchild"),
    Relation.GRANDPARENT: ("祖父母", "祖父", "祖母", "爷爷", "奶奶", "外祖父", "外祖母", "外公", "外婆",
                           "grandparent"),
    Relation.SIBLING: ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹", "sibling"),
    Relation.CHILD_IN_LAW: ("儿媳/女婿", "儿媳", "女婿", "媳妇", "儿媳妇", "child_in_law"),
    Relation.OTHER_RELATIVE: ("其他亲属", "亲属", "侄子", "侄女", "外甥", "外甥女", "relative"),
    Relation.NON_RELATIVE: ("非亲属", "租户", "租客", "同事", "朋友", "保姆", "其他", "none"),
})
ROLES = _choice_map({
    ResidenceRole.OWNER: ("产权人", "业主", "房东", "房主", "owner"),
    ResidenceRole.TENANT: ("租户", "租客", "承租人", "tenant"),
    ResidenceRole.FAMILY: ("家庭成员", "家属", "family"),
    ResidenceRole.EMPLOYEE: ("员工", "职工", "employee"),
    ResidenceRole.OTHER: ("其他", "other"),
})
RESIDENCY = _choice_map({
    ResidencyType.REGISTERED: ("户籍人口", "户籍", "本地户籍", "常住人口", "常住", "registered"),
    ResidencyType.FLOATING: ("流动人口", "流动", "外来人口", "外来", "暂住", "floating"),
    ResidencyType.FOREIGN: ("境外人员", "境外", "外籍", "外籍人员", "foreign"),
    ResidencyType.OTHER: ("其他", "other"),
})
HOUSE_USES = _choice_map({
    HouseUse.OWNER: ("自住", "自用", "owner"),
    HouseUse.RENTED: ("出租", "租住", "rented"),
    HouseUse.VACANT: ("空置", "闲置", "空关", "vacant"),
    HouseUse.COMMERCIAL: ("商用", "商铺", "经营", "办公", "commercial"),
    HouseUse.OTHER: ("其他", "other"),
})
ID_TYPES = _choice_map({
    IdType.RESIDENT_ID: ("居民身份证", "身份证", "身份证号", "resident_id"),
    IdType.PASSPORT: ("护照", "passport"),
    IdType.HK_MACAU: ("港澳居民来往内地通行证", "港澳通行证", "回乡证", "hk_macau"),
    IdType.TAIWAN: ("台湾居民来往大陆通行证", "台湾通行证", "台胞证", "taiwan"),
    IdType.OTHER: ("其他证件", "其他", "other"),
})
SEXES = {"男": "M", "女": "F", "m": "M", "f": "F", "男性": "M", "女性": "F"}


@dataclass
class RowError:
    row: int
    column: str
    reason: str
    level: str = "error"  # "error" blocks the import; "warning" is listed and accepted

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "reason": self.reason, "level": self.level}


class ImportError_(Exception):  # noqa: N801 - "ImportError" is a builtin
    """The import cannot run (file unreadable, a required column missing, bad rows at commit time)."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass
class Row:
    number: int
    house_key: tuple[int, str, str, str]  # (compound id, building number, unit, room)
    floor: int
    use: str
    area: Decimal | None
    data: PersonData
    bidx: str
    phone_bidx: str
    relation: str
    role: str
    moved_in: dt.date | None
    tags: list[int]
    person_id: int | None = None
    house_id: int | None = None
    pre: tuple | None = None  # (pinyin, initials, sealed id, masked id, sealed phone, masked phone) when precomputed


@dataclass
class Plan:
    file_name: str = ""
    sha256: str = ""
    format: str = ""
    header_row: int = 0
    total_rows: int = 0
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # work for the commit
    new_buildings: dict[tuple[int, str], dict] = field(default_factory=dict)
    raise_floors: dict[int, int] = field(default_factory=dict)
    new_houses: dict[tuple[int, str, str, str], dict] = field(default_factory=dict)
    house_updates: dict[int, dict] = field(default_factory=dict)
    new_people: list[Row] = field(default_factory=list)
    person_updates: dict[int, dict] = field(default_factory=dict)
    close_residences: list[int] = field(default_factory=list)
    new_residences: list[Row] = field(default_factory=list)
    residence_updates: dict[int, dict] = field(default_factory=dict)
    new_tags: set[tuple[int, int]] = field(default_factory=set)
    compound_ids: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        return {"rows": len(self.rows), "errors": len(self.errors), "warnings": len(self.warnings), **self.counts}


def _source_bytes(source: str | Path | bytes | IO[bytes]) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    if hasattr(source, "seek"):
        source.seek(0)
    return source.read()


def import_places(user) -> PlaceSet | None:
    """Where the user may import people (``people.import_person``); None for the system itself."""
    if user is None:
        return None
    places = scope_for(user).places_for("people.import_person")
    if places is None:
        raise PermissionDenied(_("您没有导入人员的权限"))
    return places


def _in_places(places: PlaceSet | None, grid_id, community_id, street_id) -> bool:
    if places is None:
        return True
    return grid_id in places.grids or community_id in places.communities or street_id in places.streets


@lru_cache(maxsize=4096)
def _area(text: str) -> Decimal:
    area = Decimal(_key(text).removesuffix("㎡").removesuffix("m2")).quantize(Decimal("0.01"))
    if not Decimal("1") <= area <= Decimal("99999"):
        raise InvalidOperation
    return area


@lru_cache(maxsize=8192)
def _parse_date_text(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    s = _nfkc(text).replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    y, m, d = (int(p) for p in s.split("-"))
    return dt.date(y, m, d)


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float):  # an Excel serial date that reached us as a number
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    return _parse_date_text(cell_text(value))


class _Planner:
    def __init__(self, table: Table, user, *, today: dt.date, progress: Callable[[int, int, str], None] | None,
                 precompute: bool = False, workers: int | None = None):
        self.table = table
        self.column_items = list(table.columns.items())
        self.precompute = precompute
        self.workers = workers if workers is not None else DEFAULT_WORKERS
        self.user = user
        self.today = today
        self.progress = progress
        self.plan = Plan(format=table.format, header_row=table.header_row, total_rows=table.total_rows,
                         unknown_columns=table.unknown)
        self.places = import_places(user)
        self.change_places = (scope_for(user).places_for("people.change_person") if user is not None else None)
        compounds = Compound.objects.all()
        if self.places is not None:
            compounds = compounds.filter(scope_q(Compound, self.places))
        self.compounds: dict[str, int] = {}
        for cid, name in compounds.values_list("id", "name"):
            key = _nfkc(name)
            self.compounds[key] = cid
            self.compounds.setdefault(key.removesuffix("小区"), cid)
        self.tags = {}
        for tid, code, name in Tag.objects.values_list("id", "code", "name"):
            self.tags[_nfkc(name)] = tid
            self.tags[code.lower()] = tid

    def err(self, row: int, key: str, reason: str, level: str = "error") -> None:
        target = self.plan.errors if level == "error" else self.plan.warnings
        target.append(RowError(row, LABELS.get(key, key), reason, level))

    def compound_id(self, name: str) -> int | None:
        return self.compounds.get(name) or self.compounds.get(name.removesuffix("小区")) \
            or self.compounds.get(name + "小区")

    # --- one row ------------------------------------------------------------------------------------------------
    def parse_row(self, number: int, cells: list[Any]) -> Row | None:  # noqa: C901 - one check per column
        bad = False

        width = len(cells)
        raw: dict[str, Any] = {}
        texts = dict(_BLANK_TEXTS)  # every column's key, "" when the sheet lacks it
        text = texts.__getitem__
        for key, i in self.column_items:
            value = cells[i] if i < width else None
            raw[key] = value
            if isinstance(value, str):
                stripped = value.strip()
                texts[key] = stripped
                if value[:1] == "=" and looks_like_formula(stripped):
                    self.err(number, key, _("单元格内容是公式（%(f)s…），请改为实际的值") % {"f": stripped[:12]})
                    bad = True
            else:
                texts[key] = cell_text(value)
        if bad:
            return None
        compound = _key_case(text("compound"))
        cid = self.compound_id(compound) if compound else None
        if not compound:
            self.err(number, "compound", _("小区不能为空"))
            bad = True
        elif cid is None:
            self.err(number, "compound", _("小区“%(c)s”不存在，或不在您的导入权限范围内") % {"c": compound[:40]})
            bad = True
        building = normalise_building(text("building"))
        if not building:
            self.err(number, "building", _("楼栋不能为空"))
            bad = True
        elif len(building) > 16:
            self.err(number, "building", _("楼栋号太长（最多16个字符）"))
            bad = True
        room_unit, room = normalise_room(text("room"))
        unit = normalise_unit(text("unit")) or room_unit or "1"
        if not room:
            self.err(number, "room", _("房号不能为空"))
            bad = True
        elif len(room) > 16 or len(unit) > 8:
            self.err(number, "room", _("房号或单元号太长"))
            bad = True
        floor = None
        floor_text = text("floor")
        if floor_text:
            try:
                floor = int(_cn_number(_nfkc(floor_text).removesuffix("层").removesuffix("楼")))
            except ValueError:
                self.err(number, "floor", _("楼层应为整数"))
                bad = True
        if floor is None and room:
            floor = floor_of(room)
        use = ""
        use_text = text("use")
        if use_text:
            use = HOUSE_USES.get(_key(use_text), "")
            if not use:
                self.err(number, "use", _("房屋用途应为 自住、出租、空置、商用 或 其他"))
                bad = True
        area = None
        area_text = text("area")
        if area_text:
            try:
                area = _area(area_text)
            except (InvalidOperation, ValueError):
                self.err(number, "area", _("面积应为1到99999之间的数字（平方米）"))
                bad = True
                area = None
        # --- the person, through the one validation path -----------------------------------------------------
        id_raw = raw.get("id_number")
        if isinstance(id_raw, (int, float)) and not isinstance(id_raw, bool) and abs(id_raw) >= 1e14:
            self.err(number, "id_number", _("身份证号在Excel中被存成了数字，末几位已经丢失；请把该列设为“文本”格式后"
                                            "重新填写"))
            return None
        id_type = IdType.RESIDENT_ID
        if text("id_type"):
            id_type = ID_TYPES.get(_key(text("id_type")), "")
            if not id_type:
                self.err(number, "id_type", _("证件类型应为 居民身份证、护照、港澳通行证、台湾通行证 或 其他"))
                return None
        residency = ""
        residency_text = text("residency_type")
        if residency_text:
            residency = RESIDENCY.get(_key(residency_text), "")
            if not residency:
                self.err(number, "residency_type", _("人口类型应为 户籍人口、流动人口、境外人员 或 其他"))
                bad = True
        data = PersonData(
            name=text("name"), id_type=id_type, id_number=text("id_number"),
            phone=text("phone"), residency_type=residency or ResidencyType.REGISTERED,
            nationality=text("nationality")[:32], ethnicity=text("ethnicity")[:16],
            hukou_address=text("hukou_address")[:200], work_unit=text("work_unit")[:100], note=text("note"),
        )
        if not data.id_number:
            self.err(number, "id_number", _("证件号码不能为空（导入按证件号码识别人员）"))
            bad = True
        else:
            try:
                clean_person_data(data, accept_warnings=True)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    for message in messages:
                        self.err(number, key, message)
                bad = True
        for message in data.warnings:
            self.err(number, "id_number", message, level="warning")
        sex_text = text("sex").lower()
        if sex_text and data.sex and SEXES.get(sex_text) not in (None, data.sex):
            self.err(number, "sex", _("性别与身份证号不一致，以身份证号为准"), level="warning")
        elif sex_text and not data.sex:
            data.sex = SEXES.get(sex_text, "")
        relation = ""
        relation_text = text("relation")
        if relation_text:
            relation = RELATIONS.get(_key(relation_text), "")
            if not relation:
                self.err(number, "relation", _("与户主关系“%(r)s”无法识别，可填 户主、配偶、子女、父母、孙子女、"
                                               "祖父母、兄弟姐妹、儿媳/女婿、其他亲属、非亲属")
                         % {"r": relation_text[:10]})
                bad = True
        role = ""
        role_text = text("role")
        if role_text:
            role = ROLES.get(_key(role_text), "")
            if not role:
                self.err(number, "role", _("居住身份应为 产权人、租户、家庭成员、员工 或 其他"))
                bad = True
        if not role:
            role = (ResidenceRole.TENANT if use == HouseUse.RENTED else
                    ResidenceRole.OWNER if relation == Relation.HOUSEHOLDER else ResidenceRole.FAMILY)
        moved_in = None
        if text("moved_in") or raw.get("moved_in") not in (None, ""):
            try:
                moved_in = _parse_date(raw.get("moved_in"))
                if moved_in > self.today:
                    self.err(number, "moved_in", _("入住日期不能晚于今天"))
                    bad = True
            except (ValueError, TypeError, OverflowError):
                self.err(number, "moved_in", _("入住日期格式应为 2020-01-31"))
                bad = True
        tags: list[int] = []
        tags_text = text("tags")
        if tags_text:
            for part in _TAG_SPLIT.split(_nfkc_keep_space(tags_text)):
                if not part:
                    continue
                tid = self.tags.get(part) or self.tags.get(part.lower())
                if tid is None:
                    self.err(number, "tags", _("人群标签“%(t)s”不存在") % {"t": part[:16]})
                    bad = True
                else:
                    tags.append(tid)
        if bad:
            return None
        return Row(number=number, house_key=(cid, building, unit, room), floor=floor, use=use, area=area, data=data,
                   bidx=Person.id_index(data.id_type, data.id_number),
                   phone_bidx=Person.phone_index(data.phone) if data.phone else "",
                   relation=relation, role=role, moved_in=moved_in, tags=tags)

    # --- the whole file -----------------------------------------------------------------------------------------
    def precompute_row(self, row: Row) -> None:
        """What the write needs beyond validation (pinyin, sealed numbers), done where the row is parsed."""
        d = row.data
        full, initials = name_pinyin(d.name)
        row.pre = (full, initials, crypto.encrypt(d.id_number), mask_id(d.id_number),
                   crypto.encrypt(d.phone) if d.phone else "", mask_phone(d.phone) if d.phone else "")

    def parse_all(self) -> list[Row]:
        """Every data row parsed and validated, in file order; in worker processes for a big file."""
        t = self.table
        total = t.total_rows
        # Fork only from a single-threaded process (the command, the task worker): a thread holding a lock at
        # fork time would leave it locked in the child.
        if self.workers > 1 and total >= PARALLEL_MIN_ROWS and threading.active_count() == 1:
            return self._parse_parallel(list(t.rows))
        out = []
        for i, (number, cells) in enumerate(t.rows):
            if self.progress and i % 5000 == 0:
                self.progress(i, total, "validate")
            row = self.parse_row(number, cells)
            if row is not None:
                if self.precompute:
                    self.precompute_row(row)
                out.append(row)
        return out

    def _parse_parallel(self, rows: list[tuple[int, list[Any]]]) -> list[Row]:
        """Fork workers that inherit the rows and this planner (no database access happens in parse_row) and
        parse slices of the file; the rows come back in order with their errors."""
        import multiprocessing

        crypto.get_keyring()  # loaded once, inherited by the workers
        _FORK.update(planner=self, rows=rows)
        step = max(1000, min(PARALLEL_CHUNK, len(rows) // (self.workers * 4) or 1))
        bounds = [(i, min(i + step, len(rows))) for i in range(0, len(rows), step)]
        out: list[Row] = []
        try:
            with multiprocessing.get_context("fork").Pool(self.workers) as pool:
                for parsed, errors, warnings in pool.imap(_parse_slice, bounds):
                    out.extend(parsed)
                    self.plan.errors.extend(errors)
                    self.plan.warnings.extend(warnings)
                    if self.progress:
                        self.progress(min(len(out) + len(errors), len(rows)), len(rows), "validate")
        finally:
            _FORK.clear()
        return out

    def run(self) -> Plan:
        plan = self.plan
        t = self.table
        if t.missing:
            names = "、".join(f"“{c.label}”" for c in t.missing)
            raise ImportError_(_("表头缺少必需的列：%(cols)s（表头在第%(row)d行；可用的列名见导入模板）")
                               % {"cols": names, "row": t.header_row})
        seen: dict[str, tuple[int, tuple]] = {}
        total = t.total_rows
        for row in self.parse_all():
            number = row.number
            signature = (row.house_key, row.data.name, row.phone_bidx, row.relation, row.role, row.data.residency_type)
            first = seen.get(row.bidx)
            if first is not None:
                if first[1] == signature:
                    self.err(number, "id_number", _("与第%(n)d行完全相同，已忽略") % {"n": first[0]}, level="warning")
                else:
                    self.err(number, "id_number", _("证件号码与第%(n)d行重复") % {"n": first[0]})
                continue
            seen[row.bidx] = (number, signature)
            plan.rows.append(row)
        if self.progress:
            self.progress(total, total, "validate")
        self.resolve()
        plan.errors.sort(key=lambda e: e.row)
        plan.warnings.sort(key=lambda e: e.row)
        return plan

    def resolve(self) -> None:  # noqa: C901 - the decisions of the plan, in order
        plan = self.plan
        rows = plan.rows
        compound_ids = {r.house_key[0] for r in rows}
        plan.compound_ids = compound_ids
        # Buildings and houses of the compounds in the file, by natural key.
        buildings = {(c, n): (bid, floors) for bid, c, n, floors in
                     Building.objects.filter(compound_id__in=compound_ids)
                     .values_list("id", "compound_id", "number", "floors")}
        houses: dict[tuple[int, str, str, str], tuple[int, str, Decimal | None]] = {}
        by_building = {bid: key for key, (bid, _f) in buildings.items()}
        wanted_buildings = {(r.house_key[0], r.house_key[1]) for r in rows}
        ids = [buildings[k][0] for k in wanted_buildings if k in buildings]
        for chunk in _chunks(ids, LOOKUP_BATCH):
            for hid, bid, unit, room, use, area in House.objects.filter(building_id__in=chunk).values_list(
                    "id", "building_id", "unit", "room", "use", "area"):
                c, n = by_building[bid]
                houses[(c, n, unit, room)] = (hid, use, area)
        # People by blind index.
        people: dict[str, dict] = {}
        for chunk in _chunks(sorted({r.bidx for r in rows}), LOOKUP_BATCH):
            for p in Person.objects.filter(id_number_bidx__in=chunk).values(
                    "id", "id_type", "id_number_bidx", "name", "phone_bidx", "residency_type", "nationality",
                    "ethnicity", "hukou_address", "work_unit", "note", "grid_id", "community_id", "street_id",
                    "version"):
                people[p["id_number_bidx"] + p["id_type"]] = p
        person_ids = [p["id"] for p in people.values()]
        open_res: dict[int, list[tuple[int, int, str, str]]] = {}
        for chunk in _chunks(person_ids, LOOKUP_BATCH):
            for rid, pid, hid, rel, role in Residence.objects.filter(person_id__in=chunk, moved_out__isnull=True) \
                    .values_list("id", "person_id", "house_id", "relation", "role"):
                open_res.setdefault(pid, []).append((rid, hid, rel, role))
        existing_house_ids = [v[0] for v in houses.values()]
        householders: dict[int, int] = {}  # house id -> person id of the current householder
        for chunk in _chunks(existing_house_ids, LOOKUP_BATCH):
            householders.update(Residence.objects.filter(house_id__in=chunk, relation=Relation.HOUSEHOLDER,
                                                         moved_out__isnull=True).values_list("house_id", "person_id"))
        house_places = {}
        lived_in = {x[1] for lst in open_res.values() for x in lst}
        for chunk in _chunks(sorted(lived_in), LOOKUP_BATCH):
            for hid, g, c, s in House.objects.filter(id__in=chunk).values_list("id", "grid_id", "community_id",
                                                                                 "street_id"):
                house_places[hid] = (g, c, s)
        person_tags: set[tuple[int, int]] = set()
        for chunk in _chunks(person_ids, LOOKUP_BATCH):
            person_tags.update(PersonTag.objects.filter(person_id__in=chunk).values_list("person_id", "tag_id"))

        counts = dict.fromkeys(["houses_create", "houses_update", "houses_unchanged", "people_create",
                                "people_update", "people_unchanged", "buildings_create"], 0)
        house_seen: set[tuple] = set()
        leaving: set[int] = set()  # persons whose current residences end in this import
        new_householder: dict[tuple, int] = {}  # house key -> row number
        for r in rows:
            p = people.get(r.bidx + r.data.id_type)
            r.person_id = p["id"] if p else None
            r.house_id = houses[r.house_key][0] if r.house_key in houses else None
        demoted = _demoted(rows, open_res)
        for i, r in enumerate(rows):
            if self.progress and i % 20000 == 0:
                self.progress(i, len(rows), "match")
            c, n, unit, room = r.house_key
            bkey = (c, n)
            if bkey not in buildings and bkey not in plan.new_buildings:
                plan.new_buildings[bkey] = {"compound_id": c, "number": n, "floors": max(r.floor, 1), "units": 1}
                counts["buildings_create"] += 1
            if bkey in plan.new_buildings:
                nb = plan.new_buildings[bkey]
                nb["floors"] = max(nb["floors"], r.floor)
                if unit.isdigit():
                    nb["units"] = max(nb["units"], int(unit))
            elif r.floor > buildings[bkey][1]:
                bid = buildings[bkey][0]
                plan.raise_floors[bid] = max(plan.raise_floors.get(bid, 0), r.floor)
            existing = houses.get(r.house_key)
            if existing is None:
                if r.house_key not in plan.new_houses:
                    plan.new_houses[r.house_key] = {"floor": r.floor, "use": r.use or HouseUse.OWNER, "area": r.area}
                    counts["houses_create"] += 1
            else:
                hid, use, area = existing
                r.house_id = hid
                if r.house_key not in house_seen:
                    change = {}
                    if r.use and r.use != use:
                        change["use"] = r.use
                    if r.area is not None and (area is None or Decimal(area) != r.area):
                        change["area"] = r.area
                    if change:
                        plan.house_updates[hid] = change
                        counts["houses_update"] += 1
                    else:
                        counts["houses_unchanged"] += 1
            house_seen.add(r.house_key)
            # The person.
            p = people.get(r.bidx + r.data.id_type)
            if r.relation == Relation.HOUSEHOLDER:
                if r.house_key in new_householder:
                    self.err(r.number, "relation", _("同一房屋有两位户主（另见第%(n)d行）")
                             % {"n": new_householder[r.house_key]})
                    continue
                new_householder[r.house_key] = r.number
            if p is None:
                plan.new_people.append(r)
                plan.new_residences.append(r)
                counts["people_create"] += 1
                for tid in r.tags:
                    plan.new_tags.add((r.number, tid))
                continue
            r.person_id = p["id"]
            if not _in_places(self.change_places, p["grid_id"], p["community_id"], p["street_id"]):
                self.err(r.number, "id_number", _("此人已登记在您管辖范围以外的房屋，请联系其所在社区办理迁出后再导入"))
                continue
            change = {}
            d = r.data
            if d.name != p["name"]:
                change["name"] = d.name
            if r.phone_bidx and r.phone_bidx != p["phone_bidx"]:
                change["phone"] = d.phone
            if self.table.columns.get("residency_type") is not None and d.residency_type != p["residency_type"]:
                change["residency_type"] = d.residency_type
            for fname in ("nationality", "ethnicity", "hukou_address", "work_unit", "note"):
                value = getattr(d, fname)
                if value and value != p[fname]:
                    change[fname] = value
            res_here = [x for x in open_res.get(p["id"], []) if x[1] == r.house_id]
            res_else = [x for x in open_res.get(p["id"], []) if x[1] != r.house_id]
            moved = False
            for _rid, hid, _rel, _role in res_else:
                if not _in_places(self.change_places, *house_places.get(hid, (None, None, None))):
                    self.err(r.number, "id_number",
                             _("此人还住在您管辖范围以外的房屋，请联系其所在社区办理迁出后再导入"))
                    break
            else:
                if res_else:
                    plan.close_residences.extend(x[0] for x in res_else)
                    leaving.add(p["id"])
                    moved = True
                if res_here:
                    rid, _hid, rel, role = res_here[0]
                    res_change = {}
                    if r.relation and r.relation != rel:
                        res_change["relation"] = r.relation
                    if self.table.columns.get("role") is not None and r.role != role:
                        res_change["role"] = r.role
                    if res_change:
                        plan.residence_updates[rid] = res_change
                        change["residence"] = True
                else:
                    plan.new_residences.append(r)
                    moved = True
                new_tags = [tid for tid in r.tags if (p["id"], tid) not in person_tags]
                for tid in new_tags:
                    plan.new_tags.add((r.number, tid))
                if change or moved or new_tags:
                    change["_before"] = {k: p[k] for k in change if k in p}
                    change["_version"] = p["version"]
                    change["_moved"] = moved
                    plan.person_updates[p["id"]] = change
                    counts["people_update"] += 1
                else:
                    counts["people_unchanged"] += 1
                continue
        if self.progress:
            self.progress(len(rows), len(rows), "match")
        # Householders already in the database: a new one is refused unless the current one leaves.
        for r in rows:
            if r.relation != Relation.HOUSEHOLDER or r.house_id is None:
                continue
            current = householders.get(r.house_id)
            if current is not None and current != r.person_id and current not in leaving | demoted:
                self.err(r.number, "relation", _("该房屋已有户主，一户只能有一位户主；请先在系统中变更原户主"))
        plan.counts = counts


_FORK: dict[str, Any] = {}
# Parsing in forked workers is off unless asked for: measured on the benchmark's 100,000-row sheet (2 cores),
# one process plans in 10-13 s and two workers in 15-17 s, because every parsed row is pickled back to the
# parent (50 MB, ~3.5 s) and the parent has read the whole sheet into a list before forking.
DEFAULT_WORKERS = 1
PARALLEL_MIN_ROWS = 10_000
PARALLEL_CHUNK = 5_000


def _parse_slice(bounds: tuple[int, int]) -> tuple[list[Row], list[RowError], list[RowError]]:
    """In a forked worker: parse rows[a:b] with the inherited planner."""
    planner: _Planner = _FORK["planner"]
    rows = _FORK["rows"]
    planner.plan.errors, planner.plan.warnings = [], []
    out = []
    for number, cells in rows[bounds[0]:bounds[1]]:
        row = planner.parse_row(number, cells)
        if row is not None:
            if planner.precompute:
                planner.precompute_row(row)
            out.append(row)
    return out, planner.plan.errors, planner.plan.warnings


def _demoted(rows: list[Row], open_res: dict[int, list[tuple[int, int, str, str]]]) -> set[int]:
    """Persons who are householder of a house now and, in the sheet, stay in it with another relation."""
    out = set()
    for r in rows:
        if r.person_id is None or not r.relation or r.relation == Relation.HOUSEHOLDER:
            continue
        for _rid, hid, rel, _role in open_res.get(r.person_id, []):
            if hid == r.house_id and rel == Relation.HOUSEHOLDER:
                out.add(r.person_id)
    return out


def _nfkc_keep_space(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def _chunks(items, size: int):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def plan_import(source: str | Path | bytes | IO[bytes], user, *, file_name: str = "",
                progress: Callable[[int, int, str], None] | None = None, precompute: bool = False,
                workers: int | None = None) -> Plan:
    """Read and check the whole file without writing anything. ``precompute``: also seal the numbers and read
    the names' pinyin (the commit needs them); ``workers``: processes for a big file (default
    ``DEFAULT_WORKERS``: one, see there)."""
    data = _source_bytes(source)
    try:
        table = read_table(data, COLUMNS)
    except SheetError as exc:
        raise ImportError_(str(exc)) from None
    plan = _Planner(table, user, today=timezone.localdate(), progress=progress, precompute=precompute,
                    workers=workers).run()
    plan.file_name = file_name
    plan.sha256 = hashlib.sha256(data).hexdigest()
    return plan


# --- writing ------------------------------------------------------------------------------------------------------
def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    return value


def _sqlite_rows(rows: list[tuple]) -> list[tuple]:
    """Dates, datetimes and decimals as Django stores them in SQLite; other values pass through untouched."""
    kinds = (dt.date, Decimal)
    cols = sorted({i for row in rows[:200] for i, v in enumerate(row) if isinstance(v, kinds)})
    if not cols:
        return rows
    cache: dict[Any, Any] = {}
    out = []
    for row in rows:
        row = list(row)
        for i in cols:
            v = row[i]
            if v is not None:
                c = cache.get(v)
                if c is None:
                    c = cache[v] = _sqlite_value(v)
                row[i] = c
        out.append(row)
    return out


def allocate_ids(model, n: int) -> list[int]:
    """Reserve ``n`` primary keys for rows written by ``fast_insert`` (inside the caller's transaction)."""
    if n <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return [row[0] for row in cur.fetchall()]
        cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608 - a model's own table name
        start = cur.fetchone()[0] + 1
    return list(range(start, start + n))


def fast_insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert tuples (in ``fields`` order, primary key included) with COPY on PostgreSQL, executemany elsewhere.

    The same function loads the benchmark's raw baseline, so the comparison measures only what the import adds.
    """
    if not rows:
        return
    table = model._meta.db_table
    columns = [model._meta.get_field(f).column for f in fields]
    quoted = ", ".join(f'"{c}"' for c in columns)
    vendor = connection.vendor
    with connection.cursor() as cur, connection.wrap_database_errors:  # driver errors as django.db errors
        raw = cur.cursor
        if vendor == "postgresql":
            with raw.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        rows = _sqlite_rows(rows)
        marks = ", ".join(["?" if vendor == "sqlite" else "%s"] * len(columns))
        raw.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows)  # noqa: S608


PERSON_INSERT = ["id", "created_at", "updated_at", "version", "name", "name_pinyin", "name_initials", "id_type",
                 "id_number_enc", "id_number_bidx", "id_number_masked", "sex", "birth_date", "phone_enc", "phone_bidx",
                 "phone_masked", "residency_type", "nationality", "ethnicity", "hukou_address", "work_unit", "note",
                 "street", "community", "grid", "is_current"]
RESIDENCE_INSERT = ["id", "created_at", "updated_at", "version", "person", "house", "role", "relation", "moved_in",
                    "moved_out", "move_out_reason", "source"]
HOUSE_INSERT = ["id", "created_at", "updated_at", "version", "building", "compound", "grid", "community", "street",
                "unit", "floor", "room", "area", "use", "resident_count", "note"]
BUILDING_INSERT = ["id", "created_at", "updated_at", "version", "compound", "grid", "community", "street", "number",
                   "floors", "units", "lat", "lng"]


def person_tuple(pid: int, r: Row, place: tuple[int, int, int], now: dt.datetime) -> tuple:
    """The Person row a form would write (people.services._apply + Person.set_id_number / set_phone)."""
    d = r.data
    if r.pre is not None:
        full, initials, id_enc, id_masked, phone_enc, phone_masked = r.pre
    else:
        full, initials = name_pinyin(d.name)
        id_enc, id_masked = crypto.encrypt(d.id_number), mask_id(d.id_number)
        phone_enc = crypto.encrypt(d.phone) if d.phone else ""
        phone_masked = mask_phone(d.phone) if d.phone else ""
    grid, community, street = place
    return (pid, now, now, 1, d.name, full, initials, d.id_type, id_enc, r.bidx, id_masked, d.sex or "", d.birth_date,
            phone_enc, r.phone_bidx, phone_masked,
            d.residency_type or ResidencyType.REGISTERED, d.nationality or "中国", d.ethnicity, d.hukou_address,
            d.work_unit, d.note, street, community, grid, True)


def build_tuples(plan: Plan, today: dt.date, now: dt.datetime) -> dict[str, list[tuple]]:
    """Buildings, houses, persons and residences of the plan as insert tuples, with fresh primary keys."""
    compounds = {cid: (g, c, s) for cid, g, c, s in Compound.objects.filter(id__in=plan.compound_ids)
                 .values_list("id", "grid_id", "community_id", "street_id")}
    out: dict[str, list[tuple]] = {}
    building_ids = dict(zip(plan.new_buildings, allocate_ids(Building, len(plan.new_buildings)), strict=True))
    out["building"] = []
    for key, b in plan.new_buildings.items():
        g, c, s = compounds[b["compound_id"]]
        out["building"].append((building_ids[key], now, now, 1, b["compound_id"], g, c, s, b["number"], b["floors"],
                                b["units"], None, None))
    existing = {(c, n): bid for bid, c, n in Building.objects.filter(compound_id__in=plan.compound_ids)
                .values_list("id", "compound_id", "number")}
    existing.update(building_ids)
    house_ids = dict(zip(plan.new_houses, allocate_ids(House, len(plan.new_houses)), strict=True))
    # A new house's residents are exactly the plan's new residences in it: its count is written with it.
    residents = Counter(r.house_key for r in plan.new_residences if r.house_key in house_ids)
    out["house"] = []
    for key, h in plan.new_houses.items():
        cid, number, unit, room = key
        g, c, s = compounds[cid]
        out["house"].append((house_ids[key], now, now, 1, existing[(cid, number)], cid, g, c, s, unit, h["floor"], room,
                             h["area"], h["use"], residents[key], ""))
    person_ids = allocate_ids(Person, len(plan.new_people))
    out["person"] = []
    for pid, r in zip(person_ids, plan.new_people, strict=True):
        r.person_id = pid
        if r.house_id is None:
            r.house_id = house_ids[r.house_key]
        out["person"].append(person_tuple(pid, r, compounds[r.house_key[0]], now))
    residence_ids = allocate_ids(Residence, len(plan.new_residences))
    out["residence"] = []
    for rid, r in zip(residence_ids, plan.new_residences, strict=True):
        if r.house_id is None:
            r.house_id = house_ids[r.house_key]
        out["residence"].append((rid, now, now, 1, r.person_id, r.house_id, r.role, r.relation, r.moved_in or today,
                                 None, "", "import"))
    return out


def write_tuples(tuples: dict[str, list[tuple]], keys=("building", "house", "person", "residence")) -> None:
    for model, fields, key in ((Building, BUILDING_INSERT, "building"), (House, HOUSE_INSERT, "house"),
                               (Person, PERSON_INSERT, "person"), (Residence, RESIDENCE_INSERT, "residence")):
        if key not in keys:
            continue
        rows = tuples.get(key, [])
        for chunk in _chunks(rows, 20000) if len(rows) > 20000 else [rows]:
            fast_insert(model, fields, chunk)


def _apply_updates(plan: Plan, user, today: dt.date, now: dt.datetime) -> None:
    # Houses: use / area.
    if plan.house_updates:
        objs = []
        for hid, change in plan.house_updates.items():
            h = House(id=hid, **change)
            objs.append(h)
        for f in ("use", "area"):
            subset = [h for h in objs if f in plan.house_updates[h.id]]
            if subset:
                House.objects.bulk_update(subset, [f], batch_size=BATCH)
        for chunk in _chunks(list(plan.house_updates), LOOKUP_BATCH):
            House.objects.filter(id__in=chunk).update(version=F("version") + 1, updated_at=now)
    for bid, floors in plan.raise_floors.items():
        Building.objects.filter(id=bid, floors__lt=floors).update(floors=floors, updated_at=now)
    # People: the changed fields, version checked (a person edited since the plan was read is a conflict).
    for pid, change in plan.person_updates.items():
        values: dict[str, Any] = {k: v for k, v in change.items() if not k.startswith("_") and k != "residence"}
        if "phone" in values:
            phone = values.pop("phone")
            values.update(phone_enc=crypto.encrypt(phone), phone_bidx=Person.phone_index(phone),
                          phone_masked=mask_phone(phone))
        if "name" in values:
            values["name_pinyin"], values["name_initials"] = name_pinyin(values["name"])
        updated = Person.objects.filter(pk=pid, version=change["_version"]).update(
            version=change["_version"] + 1, updated_at=now, **values)
        if not updated:
            raise ImportError_(_("导入期间有人修改了其中的人员记录，请重新预览后再导入"))
        # The same change record a form's save writes (people.services.save_person): personal numbers masked.
        before = change["_before"]
        fields = sorted(k for k in change if not k.startswith("_"))
        audit.record("update", user=user, object_type="people.person", object_id=str(pid), fields=fields,
                     changes={k: ["***", "***"] if k == "phone" else [before.get(k), change[k]]
                              for k in fields if k != "residence"}, purpose="import")
    for rid, change in plan.residence_updates.items():
        Residence.objects.filter(pk=rid, moved_out__isnull=True).update(updated_at=now, **change)
    for chunk in _chunks(plan.close_residences, LOOKUP_BATCH):
        Residence.objects.filter(id__in=chunk, moved_out__isnull=True).update(
            moved_out=today, move_out_reason=_("导入：迁至新住址"), updated_at=now)


def _refresh_counts_and_places(plan: Plan, touched_houses: set[int], moved_people: list[int]) -> None:
    open_count = (Residence.objects.filter(house_id=OuterRef("pk"), moved_out__isnull=True)
                  .order_by().values("house_id").annotate(n=Count("id")).values("n"))
    for chunk in _chunks(sorted(touched_houses), LOOKUP_BATCH):
        House.objects.filter(id__in=chunk).update(resident_count=Coalesce(Subquery(open_count), 0))
    for pid in moved_people:
        res = (Residence.objects.filter(person_id=pid).select_related("house")
               .order_by("moved_out", "-moved_in", "-id"))
        current = [x for x in res if x.moved_out is None]
        chosen = current[0] if current else None
        if chosen is not None:
            h = chosen.house
            Person.objects.filter(pk=pid).update(grid_id=h.grid_id, community_id=h.community_id,
                                                 street_id=h.street_id, is_current=True)


def _check_scope(plan: Plan, user, new_house_ids: list[int], person_ids: list[int]) -> None:
    """Inside the transaction: everything written lies where the user may import, or all of it rolls back."""
    places = import_places(user)
    if places is None:
        return
    for chunk in _chunks(new_house_ids, LOOKUP_BATCH):
        if House.objects.filter(id__in=chunk).exclude(scope_q(House, places)).exists():
            raise PermissionDenied(_("导入的房屋不在您的管辖范围内，导入已撤销"))
    for chunk in _chunks(person_ids, LOOKUP_BATCH):
        if Person.objects.filter(id__in=chunk).exclude(scope_q(Person, places)).exists():
            raise PermissionDenied(_("导入的人员不在您的管辖范围内，导入已撤销"))


def commit_import(source: str | Path | bytes | IO[bytes], user, *, file_name: str = "", skip_errors: bool = False,
                  progress: Callable[[int, int, str], None] | None = None, workers: int | None = None) -> Plan:
    """Plan, then write in one transaction. Raises ImportError_ (nothing written) when any row is bad, unless
    ``skip_errors``: then the good rows are written and the bad ones are listed in the plan.

    The plan only reads, so it runs before the transaction: on SQLite the write lock is then held for the writes
    alone, not for the validation of the whole file. A change made by someone else in between (the same person
    or house created, a person edited) fails a constraint or the version check and rolls the import back.
    """
    plan = plan_import(source, user, file_name=file_name, progress=progress, precompute=True, workers=workers)
    if plan.errors and not skip_errors:
        raise ImportError_(_("有%(n)d处错误，未导入任何数据；请按错误清单修改后重新导入") % {"n": len(plan.errors)},
                           plan.errors)
    if plan.errors:
        plan = _drop_rows(plan, {e.row for e in plan.errors}, source, user, file_name, progress)
    try:
        with transaction.atomic():
            _write(plan, user, file_name, progress)
    except IntegrityError as exc:
        raise ImportError_(_("导入期间有人同时登记或修改了相关的房屋或人员，导入已全部撤销，请重新导入")) from exc
    return plan


def _write(plan: Plan, user, file_name: str, progress) -> None:
    today, now = timezone.localdate(), timezone.now()
    if progress:
        progress(0, len(plan.rows), "write")
    tuples = build_tuples(plan, today, now)
    write_tuples(tuples, ("building", "house", "person"))
    _apply_updates(plan, user, today, now)  # ends and demotes residences before new ones may take their place
    write_tuples(tuples, ("residence",))
    tag_rows = {r.number: r.person_id for r in plan.rows}
    tag_objs = [PersonTag(person_id=tag_rows[n], tag_id=t) for n, t in plan.new_tags if tag_rows.get(n)]
    PersonTag.objects.bulk_create(tag_objs, batch_size=BATCH, ignore_conflicts=True)
    touched = {r.house_id for r in plan.rows if r.house_id}
    touched.difference_update(t[0] for t in tuples["house"])  # new houses were written with their counts
    touched.update(_house_ids_of(plan.close_residences))
    moved = [pid for pid, ch in plan.person_updates.items() if ch.get("_moved")]
    _refresh_counts_and_places(plan, touched, moved)
    _check_scope(plan, user, [t[0] for t in tuples["house"]],
                 [t[0] for t in tuples["person"]] + list(plan.person_updates))
    audit.record("import", user=user, object_type="people.person", object_id=plan.sha256[:16],
                 changes={"counts": plan.summary(), "file_sha256": plan.sha256,
                          "file_name_sha256": hashlib.sha256(file_name.encode()).hexdigest()},
                 place=",".join(f"compound:{c}" for c in sorted(plan.compound_ids))[:200], purpose="import")
    if progress:
        progress(len(plan.rows), len(plan.rows), "write")


def _house_ids_of(residence_ids: list[int]) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(residence_ids, LOOKUP_BATCH):
        out.update(Residence.objects.filter(id__in=chunk).values_list("house_id", flat=True))
    return out


def _drop_rows(plan: Plan, bad_rows: set[int], source, user, file_name, progress) -> Plan:
    """Plan again without the rows that have errors (their decisions may depend on each other)."""
    data = _source_bytes(source)
    table = read_table(data, COLUMNS)
    table.rows = ((n, cells) for n, cells in table.rows if n not in bad_rows)
    again = _Planner(table, user, today=timezone.localdate(), progress=progress, precompute=True).run()
    again.file_name, again.sha256 = file_name, plan.sha256
    if again.errors:  # a row that became bad only through another one (two householders...)
        return _drop_rows(again, bad_rows | {e.row for e in again.errors}, source, user, file_name, progress)
    again.errors = plan.errors
    return again


def write_error_sheet(source: str | Path | bytes | IO[bytes], errors: list[RowError], target) -> int:
    """The error list as an .xlsx: row, column, reason, level, and the row's name and masked number to find it.

    The clear numbers are never written back: the user has the original file to correct.
    """
    from core.importexport import XlsxWriter

    by_row: dict[int, list[Any]] = {}
    wanted = {e.row for e in errors}
    try:
        table = read_table(_source_bytes(source), COLUMNS)
        for n, cells in table.rows:
            if n in wanted:
                number = _nfkc(table.value(cells, "id_number")).upper()
                by_row[n] = [cell_text(table.value(cells, "name")), mask_id(number) if number else ""]
    except SheetError:
        pass
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    with XlsxWriter(target, _("错误清单"), _("导入错误清单 · 生成于 %(t)s") % {"t": stamp}) as w:
        w.header([_("行号"), _("列"), _("原因"), _("级别"), _("姓名"), _("证件号码（已脱敏）")])
        for e in sorted(errors, key=lambda e: (e.row, e.level)):
            w.row([e.row, e.column, e.reason, _("错误") if e.level == "error" else _("警告"),
                   *by_row.get(e.row, ["", ""])])
    return len(errors)
