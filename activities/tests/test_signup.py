"""Audience rules on crafted data, a family placed together or not at all, the waiting list's offers and their
expiry, cancellation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from activities import services
from activities.choices import SignUpState
from activities.models import Activity, Participant, SignUp
from activities.tests.conftest import at, make_activity

pytestmark = pytest.mark.django_db
NOW = at(dt.date(2027, 6, 1), 9)


def test_audience_rules_ages_on_the_first_day_communities_and_groups(world, fam):
    kids = make_activity(world, min_age=6, max_age=14, communities=("A",))
    why = services.audience_refusal(kids, [fam.ming, fam.hong, fam.bao, fam.parent, fam.b_child])
    assert why[fam.ming.pk] == [] and why[fam.hong.pk] == []
    assert why[fam.bao.pk] and "6至14岁" in why[fam.bao.pk][0]   # 3 years old
    assert why[fam.parent.pk] and "6至14岁" in why[fam.parent.pk][0]
    assert any("社区A" in r for r in why[fam.b_child.pk])          # lives in community B
    # 6 on the first session's day counts (born 2021-07-01, the class starts 2027-07-01); one day later does not
    edge = make_activity(world, title="边界", min_age=6, first=dt.date(2027, 7, 1))
    from people.services import PersonData, save_person
    born_today = save_person(None, PersonData(name="刚满六岁", birth_date=dt.date(2021, 7, 1)),
                             house=world.houses["A1"][3], relation="child", accept_warnings=True, source="test")
    born_after = save_person(None, PersonData(name="差一天", birth_date=dt.date(2021, 7, 2)),
                             house=world.houses["A1"][3], relation="child", accept_warnings=True, source="test")
    why = services.audience_refusal(edge, [born_today, born_after])
    assert why[born_today.pk] == [] and why[born_after.pk]
    elderly = make_activity(world, title="独居老人茶话会", tags=[fam.tag], communities=())
    why = services.audience_refusal(elderly, [fam.elderly, fam.parent])
    assert why[fam.elderly.pk] == [] and "独居老人" in why[fam.parent.pk][0]


def test_the_applicant_signs_up_the_household_children_not_other_people(world, fam):
    a = make_activity(world, min_age=6, max_age=14)
    members = {m.person.pk: m for m in services.eligible_members(a, fam.parent)}
    assert set(members) == {fam.parent.pk, fam.ming.pk, fam.hong.pk, fam.bao.pk}  # not the other adult
    assert members[fam.ming.pk].reasons == [] and members[fam.bao.pk].reasons
    with pytest.raises(ValidationError, match="同户"):
        services.sign_up(a, fam.parent, [fam.ming, fam.b_child], now=NOW)
    with pytest.raises(ValidationError, match="6至14岁"):
        services.sign_up(a, fam.parent, [fam.ming, fam.bao], now=NOW)
    s = services.sign_up(a, fam.parent, [fam.ming, fam.hong], now=NOW)
    assert s.state == SignUpState.CONFIRMED and s.size == 2
    assert Activity.objects.get(pk=a.pk).taken == 2
    with pytest.raises(ValidationError, match="已有人报名"):  # the other parent cannot sign a child up twice
        services.sign_up(a, fam.other_parent, [fam.hong], now=NOW)


def test_sign_up_window(world, fam):
    a = make_activity(world)
    with pytest.raises(ValidationError, match="开始"):
        services.sign_up(a, fam.parent, [fam.parent], now=at(dt.date(2027, 4, 30), 23, 30))
    with pytest.raises(ValidationError, match="截止"):
        services.sign_up(a, fam.parent, [fam.parent], now=at(dt.date(2027, 7, 1), 8, 1))
    Activity.objects.filter(pk=a.pk).update(status="draft")
    a.refresh_from_db()
    with pytest.raises(ValidationError, match="未开放"):
        services.sign_up(a, fam.parent, [fam.parent], now=NOW)


def test_a_family_is_placed_together_or_waits_together(world, fam):
    a = make_activity(world, capacity=3, communities=())
    first = services.sign_up(a, fam.grown, [fam.grown], now=NOW)
    second = services.sign_up(a, fam.elderly, [fam.elderly], now=NOW)
    family = services.sign_up(a, fam.parent, [fam.parent, fam.ming, fam.hong], now=NOW)  # 3 > 1 left
    assert (first.state, second.state, family.state) == ("confirmed", "confirmed", "waiting")
    assert Activity.objects.get(pk=a.pk).taken == 2  # no part of the family took the one place left
    # one place frees: not enough for the family, which keeps its turn; nobody smaller waits → nothing offered
    services.cancel(first, person=fam.grown, now=NOW)
    assert SignUp.objects.get(pk=family.pk).state == "waiting"
    # the second frees too: three places, the family is offered all of them at once
    services.cancel(second, person=fam.elderly, now=NOW)
    family.refresh_from_db()
    assert family.state == SignUpState.OFFERED and family.hold_until == NOW + dt.timedelta(hours=a.hold_hours)
    assert Activity.objects.get(pk=a.pk).taken == 3
    services.accept_offer(family, fam.parent, now=NOW + dt.timedelta(hours=1))
    assert SignUp.objects.get(pk=family.pk).state == "confirmed"


def test_a_smaller_family_behind_may_take_what_a_larger_one_cannot(world, fam):
    a = make_activity(world, capacity=2, communities=())
    one = services.sign_up(a, fam.grown, [fam.grown], now=NOW)
    services.sign_up(a, fam.b_parent, [fam.b_parent], now=NOW)
    big = services.sign_up(a, fam.parent, [fam.parent, fam.ming, fam.hong], now=NOW)
    small = services.sign_up(a, fam.elderly, [fam.elderly], now=NOW)
    assert big.state == small.state == "waiting"
    services.cancel(one, person=fam.grown, now=NOW)
    assert SignUp.objects.get(pk=big.pk).state == "waiting"
    assert SignUp.objects.get(pk=small.pk).state == "offered"


def test_an_offer_expires_and_passes_to_the_next(world, fam, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    from notify.models import Notification

    a = make_activity(world, capacity=1, communities=(), hold_hours=2)
    held = services.sign_up(a, fam.grown, [fam.grown], now=NOW)
    user = get_user_model().objects.create_user("parent_user")
    w1 = services.sign_up(a, fam.parent, [fam.parent], user=user, now=NOW)
    w2 = services.sign_up(a, fam.elderly, [fam.elderly], now=NOW + dt.timedelta(minutes=1))
    services.cancel(held, person=fam.grown, now=NOW)
    w1.refresh_from_db()
    assert w1.state == "offered" and Notification.objects.filter(user=user, title__contains="候补有名额").exists()
    # a Friday 23:30 two hours later: the hold has not passed one minute before, it has at the time
    assert services.expire_offers(now=w1.hold_until - dt.timedelta(minutes=1)) == 0
    assert services.expire_offers(now=w1.hold_until) == 1
    w1.refresh_from_db()
    w2.refresh_from_db()
    assert w1.state == "expired" and w2.state == "offered"
    assert not Participant.objects.filter(signup=w1, live=True).exists()
    with pytest.raises(ValidationError, match="过期"):
        services.accept_offer(w1, fam.parent, now=w1.hold_until)
    assert Activity.objects.get(pk=a.pk).taken == 1


def test_only_the_applicant_or_staff_cancel(world, fam):
    a = make_activity(world, communities=())
    s = services.sign_up(a, fam.parent, [fam.parent, fam.ming], now=NOW)
    with pytest.raises(PermissionDenied):
        services.cancel(s, person=fam.elderly, now=NOW)
    with pytest.raises(PermissionDenied):
        services.cancel(s, actor=world.users.worker_b1, now=NOW)
    services.cancel(s, actor=world.users.officer_a, now=NOW)
    assert Activity.objects.get(pk=a.pk).taken == 0
    with pytest.raises(ValidationError):
        services.cancel(s, actor=world.users.officer_a, now=NOW)
    # cancelled: the children may be signed up again
    assert services.sign_up(a, fam.parent, [fam.ming], now=NOW).state == "confirmed"


def test_a_hold_never_runs_out_at_night():
    friday = at(dt.date(2027, 1, 8), 23, 30)
    assert services.hold_end(friday, 2) == at(dt.date(2027, 1, 9), 9)       # 01:30 Saturday → 09:00
    assert services.hold_end(at(dt.date(2027, 1, 8), 20), 2) == at(dt.date(2027, 1, 9), 9)  # 22:00 is night
    assert services.hold_end(at(dt.date(2027, 1, 8), 6), 1) == at(dt.date(2027, 1, 8), 9)   # 07:00 → 09:00
    assert services.hold_end(at(dt.date(2027, 1, 8), 9), 24) == at(dt.date(2027, 1, 9), 9)  # by day: as is
    assert services.hold_end(at(dt.date(2027, 1, 8), 10), 11) == at(dt.date(2027, 1, 8), 21)
