"""``services.allocate`` (the draw's bulk booking) says yes and no exactly as ``book`` would, one by one, in the same
order — eligibility over the registry, quotas, strikes, one booking a person a span, a full pool — and when a
space is taken under it the database refuses the bulk insert and the slow path books everyone safely."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction

from resources import services
from resources.choices import Period, Subject
from resources.models import Booking, Claim, Quota, Resource, Strike
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
NIGHT = (at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
ORDER = ["张三", "孙二娘", "李四", "张小三", "王芳", "单雄信", "曾国藩", "赵敏", "钱多多", "新住户甲", "新住户乙"]


def crowded(world, site):
    """Five spaces, one already taken by 单雄信; a quota of one a household a day; 张小三 with three no-shows; two
    newcomers in houses of their own in A1花园."""
    from people.services import PersonData, save_person

    for i, name in enumerate(["新住户甲", "新住户乙"]):
        world.people[name] = save_person(None, PersonData(name=name), house=world.houses["A1"][3 + i],
                                         relation="householder", moved_in=dt.date(2024, 1, 1), accept_warnings=True,
                                         source="test")
    Resource.objects.filter(parent=site.garage).exclude(pk__in=[s.pk for s in site.spaces[:5]]).update(
        is_active=False)
    Quota.objects.create(resource=site.garage, subject=Subject.HOUSEHOLD, period=Period.DAY, limit=1)
    with time_machine.travel("2026-03-01 08:00 +0800", tick=False):
        for d in range(3):
            b = services.book(world.people["张小三"], site.room, at(dt.date(2026, 3, 2 + d), 9),
                              at(dt.date(2026, 3, 2 + d), 10))
            Strike.objects.create(person=world.people["张小三"], booking=b, resource=site.room,
                                  at=at(dt.date(2026, 3, 2 + d), 9, 30))
    with time_machine.travel("2026-03-09 10:00 +0800", tick=False):
        services.book(world.people["单雄信"], site.garage, *NIGHT)


def one_by_one(world, site) -> list[tuple[str, str]]:
    out = []
    for name in ORDER:
        try:
            b = services.book(world.people[name], site.garage, *NIGHT, audit_it=False, allocated=True)
            out.append((b.resource.name, ""))
        except ValidationError as exc:
            out.append(("", " ".join(exc.messages)))
    return out


@time_machine.travel("2026-03-09 10:00 +0800", tick=False)
def test_allocate_answers_as_book_would_one_by_one(world, site):
    crowded(world, site)
    entries = [(world.people[n], None) for n in ORDER]
    with transaction.atomic():
        expected = one_by_one(world, site)
        transaction.set_rollback(True)
    got = [(b.resource.name if b else "", why) for b, why in services.allocate(site.garage, entries, *NIGHT)]
    assert got == expected
    assert [n for n, (space, _w) in zip(ORDER, got, strict=True) if space] == ["张三", "王芳", "赵敏", "新住户甲"]
    reasons = dict(zip(ORDER, (w for _s, w in got), strict=True))
    assert "仅限A1花园、A2花园的现住居民" in reasons["孙二娘"]
    assert "您家每天最多预约" in reasons["李四"]
    assert "次预约未到场" in reasons["张小三"]
    assert "已约1次" in reasons["单雄信"]  # his household's quota is used by his own booking
    assert "已约1次" in reasons["曾国藩"] and "已约1次" in reasons["钱多多"]  # and 赵敏's by hers, in this run
    assert "该时段已满" in reasons["新住户乙"]
    assert Booking.objects.filter(resource__parent=site.garage).count() == 5


@time_machine.travel("2026-03-09 10:00 +0800", tick=False)
def test_allocate_books_at_most_the_limit_and_leaves_the_rest_untried(world, site):
    entries = [(world.people[n], None) for n in ["张三", "张小三", "单雄信", "赵敏"]]
    got = services.allocate(site.garage, entries, *NIGHT, limit=2)
    assert [bool(b) for b, _w in got] == [True, True, False, False] and got[2] == (None, "")
    assert Claim.objects.filter(active=True, booking__in=[b for b, _w in got if b]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_space_taken_under_the_bulk_insert_is_refused_by_the_database_and_everyone_is_booked_safely(
        world, site, monkeypatch):
    with time_machine.travel("2026-03-09 10:00 +0800", tick=False):
        taken = services.book(world.people["单雄信"], site.garage, *NIGHT)
        real = services.free_spaces
        # the space list read just before 单雄信's booking committed: it still holds his space
        monkeypatch.setattr(services, "free_spaces", lambda *a, **k: iter([taken.resource, *real(*a, **k)]))
        got = services.allocate(site.garage, [(world.people[n], None) for n in ["张三", "王芳", "赵敏"]], *NIGHT)
    assert all(b for b, _w in got)
    spaces = [b.resource_id for b, _w in got]
    assert taken.resource_id not in spaces and len(set(spaces)) == 3
    assert Booking.objects.filter(resource__parent=site.garage).count() == 4
    live = list(Claim.objects.filter(active=True).values_list("resource_id", flat=True))
    assert len(live) == len(set(live)), "no space claimed twice"
