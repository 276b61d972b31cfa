"""The importer's last layer: a ``Plan`` written in one transaction, in bulk, as a form would write each row.

New buildings, houses, people and residences go through the project's one bulk loader (core.bulk: COPY on
PostgreSQL, executemany on SQLite) as dicts keyed by the models' field names: the columns come from the models,
so a field added to a model is written with its default, or stops the import loudly when it has none. Updates
(changed fields, moves, closed residences) go through the ORM with version checks; then resident counts and
place keys are refreshed, the scope is checked once more inside the transaction, and one audit event records the
counts and the file's SHA-256 (never personal values). Any error rolls everything back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, crypto
from core.bulk import BulkLoader
from core.importexport import SheetError, cell_text, read_table
from core.querysets import scope_q
from core.validators import mask_id, mask_phone
from people.choices import ResidencyType
from people.importer.normalisers import nfkc
from people.importer.parser import COLUMNS, ImportError_, Row, RowError, source_bytes
from people.importer.planner import (
    Plan,
    Planner,
    chunks,
    gc_paused,
    import_places,
    lookup_batch,
    plan_import,
    sheet_formulas,
)
from people.models import Person, PersonTag, Residence
from people.pinyin import name_pinyin
from places.models import Building, Compound, House

__all__ = ["BATCH", "NAMES", "build_rows", "build_values", "commit_import", "person_row", "person_values",
           "write_error_sheet", "write_rows", "write_values"]

BATCH = 2000
WRITE_ORDER = (("building", Building), ("house", House), ("person", Person), ("residence", Residence))


# The columns each kind of row gives, in this order, beside its constants (the same for every row of an import);
# every other column takes its field's default (core.bulk).
NAMES = {
    "building": ("id", "compound_id", "grid_id", "community_id", "street_id", "number", "floors", "units"),
    "house": ("id", "building_id", "compound_id", "grid_id", "community_id", "street_id", "unit", "floor", "room",
              "area", "use", "resident_count"),
    "person": ("id", "seal_id", "name", "name_pinyin", "name_initials", "id_type", "id_number_enc", "id_number_bidx",
               "id_number_masked", "sex", "birth_date", "phone_enc", "phone_bidx", "phone_masked", "residency_type",
               "nationality", "ethnicity", "hukou_address", "work_unit", "note", "street_id", "community_id",
               "grid_id"),
    "residence": ("id", "person_id", "house_id", "role", "relation", "moved_in"),
}


def constants(key: str, now: dt.datetime) -> dict[str, Any]:
    stamp = {"created_at": now, "updated_at": now, "version": 1}
    extra = {"house": {"note": ""}, "person": {"is_current": True},
             "residence": {"moved_out": None, "move_out_reason": "", "source": "import"}}
    return {**stamp, **extra.get(key, {})}


def person_values(pid: int, r: Row, place: tuple[int, int, int]) -> tuple:
    """The Person row a form would write (people.services._apply + Person.set_id_number / set_phone), as the
    values of ``NAMES["person"]``."""
    d = r.data
    if r.pre is not None:
        full, initials, id_enc, id_masked, phone_enc, phone_masked, seal_id = r.pre
    else:
        full, initials = name_pinyin(d.name)
        seal_id, table = uuid.uuid4(), Person._meta.db_table
        id_enc = crypto.seal(d.id_number, table=table, column="id_number_enc", row=seal_id)
        id_masked = mask_id(d.id_number)
        phone_enc = crypto.seal(d.phone, table=table, column="phone_enc", row=seal_id) if d.phone else ""
        phone_masked = mask_phone(d.phone) if d.phone else ""
    grid, community, street = place
    return (pid, seal_id, d.name, full, initials, d.id_type, id_enc, r.bidx, id_masked, d.sex or "", d.birth_date,
            phone_enc, r.phone_bidx, phone_masked, d.residency_type or ResidencyType.REGISTERED,
            d.nationality or "中国", d.ethnicity, d.hukou_address, d.work_unit, d.note, street, community, grid)


def person_row(pid: int, r: Row, place: tuple[int, int, int], now: dt.datetime) -> dict[str, Any]:
    """The Person row a form would write, as a dict of field names."""
    return {**constants("person", now), **dict(zip(NAMES["person"], person_values(pid, r, place), strict=True))}


def build_values(plan: Plan, today: dt.date, now: dt.datetime, loader: BulkLoader) -> dict[str, list[tuple]]:
    """Buildings, houses, persons and residences of the plan as value tuples (``NAMES``), with fresh primary keys
    (allocated here, inside the caller's transaction)."""
    compounds = {cid: (g, c, s) for cid, g, c, s in Compound.objects.filter(id__in=plan.compound_ids)
                 .values_list("id", "grid_id", "community_id", "street_id")}
    out: dict[str, list[tuple]] = {}
    building_ids = dict(zip(plan.new_buildings, loader.allocate_ids(Building, len(plan.new_buildings)), strict=True))
    out["building"] = [(building_ids[key], b["compound_id"], *compounds[b["compound_id"]], b["number"],
                        b["floors"], b["units"]) for key, b in plan.new_buildings.items()]
    existing = {(c, n): bid for bid, c, n in Building.objects.filter(compound_id__in=plan.compound_ids)
                .values_list("id", "compound_id", "number")}
    existing.update(building_ids)
    house_ids = dict(zip(plan.new_houses, loader.allocate_ids(House, len(plan.new_houses)), strict=True))
    # A new house's residents are exactly the plan's new residences in it: its count is written with it.
    residents = Counter(r.house_key for r in plan.new_residences if r.house_key in house_ids)
    out["house"] = houses = []
    for key, h in plan.new_houses.items():
        cid, number, unit, room = key
        g, c, s = compounds[cid]
        houses.append((house_ids[key], existing[(cid, number)], cid, g, c, s, unit, h["floor"], room, h["area"],
                       h["use"], residents[key]))
    person_ids = loader.allocate_ids(Person, len(plan.new_people))
    out["person"] = people = []
    for pid, r in zip(person_ids, plan.new_people, strict=True):
        r.person_id = pid
        if r.house_id is None:
            r.house_id = house_ids[r.house_key]
        people.append(person_values(pid, r, compounds[r.house_key[0]]))
    residence_ids = loader.allocate_ids(Residence, len(plan.new_residences))
    out["residence"] = residences = []
    for rid, r in zip(residence_ids, plan.new_residences, strict=True):
        if r.house_id is None:
            r.house_id = house_ids[r.house_key]
        residences.append((rid, r.person_id, r.house_id, r.role, r.relation, r.moved_in or today))
    return out


def build_rows(plan: Plan, today: dt.date, now: dt.datetime, loader: BulkLoader) -> dict[str, list[dict]]:
    """Buildings, houses, persons and residences of the plan as row dicts, with fresh primary keys."""
    out = {}
    for key, values in build_values(plan, today, now, loader).items():
        fixed, names = constants(key, now), NAMES[key]
        out[key] = [{**fixed, **dict(zip(names, v, strict=True))} for v in values]
    return out


def write_rows(loader: BulkLoader, rows: dict[str, list[dict]],
               keys: tuple[str, ...] = ("building", "house", "person", "residence")) -> None:
    for key, model in WRITE_ORDER:
        if key in keys:
            data = rows.get(key, [])
            for i in range(0, len(data), 20000):
                loader.insert(model, data[i:i + 20000])


def write_values(loader: BulkLoader, values: dict[str, list[tuple]], now: dt.datetime,
                 keys: tuple[str, ...] = ("building", "house", "person", "residence")) -> None:
    """``build_values`` written: each value tuple becomes the row ``write_rows`` writes for its dict (the same
    columns, defaults and conversions, core.bulk.BulkTable.maker) without building the dict."""
    for key, model in WRITE_ORDER:
        if key in keys:
            make = loader.table(model).maker(NAMES[key], constants(key, now))
            data = values.get(key, [])
            for i in range(0, len(data), 20000):
                loader.insert_tuples(model, [make(v) for v in data[i:i + 20000]])


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
        for chunk in chunks(list(plan.house_updates), lookup_batch()):
            House.objects.filter(id__in=chunk).update(version=F("version") + 1, updated_at=now)
    for bid, floors in plan.raise_floors.items():
        Building.objects.filter(id=bid, floors__lt=floors).update(floors=floors, updated_at=now)
    # People: the changed fields, version checked (a person edited since the plan was read is a conflict).
    phoned = [pid for pid, change in plan.person_updates.items() if "phone" in change]
    seal_ids: dict[int, Any] = {}
    for chunk in chunks(phoned, lookup_batch()):
        seal_ids.update(Person._base_manager.filter(pk__in=chunk).values_list("pk", "seal_id"))
    for pid, change in plan.person_updates.items():
        values: dict[str, Any] = {k: v for k, v in change.items() if not k.startswith("_") and k != "residence"}
        if "phone" in values:
            phone = values.pop("phone")
            # sealed for the person's own row: its seal_id, read above (the row exists; the version check below
            # refuses a person changed since)
            values.update(phone_enc=crypto.seal(phone, table=Person._meta.db_table, column="phone_enc",
                                                row=seal_ids[pid]),
                          phone_bidx=Person.phone_index(phone), phone_masked=mask_phone(phone))
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
    for chunk in chunks(plan.close_residences, lookup_batch()):
        Residence.objects.filter(id__in=chunk, moved_out__isnull=True).update(
            moved_out=today, move_out_reason=_("导入：迁至新住址"), updated_at=now)


def _refresh_counts_and_places(plan: Plan, touched_houses: set[int], moved_people: list[int]) -> None:
    open_count = (Residence.objects.filter(house_id=OuterRef("pk"), moved_out__isnull=True)
                  .order_by().values("house_id").annotate(n=Count("id")).values("n"))
    for chunk in chunks(sorted(touched_houses), lookup_batch()):
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


def _check_scope(plan: Plan, user, updated_people: list[int]) -> None:
    """Inside the transaction: everything written lies where the user may import, or all of it rolls back.

    Every new building, house and person takes its place keys from its compound, so the compounds are checked
    (read again now, inside the transaction); the people updated or moved are checked themselves.
    """
    places = import_places(user)
    if places is None:
        return
    if Compound.objects.filter(id__in=plan.compound_ids).exclude(scope_q(Compound, places)).exists():
        raise PermissionDenied(_("导入的房屋不在您的管辖范围内，导入已撤销"))
    for chunk in chunks(updated_people, lookup_batch()):
        if Person.objects.filter(id__in=chunk).exclude(scope_q(Person, places)).exists():
            raise PermissionDenied(_("导入的人员不在您的管辖范围内，导入已撤销"))


def commit_import(source: str | Path | bytes | IO[bytes], user, *, file_name: str = "", skip_errors: bool = False,
                  progress: Callable[[int, int, str], None] | None = None) -> Plan:
    """Plan, then write in one transaction. Raises ImportError_ (nothing written) when any row is bad, unless
    ``skip_errors``: then the good rows are written and the bad ones are listed in the plan.

    The plan only reads, so it runs before the transaction: on SQLite the write lock is then held for the writes
    alone, not for the validation of the whole file. A change made by someone else in between (the same person
    or house created, a person edited) fails a constraint or the version check and rolls the import back.
    """
    with gc_paused():
        return _commit(source, user, file_name, skip_errors, progress)


def _commit(source, user, file_name: str, skip_errors: bool, progress) -> Plan:
    plan = plan_import(source, user, file_name=file_name, progress=progress, precompute=True)
    if plan.errors and not skip_errors:
        raise ImportError_(_("有%(n)d处错误，未导入任何数据；请按错误清单修改后重新导入") % {"n": len(plan.errors)},
                           plan.errors + plan.warnings)
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
    loader = BulkLoader()
    values = build_values(plan, today, now, loader)
    write_values(loader, values, now, ("building", "house", "person"))
    _apply_updates(plan, user, today, now)  # ends and demotes residences before new ones may take their place
    write_values(loader, values, now, ("residence",))
    tag_rows = {r.number: r.person_id for r in plan.rows}
    tag_objs = [PersonTag(person_id=tag_rows[n], tag_id=t) for n, t in plan.new_tags if tag_rows.get(n)]
    PersonTag.objects.bulk_create(tag_objs, batch_size=BATCH, ignore_conflicts=True)
    touched = {r.house_id for r in plan.rows if r.house_id}
    touched.difference_update(h[0] for h in values["house"])  # new houses were written with their counts
    touched.update(_house_ids_of(plan.close_residences))
    moved = [pid for pid, ch in plan.person_updates.items() if ch.get("_moved")]
    _refresh_counts_and_places(plan, touched, moved)
    _check_scope(plan, user, list(plan.person_updates))
    _send_findings(plan, tag_rows)
    audit.record("import", user=user, object_type="people.person", object_id=plan.sha256[:16],
                 changes={"counts": plan.summary(), "file_sha256": plan.sha256,
                          "file_name_sha256": hashlib.sha256(file_name.encode()).hexdigest()},
                 place=",".join(f"compound:{c}" for c in sorted(plan.compound_ids))[:200], purpose="import")
    if progress:
        progress(len(plan.rows), len(plan.rows), "write")


DROPPED_FIELDS = {"phone"}  # optional fields a bad value leaves empty (parser.py: never drops the person)


def _send_findings(plan: Plan, person_of_row: dict[int, int | None]) -> None:
    from people.signals import import_committed

    house_of_row = {r.number: r.house_id for r in plan.rows}
    findings = [(person_of_row[w.row], house_of_row.get(w.row), w.field, w.row)
                for w in plan.warnings if w.field in DROPPED_FIELDS and person_of_row.get(w.row)]
    if findings:
        import_committed.send(sender=Plan, findings=findings)


def _house_ids_of(residence_ids: list[int]) -> set[int]:
    out: set[int] = set()
    for chunk in chunks(residence_ids, lookup_batch()):
        out.update(Residence.objects.filter(id__in=chunk).values_list("house_id", flat=True))
    return out


def _drop_rows(plan: Plan, bad_rows: set[int], source, user, file_name, progress) -> Plan:
    """Plan again without the rows that have errors (their decisions may depend on each other)."""
    data = source_bytes(source)
    table = read_table(data, COLUMNS)
    table.rows = ((n, cells) for n, cells in table.rows if n not in bad_rows)
    again = Planner(table, user, today=timezone.localdate(), progress=progress, precompute=True,
                    formulas=sheet_formulas(data, table)).run()
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
        table = read_table(source_bytes(source), COLUMNS)
        for n, cells in table.rows:
            if n in wanted:
                number = nfkc(table.value(cells, "id_number")).upper()
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
