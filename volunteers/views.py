"""Pages of the volunteer service.

Staff (their places, through ``restrict``): the registry of volunteers and a volunteer's record (hours, points,
the ledger's lines, the certificate of service), the teams (the six branches with their 1+1+N), the week's tasks
and shifts, a shift's list (check-in and check-out ticked on a phone, the QR to put up at the place), the
organiser's verification queue with corrections, the year's honour list, the export.

Volunteers (their own account linked to their volunteer record): "我的志愿服务" on a phone — my shifts (withdraw, ask
for a substitute, check in and out), shifts open to sign up, places offered by others, hours and points, spending
points; the QR page at the place; an opinion collected on a shift.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q, Sum
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext
from django.views import View

from core import audit
from core.scope import scope_for
from core.views import PermissionView
from volunteers import ledger, services
from volunteers.choices import Role, SignupState, Skill, TaskKind, Unit
from volunteers.models import Membership, Movement, Reward, Shift, Signup, Team, Volunteer

WEEKDAY = "一二三四五六日"


def mask_name(name: str) -> str:
    if not name:
        return ""
    if len(name) == 1:
        return name
    return name[0] + "*" * (len(name) - 2) + name[-1] if len(name) > 2 else name[0] + "*"


def _zh() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "zh-hans").startswith("zh")


def day_text(d: dt.date, *, year: bool = True) -> str:
    """A date with its year, as a reader of the page's language writes it (2026年12月8日 / 8 Dec 2026)."""
    if _zh():
        return f"{d.year}年{d.month}月{d.day}日" if year else f"{d.month}月{d.day}日"
    return f"{d.day} {d:%b} {d.year}" if year else f"{d.day} {d:%b}"


def weekday_text(d: dt.date) -> str:
    return f"周{WEEKDAY[d.weekday()]}" if _zh() else f"{d:%a}"


def _sep() -> str:
    return "、" if _zh() else ", "


def _when(shift: Shift) -> str:
    a, b = timezone.localtime(shift.starts_at), timezone.localtime(shift.ends_at)
    return f"{day_text(a.date())} {weekday_text(a.date())} {a:%H:%M}–{b:%H:%M}"


def _first_error(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


def _qr_svg(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff", omitsize=True)


def _num(value) -> str:
    if value is None:
        return ""
    value = Decimal(value)
    return f"{value.quantize(Decimal('0.01')).normalize():f}"


# --- staff: the registry, a volunteer, teams ------------------------------------------------------------------------
class VolunteerListView(PermissionView):
    perm = "volunteers.view_volunteer"

    def get(self, request):
        qs = Volunteer.objects.restrict(request.user, "view").select_related("person", "grid", "enterprise")
        q = (request.GET.get("q") or "").strip()[:50]
        skill = request.GET.get("skill") or ""
        if q:
            qs = qs.filter(Q(person__name__contains=q) | Q(number__icontains=q))
        if skill in Skill.values:
            qs = qs.filter(skills__contains=skill) if _json_contains() else qs
        year = timezone.localdate().year
        rows = list(qs.order_by("number")[:300])
        if skill in Skill.values and not _json_contains():
            rows = [v for v in rows if skill in (v.skills or [])]
        hours = services.hours_by_volunteer(year, [v.pk for v in rows])
        points = _points([v.pk for v in rows])
        teams = {}
        for m in Membership.objects.filter(volunteer__in=[v.pk for v in rows]).select_related("team"):
            teams.setdefault(m.volunteer_id, []).append(m)
        skills = dict(Skill.choices)
        for v in rows:
            v.hours_year = _num(hours.get(v.pk, 0))
            v.points_now = _num(points.get(v.pk, 0))
            v.team_rows = teams.get(v.pk, [])
            v.skill_labels = _sep().join(str(skills[s]) for s in v.skills or [] if s in skills)
        return render(request, "volunteers/list.html", {
            "title": pgettext("volunteers", "志愿者"), "rows": rows, "q": q, "skill": skill,
            "skills": Skill.choices, "year": year,
            "can_export": scope_for(request.user).has("volunteers.export_volunteer"),
            "can_add": scope_for(request.user).has("volunteers.add_volunteer")})


def _json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _points(volunteer_ids) -> dict[int, Decimal]:
    rows = (Movement.objects.filter(account__volunteer_id__in=volunteer_ids, account__kind="volunteer",
                                    unit=Unit.POINTS)
            .values("account__volunteer_id").annotate(s=Sum("amount")).order_by())
    return {r["account__volunteer_id"]: r["s"] for r in rows}


class VolunteerView(PermissionView):
    perm = "volunteers.view_volunteer"

    def get(self, request, pk: int):
        v = get_object_or_404(Volunteer.objects.restrict(request.user, "view").select_related(
            "person", "grid", "community", "enterprise"), pk=pk)
        audit.record_view(request, v)
        signups = list(v.signups.select_related("shift__task").order_by("-shift__starts_at")[:50])
        lines = list(Movement.objects.filter(account__volunteer=v, account__kind="volunteer")
                     .select_related("transfer__signup__shift__task", "transfer__booking__resource")
                     .order_by("-transfer_id", "unit")[:100])
        for m in lines:
            m.what = _transfer_text(m.transfer)
            m.amount_text = ("+" if m.amount > 0 else "") + _num(m.amount)
        for s in signups:
            s.when = _when(s.shift)
            s.hours_text, s.verified_text = _num(s.hours), _num(s.verified_hours)
        bal = ledger.balances(v)
        total = services.hours_by_volunteer(None, [v.pk]).get(v.pk, Decimal(0))
        return render(request, "volunteers/volunteer.html", {
            "title": f"{v.number} {v.person.name}", "v": v, "signups": signups, "lines": lines,
            "hours": _num(bal["hours"]), "points": _num(bal["points"]), "star": services.star_level(total),
            "teams": v.memberships.select_related("team"),
            "skills": _sep().join(str(dict(Skill.choices).get(s, s)) for s in v.skills or []),
            "joined": day_text(v.joined_on)})


def _transfer_text(t) -> str:
    """What a transfer was, in the page's language (its stored memo is in the language it was written in)."""
    if t.reverses_id:
        return pgettext("volunteers", "冲正第%(n)s号记账") % {"n": t.reverses_id}
    if t.booking_id:
        return t.booking.resource.name
    if t.signup_id:
        return f"{t.signup.shift.task.title} {day_text(t.occurred_on, year=False)}"
    return t.memo


class CertificateView(PermissionView):
    """A volunteer's certificate of service (志愿服务证明), PDF in Chinese; audited."""

    perm = "volunteers.view_volunteer"

    def get(self, request, pk: int):
        from volunteers.pdf import certificate_pdf

        v = get_object_or_404(Volunteer.objects.restrict(request.user, "view").select_related(
            "person", "community"), pk=pk)
        data = certificate_pdf(v)
        audit.record("certificate", v, request=request)
        resp = HttpResponse(data, content_type="application/pdf")
        resp["Content-Disposition"] = f'inline; filename="certificate-{v.number}.pdf"'
        return resp


class RegisterView(PermissionView):
    """A registry person of the user's places becomes a volunteer (found by name), with skills, free days and,
    optionally, a place in a team of their grid."""

    perm = "volunteers.add_volunteer"

    def _context(self, request, q: str = "", error: str = "") -> dict:
        from people.models import Person

        found = []
        if q:
            found = list(Person.objects.restrict(request.user, "view").filter(name__contains=q[:20],
                                                                              volunteer__isnull=True)
                         .select_related("grid").order_by("name", "id")[:20])
        teams = list(Team.objects.restrict(request.user, "change").filter(is_active=True).order_by("name"))
        return {"title": pgettext("volunteers", "登记志愿者"), "q": q, "found": found, "teams": teams,
                "skills": Skill.choices, "roles": Role.choices, "error": error,
                "weekdays": [(str(i + 1), weekday_text(dt.date(2024, 1, 1) + dt.timedelta(days=i)))
                             for i in range(7)]}

    def get(self, request):
        return render(request, "volunteers/register.html", self._context(request, (request.GET.get("q") or "").strip()))

    def post(self, request):
        from people.models import Person

        p = request.POST
        person = Person.objects.restrict(request.user, "view").filter(pk=_int(p.get("person"))).first()
        try:
            if person is None:
                raise ValidationError(pgettext("volunteers", "请先按姓名找到要登记的人员"))
            team = Team.objects.restrict(request.user, "change").filter(pk=_int(p.get("team"))).first()
            with transaction.atomic():
                v = services.register_volunteer(request.user, person, skills=p.getlist("skills"),
                                                available_days="".join(p.getlist("days")))
                if team is not None:
                    services.add_member(request.user, team, v, p.get("role") or Role.MEMBER)
        except ValidationError as exc:
            return render(request, "volunteers/register.html",
                          self._context(request, p.get("q", ""), _first_error(exc)), status=400)
        messages.success(request, pgettext("volunteers", "已登记志愿者 %(n)s（%(no)s）") % {
            "n": person.name, "no": v.number})
        return HttpResponseRedirect(reverse("volunteers:volunteer", args=[v.pk]))


class TeamListView(PermissionView):
    perm = "volunteers.view_team"

    def get(self, request):
        teams = list(Team.objects.restrict(request.user, "view").select_related("grid", "community").prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("volunteer__person")
                     .order_by("role", "id"))).order_by("community_id", "grid__name", "name"))
        year = timezone.localdate().year
        ids = [m.volunteer_id for t in teams for m in t.memberships.all()]
        hours = services.hours_by_volunteer(year, ids)
        for t in teams:
            t.shape = services.team_shape(t, t.memberships.all())
            t.hours_year = _num(sum((hours.get(m.volunteer_id, 0) for m in t.memberships.all()), Decimal(0)))
        return render(request, "volunteers/teams.html", {"title": pgettext("volunteers", "志愿队伍"), "teams": teams,
                                                          "year": year})


# --- staff: the week's shifts, a shift's list ---------------------------------------------------------------------
def _week_start(text: str | None) -> dt.date:
    today = timezone.localdate()
    try:
        day = dt.date.fromisoformat(text) if text else today
    except ValueError:
        day = today
    if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 1, 1):
        day = today
    return day - dt.timedelta(days=day.weekday())


class CalendarView(PermissionView):
    perm = "volunteers.view_shift"

    def get(self, request):
        first = _week_start(request.GET.get("week"))
        start = timezone.make_aware(dt.datetime.combine(first, dt.time(0)))
        shifts = list(Shift.objects.restrict(request.user, "view").filter(
            starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=7)).select_related("task", "grid")
            .annotate(done=Count("signups", filter=Q(signups__verified_at__isnull=False))).order_by("starts_at"))
        days = []
        for i in range(7):
            d = first + dt.timedelta(days=i)
            items = [s for s in shifts if timezone.localtime(s.starts_at).date() == d]
            for s in items:
                s.span = f"{timezone.localtime(s.starts_at):%H:%M}–{timezone.localtime(s.ends_at):%H:%M}"
            days.append({"day": d, "label": f"{day_text(d, year=False)} {weekday_text(d)}", "shifts": items,
                         "today": d == timezone.localdate()})
        scope = scope_for(request.user)
        grids = []
        if scope.has("volunteers.add_task"):
            from places.models import Grid

            grids = list(Grid.objects.restrict(request.user, "view").order_by("community_id", "name"))
        return render(request, "volunteers/calendar.html", {
            "sessions": _staffable_sessions(request.user) if grids else [],
            "title": pgettext("volunteers", "任务与班次"), "days": days, "first": first,
            "prev": first - dt.timedelta(days=7), "next": first + dt.timedelta(days=7),
            "week_label": pgettext("volunteers", "%(d)s起的一周") % {"d": day_text(first)}, "grids": grids,
            "kinds": TaskKind.choices, "can_add": bool(grids)})


SESSION_HORIZON_DAYS = 90


def _staffable_sessions(user, pk: int | None = None):
    """The activity sessions of the coming SESSION_HORIZON_DAYS the user can see, a shift may staff (the form's
    choice); with ``pk``, that one session or None."""
    from activities.models import Session

    now = timezone.now()
    qs = (Session.objects.restrict(user, "view").select_related("activity").annotate(of=Count("activity__sessions"))
          .filter(ends_at__gt=now, starts_at__lt=now + dt.timedelta(days=SESSION_HORIZON_DAYS))
          .exclude(activity__status="cancelled"))
    if pk is not None:
        return qs.filter(pk=pk).first()
    sessions = list(qs.order_by("starts_at", "id")[:200])
    for s in sessions:
        local = timezone.localtime(s.starts_at)
        s.label = (f"{day_text(local.date(), year=False)} {local:%H:%M} {s.activity.title}"
                   + (pgettext("volunteers", " 第%(n)d场") % {"n": s.number} if s.of > 1 else ""))
    return sessions


def _session_kind(kind: str | None) -> str:
    """A shift at an activity's session staffs it (活动保障) or teaches it (授课讲师)."""
    return TaskKind.LECTURE if kind == TaskKind.LECTURE else TaskKind.ACTIVITY


class TaskNewView(PermissionView):
    """A task with its first shift (and, optionally, the same time every week until a date). A shift that staffs
    an activity's session (活动保障) takes the session's time and place and is linked to it: its volunteers then
    count as the activity's organisers (activities.services.organisers)."""

    perm = "volunteers.add_task"

    def post(self, request):
        from places.models import Grid

        p = request.POST
        back = reverse("volunteers:calendar")
        grid = Grid.objects.restrict(request.user, "view").filter(pk=_int(p.get("grid"))).first()
        try:
            if grid is None:
                raise ValidationError(pgettext("volunteers", "请选择网格"))
            session = None
            if (p.get("session") or "").strip():
                session = _staffable_sessions(request.user, _int(p.get("session")))
                if session is None:
                    raise ValidationError(pgettext("volunteers", "所选的活动场次不存在、已结束或不在您的范围内"))
                if p.get("weekly_until"):
                    raise ValidationError(pgettext(
                        "volunteers", "保障活动场次的班次不每周重复：每个场次发布一次"))
                a, b = session.starts_at, session.ends_at
                day = timezone.localtime(a).date()
                until = None
            else:
                day = _date(p.get("day"), pgettext("volunteers", "请选择日期"))
                starts, ends = _time(p.get("starts")), _time(p.get("ends"))
                if starts is None or ends is None:
                    raise ValidationError(pgettext("volunteers", "请填写开始和结束时间"))
                until = _date(p.get("weekly_until"), "") if p.get("weekly_until") else None
                a = timezone.make_aware(dt.datetime.combine(day, starts))
                b = timezone.make_aware(dt.datetime.combine(day, ends))
            team = Team.objects.filter(grid=grid, is_active=True).order_by("id").first()
            with transaction.atomic():  # the task and its shifts, or nothing
                task = services.create_task(
                    request.user, grid=grid, title=p.get("title", ""),
                    kind=_session_kind(p.get("kind")) if session is not None else (p.get("kind") or TaskKind.OTHER),
                    team=team,
                    location=p.get("location", "") or (session.place if session is not None else ""),
                    points_per_hour=_int(p.get("points")) or 10)
                shifts = services.add_shifts(request.user, task, a, b, capacity=_int(p.get("capacity")) or 3,
                                             weekly_until=until, session=session)
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
            return HttpResponseRedirect(back)
        message = pgettext("volunteers", "已发布“%(t)s”，共%(n)d个班次")
        messages.success(request, message % {"t": task.title, "n": len(shifts)})
        return HttpResponseRedirect(f"{back}?week={_week_start(day.isoformat()).isoformat()}")


def _int(value) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else 0


def _date(value, message: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(str(value or ""))
    except ValueError:
        raise ValidationError(message or pgettext("volunteers", "日期格式不对")) from None
    if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 1, 1):
        raise ValidationError(pgettext("volunteers", "日期超出范围"))
    return day


def _time(value) -> dt.time | None:
    try:
        return dt.time.fromisoformat(str(value or ""))
    except ValueError:
        return None


class ShiftView(PermissionView):
    perm = "volunteers.view_shift"

    def get(self, request, pk: int):
        shift = get_object_or_404(Shift.objects.restrict(request.user, "view").select_related(
            "task", "task__team", "grid", "task__mediation"), pk=pk)
        signups = list(shift.signups.select_related("volunteer__person", "substitute_for__volunteer__person")
                       .order_by("state", "id"))
        can_mark = Signup.objects.restrict(request.user, "change").filter(shift=shift).exists() or \
            Shift.objects.restrict(request.user, "change").filter(pk=shift.pk).exists()
        can_verify = scope_for(request.user).has("volunteers.verify_signup") and \
            Shift.objects.restrict(request.user, "view").filter(pk=shift.pk, grid_id__in=_verify_grids(request.user)
                                                                 ).exists()
        for s in signups:
            s.name = s.volunteer.person.name
            s.hours_text = _num(s.hours)
            s.verified_text = _num(s.verified_hours)
        qr_url = request.build_absolute_uri(reverse("volunteers:qr", args=[shift.qr_token]))
        return render(request, "volunteers/shift.html", {
            "title": shift.task.title, "shift": shift, "when": _when(shift), "signups": signups,
            "can_mark": can_mark, "can_verify": can_verify, "qr": mark_safe(_qr_svg(qr_url)), "qr_url": qr_url,
            "live": [s for s in signups if s.state == SignupState.SIGNED]})


def _verify_grids(user) -> list[int]:
    return list(Signup.objects.restrict(user, "verify").values_list("grid_id", flat=True).distinct())


def _signup_for(request, pk: int, action: str) -> Signup:
    visible = Signup.objects.restrict(request.user, "view").select_related("shift__task", "volunteer__person")
    s = get_object_or_404(visible, pk=pk)
    if not Signup.objects.restrict(request.user, action).filter(pk=s.pk).exists():
        raise PermissionDenied(pgettext("volunteers", "您可以查看，但没有进行此操作的权限"))
    return s


class MarkView(PermissionView):
    """The organiser's list: check a volunteer in or out (POST ``what`` = in / out)."""

    perm = "volunteers.view_signup"

    def post(self, request, pk: int):
        s = _signup_for(request, pk, "change")
        try:
            if request.POST.get("what") == "out":
                services.check_out(s, actor=request.user)
                message = pgettext("volunteers", "%(n)s已签退，计%(h)s小时")
                messages.success(request, message % {"n": s.volunteer.person.name, "h": _num(s.hours)})
            else:
                services.check_in(s, actor=request.user, method="list")
                messages.success(request, pgettext("volunteers", "%(n)s已签到") % {"n": s.volunteer.person.name})
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
        return HttpResponseRedirect(reverse("volunteers:shift", args=[s.shift_id]))


# --- staff: verification, corrections -----------------------------------------------------------------------------
class QueueView(PermissionView):
    perm = "volunteers.verify_signup"

    def get(self, request):
        qs = (Signup.objects.restrict(request.user, "verify")
              .filter(state=SignupState.SIGNED, checked_out_at__isnull=False, verified_at__isnull=True)
              .select_related("shift__task", "volunteer__person").order_by("shift__starts_at", "id"))
        rows = list(qs[:200])
        for s in rows:
            s.when = _when(s.shift)
            s.hours_text = _num(s.hours)
        recent = list(Signup.objects.restrict(request.user, "verify").filter(verified_at__isnull=False)
                      .select_related("shift__task", "volunteer__person").order_by("-verified_at")[:20])
        for s in recent:
            s.when = _when(s.shift)
            s.hours_text = _num(s.verified_hours)
        return render(request, "volunteers/queue.html", {"title": pgettext("volunteers", "时长核定"), "rows": rows,
                                                         "recent": recent, "total": qs.count()})


class VerifyView(PermissionView):
    perm = "volunteers.verify_signup"

    def post(self, request, pk: int):
        s = _signup_for(request, pk, "verify")
        try:
            services.verify(request.user, s, hours=request.POST.get("hours") or None)
            messages.success(request, pgettext("volunteers", "已核定%(n)s %(h)s小时") % {"n": s.volunteer.person.name,
                                                                "h": _num(s.verified_hours)})
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
        return HttpResponseRedirect(_back(request, reverse("volunteers:queue")))


class CorrectView(PermissionView):
    perm = "volunteers.verify_signup"

    def post(self, request, pk: int):
        s = _signup_for(request, pk, "verify")
        try:
            services.correct(request.user, s, hours=request.POST.get("hours") or None,
                             reason=request.POST.get("reason", ""))
            messages.success(request, pgettext("volunteers", "已更正：原记录已冲正，新的核定已记入"))
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
        return HttpResponseRedirect(reverse("volunteers:volunteer", args=[s.volunteer_id]))


def _back(request, default: str) -> str:
    nxt = request.POST.get("next") or ""
    return nxt if nxt.startswith("/volunteers/") and "//" not in nxt else default


# --- staff: honour list, export -----------------------------------------------------------------------------------
class HonourView(PermissionView):
    perm = "volunteers.view_volunteer"

    def get(self, request):
        this = timezone.localdate().year
        year = _int(request.GET.get("year")) or this
        if not 2000 <= year <= this + 1:
            year = this
        rows = services.honour_list(year, Volunteer.objects.restrict(request.user, "view"))
        for r in rows:
            r["hours_text"] = _num(r["hours"])
            r["star"] = services.star_level(r["hours"])
        return render(request, "volunteers/honour.html", {
            "title": pgettext("volunteers", "志愿服务光荣榜"), "rows": rows, "year": year,
            "years": list(range(this, this - 4, -1))})


class ExportView(PermissionView):
    """The verified service of the user's places in a year, one row per sign-up: watermarked, audited."""
    replica_reads = True  # its GET may read from the read replica (core.dbrouter)

    perm = "volunteers.export_volunteer"

    def get(self, request):
        import io

        from core.importexport import XlsxWriter

        this = timezone.localdate().year
        year = _int(request.GET.get("year")) or this
        if not 2000 <= year <= this + 1:
            year = this
        vols = Volunteer.objects.restrict(request.user, "export")
        qs = (Signup.objects.restrict(request.user, "view").filter(volunteer__in=vols.values("pk"),
                                                                   shift__starts_at__year=year)
              .select_related("shift__task", "volunteer__person", "grid").order_by("shift__starts_at", "id"))
        now = timezone.localtime()
        mark = pgettext("volunteers", "人房 · %(u)s 导出于 %(t)s · 仅限工作使用") % {"u": request.user.get_username(),
                                                          "t": f"{now:%Y-%m-%d %H:%M}"}
        buf = io.BytesIO()
        n = 0
        states = dict(SignupState.choices)
        with XlsxWriter(buf, pgettext("volunteers", "志愿服务记录"), mark) as w:
            w.header([pgettext("volunteers", "志愿者编号"), pgettext("volunteers", "姓名"),
                      pgettext("volunteers", "网格"), pgettext("volunteers", "任务"), pgettext("volunteers", "日期"),
                      pgettext("volunteers", "时间"), pgettext("volunteers", "状态"), pgettext("volunteers", "签到"),
                      pgettext("volunteers", "签退"), pgettext("volunteers", "计时(小时)"),
                      pgettext("volunteers", "核定(小时)")])
            for s in qs.iterator(chunk_size=2000):
                a, b = timezone.localtime(s.shift.starts_at), timezone.localtime(s.shift.ends_at)
                w.row([s.volunteer.number, mask_name(s.volunteer.person.name), s.grid.name if s.grid else "",
                       s.shift.task.title, f"{a:%Y-%m-%d}", f"{a:%H:%M}–{b:%H:%M}", str(states.get(s.state, s.state)),
                       f"{timezone.localtime(s.checked_in_at):%H:%M}" if s.checked_in_at else "",
                       f"{timezone.localtime(s.checked_out_at):%H:%M}" if s.checked_out_at else "",
                       _num(s.hours), _num(s.verified_hours)])
                n += 1
        audit.record("export", user=request.user, request=request, object_type="volunteers.signup",
                     fields=["volunteer", "shift", "hours"], changes={"rows": n, "year": year})
        resp = HttpResponse(buf.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        resp["Content-Disposition"] = f'attachment; filename="volunteers-{year}.xlsx"'
        return resp


# --- the volunteer's phone ----------------------------------------------------------------------------------------
class VolunteerPhoneView(LoginRequiredMixin, View):
    """Pages of a volunteer's own account: anyone else gets a 403 that says how to become one."""

    volunteer: Volunteer

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        v = Volunteer.objects.filter(user=request.user, is_active=True).select_related("person").first()
        if v is None:
            raise PermissionDenied(pgettext("volunteers",
                                            "您的账号还没有关联志愿者登记。请到社区志愿服务站登记后，用本账号登录使用。"))
        self.volunteer = v
        return super().dispatch(request, *args, **kwargs)


class MeView(VolunteerPhoneView):
    def get(self, request):
        v = self.volunteer
        now = timezone.now()
        mine = list(Signup.objects.filter(volunteer=v, state=SignupState.SIGNED, verified_at__isnull=True,
                                          shift__ends_at__gte=now
                                          - services.CHECKOUT_LATE).select_related("shift__task")
                    .order_by("shift__starts_at")[:20])
        for s in mine:
            s.when = _when(s.shift)
            sh = s.shift
            s.can_in = s.checked_in_at is None and sh.starts_at - services.CHECKIN_EARLY <= now <= sh.ends_at
            s.can_out = s.checked_in_at is not None and s.checked_out_at is None
            s.can_withdraw = sh.starts_at > now and s.checked_in_at is None
            s.hours_text = _num(s.hours)
        taken = {s.shift_id for s in mine}
        open_ = list(Shift.objects.filter(community_id=v.community_id, starts_at__gt=now,
                                          starts_at__lt=now + dt.timedelta(days=21))
                     .exclude(pk__in=taken).select_related("task").order_by("starts_at")[:30])
        open_ = [sh for sh in open_ if sh.taken < sh.capacity][:10]
        for sh in open_:
            sh.when = _when(sh)
            sh.left = sh.capacity - sh.taken
        offers = list(Signup.objects.filter(wants_substitute=True, state=SignupState.SIGNED,
                                            shift__starts_at__gt=now, shift__community_id=v.community_id)
                      .exclude(volunteer=v).exclude(shift_id__in=taken).select_related("shift__task")[:10])
        for s in offers:
            s.when = _when(s.shift)
        past = list(Signup.objects.filter(volunteer=v, checked_out_at__isnull=False).select_related("shift__task")
                    .order_by("-shift__starts_at")[:10])
        for s in past:
            s.when = _when(s.shift)
            s.hours_text = _num(s.verified_hours if s.verified_at else s.hours)
        bal = ledger.balances(v)
        rewards = list(Reward.objects.filter(street_id=v.street_id, is_active=True).select_related("resource"))
        return render(request, "volunteers/me.html", {
            "title": pgettext("volunteers", "我的志愿服务"), "v": v, "mine": mine, "open": open_, "offers": offers,
            "past": past, "hours": _num(bal["hours"]), "points": _num(bal["points"]), "rewards": rewards,
            "points_value": bal["points"], "min_day": (timezone.localdate() + dt.timedelta(days=1)).isoformat()})


class JoinView(VolunteerPhoneView):
    def post(self, request, pk: int):
        v = self.volunteer
        shift = Shift.objects.filter(pk=pk, community_id=v.community_id).select_related("task").first()
        if shift is None:
            messages.error(request, pgettext("volunteers", "该班次不存在或不在本社区"))
        else:
            try:
                services.sign_up(v, shift)
                messages.success(request, pgettext("volunteers", "报名成功：%(s)s") % {"s": _when(shift)})
            except ValidationError as exc:
                messages.error(request, _first_error(exc))
        return HttpResponseRedirect(reverse("volunteers:me"))


class ActView(VolunteerPhoneView):
    """One of my sign-ups: withdraw, ask for a substitute, check in, check out."""

    ACTIONS = ("withdraw", "substitute", "in", "out")

    def post(self, request, pk: int, what: str):
        s = get_object_or_404(Signup.objects.select_related("shift__task"), pk=pk, volunteer=self.volunteer)
        if what not in self.ACTIONS:
            raise PermissionDenied(pgettext("volunteers", "不支持的操作"))
        user = request.user
        try:
            if what == "withdraw":
                services.withdraw(s, actor=user)
                messages.success(request, pgettext("volunteers", "已取消报名"))
            elif what == "substitute":
                n = services.ask_substitute(s, actor=user)
                message = pgettext("volunteers", "已发出替班请求（通知了%(n)d位志愿者）；有人接替前仍由您值班")
                messages.success(request, message % {"n": n})
            elif what == "in":
                services.check_in(s, actor=user, method="phone")
                messages.success(request, pgettext("volunteers", "签到成功，服务结束后记得签退"))
            else:
                services.check_out(s, actor=user)
                message = pgettext("volunteers", "签退成功，本次计%(h)s小时，待组织者核定")
                messages.success(request, message % {"h": _num(s.hours)})
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
        return HttpResponseRedirect(reverse("volunteers:me"))


class TakeView(VolunteerPhoneView):
    """A place another volunteer offers: shown, and taken over with one tap."""

    def _signup(self, pk: int) -> Signup:
        return get_object_or_404(Signup.objects.select_related("shift__task"), pk=pk,
                                 shift__community_id=self.volunteer.community_id)

    def get(self, request, pk: int):
        s = self._signup(pk)
        return render(request, "volunteers/take.html", {"title": pgettext("volunteers", "接替班次"), "s": s,
                                                        "when": _when(s.shift), "open": s.wants_substitute
                                                        and s.state == SignupState.SIGNED})

    def post(self, request, pk: int):
        s = self._signup(pk)
        try:
            services.take_over(self.volunteer, s)
            messages.success(request, pgettext("volunteers", "已接替：%(s)s") % {"s": _when(s.shift)})
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
        return HttpResponseRedirect(reverse("volunteers:me"))


class QrView(VolunteerPhoneView):
    """The QR put up at the place: check in on arrival, out when leaving (one button)."""

    def get(self, request, token: str):
        shift = get_object_or_404(Shift.objects.select_related("task"), qr_token=str(token)[:32])
        s = Signup.objects.filter(shift=shift, volunteer=self.volunteer, state=SignupState.SIGNED).first()
        return render(request, "volunteers/qr.html", {"title": shift.task.title, "shift": shift, "s": s,
                                                      "when": _when(shift)})

    def post(self, request, token: str):
        try:
            s = services.check_in_by_qr(token, self.volunteer)
            if s.checked_out_at:
                message = pgettext("volunteers", "签退成功，本次计%(h)s小时，待组织者核定")
                messages.success(request, message % {"h": _num(s.hours)})
            else:
                messages.success(request, pgettext("volunteers", "签到成功，服务结束后再扫一次签退"))
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
        return HttpResponseRedirect(reverse("volunteers:me"))


class SpendView(VolunteerPhoneView):
    def post(self, request, pk: int):
        v = self.volunteer
        reward = Reward.objects.filter(pk=pk, street_id=v.street_id, is_active=True).select_related(
            "resource").first()
        try:
            if reward is None:
                raise ValidationError(pgettext("volunteers", "该兑换服务不存在"))
            day = _date(request.POST.get("day"), pgettext("volunteers", "请选择预约日期"))
            booking, _t = services.spend(v, reward, day, user=request.user)
            messages.success(request, pgettext("volunteers", "兑换成功：%(r)s，%(d)s，已扣%(n)d积分") % {
                "r": reward.name, "d": day_text(day, year=False), "n": reward.points})
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
        return HttpResponseRedirect(reverse("volunteers:me"))


class OpinionView(VolunteerPhoneView):
    """An opinion collected on my shift (after check-in): a case, or the open case about the same matter."""

    def _signup(self, pk: int) -> Signup:
        return get_object_or_404(Signup.objects.select_related("shift__task"), pk=pk, volunteer=self.volunteer)

    def _categories(self):
        from cases.models import CaseCategory

        return CaseCategory.objects.filter(is_active=True, parent__isnull=False).order_by("code")[:60]

    def get(self, request, pk: int):
        s = self._signup(pk)
        return render(request, "volunteers/opinion.html", {"title": pgettext("volunteers", "记录居民意见"), "s": s,
                                                           "when": _when(s.shift), "categories": self._categories()})

    def post(self, request, pk: int):
        s = self._signup(pk)
        try:
            op = services.collect_opinion(s, request.POST.get("text", ""), category=request.POST.get("category", ""),
                                          user=request.user)
        except ValidationError as exc:
            return render(request, "volunteers/opinion.html", {
                "title": pgettext("volunteers", "记录居民意见"), "s": s, "when": _when(s.shift),
                "categories": self._categories(), "error": _first_error(exc), "text": request.POST.get("text", "")},
                status=400)
        if op.joined:
            message = pgettext("volunteers", "社区已在处理同一件事（%(c)s），您的记录已并入")
            messages.success(request, message % {"c": op.case.number})
        else:
            messages.success(request, pgettext("volunteers", "已转交社区处理，编号%(c)s") % {"c": op.case.number})
        return HttpResponseRedirect(reverse("volunteers:me"))


__all__ = ["ActView", "CalendarView", "CertificateView", "CorrectView", "ExportView", "HonourView", "JoinView",
           "MarkView", "MeView", "OpinionView", "QrView", "QueueView", "ShiftView", "SpendView", "TakeView",
           "TaskNewView", "TeamListView", "VerifyView", "VolunteerListView", "VolunteerView", "mask_name"]

