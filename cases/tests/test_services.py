"""Intake and the workflow: numbers, sealed reporter data, deadlines, each transition's rules, the conditional
update that lets exactly one of two racing dispatchers win, verification by a second person, reopening."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from cases import deadlines, services
from cases.models import Case, CaseEvent, Escalation, Status
from cases.services import CaseConflict
from cases.tests.conftest import fresh
from core.models import AuditEvent
from tests import upload_samples
from tests.moments import at_moments

JPEG = upload_samples.jpeg()  # real files: attachments are decoded (core.uploads)
PNG = upload_samples.png()
PDF = upload_samples.pdf()


def new_case(world, cw, user=None, **kw) -> Case:
    kw.setdefault("place", world.houses["A1"][0])
    return services.report(user or world.users.worker_a1, channel=kw.pop("channel", "worker"),
                           category=kw.pop("category", cw.category), title=kw.pop("title", "楼道灯不亮"), **kw)


def to_status(world, cw, status: str) -> Case:
    w = world.users
    case = new_case(world, cw)
    steps = [("accept", w.officer_a, {}), ("dispatch", w.officer_a, {"lead_unit": cw.units.prop}),
             ("start", cw.users.unit_prop, {}), ("handle", cw.users.unit_prop, {"note": "已更换灯泡"}),
             ("verify", w.worker_a1, {}), ("close", w.officer_a, {})]
    order = ["reported", "accepted", "dispatched", "in_progress", "handled", "verified", "closed"]
    for action, user, data in steps[:order.index(status)]:
        case = services.transition(user, case, action, **data)
    assert case.status == status
    return case


# --- intake --------------------------------------------------------------------------------------------------------
def test_a_report_gets_a_yearly_number_a_deadline_an_event_and_an_audit_line(world, cw):
    case = new_case(world, cw)
    year = timezone.localtime().year
    assert case.number == f"RF-{year}-000001"
    assert new_case(world, cw).number == f"RF-{year}-000002"
    assert case.status == Status.REPORTED and case.grid_id == world.grids["A1"].pk
    assert case.building_id == world.buildings["A1"].pk and case.street_id == world.street.pk
    assert case.deadline_at > timezone.now()
    assert list(case.events.values_list("action", flat=True)) == ["report"]
    assert AuditEvent.objects.filter(object_type="cases.case", object_id=str(case.pk), action="create").exists()


def test_the_reporters_phone_is_sealed_indexed_and_masked(world, cw):
    case = new_case(world, cw, reporter_name="王小明", reporter_phone="139 1234 5678")
    row = Case.objects.filter(pk=case.pk).values().get()
    assert "13912345678" not in str(row) and "王小明" not in str(row)
    assert case.reporter_phone_masked == "139****5678" and case.reporter_name_masked == "王**"
    assert case.reveal_reporter_phone() == "13912345678"
    assert case.reporter_phone_bidx == Case.phone_index("13912345678")


def test_a_report_with_a_bad_phone_names_the_field_and_saves_nothing(world, cw):
    with pytest.raises(ValidationError) as exc:
        new_case(world, cw, reporter_phone="12345")
    assert "reporter_phone" in exc.value.error_dict
    assert Case.objects.count() == 0


def test_a_report_without_title_or_place_is_refused_in_chinese(world, cw):
    with pytest.raises(ValidationError) as exc:
        services.report(world.users.worker_a1, channel="worker", category=cw.category, title="", place=None)
    assert set(exc.value.error_dict) == {"title", "place"}
    assert "标题" in exc.value.error_dict["title"][0].message


def test_a_worker_cannot_report_in_another_grid(world, cw):
    with pytest.raises(PermissionDenied):
        new_case(world, cw, place=world.houses["B1"][0])
    assert Case.objects.count() == 0


def test_channels_without_an_account_report_as_the_system(world, cw):
    case = services.report(None, channel="hotline", category="property-repair", title="电梯困人",
                           place=world.compounds["B1"], external_id="12345-0001", priority="urgent")
    assert case.channel == "hotline" and case.external_id == "12345-0001" and case.reported_by is None
    assert case.grid_id == world.grids["B1"].pk


def test_a_point_without_a_place_finds_the_nearest_compound(world, cw):
    case = services.report(None, channel="open311", category=cw.category, title="路面破损", lat=31.3801,
                           lng=120.6301, service_code="property-repair")
    assert case.compound_id is not None and case.lat == pytest.approx(31.3801)


def test_urgent_cases_get_the_shorter_deadline(world, cw):
    normal = new_case(world, cw)
    urgent = new_case(world, cw, priority="urgent")
    assert urgent.deadline_at < normal.deadline_at


# --- attachments -----------------------------------------------------------------------------------------------
def test_photos_and_pdfs_are_accepted_by_their_content(world, cw):
    case = new_case(world, cw, attachments=[SimpleUploadedFile("a.jpg", JPEG), SimpleUploadedFile("b.bin", PNG),
                                            SimpleUploadedFile("c.pdf", PDF)])
    assert sorted(case.attachments.values_list("content_type", flat=True)) == \
        ["application/pdf", "image/jpeg", "image/png"]


def test_a_file_that_is_not_an_image_or_pdf_is_refused_whatever_its_name(world, cw):
    with pytest.raises(ValidationError) as exc:
        new_case(world, cw, attachments=[SimpleUploadedFile("evil.jpg", b"<html><script>alert(1)</script>")])
    assert "JPEG" in str(exc.value)
    assert Case.objects.count() == 0


def test_a_file_over_10_mb_is_refused(world, cw):
    big = SimpleUploadedFile("big.jpg", JPEG + b"\x00" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError) as exc:
        new_case(world, cw, attachments=[big])
    assert "10MB" in str(exc.value)


# --- the workflow ------------------------------------------------------------------------------------------------
def test_the_full_cycle_leaves_one_event_per_transition(world, cw):
    case = to_status(world, cw, "closed")
    actions = list(case.events.values_list("action", "to_status"))
    assert actions == [("report", "reported"), ("accept", "accepted"), ("dispatch", "dispatched"),
                       ("start", "in_progress"), ("handle", "handled"), ("verify", "verified"), ("close", "closed")]
    assert case.closed_at is not None and case.version == 7
    assert AuditEvent.objects.filter(object_type="cases.case", action__startswith="case_").count() == 6


def test_an_action_from_the_wrong_status_is_refused(world, cw):
    case = new_case(world, cw)
    with pytest.raises(ValidationError) as exc:
        services.transition(world.users.officer_a, case, "close")
    assert "不能" in str(exc.value)


def test_a_grid_worker_may_not_dispatch(world, cw):
    case = services.transition(world.users.officer_a, new_case(world, cw), "accept")
    with pytest.raises(PermissionDenied):
        services.transition(world.users.worker_a1, case, "dispatch", lead_unit=cw.units.prop)


def test_reject_needs_a_reason_and_can_point_to_the_duplicate(world, cw):
    first = new_case(world, cw)
    second = new_case(world, cw)
    with pytest.raises(ValidationError):
        services.transition(world.users.officer_a, second, "reject")
    second = services.transition(world.users.officer_a, second, "reject", reason="重复反映", duplicate_of=first.pk)
    assert second.status == Status.REJECTED and second.duplicate_of_id == first.pk
    assert second.reject_reason == "重复反映"


def test_dispatch_sets_lead_and_co_units(world, cw):
    case = to_status(world, cw, "accepted")
    case = services.transition(world.users.command, case, "dispatch", lead_unit=cw.units.prop.pk,
                               co_units=[cw.units.dept.pk, cw.units.prop.pk])
    assert case.lead_unit_id == cw.units.prop.pk
    assert list(case.co_units.values_list("pk", flat=True)) == [cw.units.dept.pk]


def test_the_handler_cannot_verify_their_own_work(world, cw):
    case = to_status(world, cw, "handled")
    assert case.handler_id == cw.users.unit_prop.pk
    officer = world.users.officer_a
    with pytest.raises(PermissionDenied):
        services.transition(cw.users.unit_prop, case, "verify")  # no verify permission at all
    Case.objects.filter(pk=case.pk).update(handler=officer)
    case.refresh_from_db()
    with pytest.raises(PermissionDenied) as exc:
        services.transition(fresh(officer), case, "verify")
    assert "处置人" in str(exc.value)
    assert "verify" not in services.actions_for(fresh(officer), case)
    case = services.transition(world.users.worker_a1, case, "verify")
    assert case.status == Status.VERIFIED and case.verified_by_id == world.users.worker_a1.pk


def test_a_dissatisfied_answer_reopens_the_case_and_sends_it_back_to_the_unit(world, cw):
    case = to_status(world, cw, "closed")
    case = services.transition(world.users.officer_a, case, "satisfaction", answer="dissatisfied", note="灯又坏了")
    assert case.status == Status.DISPATCHED and case.reopened_count == 1
    assert case.lead_unit_id == cw.units.prop.pk and case.closed_at is None and case.handler_id is None
    tail = list(case.events.order_by("-id").values_list("action", "from_status", "to_status")[:2])
    assert tail == [("dispatch", "reopened", "dispatched"), ("satisfaction", "closed", "reopened")]
    case = services.transition(cw.users.unit_prop, case, "start")
    assert case.status == Status.IN_PROGRESS


def test_a_satisfied_answer_is_recorded_and_keeps_the_case_closed(world, cw):
    case = services.transition(world.users.officer_a, to_status(world, cw, "closed"), "satisfaction",
                               answer="satisfied")
    assert case.status == Status.CLOSED and case.satisfaction == "satisfied"


def test_pause_and_resume_move_the_deadline(world, cw, monkeypatch):
    case = to_status(world, cw, "dispatched")
    before = case.deadline_at
    with pytest.raises(ValidationError):
        services.transition(cw.users.unit_prop, case, "pause")  # a reason is needed
    case = services.transition(cw.users.unit_prop, case, "pause", note="等待居民提供照片")
    assert case.paused_at is not None
    later = timezone.now() + dt.timedelta(days=7)
    monkeypatch.setattr(timezone, "now", lambda: later)
    case = services.transition(cw.users.unit_prop, case, "resume")
    assert case.paused_at is None and case.paused_total >= dt.timedelta(days=7)
    assert case.deadline_at >= before + dt.timedelta(days=7)


# --- racing transitions ------------------------------------------------------------------------------------------
def test_a_stale_read_loses_the_conditional_update_with_a_chinese_message(world, cw):
    case = to_status(world, cw, "accepted")
    mine = Case.objects.get(pk=case.pk)
    theirs = Case.objects.get(pk=case.pk)
    services.transition(world.users.officer_a, theirs, "dispatch", lead_unit=cw.units.prop)
    with pytest.raises(CaseConflict) as exc:
        services.transition(world.users.command, mine, "dispatch", lead_unit=cw.units.dept)
    assert "已被他人处理" in str(exc.value) and "已派遣" in str(exc.value)
    case.refresh_from_db()
    assert case.lead_unit_id == cw.units.prop.pk
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1


def test_an_expected_version_that_is_not_current_is_a_conflict(world, cw):
    case = to_status(world, cw, "reported")
    with pytest.raises(CaseConflict):
        services.transition(world.users.officer_a, case, "accept", expected_version=case.version - 1 or 99)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_on_postgresql_give_exactly_one_transition():
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once need PostgreSQL (SQLite serialises writers)")
    from cases.tests.conftest import build_cases
    from conftest import build_world

    world = build_world()
    cw = build_cases(world)
    case = to_status(world, cw, "accepted")
    barrier = threading.Barrier(2)
    results: list = []

    def dispatch(user, unit):
        from django.db import connection as conn

        try:
            mine = Case.objects.get(pk=case.pk)
            barrier.wait()
            services.transition(fresh(user), mine, "dispatch", lead_unit=unit)
            results.append("ok")
        except CaseConflict as exc:
            results.append(str(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=dispatch, args=(world.users.officer_a, cw.units.prop)),
               threading.Thread(target=dispatch, args=(world.users.command, cw.units.dept))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert any("已被他人处理" in r for r in results)
    assert CaseEvent.objects.filter(case_id=case.pk, action="dispatch").count() == 1
    assert Case.objects.get(pk=case.pk).version == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_get_distinct_numbers_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("threads reporting at once need PostgreSQL (SQLite serialises writers); runs on PostgreSQL")
    from cases.tests.conftest import build_cases
    from conftest import build_world

    world = build_world()
    cw = build_cases(world)
    numbers: list = []
    barrier = threading.Barrier(4)

    def go():
        from django.db import connection as conn

        try:
            barrier.wait()
            numbers.append(new_case(world, cw, user=fresh(world.users.worker_a1)).number)
        finally:
            conn.close()

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(numbers)) == 4


# --- escalation ------------------------------------------------------------------------------------------------
def _end_of_working_day_after(deadline: dt.datetime, n: int) -> dt.datetime:
    """23:59:59 local of the n-th working day after the deadline's date."""
    day = deadlines.add_working_days(timezone.localtime(deadline).date(), n)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


@at_moments()
def test_overdue_cases_escalate_grid_then_community_then_street(moment, world, cw):
    case = to_status(world, cw, "dispatched")
    deadline = case.deadline_at
    assert services.escalate_overdue(now=deadline - dt.timedelta(hours=1)) == 0
    assert services.escalate_overdue(now=deadline + dt.timedelta(hours=1)) == 1
    case.refresh_from_db()
    assert case.escalation_level == Escalation.GRID  # an hour late is grid, whatever day follows the deadline
    assert services.escalate_overdue(now=deadline + dt.timedelta(hours=2)) == 0  # already at that level
    one_day = _end_of_working_day_after(deadline, 1)
    assert services.escalate_overdue(now=one_day - dt.timedelta(hours=1)) == 0  # not yet a full working day
    assert services.escalate_overdue(now=one_day + dt.timedelta(minutes=1)) == 1
    case.refresh_from_db()
    assert case.escalation_level == Escalation.COMMUNITY
    three_days = _end_of_working_day_after(deadline, 3)
    assert services.escalate_overdue(now=three_days - dt.timedelta(hours=1)) == 0
    assert services.escalate_overdue(now=three_days + dt.timedelta(minutes=1)) == 1
    case.refresh_from_db()
    assert case.escalation_level == Escalation.STREET
    assert case.events.filter(action="escalate").count() == 3


@at_moments()
def test_a_long_overdue_case_goes_straight_to_the_street(moment, world, cw):
    case = to_status(world, cw, "dispatched")
    assert services.escalate_overdue(now=case.deadline_at + dt.timedelta(days=10)) == 1
    case.refresh_from_db()
    assert case.escalation_level == Escalation.STREET


def test_escalation_notifies_the_supervisors_of_its_level(world, cw, django_capture_on_commit_callbacks):
    pytest.importorskip("notify.services")
    from notify.models import Notification

    case = to_status(world, cw, "dispatched")
    with django_capture_on_commit_callbacks(execute=True):
        services.escalate_overdue(now=case.deadline_at + dt.timedelta(days=10))
    users = set(Notification.objects.values_list("user__username", flat=True))
    assert "command" in users and "worker_b1" not in users


def test_dispatch_notifies_the_units_members(world, cw, django_capture_on_commit_callbacks):
    pytest.importorskip("notify.services")
    from notify.models import Notification

    case = to_status(world, cw, "accepted")
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(world.users.officer_a, case, "dispatch", lead_unit=cw.units.prop)
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"unit_prop"}


def test_a_paused_case_does_not_escalate(world, cw):
    case = to_status(world, cw, "dispatched")
    services.transition(cw.users.unit_prop, case, "pause", note="等待居民")
    assert services.escalate_overdue(now=case.deadline_at + dt.timedelta(days=10)) == 0


