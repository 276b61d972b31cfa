"""Pages of joint meetings and enterprise services.

Staff pages (``StaffView``): a permission held somewhere (else 403), the object among the rows
``restrict(user, "view")`` gives (else 404), the action allowed on it (else 403). Member pages (``MemberView``,
``/meetings/org/...``): a user bound to an organisation (``OrgMember``) sees their organisation's resolutions,
meetings and needs only; anyone else gets a 403 there, another organisation's record a 404.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import View

from core import audit
from core.scope import scope_for
from core.views import CappedPaginator, PermissionView
from meetings import forms as f
from meetings import services
from meetings.choices import OPEN_STATES, MeetingState, NeedCategory, NeedState, OrgKind, ResolutionState
from meetings.models import (
    AgendaItem,
    EnterpriseVisit,
    Evidence,
    GovService,
    InstructorAssignment,
    Invitation,
    Meeting,
    MeetingSeries,
    Need,
    Organisation,
    OrgGroup,
    ProgressUpdate,
    Project,
    Resolution,
    member_org_ids,
)

BOARD_PAGE = 50


class BoardPaginator(CappedPaginator):
    """Counts without the ordering (the count needs no sort; the page itself is read off the index in order)."""

    @cached_property
    def count(self) -> int:
        return min(self.object_list.order_by()[: self.cap + 1].count(), self.cap + 1)


def linked(rows, member: bool = False) -> list:
    """Rows of a resolutions table with their link and lateness worked out once (a board renders 50 of them)."""
    rows = list(rows)
    name = "meetings:my_resolution" if member else "meetings:resolution"
    prefix = reverse(name, args=[0])[:-2]
    now = timezone.now()
    tz = timezone.get_current_timezone()
    labels = dict(ResolutionState.choices)
    for r in rows:
        r.link = f"{prefix}{r.pk}/"
        r.late = r.state in OPEN_STATES and r.deadline_at is not None and r.deadline_at < now
        r.deadline_text = r.deadline_at.astimezone(tz).strftime("%Y-%m-%d") if r.deadline_at else "—"
        r.state_label = labels.get(r.state, r.state)
        r.owner_text = r.owner.name if r.owner_id else "—"
    return rows


def _errors(request, exc: ValidationError) -> None:
    for m in exc.messages:
        messages.error(request, m)


class StaffView(PermissionView):
    perm = "meetings.view_meeting"

    def get_obj(self, model, pk, action: str = "view", qs=None):
        base = (qs if qs is not None else model.objects).restrict(self.request.user, "view")
        obj = get_object_or_404(base, pk=pk)
        if action != "view" and not model.objects.restrict(self.request.user, action).filter(pk=obj.pk).exists():
            raise PermissionDenied(_("您可以查看此记录，但没有进行此操作的权限"))
        return obj

    def can(self, obj, action: str) -> bool:
        return type(obj).objects.restrict(self.request.user, action).filter(pk=obj.pk).exists()

    def has(self, perm: str) -> bool:
        return scope_for(self.request.user).has(perm)


def _act(request, fn, success: str, url: str, refusal_as_message: bool = False):
    """Run a service call from a POST: its refusal becomes a message on the page it came from (a PermissionDenied
    too when ``refusal_as_message``: a page whose action the user may take in general, not on this record)."""
    try:
        fn()
    except ValidationError as exc:
        _errors(request, exc)
    except PermissionDenied as exc:
        if not refusal_as_message:
            raise
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return HttpResponseRedirect(url)


# --- overview, organisations, groups ----------------------------------------------------------------------------
class HomeView(StaffView):
    def get(self, request):
        user = request.user
        series = (MeetingSeries.objects.restrict(user, "view").select_related("community", "convener")
                  .annotate(n_meetings=Count("meetings", distinct=True)).order_by("name"))
        upcoming = (Meeting.objects.restrict(user, "view").filter(state__in=[MeetingState.PLANNED, MeetingState.OPEN])
                    .select_related("series").order_by("starts_at")[:10])
        res = Resolution.objects.restrict(user, "view")
        now = timezone.now()
        figures = res.aggregate(total=Count("id", filter=~Q(state=ResolutionState.CANCELLED)),
                                done=Count("id", filter=Q(state=ResolutionState.DONE)),
                                open=Count("id", filter=Q(state__in=OPEN_STATES)),
                                overdue=Count("id", filter=Q(state__in=OPEN_STATES, deadline_at__lt=now)),
                                waiting=Count("id", filter=Q(state=ResolutionState.SUBMITTED)))
        return render(request, "meetings/home.html", {
            "title": _("联席会议与企业服务"), "series": series, "upcoming": upcoming, "figures": figures,
            "held": Meeting.objects.restrict(user, "view").filter(state=MeetingState.HELD).count(),
            "can_add_series": self.has("meetings.add_meetingseries")})


class OrgListView(StaffView):
    perm = "meetings.view_organisation"

    def get(self, request):
        qs = Organisation.objects.restrict(request.user, "view").select_related("community", "compound")
        kind, q = request.GET.get("kind", ""), (request.GET.get("q") or "").strip()[:50]
        if kind in OrgKind.values:
            qs = qs.filter(kind=kind)
        if q:
            qs = qs.filter(name__icontains=q)
        page = CappedPaginator(qs.order_by("kind", "name"), 50, 10_000).get_page(request.GET.get("page"))
        return render(request, "meetings/org_list.html", {
            "title": _("参会组织"), "page": page, "kinds": OrgKind.choices, "kind": kind, "q": q,
            "can_add": self.has("meetings.add_organisation")})


class OrgDetailView(StaffView):
    perm = "meetings.view_organisation"

    def get(self, request, pk):
        org = self.get_obj(Organisation, pk, qs=Organisation.objects.select_related("community", "compound",
                                                                                    "enterprise"))
        res = (Resolution.objects.restrict(request.user, "view").filter(Q(owner=org) | Q(assisting=org))
               .distinct().select_related("owner").order_by("-id")[:50])
        return render(request, "meetings/org.html", {
            "title": org.name, "org": org, "resolutions": linked(res),
            "members": org.members.select_related("user").order_by("id"),
            "groups": org.groups.all(), "can_change": self.can(org, "change")})


class OrgEditView(StaffView):
    perm = "meetings.view_organisation"

    def dispatch(self, request, *args, pk=None, **kwargs):
        return super().dispatch(request, *args, pk=pk, **kwargs)

    def _org(self, pk):
        if pk is None:
            if not self.has("meetings.add_organisation"):
                raise PermissionDenied(_("您没有新增组织的权限"))
            return None
        return self.get_obj(Organisation, pk, "change")

    def get(self, request, pk=None):
        org = self._org(pk)
        initial = {}
        if org is not None:
            initial = {"kind": org.kind, "name": org.name, "enterprise": org.enterprise_id,
                       "compound": org.compound_id, "community": org.community_id, "address": org.address,
                       "contact_name": org.contact_name, "note": org.note}
        form = f.OrgForm(initial=initial, user=request.user)
        return self.render_form(request, org, form)

    def render_form(self, request, org, form, status=200):
        return render(request, "meetings/form.html", {
            "title": _("修改组织") if org else _("新增组织"), "form": form,
            "cancel_url": reverse("meetings:org", args=[org.pk]) if org else reverse("meetings:orgs")},
            status=status)

    def post(self, request, pk=None):
        org = self._org(pk)
        form = f.OrgForm(request.POST, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            data = services.OrgData(kind=d["kind"], name=d["name"], community=d["community"],
                                    compound=d["compound"], enterprise=d["enterprise"], address=d["address"],
                                    contact_name=d["contact_name"], contact_phone=d["contact_phone"] or None,
                                    note=d["note"])
            try:
                org = services.save_organisation(request.user, data, org)
            except ValidationError as exc:
                from core.views import apply_errors

                apply_errors(form, exc)
            else:
                messages.success(request, _("已保存"))
                return HttpResponseRedirect(reverse("meetings:org", args=[org.pk]))
        return self.render_form(request, org, form, status=400)


class OrgMemberAddView(StaffView):
    perm = "meetings.change_organisation"

    def post(self, request, pk):
        from django.contrib.auth import get_user_model

        org = self.get_obj(Organisation, pk, "change")
        url = reverse("meetings:org", args=[org.pk])
        name = (request.POST.get("username") or "").strip()
        member = get_user_model().objects.filter(username=name, is_active=True).first() if name else None
        if member is None:
            messages.error(request, _("没有找到用户名为“%(u)s”的账号") % {"u": name[:30]})
            return HttpResponseRedirect(url)
        return _act(request, lambda: services.add_member(request.user, org, member, request.POST.get("title", "")),
                    _("已绑定：该账号可以查看本组织的工作"), url)


class GroupListView(StaffView):
    perm = "meetings.view_orggroup"

    def get(self, request):
        groups = (OrgGroup.objects.restrict(request.user, "view").annotate(n=Count("members", distinct=True))
                  .prefetch_related("projects").order_by("name"))
        ids = [p.pk for g in groups for p in g.projects.all()]
        rolled = services.project_progress(ids)
        for g in groups:
            g.rows = [(p, rolled.get(p.pk, {"percent": 0, "done": 0, "total": 0})) for p in g.projects.all()]
        return render(request, "meetings/groups.html", {"title": _("区域党建共同体与共建项目"), "groups": groups})


class GroupDetailView(StaffView):
    perm = "meetings.view_orggroup"

    def get(self, request, pk):
        group = self.get_obj(OrgGroup, pk)
        projects = list(Project.objects.restrict(request.user, "view").filter(group=group))
        rolled = services.project_progress([p.pk for p in projects])
        return render(request, "meetings/group.html", {
            "title": group.name, "group": group, "members": group.members.order_by("kind", "name"),
            "projects": [(p, rolled.get(p.pk, {"percent": 0, "done": 0, "total": 0})) for p in projects]})


class ProjectDetailView(StaffView):
    perm = "meetings.view_project"

    def get(self, request, pk):
        project = self.get_obj(Project, pk, qs=Project.objects.select_related("group", "lead"))
        res = (Resolution.objects.restrict(request.user, "view").filter(project=project)
               .select_related("owner", "meeting").order_by("deadline_at", "id"))
        rolled = services.project_progress([project.pk]).get(project.pk, {"percent": 0, "done": 0, "total": 0})
        return render(request, "meetings/project.html", {"title": project.name, "project": project,
                                                         "resolutions": linked(res), "rolled": rolled})


# --- series and meetings -------------------------------------------------------------------------------------------
class SeriesDetailView(StaffView):
    def get(self, request, pk):
        series = self.get_obj(MeetingSeries, pk, qs=MeetingSeries.objects.select_related("convener", "community"))
        meetings = (Meeting.objects.restrict(request.user, "view").filter(series=series)
                    .annotate(n_res=Count("resolutions", distinct=True)).order_by("-number"))
        open_count = Resolution.objects.restrict(request.user, "view").filter(series=series,
                                                                             state__in=OPEN_STATES).count()
        return render(request, "meetings/series.html", {
            "title": series.name, "series": series, "meetings": meetings, "open_count": open_count,
            "members": series.organisations.order_by("kind", "name"), "can_convene": self.can(series, "convene")})


class MeetingNewView(StaffView):
    perm = "meetings.convene_meetingseries"

    def get(self, request, pk):
        series = self.get_obj(MeetingSeries, pk, "convene")
        return self.render_form(request, series, f.MeetingForm(user=request.user))

    def render_form(self, request, series, form, status=200):
        return render(request, "meetings/form.html", {
            "title": _("召开%(s)s") % {"s": series.name}, "form": form,
            "cancel_url": reverse("meetings:series", args=[series.pk])}, status=status)

    def post(self, request, pk):
        series = self.get_obj(MeetingSeries, pk, "convene")
        form = f.MeetingForm(request.POST, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            tz = timezone.get_current_timezone()
            start = timezone.make_aware(dt.datetime.combine(d["day"], d["starts"]), tz)
            end = timezone.make_aware(dt.datetime.combine(d["day"], d["ends"]), tz)
            try:
                meeting = services.schedule_meeting(request.user, series, starts_at=start, ends_at=end,
                                                    title=d["title"], location=d["location"], room=d["room"])
            except ValidationError as exc:
                from core.views import apply_errors

                apply_errors(form, exc)
            else:
                messages.success(request, _("会议已安排，已通知参会单位"))
                return HttpResponseRedirect(reverse("meetings:meeting", args=[meeting.pk]))
        return self.render_form(request, series, form, status=400)


def _meeting_context(request, meeting: Meeting, *, staff: bool) -> dict:
    items = list(AgendaItem.objects.filter(meeting=meeting).select_related(
        "proposing_org", "case", "need", "carried_from", "carried_from__owner").order_by("carried_from_id", "order"))
    carried = [a for a in items if a.carried_from_id]
    proposed = [a for a in items if not a.carried_from_id]
    return {
        "meeting": meeting, "carried": carried[:200], "carried_more": max(0, len(carried) - 200),
        "proposed": proposed,
        "invitations": Invitation.objects.filter(meeting=meeting).select_related("organisation"),
        "minutes": getattr(meeting, "minutes", None) if hasattr(meeting, "minutes") else None,
        "resolutions": linked(meeting.resolutions.select_related("owner", "proposer").order_by("id"), not staff),
    }


class MeetingDetailView(StaffView):
    def get(self, request, pk):
        meeting = self.get_obj(Meeting, pk, qs=Meeting.objects.select_related("series", "room", "booking"))
        ctx = _meeting_context(request, meeting, staff=True)
        ctx.update(title=str(meeting), can_change=self.can(meeting, "change"),
                   can_propose=self.can(meeting, "propose"))
        if ctx["can_propose"]:  # an enterprise need may become an agenda item
            ctx["open_needs"] = (Need.objects.restrict(request.user, "view")
                                 .filter(state__in=[NeedState.OPEN, NeedState.IN_PROGRESS])
                                 .select_related("enterprise").order_by("-raised_on", "-id")[:100])
        if ctx["can_change"]:
            ctx["resolution_form"] = f.ResolutionForm(user=request.user, initial={
                "deadline_days": meeting.series.deadline_days})
        return render(request, "meetings/meeting.html", ctx)


class MeetingStateView(StaffView):
    """POST ``do=open`` (the open items of the series carried onto the agenda) or ``do=close``."""

    perm = "meetings.change_meeting"

    def post(self, request, pk):
        meeting = self.get_obj(Meeting, pk, "change")
        url = reverse("meetings:meeting", args=[meeting.pk])
        if request.POST.get("do") == "close":
            return _act(request, lambda: services.close_meeting(request.user, meeting), _("会议已结束"), url)

        def go():
            m = services.open_meeting(request.user, meeting)
            messages.info(request, _("已将%(n)d项未办结决议转入本次议程") % {"n": m.carried})
        return _act(request, go, _("会议已开始"), url)


class AgendaAddView(StaffView):
    perm = "meetings.propose_meeting"

    def post(self, request, pk):
        meeting = self.get_obj(Meeting, pk, "propose")
        url = reverse("meetings:meeting", args=[meeting.pk])
        case = need = None
        ref = (request.POST.get("case") or "").strip()
        if ref:
            from cases.models import Case

            case = Case.objects.restrict(request.user, "view").filter(number=ref).first()
            if case is None:
                messages.error(request, _("没有找到编号为“%(n)s”的案件（或不在您的管辖范围内）") % {"n": ref[:30]})
                return HttpResponseRedirect(url)
        need_id = request.POST.get("need") or ""
        if need_id.isdigit() and len(need_id) < 19:
            need = Need.objects.restrict(request.user, "view").filter(pk=int(need_id)).first()
        return _act(request, lambda: services.propose_item(
            request.user, meeting, title=request.POST.get("title", ""), description=request.POST.get("description", ""),
            case=case, need=need), _("议题已加入"), url)


class AttendanceView(StaffView):
    perm = "meetings.change_meeting"

    def post(self, request, pk):
        meeting = self.get_obj(Meeting, pk, "change")
        rows = {}
        for inv in Invitation.objects.filter(meeting=meeting):
            value = request.POST.get(f"att-{inv.pk}")
            if value is None:
                continue
            rows[inv.pk] = ({"yes": True, "no": False}.get(value), request.POST.get(f"who-{inv.pk}", ""))
        return _act(request, lambda: services.record_attendance(request.user, meeting, rows), _("出席情况已保存"),
                    reverse("meetings:meeting", args=[meeting.pk]))


class MinutesView(StaffView):
    perm = "meetings.change_meeting"

    def post(self, request, pk):
        meeting = self.get_obj(Meeting, pk, "change")
        return _act(request, lambda: services.save_minutes(request.user, meeting, request.POST.get("text", "")),
                    _("会议纪要已保存"), reverse("meetings:meeting", args=[meeting.pk]))


class MinutesPdfView(StaffView):
    def get(self, request, pk):
        from meetings.pdf import minutes_pdf

        meeting = self.get_obj(Meeting, pk, qs=Meeting.objects.select_related("series", "series__convener"))
        data = minutes_pdf(meeting)
        audit.record("print", meeting, request=request)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="minutes-{meeting.pk}.pdf"'
        return response


class ResolutionAddView(StaffView):
    perm = "meetings.change_meeting"

    def post(self, request, pk):
        meeting = self.get_obj(Meeting, pk, "change")
        url = reverse("meetings:meeting", args=[meeting.pk])
        form = f.ResolutionForm(request.POST, user=request.user)
        if not form.is_valid():
            for errs in form.errors.values():
                for e in errs:
                    messages.error(request, e)
            return HttpResponseRedirect(url)
        d = form.cleaned_data
        return _act(request, lambda: services.add_resolution(
            request.user, meeting, title=d["title"], detail=d["detail"], owner=d["owner"], assisting=d["assisting"],
            proposer=d["proposer"], deadline_days=d["deadline_days"], project=d["project"], weight=d["weight"] or 1),
            _("决议已记录"), url)


# --- resolutions -----------------------------------------------------------------------------------------------------
def board_rows(qs, data):
    """The board's filters: owner organisation, state, overdue, series, words of the title."""
    owner, state, series = data.get("owner", ""), data.get("state", ""), data.get("series", "")
    if owner.isdigit() and len(owner) < 19:
        qs = qs.filter(owner_id=int(owner))
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state in ResolutionState.values:
        qs = qs.filter(state=state)
    if data.get("overdue") in ("1", "true", "on"):
        qs = qs.filter(state__in=OPEN_STATES, deadline_at__lt=timezone.now())
    if series.isdigit() and len(series) < 19:
        qs = qs.filter(series_id=int(series))
    q = (data.get("q") or "").strip()[:50]
    if q:
        qs = qs.filter(title__icontains=q)
    return qs


class BoardView(StaffView):
    """The resolutions board: filters by owner, state, overdue; 50 a page, counted up to 10,000."""

    perm = "meetings.view_resolution"

    def get(self, request):
        qs = board_rows(Resolution.objects.restrict(request.user, "view"), request.GET)
        qs = qs.select_related("owner").order_by("deadline_at", "id").only(
            "id", "number", "title", "state", "progress", "deadline_at", "escalation_level", "owner__name")
        page = BoardPaginator(qs, BOARD_PAGE, 10_000).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        owners = (Organisation.objects.restrict(request.user, "view").filter(is_active=True).order_by("name")
                  .values_list("pk", "name")[:300])
        return render(request, "meetings/board.html", {
            "title": _("决议督办台账"), "page": page, "rows": linked(page.object_list),
            "states": ResolutionState.choices,
            "owners": owners, "f": request.GET, "querystring": query.urlencode(),
            "can_export": self.has("meetings.export_resolution")})


class BoardExportView(StaffView):
    replica_reads = True  # its GET may read from the read replica (core.dbrouter)
    perm = "meetings.export_resolution"

    def get(self, request):
        import io

        from core.importexport import XlsxWriter

        qs = board_rows(Resolution.objects.restrict(request.user, "export"), request.GET).select_related(
            "owner", "meeting", "series", "proposer").prefetch_related("assisting").order_by("deadline_at", "id")
        now = timezone.localtime()
        mark = _("人房 · %(u)s 导出于 %(t)s · 仅限工作使用") % {"u": request.user.get_username(),
                                                          "t": f"{now:%Y-%m-%d %H:%M}"}
        buf = io.BytesIO()
        rows = 0
        with XlsxWriter(buf, _("联席会议决议"), mark) as w:
            w.header([_("编号"), _("决议事项"), _("联席会议"), _("届次"), _("责任单位"), _("协办单位"), _("提出方"),
                      _("状态"), _("进度(%)"), _("办理期限"), _("督办级别"), _("办结时间")])
            for r in qs.iterator(chunk_size=2000):
                w.row([r.number, r.title, r.series.name, r.meeting.number, r.owner.name if r.owner_id else "",
                       "、".join(o.name for o in r.assisting.all()), r.proposer.name if r.proposer_id else "",
                       r.get_state_display(), r.progress,
                       f"{timezone.localtime(r.deadline_at):%Y-%m-%d}" if r.deadline_at else "",
                       r.escalation_level, f"{timezone.localtime(r.done_at):%Y-%m-%d}" if r.done_at else ""])
                rows += 1
        audit.record("export", request=request, object_type="meetings.resolution", changes={"rows": rows})
        response = HttpResponse(buf.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="resolutions-{now:%Y%m%d}.xlsx"'
        return response


def _timeline(res: Resolution):
    return (ProgressUpdate.objects.filter(resolution=res).select_related("user", "organisation", "meeting")
            .prefetch_related("evidence").order_by("at", "id"))


class ResolutionDetailView(StaffView):
    perm = "meetings.view_resolution"

    def get(self, request, pk):
        res = self.get_obj(Resolution, pk, qs=Resolution.objects.select_related(
            "owner", "proposer", "meeting", "series", "project"))
        can_change = self.can(res, "change")
        ctx = {"title": res.title, "res": res, "timeline": _timeline(res), "can_change": can_change,
               "can_confirm": services.can_confirm(request.user, res), "evidence_url": "meetings:evidence",
               "assisting": res.assisting.all(), "now": timezone.now()}
        if can_change:
            ctx["assign_form"] = f.AssignForm(user=request.user, initial={
                "owner": res.owner_id, "assisting": [o.pk for o in ctx["assisting"]],
                "deadline_days": res.deadline_days})
            ctx["progress_form"] = f.ProgressForm(initial={"progress": res.progress})
        return render(request, "meetings/resolution.html", ctx)


class ResolutionAssignView(StaffView):
    perm = "meetings.change_resolution"

    def post(self, request, pk):
        res = self.get_obj(Resolution, pk, "change")
        url = reverse("meetings:resolution", args=[res.pk])
        form = f.AssignForm(request.POST, user=request.user)
        if not form.is_valid():
            for errs in form.errors.values():
                for e in errs:
                    messages.error(request, e)
            return HttpResponseRedirect(url)
        d = form.cleaned_data
        return _act(request, lambda: services.assign(request.user, res, owner=d["owner"], assisting=d["assisting"],
                                                     deadline_days=d["deadline_days"]), _("已交办"), url)


def _progress_post(request, res: Resolution, url: str):
    form = f.ProgressForm(request.POST, request.FILES)
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return HttpResponseRedirect(url)
    d = form.cleaned_data
    files = request.FILES.getlist("evidence")
    if d["done"]:
        return _act(request, lambda: services.submit_done(request.user, res, note=d["note"], files=files),
                    _("已报请提出方确认办结"), url)
    progress = d["progress"] if d["progress"] is not None else res.progress
    return _act(request, lambda: services.report_progress(request.user, res, progress=progress, note=d["note"],
                                                          files=files), _("进展已填报"), url)


def _confirm_post(request, res: Resolution, url: str):
    if request.POST.get("decision") == "reject":
        return _act(request, lambda: services.reject(request.user, res, note=request.POST.get("note", "")),
                    _("已退回责任单位继续办理"), url, refusal_as_message=True)
    review = request.POST.get("review_on") or ""
    try:
        review_on = dt.date.fromisoformat(review) if review else None
    except ValueError:
        review_on = None
    return _act(request, lambda: services.confirm(request.user, res, note=request.POST.get("note", ""),
                                                  review_on=review_on), _("已确认办结"), url,
                refusal_as_message=True)


class ResolutionUpdateView(StaffView):
    perm = "meetings.change_resolution"

    def post(self, request, pk):
        res = self.get_obj(Resolution, pk, "change")
        return _progress_post(request, res, reverse("meetings:resolution", args=[res.pk]))


class ResolutionConfirmView(StaffView):
    perm = "meetings.confirm_resolution"

    def post(self, request, pk):
        res = self.get_obj(Resolution, pk, "confirm")
        return _confirm_post(request, res, reverse("meetings:resolution", args=[res.pk]))


def _serve(ev: Evidence):
    try:
        fh = ev.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(fh, content_type=ev.content_type)
    response["Content-Disposition"] = "inline"
    return response


class EvidenceView(StaffView):
    perm = "meetings.view_resolution"

    def get(self, request, pk):
        ev = get_object_or_404(Evidence.objects.select_related("update"), pk=pk)
        self.get_obj(Resolution, ev.update.resolution_id)
        return _serve(ev)


# --- enterprise services --------------------------------------------------------------------------------------------
def _enterprises(user):
    from people.models import Enterprise

    return Enterprise.objects.restrict(user, "view").filter(compound__kind="office")


class EnterprisesView(StaffView):
    """The tower's enterprises: who serves each (instructor, grid worker), visits and open needs."""

    perm = "meetings.view_need"

    def get(self, request):
        qs = _enterprises(request.user).select_related("compound")
        floor = request.GET.get("floor", "")
        if floor.lstrip("-").isdigit() and len(floor) < 4:
            qs = qs.filter(floor=int(floor))
        q = (request.GET.get("q") or "").strip()[:50]
        if q:
            qs = qs.filter(name__icontains=q)
        page = Paginator(qs.order_by("compound__name", "floor", "room", "name"), 50).get_page(request.GET.get("page"))
        ids = [e.pk for e in page.object_list]
        serving = {}
        for a in InstructorAssignment.objects.filter(enterprise_id__in=ids, until__isnull=True).select_related("user"):
            serving.setdefault(a.enterprise_id, []).append(a)
        visits = dict(EnterpriseVisit.objects.filter(enterprise_id__in=ids).values("enterprise_id")
                      .annotate(n=Count("id")).values_list("enterprise_id", "n"))
        needs = dict(Need.objects.filter(enterprise_id__in=ids, state__in=[NeedState.OPEN, NeedState.IN_PROGRESS])
                     .values("enterprise_id").annotate(n=Count("id")).values_list("enterprise_id", "n"))
        rows = [(e, serving.get(e.pk, []), visits.get(e.pk, 0), needs.get(e.pk, 0)) for e in page.object_list]
        return render(request, "meetings/enterprises.html", {"title": _("楼宇企业服务"), "page": page, "rows": rows,
                                                             "q": q, "floor": floor})


class EnterpriseView(StaffView):
    perm = "meetings.view_need"

    def get(self, request, pk):
        from people.models import Enterprise

        ent = self.get_obj(Enterprise, pk, qs=Enterprise.objects.select_related("compound"))
        return render(request, "meetings/enterprise.html", {
            "title": ent.name, "ent": ent,
            "serving": InstructorAssignment.objects.filter(enterprise=ent).select_related("user").order_by("-since"),
            "visits": EnterpriseVisit.objects.filter(enterprise=ent).select_related("visitor")[:20],
            "needs": Need.objects.filter(enterprise=ent).order_by("-raised_on", "-id")[:50],
            "org": Organisation.objects.filter(enterprise=ent).first(),
            "instructor_form": f.InstructorForm(enterprise=ent),
            "can_assign": self.has("meetings.add_instructorassignment"),
            "can_visit": self.has("meetings.add_enterprisevisit")})


class InstructorAssignView(StaffView):
    perm = "meetings.add_instructorassignment"

    def post(self, request, pk):
        from people.models import Enterprise

        ent = self.get_obj(Enterprise, pk)
        url = reverse("meetings:enterprise", args=[ent.pk])
        form = f.InstructorForm(request.POST, enterprise=ent)
        services._require_enterprise(request.user, ent, "meetings.add_instructorassignment")
        if not form.is_valid():
            messages.error(request, _("请选择服务人员和身份"))
            return HttpResponseRedirect(url)
        return _act(request, lambda: services.assign_instructor(request.user, ent, form.cleaned_data["user"],
                                                                role=form.cleaned_data["role"]), _("已安排"), url)


class VisitNewView(StaffView):
    """The visit form on a phone (390×844): who was met, what was seen, the needs heard, by category."""

    perm = "meetings.add_enterprisevisit"
    NEEDS = 3

    def get(self, request, pk):
        from people.models import Enterprise

        ent = self.get_obj(Enterprise, pk)
        services._require_enterprise(request.user, ent, self.perm)
        return self.render_form(request, ent, f.VisitForm(), self.need_forms())

    def need_forms(self, data=None):
        """Up to three needs heard on the visit, each optional (an empty one is skipped)."""
        out = []
        for i in range(self.NEEDS):
            nf = f.NeedForm(data, prefix=f"n{i}")
            nf.fields["title"].required = False
            out.append(nf)
        return out

    def render_form(self, request, ent, form, need_forms, status=200):
        return render(request, "meetings/visit.html", {"title": _("走访 %(e)s") % {"e": ent.name}, "ent": ent,
                                                       "form": form, "need_forms": need_forms}, status=status)

    def post(self, request, pk):
        from people.models import Enterprise

        ent = self.get_obj(Enterprise, pk)
        services._require_enterprise(request.user, ent, self.perm)
        form = f.VisitForm(request.POST)
        need_forms = self.need_forms(request.POST)
        needs = []
        for nf in need_forms:
            if not (request.POST.get(f"{nf.prefix}-title") or "").strip():
                continue
            if nf.is_valid():
                needs.append((nf.cleaned_data["category"], nf.cleaned_data["title"], nf.cleaned_data["detail"]))
        if form.is_valid() and all(nf.is_valid() for nf in need_forms
                                   if (request.POST.get(f"{nf.prefix}-title") or "").strip()):
            d = form.cleaned_data
            try:
                services.record_visit(request.user, ent, visited_on=d["visited_on"], met=d["met"], note=d["note"],
                                      needs=needs)
            except ValidationError as exc:
                from core.views import apply_errors

                apply_errors(form, exc)
            else:
                messages.success(request, _("走访已记录，诉求%(n)d条") % {"n": len(needs)})
                return HttpResponseRedirect(reverse("meetings:enterprise", args=[ent.pk]))
        return self.render_form(request, ent, form, need_forms, status=400)


def needs_filtered(qs, data):
    cat, state, floor, ent = (data.get(k, "") for k in ("category", "state", "floor", "enterprise"))
    if cat in NeedCategory.values:
        qs = qs.filter(category=cat)
    if state == "open":
        qs = qs.filter(state__in=[NeedState.OPEN, NeedState.IN_PROGRESS])
    elif state in NeedState.values:
        qs = qs.filter(state=state)
    if floor.lstrip("-").isdigit() and len(floor) < 4:
        qs = qs.filter(floor=int(floor))
    if ent.isdigit() and len(ent) < 19:
        qs = qs.filter(enterprise_id=int(ent))
    return qs


class NeedListView(StaffView):
    """Needs by category, floor and enterprise: the list with its filters and the figures of what it shows."""

    perm = "meetings.view_need"

    def get(self, request):
        qs = needs_filtered(Need.objects.restrict(request.user, "view"), request.GET)
        by_cat = {row["category"]: row for row in qs.values("category").annotate(
            n=Count("id"), resolved=Count("id", filter=Q(state__in=[NeedState.RESOLVED, NeedState.CLOSED]))
        ).order_by()}
        cats = [(code, label, by_cat.get(code, {}).get("n", 0), by_cat.get(code, {}).get("resolved", 0))
                for code, label in NeedCategory.choices]
        floors = list(qs.values("floor").annotate(n=Count("id"), open=Count(
            "id", filter=Q(state__in=[NeedState.OPEN, NeedState.IN_PROGRESS]))).order_by("floor"))
        page = CappedPaginator(qs.select_related("enterprise").order_by("-raised_on", "-id"), 50,
                               10_000).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(request, "meetings/needs.html", {
            "title": _("企业诉求"), "page": page, "cats": cats, "floors": floors, "f": request.GET,
            "categories": NeedCategory.choices, "states": NeedState.choices, "querystring": query.urlencode()})


class NeedDetailView(StaffView):
    perm = "meetings.view_need"

    def get(self, request, pk):
        need = self.get_obj(Need, pk, qs=Need.objects.select_related("enterprise", "case", "visit", "handler"))
        return render(request, "meetings/need.html", {"title": need.title, "need": need,
                                                      "can_change": self.can(need, "change")})


class NeedActView(StaffView):
    perm = "meetings.change_need"

    def post(self, request, pk):
        need = self.get_obj(Need, pk, "change")
        url = reverse("meetings:need", args=[need.pk])
        do, note = request.POST.get("do"), request.POST.get("note", "")
        if do == "resolve":
            return _act(request, lambda: services.resolve_need(request.user, need, note=note), _("诉求已办结"), url)
        if do == "case":
            return _act(request, lambda: services.need_to_case(request.user, need), _("已转为案件"), url)
        if do == "rate":
            return _act(request, lambda: services.rate_need(request.user, need, request.POST.get("satisfaction", "")),
                        _("满意度已记录"), url)
        return _act(request, lambda: services.need_progress(request.user, need, note=note), _("已记录办理情况"), url)


class TowerBoardView(StaffView):
    """The tower's own board: needs by category (raised / resolved), by floor, satisfaction, resolutions."""

    perm = "meetings.view_need"

    def get(self, request):
        from places.models import Compound

        towers = Compound.objects.restrict(request.user, "view").filter(kind="office").order_by("name")
        return render(request, "meetings/tower.html", {"title": _("楼宇看板"), "towers": towers,
                                                       "tower": request.GET.get("tower", "")})


class TowerDataView(StaffView):
    perm = "meetings.view_need"

    def get(self, request):
        qs = Need.objects.restrict(request.user, "view")
        tower = request.GET.get("tower", "")
        if tower.isdigit() and len(tower) < 19:
            qs = qs.filter(compound_id=int(tower))
        labels = dict(NeedCategory.choices)
        cats = {r["category"]: r for r in qs.values("category").annotate(
            n=Count("id"), resolved=Count("id", filter=Q(state__in=[NeedState.RESOLVED, NeedState.CLOSED])))
            .order_by()}
        floors = list(qs.exclude(floor=None).values("floor").annotate(n=Count("id")).order_by("floor"))
        sat = {r["satisfaction"]: r["n"] for r in qs.exclude(satisfaction="").values("satisfaction")
               .annotate(n=Count("id")).order_by()}
        ents = _enterprises(request.user)
        if tower.isdigit() and len(tower) < 19:
            ents = ents.filter(compound_id=int(tower))
        served = InstructorAssignment.objects.filter(enterprise__in=ents.values("pk"), until__isnull=True).values(
            "enterprise_id").distinct().count()
        res = Resolution.objects.restrict(request.user, "view")
        now = timezone.now()
        return JsonResponse({
            "categories": [{"key": k, "label": str(v), "raised": cats.get(k, {}).get("n", 0),
                            "resolved": cats.get(k, {}).get("resolved", 0)} for k, v in labels.items()],
            "floors": [{"floor": r["floor"], "n": r["n"]} for r in floors],
            "satisfaction": [{"key": k, "label": str(v), "n": sat.get(k, 0)} for k, v in
                             (("satisfied", _("满意")), ("basic", _("基本满意")), ("dissatisfied", _("不满意")))],
            "figures": {"enterprises": ents.count(), "served": served,
                        "needs": sum(c.get("n", 0) for c in cats.values()),
                        "resolutions_done": res.filter(state=ResolutionState.DONE).count(),
                        "resolutions_overdue": res.filter(state__in=OPEN_STATES, deadline_at__lt=now).count()},
        })


class GovServiceListView(LoginRequiredMixin, View):
    """Government services held in the towers (dates, counters, appointments): for everyone logged in, the tower's
    enterprises' members first (no personal data on it)."""

    def get(self, request):
        today = timezone.localdate()
        rows = (GovService.objects.filter(is_active=True).filter(Q(on_date__isnull=True) | Q(on_date__gte=today))
                .select_related("compound", "appointment").order_by("compound__name", "on_date", "starts"))
        return render(request, "meetings/govservices.html", {
            "title": _("政务服务进楼宇"), "rows": rows[:200],
            "can_add": scope_for(request.user).has("meetings.add_govservice")})


class GovServiceNewView(StaffView):
    perm = "meetings.add_govservice"

    def get(self, request):
        return render(request, "meetings/form.html", {"title": _("新增政务服务"),
                                                      "form": f.GovServiceForm(user=request.user),
                                                      "cancel_url": reverse("meetings:govservices")})

    def post(self, request):
        form = f.GovServiceForm(request.POST, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.save_govservice(request.user, **d)
            except ValidationError as exc:
                from core.views import apply_errors

                apply_errors(form, exc)
            else:
                messages.success(request, _("已保存"))
                return HttpResponseRedirect(reverse("meetings:govservices"))
        return render(request, "meetings/form.html", {"title": _("新增政务服务"), "form": form,
                                                      "cancel_url": reverse("meetings:govservices")}, status=400)


# --- an organisation's member ------------------------------------------------------------------------------------
class MemberView(LoginRequiredMixin, View):
    """A user bound to an organisation: their organisation's work only."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.org_ids = member_org_ids(request.user)
            if not self.org_ids:
                raise PermissionDenied(_("您的账号没有绑定任何组织；请联系社区工作人员"))
        return super().dispatch(request, *args, **kwargs)

    def resolution(self, pk):
        return get_object_or_404(Resolution.objects.for_member(self.request.user).select_related(
            "owner", "proposer", "meeting", "series"), pk=pk)

    def proposer_resolutions(self):
        return Resolution.objects.filter(proposer_id__in=self.org_ids)


class MyView(MemberView):
    def get(self, request):
        orgs = Organisation.objects.filter(pk__in=self.org_ids)
        mine = (Resolution.objects.for_member(request.user) | self.proposer_resolutions()).distinct()
        mine = mine.select_related("owner", "meeting").order_by("deadline_at", "id")
        meetings = (Meeting.objects.filter(invitations__organisation_id__in=self.org_ids).distinct()
                    .select_related("series").order_by("-starts_at")[:10])
        needs = Need.objects.filter(enterprise__organisation__in=self.org_ids).order_by("-raised_on", "-id")[:20]
        return render(request, "meetings/my.html", {
            "title": _("本单位的联席会议工作"), "orgs": orgs,
            "open": linked([r for r in mine if r.is_open][:100], member=True),
            "done": linked([r for r in mine if r.state == ResolutionState.DONE][:20], member=True),
            "meetings": meetings, "needs": needs,
            "now": timezone.now(), "categories": NeedCategory.choices,
            "has_enterprise": orgs.filter(enterprise__isnull=False).exists()})


class MyResolutionView(MemberView):
    def get(self, request, pk):
        res = get_object_or_404((Resolution.objects.for_member(request.user) | self.proposer_resolutions())
                                .distinct().select_related("owner", "proposer", "meeting", "series"), pk=pk)
        return render(request, "meetings/resolution.html", {
            "title": res.title, "res": res, "timeline": _timeline(res), "member": True,
            "can_update": services.can_update(request.user, res) and res.state in (
                ResolutionState.ASSIGNED, ResolutionState.IN_PROGRESS),
            "can_confirm": services.can_confirm(request.user, res), "assisting": res.assisting.all(),
            "progress_form": f.ProgressForm(initial={"progress": res.progress}), "evidence_url": "meetings:my_evidence",
            "now": timezone.now()})


class MyUpdateView(MemberView):
    def post(self, request, pk):
        res = self.resolution(pk)
        return _progress_post(request, res, reverse("meetings:my_resolution", args=[res.pk]))


class MyConfirmView(MemberView):
    def post(self, request, pk):
        res = get_object_or_404(self.proposer_resolutions(), pk=pk)
        return _confirm_post(request, res, reverse("meetings:my_resolution", args=[res.pk]))


class MyEvidenceView(MemberView):
    def get(self, request, pk):
        ev = get_object_or_404(Evidence.objects.select_related("update"), pk=pk)
        visible = (Resolution.objects.for_member(request.user) | self.proposer_resolutions()).filter(
            pk=ev.update.resolution_id)
        if not visible.exists():
            raise Http404
        return _serve(ev)


class MyMeetingView(MemberView):
    def get(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.filter(invitations__organisation_id__in=self.org_ids)
                                    .distinct().select_related("series"), pk=pk)
        ctx = _meeting_context(request, meeting, staff=False)
        mine = set((Resolution.objects.for_member(request.user) | self.proposer_resolutions())
                   .filter(meeting=meeting).values_list("pk", flat=True))
        for r in ctx["resolutions"]:  # another organisation's resolution: its title as said at the meeting, no link
            if r.pk not in mine:
                r.link = ""
        ctx.update(title=str(meeting), member=True)
        return render(request, "meetings/meeting.html", ctx)


class MyProposeView(MemberView):
    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.filter(invitations__organisation_id__in=self.org_ids)
                                    .distinct(), pk=pk)
        need = None
        need_id = request.POST.get("need") or ""
        if need_id.isdigit() and len(need_id) < 19:
            need = Need.objects.filter(enterprise__organisation__in=self.org_ids, pk=int(need_id)).first()
        return _act(request, lambda: services.propose_item(
            request.user, meeting, title=request.POST.get("title", ""), description=request.POST.get("description", ""),
            need=need), _("议题已提交"), reverse("meetings:my_meeting", args=[meeting.pk]))


class MyNeedView(MemberView):
    """The enterprise's own need: what was done, and its satisfaction asked."""

    def need(self, pk):
        return get_object_or_404(Need.objects.filter(enterprise__organisation__in=self.org_ids)
                                 .select_related("enterprise", "case"), pk=pk)

    def get(self, request, pk):
        need = self.need(pk)
        return render(request, "meetings/need.html", {"title": need.title, "need": need, "member": True})

    def post(self, request, pk):
        need = self.need(pk)
        return _act(request, lambda: services.rate_need(request.user, need, request.POST.get("satisfaction", "")),
                    _("感谢您的评价"), reverse("meetings:my_need", args=[need.pk]))


class MyNeedNewView(MemberView):
    def post(self, request):
        org = Organisation.objects.filter(pk__in=self.org_ids, enterprise__isnull=False).select_related(
            "enterprise").first()
        if org is None:
            raise PermissionDenied(_("只有企业可以提出企业诉求"))
        form = f.NeedForm(request.POST)
        if not form.is_valid():
            for errs in form.errors.values():
                for e in errs:
                    messages.error(request, e)
            return HttpResponseRedirect(reverse("meetings:my"))
        d = form.cleaned_data
        return _act(request, lambda: services.raise_need(request.user, org.enterprise, category=d["category"],
                                                         title=d["title"], detail=d["detail"]),
                    _("诉求已提交，社区将尽快联系您"), reverse("meetings:my"))


__all__ = [name for name in dir() if name.endswith("View")]
