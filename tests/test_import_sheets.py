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
