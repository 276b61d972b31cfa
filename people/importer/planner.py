"""The importer's third layer: the rows of a sheet matched against the registry, as a ``Plan``; nothing written.

``plan_import(source, user)`` reads the file (core.importexport), parses every row (people.importer.parser),
drops exact duplicate rows (a warning) and refuses a number given twice with different data, looks the natural
keys up in the database and decides: buildings and houses to create, houses and people to update or leave
unchanged, residences to open and to close, tags to add. Scope is decided here too: only compounds where the
user holds ``people.import_person`` can be named, and a person registered outside the user's scope is refused.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from core.importexport import SheetError, Table, read_table
from core.querysets import scope_q
from core.scope import PlaceSet, scope_for
from people.choices import Relation
from people.importer.formulas import formula_cells
from people.importer.normalisers import nfkc
from people.importer.parser import COLUMNS, ImportError_, Row, RowError, RowParser, source_bytes
from people.models import Person, PersonTag, Residence, Tag
from places.choices import HouseUse
from places.models import Building, Compound, House

__all__ = ["LOOKUP_BATCH", "Plan", "Planner", "chunks", "gc_paused", "import_places", "in_places", "lookup_batch",
           "plan_import"]

LOOKUP_BATCH = 900  # under SQLite's 999 bound parameters of older builds
PG_LOOKUP_BATCH = 20_000  # PostgreSQL has no such bound: one round trip (and one plan) for many keys


def lookup_batch() -> int:
    """How many keys one ``__in`` lookup takes on the database in use."""
    return LOOKUP_BATCH if connection.features.max_query_params else PG_LOOKUP_BATCH


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
    sheet: str = ""
    mapping: list[dict] = field(default_factory=list)  # [{"field", "header", "column"}]: the sheet header taken
    # Compounds the sheet names that exist nowhere yet: [{"name", "rows", "first_row", "buildings"}]; their rows
    # are errors until an officer creates them (the preview offers it) and previews again.
    compounds_to_create: list[dict] = field(default_factory=list)
    buildings_to_create: list[str] = field(default_factory=list)  # "幸福里小区 3栋", for the preview
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

    def preview(self) -> dict:
        """The summary and what the preview page shows beyond it: which sheet header was taken for which field."""
        return {**self.summary(), "header_row": self.header_row, "sheet": self.sheet, "mapping": self.mapping,
                "unknown_columns": self.unknown_columns[:50], "compounds_to_create": self.compounds_to_create[:200],
                "buildings_to_create": self.buildings_to_create[:500]}


def column_letter(index: int) -> str:
    """0 → "A", 26 → "AA"."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def header_mapping(table: Table) -> list[dict]:
    """Each field the sheet gives, in the sheet's column order, with the header text it was read from."""
    labels = {c.key: c.label for c in COLUMNS}
    return [{"field": labels.get(key, key), "header": table.headers[i] if i < len(table.headers) else "",
             "column": column_letter(i)} for key, i in sorted(table.columns.items(), key=lambda kv: kv[1])]


def import_places(user) -> PlaceSet | None:
    """Where the user may import people (``people.import_person``); None for the system itself."""
    if user is None:
        return None
    places = scope_for(user).places_for("people.import_person")
    if places is None:
        raise PermissionDenied(_("您没有导入人员的权限"))
    return places


def in_places(places: PlaceSet | None, grid_id, community_id, street_id) -> bool:
    if places is None:
        return True
    return grid_id in places.grids or community_id in places.communities or street_id in places.streets



class Planner:
    def __init__(self, table: Table, user, *, today: dt.date, progress: Callable[[int, int, str], None] | None,
                 precompute: bool = False, formulas: dict[tuple[int, int], bool] | None = None) -> None:
        self.table = table
        self.precompute = precompute
        self.user = user
        self.today = today
        self.progress = progress
        self.plan = Plan(format=table.format, header_row=table.header_row, total_rows=table.total_rows,
                         unknown_columns=table.unknown, sheet=table.sheet, mapping=header_mapping(table))
        self.places = import_places(user)
        self.change_places = (scope_for(user).places_for("people.change_person") if user is not None else None)
        compounds = Compound.objects.all()
        if self.places is not None:
            compounds = compounds.filter(scope_q(Compound, self.places))
        self.compounds: dict[str, int] = {}
        self.compound_names: dict[int, str] = {}
        for cid, name in compounds.values_list("id", "name"):
            self.compound_names[cid] = name
            key = nfkc(name)
            self.compounds[key] = cid
            self.compounds.setdefault(key.removesuffix("小区"), cid)
        existing = {nfkc(name) for name in Compound.objects.values_list("name", flat=True)}
        self.tags = {}
        for tid, code, name in Tag.objects.values_list("id", "code", "name"):
            self.tags[nfkc(name)] = tid
            self.tags[code.lower()] = tid

        self.parser = RowParser(table, compounds=self.compounds, tags=self.tags, today=today,
                                errors=self.plan.errors, warnings=self.plan.warnings, formulas=formulas,
                                existing=existing)

    def err(self, row: int, key: str, reason: str, level: str = "error", name: str = "") -> None:
        self.parser.err(row, key, reason, level, name)

    def house_label(self, key: tuple[int, str, str, str]) -> str:
        cid, building, unit, room = key
        return f"{self.compound_names.get(cid, '')}{building}栋{unit}单元{room}"

    def parse_all(self) -> list[Row]:
        """Every data row parsed and validated, in file order.

        One process: parsing in forked workers was tried and measured slower on this 2-core machine (every
        parsed row pickled back to the parent; 20,000 rows planned in 29-32 s with one process, 29-34 s with
        two, under load), so it was removed.
        """
        t = self.table
        total = t.total_rows
        parse, precompute, progress = self.parser.parse_row, self.precompute, self.progress
        out = []
        for i, (number, cells) in enumerate(t.rows):
            if progress and i % 5000 == 0:
                progress(i, total, "validate")
            row = parse(number, cells)
            if row is not None:
                if precompute:
                    RowParser.precompute_row(row)
                out.append(row)
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
                name = row.data.name
                if first[1] == signature:
                    self.err(number, "id_number", _("与第%(n)d行完全相同，已忽略（只导入一次）") % {"n": first[0]},
                             level="warning", name=name)
                elif first[1][0] != row.house_key:
                    self.err(number, "id_number", _(
                        "同一证件号码登记在两处房屋：第%(a)d行（%(h1)s）和第%(b)d行（%(h2)s）；一人只能现住一处，"
                        "请确认实际居住地后删去另一行") % {"a": first[0], "h1": self.house_label(first[1][0]),
                                                   "b": number, "h2": self.house_label(row.house_key)}, name=name)
                else:
                    self.err(number, "id_number", _("证件号码与第%(n)d行重复，但姓名、电话或关系不同（第%(n)d行和第"
                                                    "%(m)d行），请核对后只保留一行") % {"n": first[0], "m": number},
                             name=name)
                continue
            seen[row.bidx] = (number, signature)
            plan.rows.append(row)
        if self.progress:
            self.progress(total, total, "validate")
        plan.compounds_to_create = [
            {"name": name, "rows": len(new["rows"]), "first_row": new["rows"][0],
             "buildings": sorted(new["buildings"], key=lambda b: (len(b), b))}
            for name, new in sorted(self.parser.to_create.items(), key=lambda kv: kv[1]["rows"][0])]
        self.resolve()
        plan.buildings_to_create = [f"{self.compound_names.get(c, '')} {n}栋" for c, n in plan.new_buildings]
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
        batch = lookup_batch()
        for chunk in chunks(ids, batch):
            for hid, bid, unit, room, use, area in House.objects.filter(building_id__in=chunk).values_list(
                    "id", "building_id", "unit", "room", "use", "area"):
                c, n = by_building[bid]
                houses[(c, n, unit, room)] = (hid, use, area)
        # People by blind index.
        people: dict[str, dict] = {}
        fields = ("id", "id_type", "id_number_bidx", "name", "phone_bidx", "residency_type", "nationality",
                  "ethnicity", "hukou_address", "work_unit", "note", "grid_id", "community_id", "street_id", "version")
        for chunk in chunks(sorted({r.bidx for r in rows}), batch):
            for values in values_where_in(Person, fields, "id_number_bidx", chunk):
                p = dict(zip(fields, values, strict=True))
                people[p["id_number_bidx"] + p["id_type"]] = p
        person_ids = [p["id"] for p in people.values()]
        open_res: dict[int, list[tuple[int, int, str, str]]] = {}
        for chunk in chunks(person_ids, batch):
            for rid, pid, hid, rel, role in Residence.objects.filter(person_id__in=chunk, moved_out__isnull=True) \
                    .values_list("id", "person_id", "house_id", "relation", "role"):
                open_res.setdefault(pid, []).append((rid, hid, rel, role))
        existing_house_ids = [v[0] for v in houses.values()]
        householders: dict[int, int] = {}  # house id -> person id of the current householder
        for chunk in chunks(existing_house_ids, batch):
            householders.update(Residence.objects.filter(house_id__in=chunk, relation=Relation.HOUSEHOLDER,
                                                         moved_out__isnull=True).values_list("house_id", "person_id"))
        house_places = {}
        lived_in = {x[1] for lst in open_res.values() for x in lst}
        for chunk in chunks(sorted(lived_in), batch):
            for hid, g, c, s in House.objects.filter(id__in=chunk).values_list("id", "grid_id", "community_id",
                                                                                 "street_id"):
                house_places[hid] = (g, c, s)
        person_tags: set[tuple[int, int]] = set()
        for chunk in chunks(person_ids, batch):
            person_tags.update(PersonTag.objects.filter(person_id__in=chunk).values_list("person_id", "tag_id"))

        counts = dict.fromkeys(["houses_create", "houses_update", "houses_unchanged", "people_create",
                                "people_update", "people_unchanged", "buildings_create"], 0)
        house_seen: set[tuple] = set()
        leaving: set[int] = set()  # persons whose current residences end in this import
        new_householder: dict[tuple, int] = {}  # house key -> row number
        found = []  # each row's person in the registry (or None), in row order
        for r in rows:
            p = people.get(r.bidx + r.data.id_type) if people else None
            found.append(p)
            r.person_id = p["id"] if p else None
            r.house_id = houses[r.house_key][0] if r.house_key in houses else None
        demoted = _demoted(rows, open_res)
        new_buildings, new_houses, householder = plan.new_buildings, plan.new_houses, Relation.HOUSEHOLDER
        for i, (r, p) in enumerate(zip(rows, found, strict=True)):
            if self.progress and i % 20000 == 0:
                self.progress(i, len(rows), "match")
            house_key = r.house_key
            c, n, unit, room = house_key
            bkey = (c, n)
            nb = new_buildings.get(bkey)
            if nb is None and bkey not in buildings:
                nb = new_buildings[bkey] = {"compound_id": c, "number": n, "floors": max(r.floor, 1), "units": 1}
                counts["buildings_create"] += 1
            if nb is not None:
                if r.floor > nb["floors"]:
                    nb["floors"] = r.floor
                if unit.isdigit() and int(unit) > nb["units"]:
                    nb["units"] = int(unit)
            elif r.floor > buildings[bkey][1]:
                bid = buildings[bkey][0]
                plan.raise_floors[bid] = max(plan.raise_floors.get(bid, 0), r.floor)
            existing = houses.get(house_key)
            if existing is None:
                if house_key not in new_houses:
                    new_houses[house_key] = {"floor": r.floor, "use": r.use or HouseUse.OWNER, "area": r.area}
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
            house_seen.add(house_key)
            # The person.
            if r.relation == householder:
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
            if not in_places(self.change_places, p["grid_id"], p["community_id"], p["street_id"]):
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
                if not in_places(self.change_places, *house_places.get(hid, (None, None, None))):
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


def sheet_formulas(data: bytes, table: Table) -> dict[tuple[int, int], bool]:
    """The formula cells of the sheet read (an .xlsx), which the cell reader shows as their cached values only."""
    return formula_cells(data, table.sheet) if table.format == "xlsx" else {}


def values_where_in(model, fields: Sequence[str], key: str, keys: list) -> list[tuple]:
    """``model.objects.filter(<key>__in=keys).values_list(*fields)`` for plain text and integer columns, without the
    ORM preparing every key one by one (a tenth of a second for 20,000 blind indexes)."""
    if not keys:
        return []
    qn, opts = connection.ops.quote_name, model._meta
    columns = ", ".join(qn(opts.get_field(f).column) for f in fields)
    if connection.vendor == "postgresql":  # the keys as one array parameter: nothing to parse per key
        where, params = "= ANY(%s)", [list(keys)]
    else:
        where, params = f"IN ({', '.join(['%s'] * len(keys))})", list(keys)
    sql = (f"SELECT {columns} FROM {qn(opts.db_table)} "  # noqa: S608 - names from the model, keys as parameters
           f"WHERE {qn(opts.get_field(key).column)} {where}")
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a sheet is planned and written.

    An import allocates a few objects per cell and keeps nearly all of them until it ends (rows, their data,
    the lookups); the collector would walk them again and again (about a tenth of a 20,000-row import) and
    find no cycle to free. Reference counting still frees everything as usual; the collector is turned back on
    (if it was on) when the import ends, whatever happened.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def chunks(items, size: int):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def plan_import(source: str | Path | bytes | IO[bytes], user, *, file_name: str = "",
                progress: Callable[[int, int, str], None] | None = None, precompute: bool = False) -> Plan:
    """Read and check the whole file without writing anything. ``precompute``: also seal the numbers and read
    the names' pinyin (the commit needs them)."""
    data = source_bytes(source)
    with gc_paused():
        try:
            table = read_table(data, COLUMNS)
        except SheetError as exc:
            raise ImportError_(str(exc)) from None
        plan = Planner(table, user, today=timezone.localdate(), progress=progress, precompute=precompute,
                       formulas=sheet_formulas(data, table)).run()
    plan.file_name = file_name
    plan.sha256 = hashlib.sha256(data).hexdigest()
    return plan
