"""``manage.py resources_demo`` on the test world (with an office tower and its enterprise added)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conftest import resident_id


def tower_with_staff(world):
    from people.models import Enterprise
    from people.services import PersonData, save_person
    from places.models import Compound

    tower = Compound.objects.create(grid=world.grids["B1"], name="活力大厦", kind="office")
    Enterprise.objects.create(name="活力科技", credit_code="91320507MA1DEMO00X", compound=tower)
    save_person(None, PersonData(name="上班族", id_number=resident_id("32050719910101123")),
                house=world.houses["B1"][3], relation="householder", moved_in=dt.date(2021, 1, 1),
                accept_warnings=True, source="test")
    return tower


def test_the_demo_builds_every_kind_and_weeks_of_use_and_runs_once(world):
    from resources.choices import BookingState, Kind
    from resources.models import BookerLink, Booking, CheckIn, Claim, Offer, Resource, Strike, Vehicle

    tower_with_staff(world)
    out = StringIO()
    call_command("resources_demo", "--weeks", "2", stdout=out)
    kinds = set(Resource.objects.values_list("kind", flat=True))
    assert kinds == {k.value for k in Kind} - {"room"}
    garage = Resource.objects.get(code="DEMO-GARAGE")
    assert garage.compound.kind == "office" and garage.children.count() == 40
    assert garage.windows.get().rule.residents_of.count() == 2
    assert Resource.objects.get(code="DEMO-ROOM").children.count() == 3
    states = set(Booking.objects.values_list("state", flat=True))
    assert {BookingState.CHECKED_IN, BookingState.RELEASED, BookingState.CONFIRMED} <= states
    assert Booking.objects.filter(resource__parent=garage).exists()
    assert Strike.objects.count() == Booking.objects.filter(state=BookingState.RELEASED).count() > 0
    assert CheckIn.objects.filter(resource__code="DEMO-FRIDGE").exists()
    assert Vehicle.objects.exists()
    for offer in Offer.objects.all():  # the counted places agree with the bookings holding them
        held = sum(Booking.objects.filter(offer=offer).exclude(
            state__in=[BookingState.CANCELLED, BookingState.RELEASED, BookingState.REJECTED,
                       BookingState.EXPIRED]).values_list("seats", flat=True))
        assert offer.taken == held
    assert not Claim.objects.filter(active=True, booking__state=BookingState.RELEASED).exists()
    # residents of both compounds of the night window book it (not only the one whose rows come first)
    assert Booking.objects.filter(resource__parent=garage).values("home_compound").distinct().count() == 2
    from resources import lottery
    from resources.models import Draw

    open_draw = Draw.objects.filter(drawn_at__isnull=True).get()
    drawn = Draw.objects.filter(drawn_at__isnull=False).get()
    assert open_draw.applications.count() > open_draw.places and lottery.verify(drawn)
    won = list(drawn.applications.filter(won=True))
    assert len(won) <= drawn.places and all(a.booking_id for a in won)
    # a place not filled went past applicants the rules refused (no-shows, quotas), each with its reason
    assert len(won) == drawn.places or all(a.failed for a in drawn.applications.filter(won=False))
    link = BookerLink.objects.get(user=world.users.resident)
    assert link.person.residences.filter(moved_out__isnull=True,
                                         house__compound__in=garage.windows.get().rule.residents_of.all()).exists()
    print(out.getvalue())
    n = Booking.objects.count()
    call_command("resources_demo", stdout=StringIO())
    assert Booking.objects.count() == n


def test_the_demo_says_what_is_missing_without_a_tower(world):
    with pytest.raises(CommandError, match="office tower"):
        call_command("resources_demo", stdout=StringIO())
