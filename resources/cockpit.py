"""The shared resources on the cockpit: the tide (how full the parking spaces are at each hour of the day over the
last two weeks: the tower's garage full at night, the compounds' lots by day), who uses the resources (the home
compounds and enterprises of the last 30 days' bookers), bookings against no-shows, and a map layer of the
resources with their free places now."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["compute_tide", "compute_use", "compute_use_figures", "register"]

LEVELS = ("street", "community", "grid", "compound")
TIDE_DAYS = 14
USE_DAYS = 30
TOP = 6


def _col(level: str) -> str:
    return f"{level}_id"


def _hour_label(h: str) -> str:
    return f"{int(h)}时"


def compute_tide(level: str, place_ids=None, *, now: dt.datetime | None = None) -> dict[int, dict[str, float]]:
    """Per place: for each hour of the day ("00".."23"), the share of its parking spaces taken in that hour,
    averaged over the last 14 days (a booking counts for every hour it overlaps; a no-show not at all)."""
    from resources.choices import BookingState, Kind
    from resources.models import Booking, Resource

    now = now or timezone.now()
    local_now = timezone.localtime(now)
    end = local_now.replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=TIDE_DAYS)
    col = _col(level)
    spaces = Resource._base_manager.filter(kind=Kind.PARKING_SPACE, is_active=True)
    bookings = Booking._base_manager.filter(resource__kind=Kind.PARKING_SPACE, starts_at__lt=end, ends_at__gt=start,
                                            state__in=[BookingState.CONFIRMED, BookingState.CHECKED_IN])
    if place_ids is not None:
        spaces = spaces.filter(**{f"{col}__in": list(place_ids)})
        bookings = bookings.filter(**{f"{col}__in": list(place_ids)})
    count = {row[col]: row["n"] for row in spaces.values(col).annotate(n=Count("id")).order_by()}
    hours: dict[int, Counter] = defaultdict(Counter)
    for place, a, b in bookings.values_list(col, "starts_at", "ends_at").iterator(chunk_size=5000):
        t = max(timezone.localtime(a), start).replace(minute=0, second=0, microsecond=0)
        stop = min(timezone.localtime(b), end)
        while t < stop:
            hours[place][t.hour] += 1
            t += dt.timedelta(hours=1)
    out = {}
    for place, n in count.items():
        slots = n * TIDE_DAYS
        out[place] = {f"{h:02d}": round(min(hours[place][h] / slots, 1.0), 3) for h in range(24)}
    return out


def _tide_labels() -> dict[str, str]:
    return {f"{h:02d}": _hour_label(f"{h:02d}") for h in range(24)}


def compute_use(level: str, place_ids=None, *, now: dt.datetime | None = None) -> dict[int, dict[str, float]]:
    """Per place: the last 30 days' bookings by the booker's home compound or enterprise (the largest six, the rest
    as 其他)."""
    from resources.choices import BookingState
    from resources.models import Booking

    now = now or timezone.now()
    col = _col(level)
    qs = Booking._base_manager.filter(starts_at__gte=now - dt.timedelta(days=USE_DAYS), starts_at__lt=now).exclude(
        state__in=[BookingState.CANCELLED, BookingState.REJECTED, BookingState.EXPIRED])
    if place_ids is not None:
        qs = qs.filter(**{f"{col}__in": list(place_ids)})
    per: dict[int, Counter] = defaultdict(Counter)
    rows = qs.values(col, "home_compound__name", "enterprise__name").annotate(n=Count("id")).order_by()
    for row in rows:
        who = row["enterprise__name"] or row["home_compound__name"] or str(_("街道外"))
        per[row[col]][who] += row["n"]
    out = {}
    for place, counter in per.items():
        top = counter.most_common(TOP)
        rest = sum(counter.values()) - sum(n for _w, n in top)
        values = {who: n for who, n in top}
        if rest:
            values[str(_("其他"))] = rest
        out[place] = values
    return out


def compute_use_figures(level: str, place_ids=None, *, now: dt.datetime | None = None):
    """Per place over the last 30 days: bookings that have begun, checked in, no-shows released."""
    from resources.choices import BookingState
    from resources.models import Booking

    now = now or timezone.now()
    col = _col(level)
    qs = Booking._base_manager.filter(starts_at__gte=now - dt.timedelta(days=USE_DAYS), starts_at__lt=now,
                                      state__in=[BookingState.CONFIRMED, BookingState.CHECKED_IN,
                                                 BookingState.RELEASED])
    if place_ids is not None:
        qs = qs.filter(**{f"{col}__in": list(place_ids)})
    return {row[col]: {"booked": row["booked"], "checked_in": row["checked_in"], "released": row["released"]}
            for row in qs.values(col).annotate(
                booked=Count("id"), checked_in=Count("id", filter=Q(state=BookingState.CHECKED_IN)),
                released=Count("id", filter=Q(state=BookingState.RELEASED))).order_by()}


def _drill(level: str, place_id: int, subkey: str):
    from django.urls import reverse

    return reverse("resources:staff")


def register() -> None:
    """Called by the cockpit when it starts (cockpit/apps.py), as every app's ``cockpit.register``."""
    from cockpit.registry import register_layer, register_metric, register_panel

    register_metric("resources.tide", label=_("车位占用（按小时）"), compute=compute_tide, levels=LEVELS,
                    subkey_labels=_tide_labels, percent=True)
    register_metric("resources.use", label=_("共享资源使用（按小区/企业）"), compute=compute_use, levels=LEVELS)
    register_metric("resources.figures", label=_("共享资源近30天"), compute=compute_use_figures, levels=LEVELS,
                    subkey_labels={"booked": _("预约"), "checked_in": _("签到"), "released": _("爽约释放")})
    register_panel("resources.tide", title=_("潮汐停车：各时段车位占用（近14天）"), metrics=["resources.tide"],
                   chart="line", order=70, levels=LEVELS)
    register_panel("resources.figures", title=_("共享资源近30天"), metrics=["resources.figures"], chart="figures",
                   order=71, levels=LEVELS, drill=_drill)
    register_panel("resources.use", title=_("共享资源使用：按小区/企业（近30天）"), metrics=["resources.use"],
                   chart="bar", order=72, levels=LEVELS)
    register_layer("resources.places", title=_("共享资源"), url_name="resources:geojson", color="#0f766e",
                   shown=False)
