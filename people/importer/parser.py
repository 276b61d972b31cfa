"""The importer's second layer: one sheet row to a checked ``Row``, through the same validation as the forms.

``RowParser.parse_row`` reads the cells of one row (``core.importexport`` found the header and the columns),
normalises them (people.importer.normalisers), validates the person with ``people.services.clean_person_data``
(→ ``core.validators``) and returns a ``Row`` or None, listing every problem as a ``RowError`` (row, column,
reason in Chinese). It reads nothing from the database: the compounds and tags it may name are handed to it.
"""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core import crypto
from core.importexport import Column, Table, cell_text, looks_like_formula
from core.validators import mask_id, mask_phone, validate_mobile
from people.choices import IdType, Relation, ResidenceRole, ResidencyType
from people.importer.normalisers import (
    HOUSE_USES,
    ID_TYPES,
    RELATIONS,
    RESIDENCY,
    ROLES,
    SEXES,
    TAG_SPLIT,
    case_key,
    choice_key,
    cn_number,
    floor_of,
    id_shape,
    id_type_of,
    nfkc,
    nfkc_keep_space,
    normalise_building,
    normalise_room,
    normalise_unit,
    parse_area,
    parse_date,
    parse_date_text,
)
from people.models import Person
from people.pinyin import name_pinyin
from people.services import PersonData, clean_person_data
from places.choices import HouseUse

__all__ = ["COLUMNS", "LABELS", "ImportError_", "Row", "RowError", "RowParser", "source_bytes"]

COLUMNS: list[Column] = [
    Column("compound", "小区", ("小区名称", "小区名", "所在小区", "所属小区", "所属小区名称", "所在小区名称",
                               "小区楼盘", "楼盘", "楼盘名称", "小区/楼宇", "楼宇", "小区楼宇", "小区楼宇名称", "公寓",
                               "住宅小区", "院落", "院落名称", "小区院落", "小区/院落"), required=True),
    Column("building", "楼栋", ("楼栋号", "幢", "幢号", "栋", "栋号", "楼号", "楼幢", "楼幢号", "楼栋/幢", "号楼",
                               "楼", "楼栋幢号", "所属楼栋", "所在楼栋", "楼栋名称", "楼栋编号", "楼宇号", "楼号/幢号",
                               "栋/幢", "幢/栋"), required=True),
    Column("unit", "单元", ("单元号", "单元名称", "所属单元", "所在单元", "单元编号")),
    Column("room", "房号", ("室", "室号", "房间号", "房间", "门牌号", "门牌", "门牌号码", "房屋号", "房屋编号", "户号",
                           "房号/室", "房室号", "房间编号", "室号/门牌号", "房号/门牌号"), required=True),
    Column("floor", "楼层", ("层", "所在楼层")),
    Column("name", "姓名", ("名字", "居民姓名", "人员姓名", "户主姓名/成员姓名", "成员姓名", "住户姓名"),
           required=True),
    Column("id_type", "证件类型", ("证件种类",)),
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "公民身份证号码", "公民身份证号", "证件号码",
                                  "证件号", "证件编号", "身份证", "身份证件号码", "身份证件号", "身份号码",
                                  "身份证/证件号码", "身份证号/护照号", "证件号码/护照号码"), required=True),
    Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码", "联系电话/手机",
                                "联系手机", "移动电话", "本人电话", "本人手机", "本人手机号", "手机/电话", "联系号码")),
    Column("relation", "与户主关系", ("关系", "户主关系", "与户主的关系", "与户主之关系", "家庭关系", "与户主关系名称",
                                   "成员关系")),
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
@dataclass
class RowError:
    row: int
    column: str
    reason: str
    level: str = "error"  # "error" blocks the import; "warning" is listed and accepted
    name: str = ""  # the row's name cell, to find the row (never a number)
    field: str = ""  # the column's key (``phone``...), whatever the language of ``column``

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "reason": self.reason, "level": self.level,
                "name": self.name}


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
    # (pinyin, initials, sealed id, masked id, sealed phone, masked phone, seal id) when precomputed: the numbers are
    # sealed for the new person's row (its seal_id, written with it)
    pre: tuple | None = None


def source_bytes(source: str | Path | bytes | IO[bytes]) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    if hasattr(source, "seek"):
        source.seek(0)
    return source.read()



class RowParser:
    """Parses rows of one table; ``errors`` and ``warnings`` collect what it finds (the plan's lists)."""

    def __init__(self, table: Table, *, compounds: dict[str, int], tags: dict[str, int], today: dt.date,
                 errors: list[RowError], warnings: list[RowError],
                 formulas: dict[tuple[int, int], bool] | None = None,
                 existing: set[str] | None = None) -> None:
        self.table = table
        # Compound names that exist anywhere (in or out of the user's scope); a name in neither is "to create".
        self.existing = existing if existing is not None else set()
        self.to_create: dict[str, dict] = {}  # compound name -> {"rows": [row numbers], "buildings": set}
        self.formulas = formulas or {}  # (row, column) -> a computed value was saved (people.importer.formulas)
        self.column_items = list(table.columns.items())
        self.compounds = compounds
        self.tags = tags
        self.today = today
        self.errors = errors
        self.warnings = warnings
        self._places: dict[tuple[str, ...], tuple] = {}  # address cells -> what _read_place found
        # Each column key's cell, picked from a row's texts in one call; a column the sheet lacks reads the blank
        # text after the row's cells (index -1 of the padded row).
        self._keys = tuple(_BLANK_TEXTS)
        indexes = [table.columns.get(key, -1) for key in self._keys]
        self._pad = [""] * (max([i for i in indexes if i >= 0], default=0) + 2)
        self._pick = operator.itemgetter(*indexes)
        self._i_id = table.columns.get("id_number", 1 << 30)  # the raw cells read beside their texts
        self._i_moved_in = table.columns.get("moved_in", 1 << 30)


    def err(self, row: int, key: str, reason: str, level: str = "error", name: str = "") -> None:
        target = self.errors if level == "error" else self.warnings
        target.append(RowError(row, LABELS.get(key, key), reason, level, name, key))

    def known_anywhere(self, name: str) -> bool:
        e = self.existing
        return name in e or name.removesuffix("小区") in e or name + "小区" in e

    def compound_id(self, name: str) -> int | None:
        return self.compounds.get(name) or self.compounds.get(name.removesuffix("小区")) \
            or self.compounds.get(name + "小区")

    # --- one row ------------------------------------------------------------------------------------------------
    def parse_row(self, number: int, cells: list[Any]) -> Row | None:
        """One row parsed; what it found about the row is listed with the row's name (the page's error table)."""
        n_errors, n_warnings = len(self.errors), len(self.warnings)
        row = self._parse_row(number, cells)
        if len(self.errors) > n_errors or len(self.warnings) > n_warnings:
            i = self.table.columns.get("name")
            name = cell_text(cells[i])[:64] if i is not None and i < len(cells) else ""
            if name.startswith("="):
                name = ""
            for e in (*self.errors[n_errors:], *self.warnings[n_warnings:]):
                e.name = name
        return row

    def _texts(self, number: int, cells: list[Any]) -> dict[str, str] | None:
        """Every column's cell as trimmed text ("" when the sheet lacks the column); None when a formula makes
        the row unreadable (listed)."""
        # Short rows read as blank cells; the last item stands for the columns the sheet lacks.
        vals = [v.strip() if type(v) is str else cell_text(v) for v in self._pick([*cells, *self._pad])]
        texts = dict(zip(self._keys, vals, strict=True))
        if self.formulas or "\x00=" in "\x00" + "\x00".join(vals):
            return self._formula_texts(number, cells, texts)
        return texts

    def _formula_texts(self, number: int, cells: list[Any], texts: dict[str, str]) -> dict[str, str] | None:
        """``_texts`` for a row with a cell that may be a formula."""
        width = len(cells)
        bad = False
        for key, i in self.column_items:
            value = cells[i] if i < width else None
            if type(value) is str and value[:1] == "=" and looks_like_formula(texts[key]):
                self.err(number, key, _("单元格内容是公式（%(f)s…），请改为实际的值") % {"f": texts[key][:12]})
                bad = True
        if self.formulas:
            for key, i in self.column_items:
                saved = self.formulas.get((number, i))
                if saved is None:
                    continue
                if saved and texts[key]:
                    self.err(number, key, _("单元格是公式，已按其保存的计算结果导入；请核对"), level="warning")
                else:
                    self.err(number, key, _("单元格是公式且没有保存计算结果（读出为空），请改为实际的值"))
                    bad = True
        return None if bad else texts

    def _place(self, number: int, texts: dict[str, str]) -> tuple | None:
        """The row's house: (compound id, building, unit, room, floor, use, area), or None when it is unusable.

        The people of one house share its cells, so each distinct set of address cells is read once; what it
        found is listed again for every row that has it (with that row's number).
        """
        key = (texts["compound"], texts["building"], texts["unit"], texts["room"], texts["floor"], texts["use"],
               texts["area"])
        hit = self._places.get(key)
        if hit is None:
            found: list[tuple[str, str, str]] = []
            hit = self._places[key] = (self._read_place(found, *key), found)
        place, found = hit
        err = self.err
        for column, reason, level in found:
            err(number, column, reason, level)
        if place is None:
            return None
        values, new_compound, new_building = place
        if new_compound is not None:
            new = self.to_create.setdefault(new_compound, {"rows": [], "buildings": set()})
            new["rows"].append(number)
            if new_building is not None:
                new["buildings"].add(new_building)
        return values

    def _read_place(self, found: list[tuple[str, str, str]], compound_text: str, building_text: str,
                    unit_text: str, room_text: str, floor_text: str, use_text: str, area_text: str):
        """((compound id, building, unit, room, floor, use, area) or None when the row cannot be imported,
        compound to create, building of it) for one set of address cells; problems appended to ``found``."""
        def err(key: str, reason: str, level: str = "error") -> None:
            found.append((key, reason, level))

        bad = False
        new_compound = new_building = None
        compound = case_key(compound_text)
        cid = self.compound_id(compound) if compound else None
        if not compound:
            err("compound", _("小区不能为空"))
            bad = True
        elif cid is None:
            if self.known_anywhere(compound):
                err("compound", _("小区“%(c)s”不在您的导入权限范围内") % {"c": compound[:40]})
            else:
                new_compound = compound
                err("compound", _("小区“%(c)s”尚未建立（待新建）：可在预览页选择网格新建后重新预览，"
                                  "或先在“小区”页面新建") % {"c": compound[:40]})
            bad = True
        building = normalise_building(building_text)
        if new_compound is not None and building and len(building) <= 16:
            new_building = building
        if not building:
            err("building", _("楼栋不能为空"))
            bad = True
        elif len(building) > 16:
            err("building", _("楼栋号太长（最多16个字符）"))
            bad = True
        room_unit, room = normalise_room(room_text)
        unit = normalise_unit(unit_text) or room_unit or "1"
        if not room:
            err("room", _("房号不能为空"))
            bad = True
        elif len(room) > 16 or len(unit) > 8:
            err("room", _("房号或单元号太长"))
            bad = True
        floor = None
        if floor_text:
            try:
                floor = int(cn_number(nfkc(floor_text).removesuffix("层").removesuffix("楼")))
            except ValueError:
                err("floor", _("楼层应为整数；此项已按房号推算"), level="warning")
        if floor is None and room:
            floor = floor_of(room)
        use = ""
        if use_text:
            use = HOUSE_USES.get(choice_key(use_text), "")
            if not use:
                err("use", _("房屋用途应为 自住、出租、空置、商用 或 其他；此项已留空"), level="warning")
        area = None
        if area_text:
            try:
                area = parse_area(area_text)
            except (InvalidOperation, ValueError):
                err("area", _("面积应为1到99999之间的数字（平方米）；此项已留空"), level="warning")
                area = None
        values = None if bad else (cid, building, unit, room, floor, use, area)
        if values is None and new_compound is None:
            return None
        return values, new_compound, new_building

    def _parse_row(self, number: int, cells: list[Any]) -> Row | None:  # noqa: C901 - one check per column
        texts = self._texts(number, cells)
        if texts is None:
            return None
        place = self._place(number, texts)
        bad = place is None
        if not bad:
            cid, building, unit, room, floor, use, area = place
        else:
            use = ""
        # --- the person, through the one validation path -----------------------------------------------------
        id_raw = cells[self._i_id] if self._i_id < len(cells) else None
        if isinstance(id_raw, (int, float)) and not isinstance(id_raw, bool) and abs(id_raw) >= 1e14:
            self.err(number, "id_number", _("身份证号在Excel中被存成了数字，末几位已经丢失；请把该列设为“文本”格式后"
                                            "重新填写"))
            return None
        id_type = IdType.RESIDENT_ID
        id_number = texts["id_number"]
        if texts["id_type"]:
            id_type = ID_TYPES.get(choice_key(texts["id_type"]), "")
            if not id_type:
                self.err(number, "id_type", _("证件类型应为 居民身份证、护照、港澳通行证、台湾通行证 或 其他"))
                return None
        elif id_number:
            # No type given: the number's shape tells it (a passport is not a too-short resident ID).
            id_type = id_type_of(id_number)
            if id_type != IdType.RESIDENT_ID:
                id_number = id_shape(id_number)
                self.err(number, "id_type", _("未填证件类型，按号码格式识别为%(t)s") % {"t": IdType(id_type).label},
                         level="warning")
        residency = ""
        residency_text = texts["residency_type"]
        if residency_text:
            residency = RESIDENCY.get(choice_key(residency_text), "")
            if not residency:
                self.err(number, "residency_type", _("人口类型应为 户籍人口、流动人口、境外人员 或 其他"))
                bad = True
        phone = texts["phone"]
        if phone:
            # An optional field: a bad phone never drops the person; it is left empty and listed as a warning.
            try:
                phone = validate_mobile(phone).value
            except ValidationError as exc:
                shown = nfkc(phone)
                shown = shown[:3] + "…" if len(shown) > 3 else shown
                self.err(number, "phone", _("联系电话“%(p)s”无效（%(why)s），此项已留空，人员照常导入；请核实后补登")
                         % {"p": shown, "why": "；".join(exc.messages)}, level="warning")
                phone = ""
        # The phone was checked just above (validate_mobile, the check clean_person_data makes): it joins the data
        # after clean_person_data so that each number is checked once, not twice.
        data = PersonData(
            name=texts["name"], id_type=id_type, id_number=id_number,
            phone="", residency_type=residency or ResidencyType.REGISTERED,
            nationality=texts["nationality"][:32], ethnicity=texts["ethnicity"][:16],
            hukou_address=texts["hukou_address"][:200], work_unit=texts["work_unit"][:100], note=texts["note"],
        )
        if not data.id_number:
            self.err(number, "id_number", _("证件号码不能为空（导入按证件号码识别人员）"))
            bad = True
        else:
            try:
                clean_person_data(data, accept_warnings=True, today=self.today)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    for message in messages:
                        self.err(number, key, message)
                bad = True
        data.phone = phone
        for message in data.warnings:
            self.err(number, "id_number", message, level="warning")
        sex_text = texts["sex"].lower()
        if sex_text and data.sex and SEXES.get(sex_text) not in (None, data.sex):
            self.err(number, "sex", _("性别与身份证号不一致，以身份证号为准"), level="warning")
        elif sex_text and not data.sex:
            data.sex = SEXES.get(sex_text, "")
        relation = ""
        relation_text = texts["relation"]
        if relation_text:
            relation = RELATIONS.get(choice_key(relation_text), "")
            if not relation:
                self.err(number, "relation", _("与户主关系“%(r)s”无法识别，可填 户主、配偶、子女、父母、孙子女、"
                                               "祖父母、兄弟姐妹、儿媳/女婿、其他亲属、非亲属")
                         % {"r": relation_text[:10]})
                bad = True
        role = ""
        role_text = texts["role"]
        if role_text:
            role = ROLES.get(choice_key(role_text), "")
            if not role:
                self.err(number, "role", _("居住身份应为 产权人、租户、家庭成员、员工 或 其他"))
                bad = True
        if not role:
            role = (ResidenceRole.TENANT if use == HouseUse.RENTED else
                    ResidenceRole.OWNER if relation == Relation.HOUSEHOLDER else ResidenceRole.FAMILY)
        moved_in = None
        moved_text = texts["moved_in"]
        moved_raw = cells[self._i_moved_in] if self._i_moved_in < len(cells) else None
        if moved_text or moved_raw not in (None, ""):
            try:
                # a text cell is read as its text (what parse_date does with it, without its type checks)
                moved_in = parse_date_text(moved_text) if type(moved_raw) is str else parse_date(moved_raw)
                if moved_in > self.today:
                    self.err(number, "moved_in", _("入住日期不能晚于今天；此项已留空（记为导入当天）"),
                             level="warning")
                    moved_in = None
            except (ValueError, TypeError, OverflowError):
                self.err(number, "moved_in", _("入住日期格式应为 2020-01-31；此项已留空（记为导入当天）"),
                         level="warning")
                moved_in = None
        tags: list[int] = []
        tags_text = texts["tags"]
        if tags_text:
            for part in TAG_SPLIT.split(nfkc_keep_space(tags_text)):
                if not part:
                    continue
                tid = self.tags.get(part) or self.tags.get(part.lower())
                if tid is None:
                    self.err(number, "tags", _("人群标签“%(t)s”不存在，未添加") % {"t": part[:16]}, level="warning")
                else:
                    tags.append(tid)
        if bad:
            return None
        return Row(number=number, house_key=(cid, building, unit, room), floor=floor, use=use, area=area, data=data,
                   bidx=Person.id_index(data.id_type, data.id_number),
                   phone_bidx=Person.phone_index(data.phone) if data.phone else "",
                   relation=relation, role=role, moved_in=moved_in, tags=tags)

    @staticmethod
    def precompute_row(row: Row) -> None:
        """What the write needs beyond validation (pinyin, sealed numbers), done where the row is parsed."""
        d = row.data
        full, initials = name_pinyin(d.name)
        seal_id = uuid.uuid4()
        table = Person._meta.db_table
        row.pre = (full, initials, crypto.seal(d.id_number, table=table, column="id_number_enc", row=seal_id),
                   mask_id(d.id_number),
                   crypto.seal(d.phone, table=table, column="phone_enc", row=seal_id) if d.phone else "",
                   mask_phone(d.phone) if d.phone else "", seal_id)
