"""One validation path for every identifier Renfang accepts: forms, the API and imports call these.

Each validator takes the raw text a person typed (full-width digits, spaces, a lower-case x...) and
returns ``Checked(value, warnings)`` with the normalised value, or raises ``django.core.exceptions.
ValidationError`` whose message tells a grid worker in plain Chinese what is wrong.

Warnings are problems a real record may still have (a resident ID whose region code was abolished or
is unknown to the code table): the user may accept them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidComponent

__all__ = [
    "Checked", "ID_TYPES", "mask_id", "mask_phone", "normalise_text", "validate_credit_code",
    "validate_hk_macau_permit",
    "validate_identifier", "validate_mobile", "validate_passport", "validate_plate", "validate_resident_id",
    "validate_taiwan_permit",
]


@dataclass
class Checked:
    value: str
    warnings: list[str] = field(default_factory=list)
    birth_date: dt.date | None = None
    sex: str | None = None  # "M" / "F"


_SEPARATORS = re.compile(r"[\s\-_]")


def normalise_text(value: object) -> str:
    """Full-width to half-width, trimmed, inner whitespace and separators removed."""
    if type(value) is str and value.isascii() and value.isalnum():
        return value  # already plain: NFKC leaves ASCII as it is and there is nothing to remove (the common case)
    text = unicodedata.normalize("NFKC", str(value if value is not None else ""))
    return _SEPARATORS.sub("", text)


def validate_resident_id(raw: object, today: dt.date | None = None) -> Checked:
    """GB 11643: 18 characters, a real, not future birth date, the MOD 11-2 check digit.

    A region code unknown to the table, or not in force in the birth year, is a warning.
    """
    value = normalise_text(raw).upper()
    if not value:
        raise ValidationError(_("身份证号不能为空"), code="required")
    if len(value) == 15 and value.isdigit():
        raise ValidationError(_("身份证号是15位的旧号码，请填写18位的新号码"), code="old_format")
    if len(value) != 18:
        raise ValidationError(_("身份证号应为18位，现在是%(n)d位") % {"n": len(value)}, code="length")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ValidationError(_("身份证号只能由数字组成，最后一位可以是X"), code="format")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号中的出生日期 %(d)s 不是一个真实的日期") % {"d": value[6:14]},
                              code="birth_date") from None
    today = today or dt.date.today()
    if birth > today:
        raise ValidationError(_("身份证号中的出生日期 %(d)s 在今天之后") % {"d": birth.isoformat()},
                              code="birth_future")
    if birth.year < 1880:
        raise ValidationError(_("身份证号中的出生年份 %(y)d 不合理") % {"y": birth.year}, code="birth_past")
    if value[17] != ric.calc_check_digit(value):
        raise ValidationError(_("身份证号校验位错误：最后一位应为 %(c)s，请核对号码是否抄错")
                              % {"c": ric.calc_check_digit(value)}, code="checksum")
    warnings = []
    if not _region_in_force(value[:6], birth.year):
        warnings.append(_("身份证号前6位地区码 %(r)s 在出生年份不存在或已撤销，请核实（确属本人号码可以确认保存）")
                        % {"r": value[:6]})
    sex = "M" if int(value[16]) % 2 == 1 else "F"
    return Checked(value, warnings, birth, sex)


@lru_cache(maxsize=65536)
def _region_in_force(region: str, year: int) -> bool:
    """Whether the 6-digit region code was in force in ``year`` (stdnum's table; cached: a lookup takes ~70 µs
    and an import of 100,000 rows sees a few hundred distinct (region, year) pairs)."""
    try:
        ric.get_birth_place(f"{region}{year:04d}0101000")
    except InvalidComponent:
        return False
    return True


def _valid_cn_number(value: str) -> bool:
    """phonenumbers' validity of an 11-digit mainland number, decided the way ``is_valid_number`` decides it (the
    general pattern, then any number type), with the mobile type tried first: it is what almost every number is,
    and the full check costs ~20 µs of an import row's budget."""
    general, mobile = _cn_patterns()
    if general(value) and mobile(value):
        return True
    return phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=86, national_number=int(value)))


@lru_cache(maxsize=1)
def _cn_patterns():
    """phonenumbers' general and mobile patterns for CN, compiled once (``fullmatch`` of each)."""
    from phonenumbers.phonemetadata import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region("CN")
    return (re.compile(meta.general_desc.national_number_pattern).fullmatch,
            re.compile(meta.mobile.national_number_pattern).fullmatch)


_MOBILE_SHAPE = re.compile(r"1[3-9]\d{9}")


def validate_mobile(raw: object) -> Checked:
    """A mainland mobile number (11 digits, 1[3-9]...), with or without +86."""
    value = normalise_text(raw)
    if not value:
        raise ValidationError(_("手机号不能为空"), code="required")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not value.isdigit():
        raise ValidationError(_("手机号只能包含数字"), code="format")
    if len(value) != 11:
        raise ValidationError(_("手机号应为11位，现在是%(n)d位") % {"n": len(value)}, code="length")
    if not _MOBILE_SHAPE.fullmatch(value) or not _valid_cn_number(value):
        raise ValidationError(_("%(v)s 不是有效的手机号码（号段不存在）") % {"v": value[:3] + "…"}, code="invalid")
    return Checked(value)


def validate_credit_code(raw: object) -> Checked:
    """GB 32100 unified social credit code (18 characters with its check character)."""
    value = normalise_text(raw).upper()
    if len(value) != 18:
        raise ValidationError(_("统一社会信用代码应为18位，现在是%(n)d位") % {"n": len(value)}, code="length")
    try:
        uscc.validate(value)
    except Exception:  # stdnum raises subclasses of ValidationError of its own
        raise ValidationError(_("统一社会信用代码 %(v)s 校验不通过，请核对") % {"v": value}, code="invalid") from None
    return Checked(value)


def validate_passport(raw: object) -> Checked:
    """Passport numbers: 5-17 letters and digits (ICAO 9303 allows up to 9 in the MRZ, more in practice)."""
    value = normalise_text(raw).upper()
    if not re.fullmatch(r"[A-Z0-9]{5,17}", value):
        raise ValidationError(_("护照号码应为5到17位字母或数字"), code="format")
    return Checked(value)


def validate_hk_macau_permit(raw: object) -> Checked:
    """港澳居民来往内地通行证: H or M followed by 8 (or 10) digits."""
    value = normalise_text(raw).upper()
    if not re.fullmatch(r"[HM]\d{8}(\d{2})?", value):
        raise ValidationError(_("港澳居民来往内地通行证号码应为H或M开头加8位（或10位）数字"), code="format")
    return Checked(value)


def validate_taiwan_permit(raw: object) -> Checked:
    """台湾居民来往大陆通行证: 8 digits (since 2015), or the older 10 digits with a letter."""
    value = normalise_text(raw).upper()
    if not re.fullmatch(r"\d{8}|\d{10}[A-Z]?", value):
        raise ValidationError(_("台湾居民来往大陆通行证号码应为8位数字"), code="format")
    return Checked(value)


PLATE_RE = re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
                      r"[A-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]")


def validate_plate(raw: object) -> Checked:
    value = normalise_text(raw).upper()
    if not PLATE_RE.fullmatch(value):
        raise ValidationError(_("车牌号格式不正确"), code="format")
    return Checked(value)


ID_TYPES = {
    "resident_id": validate_resident_id,
    "passport": validate_passport,
    "hk_macau": validate_hk_macau_permit,
    "taiwan": validate_taiwan_permit,
}


def validate_identifier(id_type: str, raw: object, today: dt.date | None = None) -> Checked:
    if id_type == "resident_id":
        return validate_resident_id(raw, today)
    if id_type in ID_TYPES:
        return ID_TYPES[id_type](raw)
    value = normalise_text(raw).upper()
    if not value:
        raise ValidationError(_("证件号码不能为空"), code="required")
    return Checked(value)


def mask_id(value: str) -> str:
    """``320507********1234`` for resident IDs; other documents keep the first 2 and last 2."""
    if len(value) == 18:
        return value[:6] + "*" * 8 + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask_phone(value: str) -> str:
    """``138****5678``."""
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    return "*" * max(len(value) - 4, 0) + value[-4:]
