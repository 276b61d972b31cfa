"""The volunteers' test site on conftest.py's world: a branch of grid A1 (secretary, grid worker, two volunteers;
the first volunteer is the ``resident`` account on their phone), a volunteer of grid B1, a task with a shift
tomorrow at 09:00–11:00 and a cleaning service bought with points."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

__all__ = ["at", "make_site"]


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


@pytest.fixture(scope="session", autouse=True)
def _ledger_guard_lets_test_flush_through():
    """Transactional tests empty the database (``flush``); on SQLite the ledger's DELETE triggers are dropped and
    re-created inside that flush's transaction (volunteers.guards.flush_bypass)."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from volunteers import guards

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        return original(self, guards.flush_bypass(self.connection.vendor, list(sql_list)))

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


def make_site(world, *, day: dt.date | None = None):
    from django.utils import timezone

    from resources.models import Resource
    from volunteers import services
    from volunteers.models import Reward

    day = day or timezone.localdate() + dt.timedelta(days=1)
    u = world.users
    p = world.people
    officer = u.officer_a
    grid = world.grids["A1"]
    sec = services.register_volunteer(officer, p["张三"], skills=["opinion"], available_days="67")
    gw = services.register_volunteer(officer, p["李四"], skills=["visit"])
    v1 = services.register_volunteer(officer, p["张小三"], skills=["visit", "events"], user=u.resident)
    v2 = services.register_volunteer(officer, p["王芳"], skills=["mediation"])
    vb = services.register_volunteer(None, p["赵敏"])
    team = services.create_team(officer, grid, "A1网格行动支部")
    services.add_member(officer, team, sec, "secretary")
    services.add_member(officer, team, gw, "grid_worker")
    services.add_member(officer, team, v1)
    services.add_member(officer, team, v2)
    task = services.create_task(u.worker_a1, grid=grid, title="探访独居老人", kind="elderly_visit", team=team,
                                location="A1花园1幢", points_per_hour=10)
    shift = services.add_shifts(u.worker_a1, task, at(day, 9), at(day, 11), capacity=2)[0]
    cleaning = Resource.objects.create(kind="service", mode="daily", name="家政保洁", compound=world.compounds["A1"],
                                       capacity=1, opens_at=dt.time(9), closes_at=dt.time(17), horizon_days=60,
                                       requires_checkin=False)
    reward = Reward(name="家政保洁一次", resource=cleaning, points=15)
    reward.place_from_grid(grid)
    reward.save()
    return SimpleNamespace(day=day, grid=grid, sec=sec, gw=gw, v1=v1, v2=v2, vb=vb, team=team, task=task,
                           shift=shift, cleaning=cleaning, reward=reward, officer=officer, worker=u.worker_a1)


@pytest.fixture
def site(world):
    return make_site(world)


@pytest.fixture
def done(site):
    """v1 signed up, checked in at 09:05 and out at 11:10 (1.75 h counted inside the shift)."""
    from volunteers import services

    s = services.sign_up(site.v1, site.shift, now=at(site.day, 8) - dt.timedelta(days=1))
    services.check_in(s, actor=site.worker, now=at(site.day, 9, 5))
    services.check_out(s, actor=site.v1.user, now=at(site.day, 11, 10))
    return s
