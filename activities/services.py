"""Every write of the community activities goes through here: keeping activities and their sessions (the room
booked through ``resources.services``), sign-up of a family, cancellation, the waiting list and its offers, the
allocation run, check-in and the roll of a session.

Never more than capacity: a sign-up takes its ``size`` places with one conditional UPDATE
(``taken = taken + n WHERE taken + n <= capacity``) inside its transaction; PostgreSQL's row lock on the activity
serialises two racing sign-ups, SQLite's BEGIN IMMEDIATE its writers; the CHECK constraint
``activity_taken_within_capacity`` stands behind both. A family is one sign-up: all its participants get a place
in that one UPDATE or none does.

Refusals are ``ValidationError``s in plain Chinese.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.choices import ACTIVE, HOLDING, AllocationRule, Attendance, Mode, SignUpState, Status
from activities.models import Activity, ActivityPhoto, Participant, Session, SessionAttendance, SignUp
from core import audit

__all__ = ["CHECKIN_EARLY", "Member", "accept_offer", "add_photo", "add_session", "audience_refusal",
           "attendance_figures", "cancel", "cancel_session", "certificate_eligible", "check_in", "check_in_by_token",
           "close_roll", "digest", "eligible_members", "expire_offers", "hold_end", "household", "mark", "offer_freed",
           "publish", "run_allocation", "save_activity", "self_check_in", "send_reminders", "sign_up", "ticket",
           "verify", "waiting_order"]

CHECKIN_EARLY = dt.timedelta(minutes=30)  # check-in opens this long before a session starts
ADULT = 18


# --- who: the household and the audience --------------------------------------------------------------------------
@dataclass
class Member:
    person: object
    age: int | None
    me: bool
    reasons: list  # what the audience rules say no to (empty: may join)


def household(person, on: dt.date | None = None) -> tuple[object | None, list]:
    """The applicant's current house and the people living there now (the applicant first)."""
    from django.db.models import Subquery

    from people.models import Residence

    # one query: the current residents of the applicant's latest current house, with the house and the people
    home = (Residence._base_manager.filter(person=person, moved_out__isnull=True).order_by("-moved_in", "id")
            .values("house_id")[:1])
    rows = list(Residence._base_manager.filter(house_id=Subquery(home), moved_out__isnull=True)
                .select_related("house", "person").order_by("person__birth_date", "person_id", "id"))
    if not rows:
        return None, [person]
    seen, others = {person.pk}, []
    for r in rows:
        if r.person_id not in seen:
            seen.add(r.person_id)
            others.append(r.person)
    return rows[0].house, [person, *others]


def _current_communities(person_ids: list[int]) -> dict[int, set[int]]:
    from people.models import Residence

    out: dict[int, set[int]] = {}
    for pid, cid in Residence._base_manager.filter(person_id__in=person_ids, moved_out__isnull=True).values_list(
            "person_id", "house__community_id"):
        out.setdefault(pid, set()).add(cid)
    return out


def _tags_of(person_ids: list[int]) -> dict[int, set[int]]:
    from people.models import PersonTag

    out: dict[int, set[int]] = {}
    for pid, tid in PersonTag.objects.filter(person_id__in=person_ids).values_list("person_id", "tag_id"):
        out.setdefault(pid, set()).add(tid)
    return out


@dataclass
class Facts:
    """What every sign-up of one activity reads again and again (its span and its audience rules), read once per
    activity instance: in one request, or one worker's burst."""

    first: dt.datetime | None
    last_end: dt.datetime | None
    communities: set
    tags: set


def facts(activity: Activity) -> Facts:
    cached = getattr(activity, "_facts", None)
    if cached is None:
        from django.db.models import Max, Min

        span = Session.objects.filter(activity_id=activity.pk).aggregate(first=Min("starts_at"), last=Max("ends_at"))
        cached = Facts(first=span["first"], last_end=span["last"],
                       communities=set(activity.audience_communities.values_list("pk", flat=True)),
                       tags=set(activity.audience_tags.values_list("pk", flat=True)))
        activity._facts = cached
    return cached


def forget_facts(activity: Activity) -> None:
    activity.__dict__.pop("_facts", None)


def _rule_day(activity: Activity) -> dt.date:
    first = facts(activity).first
    return timezone.localdate(first) if first else timezone.localdate()


def audience_refusal(activity: Activity, people: list, on: dt.date | None = None) -> dict[int, list[str]]:
    """{person id: what the audience rules say no to}, empty lists for who may join. Ages count on the first
    session's day; communities and special groups are the registry's now."""
    on = on or _rule_day(activity)
    ids = [p.pk for p in people]
    communities, tags = facts(activity).communities, facts(activity).tags
    living = _current_communities(ids) if communities else {}
    tagged = _tags_of(ids) if tags else {}
    out = {}
    for p in people:
        reasons = []
        if communities and not living.get(p.pk, set()) & communities:
            names = "、".join(activity.audience_communities.order_by("id").values_list("name", flat=True))
            reasons.append(_("仅限%(c)s的现住居民") % {"c": names})
        if activity.min_age is not None or activity.max_age is not None:
            age = p.age(on)
            low, high = activity.min_age, activity.max_age
            if age is None or (low is not None and age < low) or (high is not None and age > high):
                if low is not None and high is not None:
                    reasons.append(_("仅限%(a)d至%(b)d岁（按首场活动日计）") % {"a": low, "b": high})
                elif low is not None:
                    reasons.append(_("仅限%(a)d岁及以上（按首场活动日计）") % {"a": low})
                else:
                    reasons.append(_("仅限%(b)d岁及以下（按首场活动日计）") % {"b": high})
        if tags and not tagged.get(p.pk, set()) & tags:
            names = "、".join(activity.audience_tags.order_by("id").values_list("name", flat=True))
            reasons.append(_("仅限%(t)s") % {"t": names})
        out[p.pk] = reasons
    return out


def eligible_members(activity: Activity, applicant, on: dt.date | None = None) -> list[Member]:
    """Whom the applicant may sign up: themself and the children (under 18) of their household, each with what
    the audience rules say."""
    on = on or _rule_day(activity)
    _house, people = household(applicant, on)
    family = [p for p in people if p.pk == applicant.pk or (p.age(on) is not None and p.age(on) < ADULT)]
    why = audience_refusal(activity, family, on)
    return [Member(person=p, age=p.age(on), me=p.pk == applicant.pk, reasons=why[p.pk]) for p in family]


# --- keeping activities -------------------------------------------------------------------------------------------
FIELDS = ["title", "organiser_kind", "partner_name", "contact", "grid", "capacity", "max_family", "signup_opens",
          "signup_closes", "mode", "allocation_rule", "hold_hours", "certificate_min", "min_age", "max_age",
          "status", "organiser_children_first"]


def _may(actor, activity: Activity, action: str) -> bool:
    """System work (the demo, the bench, jobs) acts without a user; a user needs ``action`` on the place."""
    return actor is None or Activity.objects.restrict(actor, action).filter(pk=activity.pk).exists()


def save_activity(actor, form) -> Activity:
    """Create or change an activity from its form (scope checked on the grid before and after the write)."""
    from core.services import assert_in_scope, bump_version, diff, snapshot

    obj: Activity = form.instance
    creating = obj.pk is None
    before = {} if creating else snapshot(Activity.objects.get(pk=obj.pk), FIELDS)
    with transaction.atomic():
        if not creating:
            if not _may(actor, obj, "change"):
                raise PermissionDenied(_("您没有修改该活动的权限"))
            bump_version(obj, form.cleaned_data.get("version"))
            taken = Activity.objects.filter(pk=obj.pk).values_list("taken", flat=True).get()
            if obj.capacity < taken:
                raise ValidationError(_("名额不能少于已报名占用的%(n)d个") % {"n": taken})
        obj = form.save(commit=False)
        if creating:
            obj.save()
        else:  # the counter and the run's fields move only through their own updates
            names = [f for f in form.fields if f not in ("version", "audience_communities", "audience_tags")]
            obj.save(update_fields=[*names, "community", "street", "sealed_numbers", "updated_at"])
        form.save_m2m()
        assert_in_scope(actor, obj, "add" if creating else "change")
        audit.record("create" if creating else "update", obj, user=actor,
                     changes=diff(before, snapshot(obj, FIELDS)))
    return obj


def publish(actor, activity: Activity) -> Activity:
    if not _may(actor, activity, "change"):
        raise PermissionDenied(_("您没有修改该活动的权限"))
    if not activity.sessions.exists():
        raise ValidationError(_("请先添加至少一场活动时间"))
    Activity.objects.filter(pk=activity.pk).update(status=Status.PUBLISHED, version=F("version") + 1)
    activity.status = Status.PUBLISHED
    audit.record("publish", activity, user=actor)
    return activity


def add_session(actor, activity: Activity, *, starts_at: dt.datetime, ends_at: dt.datetime, place: str = "",
                topic: str = "", resource=None, booker=None) -> Session:
    """One more date of the activity. With ``resource`` (a room of the shared resources) the room is booked for
    that span through ``resources.services.book`` in the same transaction: a room is never booked twice, and a
    refusal (taken, closed, blackout) is said as resources says it. ``booker`` is the registry person the booking
    is made for (the activity's contact); staff of the room's place book it."""
    if not _may(actor, activity, "change"):
        raise PermissionDenied(_("您没有修改该活动的权限"))
    if ends_at <= starts_at:
        raise ValidationError(_("结束时间须晚于开始时间"))
    with transaction.atomic():
        number = (activity.sessions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        booking = None
        if resource is not None:
            from resources import services as res

            if booker is None:
                raise ValidationError(_("预约场地须指定一位登记在册的负责人"))
            booking = res.book(booker, resource, starts_at, ends_at, actor=actor, state="confirmed",
                               channel="activity")
            place = place or res.place_name(resource)
        session = Session.objects.create(activity=activity, number=number, starts_at=starts_at, ends_at=ends_at,
                                         place=place[:100], topic=topic[:100], resource=resource, booking=booking)
        audit.record("add_session", session, user=actor)
    forget_facts(activity)
    return session


def cancel_session(actor, session: Session) -> None:
    """Remove a date that has no attendance yet; its room booking is cancelled (freed for others)."""
    if not _may(actor, session.activity, "change"):
        raise PermissionDenied(_("您没有修改该活动的权限"))
    if session.attendance.exists():
        raise ValidationError(_("该场次已有签到记录，不能删除"))
    with transaction.atomic():
        if session.booking_id:
            from resources import services as res

            res.cancel(session.booking, actor=actor)
        audit.record("delete_session", session, user=actor)
        session.delete()


def add_photo(actor, activity: Activity, upload, caption: str = "") -> ActivityPhoto:
    from django.core.files.base import ContentFile

    from core.uploads import check_upload

    if not _may(actor, activity, "change"):
        raise PermissionDenied(_("您没有修改该活动的权限"))
    checked = check_upload(upload, field="image", max_bytes=10 * 1048576)
    with transaction.atomic():
        photo = ActivityPhoto(activity=activity, caption=caption[:100])
        photo.image.save(f"photo.{checked.ext}", ContentFile(checked.data), save=False)
        photo.save()
        audit.record("add_photo", activity, user=actor)
    return photo


# --- sign-up ------------------------------------------------------------------------------------------------------
def _window_refusal(activity: Activity, now: dt.datetime) -> str | None:
    if activity.status != Status.PUBLISHED:
        return _("该活动未开放报名")
    if activity.signup_opens and now < activity.signup_opens:
        t = timezone.localtime(activity.signup_opens)
        return _("报名%(t)s开始") % {"t": f"{t.month}月{t.day}日 {t:%H:%M}"}
    if activity.signup_closes and now > activity.signup_closes:
        return _("报名已截止")
    last_end = facts(activity).last_end
    if last_end is not None and activity.mode == Mode.FIRST_COME and now >= last_end:
        return _("活动已结束")
    return None


def _take(activity_id: int, n: int) -> bool:
    """Take ``n`` places at once, or none: the conditional UPDATE every place goes through."""
    return bool(Activity.objects.filter(pk=activity_id, taken__lte=F("capacity") - n).update(taken=F("taken") + n))


def _give_back(activity_id: int, n: int) -> None:
    Activity.objects.filter(pk=activity_id).update(taken=F("taken") - n)


def _auto_priority(activity: Activity, house) -> tuple[int, str]:
    """The priority rule's part the registry decides: a household of the organising community comes first."""
    if activity.allocation_rule == AllocationRule.PRIORITY and house is not None and \
            house.community_id == activity.community_id:
        return 1, _("主办社区居民")
    return 0, ""


def organisers(activity: Activity) -> set[int]:
    """The registry persons who run the activity (feriennet's organisers): the volunteers signed up on shifts at
    its sessions, the person its rooms are booked for, and the staff accounts (linked to a registry person) who
    organise the volunteer tasks of its sessions."""
    from resources.models import BookerLink
    from volunteers.models import Shift, Signup

    out = {activity.host_person_id} if activity.host_person_id else set()
    shifts = Shift._base_manager.filter(session__activity_id=activity.pk)
    out |= set(Signup._base_manager.filter(shift__in=shifts, state="signed").values_list("volunteer__person_id",
                                                                                        flat=True))
    staff = shifts.exclude(task__organiser__isnull=True).values("task__organiser_id")
    out |= set(BookerLink.objects.filter(user_id__in=staff).values_list("person_id", flat=True))
    out.discard(None)
    return out


def lecturers(activity: Activity) -> dict[int, list[str]]:
    """{session id: the names of the lecturers teaching it} — the volunteers (of a lecturer team such as the youth
    league school's 讲师团) signed up on a 授课讲师 shift linked to the session, first signed first."""
    from volunteers.models import Signup

    out: dict[int, list[str]] = {}
    rows = (Signup._base_manager.filter(shift__session__activity_id=activity.pk, shift__task__kind="lecture",
                                        state="signed")
            .order_by("shift__session_id", "id").values_list("shift__session_id", "volunteer__person__name"))
    for session_id, name in rows:
        if name not in out.setdefault(session_id, []):
            out[session_id].append(name)
    return out


def organiser_houses(activity: Activity, day: dt.date, people: set[int] | None = None) -> set[int]:
    """The houses where an adult organiser lives now: a sign-up from there with a child is an organiser's family."""
    from people.models import Residence

    ids = organisers(activity) if people is None else people
    if not ids:
        return set()
    adult_born = _years_before(day, ADULT)
    return set(Residence._base_manager.filter(person_id__in=ids, moved_out__isnull=True,
                                              person__birth_date__lte=adult_born).values_list("house_id", flat=True))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _has_child(people: list, day: dt.date) -> bool:
    return any(p.age(day) is not None and p.age(day) < ADULT for p in people)


def sign_up(activity: Activity, applicant, people: list, *, user=None, actor=None, channel: str = "web",
            now: dt.datetime | None = None, check_audience: bool = True, audit_it: bool = True) -> SignUp:
    """Sign up ``people`` (the applicant and/or their household's children) together: all placed or none.
    First come: confirmed while places last, else on the waiting list. Allocation: an application until the run.
    ``actor`` is staff signing someone up at the desk (scope-checked)."""
    now = now or timezone.now()
    if not _may(actor, activity, "view"):
        raise PermissionDenied(_("该活动不在您的管辖范围内"))
    if not people:
        raise ValidationError(_("请至少选择一位参加人"))
    ids = [p.pk for p in people]
    if len(set(ids)) != len(ids):
        raise ValidationError(_("参加人重复了"))
    if len(people) > activity.max_family:
        raise ValidationError(_("每户每次最多报名%(n)d人") % {"n": activity.max_family})
    why = _window_refusal(activity, now)
    if why:
        raise ValidationError(why)
    day = _rule_day(activity)
    house, family = household(applicant, day)
    allowed = {applicant.pk} | {p.pk for p in family if p.age(day) is not None and p.age(day) < ADULT}
    outsiders = [p for p in people if p.pk not in allowed]
    if outsiders:
        raise ValidationError(_("只能为本人和同户的未成年子女报名（%(n)s不是）") % {
            "n": "、".join(p.name[:1] + "*" for p in outsiders)})
    if check_audience:
        refused = audience_refusal(activity, people, day)
        bad = [(p, refused[p.pk]) for p in people if refused[p.pk]]
        if bad:
            raise ValidationError("；".join(f"{p.name[:1]}*：{'、'.join(r)}" for p, r in bad))
    priority, reason = _auto_priority(activity, house)
    org = bool(activity.children_first and house is not None and _has_child(people, day)
               and house.pk in organiser_houses(activity, day))
    try:
        with audit.deferred():
            # the rows first, the counter last: the activity's row is locked only for the end of the transaction;
            # the audit row (the site-wide chain's lock) is written when the block ends
            allocation = activity.mode == Mode.ALLOCATION and activity.drawn_at is None
            state = SignUpState.APPLIED if allocation else SignUpState.CONFIRMED
            signup = SignUp.objects.create(
                activity=activity, applicant=applicant, user=user, house=house, size=len(people), state=state,
                priority=priority, priority_reason=reason, organiser_family=org, channel=channel,
                street_id=activity.street_id, community_id=activity.community_id, grid_id=activity.grid_id)
            Participant.objects.bulk_create([Participant(signup=signup, activity=activity, person=p, qr_token=secrets
                                                         .token_urlsafe(16)) for p in people])
            if not allocation and not _take(activity.pk, len(people)):
                state = signup.state = SignUpState.WAITING
                SignUp.objects.filter(pk=signup.pk).update(state=state)
            if audit_it:
                audit.record("sign_up", signup, user=actor or user, changes={"state": [None, state],
                                                                            "size": [None, len(people)]})
    except IntegrityError as exc:
        if "participant" not in str(exc).lower():
            raise
        raise ValidationError(_("所选参加人中已有人报名了该活动")) from None
    return signup


def _end(signup: SignUp, state: str, expected, now: dt.datetime) -> bool:
    """Conditional transition out of an active state; the places it held are given back once."""
    with transaction.atomic():
        row = SignUp.objects.filter(pk=signup.pk).values_list("state", flat=True).first()
        if row not in expected:
            return False
        if not SignUp.objects.filter(pk=signup.pk, state=row).update(state=state, ended_at=now, hold_until=None,
                                                                     version=F("version") + 1):
            return False
        Participant.objects.filter(signup=signup).update(live=False)
        if row in HOLDING:
            _give_back(signup.activity_id, signup.size)
        signup.state = state
    return True


def cancel(signup: SignUp, *, person=None, actor=None, now: dt.datetime | None = None) -> SignUp:
    """The applicant cancels (or declines an offer) until the last session starts; staff of the activity's place
    at any time. The freed places go to the waiting list."""
    now = now or timezone.now()
    staff = actor is not None and person is None and SignUp.objects.restrict(actor, "change").filter(
        pk=signup.pk).exists()
    if not staff and (person is None or signup.applicant_id != person.pk):
        raise PermissionDenied(_("只能取消本人的报名"))
    if not _end(signup, SignUpState.CANCELLED, ACTIVE, now):
        raise ValidationError(_("该报名已不在有效状态"))
    audit.record("cancel", signup, user=actor, changes={"state": ["active", SignUpState.CANCELLED]})
    offer_freed(signup.activity, now)
    return signup


def waiting_order(activity: Activity) -> list:
    """pretix's order: priority, then (when the activity prefers them) organisers' families, then time; after an
    allocation run, the run's rank (which already put organisers' families first)."""
    org = ["-organiser_family"] if activity.children_first else []
    if activity.mode == Mode.ALLOCATION:
        return [F("rank").asc(nulls_last=True), *org, "created_at", "id"]
    return ["-priority", *org, "created_at", "id"]


def offer_freed(activity: Activity, now: dt.datetime | None = None) -> list[SignUp]:
    """Free places to the waiting list in its order: a family is offered all its places or passed over for now
    (it keeps its turn; a smaller family behind it may fit); each offer holds the places ``hold_hours``."""
    from notify.services import notify

    now = now or timezone.now()
    activity = Activity.objects.get(pk=activity.pk)
    if activity.status != Status.PUBLISHED or not activity.sessions.filter(ends_at__gt=now).exists():
        return []
    offered = []
    for signup in SignUp.objects.filter(activity=activity, state=SignUpState.WAITING).order_by(
            *waiting_order(activity)).select_related("user"):
        left = Activity.objects.filter(pk=activity.pk).values_list("capacity", "taken").first()
        if left[0] - left[1] <= 0:
            break
        if signup.size > left[0] - left[1]:
            continue
        with transaction.atomic():
            if not SignUp.objects.filter(pk=signup.pk, state=SignUpState.WAITING).exists():
                continue
            if not _take(activity.pk, signup.size):
                continue
            until = hold_end(now, activity.hold_hours)
            SignUp.objects.filter(pk=signup.pk).update(state=SignUpState.OFFERED, hold_until=until,
                                                       version=F("version") + 1)
            signup.state, signup.hold_until = SignUpState.OFFERED, until
            audit.record("offer", signup, changes={"state": [SignUpState.WAITING, SignUpState.OFFERED]})
        if signup.user_id:
            t = timezone.localtime(until)
            notify([signup.user], title=_("候补有名额了：%(a)s") % {"a": activity.title},
                   body=_("为您保留%(n)d个名额至%(t)s，请在此之前确认，逾期将让给下一位。") % {
                       "n": signup.size, "t": f"{t.month}月{t.day}日 {t:%H:%M}"},
                   url="/activities/mine/", kind="activity", dedupe_key=f"activities.offer:{signup.pk}:{until:%s}")
        offered.append(signup)
    return offered


QUIET = (dt.time(22, 0), dt.time(8, 0))  # a hold never runs out while a family sleeps


def hold_end(now: dt.datetime, hours: int) -> dt.datetime:
    """``hours`` after ``now``; a hold that would end between 22:00 and 08:00 runs until 09:00 (an offer told at
    23:30 is not lost at 23:30 the next night)."""
    end = timezone.localtime(now + dt.timedelta(hours=hours))
    if end.time() >= QUIET[0] or end.time() < QUIET[1]:
        day = end.date() + (dt.timedelta(days=1) if end.time() >= QUIET[0] else dt.timedelta())
        end = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
    return end


def accept_offer(signup: SignUp, person, now: dt.datetime | None = None) -> SignUp:
    now = now or timezone.now()
    if signup.applicant_id != person.pk:
        raise PermissionDenied(_("只能确认本人的报名"))
    if not SignUp.objects.filter(pk=signup.pk, state=SignUpState.OFFERED, hold_until__gt=now).update(
            state=SignUpState.CONFIRMED, hold_until=None, version=F("version") + 1):
        raise ValidationError(_("保留已过期或已处理，名额已让给下一位"))
    signup.state = SignUpState.CONFIRMED
    audit.record("accept_offer", signup, changes={"state": [SignUpState.OFFERED, SignUpState.CONFIRMED]})
    return signup


def expire_offers(now: dt.datetime | None = None) -> int:
    """Offers whose hold passed: the places go to the next on the list (the periodic job)."""
    now = now or timezone.now()
    n = 0
    touched = set()
    for signup in SignUp.objects.filter(state=SignUpState.OFFERED, hold_until__lte=now).select_related("activity"):
        if _end(signup, SignUpState.EXPIRED, [SignUpState.OFFERED], now):
            audit.record("offer_expired", signup)
            touched.add(signup.activity_id)
            n += 1
    for activity in Activity.objects.filter(pk__in=touched):
        offer_freed(activity, now)
    return n


# --- the allocation run -------------------------------------------------------------------------------------------
def ticket(seed: str, signup_id: int) -> str:
    return hashlib.sha256(f"{seed}:{signup_id}".encode()).hexdigest()


def order(seed: str, rule: str, rows: list[tuple], organiser_first: bool = False) -> list[int]:
    """Sign-up ids in the run's order from the seed and (id, priority[, organiser's family]) tuples only: the
    lottery by ticket alone, the priority rule by priority first, then ticket. With ``organiser_first`` an
    organiser's family comes before the others (within the same priority under the priority rule)."""
    def org(x) -> int:
        return -int(bool(x[2])) if organiser_first and len(x) > 2 else 0

    if rule == AllocationRule.PRIORITY:
        return [x[0] for x in sorted(rows, key=lambda x: (-x[1], org(x), ticket(seed, x[0])))]
    return [x[0] for x in sorted(rows, key=lambda x: (org(x), ticket(seed, x[0])))]


ORGANISER_FIRST = "organiser_children_first"


def digest(rows: list[tuple], organiser_first: bool = False) -> str:
    """sha256 over "id:rank:won" lines in rank order; a run that put organisers' children first begins with the
    line "organiser_children_first" and its lines are "id:rank:won:organiser's family"."""
    ordered = sorted(rows, key=lambda x: x[1])
    if organiser_first:
        text = "\n".join([ORGANISER_FIRST, *(f"{a}:{r}:{int(bool(w))}:{int(bool(o))}" for a, r, w, o in ordered)])
    else:
        text = "\n".join(f"{x[0]}:{x[1]}:{int(bool(x[2]))}" for x in ordered)
    return hashlib.sha256(text.encode()).hexdigest()


def run_allocation(activity: Activity, *, actor=None, seed: str | None = None, now: dt.datetime | None = None,
                   notify_them: bool = True) -> Activity:
    """Once, after sign-up closes: every application gets ``sha256(seed:id)``; in that order (the priority rule:
    higher priority first) each family is confirmed while its places fit, the others go on the waiting list in
    the same order. The seed and a digest of the result are published; ``verify`` recomputes them."""
    from notify.services import notify

    now = now or timezone.now()
    if not _may(actor, activity, "allocate"):
        raise PermissionDenied(_("您没有组织该活动名额分配的权限"))
    if activity.mode != Mode.ALLOCATION:
        raise ValidationError(_("该活动是先到先得，不需要分配"))
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.drawn_at is not None:
            raise ValidationError(_("该活动已经分配过名额"))
        if locked.signup_closes and now < locked.signup_closes:
            raise ValidationError(_("报名截止后才能分配名额"))
        seed = seed or secrets.token_hex(16)
        rows = list(SignUp.objects.filter(activity=locked, state=SignUpState.APPLIED)
                    .values_list("id", "priority", "size", "user_id"))
        info = {r[0]: r for r in rows}
        first = locked.children_first
        orgs = _organiser_families(locked) if first else set()
        ranked = order(seed, locked.allocation_rule, [(r[0], r[1], r[0] in orgs) for r in rows], first)
        left = locked.capacity - locked.taken
        results = []
        for rank, sid in enumerate(ranked, start=1):
            size = info[sid][2]
            won = size <= left
            if won:
                left -= size
            results.append((sid, rank, won))
        _write_results(seed, results, orgs)
        taken = locked.capacity - left
        published = digest([(s, r, w, s in orgs) for s, r, w in results], True) if first else digest(results)
        Activity.objects.filter(pk=locked.pk).update(taken=taken, draw_seed=seed, drawn_at=now,
                                                     draw_organiser_first=first, draw_digest=published,
                                                     version=F("version") + 1)
        locked.refresh_from_db()
        audit.record("allocate", locked, user=actor, changes={"applications": [None, len(rows)],
                                                              "confirmed": [None, sum(1 for r in results if r[2])]})
    if notify_them:
        from django.contrib.auth import get_user_model

        won = {info[s][3] for s, _r, w in results if w and info[s][3]}
        lost = {info[s][3] for s, _r, w in results if not w and info[s][3]} - won
        users = get_user_model().objects
        if won:
            notify(list(users.filter(pk__in=won)), title=_("报名成功：%(a)s") % {"a": locked.title},
                   url="/activities/mine/", kind="activity", dedupe_key=f"activities.won:{locked.pk}")
        if lost:
            notify(list(users.filter(pk__in=lost)), title=_("未分配到名额，已进入候补：%(a)s") % {"a": locked.title},
                   url="/activities/mine/", kind="activity", dedupe_key=f"activities.lost:{locked.pk}")
    return locked


def _organiser_families(activity: Activity) -> set[int]:
    """The applications (ids) from an organiser's house with a child among their participants, decided at the run
    and stored on each application (the published digest carries it)."""
    day = _rule_day(activity)
    houses = organiser_houses(activity, day)
    if not houses:
        return set()
    child_born = _years_before(day, ADULT)
    return set(Participant.objects.filter(signup__activity_id=activity.pk, signup__state=SignUpState.APPLIED,
                                          signup__house_id__in=houses, person__birth_date__gt=child_born)
               .values_list("signup_id", flat=True))


def _write_results(seed: str, results: list[tuple[int, int, bool]], orgs: set[int] = frozenset()) -> None:
    """Every application's rank, ticket, state and organiser's-family mark in one UPDATE … FROM (VALUES …) per
    2,000 rows."""
    from django.db import connection

    table = SignUp._meta.db_table
    pg = connection.vendor == "postgresql"
    casts = ["::bigint", "::integer", "::varchar", "::varchar", "::boolean", "::boolean"] if pg else [""] * 6
    select = ", ".join(f"column{i + 1}{c} AS {n}" for i, (c, n) in enumerate(zip(
        casts, ["id", "rank", "ticket", "state", "won", "org"], strict=True)))
    for i in range(0, len(results), 2000):
        chunk = results[i:i + 2000]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
        params = [x for sid, rank, won in chunk for x in (
            sid, rank, ticket(seed, sid), SignUpState.CONFIRMED if won else SignUpState.WAITING, won, sid in orgs)]
        with connection.cursor() as cur:
            cur.execute(f'UPDATE {table} SET "rank" = v.rank, ticket = v.ticket, state = v.state, won = v.won, '
                        f"organiser_family = v.org, version = {table}.version + 1 "
                        f"FROM (SELECT {select} FROM (VALUES {values}) AS x) AS v WHERE {table}.id = v.id", params)


def verify(activity: Activity) -> bool:
    """Recompute the run's order from the published seed and compare with the stored ranks, tickets and digest
    (who won is fixed at the run: a later cancellation does not change the published result)."""
    rows = list(SignUp.objects.filter(activity=activity, rank__isnull=False).values_list(
        "id", "priority", "rank", "won", "ticket", "organiser_family"))
    if not rows or not activity.draw_seed:
        return False
    first = activity.draw_organiser_first
    expected = order(activity.draw_seed, activity.allocation_rule, [(i, p, o) for i, p, _r, _w, _t, o in rows],
                     first)
    ranks = {i: r for i, _p, r, _w, _t, _o in rows}
    tickets_ok = all(t == ticket(activity.draw_seed, i) for i, _p, _r, _w, t, _o in rows)
    published = digest([(i, r, w, o) for i, _p, r, w, _t, o in rows], True) if first else \
        digest([(i, r, w) for i, _p, r, w, _t, _o in rows])
    return expected == sorted(ranks, key=lambda i: ranks[i]) and tickets_ok and published == activity.draw_digest


# --- attendance ---------------------------------------------------------------------------------------------------
def _checkin_open(session: Session, now: dt.datetime) -> bool:
    return session.starts_at - CHECKIN_EARLY <= now < session.ends_at


def _record(session: Session, participants: list[Participant], state: str, *, method: str, by=None,
            now: dt.datetime) -> int:
    n = 0
    for p in participants:
        row, created = SessionAttendance.objects.get_or_create(
            session=session, participant=p, defaults={"state": state, "at": now, "method": method, "by": by})
        if not created and row.state != state:
            SessionAttendance.objects.filter(pk=row.pk).update(state=state, at=now, method=method, by=by)
        n += 1
    return n


def _confirmed(participants) -> list[Participant]:
    return [p for p in participants if p.live and p.signup.state == SignUpState.CONFIRMED]


def check_in_by_token(actor, session: Session, token: str, now: dt.datetime | None = None) -> Participant:
    """The organiser scans a participant's QR code at the door."""
    now = now or timezone.now()
    if actor is not None and not Activity.objects.restrict(actor, "checkin").filter(pk=session.activity_id).exists():
        raise PermissionDenied(_("您没有该活动的签到权限"))
    token = (token or "").strip().rsplit("/", 1)[-1]
    p = Participant.objects.filter(qr_token=token).select_related("signup", "person").first()
    if p is None or p.activity_id != session.activity_id:
        raise ValidationError(_("这个二维码不是本活动的报名码"))
    if not _confirmed([p]):
        raise ValidationError(_("该报名当前无效（%(s)s）") % {"s": p.signup.get_state_display()})
    if not _checkin_open(session, now) and now < session.starts_at:
        raise ValidationError(_("本场开始前30分钟开放签到"))
    with transaction.atomic():
        _record(session, [p], Attendance.PRESENT, method="qr", by=actor, now=now)
        audit.record("check_in", session, user=actor, changes={"participant": [None, p.pk]})
    return p


def mark(actor, session: Session, participant: Participant, state: str, now: dt.datetime | None = None) -> None:
    """The organiser's list: present, absent or excused, one tap per participant (corrections allowed)."""
    now = now or timezone.now()
    if state not in Attendance.values:
        raise ValidationError(_("出席状态无效"))
    if actor is not None and not Activity.objects.restrict(actor, "checkin").filter(pk=session.activity_id).exists():
        raise PermissionDenied(_("您没有该活动的签到权限"))
    if participant.activity_id != session.activity_id or not _confirmed([participant]):
        raise ValidationError(_("该参加人不在本活动的有效报名中"))
    if now < session.starts_at - CHECKIN_EARLY:
        raise ValidationError(_("本场开始前30分钟开放签到"))
    with transaction.atomic():
        _record(session, [participant], state, method="list", by=actor, now=now)
        audit.record("mark", session, user=actor, changes={"participant": [None, participant.pk],
                                                           "state": [None, state]})


def self_check_in(person, token: str, now: dt.datetime | None = None) -> tuple[Session, list[Participant]]:
    """The resident scans the code shown at the door (the session's): the family they signed up is checked in."""
    now = now or timezone.now()
    session = Session.objects.filter(checkin_token=token).select_related("activity").first()
    if session is None:
        raise ValidationError(_("签到码无效，请扫描现场出示的二维码"))
    if not _checkin_open(session, now):
        t = timezone.localtime(session.starts_at)
        raise ValidationError(_("签到时间为开始前30分钟至结束（本场开始于%(t)s）") % {
            "t": f"{t.month}月{t.day}日 {t:%H:%M}"})
    mine = _confirmed(Participant.objects.filter(activity=session.activity, signup__applicant=person, live=True)
                      .select_related("signup", "person"))
    if not mine:
        raise ValidationError(_("您没有本活动的有效报名"))
    with transaction.atomic():
        _record(session, mine, Attendance.PRESENT, method="self", now=now)
        audit.record("self_check_in", session, changes={"participants": [None, len(mine)]})
    return session, mine


def check_in(actor, session: Session, participant: Participant, now: dt.datetime | None = None) -> None:
    mark(actor, session, participant, Attendance.PRESENT, now)


def close_roll(actor, session: Session, now: dt.datetime | None = None) -> int:
    """After the session: everyone confirmed without a record is a no-show (absent)."""
    now = now or timezone.now()
    if actor is not None and not Activity.objects.restrict(actor, "checkin").filter(pk=session.activity_id).exists():
        raise PermissionDenied(_("您没有该活动的签到权限"))
    if now < session.starts_at:
        raise ValidationError(_("本场尚未开始，不能结束点名"))
    with transaction.atomic():
        seen = SessionAttendance.objects.filter(session=session).values("participant_id")
        missing = list(Participant.objects.filter(activity_id=session.activity_id, live=True,
                                                  signup__state=SignUpState.CONFIRMED).exclude(pk__in=seen))
        SessionAttendance.objects.bulk_create([SessionAttendance(session=session, participant=p,
                                                                 state=Attendance.ABSENT, at=now, method="roll",
                                                                 by=actor) for p in missing])
        Session.objects.filter(pk=session.pk).update(closed_at=now, version=F("version") + 1)
        audit.record("close_roll", session, user=actor, changes={"absent": [None, len(missing)]})
    return len(missing)


def attended(participant: Participant) -> int:
    return SessionAttendance.objects.filter(participant=participant, state=Attendance.PRESENT).count()


def certificate_eligible(participant: Participant) -> bool:
    n = participant.activity.certificate_min
    return n > 0 and attended(participant) >= n


def attendance_figures(activity: Activity) -> dict:
    """The brief's figures: sign-ups, participants, sessions held, attendance rate, no-shows, by community."""
    from places.models import Community

    participants = Participant.objects.filter(activity=activity, live=True, signup__state=SignUpState.CONFIRMED)
    sessions = list(activity.sessions.all())
    held = [s for s in sessions if s.starts_at <= timezone.now()]
    rows = SessionAttendance.objects.filter(session__activity=activity)
    present = rows.filter(state=Attendance.PRESENT).count()
    absent = rows.filter(state=Attendance.ABSENT).count()
    expected = participants.count() * len(held)
    by_comm: dict[int, int] = {}
    for cid in participants.values_list("person__community_id", flat=True):
        by_comm[cid] = by_comm.get(cid, 0) + 1
    names = dict(Community.objects.filter(pk__in=[c for c in by_comm if c]).values_list("pk", "name"))
    n = activity.certificate_min
    certs = 0
    if n:
        from django.db.models import Count

        certs = (SessionAttendance.objects.filter(session__activity=activity, state=Attendance.PRESENT,
                                                  participant__live=True).values("participant_id")
                 .annotate(c=Count("id")).filter(c__gte=n).count())
    return {
        "signups": SignUp.objects.filter(activity=activity, state=SignUpState.CONFIRMED).count(),
        "participants": participants.count(),
        "waiting": SignUp.objects.filter(activity=activity, state__in=[SignUpState.WAITING,
                                                                       SignUpState.OFFERED]).count(),
        "sessions": len(sessions), "held": len(held), "present": present, "absent": absent,
        "rate": round(100 * present / expected) if expected else None,
        "certificates": certs,
        "by_community": sorted(((names.get(c, _("其他")), k) for c, k in by_comm.items()), key=lambda x: -x[1]),
    }


def send_reminders(now: dt.datetime | None = None, ahead: dt.timedelta = dt.timedelta(hours=24)) -> int:
    """The day before a session: its confirmed applicants with an account are reminded once (the inbox; an
    SMS backend sends the same text when one is configured for notifications)."""
    from notify.services import notify

    now = now or timezone.now()
    n = 0
    for session in Session.objects.filter(starts_at__gt=now, starts_at__lte=now + ahead,
                                          activity__status=Status.PUBLISHED).select_related("activity"):
        users = list({s.user for s in SignUp.objects.filter(activity=session.activity, state=SignUpState.CONFIRMED,
                                                             user__isnull=False).select_related("user")})
        t = timezone.localtime(session.starts_at)
        n += len(notify(users, title=_("活动提醒：%(a)s") % {"a": session.activity.title},
                        body=_("第%(n)d场 %(t)s，地点：%(p)s。请带好报名二维码。") % {
                            "n": session.number, "t": f"{t.month}月{t.day}日 {t:%H:%M}", "p": session.place},
                        url="/activities/mine/", kind="activity", dedupe_key=f"activities.remind:{session.pk}"))
    return n
