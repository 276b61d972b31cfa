"""A pool booking reads the space's parts, its tree's blackouts and the booker's own bookings with the free space
(resources.services.free_spaces): the rules they stand for still refuse, in the same words."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from resources import services
from resources.choices import ACTIVE_STATES
from resources.models import Blackout, Booking, Resource
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
NOW = "2026-03-09 10:00 +0800"


def refusal(fn, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kwargs)
    return " ".join(exc.value.messages)


def _night():
    return at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8)


@time_machine.travel(NOW, tick=False)
def test_a_second_space_the_same_night_is_refused_as_before(world, site):
    services.book(world.people["张三"], site.garage, *_night())
    assert "您在该时段已有预约" in refusal(services.book, world.people["张三"], site.garage, *_night())
    assert Booking.objects.filter(person=world.people["张三"], state__in=ACTIVE_STATES).count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_blackout_on_the_pool_refuses_with_its_reason(world, site):
    start, end = _night()
    Blackout.objects.create(resource=site.garage, starts_at=start, ends_at=end, reason="消防检查")
    assert "该时段停用：消防检查" in refusal(services.book, world.people["张三"], site.garage, start, end)


@time_machine.travel(NOW, tick=False)
def test_a_space_with_parts_claims_them_too(world, site):
    space = Resource.objects.filter(parent=site.garage).order_by("code", "id").first()
    part = Resource.objects.create(kind=space.kind, mode="exclusive", name=f"{space.name}-充电桩", code="zz-part",
                                   parent=space, compound=space.compound, opens_at=space.opens_at,
                                   closes_at=space.closes_at)
    b = services.book(world.people["张三"], site.garage, *_night())
    assert b.resource_id == space.pk
    assert set(b.claims.values_list("resource_id", flat=True)) == {space.pk, part.pk}


def test_free_spaces_annotates_what_the_booking_needs(world, site):
    start, end = _night()
    with transaction.atomic():
        first = next(services.free_spaces(site.garage, start, end, batch=1, skip_locked=True,
                                          above=[site.garage.pk], person=world.people["张三"]))
    assert first.has_parts is False and first.closed_above is False and first.person_busy is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and SKIP LOCKED exist on PostgreSQL only")
def test_a_space_held_by_a_racing_booker_is_passed_over(world, site, racers):
    """Another connection holds the first free space's row (as a booker in the middle of its transaction): the
    next booker gets the second space at once instead of waiting for the first."""
    import threading

    start, end = _night()
    spaces = list(Resource.objects.filter(parent=site.garage).order_by("code", "id").values_list("pk", flat=True))
    held, release, out = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic():
                list(Resource.objects.select_for_update(no_key=True).filter(pk=spaces[0]))
                held.set()
                release.wait(60)
        finally:
            connection.close()

    def book() -> None:
        try:
            with time_machine.travel(NOW, tick=False):
                out.append(services.book(world.people["张三"], Resource.objects.get(pk=site.garage.pk), start,
                                         end).resource_id)
        finally:
            release.set()
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(60)
    booker = threading.Thread(target=book)
    booker.start()
    booker.join()
    holder.join()
    assert out == [spaces[1]]
