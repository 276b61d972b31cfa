"""The importer's first layer: cell text to the values the registry keeps, with no database access.

Addresses ("3幢" = "3栋" = "第三栋" → "3"), choice cells (户主 / 本人 → householder), areas, dates, and the
document type a number's shape tells when the sheet has no type column. Pure functions, cached where cells repeat.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from core.importexport import cell_text
from people.choices import IdType, Relation, ResidenceRole, ResidencyType
from places.choices import HouseUse

__all__ = ["HOUSE_USES", "ID_TYPES", "RELATIONS", "RESIDENCY", "ROLES", "SEXES", "TAG_SPLIT", "case_key",
           "choice_key", "cn_number", "floor_of", "id_shape", "id_type_of",
           "nfkc", "nfkc_keep_space", "normalise_building", "normalise_room",
           "normalise_unit", "parse_area", "parse_date", "parse_date_text"]

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}


def cn_number(text: str) -> str:
    """"三" → "3", "十二" → "12", "二十" → "20"; anything else unchanged."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return text
    if "十" in text:
        head, _sep, tail = text.partition("十")
        tens = _CN_DIGITS.get(head, 1) if head else 1
        ones = _CN_DIGITS.get(tail, 0) if tail else 0
        return str(tens * 10 + ones)
    return "".join(str(_CN_DIGITS[ch]) for ch in text)


def nfkc(value: Any) -> str:
    """Half-width, no whitespace anywhere ("３ 幢" → "3幢")."""
    s = cell_text(value)
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    return "".join(s.split())


@lru_cache(maxsize=4096)
def case_key(text: str) -> str:
    return nfkc(text)


@lru_cache(maxsize=4096)
def choice_key(text: str) -> str:
    """A choice cell as a lookup key ("流动 人口" → "流动人口", "Owner" → "owner"); cells repeat, so cached."""
    return nfkc(text).lower()


def _strip_zeros(text: str) -> str:
    return str(int(text)) if text.isdigit() else text


_BUILDING_RE = re.compile(r"^第?(.+?)(?:号楼|#楼|号幢|号栋|幢|栋|号|#|座|楼)?$")
_UNIT_RE = re.compile(r"^第?(.+?)(?:单元|单|#)?$")
_ROOM_RE = re.compile(r"^(.+?)(?:室|号|房)?$")
TAG_SPLIT = re.compile(r"[,，、;；/\s]+")
_ROOM_WITH_UNIT = re.compile(r"^(?:(\w+?)(?:单元|-))(\w+?)(?:室|号)?$")


@lru_cache(maxsize=8192)
def normalise_building(value: Any) -> str:
    """"3幢" = "3栋" = "3号楼" = "3#" = "第三栋" = "３" → "3"."""
    s = nfkc(value)
    m = _BUILDING_RE.match(s)
    if m:
        s = m.group(1)
    return _strip_zeros(cn_number(s)).upper()


@lru_cache(maxsize=8192)
def normalise_unit(value: Any) -> str:
    """"一单元" = "1单元" = "01" = "1" → "1"."""
    s = nfkc(value)
    m = _UNIT_RE.match(s)
    if m:
        s = m.group(1)
    return _strip_zeros(cn_number(s)).upper()


@lru_cache(maxsize=8192)
def normalise_room(value: Any) -> tuple[str, str]:
    """"301室" = "301" = "０３０１" → ("", "301"); "2单元301室" and "2-301" → ("2", "301")."""
    s = nfkc(value)
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


@lru_cache(maxsize=4096)
def parse_area(text: str) -> Decimal:
    area = Decimal(choice_key(text).removesuffix("㎡").removesuffix("m2")).quantize(Decimal("0.01"))
    if not Decimal("1") <= area <= Decimal("99999"):
        raise InvalidOperation
    return area


@lru_cache(maxsize=8192)
def parse_date_text(text: str) -> dt.date:
    """A date cell's text (trimmed) as a date: ISO, 2020年1月31日, 2020/1/31, 2020.1.31, 20200131."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    s = nfkc(text).replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    y, m, d = (int(p) for p in s.split("-"))
    return dt.date(y, m, d)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float):  # an Excel serial date that reached us as a number
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    return parse_date_text(cell_text(value))



def nfkc_keep_space(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()



_RESIDENT_SHAPE = re.compile(r"\d{17}[\dX]|\d{15}")
_HK_MACAU_SHAPE = re.compile(r"[HM]\d{8}(?:\d{2})?")
_TAIWAN_SHAPE = re.compile(r"\d{8}|\d{10}[A-Z]?")
_PASSPORT_SHAPE = re.compile(r"[A-Z]{1,2}\d{6,9}")


@lru_cache(maxsize=4096)
def id_shape(value: str) -> str:
    """A document number as its shape is read: half-width, upper case, no spaces or brackets ("1234567890(B)")."""
    return re.sub(r"[()\[\]]", "", nfkc(value).upper())


def id_type_of(value: str) -> str:
    """The document type a number's shape tells (see ``_id_type_of``); 18 plain characters shaped as a resident ID
    (17 ASCII digits, then a digit or X), what nearly every row holds, are told without normalising."""
    if len(value) == 18 and value.isascii() and value[:17].isdigit() and (value[17].isdigit() or value[17] in "Xx"):
        return IdType.RESIDENT_ID
    return _id_type_of(value)


@lru_cache(maxsize=4096)
def _id_type_of(value: str) -> str:
    """The document type a number's shape tells, for a sheet without a 证件类型 column: H/M + 8 or 10 digits is
    a Hong Kong / Macau permit, 8 digits (or the older 10 digits and a letter) a Taiwan permit, one or two letters
    and 6-9 digits (E12345678, G1234567) a passport; anything else is read as a resident ID (and checked as one,
    so a resident ID with a digit missing is refused, not taken for another document)."""
    s = id_shape(value)
    if _RESIDENT_SHAPE.fullmatch(s):
        return IdType.RESIDENT_ID
    if _HK_MACAU_SHAPE.fullmatch(s):
        return IdType.HK_MACAU
    if _TAIWAN_SHAPE.fullmatch(s):
        return IdType.TAIWAN
    if _PASSPORT_SHAPE.fullmatch(s):
        return IdType.PASSPORT
    return IdType.RESIDENT_ID
