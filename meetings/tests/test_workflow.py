"""The resolution workflow: a meeting held, a resolution assigned to its owner with a deadline in working days,
progress with evidence, the proposing side's confirmation, escalation when overdue, and the open items carried
onto the next meeting's agenda."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from meetings import services
from meetings.choices import MeetingState, ResolutionState, UpdateKind
from meetings.models import AgendaItem, Evidence, ProgressUpdate, Resolution
from meetings.tests.conftest import at

FRIDAY_NIGHT = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def photo(name="现场.jpg", exif=True) -> SimpleUploadedFile:
    from PIL import Image

    img = Image.new("RGB", (64, 48), (200, 30, 30))
    buf = io.BytesIO()
    exif_data = Image.Exif()
    if exif:
        exif_data[0x8825] = {2: (31.0, 22.0, 0.0)}  # a GPS position
        exif_data[0x010F] = "PhoneMaker"
    img.save(buf, "JPEG", exif=exif_data.tobytes())
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def held_meeting(site, day=dt.date(2026, 12, 1)):
    m = services.schedule_meeting(site.officer, site.series, starts_at=at(day, 14), ends_at=at(day, 16),
                                  title="共享食堂与潮汐停车", location="社区会议室")
    services.open_meeting(site.officer, m, now=at(day, 14))
    return m


@pytest.mark.django_db
def test_a_resolution_goes_from_assignment_to_confirmation_by_the_proposing_side(site):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        m = held_meeting(site)
        res = services.add_resolution(site.officer, m, title="开设共享食堂午餐专窗", owner=site.prop,
                                      assisting=[site.o1], proposer=site.o1, deadline_days=5)
        assert res.state == ResolutionState.ASSIGNED
        # Friday 23:30 plus five working days: the end of the next Friday (the weekend not counted)
        assert timezone.localtime(res.deadline_at).date() == dt.date(2026, 12, 11)
        assert list(res.assisting.all()) == [site.o1]
    # The owner's account is nobody's: staff report on its behalf; the assisting enterprise's member may too.
    up = services.report_progress(site.ent_user, res, progress=40, note="已与食堂对接，电话13812345678",
                                  files=[photo()])
    res.refresh_from_db()
    assert res.state == ResolutionState.IN_PROGRESS and res.progress == 40
    assert "138****5678" in up.note and "13812345678" not in up.note  # sealed
    ev = Evidence.objects.get(update=up)
    from PIL import Image

    stored = Image.open(ev.file.open("rb"))
    assert not stored.getexif()  # re-encoded without EXIF (the GPS position gone)
    with pytest.raises(PermissionDenied):
        services.report_progress(site.sec_user, res, progress=50, note="不是我们的事")
    with pytest.raises(ValidationError):
        services.confirm(site.ent_user, res)  # not submitted yet
    services.submit_done(site.officer, res, note="午餐专窗已开放")
    res.refresh_from_db()
    assert res.state == ResolutionState.SUBMITTED
    # Staff cannot confirm for a side that has its own account: only the proposing enterprise's member.
    with pytest.raises(PermissionDenied):
        services.confirm(site.officer, res)
    services.reject(site.ent_user, res, note="只开了一天")
    res.refresh_from_db()
    assert res.state == ResolutionState.IN_PROGRESS
    services.submit_done(site.officer, res, note="每个工作日开放")
    services.confirm(site.ent_user, res, review_on=dt.date(2027, 3, 1))
    res.refresh_from_db()
    assert res.state == ResolutionState.DONE and res.done_at and res.review_on == dt.date(2027, 3, 1)
    kinds = list(res.updates.values_list("kind", flat=True))
    assert kinds == [UpdateKind.PROPOSED, UpdateKind.ASSIGNED, UpdateKind.PROGRESS, UpdateKind.SUBMITTED,
                     UpdateKind.REJECTED, UpdateKind.SUBMITTED, UpdateKind.CONFIRMED]


@pytest.mark.django_db
def test_staff_confirm_for_a_proposing_side_without_an_account_and_a_grid_worker_cannot(site):
    m = held_meeting(site)
    res = services.add_resolution(site.officer, m, title="清洁服务进楼宇", owner=site.o2, proposer=site.prop)
    services.submit_done(site.officer, res, note="已签约")
    res.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.confirm(site.worker_a1, res)  # no confirm permission
    services.confirm(site.officer, res)
    res.refresh_from_db()
    assert res.state == ResolutionState.DONE


@pytest.mark.django_db
@pytest.mark.parametrize("start, days, due", [
    (dt.datetime(2026, 10, 9, 17, 0), 1, dt.date(2026, 10, 10)),  # the 调休 Saturday after National Day is worked
    (dt.datetime(2026, 12, 31, 9, 0), 1, dt.date(2027, 1, 4)),  # New Year's Day 2027 off, then the weekend
    (dt.datetime(2026, 9, 30, 10, 0), 2, dt.date(2026, 10, 9)),  # the Golden Week off, the 10th a workday
])
def test_the_deadline_counts_working_days_on_the_calendar_cases_keep(site, start, days, due):
    from cases import deadlines
    from cases.models import Holiday

    Holiday.objects.get_or_create(date=dt.date(2027, 1, 1), defaults={"name": "元旦"})
    deadlines.invalidate()
    aware = timezone.make_aware(start)
    with time_machine.travel(aware, tick=False):
        m = held_meeting(site, day=start.date())
        res = services.add_resolution(site.officer, m, title="摆渡车线路调整", owner=site.o1, deadline_days=days)
    assert timezone.localtime(res.deadline_at).date() == due
    deadlines.invalidate()


@pytest.mark.django_db
def test_overdue_resolutions_go_grid_community_street_by_working_time_and_the_supervisors_are_told(site):
    from cases.models import Escalation
    from notify.models import Notification

    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        m = held_meeting(site)
        late = services.add_resolution(site.officer, m, title="潮汐停车位划线", owner=site.o1, deadline_days=1)
        fine = services.add_resolution(site.officer, m, title="冰箱补货", owner=site.o2, deadline_days=30)
    # due at the end of Monday 7 December; on Tuesday at 10:00 it is 10 working hours late: grid level
    assert services.escalate_overdue(now=timezone.make_aware(dt.datetime(2026, 12, 8, 10))) == 1
    late.refresh_from_db()
    assert late.escalation_level == Escalation.GRID
    assert Notification.objects.filter(user=site.worker_a1, title__contains="网格督办").exists()  # the grid's worker
    assert not Notification.objects.filter(user=site.worker_b1).exists()
    # the weekend does not count: Friday 11th 23:00 is 3 days 23 hours late → street
    assert services.escalate_overdue(now=timezone.make_aware(dt.datetime(2026, 12, 11, 23))) == 1
    late.refresh_from_db()
    fine.refresh_from_db()
    assert late.escalation_level == Escalation.STREET and fine.escalation_level == Escalation.NONE
    assert services.escalate_overdue(now=timezone.make_aware(dt.datetime(2026, 12, 14, 9))) == 0  # no higher level
    assert Notification.objects.filter(user=site.officer, title__contains="潮汐停车位划线").exists()
    assert Notification.objects.filter(user=site.ent_user, title__contains="潮汐停车位划线").exists()
    assert late.updates.filter(kind=UpdateKind.ESCALATED).count() == 2


@pytest.mark.django_db
def test_opening_the_next_meeting_carries_every_open_item_onto_its_agenda_once(site):
    m1 = held_meeting(site)
    done = services.add_resolution(site.officer, m1, title="已办结事项", owner=site.o1, proposer=site.prop)
    services.submit_done(site.officer, done, note="完成")
    services.confirm(site.officer, done)
    open_ = [services.add_resolution(site.officer, m1, title=f"未办结事项{i}", owner=site.o2) for i in range(3)]
    services.close_meeting(site.officer, m1)
    m2 = services.schedule_meeting(site.officer, site.series, starts_at=at(dt.date(2026, 12, 15), 14),
                                   ends_at=at(dt.date(2026, 12, 15), 16), title="第二次")
    services.propose_item(site.ent_user, m2, title="企业提议：通勤班车加密")  # a member of an invited enterprise
    m2 = services.open_meeting(site.officer, m2)
    assert m2.state == MeetingState.OPEN and m2.carried == 3
    carried = AgendaItem.objects.filter(meeting=m2, carried_from__isnull=False)
    assert {a.carried_from_id for a in carried} == {r.pk for r in open_}
    assert ProgressUpdate.objects.filter(kind=UpdateKind.CARRIED, meeting=m2).count() == 3
    assert services.carry_over(m2) == 0  # once only
    with pytest.raises(ValidationError):
        services.open_meeting(site.officer, m2)
    # still open at the third meeting: carried again, now onto that one
    m3 = services.schedule_meeting(site.officer, site.series, starts_at=at(dt.date(2026, 12, 29), 14),
                                   ends_at=at(dt.date(2026, 12, 29), 16), title="第三次")
    assert services.open_meeting(site.officer, m3).carried == 3
    assert m3.number == 3


@pytest.mark.django_db
def test_a_stranger_cannot_propose_and_staff_of_another_community_cannot_open(site):
    m = services.schedule_meeting(site.officer, site.series, starts_at=at(dt.date(2026, 12, 15), 14),
                                  ends_at=at(dt.date(2026, 12, 15), 16), title="第二次")
    with pytest.raises(PermissionDenied):
        services.propose_item(site.worker_b1, m, title="不是本社区的")
    with pytest.raises(PermissionDenied):
        services.open_meeting(site.worker_b1, m)
    item = services.propose_item(site.worker_a1, m, title="网格员提议：外卖骑手停车")
    assert item.order == 1


@pytest.mark.django_db
def test_a_project_rolls_its_resolutions_progress_up_weighted(site):
    group = services.save_group(site.officer, name="相韵同心区域党建共同体", community=site.series.community,
                                members=[site.party, site.o1])
    project = services.save_project(site.officer, group=group, name="助企便民")
    m = held_meeting(site)
    a = services.add_resolution(site.officer, m, title="共享食堂", owner=site.o1, project=project, weight=3,
                                proposer=site.prop)
    b = services.add_resolution(site.officer, m, title="摆渡车", owner=site.o2, project=project, weight=1)
    services.report_progress(site.officer, b, progress=40, note="线路已定")
    services.submit_done(site.officer, a, note="开放")
    services.confirm(site.officer, a)
    rolled = services.project_progress([project.pk])[project.pk]
    assert rolled == {"percent": round((3 * 100 + 1 * 40) / 4), "done": 1, "total": 2}


@pytest.mark.django_db
def test_a_meeting_room_is_booked_through_the_shared_resources_never_twice(site):
    import datetime as _dt

    from resources.models import Resource

    room = Resource.objects.create(kind="space", mode="exclusive", name="活力大厦会议室", compound=site.tower,
                                   opens_at=_dt.time(8), closes_at=_dt.time(21), raster_minutes=30, min_minutes=30,
                                   max_minutes=480, horizon_days=60)
    day = timezone.localdate() + _dt.timedelta(days=3)
    m = services.schedule_meeting(site.officer, site.series, starts_at=at(day, 14), ends_at=at(day, 16),
                                  title="第二次", room=room)
    assert m.booking is not None and m.booking.resource_id == room.pk and m.location == "活力大厦会议室"
    with pytest.raises(ValidationError):
        services.schedule_meeting(site.officer, site.series, starts_at=at(day, 15), ends_at=at(day, 17),
                                  title="撞车", room=room)
    assert Resolution.objects.count() == 0


@pytest.mark.django_db
def test_an_overdue_need_rises_grid_community_street_like_a_case_and_its_handler_and_supervisors_are_told(site):
    from django.test import Client

    from cases.models import Escalation
    from meetings.choices import NeedState
    from meetings.models import Need
    from notify.models import Notification

    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        late = services.raise_need(site.officer, site.e1, category="parking", title="员工停车难", deadline_days=1)
        services.need_progress(site.officer, late, note="已联系物业")
        fine = services.raise_need(site.officer, site.e2, category="dining", title="午餐排队久", deadline_days=30)
        done = services.raise_need(site.officer, site.e2, category="commuting", title="摆渡车班次少", deadline_days=1)
        services.resolve_need(site.officer, done, note="已加开班次")
    # due at the end of Monday 7 December: Tuesday 10:00 is ten working hours late → grid level
    assert services.escalate_overdue_needs(now=timezone.make_aware(dt.datetime(2026, 12, 8, 10))) == 1
    late.refresh_from_db()
    assert late.escalation_level == Escalation.GRID
    assert Notification.objects.filter(user=site.worker_a1, title__contains="员工停车难").exists()
    assert Notification.objects.filter(user=site.officer, title__contains="网格督办").exists()  # the handler
    assert not Notification.objects.filter(user=site.worker_b1).exists()
    # the weekend of 12–13 December does not count: Monday 14th 09:00 is past three working days → street
    assert services.escalate_overdue_needs(now=timezone.make_aware(dt.datetime(2026, 12, 14, 9))) == 1
    assert services.escalate_overdue_needs(now=timezone.make_aware(dt.datetime(2026, 12, 15, 9))) == 0
    late.refresh_from_db()
    fine.refresh_from_db()
    done.refresh_from_db()
    assert late.escalation_level == Escalation.STREET
    assert fine.escalation_level == Escalation.NONE and done.escalation_level == Escalation.NONE
    assert done.state == NeedState.RESOLVED
    assert set(Need.objects.filter(escalation_level__gt=0).values_list("pk", flat=True)) == {late.pk}
    client = Client()
    client.force_login(site.officer)
    page = client.get(f"/meetings/needs/{late.pk}/").content.decode()
    assert 'data-escalation="3"' in page and "街道督办" in page
