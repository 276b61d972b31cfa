"""A small family world for the activities tests, on conftest.py's world.

    house A1[0]: 张三 and 李四 (adults) with their children 张小明 (8) and 张小红 (11) and a toddler 张小宝 (3)
    house A1[1]: 张小三 (21), 王芳 (elderly, tagged elderly_alone)
    house B1[0]: 赵敏, 钱多多 with their child 赵小敏 (10)
A summer class in A1 for children 6–14 of community A, 16 sessions from 1 July 2027.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from types import SimpleNamespace

import pytest
from django.db import connection

__all__ = ["at", "make_activity", "make_family"]

NOW = dt.datetime(2027, 6, 1, 9, 0)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


def make_activity(world, *, title="青少年暑期班", grid="A1", sessions=1, first=dt.date(2027, 7, 1), capacity=20,
                  communities=("A",), min_age=None, max_age=None, mode="first_come", tags=(), **kw):
    from activities.models import Activity, Session

    a = Activity.objects.create(title=title, grid=world.grids[grid], capacity=capacity, min_age=min_age,
                                max_age=max_age, mode=mode, status="published",
                                signup_opens=at(dt.date(2027, 5, 1), 8), signup_closes=at(first, 8), **kw)
    a.audience_communities.set([world.communities[c] for c in communities])
    if tags:
        a.audience_tags.set(tags)
    for i in range(sessions):
        day = first + dt.timedelta(days=i)
        Session.objects.create(activity=a, number=i + 1, starts_at=at(day, 9), ends_at=at(day, 11),
                               place="社区活动室")
    return a


def make_family(world):
    from people.models import Tag
    from people.services import PersonData, save_person

    def child(name, born, house):
        return save_person(None, PersonData(name=name, birth_date=born), house=house, relation="child",
                           moved_in=dt.date(2020, 1, 1), accept_warnings=True, source="test")

    people = world.people
    for name, born in (("张三", dt.date(1980, 1, 1)), ("李四", dt.date(1982, 3, 4))):
        type(people[name])._base_manager.filter(pk=people[name].pk).update(birth_date=born)
        people[name].birth_date = born
    h = world.houses["A1"][0]
    tag, _ = Tag.objects.get_or_create(code="elderly_alone", defaults={"name": "独居老人"})
    from people.models import PersonTag

    PersonTag.objects.get_or_create(person=people["王芳"], tag=tag)
    return SimpleNamespace(
        parent=people["张三"], other_parent=people["李四"],
        ming=child("张小明", dt.date(2019, 3, 1), h), hong=child("张小红", dt.date(2016, 5, 1), h),
        bao=child("张小宝", dt.date(2024, 2, 1), h),
        grown=people["张小三"], elderly=people["王芳"], tag=tag,
        b_parent=people["赵敏"], b_child=child("赵小敏", dt.date(2017, 1, 1), world.houses["B1"][0]))


@pytest.fixture
def fam(world):
    return make_family(world)


@pytest.fixture
def clock():
    import time_machine

    with time_machine.travel(dt.datetime(2027, 6, 1, 1, 0, tzinfo=dt.UTC), tick=False) as t:
        yield t


@pytest.fixture
def racers(transactional_db, world):
    """50 households of one child each in A1 (different houses: no family shares a child)."""
    from people.services import PersonData, save_person

    out = []
    houses = world.houses["A1"][2:]
    for i in range(50):
        house = houses[i % len(houses)]
        out.append(save_person(None, PersonData(name=f"家长{i:02d}", birth_date=dt.date(1985, 1, 1)),
                               house=house, relation="other", moved_in=dt.date(2021, 1, 1), accept_warnings=True,
                               source="test"))
    return out


@pytest.fixture
def separate_connections(racers, tmp_path):
    """Threads on their own connections (SQLite: the in-memory test database copied into a file opened with the
    production settings: WAL, BEGIN IMMEDIATE, busy timeout), as in resources' race tests."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield racers
        return
    path = tmp_path / "race.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    settings_dict = connection.settings_dict
    memory_name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield racers
    finally:
        settings_dict["NAME"] = memory_name
