"""The pages of the community activities.

Residents, on a phone (an account linked to a registry person, or a one-time code to the registered phone — the
shared resources' ``resources:phone`` flow, reused): the activities they or their household's children may join,
with what the audience rules say; signing up themselves and their children together; their sign-ups with the QR
codes shown at the door, waiting-list offers to accept or decline; self check-in from the code at the door; the
certificate. Organisers (staff of the place): the activities of their places, new and edit, sessions with the room
booked through the shared resources, publishing, the allocation run, the participants, the roll of a session on a
phone (QR scan or the list, no-shows), the printable brief (活动简报) and its PDF, photos, the export.
Every write goes through ``activities.services``.
"""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from activities import services
from activities.choices import ACTIVE, Attendance, Mode, SignUpState, Status
from activities.forms import ActivityForm, PhotoForm, SessionForm
from activities.models import Activity, ActivityPhoto, Participant, Session, SessionAttendance, SignUp
from core.filters import FilterSet
from core.scope import scope_for
from core.tables import Column, Table
from core.views import ObjectListView, PermissionView, apply_errors, require

WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]


def mask_name(name: str) -> str:
    from resources.views import mask_name as _mask

    return _mask(name)


def when(value: dt.datetime | None) -> str:
    """A moment as a resident reads it: 1月23日 周六 14:00 (Sat 23 Jan 14:00 in English)."""
    from django.utils.translation import get_language

    if value is None:
        return ""
    t = timezone.localtime(value)
    if (get_language() or "").startswith("en"):
        return f"{t:%a} {t.day} {t:%b %H:%M}"
    return f"{t.month}月{t.day}日 周{WEEKDAYS[t.weekday()]} {t:%H:%M}"


def qr_svg(text: str, scale: int = 5) -> str:
    import segno

    return mark_safe(segno.make(text, error="m").svg_inline(scale=scale, border=2))  # noqa: S308 - segno's own SVG


def _next(path: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": path})


# --- residents ----------------------------------------------------------------------------------------------------
class ResidentView(PermissionView):
    """The registry person who signs up: the account's (resources' ``BookerLink``), or, without an account, the
    one a code sent to their registered phone identified in this browser (resources' phone flow)."""

    login_url = None

    def dispatch(self, request, *args, **kwargs):
        from django.views import View

        from resources.models import BookerLink
        from resources.views import session_booker

        self.person, self.user = None, request.user if request.user.is_authenticated else None
        if self.user is not None:
            link = BookerLink.objects.filter(user=self.user).select_related("person").first()
            self.person = link.person if link else None
        if self.person is None:
            self.person = session_booker(request)
        if self.person is None:
            if self.user is None:
                return HttpResponseRedirect(reverse("resources:phone") + "?" + _next(request.get_full_path()))
            return render(request, "activities/not_linked.html",
                          {"title": pgettext("activities", "社区活动报名")}, status=403)
        return View.dispatch(self, request, *args, **kwargs)


def _open_activities():
    return (Activity.objects.filter(status=Status.PUBLISHED, pk__in=Session.objects.filter(
            ends_at__gt=timezone.now()).values("activity_id"))
            .select_related("community").prefetch_related("audience_communities", "audience_tags"))


def _first_last(activity: Activity):
    sessions = list(activity.sessions.all())
    return (sessions[0] if sessions else None), (sessions[-1] if sessions else None), sessions


class BrowseView(ResidentView):
    def get(self, request):
        items = []
        for a in _open_activities().order_by("signup_closes", "id")[:60]:
            members = services.eligible_members(a, self.person)
            ok = [m for m in members if not m.reasons]
            first, _last, sessions = _first_last(a)
            items.append({"a": a, "ok": ok, "first": when(first.starts_at) if first else "",
                          "count": len(sessions), "refusal": members[0].reasons[0] if not ok and members and
                          members[0].reasons else ""})
        items.sort(key=lambda i: not i["ok"])
        return render(request, "activities/browse.html", {
            "title": pgettext("activities", "社区活动"), "items": items, "person": self.person,
            "open_count": sum(1 for i in items if i["ok"])})


class ActivityView(ResidentView):
    """One activity: dates and place, who may join, the household members to tick, and (after an allocation run)
    the published seed and order."""

    def get(self, request, pk):
        a = get_object_or_404(Activity.objects.exclude(status=Status.DRAFT).select_related("community"), pk=pk)
        members = services.eligible_members(a, self.person)
        taken = set(Participant.objects.filter(activity=a, live=True, person__in=[m.person for m in members])
                    .values_list("person_id", flat=True))
        first, last, sessions = _first_last(a)
        window = services._window_refusal(a, timezone.now())
        draw = None
        if a.drawn_at:
            draw = list(SignUp.objects.filter(activity=a, rank__isnull=False).order_by("rank").values(
                "id", "rank", "ticket", "won", "applicant__name", "size", "organiser_family")[:500])
            for row in draw:
                row["name"] = mask_name(row.pop("applicant__name"))
        lecturers = services.lecturers(a)
        return render(request, "activities/activity.html", {
            "title": a.title, "a": a, "members": members, "taken": taken, "sessions": sessions,
            "rows": [{"s": s, "when": when(s.starts_at), "end": f"{timezone.localtime(s.ends_at):%H:%M}",
                      "lecturers": [mask_name(n) for n in lecturers.get(s.pk, [])]} for s in sessions],
            "window": window, "draw": draw, "closes": when(a.signup_closes),
            "verified": services.verify(a) if a.drawn_at else None,
            "audience": _audience_text(a)})


def _audience_text(a: Activity) -> list[str]:
    out = []
    names = [c.name for c in a.audience_communities.all()]
    if names:
        out.append(_("%(c)s现住居民") % {"c": "、".join(names)})
    if a.min_age is not None and a.max_age is not None:
        out.append(_("%(a)d至%(b)d岁") % {"a": a.min_age, "b": a.max_age})
    elif a.min_age is not None:
        out.append(_("%(a)d岁及以上") % {"a": a.min_age})
    elif a.max_age is not None:
        out.append(_("%(b)d岁及以下") % {"b": a.max_age})
    tags = [t.name for t in a.audience_tags.all()]
    if tags:
        out.append("、".join(tags))
    return out or [pgettext("activities", "不限")]


class SignUpView(ResidentView):
    def post(self, request, pk):
        a = get_object_or_404(Activity.objects.filter(status=Status.PUBLISHED), pk=pk)
        wanted = {v for v in request.POST.getlist("person") if v.isdigit() and len(v) < 19}
        members = {str(m.person.pk): m.person for m in services.eligible_members(a, self.person)}
        people = [members[v] for v in sorted(wanted) if v in members]
        if len(people) != len(wanted):
            messages.error(request, pgettext("activities", "只能为本人和同户的未成年子女报名"))
            return HttpResponseRedirect(reverse("activities:activity", args=[a.pk]))
        try:
            s = services.sign_up(a, self.person, people, user=self.user, channel="phone" if not self.user else "web")
        except ValidationError as exc:
            messages.error(request, pgettext("activities", "未能报名：") + "；".join(exc.messages))
            return HttpResponseRedirect(reverse("activities:activity", args=[a.pk]))
        text = {SignUpState.CONFIRMED: pgettext("activities", "报名成功：%(a)s，%(n)d人"),
                SignUpState.WAITING: pgettext("activities", "名额已满，已进入候补：%(a)s，%(n)d人（有名额时通知您）"),
                SignUpState.APPLIED: pgettext("activities", "已报名：%(a)s，%(n)d人。报名截止后统一分配名额")}[s.state]
        messages.success(request, text % {"a": a.title, "n": s.size})
        return HttpResponseRedirect(reverse("activities:mine"))


def _signup_rows(person) -> list[dict]:
    now = timezone.now()
    rows = []
    signups = (SignUp.objects.filter(applicant=person).select_related("activity")
               .prefetch_related("participants__person").order_by("-created_at", "-id")[:40])
    for s in signups:
        first, last, sessions = _first_last(s.activity)
        parts = []
        for p in s.participants.all():
            present = SessionAttendance.objects.filter(participant=p, state=Attendance.PRESENT).count()
            n = s.activity.certificate_min
            parts.append({"p": p, "present": present, "qr": qr_svg(p.qr_token, 4) if s.state == SignUpState.CONFIRMED
                          and last and last.ends_at > now else "",
                          "certificate": bool(n and present >= n and s.state == SignUpState.CONFIRMED)})
        rows.append({"s": s, "parts": parts, "first": when(first.starts_at) if first else "",
                     "count": len(sessions), "hold": when(s.hold_until) if s.hold_until else "",
                     "active": s.state in ACTIVE, "upcoming": bool(last and last.ends_at > now)})
    return rows


class MineView(ResidentView):
    def get(self, request):
        rows = _signup_rows(self.person)
        return render(request, "activities/mine.html", {
            "title": pgettext("activities", "我的活动报名"), "rows": [r for r in rows if r["active"]],
            "past": [r for r in rows if not r["active"]][:20]})


class MineActionView(ResidentView):
    def post(self, request, pk, action):
        s = get_object_or_404(SignUp.objects.filter(applicant=self.person).select_related("activity"), pk=pk)
        try:
            if action == "accept":
                services.accept_offer(s, self.person)
                messages.success(request, pgettext("activities", "已确认名额：%(a)s") % {"a": s.activity.title})
            elif action in ("decline", "cancel"):
                services.cancel(s, person=self.person)
                messages.success(request, pgettext("activities", "已取消报名：%(a)s") % {"a": s.activity.title})
            else:
                raise Http404
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("activities:mine"))


class SelfCheckInView(ResidentView):
    """The page behind the code shown at the door: one button checks in the family the resident signed up."""

    def get(self, request, token):
        session = get_object_or_404(Session.objects.select_related("activity"), checkin_token=token)
        mine = Participant.objects.filter(activity=session.activity, signup__applicant=self.person, live=True,
                                          signup__state=SignUpState.CONFIRMED).select_related("person")
        done = set(SessionAttendance.objects.filter(session=session, participant__in=mine,
                                                    state=Attendance.PRESENT).values_list("participant_id",
                                                                                           flat=True))
        return render(request, "activities/checkin.html", {
            "title": pgettext("activities", "活动签到"), "session": session, "when": when(session.starts_at),
            "mine": [{"p": p, "done": p.pk in done} for p in mine]})

    def post(self, request, token):
        try:
            session, people = services.self_check_in(self.person, token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(reverse("activities:checkin", args=[token]))
        messages.success(request, pgettext("activities", "签到成功：%(a)s 第%(n)d场，%(k)d人") % {
            "a": session.activity.title, "n": session.number, "k": len(people)})
        return HttpResponseRedirect(reverse("activities:checkin", args=[token]))


def certificate_response(participant: Participant) -> HttpResponse:
    from activities.pdf import certificate_pdf

    a = participant.activity
    first, last, sessions = _first_last(a)
    present = services.attended(participant)
    pdf = certificate_pdf(name=participant.person.name, activity=a.title, organiser=a.organiser_label,
                          attended=present, sessions=len(sessions), number=f"HD{a.pk:05d}-{participant.pk:06d}",
                          first=timezone.localdate(first.starts_at) if first else None,
                          last=timezone.localdate(last.starts_at) if last else None,
                          issued=timezone.localdate())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{a.pk}-{participant.pk}.pdf"'
    return response


class CertificateView(ResidentView):
    def get(self, request, pk):
        p = get_object_or_404(Participant.objects.filter(signup__applicant=self.person,
                                                         signup__state=SignUpState.CONFIRMED)
                              .select_related("activity", "person", "activity__community"), pk=pk)
        if not services.certificate_eligible(p):
            messages.error(request, pgettext("activities", "出席%(n)d场及以上才能领取证书（目前%(k)d场）") % {
                "n": p.activity.certificate_min, "k": services.attended(p)})
            return HttpResponseRedirect(reverse("activities:mine"))
        from core import audit

        audit.record("certificate", p.signup, user=self.user)
        return certificate_response(p)


# --- organisers ---------------------------------------------------------------------------------------------------
class ActivityFilterSet(FilterSet):
    q = df.CharFilter(method="search", label=gettext_lazy("搜索"))
    status = df.ChoiceFilter(choices=Status.choices, label=pgettext_lazy("activities", "状态"))

    class Meta:
        model = Activity
        fields = ["status"]

    def search(self, queryset, name, value):
        value = (value or "").strip()
        return queryset.filter(Q(title__contains=value) | Q(partner_name__contains=value)) if value else queryset


ActivityTable = Table(columns=[
    Column(pgettext_lazy("activities", "活动名称"), "title", link=True),
    Column(pgettext_lazy("activities", "主办"), "organiser_label"),
    Column(pgettext_lazy("activities", "举办网格"), "grid.name"),
    Column(pgettext_lazy("activities", "名额方式"), "get_mode_display"),
    Column(pgettext_lazy("activities", "名额"), "capacity", css="num"),
    Column(pgettext_lazy("activities", "已占"), "taken", css="num"),
    Column(pgettext_lazy("activities", "状态"), "get_status_display"),
], select_related=["grid", "community"])


class StaffListView(ObjectListView):
    title = pgettext_lazy("activities", "社区活动")
    model = Activity
    filterset_class = ActivityFilterSet
    table = ActivityTable
    filter_fields = ["q", "status"]
    ordering = ["-id"]
    template_name = "activities/staff_list.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require(request.user, "activities.view_activity")
        return super().dispatch(request, *args, **kwargs)

    def extra_context(self, request):
        return {"can_add": scope_for(request.user).has("activities.add_activity")}


class StaffView(PermissionView):
    perm = "activities.view_activity"

    def activity(self, request, pk, action: str = "view") -> Activity:
        """404 outside the user's places, 403 one they may see but not ``action``."""
        a = get_object_or_404(Activity.objects.restrict(request.user, "view").select_related("grid", "community"),
                              pk=pk)
        if action != "view" and not Activity.objects.restrict(request.user, action).filter(pk=a.pk).exists():
            raise PermissionDenied(pgettext("activities", "您可以查看此活动，但没有这项权限"))
        return a

    def session(self, request, pk, action: str = "view") -> Session:
        s = get_object_or_404(Session.objects.filter(activity__in=Activity.objects.restrict(request.user, "view")
                                                     .values("pk")).select_related("activity"), pk=pk)
        if action != "view" and not Activity.objects.restrict(request.user, action).filter(
                pk=s.activity_id).exists():
            raise PermissionDenied(pgettext("activities", "您可以查看此活动，但没有这项权限"))
        return s


def _booker_for_room(activity: Activity, user):
    from resources.models import BookerLink

    if activity.host_person_id:
        return activity.host_person
    link = BookerLink.objects.filter(user=user).select_related("person").first()
    return link.person if link else None


class DetailView(StaffView):
    def get(self, request, pk, session_form=None):
        a = self.activity(request, pk)
        scope = scope_for(request.user)
        change = Activity.objects.restrict(request.user, "change").filter(pk=a.pk).exists()
        sessions = list(a.sessions.select_related("resource", "booking").annotate(
            present=Count("attendance", filter=Q(attendance__state=Attendance.PRESENT))))
        counts = dict(SignUp.objects.filter(activity=a).values_list("state").annotate(n=Count("id")).order_by())
        waiting = list(SignUp.objects.filter(activity=a, state__in=[SignUpState.WAITING, SignUpState.OFFERED])
                       .order_by(*services.waiting_order(a)).select_related("applicant")[:50])
        return render(request, "activities/detail.html", {
            "title": a.title, "a": a, "sessions": [{"s": s, "when": when(s.starts_at),
                                                     "end": f"{timezone.localtime(s.ends_at):%H:%M}"}
                                                    for s in sessions],
            "counts": counts, "figures": services.attendance_figures(a), "audience": _audience_text(a),
            "waiting": [{"s": s, "name": mask_name(s.applicant.name), "hold": when(s.hold_until)} for s in waiting],
            "can_change": change, "session_form": session_form or (SessionForm(user=request.user) if change else None),
            "can_allocate": a.mode == Mode.ALLOCATION and not a.drawn_at and Activity.objects.restrict(
                request.user, "allocate").filter(pk=a.pk).exists(),
            "can_checkin": scope.has("activities.checkin_activity"),
            "can_signup": scope.has("activities.add_signup") and a.status == Status.PUBLISHED,
            "can_export": Activity.objects.restrict(request.user, "export").filter(pk=a.pk).exists(),
            "photos": list(a.photos.all()), "photo_form": PhotoForm() if change else None,
            "verified": services.verify(a) if a.drawn_at else None})


class EditView(StaffView):
    def instance(self, request, pk):
        if pk is None:
            require(request.user, "activities.add_activity")
            return Activity()
        return self.activity(request, pk, "change")

    def get(self, request, pk=None):
        a = self.instance(request, pk)
        return self.show(request, a, ActivityForm(instance=a, user=request.user))

    def show(self, request, a, form, status=200):
        return render(request, "activities/edit.html", {
            "title": a.title if a.pk else pgettext("activities", "新建活动"), "a": a, "form": form}, status=status)

    def post(self, request, pk=None):
        from core.services import ConflictError

        a = self.instance(request, pk)
        form = ActivityForm(request.POST, instance=a, user=request.user)
        if form.is_valid():
            try:
                a = services.save_activity(request.user, form)
            except ConflictError as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, pgettext("activities", "已保存：%(a)s") % {"a": a.title})
                return HttpResponseRedirect(reverse("activities:detail", args=[a.pk]))
        return self.show(request, a, form, status=400)


class SessionAddView(StaffView):
    def post(self, request, pk):
        a = self.activity(request, pk, "change")
        form = SessionForm(request.POST, user=request.user)
        if not form.is_valid():
            messages.error(request, pgettext("activities", "场次信息有误，请检查"))
            return DetailView().get(request, pk, session_form=form)
        d = form.cleaned_data
        added, failed = 0, []
        for start, end in form.spans():
            try:
                services.add_session(request.user, a, starts_at=start, ends_at=end, place=d.get("place") or "",
                                     topic=d.get("topic") or "", resource=d.get("resource"),
                                     booker=_booker_for_room(a, request.user) if d.get("resource") else None)
                added += 1
            except (ValidationError, PermissionDenied) as exc:
                failed.append(f"{when(start)}：{'；'.join(getattr(exc, 'messages', [str(exc)]))}")
        if added:
            messages.success(request, pgettext("activities", "已添加%(n)d场") % {"n": added})
        for f in failed:
            messages.error(request, f)
        return HttpResponseRedirect(reverse("activities:detail", args=[a.pk]))


class SessionDeleteView(StaffView):
    def post(self, request, pk):
        s = self.session(request, pk, "change")
        try:
            services.cancel_session(request.user, s)
            messages.success(request, pgettext("activities", "已删除该场次"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("activities:detail", args=[s.activity_id]))


class PublishView(StaffView):
    def post(self, request, pk):
        a = self.activity(request, pk, "change")
        try:
            services.publish(request.user, a)
            messages.success(request, pgettext("activities", "已发布，居民可以报名了"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("activities:detail", args=[a.pk]))


class AllocateView(StaffView):
    def post(self, request, pk):
        a = self.activity(request, pk, "allocate")
        try:
            a = services.run_allocation(a, actor=request.user)
            messages.success(request, pgettext("activities", "已分配名额：%(n)d个，随机种子 %(s)s 已公布") % {
                "n": a.taken, "s": a.draw_seed})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("activities:detail", args=[a.pk]))


class StaffSignUpView(StaffView):
    """代报名: staff sign up a registry person of their places (an elderly neighbour without a phone) and, when
    ticked, the children of that person's household the rules admit; found by ID number or registered phone (the
    number typed never reaches a URL or the audit in clear)."""

    perm = "activities.add_signup"

    def post(self, request, pk):
        from people.models import Person
        from people.services import find_by_number

        a = self.activity(request, pk)
        found = find_by_number(Person.objects.restrict(request.user, "view"), request.POST.get("number"))
        if found is None:
            messages.error(request, pgettext("activities", "在您管辖的人员中没有找到该证件号或手机号"))
            return HttpResponseRedirect(reverse("activities:detail", args=[a.pk]))
        members = [m.person for m in services.eligible_members(a, found)
                   if not m.reasons and (m.me or request.POST.get("children"))]
        try:
            s = services.sign_up(a, found, members or [found], actor=request.user, channel="walk_in")
            messages.success(request, pgettext("activities", "已代%(n)s报名：%(s)s，%(k)d人") % {
                "n": mask_name(found.name), "s": s.get_state_display(), "k": s.size})
        except (ValidationError, PermissionDenied) as exc:
            why = "；".join(getattr(exc, "messages", [str(exc)]))
            messages.error(request, pgettext("activities", "未能报名：") + why)
        return HttpResponseRedirect(reverse("activities:detail", args=[a.pk]))


class ParticipantsView(StaffView):
    def get(self, request, pk):
        a = self.activity(request, pk)
        parts = list(Participant.objects.filter(activity=a, live=True).select_related("person", "signup")
                     .annotate(present=Count("attendance", filter=Q(attendance__state=Attendance.PRESENT)))
                     .order_by("signup__state", "signup_id", "id"))
        today = timezone.localdate()
        return render(request, "activities/participants.html", {
            "title": pgettext("activities", "报名名单：%(a)s") % {"a": a.title}, "a": a,
            "rows": [{"p": p, "name": mask_name(p.person.name), "age": p.person.age(today),
                      "state": p.signup.get_state_display(), "family": p.signup_id} for p in parts]})


class RollView(StaffView):
    """The roll of one session on the organiser's phone: scan a participant's code, or tap present / absent on
    the list; close the roll after the session (everyone unmarked a no-show). The door code for self check-in."""

    perm = "activities.checkin_activity"

    def get(self, request, pk):
        s = self.session(request, pk, "checkin")
        return render(request, "activities/roll.html", self.context(request, s))

    def context(self, request, s):
        marks = {r.participant_id: r for r in SessionAttendance.objects.filter(session=s)}
        parts = list(Participant.objects.filter(activity=s.activity, live=True, signup__state=SignUpState.CONFIRMED)
                     .select_related("person").order_by("signup_id", "id"))
        rows = [{"p": p, "name": mask_name(p.person.name), "mark": marks.get(p.pk)} for p in parts]
        door = request.build_absolute_uri(reverse("activities:checkin", args=[s.checkin_token]))
        return {"title": pgettext("activities", "签到：%(a)s 第%(n)d场") % {"a": s.activity.title, "n": s.number},
                "s": s, "when": when(s.starts_at), "rows": rows, "door_qr": qr_svg(door, 4), "door": door,
                "present": sum(1 for r in rows if r["mark"] and r["mark"].state == Attendance.PRESENT),
                "total": len(rows)}

    def post(self, request, pk):
        from core.views import is_htmx

        s = self.session(request, pk, "checkin")
        action = request.POST.get("action")
        try:
            if action == "scan":
                p = services.check_in_by_token(request.user, s, request.POST.get("token", ""))
                messages.success(request, pgettext("activities", "已签到：%(n)s") % {"n": mask_name(p.person.name)})
            elif action == "mark":
                pid = request.POST.get("participant", "")
                p = get_object_or_404(Participant, pk=int(pid) if pid.isdigit() and len(pid) < 19 else 0,
                                      activity_id=s.activity_id)
                services.mark(request.user, s, p, request.POST.get("state", ""))
            elif action == "close":
                n = services.close_roll(request.user, s)
                messages.success(request, pgettext("activities", "点名已结束，%(n)d人记为缺席") % {"n": n})
            else:
                messages.error(request, pgettext("activities", "请选择操作"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        if is_htmx(request) and action == "mark":
            return render(request, "activities/roll.html", self.context(request, s))
        return HttpResponseRedirect(reverse("activities:roll", args=[s.pk]))


def _brief_context(a: Activity) -> dict:
    first, last, sessions = _first_last(a)
    f = services.attendance_figures(a)
    period = ""
    if first:
        period = when(first.starts_at) if len(sessions) == 1 else \
            f"{timezone.localdate(first.starts_at):%Y-%m-%d} — {timezone.localdate(last.starts_at):%Y-%m-%d}"
    places = "、".join(dict.fromkeys(s.place for s in sessions if s.place))
    figures = [(pgettext("activities", "场次"), f"{f['held']} / {f['sessions']}"),
               (pgettext("activities", "报名户数"), str(f["signups"])),
               (pgettext("activities", "参加人数"), str(f["participants"])),
               (pgettext("activities", "出席人次"), str(f["present"])),
               (pgettext("activities", "缺席人次"), str(f["absent"])),
               (pgettext("activities", "出席率"), f"{f['rate']}%" if f["rate"] is not None else "—")]
    if a.certificate_min:
        figures.append((pgettext("activities", "获得证书"), str(f["certificates"])))
    return {"a": a, "period": period, "places": places, "figures": figures, "by_community": f["by_community"],
            "summary": a.summary, "photos": list(a.photos.all())}


class BriefView(StaffView):
    def get(self, request, pk):
        a = self.activity(request, pk)
        ctx = _brief_context(a)
        if request.GET.get("format") == "pdf":
            from activities.pdf import brief_pdf
            from core import audit

            photos = []
            for ph in ctx["photos"]:
                try:
                    with ph.image.open("rb") as fh:
                        photos.append((fh.read(), ph.caption))
                except OSError:
                    continue
            pdf = brief_pdf(title=a.title, organiser=a.organiser_label, period=ctx["period"], places=ctx["places"],
                            figures=ctx["figures"], by_community=ctx["by_community"], summary=a.summary,
                            photos=photos, made=timezone.localdate())
            audit.record("brief_pdf", a, request=request)
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="brief-{a.pk}.pdf"'
            return response
        return render(request, "activities/brief.html", {"title": pgettext("activities", "活动简报"), **ctx})


class PhotoAddView(StaffView):
    def post(self, request, pk):
        a = self.activity(request, pk, "change")
        form = PhotoForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, pgettext("activities", "请选择一张照片"))
        else:
            try:
                services.add_photo(request.user, a, form.cleaned_data["image"], form.cleaned_data["caption"])
                messages.success(request, pgettext("activities", "照片已上传"))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("activities:detail", args=[a.pk]))


class PhotoView(StaffView):
    def get(self, request, pk):
        ph = get_object_or_404(ActivityPhoto.objects.filter(
            activity__in=Activity.objects.restrict(request.user, "view").values("pk")), pk=pk)
        try:
            fh = ph.image.open("rb")
        except OSError:
            raise Http404 from None
        ext = ph.image.name.rsplit(".", 1)[-1].lower()
        return FileResponse(fh, content_type={"jpg": "image/jpeg", "png": "image/png",
                                              "webp": "image/webp"}.get(ext, "application/octet-stream"))


class ExportView(StaffView):
    """The participants of one activity as a spreadsheet (names masked, ages, attendance per session),
    watermarked with who exported it and when; audited."""
    replica_reads = True  # its GET may read from the read replica (core.dbrouter)

    def get(self, request, pk):
        import io

        from core import audit
        from core.importexport import XlsxWriter

        a = self.activity(request, pk, "export")
        sessions = list(a.sessions.all())
        marks = {(r.session_id, r.participant_id): r.get_state_display()
                 for r in SessionAttendance.objects.filter(session__activity=a)}
        now = timezone.localtime()
        mark = _("人房 · %(u)s 导出于 %(t)s · 仅限工作使用") % {"u": request.user.get_username(),
                                                          "t": f"{now:%Y-%m-%d %H:%M}"}
        buf = io.BytesIO()
        rows = 0
        today = timezone.localdate()
        with XlsxWriter(buf, pgettext("activities", "活动报名名单"), mark) as w:
            w.header([pgettext("activities", "报名号"), pgettext("activities", "参加人"),
                      pgettext("activities", "年龄"), pgettext("activities", "状态"),
                      pgettext("activities", "报名时间"),
                      *[pgettext("activities", "第%(n)d场") % {"n": s.number} for s in sessions]])
            for p in (Participant.objects.filter(activity=a).select_related("person", "signup")
                      .order_by("signup_id", "id")):
                w.row([p.signup_id, mask_name(p.person.name), p.person.age(today) or "",
                       p.signup.get_state_display(), f"{timezone.localtime(p.signup.created_at):%Y-%m-%d %H:%M}",
                       *[marks.get((s.pk, p.pk), "") for s in sessions]])
                rows += 1
        audit.record("export", a, request=request, changes={"rows": rows})
        response = HttpResponse(buf.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="activity-{a.pk}-participants.xlsx"'
        return response
