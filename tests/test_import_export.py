"""Export of lists (masked, watermarked, formulas neutralised, approved above a threshold) and the import pages."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from conftest import make_user, resident_id
from core.models import AuditEvent
from people import exporter, tasks
from people.iomodels import ExportRequest, ImportJob
from people.models import Person
from people.services import PersonData, save_person
from tests.test_import import ID1, family, xlsx


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded sheets go to the test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


def export_values(user, kind="person", query="", **kwargs) -> list[tuple]:
    buf = io.BytesIO()
    exporter.write_export(user, kind, query, buf, **kwargs)
    buf.seek(0)
    wb = openpyxl.load_workbook(buf)
    ws = wb.active
    ws.values_list = [tuple(r) for r in ws.iter_rows(values_only=True)]
    return ws


def test_export_has_masked_numbers_and_a_watermark(world):
    ws = export_values(world.users.officer_a)
    rows = ws.values_list
    assert "officer_a" in rows[0][0] and "导出时间" in rows[0][0]
    assert "officer_a" in ws.oddHeader.center.text and "officer_a" in ws.oddFooter.center.text
    assert rows[1][0] == "姓名" and "证件号码" in rows[1]
    assert len(rows) == 2 + 8  # community A's eight people
    text = repr(rows)
    assert not re.search(r"\d{17}[\dX]", text) and not re.search(r"1[3-9]\d{9}", text)
    assert "********" in text and "****" in text
    zhang = next(r for r in rows if r[0] == "张三")
    assert zhang[10].startswith("A1花园1幢") and zhang[11] == "户主"


def test_export_follows_the_list_filters_and_the_users_scope(world):
    rows = export_values(world.users.officer_a, query=f"grid_id={world.grids['A2'].pk}").values_list
    assert {r[13] for r in rows[2:]} == {"A2网格"}
    houses = export_values(world.users.officer_a, kind="house", query="occupied=true").values_list
    assert houses[1][0] == "小区" and {r[8] for r in houses[2:]} == {"A1网格", "A2网格"}


def test_exported_formulas_are_neutralised(world):
    save_person(world.users.officer_a, PersonData(name="钱三", id_number=resident_id("32050719800101077"),
                                                  work_unit="=HYPERLINK(\"http://x\")", hukou_address="+1",
                                                  note="@x"),
                house=world.houses["A1"][7], accept_warnings=True)
    rows = export_values(world.users.officer_a).values_list
    row = next(r for r in rows if r[0] == "钱三")
    assert row[9] == "'=HYPERLINK(\"http://x\")" and row[8] == "'+1"


def test_export_needs_the_export_permission_and_a_refusal_is_audited(world):
    with pytest.raises(PermissionDenied):
        export_values(world.users.worker_a1)
    ev = AuditEvent.objects.filter(action="export").get()
    assert ev.result == "denied" and ev.user_id == world.users.worker_a1.pk


def test_export_writes_an_audit_row_with_the_row_count(world):
    export_values(world.users.officer_a)
    ev = AuditEvent.objects.filter(action="export", result="ok").get()
    assert ev.changes["rows"] == 8 and ev.user_id == world.users.officer_a.pk


def test_a_large_export_needs_another_officers_approval_and_downloads_once(world, settings):
    settings.RENFANG_EXPORT_APPROVAL_ROWS = 5
    officer = world.users.officer_a
    with pytest.raises(exporter.ExportNeedsApproval):
        export_values(officer)
    req = exporter.request_export(officer, "person", "", "走访核对名单")
    assert req.row_count == 8
    with pytest.raises(PermissionDenied):
        exporter.approve(officer, req)  # not one's own
    with pytest.raises(PermissionDenied):
        exporter.approve(world.users.worker_a1, req)  # no export permission
    officer_b = make_user("officer_b", "community_officer", "community", street=world.street,
                          community=world.communities["B"], roles=world.roles)
    with pytest.raises(PermissionDenied):
        exporter.approve(officer_b, req)  # the rows are outside their community
    colleague = make_user("officer_a_2", "community_officer", "community", street=world.street,
                          community=world.communities["A"], roles=world.roles)
    with pytest.raises(exporter.ExportNeedsApproval):
        export_values(colleague, export_request=req)  # only the requester downloads
    exporter.approve(colleague, req)
    assert ExportRequest.objects.get(pk=req.pk).state == "approved"
    rows = export_values(officer, export_request=req).values_list
    assert len(rows) == 10
    assert ExportRequest.objects.get(pk=req.pk).state == "downloaded"
    with pytest.raises(PermissionDenied):
        export_values(officer, export_request=req)
    assert AuditEvent.objects.filter(action="export_approve", user_id=colleague.pk).exists()


def test_export_page_downloads_the_sheet_or_asks_for_approval(world, client, settings):
    client.force_login(world.users.officer_a)
    resp = client.get(reverse("people:export"), {"kind": "person"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    settings.RENFANG_EXPORT_APPROVAL_ROWS = 5
    resp = client.get(reverse("people:export"), {"kind": "person"})
    assert resp.status_code == 200 and "需要" in resp.content.decode()
    resp = client.post(reverse("people:export"), {"kind": "person", "query": "", "reason": "年度核查"})
    assert resp.status_code == 302
    assert ExportRequest.objects.filter(requested_by=world.users.officer_a, row_count=8).exists()
    client.force_login(world.users.worker_a1)
    assert client.get(reverse("people:export"), {"kind": "person"}).status_code == 403


def test_import_pages_preview_commit_and_list_errors(world, client):
    client.force_login(world.users.officer_a)
    assert client.get(reverse("people:import")).status_code == 200
    rows = family()
    rows.append(["A1花园", "5", "1", "303", "错号", ID1[:-1] + ("0" if ID1[-1] != "0" else "1"), "", "", ""])
    upload = io.BytesIO(xlsx(rows))
    upload.name = "名单.xlsx"
    resp = client.post(reverse("people:import"), {"file": upload})
    assert resp.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == "previewed" and job.preview["people_create"] == 3 and job.preview["errors"] == 1
    page = client.get(resp["Location"]).content.decode()
    assert "校验位" in page and "确认导入" in page
    errors = client.get(reverse("people:import_errors", args=[job.token]))
    assert errors.status_code == 200
    assert client.post(reverse("people:import_commit", args=[job.token])).status_code == 302
    job.refresh_from_db()
    assert job.state == "previewed" and "未导入任何数据" in job.message
    assert not Person.objects.filter(name="陈大明").exists()
    client.post(reverse("people:import_commit", args=[job.token]), {"skip_errors": "on"})
    job.refresh_from_db()
    assert job.state == "done" and job.result["people_create"] == 3
    assert Person.objects.filter(name="陈大明").exists()
    client.force_login(world.users.officer_a.__class__.objects.get(username="worker_a1"))
    assert client.get(reverse("people:import_job", args=[job.token])).status_code == 404
    assert client.get(reverse("people:import")).status_code == 403


def test_a_large_upload_runs_as_a_background_task_with_progress(world, client, settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr(tasks, "INLINE_BYTES", 10)
    monkeypatch.setattr("people.import_views.INLINE_BYTES", 10)
    client.force_login(world.users.officer_a)
    upload = io.BytesIO(xlsx(family()))
    upload.name = "big.xlsx"
    client.post(reverse("people:import"), {"file": upload})
    job = ImportJob.objects.get()
    assert job.state == "previewed"
    client.post(reverse("people:import_commit", args=[job.token]))
    job.refresh_from_db()
    assert job.state == "done" and job.result["people_create"] == 3
    progress = client.get(reverse("people:import_progress", args=[job.token]))
    assert progress["HX-Refresh"] == "true"
    assert tasks.read_progress(job)["stage"] == "write"


def test_an_upload_that_is_not_a_sheet_is_refused(world, client):
    client.force_login(world.users.officer_a)
    upload = io.BytesIO(b"\x00\x01\x02binary" * 100)
    upload.name = "x.xlsx"
    resp = client.post(reverse("people:import"), {"file": upload})
    assert resp.status_code == 400 and "无法识别" in resp.content.decode()


def test_an_upload_above_the_size_cap_is_refused_with_413(world, client, settings):
    settings.RENFANG_MAX_UPLOAD_BYTES = 1000
    client.force_login(world.users.officer_a)
    upload = io.BytesIO(xlsx(family()))
    upload.name = "a.xlsx"
    assert client.post(reverse("people:import"), {"file": upload}).status_code == 413
    assert not ImportJob.objects.exists()


def test_the_import_command_previews_then_imports_with_the_users_scope(world, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "名单.xlsx"
    path.write_bytes(xlsx(family()))
    out = io.StringIO()
    call_command("import_people", str(path), "--user", "officer_a", stdout=out, stderr=io.StringIO())
    assert "预览" in out.getvalue() and "新增 3" in out.getvalue()
    assert not Person.objects.filter(name="陈大明").exists()
    out = io.StringIO()
    call_command("import_people", str(path), "--user", "officer_a", "--commit", stdout=out, stderr=io.StringIO())
    assert "已导入" in out.getvalue()
    assert Person.objects.filter(name="陈大明").exists()
    with pytest.raises(CommandError):
        call_command("import_people", str(path), "--user", "worker_a1", stdout=io.StringIO(), stderr=io.StringIO())
