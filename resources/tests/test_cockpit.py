"""The resources on the cockpit: the tide by hour computed from crafted bookings, use by home compound and
enterprise, bookings against no-shows, and the map layer scoped like the pages."""

from __future__ import annotations

import datetime as dt

import time_machine

from resources.choices import BookingState
from resources.cockpit import compute_tide, compute_use, compute_use_figures
from resources.models import Booking
from resources.services import book
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)


def test_the_tide_is_the_share_of_spaces_taken_in_each_hour_over_two_weeks(world, site):
    with time_machine.travel("2026-03-02 10:00 +0800", tick=False):
        # a resident in the tower's garage from 19:00 to 08:00, one night; an employee in A1's lot 08:00–18:00
        night = book(world.people["张三"], site.garage, at(MONDAY - dt.timedelta(days=7), 19),
                     at(MONDAY - dt.timedelta(days=6), 8))
        day = book(site.employee, site.lot, at(MONDAY - dt.timedelta(days=6), 8), at(MONDAY - dt.timedelta(days=6), 18))
    assert night.state == day.state == BookingState.CONFIRMED
    Booking.objects.filter(pk__in=[night.pk, day.pk]).update(state=BookingState.CHECKED_IN)
    now = at(MONDAY, 12)
    tower = compute_tide("compound", now=now)[site.tower.pk]
    lot = compute_tide("compound", now=now)[world.compounds["A1"].pk]
    # 10 garage spaces × 14 days = 140 space-hours per hour of day; one booking over each hour 19..07
    assert tower["20"] == round(1 / 140, 3) and tower["07"] == round(1 / 140, 3)
    assert tower["08"] == 0 and tower["12"] == 0
    # 3 lot spaces × 14 days = 42; the day booking over 08..17
    assert lot["09"] == round(1 / 42, 3) and lot["17"] == round(1 / 42, 3) and lot["18"] == 0 and lot["03"] == 0
    street = compute_tide("street", now=now)[world.street.pk]
    assert street["20"] == round(1 / 182, 3) and street["09"] == round(1 / 182, 3)
    assert set(street) == {f"{h:02d}" for h in range(24)}


def test_use_by_home_compound_and_enterprise_and_the_no_shows(world, site):
    with time_machine.travel("2026-03-09 10:00 +0800", tick=False):
        a = book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
        b = book(site.employee, site.lot, at(MONDAY + dt.timedelta(days=1), 8), at(MONDAY + dt.timedelta(days=1), 12))
        c = book(world.people["李四"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    Booking.objects.filter(pk=c.pk).update(state=BookingState.RELEASED)
    Booking.objects.filter(pk=a.pk).update(state=BookingState.CHECKED_IN)
    now = at(MONDAY + dt.timedelta(days=2), 9)
    use = compute_use("street", now=now)[world.street.pk]
    assert use == {"A1花园": 2, "元和科技": 1}
    figures = compute_use_figures("street", now=now)[world.street.pk]
    assert figures == {"booked": 3, "checked_in": 1, "released": 1}
    assert b.state == BookingState.CONFIRMED


@time_machine.travel("2026-03-09 20:00 +0800", tick=False)
def test_the_map_layer_shows_free_spaces_now_and_only_in_the_users_places(world, site, client):
    from resources.models import Resource

    Resource.objects.filter(pk__in=[site.garage.pk, site.room.pk]).update(lat=31.38, lng=120.63)
    book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    client.force_login(world.users.officer_a)
    data = client.get("/resources/staff/map/data/").json()
    names = {f["properties"]["name"] for f in data["features"]}
    assert "元和大厦地下车库 · 空余 9/10" in names and "荟·客厅 · 空闲" in names
    assert client.get("/resources/staff/map/data/?bbox=0,0,1,1").json()["total"] == 0
    client.force_login(world.users.worker_b1)
    assert client.get("/resources/staff/map/data/").json()["total"] == 0
