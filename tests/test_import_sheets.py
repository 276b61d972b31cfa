"""The sheets communities really keep (issue 13 point 5): their headers, their optional fields, their passports,
their duplicates and the compounds they name that the registry does not hold yet."""

from __future__ import annotations

import io

import openpyxl
from django.urls import reverse

from conftest import resident_id
from people.importer import commit_import, plan_import
from people.models import Person

ID1 = resident_id("32050719850101001")
ID2 = resident_id("32050719870202002")
ID3 = resident_id("32050720120303003")


def sheet(header: list[str], rows: list[list], *, title: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


COMMON = ["所属小区", "楼号", "单元", "门牌号", "姓名", "身份证号码", "手机号码", "户主关系"]


def test_the_headers_such_sheets_use_are_read_and_the_preview_says_which_was_taken(world):
    rows = [["A1花园", "5", "1", "301", "陈大明", ID1, "13912345678", "户主"],
            ["A1花园", "5", "1", "301", "林小红", ID2, "", "配偶"]]
    plan = plan_import(sheet(COMMON, rows, title="A社区实有人口登记表（2026年）"), world.users.officer_a)
    assert plan.ok, plan.errors
    assert plan.header_row == 2 and plan.counts["people_create"] == 2
    taken = {m["field"]: m["header"] for m in plan.mapping}
    assert taken["小区"] == "所属小区" and taken["楼栋"] == "楼号" and taken["房号"] == "门牌号"
    assert taken["身份证号"] == "身份证号码" and taken["联系电话"] == "手机号码" and taken["与户主关系"] == "户主关系"
    for header in (["小区名称", "楼栋号", "单元", "房号", "姓名", "公民身份号码", "联系电话", "与户主关系"],
                   ["小区", "楼栋", "单元", "房号", "姓名", "证件号码", "联系电话", "与户主关系"]):
        assert plan_import(sheet(header, rows), world.users.officer_a).ok


def test_the_preview_page_shows_the_header_taken_for_each_field(world, client):
    client.force_login(world.users.officer_a)
    rows = [["A1花园", "5", "1", "301", "陈大明", ID1, "13912345678", "户主"]]
    upload = io.BytesIO(sheet(COMMON, rows, title="登记表"))
    upload.name = "名单.xlsx"
    resp = client.post(reverse("people:import"), {"file": upload})
    page = client.get(resp["Location"]).content.decode()
    assert "所属小区" in page and "门牌号" in page and "第2行" in page


def test_a_person_with_an_unallocated_phone_prefix_is_imported_without_the_phone_and_warned(world):
    rows = [["A1花园", "5", "1", "301", "陈大明", ID1, "14012345678", "户主"],  # 140: no such prefix
            ["A1花园", "5", "1", "301", "林小红", ID2, "1391234567", "配偶"],   # 10 digits
            ["A1花园", "5", "1", "302", "陈小小", ID3, "13912345678", "户主"]]
    plan = plan_import(sheet(COMMON, rows), world.users.officer_a)
    assert plan.ok, plan.errors
    assert plan.counts["people_create"] == 3
    warned = {(w.row, w.column) for w in plan.warnings}
    assert (2, "联系电话") in warned and (3, "联系电话") in warned
    assert all("留空" in w.reason for w in plan.warnings if w.column == "联系电话")
    commit_import(sheet(COMMON, rows), world.users.officer_a)
    chen = Person.objects.get(name="陈大明")
    assert chen.phone_bidx == "" and chen.phone_masked == ""
    assert Person.objects.get(name="陈小小").phone_masked



def test_a_phone_left_empty_by_the_import_is_a_data_quality_issue_until_it_is_registered(world):
    """The person is kept and the officer is told where to look: an open issue for each of the two people whose
    phone was invalid (none for the third), kept by the recompute while the phone is empty, resolved once it is
    registered."""
    from people.services import PersonData, save_person
    from quality.engine import recompute_all
    from quality.models import QualityIssue

    rows = [["A1花园", "5", "1", "301", "陈大明", ID1, "14012345678", "户主"],
            ["A1花园", "5", "1", "301", "林小红", ID2, "1391234567", "配偶"],
            ["A1花园", "5", "1", "302", "陈小小", ID3, "13912345678", "户主"]]
    commit_import(sheet(COMMON, rows), world.users.officer_a)
    open_ = QualityIssue.objects.filter(rule="import_phone_dropped", status="open")
    assert sorted(open_.values_list("person__name", flat=True)) == ["林小红", "陈大明"]
    lin = Person.objects.get(name="林小红")
    issue = open_.get(person=lin)
    assert issue.detail == "导入表格第3行" and issue.grid_id == world.grids["A1"].pk
    recompute_all()
    assert open_.count() == 2  # the phone is still empty: still an issue
    # The officer registers the phone after a call (the person's form: every field as it was, the phone added).
    save_person(world.users.officer_a, PersonData(
        name=lin.name, id_type=lin.id_type, id_number=ID2, phone="13912345670", residency_type=lin.residency_type,
        sex=lin.sex, birth_date=lin.birth_date), lin, expected_version=lin.version, accept_warnings=True)
    recompute_all()
    issue.refresh_from_db()
    assert issue.status == "resolved"
    assert open_.get().person.name == "陈大明"


def _with_cached_value(data: bytes, value: str) -> bytes:
    """openpyxl writes formulas without their computed value; put one in, as Excel would have saved it."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                body = re.sub(rb"(<f>[^<]*</f>)(<v\s*/>|<v></v>)?", rb"\1<v>" + value.encode() + rb"</v>", body)
            dst.writestr(item, body)
    return out.getvalue()


def test_a_formula_in_a_cell_is_a_row_error_or_its_cached_value_with_a_warning(world):
    rows = [["A1花园", "5", "1", "301", "陈大明", ID1, '=CONCATENATE("139","12345678")', "户主"],
            ["A1花园", "5", "1", "302", "陈小小", ID3, "13912345678", "户主"]]
    data = sheet(COMMON, rows)
    plan = plan_import(data, world.users.officer_a)
    assert [(e.row, e.column) for e in plan.errors] == [(2, "联系电话")]
    assert "公式" in plan.errors[0].reason
    plan = plan_import(_with_cached_value(data, "13912345670"), world.users.officer_a)
    assert plan.ok, plan.errors
    assert [(w.row, w.column) for w in plan.warnings if "公式" in w.reason] == [(2, "联系电话")]
    assert next(r for r in plan.rows if r.number == 2).data.phone == "13912345670"


def test_the_document_type_is_read_from_the_numbers_shape_without_a_type_column(world):
    from people.importer.normalisers import id_type_of

    assert id_type_of(ID1) == "resident_id" and id_type_of("1234") == "resident_id"
    assert id_type_of(ID1[:17]) == "resident_id"  # a resident ID one digit short stays one (and is refused)
    assert id_type_of("E12345678") == id_type_of("G1234567") == id_type_of("ea1234567") == "passport"
    assert id_type_of("H12345678") == id_type_of("M1234567890") == "hk_macau"
    assert id_type_of("12345678") == id_type_of("1234567890(B)") == id_type_of("1234567890B") == "taiwan"
    rows = [["A1花园", "5", "1", "301", "John Smith", "E12345678", "", "户主"],
            ["A1花园", "5", "1", "301", "陈大明", ID1, "", "配偶"],
            ["A1花园", "5", "1", "302", "何家明", "H12345678", "", "户主"],
            ["A1花园", "5", "1", "303", "林志明", "12345678", "", "户主"],
            ["A1花园", "5", "1", "304", "坏号码", "1234", "", "户主"]]
    plan = plan_import(sheet(COMMON, rows), world.users.officer_a)
    assert [(e.row, e.column) for e in plan.errors] == [(6, "身份证号")]
    types = {r.data.name: r.data.id_type for r in plan.rows}
    assert types == {"John Smith": "passport", "陈大明": "resident_id", "何家明": "hk_macau", "林志明": "taiwan"}
    commit_import(sheet(COMMON, rows[:4]), world.users.officer_a)
    assert Person.objects.get(name="John Smith").id_type == "passport"


def test_an_exact_duplicate_is_imported_once_and_one_id_in_two_homes_is_an_error_naming_both_rows(world):
    rows = [["A1花园", "5", "1", "301", "陈大明", ID1, "13912345678", "户主"],
            ["A1花园", "5", "1", "301", "陈大明", ID1, "13912345678", "户主"],  # the same row again
            ["A1花园", "5", "1", "302", "陈小小", ID3, "", "户主"],
            ["A1花园", "6", "2", "501", "陈大明", ID1, "13912345678", "户主"]]  # the same person in another home
    plan = plan_import(sheet(COMMON, rows), world.users.officer_a)
    assert [w.row for w in plan.warnings if "完全相同" in w.reason] == [3]
    assert [(e.row, e.column) for e in plan.errors] == [(5, "身份证号")]
    reason = plan.errors[0].reason
    assert "第2行" in reason and "第5行" in reason and "两处" in reason
    assert "5栋1单元301" in reason and "6栋2单元501" in reason
    assert plan.errors[0].name == "陈大明"
    done = commit_import(sheet(COMMON, rows), world.users.officer_a, skip_errors=True)
    assert done.counts["people_create"] == 2 and Person.objects.filter(name="陈大明").count() == 1


def test_a_refused_commit_keeps_the_warnings_and_the_page_shows_the_names(world, client):
    client.force_login(world.users.officer_a)
    rows = [["A1花园", "5", "1", "301", "陈大明", ID1, "13912345678", "户主"],
            ["A1花园", "5", "1", "301", "陈大明", ID1, "13912345678", "户主"],
            ["A1花园", "5", "1", "302", "王坏号", "1234", "", "户主"]]
    upload = io.BytesIO(sheet(COMMON, rows))
    upload.name = "名单.xlsx"
    location = client.post(reverse("people:import"), {"file": upload})["Location"]
    token = location.rstrip("/").split("/")[-1]
    client.post(reverse("people:import_commit", args=[token]))
    page = client.get(location).content.decode()
    assert "完全相同" in page and "王坏号" in page


NEW_COMPOUND_ROWS = [["幸福里小区", "3", "1", "101", "陈大明", ID1, "13912345678", "户主"],
                     ["幸福里小区", "3", "1", "101", "林小红", ID2, "", "配偶"],
                     ["和园", "1", "1", "202", "陈小小", ID3, "", "户主"],
                     ["B1花园", "1", "1", "202", "王外区", resident_id("32050719800505005"), "", "户主"]]


def test_compounds_the_sheet_names_that_do_not_exist_are_listed_to_create(world):
    plan = plan_import(sheet(COMMON, NEW_COMPOUND_ROWS), world.users.officer_a)
    assert {c["name"]: c["rows"] for c in plan.compounds_to_create} == {"幸福里小区": 2, "和园": 1}
    assert {c["name"]: c["buildings"] for c in plan.compounds_to_create} == {"幸福里小区": ["3"], "和园": ["1"]}
    by_row = {e.row: e.reason for e in plan.errors}
    assert "尚未建立" in by_row[2] and "尚未建立" in by_row[4]
    assert "权限范围" in by_row[5]  # B1花园 exists, outside community A: not offered for creation
    assert plan.preview()["compounds_to_create"] == plan.compounds_to_create


def test_the_officer_creates_the_missing_compounds_from_the_preview_in_a_grid_of_their_scope(world, client):
    from places.models import Compound

    officer = world.users.officer_a
    client.force_login(officer)
    upload = io.BytesIO(sheet(COMMON, NEW_COMPOUND_ROWS[:3]))
    upload.name = "名单.xlsx"
    location = client.post(reverse("people:import"), {"file": upload})["Location"]
    token = location.rstrip("/").split("/")[-1]
    page = client.get(location).content.decode()
    assert "待新建" in page and "幸福里小区" in page and "和园" in page
    assert f'value="{world.grids["A2"].pk}"' in page and f'value="{world.grids["B1"].pk}"' not in page
    url = reverse("people:import_create_places", args=[token])
    # A grid outside the officer's scope is refused, nothing created.
    resp = client.post(url, {"grid": world.grids["B1"].pk, "compound": ["幸福里小区", "和园"]})
    assert resp.status_code == 400 and not Compound.objects.filter(name="和园").exists()
    resp = client.post(url, {"grid": world.grids["A2"].pk, "compound": ["幸福里小区", "和园"]})
    assert resp.status_code == 302
    created = Compound.objects.filter(name__in=["幸福里小区", "和园"])
    assert {c.grid_id for c in created} == {world.grids["A2"].pk} and created.count() == 2
    from people.iomodels import ImportJob

    job = ImportJob.objects.get(token=token)
    assert job.state == "previewed" and job.preview["errors"] == 0, job.errors
    assert job.preview["buildings_create"] == 2
    page = client.get(location).content.decode()
    assert "待新建的楼栋" in page and "幸福里小区 3栋" in page and "尚未建立" not in page
    client.post(reverse("people:import_commit", args=[token]))
    job.refresh_from_db()
    assert job.state == "done" and job.result["people_create"] == 3
    assert Person.objects.get(name="陈小小").grid_id == world.grids["A2"].pk


def community_sheet() -> tuple[bytes, dict]:
    """A population sheet in the common shape of issue 13: a title row, 所属小区 and friends as headers, no
    证件类型 column with passports and permits mixed in, unallocated phone prefixes, a formula in a phone cell,
    exact duplicate rows, one ID in two homes and a few bad IDs, in two compounds the registry does not hold yet.
    103 valid people in 40 homes (23 of three people, 17 of two)."""
    header = ["序号", "所属小区", "楼号", "单元", "门牌号", "姓名", "性别", "身份证号码", "手机号码", "户主关系",
              "备注"]
    homes = []
    for compound in ("锦绣花苑", "金桂园"):
        for building in ("1栋", "2栋"):
            for unit in ("1单元", "2单元"):
                for room in ("101", "102", "201", "202", "301"):
                    homes.append((compound, building, unit, room))
    assert len(homes) == 40
    others = iter(["E12345678", "G1234567", "E87654321", "EA1234567", "G7654321", "H12345678", "12345678"])
    bad_phones = iter(["14012345678", "12012345678", "1391234567"])
    rows, seq = [], 0
    for h, home in enumerate(homes):
        size = 3 if h < 23 else 2
        for k in range(size):
            seq += 1
            if seq % 14 == 0:
                number = next(others, None)
            else:
                number = None
            if number is None:
                number = resident_id(f"320507{1950 + seq % 50}{1 + seq % 12:02d}{1 + seq % 28:02d}{seq:03d}")
                sex = "男" if int(number[16]) % 2 else "女"
            else:
                sex = "男"
            phone = f"139{seq:08d}"
            if seq % 31 == 0:
                phone = next(bad_phones)
            relation = "户主" if k == 0 else ("配偶" if k == 1 else "子女")
            rows.append([*home, f"居民{seq:03d}", sex, number, phone, relation, ""])
    valid = len(rows)
    extra = [
        list(rows[4]), list(rows[50]), list(rows[90]),  # exact duplicate rows
        [*homes[39], rows[10][4], rows[10][5], rows[10][6], rows[10][7], "子女", ""],  # one ID in a second home
        [*homes[0], "错校验", "男", rows[0][6][:-1] + ("0" if rows[0][6][-1] != "0" else "1"), "", "子女", ""],
        [*homes[1], "少一位", "男", "32050719800101001", "", "子女", ""],
        [*homes[2], "错生日", "男", resident_id("32050719801301001"), "", "子女", ""],
        [*homes[3], "公式号", "男", resident_id("32050719900909009"), '=CONCATENATE("139","00000000")', "子女", ""],
    ]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["幸福社区实有人口登记表（2026年12月）"])
    ws.append(header)
    for i, row in enumerate(rows + extra, start=1):
        ws.append([i, *row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), {"valid": valid, "homes": len(homes), "passports": sum(
        1 for r in rows if not r[6][:1].isdigit() or len(r[6]) == 8)}


def test_a_sheet_as_communities_keep_it_imports_103_people_in_40_homes_once_the_compounds_are_created(
        world, client):
    from places.models import Compound, House

    data, facts = community_sheet()
    assert facts == {"valid": 103, "homes": 40, "passports": 7}
    officer = world.users.officer_a
    client.force_login(officer)
    upload = io.BytesIO(data)
    upload.name = "幸福社区人口.xlsx"
    location = client.post(reverse("people:import"), {"file": upload})["Location"]
    token = location.rstrip("/").split("/")[-1]
    from people.iomodels import ImportJob

    job = ImportJob.objects.get(token=token)
    assert job.preview["header_row"] == 2
    assert {c["name"]: c["rows"] for c in job.preview["compounds_to_create"]} == {"锦绣花苑": 65, "金桂园": 45}
    client.post(reverse("people:import_create_places", args=[token]),
                {"grid": world.grids["A2"].pk, "compound": ["锦绣花苑", "金桂园"]})
    job.refresh_from_db()
    errors = [e for e in job.errors if e["level"] == "error"]
    warnings = [e for e in job.errors if e["level"] != "error"]
    assert [(e["row"], e["column"]) for e in errors] == [(109, "身份证号"), (110, "身份证号"), (111, "身份证号"),
                                                       (112, "身份证号"), (113, "联系电话")]
    assert "两处" in errors[0]["reason"] and "第13行" in errors[0]["reason"]
    assert sum("完全相同" in w["reason"] for w in warnings) == 3
    assert sum(w["column"] == "联系电话" for w in warnings) == 3
    assert sum(w["column"] == "证件类型" for w in warnings) == 7
    assert job.preview["people_create"] == 103 and job.preview["houses_create"] == 40
    client.post(reverse("people:import_commit", args=[token]), {"skip_errors": "on"})
    job.refresh_from_db()
    assert job.state == "done", job.message
    assert job.result["people_create"] == 103 and job.result["houses_create"] == 40
    compounds = Compound.objects.filter(name__in=["锦绣花苑", "金桂园"])
    houses = House.objects.filter(compound__in=compounds)
    assert houses.count() == 40 and sum(h.resident_count for h in houses) == 103
    people = Person.objects.filter(residences__house__compound__in=compounds).distinct()
    assert people.count() == 103
    assert people.filter(id_type="passport").count() == 5
    assert people.filter(id_type="hk_macau").count() == 1 and people.filter(id_type="taiwan").count() == 1
    assert people.filter(phone_bidx="").count() == 3
    region = sum("地区码" in w["reason"] for w in warnings)
    print(f"\nissue-13 sheet: {len(errors)} row errors, {len(warnings)} warnings ({region} region-code notices); "
          f"imported "
          f"{job.result['people_create']} people in {job.result['houses_create']} homes "
          f"({houses.values('building_id').distinct().count()} buildings) of {compounds.count()} new compounds")


def test_the_people_of_one_house_each_get_what_its_address_cells_say(world):
    """A house's address cells are read once per import; every row that repeats them is still told, by its number."""
    header = ["小区", "楼栋", "单元", "房号", "姓名", "身份证号", "与户主关系", "面积", "房屋用途"]
    house = ["A1花园", "5幢", "1单元", "301室"]
    rows = [[*house, "陈大明", resident_id("32050719850101001"), "户主", "大约90", "自住"],
            [*house, "林小红", resident_id("32050719870202002"), "配偶", "大约90", "自住"],
            [*house, "陈小小", resident_id("32050720120303003"), "子女", "大约90", "自住"],
            ["A1花园", "", "1单元", "302", "王芳", resident_id("32050719900307002"), "户主", "", ""],
            ["A1花园", "", "1单元", "302", "王强", resident_id("32050719920307001"), "配偶", "", ""]]
    plan = plan_import(sheet(header, rows), world.users.officer_a)
    assert [(w.row, w.column, w.name) for w in plan.warnings if "面积" in w.reason] == [
        (2, "面积", "陈大明"), (3, "面积", "林小红"), (4, "面积", "陈小小")]
    assert [(e.row, e.column, e.name) for e in plan.errors] == [(5, "楼栋", "王芳"), (6, "楼栋", "王强")]
    assert all(e.reason == "楼栋不能为空" for e in plan.errors)
    assert [r.number for r in plan.rows] == [2, 3, 4]
    assert {r.house_key for r in plan.rows} == {(world.compounds["A1"].pk, "5", "1", "301")}
    assert {r.area for r in plan.rows} == {None}
