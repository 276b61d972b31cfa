"""The 12345-hotline import: errors name the row and the column, the import is all-or-nothing, a re-run of the
same file imports nothing, categories and addresses are matched by name, and a job is its uploader's alone."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from cases import hotline
from cases.models import Case
from conftest import verified_login

HEADER = ["工单编号", "来电时间", "诉求类型", "诉求内容", "地址", "联系人", "联系电话", "办理时限"]


def xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def good_rows(n=3, prefix="GD2026"):
    base = dt.datetime(2026, 11, 20, 9, 30)
    rows = []
    for i in range(n):
        rows.append([f"{prefix}{i:04d}", base + dt.timedelta(hours=i), "噪声扰民" if i % 2 else "环境卫生-垃圾堆放",
                     f"A1花园1幢楼下第{i}次反映夜间噪音" if i % 2 else "B1花园门口垃圾堆积多日无人清运",
                     "A1花园1幢2单元" if i % 2 else "B1花园东门", "王先生", "13800138000", "2026-12-05"])
    return rows


def upload(c: Client, content: bytes, name="hotline.xlsx"):
    return c.post("/cases/hotline/", {"file": SimpleUploadedFile(name, content)})


def job_id(response) -> str:
    return re.search(r"/cases/hotline/([0-9a-f]{32})/", response["Location"]).group(1)


@pytest.fixture
def desk(world, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    c = Client()
    verified_login(c, world.users.command)
    return c


def test_a_clean_file_previews_then_imports_every_row_with_category_place_and_deadline(desk, world):
    r = upload(desk, xlsx(good_rows(3)))
    assert r.status_code == 302
    jid = job_id(r)
    page = desk.get(f"/cases/hotline/{jid}/").content.decode()
    assert "导入 3 件工单" in page
    assert Case._base_manager.count() == 0  # a preview writes nothing
    desk.post(f"/cases/hotline/{jid}/import/")
    cases = {c.external_id: c for c in Case._base_manager.select_related("category")}
    assert set(cases) == {"GD20260000", "GD20260001", "GD20260002"}
    noise = cases["GD20260001"]
    assert noise.channel == "hotline" and noise.category.code == "neighbour-noise"
    assert noise.building_id == world.buildings["A1"].pk
    assert cases["GD20260000"].category.code == "sanitation-rubbish"
    assert cases["GD20260000"].compound_id == world.compounds["B1"].pk
    assert noise.reporter_phone_masked == "138****8000"
    from django.utils import timezone

    assert timezone.localtime(noise.deadline_at).date() == dt.date(2026, 12, 5)
    assert timezone.localtime(noise.created_at).replace(tzinfo=None) == dt.datetime(2026, 11, 20, 10, 30)
    assert "已导入3件" in desk.get(f"/cases/hotline/{jid}/progress/").content.decode()


def test_a_second_run_of_the_same_file_imports_nothing(desk):
    content = xlsx(good_rows(3))
    desk.post(f"/cases/hotline/{job_id(upload(desk, content))}/import/")
    assert Case._base_manager.count() == 3
    jid = job_id(upload(desk, content))
    page = desk.get(f"/cases/hotline/{jid}/").content.decode()
    assert "导入 0 件" not in page and "已导入过" in page
    desk.post(f"/cases/hotline/{jid}/import/")
    assert Case._base_manager.count() == 3


def test_errors_name_the_row_and_the_column_and_nothing_is_imported(desk):
    rows = good_rows(4)
    rows[1][1] = "昨天下午"  # row 3: 来电时间
    rows[2][2] = "外星人入侵"  # row 4: 诉求类型
    rows[3][6] = "12345"  # row 5: 联系电话
    rows.append([rows[0][0], "2026-11-21 08:00", "噪声扰民", "重复编号", "", "", "", ""])  # row 6: 工单编号
    jid = job_id(upload(desk, xlsx(rows)))
    job = hotline.load_job(jid)
    got = {(e["row"], e["column"]) for e in job.errors}
    assert got == {(3, "来电时间"), (4, "诉求类型"), (5, "联系电话"), (6, "工单编号")}
    page = desk.get(f"/cases/hotline/{jid}/").content.decode()
    assert "第3行" in page and "来电时间" in page and "外星人入侵" in page and "与第2行重复" in page
    desk.post(f"/cases/hotline/{jid}/import/")
    assert Case._base_manager.count() == 0


def test_a_missing_required_column_is_reported_on_row_1(desk):
    jid = job_id(upload(desk, xlsx([["X1", "2026-11-20 09:00", "噪声扰民"]], header=HEADER[:3])))
    errors = hotline.load_job(jid).errors
    assert errors[0]["row"] == 1 and "诉求内容" in errors[0]["column"]


def test_a_failure_in_the_middle_rolls_back_every_row(desk, world, monkeypatch):
    from cases import services

    jid = job_id(upload(desk, xlsx(good_rows(5))))
    real = services.report
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("磁盘已满")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "report", flaky)
    desk.post(f"/cases/hotline/{jid}/import/")
    assert calls["n"] == 4
    assert Case._base_manager.count() == 0
    job = hotline.load_job(jid)
    assert job.state == "failed" and "全部撤销" in job.message and job.created == 0


def test_a_file_that_is_not_xlsx_is_refused(desk):
    r = upload(desk, b"\xff\xd8\xff not a workbook", name="photo.xlsx")
    assert r.status_code == 400 and "不是 .xlsx" in r.content.decode()


def test_a_job_is_its_uploaders_alone(desk, world):
    jid = job_id(upload(desk, xlsx(good_rows(2))))
    other = Client()
    verified_login(other, world.users.officer_a)
    assert other.get(f"/cases/hotline/{jid}/").status_code == 404
    assert other.post(f"/cases/hotline/{jid}/import/").status_code == 404
    assert Case._base_manager.count() == 0


@pytest.mark.parametrize("persona", ["worker_a1", "resident", "sysadmin"])
def test_only_the_hotline_desk_may_import(world, persona, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    c = Client()
    verified_login(c, getattr(world.users, persona))
    assert c.get("/cases/hotline/").status_code == 403
    assert upload(c, xlsx(good_rows(1))).status_code == 403


def test_a_community_officer_cannot_import_an_address_outside_their_community(world, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    c = Client()
    verified_login(c, world.users.officer_a)
    rows = good_rows(2)  # row 2 is in B1花园 (community B)
    jid = job_id(upload(c, xlsx(rows)))
    errors = hotline.load_job(jid).errors
    assert [(e["row"], e["column"]) for e in errors] == [(2, "地址")]


def test_the_template_download_is_a_workbook_with_the_headers(desk):
    from python_calamine import CalamineWorkbook

    r = desk.get("/cases/hotline/template.xlsx")
    wb = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
    assert wb.get_sheet_by_index(0).to_python()[0][:4] == HEADER[:4]


def test_the_job_file_never_holds_a_phone_or_a_name_in_clear(desk, settings):
    from pathlib import Path

    jid = job_id(upload(desk, xlsx(good_rows(2))))
    state = (Path(settings.VAR_DIR) / "hotline" / f"{jid}.json").read_text(encoding="utf-8")
    assert "13800138000" not in state and "王先生" not in state
    desk.post(f"/cases/hotline/{jid}/import/")
    assert Case._base_manager.filter(reporter_phone_masked="138****8000").count() == 2
    assert hotline.load_job(jid).rows == []
