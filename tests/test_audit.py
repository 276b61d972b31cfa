"""The append-only, hash-chained audit: guards, triggers, the verify command, the purge, the auditor's page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from conftest import verified_login
from core import audit, db_guards
from core.models import AuditEvent
from people.services import reveal


def _events(n: int, action: str = "test") -> list[AuditEvent]:
    return [audit.record(action, object_type="test.thing", object_id=str(i), username="system") for i in range(n)]


def _raw(sql: str, params=None) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params or [])


def _edit_behind_the_guards(sql: str, params=None) -> None:
    """What a database administrator could do by hand: switch the guard off, edit, switch it on again."""
    with transaction.atomic():
        db_guards.remove(connection)
        with connection.cursor() as cur:
            cur.execute(sql, params or [])
        db_guards.install(connection)


def test_the_model_refuses_to_update_or_delete_an_audit_row(db):
    ev = _events(1)[0]
    ev.purpose = "changed"
    with pytest.raises(PermissionError):
        ev.save()
    with pytest.raises(PermissionError):
        ev.delete()


def test_the_database_refuses_an_update_of_an_audit_row(db):
    ev = _events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE core_auditevent SET purpose = 'x' WHERE id = %s", [ev.pk])
    assert AuditEvent.objects.get(pk=ev.pk).purpose == ""


def test_the_database_refuses_a_delete_of_an_audit_row(db):
    ev = _events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM core_auditevent WHERE id = %s", [ev.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=ev.pk).delete()  # a queryset delete skips the model guard, not the trigger
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=ev.pk).update(purpose="x")
    assert AuditEvent.objects.filter(pk=ev.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only")
def test_postgresql_refuses_to_truncate_the_audit(db):
    _events(2)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("TRUNCATE core_auditevent")
    assert AuditEvent.objects.count() == 2


def test_the_chain_verifies_and_a_manual_edit_is_found_by_verify_audit(db, capsys):
    evs = _events(5)
    call_command("verify_audit")
    assert "5 rows" in capsys.readouterr().out
    _edit_behind_the_guards("UPDATE core_auditevent SET purpose = 'edited' WHERE id = %s", [evs[2].pk])
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit")
    assert exc.value.returncode == 1
    assert f"id {evs[2].pk}" in str(exc.value)


def test_verify_audit_exits_with_code_1_from_the_command_line(db):
    evs = _events(3)
    _edit_behind_the_guards("DELETE FROM core_auditevent WHERE id = %s", [evs[1].pk])
    ok, bad, _ = audit.verify_chain()
    assert not ok and bad == evs[2].pk
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["manage.py", "verify_audit"]).execute()
    assert exc.value.code == 1


# --- purge ----------------------------------------------------------------------------------------------------------
def _at(monkeypatch, when: dt.datetime):
    monkeypatch.setattr(timezone, "now", lambda: when)


def test_the_purge_deletes_only_rows_past_retention_and_the_chain_still_verifies(db, monkeypatch, settings):
    settings.RENFANG_AUDIT_RETENTION_DAYS = 365
    real_now = timezone.now()
    _at(monkeypatch, real_now - dt.timedelta(days=400))
    old = _events(3, "old")
    _at(monkeypatch, real_now - dt.timedelta(days=200))
    middle = _events(2, "middle")
    _at(monkeypatch, real_now)
    young = _events(2, "young")
    assert audit.purge() == 3
    remaining = set(AuditEvent.objects.values_list("id", flat=True))
    assert not remaining & {e.pk for e in old}
    assert {e.pk for e in middle + young} <= remaining
    ok, bad, checked = audit.verify_chain()
    assert ok, bad
    assert checked == 5  # two middle, two young, the purge event
    purge_ev = AuditEvent.objects.get(action="purge")
    assert purge_ev.changes["deleted"] == 3 and purge_ev.changes["anchor_id"] == middle[0].pk


def test_the_purge_never_deletes_rows_younger_than_180_days_whatever_the_setting(db, monkeypatch, settings):
    settings.RENFANG_AUDIT_RETENTION_DAYS = 30
    real_now = timezone.now()
    _at(monkeypatch, real_now - dt.timedelta(days=179))
    kept = _events(2)
    _at(monkeypatch, real_now)
    assert audit.purge() == 0
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in kept]).count() == 2


def test_the_purge_runs_as_a_task_and_keeps_the_guards_on(db, monkeypatch):
    from core.tasks import purge_audit

    real_now = timezone.now()
    _at(monkeypatch, real_now - dt.timedelta(days=800))
    _events(2)
    _at(monkeypatch, real_now)
    keep = _events(1)[0]
    assert purge_audit.call() == 2
    with pytest.raises(DatabaseError):
        _raw("DELETE FROM core_auditevent WHERE id = %s", [keep.pk])


def test_deleting_the_oldest_rows_by_hand_after_a_purge_is_detected(db, monkeypatch):
    real_now = timezone.now()
    _at(monkeypatch, real_now - dt.timedelta(days=800))
    _events(2)
    _at(monkeypatch, real_now)
    young = _events(3)
    audit.purge()
    assert audit.verify_chain()[0]
    _edit_behind_the_guards("DELETE FROM core_auditevent WHERE id = %s", [young[0].pk])
    ok, bad, _ = audit.verify_chain()
    assert not ok and bad == young[1].pk


def test_purge_command(db, capsys):
    _events(1)
    call_command("purge_audit")
    assert "purged 0" in capsys.readouterr().out


# --- what is recorded -----------------------------------------------------------------------------------------------
def test_a_reveal_is_audited_with_its_reason_and_never_the_value(world):
    zhang = world.people["张三"]
    number = reveal(world.users.officer_a, zhang, "id_number", "核对低保申请材料")
    ev = AuditEvent.objects.filter(action="reveal").latest("id")
    assert ev.purpose == "核对低保申请材料" and ev.fields == ["id_number"] and ev.result == "ok"
    row = repr(AuditEvent.objects.filter(pk=ev.pk).values().get())
    assert number not in row


def test_changes_are_audited_without_the_personal_values(world):
    from people.services import PersonData, save_person

    zhang = world.people["张三"]
    save_person(world.users.worker_a1, PersonData(name="张三", phone="13912345678"), zhang,
                expected_version=zhang.version)
    ev = AuditEvent.objects.filter(action="update", object_id=str(zhang.pk)).latest("id")
    assert "phone_bidx" in ev.fields
    assert ev.changes["phone_bidx"] == ["***", "***"]
    # Hash-chain digests are hexadecimal and may hold 11 digits in a row by chance: set them aside.
    text = re.sub(r"[0-9a-f]{32,}", " ", repr(list(AuditEvent.objects.values())))
    assert "13912345678" not in text and not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)


def test_record_view_notes_the_person_and_the_break_the_glass_reason(world, client):
    zhang = world.people["张三"]
    verified_login(client, world.users.command)
    client.post(reverse("access:reason"), {"type": "people.person", "id": zhang.pk, "purpose": "排查安全隐患",
                                           "next": "/"})
    request = RequestFactory().get(f"/people/persons/{zhang.pk}/")
    request.user = world.users.command
    request.session = client.session
    ev = audit.record_view(request, zhang)
    glass = AuditEvent.objects.get(action="break_glass")
    assert ev.action == "view" and ev.object_type == "people.person" and ev.object_id == str(zhang.pk)
    assert ev.purpose == f"break_glass:{glass.pk}" and ev.place == f"grid:{zhang.grid_id}"


def test_a_number_typed_into_a_reason_is_masked_in_the_trail(world, client):
    zhang = world.people["张三"]
    verified_login(client, world.users.command)
    client.post(reverse("access:reason"), {"type": "people.person", "id": zhang.pk, "next": "/",
                                           "purpose": "核实来电 13912345678 反映的情况，身份证110101199003074514"})
    glass = AuditEvent.objects.get(action="break_glass")
    assert "139****5678" in glass.purpose and "110101********4514" in glass.purpose and "核实来电" in glass.purpose
    text = re.sub(r"[0-9a-f]{32,}", " ", repr(list(AuditEvent.objects.values())))
    assert "13912345678" not in text and "110101199003074514" not in text


def test_a_403_is_recorded_as_denied(world):
    client = Client()
    client.force_login(world.users.worker_a1)
    assert client.get(reverse("access:audit_list")).status_code == 403
    ev = AuditEvent.objects.filter(action="denied").latest("id")
    assert ev.username == "worker_a1" and ev.result == "403" and ev.object_type == "access:audit_list"


# --- the auditor's page -------------------------------------------------------------------------------------------
def test_the_auditor_searches_by_user_action_object_date_and_request_id(world, client):
    zhang = world.people["张三"]
    reveal(world.users.officer_a, zhang, "phone", "联系独居老人家属")
    target = AuditEvent.objects.filter(action="reveal").latest("id")
    _events(60, "noise")
    verified_login(client, world.users.auditor)
    url = reverse("access:audit_list")
    today = timezone.localdate().isoformat()
    for query in ({"username": "officer_a", "action": "reveal"},
                  {"object_type": "people.person", "object_id": str(zhang.pk), "action": "reveal"},
                  {"action": "reveal", "date_from": today, "date_to": today}):
        body = client.get(url, query).content.decode()
        assert "联系独居老人家属" in body, query
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert "联系独居老人家属" not in client.get(url, {"action": "reveal", "date_to": yesterday}).content.decode()
    first = client.get(url).content.decode()
    assert "第 1 /" in first and "page=2" in first
    page2 = client.get(url, {"page": 2}).content.decode()
    assert page2.count('class="audit-row"') > 0
    r = client.get(url, {"request_id": "nothing-like-this"})
    assert r.content.decode().count('class="audit-row"') == 0
    assert target.pk


def test_the_auditor_finds_the_events_of_one_request(world, client):
    worker = Client()
    worker.force_login(world.users.worker_a1)
    r = worker.get(reverse("access:audit_list"), HTTP_X_REQUEST_ID="req-abc-123")
    assert r.status_code == 403 and r["X-Request-ID"] == "req-abc-123"
    verified_login(client, world.users.auditor)
    body = client.get(reverse("access:audit_list"), {"request_id": "req-abc-123"}).content.decode()
    assert body.count('class="audit-row"') == 1 and "denied" in body
