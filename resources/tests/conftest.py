"""A small site for the resources tests, on conftest.py's world.

    office tower 元和大厦 (grid A1) with enterprise 元和科技 and its employee 职员甲 (lives nowhere in the street)
    tower garage: a pool of 10 spaces, night window 19:00–08:00 for current residents of A1花园 and A2花园
    A1花园 lot: a pool of 3 spaces, day window 08:00–18:00 for employees of enterprises in the tower
    荟·客厅: a room with three zones; a canteen with two lunch sittings of 10 seats; a cleaning service of 2 a day
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from types import SimpleNamespace

import pytest
from django.db import connection

from conftest import resident_id

__all__ = ["at", "make_site"]


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


def make_site(world):
    from people.models import Enterprise
    from people.services import PersonData, save_person
    from places.models import Compound
    from resources.models import EligibilityRule, Employment, Resource, Window

    tower = Compound.objects.create(grid=world.grids["A1"], name="元和大厦", kind="office", lat=31.381, lng=120.632)
    ent = Enterprise.objects.create(name="元和科技", credit_code="91320507MA1XXXXX0X"[:18], compound=tower)
    employee = save_person(None, PersonData(name="职员甲", id_number=resident_id("32050719900101123"),
                                            phone="13800139001"), accept_warnings=True, source="test")
    Employment.objects.create(person=employee, enterprise=ent, since=dt.date(2024, 1, 1))
    a1, a2 = world.compounds["A1"], world.compounds["A2"]
    night = EligibilityRule.objects.create(name="夜间：A1花园、A2花园居民")
    night.residents_of.set([a1, a2])
    day_rule = EligibilityRule.objects.create(name="白天：大厦企业员工")
    day_rule.employees_in.set([tower])
    common = {"raster_minutes": 60, "min_minutes": 60, "max_minutes": 24 * 60, "horizon_days": 31,
              "grace_minutes": 30, "cancel_minutes": 60}
    garage = Resource.objects.create(kind="parking_pool", mode="group", name="元和大厦地下车库", compound=tower,
                                     owner_name="元和大厦物业", opens_at=dt.time(0), closes_at=dt.time(0),
                                     hold_hours=2, **common)
    spaces = [Resource.objects.create(kind="parking_space", mode="exclusive", name=f"B1-{i:02d}", code=f"{i:02d}",
                                      parent=garage, compound=tower, opens_at=dt.time(0), closes_at=dt.time(0),
                                      **common) for i in range(1, 11)]
    Window.objects.create(resource=garage, label="夜间", starts=dt.time(19), ends=dt.time(8), rule=night)
    lot = Resource.objects.create(kind="parking_pool", mode="group", name="A1花园地面停车场", compound=a1,
                                  opens_at=dt.time(0), closes_at=dt.time(0), **common)
    lot_spaces = [Resource.objects.create(kind="parking_space", mode="exclusive", name=f"P{i}", code=str(i),
                                          parent=lot, compound=a1, opens_at=dt.time(0), closes_at=dt.time(0),
                                          **common) for i in range(1, 4)]
    Window.objects.create(resource=lot, label="白天", starts=dt.time(8), ends=dt.time(18), rule=day_rule)
    room = Resource.objects.create(kind="space", mode="exclusive", name="荟·客厅", compound=a1, opens_at=dt.time(8),
                                   closes_at=dt.time(21), raster_minutes=30, min_minutes=60, max_minutes=240,
                                   buffer_minutes=30, horizon_days=14)
    zones = [Resource.objects.create(kind="zone", mode="exclusive", name=f"荟·客厅{z}", parent=room, compound=a1,
                                     opens_at=dt.time(8), closes_at=dt.time(21), raster_minutes=30, min_minutes=60,
                                     max_minutes=240, horizon_days=14) for z in ("阅读区", "活动区", "共享厨房")]
    canteen = Resource.objects.create(kind="canteen", mode="seats", name="共享食堂午餐", compound=a1, capacity=10,
                                      start_times=["11:30", "12:15"], sitting_minutes=45, opens_at=dt.time(11),
                                      closes_at=dt.time(14), horizon_days=7)
    cleaning = Resource.objects.create(kind="service", mode="daily", name="空调清洗", compound=a1, capacity=2,
                                       opens_at=dt.time(9), closes_at=dt.time(17), workdays_only=True,
                                       horizon_days=60, requires_checkin=False)
    fridge = Resource.objects.create(kind="checkpoint", mode="none", name="共享冰箱", compound=a1)
    return SimpleNamespace(tower=tower, enterprise=ent, employee=employee, night=night, day_rule=day_rule,
                           garage=garage, spaces=spaces, lot=lot, lot_spaces=lot_spaces, room=room, zones=zones,
                           canteen=canteen, cleaning=cleaning, fridge=fridge)


@pytest.fixture
def site(world):
    return make_site(world)


@pytest.fixture
def racers(transactional_db, world, site):
    """50 distinct current residents of A1花园, for the race tests."""
    from people.services import PersonData, save_person

    house = world.houses["A1"][5]
    return [save_person(None, PersonData(name=f"住户{i:02d}"),
                        house=house, relation="other", moved_in=dt.date(2021, 1, 1), accept_warnings=True,
                        source="test") for i in range(50)]


@pytest.fixture
def separate_connections(racers, site, tmp_path):
    """Threads on their own connections to one database, as web workers would be. SQLite: the in-memory test
    database (shared cache, whose locks fail instead of waiting) is copied into a file that new connections open
    with the production settings (WAL, BEGIN IMMEDIATE, busy timeout)."""
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
        yield racers  # this thread keeps its in-memory connection; read the results from a new thread
    finally:
        settings_dict["NAME"] = memory_name
