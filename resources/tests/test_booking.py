"""Booking rules: eligibility over the registry, tidal windows, the tree, opening days, counted capacity, plates."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from resources import services
from resources.choices import BookingState
from resources.models import Booking, Claim, Offer, Slot, Vehicle
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
NOW = "2026-03-09 10:00 +0800"


def refusal(fn, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kwargs)
    return " ".join(exc.value.messages)


@time_machine.travel(NOW, tick=False)
def test_a_current_resident_of_a_named_compound_books_a_night_space_in_the_tower(world, site):
    b = services.book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    assert b.state == BookingState.CONFIRMED and b.resource.parent == site.garage
    assert b.house == world.houses["A1"][0] and b.home_compound == world.compounds["A1"]


@time_machine.travel(NOW, tick=False)
def test_a_resident_of_another_compound_is_told_in_plain_chinese_who_may_book(world, site):
    why = refusal(services.book, world.people["孙二娘"], site.garage, at(MONDAY, 19), at(MONDAY, 23))
    assert "夜间时段仅限A1花园、A2花园的现住居民" in why


@time_machine.travel(NOW, tick=False)
def test_a_resident_who_moved_out_is_no_longer_eligible(world, site):
    from people.models import Residence

    Residence.objects.filter(person=world.people["张三"]).update(moved_out=dt.date(2026, 3, 1))
    why = refusal(services.book, world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY, 23))
    assert "现住居民" in why


@time_machine.travel(NOW, tick=False)
def test_the_same_space_serves_employees_by_day_and_residents_by_night(world, site):
    day = services.book(site.employee, site.lot, at(MONDAY, 9), at(MONDAY, 17))
    assert day.enterprise == site.enterprise
    assert "仅限元和大厦内企业的员工" in refusal(services.book, world.people["张三"], site.lot, at(MONDAY, 9),
                                          at(MONDAY, 12))
    assert "仅限A1花园、A2花园的现住居民" in refusal(services.book, site.employee, site.garage, at(MONDAY, 20),
                                               at(MONDAY, 23))
    assert "不在任何开放时段" in refusal(services.book, site.employee, site.lot, at(MONDAY, 17), at(MONDAY, 19))


@time_machine.travel(NOW, tick=False)
def test_vehicle_and_age_conditions_are_checked_and_explained(world, site):
    house = world.houses["A1"][0]
    site.night.needs_vehicle = True
    site.night.min_age = 60
    site.night.save()
    why = refusal(services.book, world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY, 23))
    assert "须本户或本企业有登记车辆" in why and "仅限60岁及以上" in why
    services.register_vehicle(None, "苏ED12345", house=house)
    site.night.min_age = None
    site.night.save()
    b = services.book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY, 23))
    assert b.vehicle.plate == "苏ED12345"


def test_plates_of_seven_and_eight_characters_are_checked(world):
    assert services.normalise_plate("苏e·12345") == "苏E12345"
    assert services.normalise_plate("苏ED12345") == "苏ED12345"
    assert services.normalise_plate("苏E12345F") == "苏E12345F"
    for bad in ("苏E1234", "苏EA12345", "苏E1234O", "AB12345", "苏ED1234X"):
        with pytest.raises(ValidationError):
            services.normalise_plate(bad)
    v = services.register_vehicle(None, "苏E12345", house=world.houses["A1"][0])
    assert v.grid_id == world.grids["A1"].pk and not v.new_energy
    with pytest.raises(ValidationError):
        services.register_vehicle(None, "苏E12345", house=world.houses["A1"][1])
    assert Vehicle.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_booking_the_whole_room_blocks_its_zones_and_a_zone_blocks_the_whole(world, site):
    person = world.people["张三"]
    services.book(person, site.room, at(MONDAY, 14), at(MONDAY, 16))
    assert "已被预约" in refusal(services.book, world.people["李四"], site.zones[0], at(MONDAY, 15), at(MONDAY, 16))
    services.book(world.people["李四"], site.zones[1], at(MONDAY, 18), at(MONDAY, 19))
    assert "已被预约" in refusal(services.book, world.people["王芳"], site.room, at(MONDAY, 18), at(MONDAY, 20))
    # Other zones stay free beside a booked zone.
    services.book(world.people["王芳"], site.zones[2], at(MONDAY, 18), at(MONDAY, 19))


@time_machine.travel(NOW, tick=False)
def test_the_buffer_after_a_booking_keeps_the_next_one_away(world, site):
    services.book(world.people["张三"], site.room, at(MONDAY, 10), at(MONDAY, 12))
    assert "已被预约" in refusal(services.book, world.people["李四"], site.room, at(MONDAY, 12), at(MONDAY, 13))
    services.book(world.people["李四"], site.room, at(MONDAY, 12, 30), at(MONDAY, 13, 30))


@time_machine.travel(NOW, tick=False)
def test_raster_length_horizon_and_opening_hours_are_enforced(world, site):
    p = world.people["张三"]
    assert "30分钟的整段" in refusal(services.book, p, site.room, at(MONDAY, 14, 10), at(MONDAY, 15, 10))
    assert "至少预约60分钟" in refusal(services.book, p, site.room, at(MONDAY, 14), at(MONDAY, 14, 30))
    assert "最多预约240分钟" in refusal(services.book, p, site.room, at(MONDAY, 12), at(MONDAY, 17))
    assert "最多可提前14天" in refusal(services.book, p, site.room, at(MONDAY + dt.timedelta(days=20), 14),
                                     at(MONDAY + dt.timedelta(days=20), 15))
    assert "不在开放时间内" in refusal(services.book, p, site.room, at(MONDAY, 20), at(MONDAY, 22))
    assert "已经过去" in refusal(services.book, p, site.room, at(MONDAY, 8), at(MONDAY, 9))


@time_machine.travel(NOW, tick=False)
def test_holidays_and_swapped_working_days_come_from_the_cases_calendar(world, site):
    from cases.deadlines import invalidate
    from cases.models import Holiday

    Holiday.objects.create(date=dt.date(2026, 3, 11), is_workday=False, name="测试假日")
    Holiday.objects.create(date=dt.date(2026, 3, 14), is_workday=True, name="调休上班")
    invalidate()
    try:
        assert "不开放" in refusal(services.book, world.people["张三"], site.cleaning, at(dt.date(2026, 3, 11), 9))
        saturday = services.book(world.people["张三"], site.cleaning, at(dt.date(2026, 3, 14), 9))
        assert saturday.offer.capacity == 2
        assert "不开放" in refusal(services.book, world.people["李四"], site.cleaning, at(dt.date(2026, 3, 15), 9))
        assert services.availability(site.cleaning, dt.date(2026, 3, 11)) == []
    finally:
        invalidate()


@time_machine.travel(NOW, tick=False)
def test_blackouts_close_the_resource_and_its_parts(world, site):
    from resources.models import Blackout

    Blackout.objects.create(resource=site.room, starts_at=at(MONDAY, 13), ends_at=at(MONDAY, 17), reason="消防检查")
    assert "消防检查" in refusal(services.book, world.people["张三"], site.zones[0], at(MONDAY, 14), at(MONDAY, 15))


@time_machine.travel(NOW, tick=False)
def test_seats_are_counted_and_never_go_below_zero_or_past_capacity(world, site):
    start = at(MONDAY, 12, 15)
    people = list(world.people.values())[:10]
    bookings = [services.book(p, site.canteen, start) for p in people]
    offer = Offer.objects.get(resource=site.canteen, starts_at=start)
    assert offer.taken == 10
    assert "约满" in refusal(services.book, site.employee, site.canteen, start)
    services.cancel(bookings[0], person=people[0])
    offer.refresh_from_db()
    assert offer.taken == 9
    # The database itself refuses an impossible count, whatever the code does.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.filter(pk=offer.pk).update(taken=11)
    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.filter(pk=offer.pk).update(taken=-1)


@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_overlapping_claims_even_without_the_service(world, site):
    """The guard is the database's, not the code's: two overlapping live claims on one space cannot both exist
    (PostgreSQL: the exclusion constraint; SQLite: the unique slot rows)."""
    from django.db import IntegrityError, connection, transaction

    b = services.book(world.people["张三"], site.spaces[0], at(MONDAY, 19), at(MONDAY, 23))
    claim = Claim.objects.get(booking=b, resource=site.spaces[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        other = Claim.objects.create(booking=b, resource=site.spaces[0], starts_at=at(MONDAY, 22),
                                     ends_at=at(MONDAY, 23, 30))
        if connection.vendor != "postgresql":
            Slot.objects.create(claim=other, resource=site.spaces[0], at=at(MONDAY, 22))
    if connection.vendor == "postgresql":
        # An ended claim no longer blocks.
        Claim.objects.filter(pk=claim.pk).update(active=False)
        Claim.objects.create(booking=b, resource=site.spaces[0], starts_at=at(MONDAY, 22), ends_at=at(MONDAY, 23))


@time_machine.travel(NOW, tick=False)
def test_a_recurring_booking_books_what_it_can_and_lists_the_dates_that_failed(world, site):
    services.book(world.people["李四"], site.zones[0], at(MONDAY + dt.timedelta(days=2), 14),
                  at(MONDAY + dt.timedelta(days=2), 15))
    series = services.book_series(world.people["张三"], site.room, MONDAY + dt.timedelta(days=1),
                                  MONDAY + dt.timedelta(days=5), dt.time(14), dt.time(16))
    assert Booking.objects.filter(series=series).count() == 4
    assert [f["date"] for f in series.failed] == ["2026-03-11"]
    assert "已被预约" in series.failed[0]["reason"]


@time_machine.travel(NOW, tick=False)
def test_a_pool_availability_counts_free_spaces_in_each_tidal_window(world, site):
    services.book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    options = services.availability(site.garage, MONDAY)
    assert [(o.label, o.left, o.total) for o in options] == [("夜间", 9, 10)]


@time_machine.travel(NOW, tick=False)
def test_a_pool_without_windows_counts_free_spaces_hour_by_hour(world, site):
    """Hour by hour, against a count by hand: counted by the database, and (once a single space has a blackout) by
    putting each claim and blackout into the hours it overlaps."""
    from resources.models import Blackout, Window

    Window.objects.filter(resource=site.lot).delete()  # the lot open round the clock, hour by hour
    services.book(world.people["张三"], site.lot, at(MONDAY, 9), at(MONDAY, 12))
    services.book(world.people["王芳"], site.lot, at(MONDAY, 11), at(MONDAY, 13))
    counted = {services._local(o.start).hour: o.left for o in services.availability(site.lot, MONDAY)}
    assert (counted[10], counted[11], counted[12], counted[13]) == (2, 1, 2, 3)  # counted by the database
    week = services.pool_availability(site.lot, MONDAY, 2)
    assert [o.left for o in week[MONDAY]] == list(counted.values()) and len(week[MONDAY + dt.timedelta(days=1)]) == 24
    Blackout.objects.create(resource=site.lot_spaces[2], starts_at=at(MONDAY, 12), ends_at=at(MONDAY, 14),
                            reason="划线")
    options = {services._local(o.start).hour: o for o in services.availability(site.lot, MONDAY)}
    assert len(options) == 14  # 10:00 … 23:00 (the hours before now are gone)
    expected = {10: 2, 11: 1, 12: 1, 13: 2, 14: 3}
    for hour, left in expected.items():
        assert (options[hour].left, options[hour].total) == (left, 3), hour
    Blackout.objects.create(resource=site.lot, starts_at=at(MONDAY, 20), ends_at=at(MONDAY, 22), reason="检修")
    hours = {services._local(o.start).hour for o in services.availability(site.lot, MONDAY)}
    assert 20 not in hours and 21 not in hours and 22 in hours
