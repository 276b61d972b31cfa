"""The pages of the shared resources.

Residents and employees (an account linked to a registry person by ``BookerLink``), on a phone: the resources
they may book with who may when (in plain Chinese when the rule says no), one day's choices of a resource, booking,
their bookings with cancel, and check-in from the QR code at the place. Staff of a place: the resources of their
scope, a week grid per resource (names masked), a printable day sheet, the bookings waiting for approval and the
check-in by plate at the gate. Every write goes through ``resources.services``.
"""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View as View_

from core.filters import FilterSet
from core.scope import scope_for
from core.tables import Column, Table
from core.views import ObjectListView, PermissionView, is_htmx, parse_bbox, require
from resources import services
from resources.choices import ACTIVE_STATES, BookingState, Kind, Mode
from resources.models import ApproverGroup, BookerLink, Booking, Employment, Resource, Window

WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]
SHOWN_STATES = [*ACTIVE_STATES, BookingState.RELEASED]


def mask_name(name: str) -> str:
    """张* / 张*丰 / 欧**修: the first and (from three characters) the last character."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name or "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def day_label(day: dt.date) -> str:
    return f"{day.month}月{day.day}日 周{WEEKDAYS[day.weekday()]}"


def _parse_day(value: str | None, default: dt.date) -> dt.date:
    try:
        return parse_date(value or "") or default
    except ValueError:
        return default


def _parse_moment(value: str | None) -> dt.datetime | None:
    try:
        moment = parse_datetime(value or "")
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


# --- residents and employees --------------------------------------------------------------------------------
SESSION_BOOKER = "resources.booker"
SESSION_HOURS = 2
PHONE_PURPOSE = "resources.booker"


def session_booker(request):
    """The registry person a phone code identified in this browser (for two hours), or None."""
    from people.models import Person

    held = request.session.get(SESSION_BOOKER) or {}
    until = _parse_moment(held.get("until"))
    if not held.get("person") or until is None or until <= timezone.now():
        return None
    return Person._base_manager.filter(pk=held["person"]).first()


class BookerView(PermissionView):
    """The registry person who books: the account's (``BookerLink``), or, without an account, the one a code sent to
    their registered phone identified in this browser; otherwise the page that says how to get one."""

    def dispatch(self, request, *args, **kwargs):
        from django.views import View

        self.person, self.user = None, request.user if request.user.is_authenticated else None
        if self.user is not None:
            link = BookerLink.objects.filter(user=self.user).select_related("person").first()
            self.person = link.person if link else None
        if self.person is None:
            self.person = session_booker(request)
        if self.person is None:
            if self.user is None:
                return HttpResponseRedirect(reverse("resources:phone") + "?" + _next(request.get_full_path()))
            return render(request, "resources/not_linked.html", {"title": _("共享资源预约")}, status=403)
        return View.dispatch(self, request, *args, **kwargs)


def _next(path: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": path})


class PhoneView(View_):
    """No account: a code to the phone the registry holds for them; the code identifies the person in this
    browser for two hours. Whether a number is in the registry is said only after the code is verified."""

    def get(self, request):
        return render(request, "resources/phone.html", {"title": _("手机验证码预约"), "step": "phone",
                                                        "next": _safe_next(request.GET.get("next"))})

    def post(self, request):
        from notify import sms

        nxt = _safe_next(request.POST.get("next"))
        phone = (request.POST.get("phone") or "").strip()
        ctx = {"title": _("手机验证码预约"), "next": nxt, "phone": phone, "step": "phone"}
        if request.POST.get("step") != "confirm":
            try:
                ctx["challenge"] = sms.send_code(phone, PHONE_PURPOSE, request=request)
            except sms.RateLimited as exc:
                ctx["error"] = exc.message
                return render(request, "resources/phone.html", ctx, status=429)
            except ValidationError as exc:
                ctx["error"] = exc.messages[0]
                return render(request, "resources/phone.html", ctx)
            ctx.update(step="code", masked=f"{phone[:3]}****{phone[-4:]}")
            return render(request, "resources/phone.html", ctx)
        challenge, code = request.POST.get("challenge", ""), (request.POST.get("code") or "").strip()
        ctx.update(step="code", challenge=challenge, masked=f"{phone[:3]}****{phone[-4:]}")
        if not sms.verify_code(challenge, code, phone=phone, purpose=PHONE_PURPOSE):
            ctx["error"] = _("验证码不正确或已过期（每个验证码最多试5次，10分钟内有效），可重新获取")
            return render(request, "resources/phone.html", ctx)
        people = _people_with_phone(phone)
        if not people:
            ctx.update(step="none")
            return render(request, "resources/phone.html", ctx)
        if len(people) > 1:  # one person a phone as a rule; a family sharing one number picks who books
            request.session["resources.phone_verified"] = {
                "phone_bidx": people[0].phone_bidx, "until": (timezone.now() + dt.timedelta(minutes=10)).isoformat()}
            ctx.update(step="choose", people=[{"pk": p.pk, "name": mask_name(p.name)} for p in people])
            return render(request, "resources/phone.html", ctx)
        return self.hold(request, people[0], nxt)

    @staticmethod
    def hold(request, person, nxt):
        request.session.cycle_key()
        request.session[SESSION_BOOKER] = {"person": person.pk, "until": (
            timezone.now() + dt.timedelta(hours=SESSION_HOURS)).isoformat()}
        messages.success(request, _("已验证：%(n)s，可以预约了（本设备两小时内有效）") % {"n": mask_name(person.name)})
        return HttpResponseRedirect(nxt)


class PhoneChooseView(View_):
    """A family sharing one verified number: which of them books."""

    def post(self, request):
        held = request.session.get("resources.phone_verified") or {}
        until = _parse_moment(held.get("until"))
        if until is None or until <= timezone.now():
            return HttpResponseRedirect(reverse("resources:phone"))

        wanted = request.POST.get("person") or ""
        person = next((p for p in _people_with_phone_index(held["phone_bidx"]) if str(p.pk) == wanted), None)
        if person is None:
            return HttpResponseRedirect(reverse("resources:phone"))
        del request.session["resources.phone_verified"]
        return PhoneView.hold(request, person, _safe_next(request.POST.get("next")))



def _people_with_phone_index(bidx: str) -> list:
    """Current residents or current employees whose registered phone has this index."""
    from people.models import Person

    today = timezone.localdate()
    return list(Person._base_manager.filter(phone_bidx=bidx).filter(
        Q(residences__moved_out__isnull=True)
        | Q(pk__in=Employment.objects.filter(Q(until__isnull=True) | Q(until__gte=today)).values("person_id")))
        .distinct().order_by("id")[:6])


def _people_with_phone(phone: str) -> list:
    from notify import sms
    from people.models import Person

    return _people_with_phone_index(Person.phone_index(sms.normalise_phone(phone)))


def _safe_next(value: str | None) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    value = value or ""
    if value.startswith(("/resources/", "/activities/")) and url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return value
    return reverse("resources:browse")


def _bookable(qs):
    """What a booker picks: every active resource that takes bookings, but not the single spaces of a pool (the
    pool hands out a free one)."""
    return (qs.filter(is_active=True).exclude(mode=Mode.NONE).exclude(parent__mode=Mode.GROUP)
            .select_related("compound", "parent", "rule"))


def _rules_text(resource: Resource, booker, windows: list[Window]) -> list[dict]:
    """Who may book when: each tidal window (or the resource's rule) and what it says to this booker."""
    rows = []
    if windows:
        for w in windows:
            refusal = services.eligibility_refusal(w.rule, booker)
            rows.append({"label": f"{w.label} {w.starts:%H:%M}–{w.ends:%H:%M}", "rule": w.rule.name,
                         "refusal": "；".join(refusal)})
        return rows
    chain = [resource, *services.ancestors(resource)]
    rule = next((r.rule for r in chain if r.rule_id), None)
    refusal = services.eligibility_refusal(rule, booker)
    rows.append({"label": "", "rule": rule.name if rule else _("所有居民与员工"), "refusal": "；".join(refusal)})
    return rows


def _windows_of(resources: list[Resource]) -> dict[int, list[Window]]:
    ids = {r.pk for r in resources} | {r.parent_id for r in resources if r.parent_id}
    out: dict[int, list[Window]] = {}
    for w in Window.objects.filter(resource__in=ids).select_related("rule").order_by("starts"):
        out.setdefault(w.resource_id, []).append(w)
    return out


class BrowseView(BookerView):
    """The resources a resident may book, the ones they may not with why."""

    def get(self, request):
        booker = services.booker_for(self.person, self.user)
        resources = list(_bookable(Resource.objects.all()).order_by("compound__name", "parent_id", "code", "id"))
        windows = _windows_of(resources)
        items = []
        for r in resources:
            ws = windows.get(r.pk) or windows.get(r.parent_id) or []
            rules = _rules_text(r, booker, ws)
            items.append({"resource": r, "rules": rules, "eligible": any(not x["refusal"] for x in rules),
                          "block": services.strikes_block(r, self.person)})
        # the eligible first; a room's zones right after the room
        items.sort(key=lambda i: (not i["eligible"], i["resource"].compound.name,
                                  i["resource"].parent_id or i["resource"].pk, i["resource"].parent_id is not None,
                                  i["resource"].code, i["resource"].pk))
        return render(request, "resources/browse.html", {
            "title": _("共享资源预约"), "items": items, "person": self.person,
            "eligible_count": sum(1 for i in items if i["eligible"])})


class DayView(BookerView):
    """One day's choices of one resource, each with a button to book it."""

    def get(self, request, pk):
        resource = get_object_or_404(_bookable(Resource.objects.all()), pk=pk)
        today = timezone.localdate()
        day = _parse_day(request.GET.get("date"), today)
        options = services.availability(resource, day)
        booker = services.booker_for(self.person, self.user, day)
        windows = _windows_of([resource])
        rules = _rules_text(resource, booker, windows.get(resource.pk) or windows.get(resource.parent_id) or [])
        last = today + dt.timedelta(days=min(resource.horizon_days, 13))
        days = []
        d = today
        while d <= last:
            days.append({"date": d, "label": f"{d.month}/{d.day}", "weekday": WEEKDAYS[d.weekday()],
                         "current": d == day})
            d += dt.timedelta(days=1)
        return render(request, "resources/day.html", {
            "title": resource.name, "resource": resource, "day": day, "day_label": day_label(day),
            "options": [{"o": o, "start": timezone.localtime(o.start), "end": timezone.localtime(o.end),
                         "overnight": timezone.localtime(o.end).date() != timezone.localtime(o.start).date()}
                        for o in options],
            "days": days, "rules": rules, "strike_block": services.strikes_block(resource, self.person),
            "draws": list(_open_draws(resource)) if resource.mode == Mode.GROUP else [],
            "weekly": resource.mode == Mode.EXCLUSIVE, "week_choices": range(2, SeriesView.MAX_WEEKS + 1),
            "pool": resource.mode == Mode.GROUP, "seats": resource.mode in (Mode.SEATS, Mode.DAILY)})


class BookView(BookerView):
    def post(self, request, pk):
        resource = get_object_or_404(_bookable(Resource.objects.all()), pk=pk)
        start, end = _parse_moment(request.POST.get("start")), _parse_moment(request.POST.get("end"))
        back = reverse("resources:day", args=[resource.pk])
        if start is None:
            messages.error(request, _("请选择一个时段"))
            return HttpResponseRedirect(back)
        back += f"?date={timezone.localtime(start).date().isoformat()}"
        try:
            if request.POST.get("wait"):
                services.join_waitlist(self.person, resource, start, end or start, user=self.user)
                messages.success(request, _("已加入候补：有人取消时会为您保留名额并通知您"))
                return HttpResponseRedirect(back)
            booking = services.book(self.person, resource, start, end, user=self.user,
                                    channel="web" if self.user else "phone")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(back)
        if booking.state == BookingState.PENDING:
            messages.success(request, _("已提交预约申请「%(r)s」，审批通过后会通知您") % {"r": booking.resource.name})
        else:
            messages.success(request, _("预约成功：%(r)s") % {"r": services.place_name(booking.resource)})
        return HttpResponseRedirect(reverse("resources:mine"))


def _booking_row(b: Booking, now: dt.datetime) -> dict:
    start, end = timezone.localtime(b.starts_at), timezone.localtime(b.ends_at)
    limit = b.starts_at - dt.timedelta(minutes=b.resource.cancel_minutes)
    return {"b": b, "start": start, "end": end, "day": day_label(start.date()),
            "overnight": end.date() != start.date(),
            "place": services.place_name(b.resource),
            "can_cancel": b.is_active and b.state != BookingState.CHECKED_IN and (now <= limit
                                                                                or b.state == BookingState.HELD),
            "can_accept": b.state == BookingState.HELD,
            "checkin_open": b.state == BookingState.CONFIRMED and b.starts_at - services.TZ_HOLD <= now < b.ends_at}


class MineView(BookerView):
    def get(self, request):
        now = timezone.now()
        link = BookerLink.objects.filter(user=self.user).only("ical_token").first() if self.user else None
        rows = [_booking_row(b, now) for b in Booking.objects.filter(person=self.person)
                .select_related("resource", "resource__parent", "vehicle").order_by("starts_at", "id")
                .filter(starts_at__gte=now - dt.timedelta(days=60))]
        upcoming = [r for r in rows if r["b"].is_active and r["b"].ends_at > now]
        past = [r for r in rows if r not in upcoming][::-1][:30]
        return render(request, "resources/mine.html", {"title": _("我的预约"), "upcoming": upcoming, "past": past,
                                                       "ical_token": link.ical_token if link else ""})


class CancelView(BookerView):
    def post(self, request, pk):
        booking = get_object_or_404(Booking.objects.filter(person=self.person).select_related("resource"), pk=pk)
        try:
            if request.POST.get("accept"):
                services.accept_hold(booking, self.person)
                messages.success(request, _("已确认：%(r)s") % {"r": booking.resource.name})
            else:
                services.cancel(booking, person=self.person)
                messages.success(request, _("已取消：%(r)s") % {"r": booking.resource.name})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("resources:mine"))


class CheckInView(BookerView):
    """The page behind the QR code at a space, room or point: the booking there now, one button to check in."""

    def get(self, request, token):
        resource = get_object_or_404(Resource, qr_token=token, is_active=True)
        now = timezone.now()
        near = [resource.pk, *services.descendants([resource.pk]), *[a.pk for a in services.ancestors(resource)]]
        booking = (Booking.objects.filter(person=self.person, resource__in=near,
                                          state__in=[BookingState.CONFIRMED, BookingState.CHECKED_IN],
                                          starts_at__lte=now + services.TZ_HOLD, ends_at__gt=now)
                   .select_related("resource", "resource__parent").order_by("starts_at").first())
        upcoming = None
        if booking is None and resource.mode != Mode.NONE:
            upcoming = (Booking.objects.filter(person=self.person, resource__in=near, state=BookingState.CONFIRMED,
                                               starts_at__gt=now).select_related("resource").order_by("starts_at")
                        .first())
        return render(request, "resources/checkin.html", {
            "title": _("签到"), "resource": resource, "row": _booking_row(booking, now) if booking else None,
            "upcoming": _booking_row(upcoming, now) if upcoming else None, "point": resource.mode == Mode.NONE})

    def post(self, request, token):
        try:
            resource, booking = services.check_in_by_qr(token, self.person)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(reverse("resources:checkin", args=[token]))
        if booking is None:
            messages.success(request, _("已签到：%(r)s") % {"r": resource.name})
        else:
            messages.success(request, _("签到成功：%(r)s %(t)s") % {
                "r": services.place_name(booking.resource), "t": f"{timezone.localtime(booking.checked_in_at):%H:%M}"})
        return HttpResponseRedirect(reverse("resources:mine"))


# --- staff --------------------------------------------------------------------------------------------------
class ResourceFilterSet(FilterSet):
    q = df.CharFilter(method="search", label=gettext_lazy("搜索"))
    kind = df.ChoiceFilter(choices=Kind.choices, label=gettext_lazy("类型"))

    class Meta:
        model = Resource
        fields = ["kind"]

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__contains=value) | Q(code=value) | Q(compound__name__contains=value)
                               | Q(owner_name__contains=value))


ResourceTable = Table(columns=[
    Column(gettext_lazy("名称"), "name", link=True),
    Column(gettext_lazy("类型"), "get_kind_display"),
    Column(gettext_lazy("预约方式"), "get_mode_display"),
    Column(gettext_lazy("所在小区/楼宇"), "compound.name"),
    Column(gettext_lazy("管理单位"), "owner_name"),
    Column(gettext_lazy("容量"), lambda r: r.capacity if r.mode in (Mode.SEATS, Mode.DAILY) else "", css="num"),
    Column(gettext_lazy("须审批"), lambda r: _("是") if r.needs_approval else ""),
], select_related=["compound"])


class StaffListView(ObjectListView):
    """The resources of the user's places (not the single spaces of a pool: the pool's grid shows them)."""

    title = pgettext_lazy("nav", "共享资源")
    model = Resource
    filterset_class = ResourceFilterSet
    table = ResourceTable
    filter_fields = ["q", "kind"]
    ordering = ["compound__name", "parent_id", "code", "id"]
    template_name = "resources/staff_list.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require(request.user, "resources.view_resource")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(parent__mode=Mode.GROUP)

    def extra_context(self, request):
        from core.scope import scope_for

        scope = scope_for(request.user)
        return {"q_placeholder": _("名称、编号、小区、管理单位"),
                "can_approve": scope.has("resources.approve_resource"),
                "can_checkin": scope.has("resources.checkin_resource"),
                "can_add": scope.has("resources.add_resource"),
                "can_draw": scope.has("resources.draw_resource"),
                "pending": Booking.objects.restrict(request.user, "view").filter(
                    state=BookingState.PENDING, resource__in=Resource.objects.restrict(request.user, "approve")
                    .values("id")).count()}


class StaffView(PermissionView):
    perm = "resources.view_resource"

    def resource(self, request, pk) -> Resource:
        return get_object_or_404(Resource.objects.restrict(request.user, "view").select_related("compound", "parent"),
                                 pk=pk)

    def changeable(self, request, pk) -> Resource:
        """A resource to change: 404 outside the user's places, 403 one they may see but not change."""
        resource = self.resource(request, pk)
        if not Resource.objects.restrict(request.user, "change").filter(pk=resource.pk).exists():
            raise PermissionDenied(_("您可以查看此资源，但没有维护它的权限"))
        return resource


def _rows_of(resource: Resource, day: dt.date) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """The rows of the grid for one day: sittings, the provider's day, or hours over the opening time."""
    if resource.mode in (Mode.SEATS, Mode.DAILY):
        out = []
        for s in services._offer_starts(resource, day):
            end = s + dt.timedelta(minutes=resource.sitting_minutes) if resource.mode == Mode.SEATS else \
                services._span(day, resource.opens_at, resource.closes_at)[1]
            out.append((s, end, f"{timezone.localtime(s):%H:%M}"))
        return out
    a = services._at(day, dt.time(0))
    hours = range(24)
    if resource.closes_at > resource.opens_at:  # a day's opening time: only its hours
        hours = range(resource.opens_at.hour, resource.closes_at.hour + (1 if resource.closes_at.minute else 0))
    return [(a + dt.timedelta(hours=h), a + dt.timedelta(hours=h + 1), f"{h:02d}:00") for h in hours]


def _bookings(request, resource: Resource, start: dt.datetime, end: dt.datetime) -> list[Booking]:
    tree = [resource.pk, *services.descendants([resource.pk])]
    return list(Booking.objects.restrict(request.user, "view")
                .filter(resource__in=tree, starts_at__lt=end, ends_at__gt=start, state__in=SHOWN_STATES)
                .select_related("resource", "person", "vehicle").order_by("starts_at", "id"))


def _units(resource: Resource) -> int:
    if resource.mode == Mode.GROUP:
        return Resource.objects.filter(parent=resource, is_active=True).count() or 1
    return resource.capacity if resource.mode in (Mode.SEATS, Mode.DAILY) else 1


def _blackout_form():
    from resources.forms import BlackoutForm

    return BlackoutForm()


class WeekView(StaffView):
    """Days × slots: each cell the bookings over it (masked names), and how full it is."""

    def get(self, request, pk):
        resource = self.resource(request, pk)
        today = timezone.localdate()
        first = _parse_day(request.GET.get("start"), today - dt.timedelta(days=today.weekday()))
        first -= dt.timedelta(days=first.weekday())
        days = [first + dt.timedelta(days=i) for i in range(7)]
        bookings = _bookings(request, resource, services._at(days[0], dt.time(0)),
                             services._at(days[-1] + dt.timedelta(days=1), dt.time(0)))
        units = _units(resource)
        open_days = [services.open_on(resource, d) for d in days]
        per_day_rows = [_rows_of(resource, d) for d in days]
        labels = [label for _a, _b, label in per_day_rows[0]] or \
            sorted({label for rows in per_day_rows for _a, _b, label in rows})
        grid = []
        for i, label in enumerate(labels):
            cells = []
            for rows, is_open in zip(per_day_rows, open_days, strict=True):
                if i >= len(rows):
                    cells.append({"closed": True})
                    continue
                a, b, _label = rows[i]
                here = [x for x in bookings if x.starts_at < b and x.ends_at > a]
                live = [x for x in here if x.state != BookingState.RELEASED]
                used = sum(x.seats for x in live)
                # names where a booking begins (or at the day's first row, for one carried over from the night)
                named = [x for x in here if x.starts_at >= a or i == 0]
                cells.append({"closed": not is_open, "count": used, "units": units,
                              "level": 0 if not used else (3 if used >= units else (2 if used * 2 >= units else 1)),
                              "names": [{"name": mask_name(x.person.name), "state": x.state,
                                         "space": x.resource.code or x.resource.name if x.resource_id != resource.pk
                                         else ""} for x in named[:4]],
                              "more": max(len(named) - 4, 0)})
            grid.append({"label": label, "cells": cells})
        return render(request, "resources/week.html", {
            "title": resource.name, "resource": resource, "grid": grid, "units": units, "start": first.isoformat(),
            "can_export": scope_for(request.user).has("resources.export_resource"),
            "can_change": Resource.objects.restrict(request.user, "change").filter(pk=resource.pk).exists(),
            "can_desk": resource.mode != Mode.NONE and scope_for(request.user).has("resources.add_booking"),
            "today": today.isoformat(),
            "blackout_form": _blackout_form(),
            "blackouts": list(resource.blackouts.filter(ends_at__gt=timezone.now()).order_by("starts_at")[:10]),
            "days": [{"date": d, "label": day_label(d), "today": d == today, "open": o}
                     for d, o in zip(days, open_days, strict=True)],
            "prev": (first - dt.timedelta(days=7)).isoformat(), "next": (first + dt.timedelta(days=7)).isoformat(),
            "total": len([b for b in bookings if b.state != BookingState.RELEASED]),
            "no_shows": len([b for b in bookings if b.state == BookingState.RELEASED])})


class DeskBookView(StaffView):
    """代预约 at the community's desk, for a resident who comes in (an elderly neighbour without a phone): found by
    ID number or registered phone among the user's places (the number typed is posted, never in a URL or the
    audit in clear), the same time on N consecutive weeks. Every rule of a booking applies (who may book, quotas,
    opening, blackouts); the weeks that cannot be booked are listed with why."""

    perm = "resources.add_booking"
    MAX_WEEKS = 8

    def post(self, request, pk):
        from people.models import Person
        from people.services import find_by_number

        resource = self.resource(request, pk)
        back = reverse("resources:resource", args=[resource.pk])
        p = request.POST
        found = find_by_number(Person.objects.restrict(request.user, "view"), p.get("number"))
        if found is None:
            messages.error(request, _("在您管辖的人员中没有找到该证件号或手机号"))
            return HttpResponseRedirect(back)
        day = _parse_day(p.get("day"), None)
        # left empty: the opening hours; typed wrong (25:00): said so below, never replaced by a default
        starts = _parse_time(p.get("starts") or resource.opens_at.isoformat())
        ends = _parse_time(p.get("ends") or resource.closes_at.isoformat())
        weeks = p.get("weeks") or "1"
        weeks = int(weeks) if weeks.isdigit() and len(weeks) < 3 else 0
        if day is None or starts is None or ends is None or not 1 <= weeks <= self.MAX_WEEKS:
            messages.error(request, _("请填写日期、开始和结束时间，重复周数为1到%(n)d") % {"n": self.MAX_WEEKS})
            return HttpResponseRedirect(back)
        series = services.book_series(found, resource, day, day + dt.timedelta(weeks=weeks - 1), starts, ends,
                                      weekdays=str(day.isoweekday()), actor=request.user, channel="desk")
        now = timezone.now()
        booked = [{**_booking_row(b, now), "can_cancel": False, "can_accept": False}
                  for b in series.bookings.select_related("resource", "resource__parent").order_by("starts_at")]
        failed = [{"day": day_label(dt.date.fromisoformat(f["date"])), "reason": f["reason"]}
                  for f in series.failed]
        return render(request, "resources/series.html", {
            "title": _("代预约结果"), "resource": resource, "booked": booked, "failed": failed, "weeks": weeks,
            "desk_for": mask_name(found.name), "back": f"{back}?start={day.isoformat()}"})


def _parse_time(value: str | None) -> dt.time | None:
    try:
        return parse_time((value or "").strip())
    except ValueError:  # well formed but no time of day (25:00)
        return None


class SheetView(StaffView):
    """The day's bookings of a resource on one page to print (names masked, a column to sign)."""

    def get(self, request, pk):
        resource = self.resource(request, pk)
        day = _parse_day(request.GET.get("date"), timezone.localdate())
        bookings = _bookings(request, resource, services._at(day, dt.time(0)),
                             services._at(day + dt.timedelta(days=1), dt.time(0)))
        rows = [{"b": b, "start": timezone.localtime(b.starts_at), "end": timezone.localtime(b.ends_at),
                 "overnight": timezone.localtime(b.ends_at).date() != timezone.localtime(b.starts_at).date(),
                 "name": mask_name(b.person.name), "space": b.resource.name if b.resource_id != resource.pk else "",
                 "plate": b.vehicle.plate if b.vehicle_id else ""} for b in bookings]
        return render(request, "resources/sheet.html", {
            "title": _("%(r)s 预约单") % {"r": resource.name}, "resource": resource, "rows": rows, "day": day,
            "day_label": f"{day.year}年{day_label(day)}", "printed": timezone.localtime(),
            "prev": (day - dt.timedelta(days=1)).isoformat(), "next": (day + dt.timedelta(days=1)).isoformat()})


class PendingView(PermissionView):
    """The bookings waiting for a decision: first those of the approver groups the user is a member of, then the
    others of resources that name no group and whose place the user may approve."""

    perm = "resources.approve_resource"

    def get(self, request):
        allowed = Resource.objects.restrict(request.user, "approve").values("id")
        base = (Booking.objects.restrict(request.user, "view").filter(state=BookingState.PENDING)
                .select_related("resource", "resource__parent", "person", "home_compound", "enterprise")
                .order_by("starts_at"))
        groups = {g.pk: g for g in ApproverGroup.objects.filter(members=request.user)}
        mine, others = [], []
        for b in base.filter(Q(resource__in=allowed) | Q(resource__approver_group__in=list(groups))
                             | Q(resource__parent__approver_group__in=list(groups)))[:400]:
            group = services.approver_group_id([b.resource, *services.ancestors(b.resource)])
            row = {"b": b, "start": timezone.localtime(b.starts_at), "end": timezone.localtime(b.ends_at),
                   "name": mask_name(b.person.name), "group": groups.get(group)}
            if group in groups:
                mine.append(row)
            elif group is None:
                others.append(row)
        return render(request, "resources/pending.html", {
            "title": _("待审批预约"), "mine": mine[:200], "rows": others[:200], "groups": list(groups.values())})


class DecideView(PermissionView):
    perm = "resources.approve_resource"

    def post(self, request, pk, decision):
        if decision not in ("approve", "reject"):
            raise Http404
        booking = get_object_or_404(Booking.objects.restrict(request.user, "view").select_related("resource"),
                                    pk=pk)
        try:
            if decision == "approve":
                services.approve(booking, request.user, request.POST.get("reason", "").strip())
                messages.success(request, _("已通过：%(r)s") % {"r": booking.resource.name})
            else:
                services.reject(booking, request.user, request.POST.get("reason", "").strip())
                messages.success(request, _("已驳回：%(r)s") % {"r": booking.resource.name})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except PermissionDenied:
            raise
        return HttpResponseRedirect(reverse("resources:pending"))


class GroupsView(PermissionView):
    """Approver groups of the user's places: the list, a new group for a community, members added and removed
    (staff who may approve bookings there). One page; every change goes through the services and is audited."""

    perm = "resources.view_approvergroup"

    def context(self, request, **extra):
        from places.models import Community

        groups = list(ApproverGroup.objects.restrict(request.user, "view")
                      .prefetch_related("members").order_by("name", "id"))
        changeable = set(ApproverGroup.objects.restrict(request.user, "change").values_list("id", flat=True))
        rows = [{"g": g, "members": list(g.members.all()), "can_change": g.pk in changeable,
                 "candidates": [u for u in services.staff_candidates(g) if u not in g.members.all()]
                 if g.pk in changeable else [],
                 "resources": list(g.resources.order_by("name").values_list("name", flat=True)[:8])} for g in groups]
        return {"title": _("审批组"), "rows": rows,
                "communities": list(Community.objects.restrict(request.user, "view").order_by("name")),
                "can_add": scope_for(request.user).has("resources.add_approvergroup"), **extra}

    def get(self, request):
        return render(request, "resources/groups.html", self.context(request))

    def post(self, request):
        from django.contrib.auth import get_user_model

        from places.models import Community

        action = request.POST.get("action", "")
        try:
            if action == "create":
                community = get_object_or_404(Community.objects.restrict(request.user, "view"),
                                              pk=_int(request.POST.get("community")))
                group = services.create_group(request.user, request.POST.get("name", ""), community)
                messages.success(request, _("已新建审批组：%(g)s") % {"g": group.name})
            elif action in ("add", "remove"):
                group = get_object_or_404(ApproverGroup.objects.restrict(request.user, "view"),
                                          pk=_int(request.POST.get("group")))
                user = get_object_or_404(get_user_model(), pk=_int(request.POST.get("user")), is_active=True)
                if action == "add":
                    services.add_member(request.user, group, user)
                    messages.success(request, _("已加入审批组：%(u)s") % {"u": user.get_full_name() or user.username})
                else:
                    services.remove_member(request.user, group, user)
                    messages.success(request, _("已移出审批组：%(u)s") % {"u": user.get_full_name() or user.username})
            else:
                raise Http404
        except ValidationError as exc:
            return render(request, "resources/groups.html", self.context(request, error=" ".join(exc.messages)),
                          status=400)
        return HttpResponseRedirect(reverse("resources:groups"))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


class PlateView(PermissionView):
    """The gate: staff type the plate, the booking of that vehicle's household or enterprise is checked in."""

    perm = "resources.checkin_resource"

    def get(self, request):
        return render(request, "resources/plate.html", {"title": _("车牌签到")})

    def post(self, request):
        plate = request.POST.get("plate", "")
        context = {"title": _("车牌签到"), "plate": plate}
        try:
            booking = services.check_in_by_plate(request.user, plate)
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
        else:
            context["done"] = {"b": booking, "name": mask_name(booking.person.name),
                               "plate": services.normalise_plate(plate),
                               "start": timezone.localtime(booking.starts_at),
                               "end": timezone.localtime(booking.ends_at),
                               "place": services.place_name(booking.resource)}
            context["plate"] = ""
        template = "resources/_plate_result.html" if is_htmx(request) else "resources/plate.html"
        return render(request, template, context, status=200 if "done" in context or is_htmx(request) else 400)


class ExportView(PermissionView):
    """The use of the resources of the user's places over a period, as a spreadsheet: one row per booking (booker
    masked, the home compound or enterprise that the quotas count), watermarked with who exported it and when;
    the export is audited."""
    replica_reads = True  # its GET may read from the read replica (core.dbrouter)

    perm = "resources.export_resource"
    MAX_DAYS = 366

    def get(self, request):
        import io

        from django.http import HttpResponse

        from core import audit
        from core.importexport import XlsxWriter

        today = timezone.localdate()
        first = _parse_day(request.GET.get("start"), today - dt.timedelta(days=today.weekday()))
        last = _parse_day(request.GET.get("end"), first + dt.timedelta(days=6))
        if last < first or (last - first).days >= self.MAX_DAYS:
            last = first + dt.timedelta(days=6)
        qs = (Booking.objects.restrict(request.user, "view")
              .filter(resource__in=Resource.objects.restrict(request.user, "export").values("pk"),
                      starts_at__gte=services._at(first, dt.time(0)),
                      starts_at__lt=services._at(last + dt.timedelta(days=1), dt.time(0)))
              .select_related("resource", "resource__parent", "person", "vehicle", "home_compound", "enterprise")
              .order_by("starts_at", "id"))
        resource_id = request.GET.get("resource") or ""
        if resource_id.isdigit() and len(resource_id) < 19:
            qs = qs.filter(resource__in=[int(resource_id), *services.descendants([int(resource_id)])])
        now = timezone.localtime()
        mark = _("人房 · %(u)s 导出于 %(t)s · 仅限工作使用") % {"u": request.user.get_username(),
                                                          "t": f"{now:%Y-%m-%d %H:%M}"}
        buf = io.BytesIO()
        rows = 0
        with XlsxWriter(buf, _("共享资源使用记录"), mark) as w:
            w.header([_("资源"), _("车位/分区"), _("日期"), _("开始"), _("结束"), _("人数"), _("状态"), _("签到时间"),
                      _("预约人"), _("所住小区"), _("所在企业"), _("车牌"), _("渠道")])
            for b in qs.iterator(chunk_size=2000):
                start, end = timezone.localtime(b.starts_at), timezone.localtime(b.ends_at)
                top = b.resource.parent if b.resource.parent_id else b.resource
                w.row([top.name, b.resource.name if b.resource.parent_id else "", start.date().isoformat(),
                       f"{start:%H:%M}", f"{end:%m-%d %H:%M}" if end.date() != start.date() else f"{end:%H:%M}",
                       b.seats, b.get_state_display(),
                       f"{timezone.localtime(b.checked_in_at):%H:%M}" if b.checked_in_at else "",
                       mask_name(b.person.name), b.home_compound.name if b.home_compound_id else "",
                       b.enterprise.name if b.enterprise_id else "", b.vehicle.plate if b.vehicle_id else "",
                       b.channel])
                rows += 1
        audit.record("export", request=request, object_type="resources.booking",
                     changes={"rows": rows, "from": first.isoformat(), "to": last.isoformat()})
        response = HttpResponse(buf.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="resources-{first:%Y%m%d}-{last:%Y%m%d}.xlsx"'
        return response


class GeoJSONView(StaffView):
    """The resources of the user's places with a position, as GeoJSON points for the cockpit's map layer: the name,
    the kind and, for pools and rooms, how many places are free right now. ``?level=&place=&bbox=w,s,e,n``."""

    MAX_POINTS = 500

    def get(self, request):
        from django.http import JsonResponse

        qs = (Resource.objects.restrict(request.user, "view").filter(is_active=True, lat__isnull=False,
                                                                      lng__isnull=False)
              .exclude(parent__mode=Mode.GROUP).select_related("compound"))
        level, place = request.GET.get("level"), request.GET.get("place") or ""
        if level in ("street", "community", "grid", "compound") and place.isdigit() and len(place) < 19:
            qs = qs.filter(**{f"{level}_id": int(place)})
        box = parse_bbox(request.GET.get("bbox"))
        if box:
            w, s, e, n = box
            qs = qs.filter(lng__gte=w, lng__lte=e, lat__gte=s, lat__lte=n)
        resources = list(qs.order_by("id")[:self.MAX_POINTS])
        now = timezone.now()
        pools = [r.pk for r in resources if r.mode == Mode.GROUP]
        spaces: dict[int, list[int]] = {}
        for pk, parent in Resource.objects.filter(parent__in=pools, is_active=True).values_list("pk", "parent_id"):
            spaces.setdefault(parent, []).append(pk)
        from resources.models import Claim

        busy = set(Claim.objects.filter(active=True, starts_at__lte=now, ends_at__gt=now,
                                        resource__in=[s for ids in spaces.values() for s in ids] +
                                        [r.pk for r in resources if r.mode == Mode.EXCLUSIVE])
                   .values_list("resource_id", flat=True))
        feats = []
        for r in resources:
            if r.mode == Mode.GROUP:
                ids = spaces.get(r.pk, [])
                free = _("空余 %(n)d/%(t)d") % {"n": len([s for s in ids if s not in busy]), "t": len(ids)}
            elif r.mode == Mode.EXCLUSIVE:
                free = _("使用中") if r.pk in busy else _("空闲")
            else:
                free = ""
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lng, r.lat]},
                          "properties": {"id": r.pk, "name": " · ".join(x for x in (r.name, free) if x),
                                         "kind": r.get_kind_display(),
                                         "url": reverse("resources:resource", args=[r.pk])}})
        return JsonResponse({"type": "FeatureCollection", "features": feats, "total": len(feats)})


# --- the lottery (摇号) -------------------------------------------------------------------------------------
def _open_draws(resource: Resource):
    from resources.models import Draw

    return Draw.objects.filter(resource=resource, drawn_at__isnull=True).order_by("starts_at")


class DrawsView(PermissionView):
    """Staff: the draws of the pools of their places, a form to open one, a button to draw it."""

    perm = "resources.draw_resource"

    def pools(self, request):
        return (Resource.objects.restrict(request.user, "draw").filter(mode=Mode.GROUP, is_active=True)
                .select_related("compound").order_by("compound__name", "name"))

    def get(self, request, form_errors=None, data=None):
        from django.db.models import Count

        from resources.models import Draw

        draws = (Draw.objects.filter(resource__in=self.pools(request).values("pk")).select_related("resource")
                 .annotate(n=Count("applications")).order_by("-starts_at")[:50])
        today = timezone.localdate()
        first = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        return render(request, "resources/draws.html", {
            "title": _("摇号"), "draws": draws, "pools": self.pools(request), "errors": form_errors or [],
            "data": data or {"first": first.isoformat(), "last": last.isoformat(), "starts": "19:00",
                             "ends": "08:00", "places": 10,
                             "title": _("%(m)d月夜间车位摇号") % {"m": first.month}}})

    def post(self, request):
        from resources.models import Draw

        data = {k: (request.POST.get(k) or "").strip() for k in ("pool", "title", "first", "last", "starts", "ends",
                                                                 "places")}
        errors = []
        pool = self.pools(request).filter(pk=int(data["pool"])).first() if data["pool"].isdigit() and \
            len(data["pool"]) < 19 else None
        if pool is None:
            errors.append(_("请选择您管辖范围内的停车场"))
        first, last = _parse_day(data["first"], None), _parse_day(data["last"], None)
        try:
            starts, ends = parse_time(data["starts"]), parse_time(data["ends"])
        except ValueError:
            starts = ends = None
        if first is None:
            errors.append(_("请填写首次日期"))
        if last is not None and first is not None and last < first:
            errors.append(_("末次日期不能早于首次日期"))
        if starts is None or ends is None:
            errors.append(_("请填写开始和结束时间（如 19:00、08:00）"))
        places = int(data["places"]) if data["places"].isdigit() and len(data["places"]) < 6 else 0
        if places < 1:
            errors.append(_("名额须为正整数"))
        if not data["title"] or len(data["title"]) > 100:
            errors.append(_("请填写名称（100字以内）"))
        if errors:
            return self.get(request, errors, data)
        start = services._at(first, starts)
        end = services._at(first + dt.timedelta(days=1) if ends <= starts else first, ends)
        draw = Draw.objects.create(resource=pool, title=data["title"], starts_at=start, ends_at=end,
                                   last_date=last if last and last != first else None, places=places)
        from core import audit

        audit.record("add", draw, request=request)
        messages.success(request, _("已开放报名：%(t)s") % {"t": draw.title})
        return HttpResponseRedirect(reverse("resources:draw", args=[draw.pk]))


class DrawRunView(PermissionView):
    perm = "resources.draw_resource"

    def post(self, request, pk):
        from resources import lottery
        from resources.models import Draw

        draw = get_object_or_404(Draw.objects.filter(
            resource__in=Resource.objects.restrict(request.user, "draw").values("pk")), pk=pk)
        try:
            draw = lottery.run_draw(draw)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            from core import audit

            audit.record("draw", draw, request=request, changes={"seed": draw.seed, "digest": draw.digest})
            won = draw.applications.filter(won=True).count()
            messages.success(request, _("已摇号：%(n)d 人中签") % {"n": won})
        return HttpResponseRedirect(reverse("resources:draw", args=[draw.pk]))


class DrawView(View_):
    """A draw's page, for every logged-in user and every booker a phone code identified: the rules, applying, and
    after the draw its published result — the seed, the digest, every application's rank with the name masked —
    and the check that the order recomputed from the seed is the one published."""

    def get(self, request, pk):
        from django.contrib.auth.views import redirect_to_login

        from resources import lottery
        from resources.models import Application, Draw

        link = BookerLink.objects.filter(user=request.user).select_related("person").first() \
            if request.user.is_authenticated else None
        person = link.person if link else session_booker(request)
        if not request.user.is_authenticated and person is None:
            return redirect_to_login(request.get_full_path())
        draw = get_object_or_404(Draw.objects.select_related("resource", "resource__compound"), pk=pk)
        mine = Application.objects.filter(draw=draw, person=person).first() if person else None
        apps = list(Application.objects.filter(draw=draw).select_related("person").order_by("rank", "id")[:2000])
        staff = request.user.is_authenticated and \
            Resource.objects.restrict(request.user, "draw").filter(pk=draw.resource_id).exists()
        rows = [{"a": a, "name": mask_name(a.person.name), "mine": mine is not None and a.pk == mine.pk}
                for a in apps]
        start, end = timezone.localtime(draw.starts_at), timezone.localtime(draw.ends_at)
        return render(request, "resources/draw.html", {
            "title": draw.title, "draw": draw, "rows": rows, "mine": mine, "linked": person is not None,
            "staff": staff, "count": Application.objects.filter(draw=draw).count(),
            "won": sum(1 for a in apps if a.won), "verified": lottery.verify(draw) if draw.drawn_at else None,
            "start": start, "end": end, "overnight": end.date() != start.date(),
            "shown": len(apps)})


class DrawApplyView(BookerView):
    def post(self, request, pk):
        from resources import lottery
        from resources.models import Draw

        draw = get_object_or_404(Draw, pk=pk)
        booker = services.booker_for(self.person, self.user, timezone.localtime(draw.starts_at).date())
        chain = [draw.resource, *services.ancestors(draw.resource)]
        window, _windowed = services._window_for(draw.resource, chain, draw.starts_at, draw.ends_at)
        rule = window.rule if window else next((r.rule for r in chain if r.rule_id), None)
        refusal = services.eligibility_refusal(rule, booker)
        try:
            if refusal:
                raise ValidationError(refusal)
            app = lottery.apply(draw, self.person, self.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已报名摇号：%(t)s%(p)s") % {
                "t": draw.title, "p": _("（上次未中签，本次优先）") if app.priority else ""})
        return HttpResponseRedirect(reverse("resources:draw", args=[draw.pk]))


# --- keeping the resources ---------------------------------------------------------------------------------
class ResourceEditView(StaffView):
    """A new resource (``resources.add_resource``) or a change to one (``change`` on its place)."""

    def instance(self, request, pk):
        if pk is None:
            require(request.user, "resources.add_resource", _("您没有新增共享资源的权限"))
            return Resource(kind="space", mode=Mode.EXCLUSIVE)
        return self.changeable(request, pk)

    def get(self, request, pk=None):
        from resources.forms import ResourceForm

        resource = self.instance(request, pk)
        return render(request, "resources/edit.html", {
            "title": resource.name or _("新增共享资源"), "resource": resource,
            "form": ResourceForm(instance=resource, user=request.user)})

    def post(self, request, pk=None):
        from resources.forms import ResourceForm

        resource = self.instance(request, pk)
        form = ResourceForm(request.POST, instance=resource, user=request.user)
        if form.is_valid():
            resource = services.save_resource(request.user, form)
            messages.success(request, _("已保存：%(r)s") % {"r": resource.name})
            return HttpResponseRedirect(reverse("resources:resource", args=[resource.pk]))
        return render(request, "resources/edit.html", {"title": resource.name or _("新增共享资源"),
                                                       "resource": resource, "form": form}, status=400)


class BlackoutView(StaffView):
    """Close a resource for a time (a repair, an event); bookings inside it are listed and, when asked, cancelled
    with a message to each booker."""

    def post(self, request, pk):
        from resources.forms import BlackoutForm

        resource = self.changeable(request, pk)
        form = BlackoutForm(request.POST)
        back = reverse("resources:resource", args=[resource.pk])
        if not form.is_valid():
            messages.error(request, "；".join(f"{form.fields[k].label if k in form.fields else ''}：{' '.join(v)}"
                                             for k, v in form.errors.items()))
            return HttpResponseRedirect(back)
        d = form.cleaned_data
        _black, hit = services.add_blackout(request.user, resource, d["starts_at"], d["ends_at"], d["reason"],
                                            cancel=d["cancel"])
        start = timezone.localtime(d["starts_at"])
        if hit and d["cancel"]:
            messages.success(request, _("已停用，并取消 %(n)d 个预约、通知了预约人") % {"n": len(hit)})
        elif hit:
            messages.warning(request, _("已停用；这段时间内还有 %(n)d 个预约未取消，请联系预约人") % {"n": len(hit)})
        else:
            messages.success(request, _("已设为停用"))
        return HttpResponseRedirect(back + f"?start={start.date().isoformat()}")


class SeriesView(BookerView):
    """The same time every week (a class in the living room every Wednesday): the weeks that can be booked are, the
    dates that cannot are listed with why."""

    MAX_WEEKS = 8

    def post(self, request, pk):
        resource = get_object_or_404(_bookable(Resource.objects.all()), pk=pk)
        a, _sep, b = (request.POST.get("slot") or "").partition("|")
        start, end = _parse_moment(a), _parse_moment(b)
        weeks = request.POST.get("weeks") or ""
        weeks = min(int(weeks), self.MAX_WEEKS) if weeks.isdigit() and len(weeks) < 3 else 0
        if start is None or end is None or weeks < 1:
            messages.error(request, _("请选择时段和重复的周数"))
            return HttpResponseRedirect(reverse("resources:day", args=[resource.pk]))
        first = timezone.localtime(start).date()
        series = services.book_series(
            self.person, resource, first, first + dt.timedelta(weeks=weeks - 1),
            timezone.localtime(start).time(), timezone.localtime(end).time(),
            weekdays=str(first.isoweekday()), user=self.user, channel="web" if self.user else "phone")
        booked = list(series.bookings.select_related("resource", "resource__parent").order_by("starts_at"))
        failed = [{"day": day_label(dt.date.fromisoformat(f["date"])), "reason": f["reason"]}
                  for f in series.failed]
        return render(request, "resources/series.html", {
            "title": _("每周预约结果"), "resource": resource,
            "booked": [_booking_row(b, timezone.now()) for b in booked],
            "failed": failed, "weeks": weeks})


class RulesView(StaffView):
    """Who may book when, and how much: a resource's tidal windows (each with its rule over the registry) and its
    quotas, added and removed by those who keep it; new rules made from the compounds of the user's places."""

    def context(self, request, resource, **forms_):
        from resources.forms import QuotaForm, RuleForm, WindowForm
        from resources.models import Quota

        return {"title": _("预约规则：%(r)s") % {"r": resource.name}, "resource": resource,
                "windows": resource.windows.select_related("rule").order_by("starts"),
                "quotas": Quota.objects.filter(resource=resource).order_by("subject", "period"),
                "window_form": forms_.get("window_form") or WindowForm(),
                "quota_form": forms_.get("quota_form") or QuotaForm(),
                "rule_form": forms_.get("rule_form") or RuleForm(user=request.user)}

    def get(self, request, pk):
        resource = self.changeable(request, pk)
        return render(request, "resources/rules.html", self.context(request, resource))

    def post(self, request, pk):
        from resources.forms import QuotaForm, RuleForm, WindowForm
        from resources.models import Quota

        resource = self.changeable(request, pk)
        op = request.POST.get("op")
        if op == "window":
            form = WindowForm(request.POST)
            if not form.is_valid():
                return render(request, "resources/rules.html", self.context(request, resource, window_form=form),
                              status=400)
            services.add_window(request.user, resource, **form.cleaned_data)
            messages.success(request, _("已添加开放时段：%(l)s") % {"l": form.cleaned_data["label"]})
        elif op == "quota":
            form = QuotaForm(request.POST)
            if not form.is_valid():
                return render(request, "resources/rules.html", self.context(request, resource, quota_form=form),
                              status=400)
            services.add_quota(request.user, resource, **form.cleaned_data)
            messages.success(request, _("已添加限额"))
        elif op == "rule":
            form = RuleForm(request.POST, user=request.user)
            if not form.is_valid():
                return render(request, "resources/rules.html", self.context(request, resource, rule_form=form),
                              status=400)
            rule = services.create_rule(request.user, **form.cleaned_data)
            messages.success(request, _("已新建预约资格：%(n)s，可在开放时段中选用") % {"n": rule.name})
        elif op in ("drop_window", "drop_quota"):
            model = Window if op == "drop_window" else Quota
            text = request.POST.get("id") or ""
            obj = model.objects.filter(resource=resource, pk=int(text)).first() if text.isdigit() and \
                len(text) < 19 else None
            if obj is not None:
                services.remove_rule_part(request.user, obj)
                messages.success(request, _("已删除"))
        return HttpResponseRedirect(reverse("resources:rules", args=[resource.pk]))
