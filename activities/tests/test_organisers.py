"""Organisers' children first (feriennet): who counts as an organiser, the allocation run that puts their families
first under the same seed, the published digest that re-verifies, and the waiting list's order."""

from __future__ import annotations

import datetime as dt

import pytest

from activities import services
from activities.models import Activity, SignUp
from activities.tests.conftest import at, make_activity
from activities.tests.test_allocation import AFTER, NOW, _applicants

pytestmark = pytest.mark.django_db


def _volunteer_on(activity, person):
    """``person`` signs up as a volunteer on a shift staffing the activity's first session."""
    from volunteers import services as vol

    session = activity.sessions.order_by("number").first()
    v = vol.register_volunteer(None, person)
    task = vol.create_task(None, grid=activity.grid, title="活动保障", kind="activity")
    shift = vol.add_shifts(None, task, session.starts_at, session.ends_at, session=session)[0]
    vol.sign_up(v, shift, now=NOW)
    return task


def _losing_seed(ids: list[int], family_id: int) -> str:
    """A seed under which the lottery alone ranks the family last of all (so it would not get the one place)."""
    for i in range(500):
        seed = f"seed{i}"
        if services.order(seed, "lottery", [(x, 0) for x in ids])[-1] == family_id:
            return seed
    raise AssertionError("no seed ranks the family last")


def test_who_organises_an_activity(world, fam):
    from resources.models import BookerLink

    a = make_activity(world, mode="allocation", communities=())
    assert services.organisers(a) == set()
    task = _volunteer_on(a, fam.other_parent)
    assert services.organisers(a) == {fam.other_parent.pk}
    Activity.objects.filter(pk=a.pk).update(host_person=fam.b_parent)
    a.refresh_from_db()
    # a staff account linked to a registry person who organises the task of a session
    BookerLink.objects.create(user=world.users.worker_a1, person=fam.grown)
    type(task).objects.filter(pk=task.pk).update(organiser=world.users.worker_a1)
    assert services.organisers(a) == {fam.other_parent.pk, fam.b_parent.pk, fam.grown.pk}
    # the option: on by default for allocation-based classes, off for first come, as set otherwise
    assert a.children_first and not make_activity(world, title="先到先得").children_first
    assert make_activity(world, title="开启", organiser_children_first=True).children_first
    assert not make_activity(world, title="关闭", mode="allocation", organiser_children_first=False).children_first


def test_an_organisers_child_wins_the_place_the_lottery_alone_would_not_give(world, fam):
    a = make_activity(world, capacity=1, mode="allocation", communities=())
    _volunteer_on(a, fam.other_parent)  # 李四 lives with 张三 and their children
    others = [services.sign_up(a, p, [p], now=NOW) for p in _applicants(world, 7)]
    family = services.sign_up(a, fam.parent, [fam.ming], now=NOW)
    assert family.organiser_family  # marked at sign-up, decided again at the run
    ids = [s.pk for s in [*others, family]]
    seed = _losing_seed(ids, family.pk)

    a = services.run_allocation(a, seed=seed, now=AFTER, notify_them=False)
    family.refresh_from_db()
    assert family.organiser_family and family.rank == 1 and family.state == "confirmed" and family.won
    assert not SignUp.objects.filter(activity=a, organiser_family=True).exclude(pk=family.pk).exists()
    assert a.taken == 1 and a.draw_organiser_first
    assert services.verify(a)
    # anyone re-running the draw from the published facts gets the same order and digest
    rows = list(SignUp.objects.filter(activity=a).values_list("id", "priority", "organiser_family"))
    ranked = services.order(seed, "lottery", rows, True)
    assert ranked == list(SignUp.objects.filter(activity=a).order_by("rank").values_list("id", flat=True))
    recomputed = services.digest([(i, r, r == 1, i == family.pk) for r, i in enumerate(ranked, start=1)], True)
    assert recomputed == a.draw_digest
    assert recomputed != services.digest([(i, r, r == 1) for r, i in enumerate(ranked, start=1)])
    # the mark is part of what is verified: taking it away breaks the proof
    SignUp.objects.filter(pk=family.pk).update(organiser_family=False)
    assert not services.verify(Activity.objects.get(pk=a.pk))


def test_with_the_option_off_the_same_seed_gives_the_lottery_result(world, fam):
    a = make_activity(world, capacity=1, mode="allocation", communities=(), organiser_children_first=False)
    _volunteer_on(a, fam.other_parent)
    others = [services.sign_up(a, p, [p], now=NOW) for p in _applicants(world, 7)]
    family = services.sign_up(a, fam.parent, [fam.ming], now=NOW)
    seed = _losing_seed([s.pk for s in [*others, family]], family.pk)
    a = services.run_allocation(a, seed=seed, now=AFTER, notify_them=False)
    family.refresh_from_db()
    assert family.rank == 8 and family.state == "waiting" and not family.organiser_family
    assert not a.draw_organiser_first and services.verify(a)


def test_an_organiser_alone_is_not_an_organisers_child(world, fam):
    a = make_activity(world, capacity=5, mode="allocation", communities=())
    _volunteer_on(a, fam.other_parent)
    own = services.sign_up(a, fam.parent, [fam.parent], now=NOW)  # an adult of the house, no child
    a = services.run_allocation(a, seed="x", now=AFTER, notify_them=False)
    own.refresh_from_db()
    assert own.state == "confirmed" and not own.organiser_family and services.verify(a)


def test_the_waiting_list_puts_organisers_families_first_within_the_same_priority(world, fam):
    a = make_activity(world, capacity=1, communities=(), allocation_rule="priority", organiser_children_first=True,
                      sessions=2)
    _volunteer_on(a, fam.other_parent)  # house A1[0] (community A: priority 1)
    from people.services import PersonData, save_person

    b_parent = save_person(None, PersonData(name="赵大敏", birth_date=dt.date(1985, 1, 1)),
                           house=world.houses["B1"][0], relation="parent", moved_in=dt.date(2020, 1, 1),
                           accept_warnings=True, source="test")
    Activity.objects.filter(pk=a.pk).update(host_person=b_parent)  # house B1[0] (priority 0)
    a.refresh_from_db()
    first = _applicants(world, 1, grid="A2")[0]
    filler = services.sign_up(a, first, [first], now=NOW)
    assert filler.state == "confirmed"
    x = _applicants(world, 1)[0]  # community A, not an organiser
    y = _applicants(world, 1, grid="B1")[0]  # community B, not an organiser
    x_s = services.sign_up(a, x, [x], now=at(dt.date(2027, 6, 1), 9, 1))
    y_s = services.sign_up(a, y, [y], now=at(dt.date(2027, 6, 1), 9, 2))
    w_s = services.sign_up(a, b_parent, [fam.b_child], now=at(dt.date(2027, 6, 1), 9, 3))
    z_s = services.sign_up(a, fam.parent, [fam.ming, fam.hong], now=at(dt.date(2027, 6, 1), 9, 4))
    assert [s.state for s in (x_s, y_s, w_s, z_s)] == ["waiting"] * 4
    assert (z_s.priority, z_s.organiser_family, w_s.priority, w_s.organiser_family) == (1, True, 0, True)
    assert not x_s.organiser_family and not y_s.organiser_family
    waiting = list(SignUp.objects.filter(activity=a, state="waiting").order_by(*services.waiting_order(a))
                   .values_list("id", flat=True))
    assert waiting == [z_s.pk, x_s.pk, w_s.pk, y_s.pk]
    # a freed place of two goes to the organiser's family (two children) ahead of the earlier neighbour
    Activity.objects.filter(pk=a.pk).update(capacity=2)
    services.cancel(filler, person=first, now=NOW)
    assert SignUp.objects.get(pk=z_s.pk).state == "offered"
    assert SignUp.objects.get(pk=x_s.pk).state == "waiting"
    # with the option off, the same list is in pretix's order: priority, then time
    Activity.objects.filter(pk=a.pk).update(organiser_children_first=False)
    a.refresh_from_db()
    order = list(SignUp.objects.filter(activity=a, state__in=["waiting", "offered"])
                 .order_by(*services.waiting_order(a)).values_list("id", flat=True))
    assert order == [x_s.pk, z_s.pk, y_s.pk, w_s.pk]


def test_the_api_says_whether_the_option_applies_and_which_families_it_put_first(world, fam, client):
    a = make_activity(world, capacity=1, mode="allocation", communities=())
    first_come = make_activity(world, title="先到先得")
    _volunteer_on(a, fam.other_parent)
    other = services.sign_up(a, fam.grown, [fam.grown], now=NOW)
    family = services.sign_up(a, fam.parent, [fam.ming], now=NOW)
    client.force_login(world.users.officer_a)
    assert client.get(f"/api/activities/activities/{a.pk}/").json()["organiser_children_first"] is True
    assert client.get(f"/api/activities/activities/{first_come.pk}/").json()["organiser_children_first"] is False
    rows = {r["id"]: r for r in client.get("/api/activities/signups/", {"activity": a.pk}).json()["results"]}
    assert rows[family.pk]["organiser_family"] is True and rows[other.pk]["organiser_family"] is False
