import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from notify.models import Notification
from volunteers import ledger, services
from volunteers.models import Opinion, Shift, Signup, Transfer

from .conftest import at

pytestmark = pytest.mark.django_db


def test_a_grid_action_branch_has_one_secretary_one_grid_worker_and_volunteers(site, world):
    shape = services.team_shape(site.team)
    assert shape.ok and shape.label == "1+1+2"
    other = services.register_volunteer(site.officer, world.people["孙二娘"]) if False else site.vb
    with pytest.raises(ValidationError, match="支部书记"):
        services.add_member(site.officer, site.team, other, "secretary")
    empty = services.create_team(site.officer, site.grid, "新支部")
    assert services.team_shape(empty).problems == ["缺支部书记", "缺网格员", "还没有志愿者"]


def test_a_shift_never_takes_more_than_its_capacity(site, world):
    now = at(site.day, 7)
    services.sign_up(site.v1, site.shift, now=now)
    services.sign_up(site.v2, site.shift, now=now)
    with pytest.raises(ValidationError, match="报满"):
        services.sign_up(site.sec, site.shift, now=now)
    site.shift.refresh_from_db()
    assert site.shift.taken == 2


def test_a_weekly_shift_repeats_at_the_same_wall_clock_time(site):
    shifts = services.add_shifts(site.worker, site.task, at(site.day, 14), at(site.day, 16),
                                 weekly_until=site.day + dt.timedelta(days=27))
    assert len(shifts) == 4 and len({s.series for s in shifts}) == 1
    from django.utils import timezone

    assert {timezone.localtime(s.starts_at).strftime("%H:%M") for s in shifts} == {"14:00"}


def test_a_substitute_is_asked_and_takes_the_place(site):
    now = at(site.day, 7) - dt.timedelta(days=1)
    s = services.sign_up(site.v2, site.shift, now=now)
    asked = services.ask_substitute(s, now=now)
    assert asked == 1  # v1, the only team member with an account
    note = Notification.objects.get(user=site.v1.user)
    assert "替班" in note.title
    new = services.take_over(site.v1, s, now=now)
    s.refresh_from_db()
    assert s.state == "replaced" and new.substitute_for_id == s.pk
    site.shift.refresh_from_db()
    assert site.shift.taken == 1
    with pytest.raises(ValidationError):
        services.take_over(site.sec, s, now=now)


def test_reminders_go_once_the_day_before_with_a_pinned_clock(site):
    services.sign_up(site.v1, site.shift, now=at(site.day, 7) - dt.timedelta(days=2))
    # a Friday 23:30 far ahead: nothing due yet
    assert services.send_reminders(now=at(site.day, 9) - dt.timedelta(hours=25)) == 0
    assert services.send_reminders(now=at(site.day, 9) - dt.timedelta(hours=23)) == 1
    assert services.send_reminders(now=at(site.day, 9) - dt.timedelta(hours=22)) == 0
    assert Notification.objects.filter(user=site.v1.user, title__contains="提醒").count() == 1


def test_reminders_on_a_new_year_eve_shift_at_2330(world):
    with time_machine.travel(dt.datetime(2026, 12, 30, 2, tzinfo=dt.UTC), tick=False):
        from .conftest import make_site

        site = make_site(world, day=dt.date(2026, 12, 31))
        shift = services.add_shifts(site.worker, site.task, at(site.day, 23, 30), at(site.day, 23, 59))[0]
        services.sign_up(site.v1, shift)
    assert services.send_reminders(now=at(site.day, 12)) == 1  # 11.5 h before 23:30


def test_check_in_opens_half_an_hour_before(site):
    s = services.sign_up(site.v1, site.shift, now=at(site.day, 7))
    with pytest.raises(ValidationError, match="还没到签到时间"):
        services.check_in(s, actor=site.v1.user, now=at(site.day, 8, 20))
    services.check_in_by_qr(site.shift.qr_token, site.v1, now=at(site.day, 8, 45))
    services.check_in_by_qr(site.shift.qr_token, site.v1, now=at(site.day, 10, 45))
    s.refresh_from_db()
    assert s.check_method == "qr" and s.hours == Decimal("1.75")


def test_a_worker_of_another_grid_cannot_tick_the_list(site, done, world):
    s = services.sign_up(site.v2, site.shift, now=at(site.day, 7))
    with pytest.raises(PermissionDenied):
        services.check_in(s, actor=world.users.worker_b1, now=at(site.day, 9))
    with pytest.raises(PermissionDenied):
        services.verify(world.users.worker_b1, done)


def test_points_are_spent_with_a_booking_in_one_transaction(site, done):
    services.verify(site.worker, done)  # 17.5 points
    day = site.day + dt.timedelta(days=3)
    booking, transfer = services.spend(site.v1, site.reward, day, user=site.v1.user, now=at(site.day, 12))
    assert booking.pk and transfer.booking_id == booking.pk
    assert ledger.balances(site.v1)["points"] == Decimal("2.50")
    assert ledger.balance_figures()["ledger_balance"] == 0
    # not enough points: no booking made
    from resources.models import Booking

    with pytest.raises(ValidationError, match="积分不足"):
        services.spend(site.v1, site.reward, day + dt.timedelta(days=1), user=site.v1.user, now=at(site.day, 12))
    assert Booking.objects.count() == 1


def test_a_refused_booking_leaves_the_points_where_they_were(site, done, world):
    services.verify(site.worker, done)
    day = site.day + dt.timedelta(days=3)
    from resources import services as res

    res.book(world.people["王芳"], site.cleaning, at(day, 9), now=at(site.day, 12))  # the only place that day
    with pytest.raises(ValidationError, match="名额已满"):
        services.spend(site.v1, site.reward, day, user=site.v1.user, now=at(site.day, 12))
    assert ledger.balances(site.v1)["points"] == Decimal("17.50")
    assert Transfer.objects.filter(kind="spend").count() == 0


def test_an_opinion_collected_on_a_shift_creates_a_case_and_the_same_matter_joins_it(site, done):
    from cases.models import Case, CaseCategory, Holiday
    from cases.seed import seed

    seed(CaseCategory, Holiday)
    cat = CaseCategory.objects.get(code="neighbour-leak")
    op = services.collect_opinion(done, "3单元楼上卫生间漏水，楼下天花板渗水发霉", category=cat, user=site.v1.user)
    assert not op.joined and op.case.grid_id == site.grid.pk
    s2 = services.sign_up(site.v2, site.shift, now=at(site.day, 7))
    services.check_in(s2, actor=site.worker, now=at(site.day, 9))
    op2 = services.collect_opinion(s2, "楼上卫生间漏水，天花板渗水发霉", category=cat, user=site.worker)
    assert op2.joined and op2.case_id == op.case_id
    assert Case.objects.count() == 1 and Opinion.objects.count() == 2


def test_an_opinion_with_a_phone_number_is_stored_sealed(site, done):
    from cases.models import CaseCategory, Holiday
    from cases.seed import seed

    seed(CaseCategory, Holiday)
    op = services.collect_opinion(done, "王阿姨电话13912345678，反映路灯坏了", category="neighbour-leak",
                                  user=site.v1.user)
    op.refresh_from_db()
    assert "13912345678" not in op.text and op.has_sealed("text")


def test_withdrawing_gives_the_place_back(site):
    s = services.sign_up(site.v1, site.shift, now=at(site.day, 7))
    services.withdraw(s, now=at(site.day, 7))
    assert Shift.objects.get(pk=site.shift.pk).taken == 0
    assert Signup.objects.get(pk=s.pk).state == "withdrawn"
    with pytest.raises(ValidationError):
        services.withdraw(s, now=at(site.day, 7))
