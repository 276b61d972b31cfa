"""Every write of the volunteer service: volunteers and teams (1+1+N), tasks and shifts (weekly repeats), sign-up,
withdrawal, substitutes, reminders, check-in and check-out (the organiser's list, or the volunteer's phone at the
shift's QR), verification into the ledger (once), corrections (reversing transfers), points spent on a community
service (a booking through ``resources.services.book`` in the same transaction), and an opinion collected on a
shift into a case (``cases.services.report``), or into the open case about the same matter (``cases.dedup``).

Each write is one transaction, scope-checked and audited (``core.audit``). Refusals are ValidationErrors in plain
Chinese; acting outside one's places is a PermissionDenied."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import pgettext, pgettext_lazy

from core import audit
from core.scope import scope_for
from core.services import require_on
from volunteers import ledger
from volunteers.choices import LIVE_SIGNUPS, Role, SignupState, TaskKind, TeamKind, TransferKind, Unit
from volunteers.models import (
    ZERO,
    Membership,
    Movement,
    Opinion,
    Reward,
    Shift,
    Signup,
    Task,
    Team,
    Transfer,
    Volunteer,
)

__all__ = ["CHECKIN_EARLY", "ShapeReport", "add_member", "add_shifts", "ask_substitute", "check_in",
           "check_in_by_qr", "check_out", "collect_opinion", "correct", "create_task", "create_team", "honour_list",
           "measured_hours", "register_volunteer", "send_reminders", "sign_up", "spend", "star_level", "take_over",
           "team_shape", "verify", "withdraw"]

CHECKIN_EARLY = dt.timedelta(minutes=30)  # a check-in opens half an hour before the shift
CHECKOUT_LATE = dt.timedelta(hours=3)  # and check-out closes three hours after it ends
QUARTER = Decimal("0.25")
STARS = [(1500, pgettext_lazy("volunteers", "五星志愿者")), (1000, pgettext_lazy("volunteers", "四星志愿者")),
         (600, pgettext_lazy("volunteers", "三星志愿者")), (300, pgettext_lazy("volunteers", "二星志愿者")),
         (100, pgettext_lazy("volunteers", "一星志愿者"))]  # 中国志愿服务星级 (cumulative verified hours)


def V(text: str) -> str:
    return pgettext("volunteers", text)


def _may(user, obj, action: str) -> bool:
    return type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()


def _local_day(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


# --- volunteers and teams ------------------------------------------------------------------------------------------
def _next_number() -> str:
    last = Volunteer._base_manager.order_by("-id").values_list("number", flat=True).first() or "HT0000"
    digits = "".join(ch for ch in last if ch.isdigit()) or "0"
    return f"HT{int(digits) + 1:04d}"


def register_volunteer(actor, person, *, enterprise=None, skills=(), available_days: str = "", user=None,
                       joined_on: dt.date | None = None) -> Volunteer:
    """A registry person (of the actor's places) becomes a volunteer, placed where they live, or where their
    enterprise is when they volunteer as its employee."""
    from people.models import Person

    if actor is not None:
        if not Person.objects.restrict(actor, "view").filter(pk=person.pk).exists():
            raise PermissionDenied(pgettext("volunteers", "该人员不在您的管辖范围内"))
        if not scope_for(actor).has("volunteers.add_volunteer"):
            raise PermissionDenied(pgettext("volunteers", "您没有登记志愿者的权限"))
    place = enterprise if enterprise is not None else person
    if place.grid_id is None:
        raise ValidationError(pgettext("volunteers", "该人员没有现住地址，请先登记居住信息或所在企业"))
    if Volunteer._base_manager.filter(person=person).exists():
        raise ValidationError(pgettext("volunteers", "此人已经是登记的志愿者"))
    days = "".join(sorted({d for d in str(available_days or "") if d in "1234567"}))
    from volunteers.choices import Skill

    skills = [s for s in skills if s in Skill.values]
    for _attempt in range(5):
        try:
            with transaction.atomic():
                v = Volunteer(person=person, enterprise=enterprise, user=user, number=_next_number(),
                              skills=skills, available_days=days, joined_on=joined_on or timezone.localdate(),
                              grid_id=place.grid_id, community_id=place.community_id, street_id=place.street_id)
                v.save()
                if actor is not None and not _may(actor, v, "view"):
                    raise PermissionDenied(pgettext("volunteers", "该志愿者不在您的管辖范围内"))
                audit.record("create", v, user=actor, fields=["person", "skills", "available_days"])
                return v
        except IntegrityError:
            if Volunteer._base_manager.filter(person=person).exists():
                raise ValidationError(pgettext("volunteers", "此人已经是登记的志愿者")) from None
            continue
    raise ValidationError(pgettext("volunteers", "志愿者编号分配冲突，请重试"))


def create_team(actor, grid, name: str, *, kind: str = TeamKind.BRANCH, motto: str = "") -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [pgettext("volunteers", "请填写队伍名称")]})
    if actor is not None and not scope_for(actor).has("volunteers.add_team"):
        raise PermissionDenied(pgettext("volunteers", "您没有新建队伍的权限"))
    with transaction.atomic():
        team = Team(name=name[:64], kind=kind, motto=motto[:100])
        team.place_from_grid(grid)
        try:
            with transaction.atomic():
                team.save()
        except IntegrityError:
            raise ValidationError({"name": [pgettext("volunteers", "本网格已有同名队伍")]}) from None
        if actor is not None and not _may(actor, team, "add"):
            raise PermissionDenied(pgettext("volunteers", "该网格不在您的管辖范围内"))
        audit.record("create", team, user=actor, fields=["name", "kind", "grid"])
    return team


def add_member(actor, team: Team, volunteer: Volunteer, role: str = Role.MEMBER) -> Membership:
    """Put a volunteer in a team; a team holds one secretary and one grid worker at most (the database refuses a
    second)."""
    if role not in Role.values:
        raise ValidationError({"role": [pgettext("volunteers", "队内角色无效")]})
    if actor is not None:
        require_on(actor, team, "change")
    with transaction.atomic():
        try:
            with transaction.atomic():
                m = Membership.objects.create(team=team, volunteer=volunteer, role=role)
        except IntegrityError:
            if Membership.objects.filter(team=team, volunteer=volunteer).exists():
                raise ValidationError(pgettext("volunteers", "这位志愿者已经在本队")) from None
            raise ValidationError(pgettext("volunteers", "本队已有%(r)s：“1+1+N”每队只有一名支部书记、一名网格员")
                                  % {"r": Role(role).label}) from None
        audit.record("add_member", team, user=actor, changes={"volunteer": [None, volunteer.number],
                                                              "role": [None, role]})
    return m


@dataclass
class ShapeReport:
    secretary: Membership | None
    grid_worker: Membership | None
    members: list
    problems: list

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def label(self) -> str:
        return f"{1 if self.secretary else 0}+{1 if self.grid_worker else 0}+{len(self.members)}"


def team_shape(team: Team, memberships=None) -> ShapeReport:
    """Whether a grid action branch has its "1+1+N": a secretary, a grid worker, at least one volunteer."""
    rows = list(memberships if memberships is not None else
                team.memberships.select_related("volunteer__person").order_by("role", "id"))
    sec = next((m for m in rows if m.role == Role.SECRETARY), None)
    gw = next((m for m in rows if m.role == Role.GRID_WORKER), None)
    members = [m for m in rows if m.role == Role.MEMBER]
    problems = []
    if team.kind == TeamKind.BRANCH:
        if sec is None:
            problems.append(pgettext("volunteers", "缺支部书记"))
        if gw is None:
            problems.append(pgettext("volunteers", "缺网格员"))
        if not members:
            problems.append(pgettext("volunteers", "还没有志愿者"))
    return ShapeReport(sec, gw, members, problems)


# --- tasks and shifts ----------------------------------------------------------------------------------------------
def create_task(actor, *, grid, title: str, kind: str = TaskKind.OTHER, team: Team | None = None,
                description: str = "", location: str = "", points_per_hour: int = 10, mediation=None,
                organiser=None) -> Task:
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [pgettext("volunteers", "请填写任务名称")]
    if kind not in TaskKind.values:
        errors["kind"] = [pgettext("volunteers", "任务类型无效")]
    if not 0 <= int(points_per_hour) <= 100:
        errors["points_per_hour"] = [pgettext("volunteers", "每小时积分应在0到100之间")]
    if team is not None and team.grid_id != grid.pk:
        errors["team"] = [pgettext("volunteers", "队伍不属于这个网格")]
    if errors:
        raise ValidationError(errors)
    if actor is not None and not scope_for(actor).has("volunteers.add_task"):
        raise PermissionDenied(pgettext("volunteers", "您没有发布志愿任务的权限"))
    with transaction.atomic():
        task = Task(title=title[:100], kind=kind, team=team, description=description or "",
                    location=(location or "")[:100], points_per_hour=int(points_per_hour), mediation=mediation,
                    organiser=organiser or actor)
        task.place_from_grid(grid)
        task.save()
        if actor is not None and not _may(actor, task, "add"):
            raise PermissionDenied(pgettext("volunteers", "该网格不在您的管辖范围内"))
        audit.record("create", task, user=actor, fields=["title", "kind", "grid"])
    return task


def add_shifts(actor, task: Task, starts_at: dt.datetime, ends_at: dt.datetime, *, capacity: int = 3,
               weekly_until: dt.date | None = None, session=None) -> list[Shift]:
    """One shift, or the same time every week until ``weekly_until`` (a recurring shift; one series)."""
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [pgettext("volunteers", "结束时间要晚于开始时间")]})
    if ends_at - starts_at > dt.timedelta(hours=12):
        raise ValidationError({"ends_at": [pgettext("volunteers", "一个班次不能超过12小时")]})
    if not 1 <= int(capacity) <= 200:
        raise ValidationError({"capacity": [pgettext("volunteers", "需要人数应在1到200之间")]})
    if actor is not None:
        require_on(actor, task, "change")
    starts = [starts_at]
    if weekly_until is not None:
        if weekly_until > _local_day(starts_at) + dt.timedelta(days=366):
            raise ValidationError({"weekly_until": [pgettext("volunteers", "每周重复最多一年")]})
        t = starts_at + dt.timedelta(days=7)
        while _local_day(t) <= weekly_until:
            starts.append(t)
            t += dt.timedelta(days=7)
    series = secrets.token_hex(6) if len(starts) > 1 else ""
    length = ends_at - starts_at
    with transaction.atomic():
        shifts = []
        for s in starts:
            # the same wall-clock time every week (a change to or from summer time keeps 09:00)
            local = timezone.localtime(s)
            s = timezone.make_aware(dt.datetime.combine(local.date(), timezone.localtime(starts_at).time()))
            sh = Shift(task=task, starts_at=s, ends_at=s + length, capacity=int(capacity), series=series,
                       session=session, grid_id=task.grid_id, community_id=task.community_id,
                       street_id=task.street_id)
            shifts.append(sh)
        Shift.objects.bulk_create(shifts)
        audit.record("add_shifts", task, user=actor, changes={"shifts": [None, len(shifts)]})
    return shifts


# --- sign-up, withdrawal, substitutes, reminders ------------------------------------------------------------------
def _label(shift: Shift) -> str:
    start = timezone.localtime(shift.starts_at)
    return f"{shift.task.title}（{start.month}月{start.day}日 {start:%H:%M}）"


def sign_up(volunteer: Volunteer, shift: Shift, *, actor=None, now: dt.datetime | None = None) -> Signup:
    """A place on the shift, if one is left (``taken`` moves by a conditional UPDATE: never above capacity)."""
    now = now or timezone.now()
    if actor is not None:
        require_on(actor, shift, "view")
    if not volunteer.is_active:
        raise ValidationError(pgettext("volunteers", "该志愿者已不在册"))
    if shift.starts_at <= now:
        raise ValidationError(pgettext("volunteers", "该班次已经开始，不能再报名"))
    with transaction.atomic():
        if Signup.objects.filter(shift=shift, volunteer=volunteer, state__in=LIVE_SIGNUPS).exists():
            raise ValidationError(pgettext("volunteers", "您已报名这个班次"))
        clash = Signup.objects.filter(volunteer=volunteer, state__in=LIVE_SIGNUPS, shift__starts_at__lt=shift.ends_at,
                                      shift__ends_at__gt=shift.starts_at).exclude(shift=shift).first()
        if clash is not None:
            raise ValidationError(pgettext("volunteers", "与您已报名的“%(s)s”时间冲突") % {"s": _label(clash.shift)})
        if not Shift.objects.filter(pk=shift.pk, taken__lt=F("capacity")).update(taken=F("taken") + 1):
            raise ValidationError(pgettext("volunteers", "这个班次已经报满了"))
        try:
            with transaction.atomic():
                s = Signup.objects.create(shift=shift, volunteer=volunteer, grid_id=shift.grid_id,
                                          community_id=shift.community_id, street_id=shift.street_id)
        except IntegrityError:
            raise ValidationError(pgettext("volunteers", "您已报名这个班次")) from None
        audit.record("sign_up", s, user=actor or volunteer.user)
    return s


def _live(signup: Signup) -> None:
    if signup.state != SignupState.SIGNED:
        raise ValidationError(pgettext("volunteers", "这个报名已经取消或已由他人替班"))


def withdraw(signup: Signup, *, actor=None, now: dt.datetime | None = None) -> Signup:
    now = now or timezone.now()
    _live(signup)
    if signup.shift.starts_at <= now:
        raise ValidationError(pgettext("volunteers", "班次已经开始，不能取消；如不能到场请联系组织者"))
    with transaction.atomic():
        if not Signup.objects.filter(pk=signup.pk, state=SignupState.SIGNED).update(
                state=SignupState.WITHDRAWN, wants_substitute=False, version=F("version") + 1):
            raise ValidationError(pgettext("volunteers", "这个报名已经取消或已由他人替班"))
        Shift.objects.filter(pk=signup.shift_id, taken__gt=0).update(taken=F("taken") - 1)
        audit.record("withdraw", signup, user=actor or signup.volunteer.user)
    signup.state = SignupState.WITHDRAWN
    return signup


def substitute_candidates(signup: Signup) -> list[Volunteer]:
    """Who is asked to take a place over: the team's volunteers (else the grid's) with an account, free that
    weekday when they said so, not already on the shift."""
    shift = signup.shift
    on_shift = Signup.objects.filter(shift=shift, state__in=LIVE_SIGNUPS).values("volunteer_id")
    qs = Volunteer.objects.filter(is_active=True, user__isnull=False).exclude(pk__in=on_shift)
    if shift.task.team_id:
        qs = qs.filter(memberships__team_id=shift.task.team_id)
    else:
        qs = qs.filter(grid_id=shift.grid_id)
    day = str(timezone.localtime(shift.starts_at).isoweekday())
    return [v for v in qs.select_related("user") if not v.available_days or day in v.available_days]


def ask_substitute(signup: Signup, *, actor=None, now: dt.datetime | None = None) -> int:
    """The volunteer cannot come: their place is offered to the candidates (notified); it stays theirs until
    someone takes it over. Returns how many were asked."""
    from django.urls import reverse

    from notify.services import notify

    now = now or timezone.now()
    _live(signup)
    if signup.shift.starts_at <= now:
        raise ValidationError(pgettext("volunteers", "班次已经开始，不能再请人替班"))
    with transaction.atomic():
        Signup.objects.filter(pk=signup.pk).update(wants_substitute=True, version=F("version") + 1)
        signup.wants_substitute = True
        users = [v.user for v in substitute_candidates(signup)]
        organiser = signup.shift.task.organiser
        notify(users, title=pgettext("volunteers", "请帮忙替班：%(s)s") % {"s": _label(signup.shift)},
               body=pgettext("volunteers", "原报名的志愿者不能到场，点开即可接替这个班次。"),
               url=reverse("volunteers:take", args=[signup.pk]), dedupe_key=f"volunteers:sub:{signup.pk}")
        if organiser is not None:
            notify([organiser], title=pgettext("volunteers", "志愿者请人替班：%(s)s") % {"s": _label(signup.shift)},
                   url=reverse("volunteers:shift", args=[signup.shift_id]),
                   dedupe_key=f"volunteers:sub-org:{signup.pk}")
        audit.record("ask_substitute", signup, user=actor or signup.volunteer.user,
                     changes={"asked": [None, len(users)]})
    return len(users)


def take_over(volunteer: Volunteer, signup: Signup, *, now: dt.datetime | None = None) -> Signup:
    """The substitute takes the place: the original sign-up becomes 已由他人替班, a new one is the substitute's
    (the shift's count unchanged). Only one substitute wins (a conditional update)."""
    now = now or timezone.now()
    if not signup.wants_substitute or signup.state != SignupState.SIGNED:
        raise ValidationError(pgettext("volunteers", "这个班次已经有人替班，或不再需要替班"))
    if signup.volunteer_id == volunteer.pk:
        raise ValidationError(pgettext("volunteers", "不能替自己的班"))
    if signup.shift.starts_at <= now:
        raise ValidationError(pgettext("volunteers", "班次已经开始，不能再替班"))
    shift = signup.shift
    with transaction.atomic():
        if Signup.objects.filter(shift=shift, volunteer=volunteer, state__in=LIVE_SIGNUPS).exists():
            raise ValidationError(pgettext("volunteers", "您已报名这个班次"))
        if not Signup.objects.filter(pk=signup.pk, state=SignupState.SIGNED, wants_substitute=True).update(
                state=SignupState.REPLACED, wants_substitute=False, version=F("version") + 1):
            raise ValidationError(pgettext("volunteers", "这个班次已经有人替班，或不再需要替班"))
        new = Signup.objects.create(shift=shift, volunteer=volunteer, substitute_for=signup, grid_id=shift.grid_id,
                                    community_id=shift.community_id, street_id=shift.street_id)
        audit.record("take_over", new, user=volunteer.user, changes={"replaces": [None, signup.pk]})
        from notify.services import notify

        if signup.volunteer.user_id:
            notify([signup.volunteer.user], title=pgettext("volunteers", "已有人替班：%(s)s") % {"s": _label(shift)},
                   body=pgettext("volunteers", "%(n)s接替了您的班次。") % {"n": volunteer.person.name})
    signup.state = SignupState.REPLACED
    return new


def send_reminders(now: dt.datetime | None = None, ahead: dt.timedelta = dt.timedelta(hours=24)) -> int:
    """The volunteers of shifts starting within ``ahead`` get one reminder each (periodic, every 15 minutes)."""
    from django.urls import reverse

    from notify.services import notify

    now = now or timezone.now()
    due = (Signup.objects.filter(state=SignupState.SIGNED, reminded_at__isnull=True, shift__starts_at__gt=now,
                                 shift__starts_at__lte=now + ahead, volunteer__user__isnull=False)
           .select_related("shift__task", "volunteer__user"))
    sent = 0
    for s in due:
        if not Signup.objects.filter(pk=s.pk, reminded_at__isnull=True).update(reminded_at=now):
            continue
        where = s.shift.task.location
        notify([s.volunteer.user], title=pgettext("volunteers", "志愿服务提醒：%(s)s") % {"s": _label(s.shift)},
               body=(pgettext("volunteers", "地点：%(p)s。") % {"p": where} if where else "")
               + pgettext("volunteers", "到场后扫现场二维码签到。"),
               url=reverse("volunteers:me"), dedupe_key=f"volunteers:remind:{s.pk}")
        sent += 1
    return sent


# --- check-in, check-out, hours -----------------------------------------------------------------------------------
def _check_actor(actor, signup: Signup) -> None:
    if actor is not None and actor != signup.volunteer.user:
        require_on(actor, signup, "change")


def check_in(signup: Signup, *, actor=None, method: str = "list", now: dt.datetime | None = None) -> Signup:
    """Check in (from half an hour before the shift until it ends); ``actor`` the organiser ticking the list, or
    the volunteer themself (their phone)."""
    now = now or timezone.now()
    _check_actor(actor, signup)
    _live(signup)
    shift = signup.shift
    if now < shift.starts_at - CHECKIN_EARLY:
        start = timezone.localtime(shift.starts_at)
        message = pgettext("volunteers", "还没到签到时间：%(t)s开始，提前30分钟可以签到")
        raise ValidationError(message % {"t": f"{start:%H:%M}"})
    if now > shift.ends_at:
        raise ValidationError(pgettext("volunteers", "班次已经结束，不能再签到；请联系组织者补录"))
    with transaction.atomic():
        if not Signup.objects.filter(pk=signup.pk, checked_in_at__isnull=True).update(
                checked_in_at=now, check_method=method[:8], version=F("version") + 1):
            raise ValidationError(pgettext("volunteers", "已经签到过了"))
        audit.record("check_in", signup, user=actor, changes={"method": [None, method]})
    signup.checked_in_at, signup.check_method = now, method
    return signup


def check_in_by_qr(token: str, volunteer: Volunteer, *, now: dt.datetime | None = None) -> Signup:
    """The volunteer scans the QR at the place: their sign-up of that shift is checked in (or, when already in,
    checked out)."""
    shift = Shift.objects.filter(qr_token=str(token)[:32]).select_related("task").first()
    if shift is None:
        raise ValidationError(pgettext("volunteers", "二维码无效，请扫描现场张贴的签到码"))
    signup = Signup.objects.filter(shift=shift, volunteer=volunteer, state=SignupState.SIGNED).first()
    if signup is None:
        raise ValidationError(pgettext("volunteers", "您没有报名这个班次，请先报名或联系组织者"))
    if signup.checked_in_at is None:
        return check_in(signup, actor=volunteer.user, method="qr", now=now)
    return check_out(signup, actor=volunteer.user, now=now)


def measured_hours(signup: Signup) -> Decimal:
    """The hours inside the shift between check-in and check-out, rounded down to a quarter hour."""
    if signup.checked_in_at is None or signup.checked_out_at is None:
        return ZERO
    shift = signup.shift
    start = max(signup.checked_in_at, shift.starts_at)
    end = min(signup.checked_out_at, shift.ends_at)
    if end <= start:
        return ZERO
    hours = Decimal((end - start).total_seconds()) / Decimal(3600)
    return ((hours / QUARTER).to_integral_value(rounding=ROUND_DOWN) * QUARTER).quantize(Decimal("0.01"))


def check_out(signup: Signup, *, actor=None, now: dt.datetime | None = None) -> Signup:
    now = now or timezone.now()
    _check_actor(actor, signup)
    _live(signup)
    if signup.checked_in_at is None:
        raise ValidationError(pgettext("volunteers", "还没有签到，不能签退"))
    if now > signup.shift.ends_at + CHECKOUT_LATE:
        raise ValidationError(pgettext("volunteers", "签退时间已过，请联系组织者核定时长"))
    with transaction.atomic():
        if not Signup.objects.filter(pk=signup.pk, checked_out_at__isnull=True).update(
                checked_out_at=now, version=F("version") + 1):
            raise ValidationError(pgettext("volunteers", "已经签退过了"))
        signup.checked_out_at = now
        hours = measured_hours(signup)
        Signup.objects.filter(pk=signup.pk).update(hours=hours)
        signup.hours = hours
        audit.record("check_out", signup, user=actor, changes={"hours": [None, str(hours)]})
    return signup


# --- verification and the ledger ------------------------------------------------------------------------------------
def _clean_hours(hours) -> Decimal:
    try:
        value = Decimal(str(hours)).quantize(Decimal("0.01"))
    except Exception:  # noqa: BLE001 (any malformed number)
        raise ValidationError({"hours": [pgettext("volunteers", "时长请填写数字，例如 2.5")]}) from None
    if not ZERO < value <= Decimal(24):
        raise ValidationError({"hours": [pgettext("volunteers", "时长应大于0且不超过24小时")]})
    return value


def _earn_legs(signup: Signup, hours: Decimal) -> list:
    from places.models import Community

    community = Community.objects.get(pk=signup.community_id)
    points = (hours * signup.shift.task.points_per_hour).quantize(Decimal("0.01"))
    legs = [(ledger.issuer_account(community, Unit.HOURS), -hours),
            (ledger.volunteer_account(signup.volunteer, Unit.HOURS), hours)]
    if points:
        legs += [(ledger.issuer_account(community, Unit.POINTS), -points),
                 (ledger.volunteer_account(signup.volunteer, Unit.POINTS), points)]
    return legs


def _earn(signup: Signup, hours: Decimal, key: str, actor, memo: str) -> Transfer:
    transfer, _created = ledger.post(TransferKind.EARN, key, _earn_legs(signup, hours), signup=signup, user=actor,
                                     occurred_on=_local_day(signup.shift.starts_at), memo=memo)
    return transfer


def verify(actor, signup: Signup, *, hours=None, now: dt.datetime | None = None) -> Transfer:
    """The organiser confirms the hours (the measured ones, or ``hours``): one transfer into the ledger, hours and
    the points they earn. Idempotent: verifying again returns the same transfer and pays nothing."""
    now = now or timezone.now()
    if actor is not None:
        require_on(actor, signup, "verify", pgettext("volunteers", "您没有核定志愿服务时长的权限"))
    if signup.verified_at is not None:
        return Transfer.objects.filter(signup=signup, kind=TransferKind.EARN).order_by("id").first()
    if signup.state != SignupState.SIGNED:
        raise ValidationError(pgettext("volunteers", "这个报名已经取消或已由他人替班"))
    if signup.checked_out_at is None:
        raise ValidationError(pgettext("volunteers", "志愿者还没有签到和签退，不能核定"))
    value = _clean_hours(hours if hours not in (None, "") else (signup.hours or ZERO))
    with transaction.atomic():
        if not Signup.objects.filter(pk=signup.pk, verified_at__isnull=True).update(
                verified_at=now, verified_by=actor, verified_hours=value, version=F("version") + 1):
            return Transfer.objects.filter(signup=signup, kind=TransferKind.EARN).order_by("id").first()
        transfer = _earn(signup, value, f"earn:{signup.pk}", actor,
                         pgettext("volunteers", "核定：%(s)s %(h)s小时") % {"s": _label(signup.shift), "h": value})
        audit.record("verify", signup, user=actor, changes={"hours": [str(signup.hours), str(value)]})
    signup.verified_at, signup.verified_hours = now, value
    return transfer


def live_earn(signup: Signup) -> Transfer | None:
    """The sign-up's earning transfer that no correction has reversed (the last one)."""
    return (Transfer.objects.filter(signup=signup, kind=TransferKind.EARN, reversed_by__isnull=True)
            .order_by("-id").first())


def correct(actor, signup: Signup, *, hours=None, reason: str = "") -> tuple[Transfer, Transfer | None]:
    """A verified sign-up's hours were wrong: the earning is reversed by a new transfer and, with ``hours``, the
    right one is entered (never an edit)."""
    if actor is not None:
        require_on(actor, signup, "verify", pgettext("volunteers", "您没有核定志愿服务时长的权限"))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [pgettext("volunteers", "请写明更正原因")]})
    value = _clean_hours(hours) if hours not in (None, "") else None
    with transaction.atomic():
        Signup.objects.select_for_update().filter(pk=signup.pk).first()
        current = live_earn(signup)
        if current is None:
            raise ValidationError(pgettext("volunteers", "这个报名没有可更正的核定记录"))
        from core.sealed import mask_text

        memo = mask_text(reason)[:150]
        reversal = ledger.reverse(current, user=actor, memo=pgettext("volunteers", "更正：%(r)s") % {"r": memo})
        new = None
        if value is not None:
            n = Transfer.objects.filter(signup=signup, kind=TransferKind.EARN).count()
            new = _earn(signup, value, f"earn:{signup.pk}:{n}", actor,
                        pgettext("volunteers", "更正后核定：%(h)s小时（%(r)s）") % {"h": value, "r": memo})
        Signup.objects.filter(pk=signup.pk).update(verified_hours=value, version=F("version") + 1)
        signup.verified_hours = value
        audit.record("correct", signup, user=actor, changes={"hours": [str(current.pk), str(value)]}, purpose=memo)
    return reversal, new


def spend(volunteer: Volunteer, reward: Reward, day: dt.date, *, user=None, now: dt.datetime | None = None):
    """Points spent on a community service: the booking (``resources.services.book``, a daily place) and the
    transfer of the points are written together or not at all. Returns ``(booking, transfer)``."""
    from resources import services as res

    now = now or timezone.now()
    if not reward.is_active:
        raise ValidationError(pgettext("volunteers", "该兑换服务已停用"))
    if reward.street_id != volunteer.street_id:
        raise ValidationError(pgettext("volunteers", "只能兑换本街道的服务"))
    start = timezone.make_aware(dt.datetime.combine(day, reward.resource.opens_at))
    with transaction.atomic():
        account = ledger.volunteer_account(volunteer, Unit.POINTS)
        # one spender at a time per account (the balance read below stays true until commit)
        type(account).objects.select_for_update().filter(pk=account.pk).first()
        have = ledger.balance(account)
        if have < reward.points:
            message = pgettext("volunteers", "积分不足：需要%(n)s分，您现有%(h)s分")
            raise ValidationError(message % {"n": reward.points, "h": _num(have)})
        booking = res.book(volunteer.person, reward.resource, start, user=user, channel="points", now=now)
        transfer, _created = ledger.post(
            TransferKind.SPEND, f"spend:{booking.pk}",
            [(account, -Decimal(reward.points)), (ledger.service_account(reward), Decimal(reward.points))],
            booking=booking, user=user, occurred_on=day,
            memo=pgettext("volunteers", "积分兑换：%(r)s") % {"r": reward.name})
        audit.record("spend", volunteer, user=user, changes={"points": [None, reward.points],
                                                              "booking": [None, booking.pk]})
    return booking, transfer


def _num(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():f}"


# --- an opinion collected on a shift ---------------------------------------------------------------------------------
JOIN_SCORE = 0.45  # a suggestion this similar is the same matter (cases suggests from 0.25)


def collect_opinion(signup: Signup, text: str, *, category, title: str = "", place=None, user=None) -> Opinion:
    """An opinion a volunteer collected (or a dispute they helped with) on their shift becomes a case, or joins the
    open case about the same matter nearby (``cases.dedup.suggest``, score ≥ 0.5)."""
    from cases import dedup
    from cases import services as cases_services
    from cases.models import Case, CaseCategory

    text = (text or "").strip()
    if len(text) < 4:
        raise ValidationError({"text": [pgettext("volunteers", "请把居民反映的情况写清楚（至少4个字）")]})
    if isinstance(category, str):
        category = CaseCategory.objects.filter(code=category, is_active=True).first()
    if category is None:
        raise ValidationError({"category": [pgettext("volunteers", "请选择意见的类别")]})
    if signup.state != SignupState.SIGNED or signup.checked_in_at is None:
        raise ValidationError(pgettext("volunteers", "签到后才能记录在班次中收集的意见"))
    if user is not None and user != signup.volunteer.user:
        require_on(user, signup, "view")
    place = place or _shift_place(signup.shift)
    title = (title or text.splitlines()[0])[:60]
    compound_id = getattr(place, "compound_id", None) or (place.pk if type(place).__name__ == "Compound" else None)
    building_id = getattr(place, "building_id", None) or (place.pk if type(place).__name__ == "Building" else None)
    with transaction.atomic():
        found = dedup.suggest(category_id=category.pk, text=f"{title} {text}", building_id=building_id,
                              compound_id=compound_id, lat=getattr(place, "lat", None), lng=getattr(place, "lng", None))
        same = next((c for c, score in found if score >= JOIN_SCORE), None)
        if same is not None:
            case, joined = Case._base_manager.get(pk=same.pk), True
        else:
            staff = user is not None and scope_for(user).has("cases.add_case")
            case = cases_services.report(
                user if staff else None, channel="worker" if staff else "walk_in", category=category, title=title,
                description=f"{text}\n" + pgettext("volunteers", "（志愿者在志愿服务中收集）"),
                place=place, reporter_name=signup.volunteer.person.name,
                reporter_account=None if staff else signup.volunteer.user)
            joined = False
        op = Opinion(signup=signup, text=text, case=case, joined=joined, grid_id=signup.grid_id,
                     community_id=signup.community_id, street_id=signup.street_id)
        op.save()
        audit.record("collect_opinion", op, user=user, changes={"case": [None, case.number], "joined": [None, joined]})
    return op


def _shift_place(shift: Shift):
    """Where a shift's opinion happened: the mediation's case place, else the grid's first compound, else the grid."""
    from places.models import Compound, Grid

    med = shift.task.mediation
    if med is not None and med.case.house_id:
        return med.case.house
    return Compound.objects.filter(grid_id=shift.grid_id).order_by("id").first() or Grid.objects.get(pk=shift.grid_id)


# --- honour lists and the certificate ---------------------------------------------------------------------------------
def star_level(hours: Decimal) -> str:
    """The national volunteer star rating for cumulative verified hours (一星 100 h … 五星 1500 h), or ''."""
    for limit, label in STARS:
        if hours >= limit:
            return str(label)
    return ""


def hours_by_volunteer(year: int | None = None, volunteer_ids=None) -> dict[int, Decimal]:
    qs = Movement.objects.filter(account__kind="volunteer", unit=Unit.HOURS)
    if year is not None:
        qs = qs.filter(transfer__occurred_on__year=year)
    if volunteer_ids is not None:
        qs = qs.filter(account__volunteer_id__in=volunteer_ids)
    return {r["account__volunteer_id"]: r["s"] for r in qs.values("account__volunteer_id")
            .annotate(s=Sum("amount")).order_by()}


def honour_list(year: int, volunteers, limit: int = 30) -> list[dict]:
    """The year's volunteers by verified hours (corrections count in the year of the shift they correct), among
    ``volunteers`` (a restricted queryset)."""
    per = hours_by_volunteer(year, volunteers.values("pk"))
    rows = [(vid, h) for vid, h in per.items() if h > 0]
    rows.sort(key=lambda r: (-r[1], r[0]))
    by_id = volunteers.select_related("person", "grid").in_bulk([vid for vid, _h in rows[:limit]])
    shifts = dict(Signup.objects.filter(volunteer_id__in=list(by_id), verified_at__isnull=False,
                                        verified_hours__isnull=False, shift__starts_at__year=year)
                  .values("volunteer_id").annotate(n=Count("id")).values_list("volunteer_id", "n").order_by())
    out = []
    for rank, (vid, h) in enumerate(rows[:limit], start=1):
        v = by_id[vid]
        out.append({"rank": rank, "volunteer": v, "hours": h, "shifts": shifts.get(vid, 0)})
    return out


def seed_verified_shifts(n: int, *, grid, now: dt.datetime | None = None) -> int:
    """For a benchmark: ``n`` past two-hour shifts in ``grid``, each with one of the grid's volunteers (round robin)
    signed up, checked in and out, and verified, through these services. A later call places its shifts 30 days
    before the previous call's, so nobody is ever on two shifts at once. Returns the transfers made."""
    now = now or timezone.now()
    vols = list(Volunteer.objects.filter(grid=grid, is_active=True).order_by("id"))
    if not vols:
        raise ValidationError("seed_verified_shifts: the grid has no volunteers")
    earlier = Task.objects.filter(grid=grid, title="基准测试服务").count()
    task = create_task(None, grid=grid, title="基准测试服务", kind=TaskKind.OTHER)
    base = now - dt.timedelta(days=1 + 30 * earlier)
    made = 0
    for i in range(n):
        start = (base - dt.timedelta(hours=2 * i)).replace(minute=0, second=0, microsecond=0)
        shift = add_shifts(None, task, start, start + dt.timedelta(hours=2), capacity=1)[0]
        try:
            s = sign_up(vols[i % len(vols)], shift, now=start - dt.timedelta(days=1))
        except ValidationError:
            continue
        check_in(s, now=shift.starts_at)
        check_out(s, now=shift.ends_at)
        if verify(None, s, now=now) is not None:
            made += 1
    return made
