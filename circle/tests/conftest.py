"""Fixtures of the service circle: the shared ``world`` with compounds placed on a small walking grid."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import numpy as np
import pytest

LAT0, LNG0 = 31.30, 120.60
M_LAT = 1 / 111_195.0
M_LNG = 1 / (111_195.0 * math.cos(math.radians(LAT0)))


def at(x: float, y: float) -> tuple[float, float]:
    """(lat, lng) of a point x metres east and y metres north of the origin."""
    return LAT0 + y * M_LAT, LNG0 + x * M_LNG


@pytest.fixture(autouse=True)
def _circle_settings(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from circle import services

    services._cache.clear()
    yield
    services._cache.clear()


@pytest.fixture
def circle_world(world):
    """Compounds A1 at (0,0), A2 at (600,0), B1 at (1500,0) metres; a straight street along y=0 every 100 m."""
    from people.models import Person

    for key, x in (("A1", 0), ("A2", 600), ("B1", 1500)):
        c = world.compounds[key]
        c.lat, c.lng = at(x, 0)
        c.save()
    # ages: one child of 4 in A1, everyone else as in the world fixture
    child = world.people["张小三"]
    Person.objects.filter(pk=child.pk).update(birth_date=dt.date.today().replace(year=dt.date.today().year - 4))
    forget_pending_recomputes()
    return world


def forget_pending_recomputes() -> None:
    """The test's transaction never commits, so the recomputes queued while the fixtures were built never run;
    they would make later changes in the same test look "already queued" (circle.services._schedule_recompute)."""
    from django.db import connection

    for item in connection.run_on_commit:
        if getattr(item[1], "circle_recompute", False):
            item[1].done = True


def write_street_network(path, xs=range(-200, 2101, 100)) -> None:
    """A straight east-west street as an .osm file (a real OSM XML, read by pyosmium)."""
    nodes, refs = [], []
    for i, x in enumerate(xs, start=1):
        lat, lng = at(x, 0)
        nodes.append(f'<node id="{i}" lat="{lat:.8f}" lon="{lng:.8f}" version="1"/>')
        refs.append(f'<nd ref="{i}"/>')
    path.write_text("<?xml version='1.0' encoding='UTF-8'?><osm version=\"0.6\">" + "".join(nodes)
                    + '<way id="1" version="1">' + "".join(refs) + '<tag k="highway" v="residential"/></way></osm>')


@pytest.fixture
def categories():
    from circle.models import Category

    return SimpleNamespace(canteen=Category.objects.get(code="canteen"),
                           kindergarten=Category.objects.get(code="kindergarten"),
                           market=Category.objects.get(code="market"))


def np_close(a, b, tol=1.0) -> bool:
    return bool(np.all(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) <= tol))
