"""Importing the people-and-houses sheets communities keep (issue 2 point 5)."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied

from conftest import resident_id
from core.models import AuditEvent
from people.importer import (
    ImportError_,
    commit_import,
    normalise_building,
    normalise_room,
    normalise_unit,
    plan_import,
    write_error_sheet,
    writer,
)
from people.models import Person, Residence
from places.models import Building, House

HEADER = ["小区", "楼栋", "单元", "房号", "姓名", "身份证号", "联系电话", "与户主关系", "人口类型"]
ID1 = resident_id("32050719850101001")
ID2 = resident_id("32050719870202002")
ID3 = resident_id("32050720120303003")


def xlsx(rows: list[list], header: list[str] = HEADER, *, title: str | None = None, merges=()) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def family(compound: str = "A1花园", phone: str = "13912345678") -> list[list]:
    return [
        [compound, "5幢", "1单元", "301室", "陈大明", ID1, phone, "户主", "户籍人口"],
        [compound, "5栋", "一单元", "301", "林小红", ID2, "13912345679", "配偶", "户籍人口"],
        [compound, "5号楼", "1", "302", "陈小小", ID3, "", "户主", "流动人口"],
    ]


def test_normalisers_read_the_ways_people_write_addresses():
    assert {normalise_building(x) for x in ["3幢", "3栋", "3号楼", "3#", "第三栋", "３", "03"]} == {"3"}
    assert {normalise_unit(x) for x in ["一单元", "1单元", "01", "1", "１"]} == {"1"}
    assert normalise_room("301室") == ("", "301")
    assert normalise_room("３０１") == ("", "301")
    assert normalise_room("2-301") == ("2", "301")
    assert normalise_room("2单元301室") == ("2", "301")


def test_preview_counts_houses_and_people_without_writing(world):
    officer = world.users.officer_a
    before = Person.objects.count()
    plan = plan_import(xlsx(family()), officer, file_name="a.xlsx")
    assert plan.ok, plan.errors
    assert plan.counts["houses_create"] == 2
    assert plan.counts["people_create"] == 3
    assert plan.counts["buildings_create"] == 1
    assert Person.objects.count() == before


def test_import_creates_then_reimport_changes_nothing_then_a_new_phone_is_one_update(world):
    officer = world.users.officer_a
    data = xlsx(family())
    plan = commit_import(data, officer, file_name="a.xlsx")
    assert plan.counts["people_create"] == 3
    building = Building.objects.get(compound=world.compounds["A1"], number="5")
    houses = House.objects.filter(building=building)
    assert sorted(houses.values_list("room", flat=True)) == ["301", "302"]
    assert houses.get(room="301").resident_count == 2
    chen = Person.objects.get(id_number_bidx=Person.id_index("resident_id", ID1))
    assert chen.reveal_id_number() == ID1 and chen.reveal_phone() == "13912345678"
    assert chen.grid_id == world.grids["A1"].pk and chen.is_current
    assert chen.name_initials == "cdm" and chen.birth_date.year == 1985 and chen.sex == "M"
    assert Residence.objects.get(person=chen).relation == "householder"

    again = commit_import(data, officer, file_name="a.xlsx")
    assert again.counts["people_create"] == 0 and again.counts["people_update"] == 0
    assert again.counts["people_unchanged"] == 3 and again.counts["houses_unchanged"] == 2
    assert Person.objects.filter(id_number_bidx=chen.id_number_bidx).count() == 1

    changed = commit_import(xlsx(family(phone="13800001111")), officer, file_name="b.xlsx")
    assert changed.counts["people_update"] == 1 and changed.counts["people_unchanged"] == 2
    chen.refresh_from_db()
    assert chen.reveal_phone() == "13800001111" and chen.version == 2


def test_import_writes_one_audit_event_with_counts_and_no_personal_values(world):
    commit_import(xlsx(family()), world.users.officer_a, file_name="居民.xlsx")
    ev = AuditEvent.objects.filter(action="import").get()
    assert ev.user_id == world.users.officer_a.pk
    assert ev.changes["counts"]["people_create"] == 3
    text = repr(ev.changes) + ev.object_id + ev.place
    assert "居民.xlsx" not in text
    assert not re.search(r"\d{17}[\dX]", text) and "13912345678" not in text


def test_missing_header_is_named_in_the_message(world):
    header = ["小区", "楼栋", "房号", "姓名", "电话"]
    with pytest.raises(ImportError_) as exc:
        plan_import(xlsx([["A1花园", "5", "301", "陈大明", "13912345678"]], header), world.users.officer_a)
    assert "身份证号" in str(exc.value)


def test_title_row_merged_cells_and_synonym_headers_are_understood(world):
    header = ["小区名称", "幢号", "单元", "室号", "姓 名", "公民身份号码（必填）", "手机号码", "关系", "人员类别"]
    rows = family()
    rows[1][0] = rows[2][0] = None  # the compound cell is merged down three rows
    data = xlsx(rows, header, title="A1花园 实有人口登记表", merges=["A3:A5"])
    plan = plan_import(data, world.users.officer_a)
    assert plan.header_row == 2
    assert plan.ok, plan.errors
    assert plan.counts["people_create"] == 3


def test_bad_id_is_reported_with_row_column_and_reason_in_chinese(world):
    rows = family()
    rows[1][5] = ID2[:-1] + ("0" if ID2[-1] != "0" else "1")
    rows[2][5] = "1234"
    plan = plan_import(xlsx(rows), world.users.officer_a)
    bad = {(e.row, e.column) for e in plan.errors}
    assert (3, "身份证号") in bad and (4, "身份证号") in bad
    reasons = " ".join(e.reason for e in plan.errors)
    assert "校验位" in reasons and "18位" in reasons
    with pytest.raises(ImportError_):
        commit_import(xlsx(rows), world.users.officer_a)
    assert not Person.objects.filter(name="陈大明").exists()  # the good row was not half-saved


def test_duplicate_rows_are_flagged_and_empty_rows_skipped(world):
    rows = family()
    rows.insert(1, [None] * len(HEADER))
    rows.append(list(rows[0]))  # an exact copy: a warning, ignored
    other = list(rows[0])
    other[4] = "另一个人"
    rows.append(other)  # the same ID on a different person: an error
    plan = plan_import(xlsx(rows), world.users.officer_a)
    assert [e.row for e in plan.warnings if "完全相同" in e.reason] == [6]
    assert [(e.row, e.column) for e in plan.errors] == [(7, "身份证号")]
    assert "第2行" in plan.errors[0].reason
    assert len(plan.rows) == 3


def test_formulas_in_cells_are_refused(world):
    rows = family()
    rows[0][4] = "=HYPERLINK(\"http://x\",\"陈\")"
    plan = plan_import(csv_bytes(rows), world.users.officer_a)
    assert [(e.row, e.column) for e in plan.errors] == [(2, "姓名")]
    assert "公式" in plan.errors[0].reason


def test_gbk_csv_full_width_digits_and_lower_case_x_are_read(world):
    xid = next(resident_id(f"32050719900101{i:03d}") for i in range(100, 999)
               if resident_id(f"32050719900101{i:03d}").endswith("X"))
    full_width = ID1.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [["A1花园", "６幢", "１", "３０１", "陈大明", full_width, "１３９１２３４５６７８", "户主", "户籍"],
            ["A1花园", "6幢", "1", "302", "林小红", xid.lower(), "", "户主", "流动"]]
    plan = commit_import(csv_bytes(rows, encoding="gbk"), world.users.officer_a, file_name="gbk.csv")
    assert plan.format == "csv" and plan.ok
    assert plan.counts["people_create"] == 2 and plan.counts["houses_create"] == 2
    lin = Person.objects.get(name="林小红")
    assert lin.reveal_id_number() == xid and lin.residency_type == "floating"
    assert House.objects.filter(building__number="6", room="301", unit="1").exists()


def test_a_compound_outside_the_users_scope_is_refused(world):
    plan = plan_import(xlsx(family("B1花园")), world.users.officer_a)
    assert len(plan.errors) == 3
    assert all(e.column == "小区" and "权限范围" in e.reason for e in plan.errors)
    with pytest.raises(ImportError_):
        commit_import(xlsx(family("B1花园")), world.users.officer_a)
    assert not Building.objects.filter(compound=world.compounds["B1"], number="5").exists()


def test_a_user_without_the_import_permission_cannot_import(world):
    with pytest.raises(PermissionDenied):
        plan_import(xlsx(family()), world.users.worker_a1)


def test_a_person_registered_outside_the_scope_is_not_moved(world):
    zhao = world.people["孙二娘"]  # lives in grid B1
    number = zhao.reveal_id_number()
    rows = [["A1花园", "5", "1", "301", "孙二娘", number, "", "户主", "户籍"]]
    plan = plan_import(xlsx(rows), world.users.officer_a)
    assert [e.column for e in plan.errors] == ["身份证号"]
    assert "管辖范围以外" in plan.errors[0].reason


def test_a_person_moving_within_the_scope_keeps_the_old_residence_as_history(world):
    zhang = world.people["张三"]
    rows = [["A2花园", "1", "2", "601", "张三", zhang.reveal_id_number(), "", "户主", "户籍"]]
    plan = commit_import(xlsx(rows), world.users.officer_a)
    assert plan.counts["people_update"] == 1
    res = list(Residence.objects.filter(person=zhang).order_by("id"))
    assert len(res) == 2 and res[0].moved_out is not None and res[1].moved_out is None
    zhang.refresh_from_db()
    assert zhang.grid_id == world.grids["A2"].pk


def test_an_error_in_the_middle_of_the_commit_leaves_nothing(world, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "_refresh_counts_and_places", boom)
    before = (Person.objects.count(), House.objects.count(), Building.objects.count(), Residence.objects.count())
    with pytest.raises(RuntimeError):
        commit_import(xlsx(family()), world.users.officer_a)
    after = (Person.objects.count(), House.objects.count(), Building.objects.count(), Residence.objects.count())
    assert after == before
    assert not AuditEvent.objects.filter(action="import").exists()


def test_second_householder_of_a_house_is_refused(world):
    rows = family()
    rows[1][7] = "户主"
    plan = plan_import(xlsx(rows), world.users.officer_a)
    assert [(e.row, e.column) for e in plan.errors] == [(3, "与户主关系")]
    existing = world.houses["A1"][0]  # already has 张三 as householder
    rows = [["A1花园", "1", existing.unit, existing.room, "陈大明", ID1, "", "户主", "户籍"]]
    plan = plan_import(xlsx(rows), world.users.officer_a)
    assert [e.column for e in plan.errors] == ["与户主关系"]


def test_error_sheet_lists_rows_with_masked_numbers_only(world, tmp_path):
    rows = family()
    rows[2][5] = ID3[:-1] + ("0" if ID3[-1] != "0" else "1")
    data = xlsx(rows)
    plan = plan_import(data, world.users.officer_a)
    out = tmp_path / "errors.xlsx"
    write_error_sheet(data, plan.errors, out)
    ws = openpyxl.load_workbook(out).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert tuple(values[1][:2]) == ("行号", "列")
    assert values[2][0] == 4 and values[2][1] == "身份证号" and values[2][4] == "陈小小"
    assert "********" in values[2][5]
    assert ID3[:17] not in repr(values)


def test_a_ten_megabyte_sheet_is_previewed(world, tmp_path):
    note = "备注" * 200
    lines = [",".join(HEADER + ["备注"])]
    n = 0
    size = 0
    while size < 10 * 1024 * 1024:
        number = resident_id(f"320507{1950 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}")
        row = f"A2花园,{10 + n // 2000},{1 + n % 3},{(n % 20 + 1) * 100 + n % 4 + 1},居民{n},{number},,,户籍,{note}"
        lines.append(row)
        size += len(row.encode()) + 2
        n += 1
    path = tmp_path / "big.csv"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    assert path.stat().st_size >= 10 * 1024 * 1024
    plan = plan_import(path, world.users.officer_a)
    duplicates = [e for e in plan.errors if "重复" in e.reason]
    assert len(plan.rows) + len(duplicates) == n
    assert plan.counts["people_create"] == len(plan.rows)


def test_an_update_by_import_is_on_the_audit_record_without_the_number(world):
    commit_import(xlsx(family()), world.users.officer_a)
    commit_import(xlsx(family(phone="13800001111")), world.users.officer_a)
    ev = AuditEvent.objects.filter(action="update", purpose="import").get()
    assert ev.fields == ["phone"] and ev.changes == {"phone": ["***", "***"]}
    assert ev.object_id == str(Person.objects.get(name="陈大明").pk)


def test_someone_registering_the_same_house_meanwhile_rolls_the_import_back(world, monkeypatch):
    real_write = writer._write

    def meanwhile(plan, *args, **kwargs):  # another user creates one of the planned houses first
        building = Building(compound=world.compounds["A1"], number="5", floors=6)
        building.save()
        House(building=building, unit="1", floor=3, room="301").save()
        return real_write(plan, *args, **kwargs)

    monkeypatch.setattr(writer, "_write", meanwhile)
    with pytest.raises(ImportError_) as exc:
        commit_import(xlsx(family()), world.users.officer_a)
    assert "撤销" in str(exc.value)
    assert not Person.objects.filter(name="陈大明").exists()
