"""Every write of the shared resources goes through here: booking (exclusive spans, pools, seats, daily places),
recurring bookings, cancellation, approval, check-in, release of no-shows, the waiting list and its holds.

The checks, in the order a refusal names them: the resource is open then (opening hours, weekdays, Chinese
holidays and 调休 working days from ``cases.deadlines``, blackouts), the span fits the raster, length and horizon;
the booker is eligible (the tidal window's rule or the resource's, over the registry, at booking time); the
booker has not too many no-shows; the quotas of the resource and its parents allow one more; then the database
takes the place or refuses it (claims under the exclusion constraint / slot rows, or a conditional UPDATE of an
offer). Refusals are ``ValidationError``s in plain Chinese.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.validators import validate_plate
from resources.choices import ACTIVE_STATES, BookingState, Mode, Period, Subject, WaitState
from resources.models import (
    SLOT_MINUTES,
    ApproverGroup,
    Blackout,
    Booking,
    CheckIn,
    Claim,
    EligibilityRule,
    Employment,
    Offer,
    Quota,
    Resource,
    Series,
    Slot,
    Strike,
    Vehicle,
    WaitEntry,
    Window,
)

__all__ = ["Booker", "Option", "accept_hold", "allocate", "approve", "availability", "book", "book_series",
           "pool_availability",
           "booker_for", "bookers_for", "cancel", "check_in", "check_in_by_plate", "check_in_by_qr", "claim_set",
           "eligibility_refusal", "expire_holds", "free_spaces", "join_waitlist", "normalise_plate",
           "register_vehicle", "reject", "release_no_shows", "save_resource", "add_blackout", "add_window",
           "add_quota", "remove_rule_part", "create_rule", "send_reminders", "strikes_block", "place_name"]

TZ_HOLD = dt.timedelta(minutes=15)  # check-in opens this long before the start


# --- the booker, as the registry knows them -----------------------------------------------------------------
@dataclass
class Booker:
    person: object
    user: object | None = None
    houses: list = field(default_factory=list)  # current residences' houses
    compound_ids: set[int] = field(default_factory=set)
    enterprises: list = field(default_factory=list)  # current employers
    enterprise_compound_ids: set[int] = field(default_factory=set)
    known_vehicle_ids: list[int] | None = None  # None: read on first use (most rules never ask)

    @property
    def vehicle_ids(self) -> list[int]:
        """The vehicles registered to the booker's households and employers."""
        if self.known_vehicle_ids is None:
            self.known_vehicle_ids = list(Vehicle._base_manager.filter(
                Q(house__in=[h.pk for h in self.houses]) | Q(enterprise__in=[e.pk for e in self.enterprises]))
                .values_list("id", flat=True)) if (self.houses or self.enterprises) else []
        return self.known_vehicle_ids

    @property
    def house(self):
        return self.houses[0] if self.houses else None

    @property
    def enterprise(self):
        return self.enterprises[0] if self.enterprises else None

    @property
    def home_compound_id(self) -> int | None:
        if self.houses:
            return self.houses[0].compound_id
        return self.enterprises[0].compound_id if self.enterprises else None


def booker_for(person, user=None, on: dt.date | None = None) -> Booker:
    """The booker's current residences, employers and vehicles (system reads: the booker acts for themself)."""
    from people.models import Residence

    on = on or timezone.localdate()
    houses = [r.house for r in Residence._base_manager.filter(person=person, moved_out__isnull=True)
              .select_related("house").order_by("-moved_in", "id")]
    jobs = (Employment.objects.filter(person=person).filter(Q(until__isnull=True) | Q(until__gte=on))
            .filter(Q(since__isnull=True) | Q(since__lte=on)).select_related("enterprise"))
    enterprises = [j.enterprise for j in jobs]
    return Booker(person=person, user=user, houses=houses, compound_ids={h.compound_id for h in houses},
                  enterprises=enterprises, enterprise_compound_ids={e.compound_id for e in enterprises})


def _names(compounds) -> str:
    return "、".join(c.name for c in compounds)


def _prefetched(obj, name: str) -> bool:
    return name in getattr(obj, "_prefetched_objects_cache", {})


def _rule_compounds(rule: EligibilityRule) -> tuple[list[int], list[int]]:
    """The compound ids of the rule's two lists, read by one query (both link tables, UNION ALL)."""
    from django.db.models import Value

    r_link, e_link = EligibilityRule.residents_of.through, EligibilityRule.employees_in.through
    rows = (r_link.objects.filter(eligibilityrule_id=rule.pk).annotate(k=Value(0)).values_list("k", "compound_id")
            .union(e_link.objects.filter(eligibilityrule_id=rule.pk).annotate(k=Value(1))
                   .values_list("k", "compound_id"), all=True))
    residents, employees = [], []
    for k, compound_id in rows:
        (employees if k else residents).append(compound_id)
    return residents, employees


def eligibility_refusal(rule: EligibilityRule | None, booker: Booker, on: dt.date | None = None) -> list[str]:
    """What the rule says no to, in plain Chinese (empty: eligible). The same words whoever the booker is."""
    if rule is None:
        return []
    reasons = []
    # the ids decide; the names are read only to say no (prefetched rules answer from their cache)
    if _prefetched(rule, "residents_of") and _prefetched(rule, "employees_in"):
        residents = [c.pk for c in rule.residents_of.all()]
        employees = [c.pk for c in rule.employees_in.all()]
    else:
        residents, employees = _rule_compounds(rule)
    if residents or employees:
        ok = bool(booker.compound_ids & set(residents)) or bool(booker.enterprise_compound_ids & set(employees))
        if not ok:
            residents, employees = list(rule.residents_of.all()), list(rule.employees_in.all())
            if residents and employees:
                reasons.append(_("仅限%(r)s的现住居民，或%(e)s内企业的员工") % {"r": _names(residents),
                                                                           "e": _names(employees)})
            elif residents:
                reasons.append(_("仅限%(r)s的现住居民") % {"r": _names(residents)})
            else:
                reasons.append(_("仅限%(e)s内企业的员工") % {"e": _names(employees)})
    if rule.needs_vehicle and not booker.vehicle_ids:
        reasons.append(_("须本户或本企业有登记车辆（请先到社区或物业登记车牌）"))
    if rule.min_age is not None or rule.max_age is not None:
        age = booker.person.age(on or timezone.localdate())
        low, high = rule.min_age, rule.max_age
        if age is None or (low is not None and age < low) or (high is not None and age > high):
            if low is not None and high is not None:
                reasons.append(_("仅限%(a)d至%(b)d岁") % {"a": low, "b": high})
            elif low is not None:
                reasons.append(_("仅限%(a)d岁及以上") % {"a": low})
            else:
                reasons.append(_("仅限%(b)d岁及以下") % {"b": high})
    return reasons


# --- the tree -----------------------------------------------------------------------------------------------
def place_name(resource: Resource) -> str:
    """What a booker is told they booked: a space with its pool (元和大厦地下车库 B1-01); a zone named after its room
    as it is (荟·客厅活动区, not 荟·客厅 荟·客厅活动区)."""
    if resource.parent_id and not resource.name.startswith(resource.parent.name):
        return f"{resource.parent.name} {resource.name}"
    return resource.name


def ancestors(resource: Resource) -> list[Resource]:
    out, r = [], resource
    while r.parent_id and len(out) < 8:
        r = r.parent
        out.append(r)
    return out


def descendants(resource_ids: Iterable[int]) -> list[int]:
    out, frontier = [], list(resource_ids)
    while frontier:
        frontier = list(Resource.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        out.extend(frontier)
    return out


def claim_set(resource: Resource) -> list[int]:
    """The resources a booking of ``resource`` claims: itself and all its parts. Booking the living room claims
    its three zones too, so a booked zone refuses the whole room and the whole room refuses every zone, while two
    different zones stay bookable side by side."""
    return [resource.pk, *descendants([resource.pk])]


# --- time ---------------------------------------------------------------------------------------------------
def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value)


def _at(day: dt.date, t: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, t))


def _span(day: dt.date, opens: dt.time, closes: dt.time) -> tuple[dt.datetime, dt.datetime]:
    end_day = day + dt.timedelta(days=1) if closes <= opens else day
    return _at(day, opens), _at(end_day, closes)


def open_on(resource: Resource, day: dt.date) -> bool:
    """Open on this day: its weekdays (or a 调休 working day), not a holiday when it closes on holidays, only
    working days when it keeps to them — by the holiday calendar cases keeps."""
    from cases.deadlines import calendar

    cal = calendar()
    special = cal.exceptions.get(day)
    if resource.workdays_only:
        return cal.is_workday(day)
    if resource.closed_on_holidays and special is False:
        return False
    return str(day.isoweekday()) in resource.weekdays or special is True


def _inside(start, end, day, opens, closes) -> bool:
    a, b = _span(day, opens, closes)
    return a <= start and end <= b


def _window_for(resource: Resource, chain: list[Resource], start, end) -> tuple[Window | None, bool]:
    """(the tidal window the span lies in, whether the resource has windows at all)."""
    windows = list(Window.objects.filter(resource__in=[r.pk for r in chain]).select_related("rule"))
    if not windows:
        return None, False
    local = _local(start)
    for w in windows:
        for day in (local.date() - dt.timedelta(days=1), local.date()):
            if str(day.isoweekday()) in w.weekdays and _inside(start, end, day, w.starts, w.ends):
                return w, True
    return None, True


def check_time(resource: Resource, start: dt.datetime, end: dt.datetime, *, now: dt.datetime | None = None,
               staff: bool = False, horizon: bool = True) -> list[str]:
    now = now or timezone.now()
    errors = []
    if end <= start:
        return [_("结束时间须晚于开始时间")]
    local = _local(start)
    minutes = int((end - start).total_seconds() // 60)
    if resource.mode == Mode.EXCLUSIVE or resource.mode == Mode.GROUP:
        raster = max(resource.raster_minutes, 1)
        if (local.hour * 60 + local.minute) % raster or local.second or minutes % raster:
            errors.append(_("请按%(n)d分钟的整段预约") % {"n": raster})
        if minutes < resource.min_minutes:
            errors.append(_("每次至少预约%(n)d分钟") % {"n": resource.min_minutes})
        if minutes > resource.max_minutes:
            errors.append(_("每次最多预约%(n)d分钟") % {"n": resource.max_minutes})
    if not staff:
        if end <= now:
            errors.append(_("该时段已经过去"))
        last = timezone.localdate(now) + dt.timedelta(days=resource.horizon_days)
        if horizon and local.date() > last:
            errors.append(_("最多可提前%(n)d天预约（至%(d)s）") % {"n": resource.horizon_days,
                                                             "d": f"{last.month}月{last.day}日"})
    opened = False
    if resource.opens_at == resource.closes_at:  # open round the clock: only the day itself must be open
        if not open_on(resource, local.date()):
            errors.append(_("%(d)s不开放（休息日或节假日）") % {"d": f"{local.month}月{local.day}日"})
        return errors
    for day in (local.date() - dt.timedelta(days=1), local.date()):
        if _inside(start, end, day, resource.opens_at, resource.closes_at):
            if open_on(resource, day):
                opened = True
            else:
                errors.append(_("%(d)s不开放（休息日或节假日）") % {"d": f"{day.month}月{day.day}日"})
                opened = None
                break
    if opened is False:
        errors.append(_("不在开放时间内（%(a)s–%(b)s%(n)s）") % {
            "a": f"{resource.opens_at:%H:%M}", "b": f"{resource.closes_at:%H:%M}",
            "n": _("，跨夜") if resource.overnight else ""})
    return errors


def _blackout(resource_ids: list[int], start, end) -> Blackout | None:
    return Blackout.objects.filter(resource__in=resource_ids, starts_at__lt=end, ends_at__gt=start).first()


# --- fairness -----------------------------------------------------------------------------------------------
def _period_bounds(period: str, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if period == Period.DAY:
        a, b = day, day + dt.timedelta(days=1)
    elif period == Period.WEEK:
        a = day - dt.timedelta(days=day.weekday())
        b = a + dt.timedelta(days=7)
    elif period == Period.MONTH:
        a = day.replace(day=1)
        b = (a + dt.timedelta(days=32)).replace(day=1)
    elif period == Period.SEASON:
        a = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        b = (a + dt.timedelta(days=95)).replace(day=1)
    else:
        a, b = dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1)
    return _at(a, dt.time(0)), _at(b, dt.time(0))


SUBJECT_FIELD = {Subject.PERSON: "person_id", Subject.HOUSEHOLD: "house_id", Subject.ENTERPRISE: "enterprise_id",
                 Subject.COMPOUND: "home_compound_id"}
SUBJECT_WORD = {Subject.PERSON: "您", Subject.HOUSEHOLD: "您家", Subject.ENTERPRISE: "您所在企业",
                Subject.COMPOUND: "您所在小区"}


def _subject_value(subject: str, booker: Booker):
    return {Subject.PERSON: booker.person.pk, Subject.HOUSEHOLD: getattr(booker.house, "pk", None),
            Subject.ENTERPRISE: getattr(booker.enterprise, "pk", None),
            Subject.COMPOUND: booker.home_compound_id}[subject]


def _lock(*parts) -> None:
    """Serialise the quota check of one subject on PostgreSQL (SQLite writes one at a time anyway)."""
    if connection.vendor == "postgresql":
        key = int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:15], 16)
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _quota_word(quota: Quota, value, used: int) -> str | None:
    """What one quota says to a booker whose subject is ``value`` and who has used ``used`` (None: it allows)."""
    if value is None:
        return _("「%(r)s」按户限额，须是登记在册的住户") % {"r": quota.resource.name} \
            if quota.subject == Subject.HOUSEHOLD else None
    if used >= quota.limit:
        return _("%(who)s%(p)s最多预约「%(r)s」%(n)d次，已约%(u)d次") % {
            "who": SUBJECT_WORD[quota.subject], "p": quota.get_period_display(), "r": quota.resource.name,
            "n": quota.limit, "u": used}
    return None


def quota_refusal(chain: list[Resource], booker: Booker, start: dt.datetime) -> list[str]:
    errors = []
    for quota in Quota.objects.filter(resource__in=[r.pk for r in chain]).select_related("resource"):
        value = _subject_value(quota.subject, booker)
        used = 0
        if value is not None:
            _lock("quota", quota.pk, value)
            a, b = _period_bounds(quota.period, _local(start).date())
            tree = [quota.resource_id, *descendants([quota.resource_id])]
            used = Booking.objects.filter(resource__in=tree, starts_at__gte=a, starts_at__lt=b,
                                          state__in=[*ACTIVE_STATES, BookingState.RELEASED],
                                          **{SUBJECT_FIELD[quota.subject]: value}).count()
        word = _quota_word(quota, value, used)
        if word:
            errors.append(word)
    return errors


def _strikes_word(resource: Resource, strikes: list[dt.datetime]) -> str | None:
    """The block that no-shows (``strikes``: their times within the window, in order) put on booking ``resource``."""
    if resource.strike_limit and len(strikes) >= resource.strike_limit:
        until = _local(strikes[-resource.strike_limit] + dt.timedelta(days=resource.strike_days)).date()
        return _("您近%(d)d天内有%(n)d次预约未到场，%(m)s前暂停预约") % {
            "d": resource.strike_days, "n": len(strikes), "m": f"{until.month}月{until.day}日"}
    return None


def strikes_block(resource: Resource, person, now: dt.datetime | None = None) -> str | None:
    now = now or timezone.now()
    since = now - dt.timedelta(days=resource.strike_days)
    return _strikes_word(resource, list(Strike.objects.filter(person=person, at__gte=since).order_by("at")
                                        .values_list("at", flat=True)))


# --- taking the place ---------------------------------------------------------------------------------------
TAKEN = _("该时段已被预约，请选择其他时段")


def _slot_times(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    step = dt.timedelta(minutes=SLOT_MINUTES)
    first = start - dt.timedelta(minutes=start.minute % SLOT_MINUTES, seconds=start.second,
                                 microseconds=start.microsecond)
    out, t = [], first
    while t < end:
        out.append(t)
        t += step
    return out


def _take_claims(booking: Booking, resource_ids: list[int], start, end) -> None:
    """Write the claims; the database refuses an overlap (PostgreSQL: exclusion constraint; SQLite: slot rows).

    Always called inside the booking's own atomic block (``book``'s, or a pool's savepoint per space), which the
    refusal rolls back: no savepoint of its own (two round trips fewer a booking)."""
    if not connection.in_atomic_block:
        raise RuntimeError("_take_claims must run inside the booking's transaction")
    try:
        claims = Claim.objects.bulk_create([Claim(booking=booking, resource_id=rid, starts_at=start, ends_at=end)
                                            for rid in resource_ids])
        if connection.vendor != "postgresql":
            times = _slot_times(start, end)
            Slot.objects.bulk_create([Slot(claim=c, resource_id=c.resource_id, at=t) for c in claims for t in times])
    except IntegrityError:
        raise ValidationError(TAKEN, code="taken") from None
    except OperationalError as exc:
        # Two bookings inserting claims on one space at the same moment each wait for the other in PostgreSQL's
        # exclusion check; the database breaks the tie by failing one of them with a deadlock: that one lost.
        if getattr(exc.__cause__, "sqlstate", None) == DEADLOCK:
            raise ValidationError(TAKEN, code="taken") from None
        raise


DEADLOCK = "40P01"


def _free_claims(booking: Booking) -> None:
    Slot.objects.filter(claim__booking=booking).delete()
    booking.claims.filter(active=True).update(active=False)


def _offer_for(resource: Resource, start: dt.datetime) -> Offer:
    """The sitting, trip or day starting at ``start`` (created on first use; two creators race safely)."""
    offer = Offer.objects.filter(resource=resource, starts_at=start).first()
    if offer is not None:
        return offer
    if resource.mode == Mode.SEATS:
        end = start + dt.timedelta(minutes=resource.sitting_minutes)
    else:
        end = _span(_local(start).date(), resource.opens_at, resource.closes_at)[1]
    try:
        with transaction.atomic():
            return Offer.objects.create(resource=resource, starts_at=start, ends_at=end, capacity=resource.capacity)
    except IntegrityError:
        return Offer.objects.get(resource=resource, starts_at=start)


def _offer_starts(resource: Resource, day: dt.date) -> list[dt.datetime]:
    if resource.mode == Mode.DAILY:
        return [_at(day, resource.opens_at)]
    out = []
    for text in resource.start_times or []:
        hour, minute = (int(x) for x in str(text).split(":"))
        out.append(_at(day, dt.time(hour, minute)))
    return out


def _take_seats(resource: Resource, booking: Booking, seats: int) -> None:
    offer = _offer_for(resource, booking.starts_at)
    booking.offer = offer
    booking.ends_at = offer.ends_at
    taken = Offer.objects.filter(pk=offer.pk, taken__lte=F("capacity") - seats).update(taken=F("taken") + seats)
    if not taken:
        raise ValidationError(_("该场次已约满") if resource.mode == Mode.SEATS else _("当天名额已满"), code="full")


def _give_back_seats(booking: Booking) -> None:
    if booking.offer_id:
        Offer.objects.filter(pk=booking.offer_id, taken__gte=booking.seats).update(taken=F("taken") - booking.seats)


def _refuse(resource: Resource, reasons: list[str]):
    raise ValidationError(_("未能预约「%(r)s」：%(why)s") % {"r": resource.name, "why": "；".join(reasons)},
                          code="refused")


def book(person, resource: Resource, start: dt.datetime, end: dt.datetime | None = None, *, user=None,
         actor=None, vehicle: Vehicle | None = None, seats: int = 1, channel: str = "web",
         series: Series | None = None, state: str | None = None, hold_hours: int | None = None,
         booker: Booker | None = None, now: dt.datetime | None = None, audit_it: bool = True,
         allocated: bool = False) -> Booking:
    """Book ``resource`` for ``person`` (a pool: any free space of it). ``actor`` is staff booking for someone
    (scope-checked); ``user`` the booker's own account; ``allocated`` a place won in a draw (the release is the
    organiser's, so the booking horizon does not apply; every other rule does). Raises ValidationError with the
    reason in Chinese."""
    now = now or timezone.now()
    if actor is not None and not Resource.objects.restrict(actor, "view").filter(pk=resource.pk).exists():
        raise PermissionDenied(_("该资源不在您的管辖范围内"))
    if not resource.is_active:
        _refuse(resource, [_("该资源已停用")])
    if resource.mode == Mode.NONE:
        _refuse(resource, [_("该资源无需预约，到场扫码签到即可")])
    if resource.mode in (Mode.SEATS, Mode.DAILY):
        end = end or start
    if end is None:
        raise ValidationError(_("请选择结束时间"))
    booker = booker or booker_for(person, user, _local(start).date())
    chain = [resource, *ancestors(resource)]
    staff = actor is not None
    reasons = check_time(resource, start, end, now=now, staff=staff, horizon=not allocated) if resource.mode not in (
        Mode.SEATS, Mode.DAILY) else _check_offer_time(resource, start, now, staff)
    if reasons:
        _refuse(resource, reasons)
    window, windowed = _window_for(resource, chain, start, end)
    if windowed and window is None:
        _refuse(resource, [_("所选时段不在任何开放时段内")])
    rule = window.rule if window else next((r.rule for r in chain if r.rule_id), None)
    reasons = eligibility_refusal(rule, booker, _local(start).date())
    if reasons:
        _refuse(resource, [(_("%(w)s时段") % {"w": window.label} if window else "") + reasons[0], *reasons[1:]])
    block = strikes_block(resource, person, now)
    if block:
        _refuse(resource, [block])
    if vehicle is not None and vehicle.pk not in booker.vehicle_ids:
        _refuse(resource, [_("所选车辆不是本户或本企业登记的车辆")])
    if vehicle is None and rule is not None and rule.needs_vehicle and booker.vehicle_ids:
        vehicle = Vehicle._base_manager.get(pk=booker.vehicle_ids[0])
    if resource.mode == Mode.GROUP:
        return _book_any(person, resource, start, end, user=user, actor=actor, vehicle=vehicle, channel=channel,
                         series=series, state=state, hold_hours=hold_hours, booker=booker, now=now, chain=chain,
                         audit_it=audit_it)
    with audit.deferred():  # the audit chain's lock only for the last insert and the commit
        reasons = quota_refusal(chain, booker, start)
        if reasons:
            _refuse(resource, reasons)
        return _create(person, resource, start, end, user=user, actor=actor, vehicle=vehicle, seats=seats,
                       channel=channel, series=series, state=state, hold_hours=hold_hours, booker=booker, now=now,
                       chain=chain, audit_it=audit_it)


def _check_offer_time(resource: Resource, start: dt.datetime, now, staff: bool) -> list[str]:
    day = _local(start).date()
    if start not in _offer_starts(resource, day):
        return [_("请选择列出的场次")]
    if not open_on(resource, day):
        return [_("%(d)s不开放（休息日或节假日）") % {"d": f"{day.month}月{day.day}日"}]
    if not staff:
        if start <= now and resource.mode == Mode.SEATS:
            return [_("该场次已经开始")]
        if day < timezone.localdate(now):
            return [_("该日期已经过去")]
        horizon = timezone.localdate(now) + dt.timedelta(days=resource.horizon_days)
        if day > horizon:
            return [_("最多可提前%(n)d天预约") % {"n": resource.horizon_days}]
    return []


def _create(person, resource: Resource, start, end, *, user, actor, vehicle, seats, channel, series, state,
            hold_hours, booker: Booker, now, chain, audit_it=True) -> Booking:
    leaf = getattr(resource, "has_parts", None) is False  # read with the space (free_spaces): no parts to claim
    claims = ([resource.pk] if leaf else claim_set(resource)) if resource.mode == Mode.EXCLUSIVE else []
    # a space from free_spaces has no blackout of its own; ``closed_above`` says whether its pool's tree has one
    if claims and not (leaf and getattr(resource, "closed_above", None) is False):
        black = _blackout(list({*claims, *[r.pk for r in chain]}), start, end)
        if black:
            _refuse(resource, [_("该时段停用：%(r)s") % {"r": black.reason}])
    near = Q(resource=resource.pk)
    if resource.parent_id:  # the pool or room it is part of, and its siblings (one query, the siblings a subquery)
        near |= Q(resource=resource.parent_id) | Q(resource__parent_id=resource.parent_id)
    mine = Booking.objects.filter(near, person=person, state__in=ACTIVE_STATES, starts_at__lt=end, ends_at__gt=start)
    if resource.mode in (Mode.SEATS, Mode.DAILY):
        mine = Booking.objects.filter(person=person, state__in=ACTIVE_STATES, resource=resource, starts_at=start)
    busy = getattr(resource, "person_busy", None)  # read with the space (free_spaces), for this person
    if busy is True or (busy is None and mine.exists()):
        _refuse(resource, [_("您在该时段已有预约")])
    if state is None:
        state = BookingState.PENDING if any(r.needs_approval for r in chain) else BookingState.CONFIRMED
    booking = Booking(resource=resource, person=person, user=user, house=booker.house, enterprise=booker.enterprise,
                      home_compound_id=booker.home_compound_id, vehicle=vehicle, starts_at=start, ends_at=end,
                      seats=seats, state=state, channel=channel, series=series,
                      hold_until=now + dt.timedelta(hours=hold_hours) if hold_hours else None,
                      street_id=resource.street_id, community_id=resource.community_id, grid_id=resource.grid_id,
                      compound_id=resource.compound_id)
    if resource.mode in (Mode.SEATS, Mode.DAILY):
        _take_seats(resource, booking, seats)
        booking.save()
    else:
        booking.save()
        _take_claims(booking, claims, start, end + dt.timedelta(minutes=resource.buffer_minutes))
    if audit_it:
        audit.record("book", booking, user=actor or user, changes={"state": [None, booking.state]})
    if booking.state == BookingState.PENDING:
        ask_approvers(booking, [resource, *chain])
    return booking


def free_spaces(pool: Resource, start: dt.datetime, end: dt.datetime, batch: int = 8,
                shuffled: bool = False, skip_locked: bool = False,
                above: list[int] | None = None, person=None) -> Iterator[Resource]:
    """The pool's spaces free over [start, end), first by code, a few at a time: the database picks them (no live
    claim, no blackout overlapping), so a pool of a thousand spaces is not read whole for one booking. A space
    taken meanwhile by a concurrent booking is found by the caller's insert and skipped; asking again excludes it.

    Each space comes with ``has_parts`` (whether it has parts of its own) and, when ``above`` (the pool and its
    ancestors) is given, ``closed_above`` (a blackout on one of them overlaps), and when ``person`` is given,
    ``person_busy`` (they hold a live booking of the pool or one of its spaces overlapping the span): the booking
    then needs no query of its own for them. ``skip_locked`` (inside a transaction; PostgreSQL): lock the space's
    row (FOR NO KEY UPDATE, which the foreign keys of the claim do not wait for) and pass over the rows concurrent
    bookers hold, so racing bookers each take a different space instead of queueing on one in the exclusion
    check."""
    from django.db.models import Exists, OuterRef, Value

    claimed = Claim.objects.filter(resource=OuterRef("pk"), active=True, starts_at__lt=end, ends_at__gt=start)
    closed = Blackout.objects.filter(resource=OuterRef("pk"), starts_at__lt=end, ends_at__gt=start)
    qs = (Resource.objects.filter(parent=pool, is_active=True).exclude(Exists(claimed)).exclude(Exists(closed))
          .annotate(has_parts=Exists(Resource.objects.filter(parent=OuterRef("pk"))))
          .order_by(*(("?",) if shuffled else ("code", "id"))))
    if above is not None:
        qs = qs.annotate(closed_above=Exists(Blackout.objects.filter(
            resource__in=above, starts_at__lt=end, ends_at__gt=start)) if above else Value(False))
    if person is not None:
        qs = qs.annotate(person_busy=Exists(Booking.objects.filter(
            Q(resource=pool.pk) | Q(resource__parent_id=pool.pk), person=person, state__in=ACTIVE_STATES,
            starts_at__lt=end, ends_at__gt=start)))
    if skip_locked:
        qs = qs.select_for_update(skip_locked=True, no_key=True, of=("self",))
    tried: set[int] = set()
    while True:
        chunk = list(qs.exclude(pk__in=tried)[:batch])
        if not chunk:
            return
        for space in chunk:
            tried.add(space.pk)
            yield space


def _book_any(person, pool: Resource, start, end, *, chain, **kw) -> Booking:
    """A pool: take the first free space (if another booker takes it first, the database says so: try the next)."""
    with audit.deferred():
        reasons = quota_refusal(chain, kw["booker"], start)
        if reasons:
            _refuse(pool, reasons)
        # the first free space by code; when another booker took it first (the database says so), random free
        # ones: racing bookers would otherwise queue behind each other space by space

        def take(space) -> Booking | None:
            try:
                with transaction.atomic():
                    return _create(person, space, start, end, seats=1, chain=[space, *chain], **kw)
            except ValidationError as exc:
                if getattr(exc, "code", None) != "taken":
                    raise
                return None

        above = [r.pk for r in chain]
        # the first free space no concurrent booker holds; if every free one is held, the first free one anyway
        # (its booker may yet fail: the exclusion check waits for it and says)
        first = next(free_spaces(pool, start, end, batch=1, skip_locked=True, above=above, person=person), None)
        if first is None and connection.features.has_select_for_update_skip_locked:
            first = next(free_spaces(pool, start, end, batch=1, above=above, person=person), None)
        if first is not None:
            booking = take(first)
            if booking is not None:
                return booking
            for space in free_spaces(pool, start, end, shuffled=True, above=above, person=person):
                booking = take(space) if space.pk != first.pk else None
                if booking is not None:
                    return booking
        raise ValidationError(_("「%(r)s」该时段已满，可加入候补") % {"r": pool.name}, code="full")


def bookers_for(persons: list, on: dt.date | None = None) -> dict[int, Booker]:
    """``booker_for`` for many people in three queries (residences, employments, vehicles)."""
    from people.models import Residence

    on = on or timezone.localdate()
    ids = [p.pk for p in persons]
    houses: dict[int, list] = {}
    for r in (Residence._base_manager.filter(person__in=ids, moved_out__isnull=True).select_related("house")
              .order_by("person_id", "-moved_in", "id")):
        houses.setdefault(r.person_id, []).append(r.house)
    jobs: dict[int, list] = {}
    for j in (Employment.objects.filter(person__in=ids).filter(Q(until__isnull=True) | Q(until__gte=on))
              .filter(Q(since__isnull=True) | Q(since__lte=on)).select_related("enterprise").order_by("id")):
        jobs.setdefault(j.person_id, []).append(j.enterprise)
    house_ids = {h.pk for hs in houses.values() for h in hs}
    enterprise_ids = {e.pk for es in jobs.values() for e in es}
    by_house: dict[int, list[int]] = {}
    by_enterprise: dict[int, list[int]] = {}
    if house_ids or enterprise_ids:
        rows = Vehicle._base_manager.filter(Q(house__in=house_ids) | Q(enterprise__in=enterprise_ids))
        for pk, house, enterprise in rows.values_list("id", "house_id", "enterprise_id"):
            if house:
                by_house.setdefault(house, []).append(pk)
            if enterprise:
                by_enterprise.setdefault(enterprise, []).append(pk)
    out = {}
    for p in persons:
        hs, es = houses.get(p.pk, []), jobs.get(p.pk, [])
        vehicles = [v for h in hs for v in by_house.get(h.pk, [])] + \
            [v for e in es for v in by_enterprise.get(e.pk, [])]
        out[p.pk] = Booker(person=p, houses=hs, compound_ids={h.compound_id for h in hs}, enterprises=es,
                           enterprise_compound_ids={e.compound_id for e in es}, known_vehicle_ids=vehicles)
    return out


def allocate(pool: Resource, entries: list[tuple], start: dt.datetime, end: dt.datetime, *, limit: int | None = None,
             channel: str = "lottery", now: dt.datetime | None = None) -> list[tuple[Booking | None, str]]:
    """Book many people, in the order given, into a pool's free spaces for one span: the places a draw allocated.

    The same rules as ``book`` (the span's time rules without the horizon, the window's eligibility over the
    registry, no-show strikes, quotas, one booking a person a span), checked for everyone at once: a handful of
    queries instead of a dozen per person, and the bookings, claims and (SQLite) slots written in three bulk
    inserts. The database's guard against a double booking is the same as for one booking; if a concurrent booking
    took a space meanwhile, the insert fails as a whole and everyone is booked one by one through ``book``.
    ``entries`` are (person, user) pairs; at most ``limit`` are booked. Returns, per entry, the booking or the
    reason in Chinese (``(None, "")`` for those not tried once ``limit`` was reached)."""
    from django.db.models import prefetch_related_objects

    now = now or timezone.now()
    chain = [pool, *ancestors(pool)]
    results: list[tuple[Booking | None, str]] = [(None, "")] * len(entries)

    def text(reasons: list[str]) -> str:
        return _("未能预约「%(r)s」：%(why)s") % {"r": pool.name, "why": "；".join(reasons)}

    common = check_time(pool, start, end, now=now, horizon=False)
    window, windowed = _window_for(pool, chain, start, end)
    if windowed and window is None:
        common.append(_("所选时段不在任何开放时段内"))
    if _blackout([r.pk for r in chain], start, end):
        common.append(_("该时段停用：%(r)s") % {"r": _blackout([r.pk for r in chain], start, end).reason})
    if common:
        return [(None, text(common))] * len(entries)
    rule = window.rule if window else next((r.rule for r in chain if r.rule_id), None)
    if rule is not None:
        prefetch_related_objects([rule], "residents_of", "employees_in")
    day = _local(start).date()
    since = now - dt.timedelta(days=pool.strike_days)
    bookers: dict[int, Booker] = {}
    strikes: dict[int, list] = {}
    busy_people: set[int] = set()

    def read_ahead(i: int) -> None:
        """The registry facts of the next thousand people (not all ten thousand applicants when a thousand win)."""
        persons = [p for p, _u in entries[i:i + 1000]]
        ids = [p.pk for p in persons]
        bookers.update(bookers_for(persons, day))
        for pid, at in Strike.objects.filter(person__in=ids, at__gte=since).order_by("at").values_list(
                "person_id", "at"):
            strikes.setdefault(pid, []).append(at)
        busy_people.update(Booking.objects.filter(person__in=ids, state__in=ACTIVE_STATES, resource__parent=pool,
                                                  starts_at__lt=end, ends_at__gt=start)
                           .values_list("person_id", flat=True))

    quotas = []
    for quota in Quota.objects.filter(resource__in=[r.pk for r in chain]).select_related("resource"):
        a, b = _period_bounds(quota.period, day)
        column = SUBJECT_FIELD[quota.subject]
        used = dict(Booking.objects.filter(resource__in=[quota.resource_id, *descendants([quota.resource_id])],
                                           starts_at__gte=a, starts_at__lt=b,
                                           state__in=[*ACTIVE_STATES, BookingState.RELEASED])
                    .values_list(column).annotate(n=models.Count("id")).order_by())
        quotas.append((quota, used))
    free = list(free_spaces(pool, start, end, batch=10**6))
    state = BookingState.PENDING if any(r.needs_approval for r in chain) else BookingState.CONFIRMED
    planned: list[tuple[int, Booking]] = []
    for i, (person, user) in enumerate(entries):
        if limit is not None and len(planned) >= limit:
            break
        if i % 1000 == 0:
            read_ahead(i)
        booker = bookers[person.pk]
        booker.user = user
        reasons = eligibility_refusal(rule, booker, day)
        if reasons:
            results[i] = (None, text([(_("%(w)s时段") % {"w": window.label} if window else "") + reasons[0],
                                      *reasons[1:]]))
            continue
        block = _strikes_word(pool, strikes.get(person.pk, []))
        if block:
            results[i] = (None, text([block]))
            continue
        over = []
        for quota, used in quotas:
            value = _subject_value(quota.subject, booker)
            word = _quota_word(quota, value, used.get(value, 0) if value is not None else 0)
            if word:
                over.append(word)
        if over:  # the quota first, then one booking a person a span: the order ``book`` says them in
            results[i] = (None, text(over))
            continue
        if person.pk in busy_people:
            results[i] = (None, text([_("您在该时段已有预约")]))
            continue
        if not free:
            results[i] = (None, _("「%(r)s」该时段已满，可加入候补") % {"r": pool.name})
            continue
        space = free.pop(0)
        vehicle_id = booker.vehicle_ids[0] if rule is not None and rule.needs_vehicle and booker.vehicle_ids else None
        planned.append((i, Booking(resource=space, person=person, user=user, house=booker.house,
                                   enterprise=booker.enterprise, home_compound_id=booker.home_compound_id,
                                   vehicle_id=vehicle_id, starts_at=start, ends_at=end, seats=1, state=state,
                                   channel=channel, street_id=space.street_id, community_id=space.community_id,
                                   grid_id=space.grid_id, compound_id=space.compound_id)))
        busy_people.add(person.pk)
        for quota, used in quotas:
            value = _subject_value(quota.subject, booker)
            if value is not None:
                used[value] = used.get(value, 0) + 1
    if not planned:
        return results
    parts = {b.resource_id: [] for _i, b in planned}
    for pk, parent in Resource.objects.filter(parent__in=list(parts)).values_list("id", "parent_id"):
        parts[parent].append(pk)  # a space with parts of its own (rare): those are claimed too
    try:
        with transaction.atomic():
            bookings = Booking.objects.bulk_create([b for _i, b in planned], batch_size=1000)
            claim_end = end + dt.timedelta(minutes=pool.buffer_minutes)
            claims = Claim.objects.bulk_create(
                [Claim(booking=b, resource_id=rid, starts_at=start, ends_at=claim_end)
                 for b in bookings for rid in [b.resource_id, *parts[b.resource_id]]], batch_size=2000)
            if connection.vendor != "postgresql":
                times = _slot_times(start, claim_end)
                Slot.objects.bulk_create([Slot(claim=c, resource_id=c.resource_id, at=at) for c in claims
                                          for at in times], batch_size=5000)
    except IntegrityError:  # a space taken meanwhile: the slower path, one by one, with the same guard
        out = list(results)
        booked = 0
        for i, (person, user) in enumerate(entries):
            if limit is not None and booked >= limit:
                break
            try:
                out[i] = (book(person, pool, start, end, user=user, channel=channel, audit_it=False, allocated=True,
                               now=now), "")
                booked += 1
            except ValidationError as exc:
                out[i] = (None, " ".join(exc.messages))
        return out
    for (i, _b), booking in zip(planned, bookings, strict=True):
        results[i] = (booking, "")
        if booking.state == BookingState.PENDING:
            ask_approvers(booking, [booking.resource, *chain])
    return results


def book_series(person, resource: Resource, first: dt.date, last: dt.date, starts: dt.time, ends: dt.time, *,
                weekdays: str = "1234567", user=None, actor=None, channel: str = "web") -> Series:
    """Book the same time on every chosen weekday from ``first`` to ``last``; the dates that fail are kept with
    why (the others are booked)."""
    series = Series.objects.create(resource=resource, person=person, first_date=first, last_date=last)
    failed = []
    day = first
    booker = booker_for(person, user, first)
    while day <= last:
        if str(day.isoweekday()) in weekdays:
            start, end = _span(day, starts, ends)
            if resource.mode in (Mode.SEATS, Mode.DAILY):
                end = start
            try:
                book(person, resource, start, end, user=user, actor=actor, channel=channel, series=series,
                     booker=booker)
            except ValidationError as exc:
                failed.append({"date": day.isoformat(), "reason": " ".join(exc.messages)})
        day += dt.timedelta(days=1)
    series.failed = failed
    series.save(update_fields=["failed", "updated_at"])
    return series


# --- after booking ------------------------------------------------------------------------------------------
def _may_manage(actor, booking: Booking, action: str = "change") -> bool:
    return actor is not None and Booking.objects.restrict(actor, action).filter(pk=booking.pk).exists() and \
        Resource.objects.restrict(actor, "view").filter(pk=booking.resource_id).exists()


def _end(booking: Booking, state: str, expected: Iterable[str], now: dt.datetime) -> bool:
    """Conditional transition: only one of two racing callers ends the booking; the place is freed once."""
    with transaction.atomic():
        done = Booking.objects.filter(pk=booking.pk, state__in=list(expected)).update(
            state=state, ended_at=now, version=F("version") + 1)
        if not done:
            return False
        _free_claims(booking)
        _give_back_seats(booking)
        booking.state = state
    return True


def cancel(booking: Booking, *, person=None, actor=None, now: dt.datetime | None = None) -> Booking:
    """The booker cancels until ``cancel_minutes`` before the start; staff of the resource's place at any time."""
    now = now or timezone.now()
    staff = actor is not None and person is None and _may_manage(actor, booking)
    if not staff:
        if person is None or booking.person_id != person.pk:
            raise PermissionDenied(_("只能取消本人的预约"))
        limit = booking.starts_at - dt.timedelta(minutes=booking.resource.cancel_minutes)
        if now > limit and booking.state != BookingState.HELD:
            raise ValidationError(_("开始前%(n)d分钟内不能自行取消，请联系管理人员") % {
                "n": booking.resource.cancel_minutes})
    if not _end(booking, BookingState.CANCELLED, ACTIVE_STATES, now):
        raise ValidationError(_("该预约已不在有效状态"))
    audit.record("cancel", booking, user=actor, changes={"state": ["active", BookingState.CANCELLED]})
    offer_freed(booking, now)
    return booking


def approver_group_id(chain: Iterable[Resource]) -> int | None:
    """The approver group that decides a booking: the first resource of the chain (the space or room, then the
    pool or whole it is part of) that asks for approval and names a group; None: anyone with the permission."""
    return next((r.approver_group_id for r in chain if r.needs_approval and r.approver_group_id), None)


def _group_of(booking: Booking) -> int | None:
    resource = booking.resource
    return approver_group_id([resource, *ancestors(resource)])


def ask_approvers(booking: Booking, chain: Iterable[Resource]) -> int:
    """Tell the members of the booking's approver group that it waits for them (once per booking and member:
    the inbox's dedupe key). Without a group nobody is told (the pending page lists it). Returns the number told."""
    from django.urls import reverse

    from notify.services import notify

    group = approver_group_id(chain)
    if group is None:
        return 0
    members = list(ApproverGroup.members.through.objects.filter(approvergroup_id=group, user__is_active=True)
                   .values_list("user_id", flat=True))
    if not members:
        return 0
    from django.contrib.auth import get_user_model

    users = list(get_user_model().objects.filter(pk__in=members))
    start = _local(booking.starts_at)
    return len(notify(users, title=_("待审批预约：%(r)s %(t)s") % {"r": booking.resource.name,
                                                                   "t": f"{start:%m-%d %H:%M}"},
                      url=reverse("resources:pending"), kind="info", dedupe_key=f"resources:approve:{booking.pk}"))


def _may_decide(booking: Booking, actor) -> None:
    """A resource naming an approver group: a member of it decides (and nobody else); otherwise whoever holds
    ``approve`` on the resource's place."""
    group = _group_of(booking)
    if group is not None:
        if actor is None or not ApproverGroup.members.through.objects.filter(
                approvergroup_id=group, user_id=actor.pk).exists():
            raise PermissionDenied(_("只有该资源审批组的成员可以审批"))
        return
    if not Resource.objects.restrict(actor, "approve").filter(pk=booking.resource_id).exists():
        raise PermissionDenied(_("您没有审批该资源预约的权限"))


def approve(booking: Booking, actor, reason: str = "") -> Booking:
    """Approve a pending booking. A conditional update: of two decisions at once, one wins, the other is told the
    booking was decided already. Audited with the reason and the approver group."""
    _may_decide(booking, actor)
    if not Booking.objects.filter(pk=booking.pk, state=BookingState.PENDING).update(
            state=BookingState.CONFIRMED, version=F("version") + 1):
        raise ValidationError(_("该预约已被处理"))
    booking.state = BookingState.CONFIRMED
    # The reason as ``purpose``: the trail masks any phone or ID number typed into it.
    audit.record("approve", booking, user=actor, purpose=reason,
                 changes={"state": [BookingState.PENDING, BookingState.CONFIRMED], "group": [None, _group_of(booking)]})
    _tell(booking, _("预约已通过：%(r)s") % {"r": booking.resource.name})
    return booking


def reject(booking: Booking, actor, reason: str = "") -> Booking:
    _may_decide(booking, actor)
    if not _end(booking, BookingState.REJECTED, [BookingState.PENDING], timezone.now()):
        raise ValidationError(_("该预约已被处理"))
    from core.sealed import mask_text

    # A phone or ID number typed into the reason is kept masked on the booking and in the booker's inbox (the
    # reason is the officer's free text: nothing there needs the full number).
    shown = mask_text(reason or "")
    Booking.objects.filter(pk=booking.pk).update(note=shown[:200])
    # The reason as ``purpose``: the trail masks any phone or ID number typed into it.
    audit.record("reject", booking, user=actor, purpose=reason,
                 changes={"state": [BookingState.PENDING, BookingState.REJECTED], "group": [None, _group_of(booking)]})
    _tell(booking, _("预约未通过：%(r)s %(why)s") % {"r": booking.resource.name, "why": shown})
    offer_freed(booking, timezone.now())
    return booking


def _checkin_open(booking: Booking, now: dt.datetime) -> bool:
    return booking.starts_at - TZ_HOLD <= now < booking.ends_at


def check_in(booking: Booking, *, method: str = "qr", plate: str = "", now: dt.datetime | None = None) -> Booking:
    now = now or timezone.now()
    if booking.state == BookingState.CHECKED_IN:
        return booking
    if booking.state != BookingState.CONFIRMED:
        raise ValidationError(_("该预约当前不能签到（%(s)s）") % {"s": booking.get_state_display()})
    if not _checkin_open(booking, now):
        start = _local(booking.starts_at)
        raise ValidationError(_("签到时间为开始前15分钟至结束（本次开始于%(t)s）") % {
            "t": f"{start.month}月{start.day}日 {start:%H:%M}"})
    if not Booking.objects.filter(pk=booking.pk, state=BookingState.CONFIRMED).update(
            state=BookingState.CHECKED_IN, checked_in_at=now):
        raise ValidationError(_("该预约已不在有效状态"))
    CheckIn.objects.create(resource=booking.resource, booking=booking, person=booking.person, at=now, method=method,
                           plate=plate)
    booking.state, booking.checked_in_at = BookingState.CHECKED_IN, now
    return booking


def check_in_by_qr(token: str, person, now: dt.datetime | None = None) -> tuple[Resource, Booking | None]:
    """The QR code at a space, room or the fridge: check in the person's booking there now (a check-in point
    records the visit)."""
    now = now or timezone.now()
    resource = Resource.objects.filter(qr_token=token, is_active=True).first()
    if resource is None:
        raise ValidationError(_("签到码无效，请扫描现场张贴的二维码"))
    if resource.mode == Mode.NONE:
        CheckIn.objects.create(resource=resource, person=person, at=now, method="qr")
        return resource, None
    near = [resource.pk, *descendants([resource.pk]), *[a.pk for a in ancestors(resource)]]
    booking = (Booking.objects.filter(person=person, resource__in=near, state=BookingState.CONFIRMED,
                                      starts_at__lte=now + TZ_HOLD, ends_at__gt=now)
               .select_related("resource").order_by("starts_at").first())
    if booking is None:
        raise ValidationError(_("您在「%(r)s」现在没有可签到的预约") % {"r": resource.name})
    return resource, check_in(booking, method="qr", now=now)


def normalise_plate(raw: object) -> str:
    """A plate of the mainland format: 7 characters (苏E12345), or 8 for a new-energy vehicle (苏ED12345 for a
    small car: D or F then five; 苏E12345D for a large one: five digits then D or F)."""
    import re

    value = validate_plate(str(raw or "").replace("·", "").replace(" ", "")).value
    if len(value) == 8 and not re.fullmatch(r".[A-Z]([DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF])", value):
        raise ValidationError(_("新能源车牌号格式不正确：第三位为D或F后接5位（如苏ED12345），或5位数字后接D或F"),
                              code="format")
    return value


def register_vehicle(actor, plate: str, *, house=None, enterprise=None) -> Vehicle:
    value = normalise_plate(plate)
    owner = house or enterprise
    if owner is None or (house is not None and enterprise is not None):
        raise ValidationError(_("车辆须属于一户或一家企业"))
    if Vehicle._base_manager.filter(plate=value).exists():
        raise ValidationError({"plate": [_("该车牌已登记")]})
    with transaction.atomic():
        v = Vehicle(plate=value, new_energy=len(value) == 8, house=house, enterprise=enterprise,
                    grid_id=owner.grid_id, community_id=owner.community_id, street_id=owner.street_id)
        v.save()
        from core.services import assert_in_scope

        assert_in_scope(actor, v, "add")
        audit.record("add", v, user=actor)
    return v


def check_in_by_plate(actor, plate: str, now: dt.datetime | None = None) -> Booking:
    """Staff at the gate type the plate: the booking of that vehicle's household or enterprise on a space in
    their scope, now."""
    now = now or timezone.now()
    value = normalise_plate(plate)
    vehicle = Vehicle._base_manager.filter(plate=value).first()
    if vehicle is None:
        raise ValidationError(_("车牌%(p)s未登记") % {"p": value})
    allowed = Resource.objects.restrict(actor, "checkin").values("id")
    owner = Q(vehicle=vehicle) | (Q(house=vehicle.house_id) if vehicle.house_id
                                  else Q(enterprise=vehicle.enterprise_id))
    booking = (Booking.objects.filter(owner, resource__in=allowed, state=BookingState.CONFIRMED,
                                      starts_at__lte=now + TZ_HOLD, ends_at__gt=now)
               .select_related("resource").order_by("starts_at").first())
    if booking is None:
        raise ValidationError(_("车牌%(p)s现在没有可签到的预约") % {"p": value})
    check_in(booking, method="plate", plate=value, now=now)
    audit.record("checkin", booking, user=actor)
    return booking


def release_no_shows(now: dt.datetime | None = None) -> int:
    """The periodic job: a confirmed booking not checked in within the grace period is released, the booker gets
    a strike, and the place goes to the waiting list."""
    now = now or timezone.now()
    candidates = (Booking.objects.filter(state=BookingState.CONFIRMED, starts_at__lt=now,
                                         resource__requires_checkin=True)
                  .select_related("resource"))
    released = 0
    for booking in candidates:
        if booking.starts_at + dt.timedelta(minutes=booking.resource.grace_minutes) > now:
            continue
        if _end(booking, BookingState.RELEASED, [BookingState.CONFIRMED], now):
            Strike.objects.get_or_create(booking=booking, defaults={"person_id": booking.person_id,
                                                                    "resource_id": booking.resource_id, "at": now})
            released += 1
            _tell(booking, _("您预约的「%(r)s」未在开始后%(n)d分钟内签到，已自动释放并记爽约一次") % {
                "r": booking.resource.name, "n": booking.resource.grace_minutes})
            offer_freed(booking, now)
    return released


# --- the waiting list ---------------------------------------------------------------------------------------
def join_waitlist(person, resource: Resource, start: dt.datetime, end: dt.datetime, *, user=None) -> WaitEntry:
    booker = booker_for(person, user, _local(start).date())
    chain = [resource, *ancestors(resource)]
    window, _windowed = _window_for(resource, chain, start, end)
    rule = window.rule if window else next((r.rule for r in chain if r.rule_id), None)
    reasons = eligibility_refusal(rule, booker)
    if reasons:
        _refuse(resource, reasons)
    try:
        with transaction.atomic():
            return WaitEntry.objects.create(resource=resource, starts_at=start, ends_at=end, person=person, user=user)
    except IntegrityError:
        raise ValidationError(_("您已在该时段的候补名单中")) from None


def _pool_of(booking: Booking) -> Resource:
    r = booking.resource
    if r.parent_id and r.parent.mode == Mode.GROUP:
        return r.parent
    return r


def offer_freed(booking: Booking, now: dt.datetime | None = None) -> Booking | None:
    """A place came free: offer it to the first on the waiting list who may still book it, held for the
    resource's ``hold_hours``."""
    now = now or timezone.now()
    target = _pool_of(booking)
    if booking.ends_at <= now:
        return None
    entries = WaitEntry.objects.filter(resource__in=[target.pk, booking.resource_id], state=WaitState.WAITING,
                                       starts_at=booking.starts_at).select_related("person").order_by("created_at",
                                                                                                         "id")
    for entry in entries:
        try:
            held = book(entry.person, entry.resource, entry.starts_at, entry.ends_at, user=entry.user,
                        state=BookingState.HELD, hold_hours=target.hold_hours, channel="waitlist", now=now)
        except ValidationError:
            continue
        WaitEntry.objects.filter(pk=entry.pk).update(state=WaitState.OFFERED, booking=held)
        _tell(held, _("候补成功：「%(r)s」已为您保留%(h)d小时，请在此前确认") % {"r": target.name,
                                                                         "h": target.hold_hours})
        return held
    return None


def accept_hold(booking: Booking, person, now: dt.datetime | None = None) -> Booking:
    now = now or timezone.now()
    if booking.person_id != person.pk:
        raise PermissionDenied(_("只能确认本人的候补"))
    if not Booking.objects.filter(pk=booking.pk, state=BookingState.HELD, hold_until__gt=now).update(
            state=BookingState.CONFIRMED, hold_until=None):
        raise ValidationError(_("保留时间已过，名额已让给下一位"))
    WaitEntry.objects.filter(booking=booking).update(state=WaitState.BOOKED)
    booking.state = BookingState.CONFIRMED
    return booking


def expire_holds(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    n = 0
    for booking in Booking.objects.filter(state=BookingState.HELD, hold_until__lte=now).select_related("resource"):
        if _end(booking, BookingState.EXPIRED, [BookingState.HELD], now):
            WaitEntry.objects.filter(booking=booking).update(state=WaitState.EXPIRED)
            n += 1
            offer_freed(booking, now)
    return n


# --- approver groups ----------------------------------------------------------------------------------------
def create_group(actor, name: str, community) -> ApproverGroup:
    """An approver group of a community the actor keeps (``add`` on approver groups there); audited."""
    from core.scope import scope_for

    name = (name or "").strip()
    if not name:
        raise ValidationError(_("请填写审批组名称"))
    places = scope_for(actor).places_for("resources.add_approvergroup") if actor is not None else None
    if places is None or not (community.pk in places.communities or community.street_id in places.streets):
        raise PermissionDenied(_("该社区不在您的管辖范围内"))
    group = ApproverGroup.objects.create(name=name[:60], street_id=community.street_id, community_id=community.pk)
    audit.record("add", group, user=actor, changes={"name": [None, group.name]})
    return group


def staff_candidates(group: ApproverGroup):
    """The accounts that may join a group: staff who may approve bookings of resources in the group's place."""
    from django.contrib.auth import get_user_model

    from core.models import Grant
    from places.models import Grid

    grants = Grant.objects.filter(role__permissions__codename="approve_resource",
                                  role__permissions__content_type__app_label="resources")
    if group.community_id:
        grids = Grid.objects.filter(community_id=group.community_id).values("id")
        grants = grants.filter(Q(community_id=group.community_id) | Q(street_id=group.street_id, community_id=None,
                                                                      grid_id=None) | Q(grid_id__in=grids))
    else:
        grants = grants.filter(street_id=group.street_id)
    return get_user_model().objects.filter(is_active=True, pk__in=grants.values("user_id")).order_by("username")


def _kept_group(actor, group: ApproverGroup) -> ApproverGroup:
    if not ApproverGroup.objects.restrict(actor, "change").filter(pk=group.pk).exists():
        raise PermissionDenied(_("该审批组不在您的管辖范围内"))
    return group


def add_member(actor, group: ApproverGroup, user) -> None:
    _kept_group(actor, group)
    if not staff_candidates(group).filter(pk=user.pk).exists():
        raise ValidationError(_("该账号在本辖区没有审批预约的权限"))
    group.members.add(user)
    audit.record("change", group, user=actor, changes={"members": [None, user.username]})


def remove_member(actor, group: ApproverGroup, user) -> None:
    _kept_group(actor, group)
    group.members.remove(user)
    audit.record("change", group, user=actor, changes={"members": [user.username, None]})


# --- telling people -----------------------------------------------------------------------------------------
def _tell(booking: Booking, text: str) -> None:
    from django.urls import reverse

    from notify.services import notify

    if booking.user_id:
        notify([booking.user], title=text, url=reverse("resources:mine"), kind="info",
               dedupe_key=f"resources:{booking.pk}:{booking.state}")


def send_reminders(now: dt.datetime | None = None, ahead: dt.timedelta = dt.timedelta(hours=2)) -> int:
    """Bookings starting within two hours get one reminder: in the inbox of the booker's account, else a text to
    the registered phone."""
    from notify.sms import send_message

    now = now or timezone.now()
    due = Booking.objects.filter(state=BookingState.CONFIRMED, reminded_at__isnull=True, starts_at__gt=now,
                                 starts_at__lte=now + ahead).select_related("resource", "person")
    n = 0
    for booking in due:
        if not Booking.objects.filter(pk=booking.pk, reminded_at__isnull=True).update(reminded_at=now):
            continue
        start = _local(booking.starts_at)
        text = _("提醒：您预约的「%(r)s」将于%(t)s开始，请按时签到") % {"r": booking.resource.name,
                                                             "t": f"{start:%H:%M}"}
        if booking.user_id:
            _tell(booking, text)
        elif booking.person.phone_enc:
            send_message(booking.person.reveal_phone(), "【人房】" + text)
        n += 1
    return n


# --- the staff's writes --------------------------------------------------------------------------------------
def save_resource(actor, form) -> Resource:
    """Create or change a resource from a valid ``ResourceForm``: the user must hold add/change on its compound;
    its scope is copied from the compound; the change is audited."""
    resource = form.instance
    creating = resource.pk is None
    compound = form.cleaned_data["compound"]
    perm = "add" if creating else "change"
    from places.models import Compound

    if not Compound.objects.restrict(actor, "view").filter(pk=compound.pk).exists() or (
            not creating and not Resource.objects.restrict(actor, "change").filter(pk=resource.pk).exists()):
        raise PermissionDenied(_("该小区/楼宇不在您的管辖范围内"))
    from core.scope import scope_for

    if not scope_for(actor).has(f"resources.{perm}_resource"):
        raise PermissionDenied(_("您没有维护共享资源的权限"))
    with transaction.atomic():
        resource = form.save(commit=False)
        resource.grid_id, resource.community_id, resource.street_id = (compound.grid_id, compound.community_id,
                                                                       compound.street_id)
        if not creating:
            resource.version += 1
        resource.save()
        audit.record("add" if creating else "change", resource, user=actor,
                     changes={k: [None, str(form.cleaned_data.get(k))[:60]] for k in form.changed_data})
    return resource


def add_blackout(actor, resource: Resource, starts_at: dt.datetime, ends_at: dt.datetime, reason: str, *,
                 cancel: bool = False, now: dt.datetime | None = None) -> tuple[Blackout, list[Booking]]:
    """Close ``resource`` (and its parts) for a time. Bookings already inside it are listed, and with ``cancel``
    cancelled, each booker told why."""
    from notify.sms import send_message

    now = now or timezone.now()
    if not Resource.objects.restrict(actor, "change").filter(pk=resource.pk).exists():
        raise PermissionDenied(_("您没有维护该资源的权限"))
    tree = claim_set(resource)
    with transaction.atomic():
        black = Blackout.objects.create(resource=resource, starts_at=starts_at, ends_at=ends_at, reason=reason[:100])
        hit = list(Booking.objects.filter(resource__in=tree, state__in=ACTIVE_STATES, starts_at__lt=ends_at,
                                          ends_at__gt=starts_at).select_related("resource", "person"))
        audit.record("add", black, user=actor, changes={"bookings": [None, len(hit)], "cancel": [None, cancel]})
        if cancel:
            for b in hit:
                if _end(b, BookingState.CANCELLED, ACTIVE_STATES, now):
                    start = _local(b.starts_at)
                    text = _("因「%(why)s」，您%(d)s的预约「%(r)s」已取消，给您带来不便敬请谅解") % {
                        "why": reason, "d": f"{start.month}月{start.day}日 {start:%H:%M}", "r": b.resource.name}
                    if b.user_id:
                        _tell(b, text)
                    elif b.person.phone_enc:
                        send_message(b.person.reveal_phone(), "【人房】" + text)
    return black, hit


def _keeper(actor, resource: Resource) -> None:
    if not Resource.objects.restrict(actor, "change").filter(pk=resource.pk).exists():
        raise PermissionDenied(_("您没有维护该资源的权限"))


def add_window(actor, resource: Resource, **fields) -> Window:
    """A tidal window of the resource (who may book it at which hours); audited."""
    _keeper(actor, resource)
    window = Window.objects.create(resource=resource, **fields)
    audit.record("add", window, user=actor, changes={"resource": [None, resource.pk], "label": [None, window.label]})
    return window


def add_quota(actor, resource: Resource, **fields) -> Quota:
    _keeper(actor, resource)
    quota = Quota.objects.create(resource=resource, **fields)
    audit.record("add", quota, user=actor, changes={"resource": [None, resource.pk], "limit": [None, quota.limit]})
    return quota


def remove_rule_part(actor, obj) -> None:
    """Delete a window or a quota of a resource the user keeps; audited."""
    _keeper(actor, obj.resource)
    audit.record("delete", obj, user=actor, changes={"resource": [obj.resource_id, None]})
    obj.delete()


def create_rule(actor, *, name: str, residents_of, employees_in, needs_vehicle: bool, min_age, max_age):
    """An eligibility rule over the registry (compounds the user may view only); audited."""
    from core.scope import scope_for

    if not scope_for(actor).has("resources.change_resource"):
        raise PermissionDenied(_("您没有维护共享资源的权限"))
    rule = EligibilityRule.objects.create(name=name, needs_vehicle=needs_vehicle, min_age=min_age, max_age=max_age)
    rule.residents_of.set(residents_of)
    rule.employees_in.set(employees_in)
    audit.record("add", rule, user=actor, changes={"name": [None, name]})
    return rule


# --- what is free -------------------------------------------------------------------------------------------
@dataclass
class Option:
    """One bookable choice shown to a booker: a span (or sitting) and how many places are left."""

    start: dt.datetime
    end: dt.datetime
    left: int
    total: int
    label: str = ""


def _spans(resource: Resource, windows: list[Window], day: dt.date) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """The spans offered on ``day``: the tidal windows of that weekday, or blocks of the minimum length on the
    raster over the opening time."""
    spans = []
    if windows:
        for w in windows:
            if str(day.isoweekday()) in w.weekdays:
                a, b = _span(day, w.starts, w.ends)
                spans.append((a, b, w.label))
        return spans
    a, b = _span(day, resource.opens_at, resource.closes_at)
    step = dt.timedelta(minutes=max(resource.raster_minutes, 1))
    length = dt.timedelta(minutes=resource.min_minutes)
    t = a
    while t + length <= b:
        spans.append((t, t + length, ""))
        t += step
    return spans


def pool_availability(pool: Resource, first: dt.date, days: int = 7, *,
                      now: dt.datetime | None = None) -> dict[dt.date, list[Option]]:
    """A pool's choices over several days (a week of the garage) with the queries of one day: the windows, the
    count of spaces, and the taken spaces of every span in one aggregate."""
    now = now or timezone.now()
    chain = [pool, *ancestors(pool)]
    windows = list(Window.objects.filter(resource__in=[r.pk for r in chain]))
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    open_days = [d for d in dates if open_on(pool, d)]
    spans = sorted((a, b, label, d) for d in open_days for a, b, label in _spans(pool, windows, d))
    out: dict[dt.date, list[Option]] = {d: [] for d in dates}
    if not spans:
        return out
    options = _pool_options(pool, chain, [(a, b, label) for a, b, label, _d in spans], spans[0][0],
                            max(s[1] for s in spans), now, keep=True)
    for (_a, _b, _label, d), option in zip(spans, options, strict=True):
        if option is not None:
            out[d].append(option)
    return out


def availability(resource: Resource, day: dt.date, *, now: dt.datetime | None = None) -> list[Option]:
    """The choices of one day: a pool's tidal windows (free spaces), a room's blocks of its minimum length on the
    raster, a canteen's sittings or a shuttle's trips (seats left), a service's day (places left)."""
    now = now or timezone.now()
    if resource.mode == Mode.NONE or not open_on(resource, day):
        return []
    if resource.mode in (Mode.SEATS, Mode.DAILY):
        starts = _offer_starts(resource, day)
        offers = {o.starts_at: o for o in Offer.objects.filter(resource=resource, starts_at__in=starts)}
        out = []
        for s in starts:
            o = offers.get(s)
            end = o.ends_at if o else (s + dt.timedelta(minutes=resource.sitting_minutes)
                                       if resource.mode == Mode.SEATS else _span(day, resource.opens_at,
                                                                                  resource.closes_at)[1])
            left = o.left if o else resource.capacity
            out.append(Option(s, end, left, resource.capacity, f"{_local(s):%H:%M}"))
        return [o for o in out if o.end > now]
    chain = [resource, *ancestors(resource)]
    windows = list(Window.objects.filter(resource__in=[r.pk for r in chain]))
    spans = _spans(resource, windows, day)
    lo = min((s[0] for s in spans), default=None)
    hi = max((s[1] for s in spans), default=None)
    if lo is None:
        return []
    if resource.mode == Mode.GROUP:
        return _pool_options(resource, chain, sorted(spans), lo, hi, now)
    blocked = claim_set(resource)
    claims = list(Claim.objects.filter(resource__in=blocked, active=True, starts_at__lt=hi, ends_at__gt=lo)
                  .values_list("resource_id", "starts_at", "ends_at"))
    blackouts = list(Blackout.objects.filter(resource__in=[*blocked, *[r.pk for r in chain]], starts_at__lt=hi,
                                             ends_at__gt=lo).values_list("starts_at", "ends_at"))
    out = []
    for a, b, label in spans:
        if b <= now or any(x < b and y > a for x, y in blackouts):
            continue
        taken = any(x < b and y > a for _rid, x, y in claims)
        out.append(Option(a, b, 0 if taken else 1, 1, label or f"{_local(a):%H:%M}"))
    return out


def _pool_options(pool: Resource, chain: list[Resource], spans, lo, hi, now, keep: bool = False) -> list:
    """A pool's spans with their free spaces: the pool's (or its ancestors') blackouts close a span; a space's claim
    or blackout takes that space out of the spans it overlaps. Without blackouts of single spaces (the usual case)
    the database counts the distinct claimed spaces of every span in one aggregate query (a COUNT DISTINCT with a
    filter per span), the index on (resource, start) finding the claims. Otherwise every claim and blackout is read
    and put into the spans it overlaps by bisection. ``keep``: a closed or past span gives None, not nothing."""
    from bisect import bisect_left, bisect_right

    from django.db.models import Count

    spaces = Resource.objects.filter(parent=pool, is_active=True)
    total = spaces.count()
    chain_ids = [r.pk for r in chain]
    near = Q(resource__parent=pool, resource__is_active=True)
    whole = list(Blackout.objects.filter(resource__in=chain_ids, starts_at__lt=hi, ends_at__gt=lo)
                 .values_list("starts_at", "ends_at"))

    def closed(a, b) -> bool:
        return b <= now or any(x < b and y > a for x, y in whole)

    out: list = []
    if not Blackout.objects.filter(near, starts_at__lt=hi, ends_at__gt=lo).exists():
        live = [(i, a, b) for i, (a, b, _l) in enumerate(spans) if not closed(a, b)]
        counts = Claim.objects.filter(near, active=True, starts_at__lt=hi, ends_at__gt=lo).aggregate(**{
            f"s{i}": Count("resource_id", distinct=True, filter=Q(starts_at__lt=b, ends_at__gt=a))
            for i, a, b in live}) if live else {}
        for i, (a, b, label) in enumerate(spans):
            if f"s{i}" in counts:
                out.append(Option(a, b, max(total - (counts[f"s{i}"] or 0), 0), total, label))
            elif keep:
                out.append(None)
        return out
    claims = Claim.objects.filter(near, active=True, starts_at__lt=hi, ends_at__gt=lo).values_list(
        "resource_id", "starts_at", "ends_at")
    takers = [*claims, *Blackout.objects.filter(near, starts_at__lt=hi, ends_at__gt=lo).values_list(
        "resource_id", "starts_at", "ends_at")]
    starts = [a for a, _b, _l in spans]
    ends = [b for _a, b, _l in spans]
    monotone = all(ends[i] <= ends[i + 1] for i in range(len(ends) - 1))
    busy: list[set[int]] = [set() for _ in spans]
    for rid, x, y in takers:
        last = bisect_left(starts, y)  # spans starting before the taker ends
        first = bisect_right(ends, x) if monotone else 0  # ... and ending after it starts
        for i in range(first, last):
            if ends[i] > x:
                busy[i].add(rid)
    for i, (a, b, label) in enumerate(spans):
        if closed(a, b):
            if keep:
                out.append(None)
            continue
        out.append(Option(a, b, max(total - len(busy[i]), 0), total, label))
    return out
