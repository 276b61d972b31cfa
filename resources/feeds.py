"""iCalendar feeds (RFC 5545, ``icalendar``): one per booker (their bookings) and one per resource (its bookings,
no names), each at a secret address a calendar app subscribes to. Whoever holds the address reads the feed, so the
resource's feed carries no personal data at all and the booker's only what its owner knows."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from resources.choices import ACTIVE_STATES, BookingState
from resources.models import BookerLink, Booking, Resource
from resources.services import descendants, place_name

__all__ = ["booker_feed", "resource_feed"]

PAST = dt.timedelta(days=30)
AHEAD = dt.timedelta(days=120)


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Renfang//shared resources//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    return cal


def _event(b: Booking, summary: str, host: str) -> Event:
    ev = Event()
    ev.add("uid", f"booking-{b.pk}@{host}")
    ev.add("dtstamp", b.updated_at)
    ev.add("dtstart", timezone.localtime(b.starts_at))
    ev.add("dtend", timezone.localtime(b.ends_at))
    ev.add("summary", summary)
    location = " ".join(x for x in (b.resource.compound.name, b.resource.location) if x)
    if location:
        ev.add("location", location)
    ev.add("status", "TENTATIVE" if b.state in (BookingState.PENDING, BookingState.HELD) else "CONFIRMED")
    return ev


def _bookings(qs):
    now = timezone.now()
    return (qs.filter(state__in=[*ACTIVE_STATES], starts_at__gte=now - PAST, starts_at__lt=now + AHEAD)
            .select_related("resource", "resource__parent", "resource__compound").order_by("starts_at", "id"))


def _response(cal: Calendar, filename: str) -> HttpResponse:
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def booker_feed(request, token: str) -> HttpResponse:
    link = BookerLink.objects.filter(ical_token=token).select_related("person").first()
    if link is None:
        raise Http404
    cal = _calendar(_("我的共享资源预约"))
    host = request.get_host()
    for b in _bookings(Booking.objects.filter(person=link.person)):
        state = "" if b.state in (BookingState.CONFIRMED, BookingState.CHECKED_IN) else f"（{b.get_state_display()}）"
        cal.add_component(_event(b, f"{place_name(b.resource)}{state}", host))
    return _response(cal, "my-bookings.ics")


def resource_feed(request, token: str) -> HttpResponse:
    resource = Resource.objects.filter(ical_token=token).first()
    if resource is None:
        raise Http404
    ids = [resource.pk, *descendants([resource.pk])]
    cal = _calendar(resource.name)
    host = request.get_host()
    for b in _bookings(Booking.objects.filter(resource__in=ids)):
        cal.add_component(_event(b, f"{place_name(b.resource)} {b.get_state_display()}", host))
    return _response(cal, f"resource-{resource.pk}.ics")
