"""The allocation run: seeded and reproducible, families kept together, the priority rule, the rest on the waiting
list in the run's order, the published result verifiable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from activities import services
from activities.models import Activity, SignUp
from activities.tests.conftest import at, make_activity

pytestmark = pytest.mark.django_db
NOW = at(dt.date(2027, 6, 1), 9)
AFTER = at(dt.date(2027, 7, 1), 8, 30)


def _applicants(world, n, grid="A1"):
    from people.services import PersonData, save_person

    houses = world.houses[grid][2:]
    return [save_person(None, PersonData(name=f"申请{grid}{i}", birth_date=dt.date(1990, 1, 1)), house=houses[i],
                        relation="other", moved_in=dt.date(2021, 1, 1), accept_warnings=True, source="test")
            for i in range(n)]


def test_the_same_seed_gives_the_same_result_and_it_verifies(world, fam):
    a = make_activity(world, capacity=4, mode="allocation", communities=())
    people = _applicants(world, 8)
    for p in people:
        assert services.sign_up(a, p, [p], now=NOW).state == "applied"
    assert Activity.objects.get(pk=a.pk).taken == 0
    with pytest.raises(ValidationError, match="截止后"):
        services.run_allocation(a, seed="abc", now=NOW)
    with pytest.raises(PermissionDenied):
        services.run_allocation(a, actor=world.users.worker_a1, seed="abc", now=AFTER)  # no allocate right
    a = services.run_allocation(a, actor=world.users.officer_a, seed="abc", now=AFTER)
    rows = list(SignUp.objects.filter(activity=a).order_by("rank").values_list("id", "state"))
    expected = services.order("abc", "lottery", [(i, 0) for i, _s in rows])
    assert [i for i, _s in rows] == expected
    assert [s for _i, s in rows] == ["confirmed"] * 4 + ["waiting"] * 4
    assert a.taken == 4 and a.draw_seed == "abc" and services.verify(a)
    with pytest.raises(ValidationError, match="已经分配"):
        services.run_allocation(a, seed="abc", now=AFTER)
    # a tampered rank no longer verifies
    SignUp.objects.filter(pk=rows[0][0]).update(rank=99)
    assert not services.verify(Activity.objects.get(pk=a.pk))
    # after the run a cancellation offers the first of the waiting list by rank
    winner = SignUp.objects.get(pk=rows[1][0])
    services.cancel(winner, person=winner.applicant, now=AFTER)
    assert SignUp.objects.get(pk=rows[4][0]).state == "offered"


def test_families_stay_together_and_the_priority_rule_prefers_the_host_community(world, fam):
    a = make_activity(world, capacity=3, mode="allocation", communities=(), allocation_rule="priority")
    outside = _applicants(world, 4, grid="B1")
    for p in outside:
        services.sign_up(a, p, [p], now=NOW)
    family = services.sign_up(a, fam.parent, [fam.parent, fam.ming], now=NOW)
    assert family.priority == 1  # community A hosts
    a = services.run_allocation(a, seed="s1", now=AFTER)
    family.refresh_from_db()
    assert family.rank == 1 and family.state == "confirmed"
    states = list(SignUp.objects.filter(activity=a).exclude(pk=family.pk).order_by("rank")
                  .values_list("state", flat=True))
    assert states == ["confirmed", "waiting", "waiting", "waiting"] and a.taken == 3
    assert services.verify(a)


def test_a_family_that_does_not_fit_is_passed_over_whole(world, fam):
    a = make_activity(world, capacity=2, mode="allocation", communities=())
    family = services.sign_up(a, fam.parent, [fam.parent, fam.ming, fam.hong], now=NOW)
    single = services.sign_up(a, fam.elderly, [fam.elderly], now=NOW)
    services.run_allocation(a, seed="x", now=AFTER)
    family.refresh_from_db()
    single.refresh_from_db()
    assert family.state == "waiting" and family.won is False and single.state == "confirmed"
    assert Activity.objects.get(pk=a.pk).taken == 1
