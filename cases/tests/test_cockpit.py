"""The cases' cockpit figures: one GROUP BY per level, open / overdue / closed this month / satisfaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import cockpit, services
from cases.models import Case
from cases.tests.test_services import new_case, to_status


def test_the_figures_by_grid_and_street(world, cw):
    pytest.importorskip("cockpit.registry")
    from cockpit.registry import get_metric

    a = new_case(world, cw)
    new_case(world, cw, place=world.houses["B1"][0], user=world.users.worker_b1)
    closed = to_status(world, cw, "closed")
    services.transition(world.users.officer_a, closed, "satisfaction", answer="basic")
    Case.objects.filter(pk=a.pk).update(status="dispatched", deadline_at=timezone.now() - dt.timedelta(hours=2))
    a1, b1, street = world.grids["A1"].pk, world.grids["B1"].pk, world.street.pk
    assert cockpit.compute_open("grid") == {a1: {"open": 1}, b1: {"open": 1}}
    assert cockpit.compute_overdue("grid") == {a1: {"overdue": 1}}
    assert cockpit.compute_closed_month("street") == {street: {"closed": 1}}
    assert cockpit.compute_satisfaction("street")[street]["rate"] == 1.0
    assert cockpit.compute_open("grid", place_ids=[b1]) == {b1: {"open": 1}}
    assert get_metric("cases.overdue").compute is cockpit.compute_overdue


def test_a_report_marks_its_building_dirty_for_the_cockpit(world, cw):
    pytest.importorskip("cockpit.models")
    from cockpit.models import DirtyPlace

    new_case(world, cw)
    assert DirtyPlace.objects.filter(level="building", place_id=world.buildings["A1"].pk).exists()


def test_the_open_cases_layer_answers_geojson_for_a_place(world, cw, client):
    from conftest import verified_login

    new_case(world, cw)
    verified_login(client, world.users.command)
    data = client.get("/cases/map/data/", {"level": "grid", "place": world.grids["B1"].pk}).json()
    assert data["features"] == []
    data = client.get("/cases/map/data/", {"level": "grid", "place": world.grids["A1"].pk}).json()
    assert len(data["features"]) == 1
