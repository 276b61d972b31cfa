"""Pages of fieldwork: the grid worker's phone workbench (today's list, the house visit form, the visit's result),
the community officer's review queue and workload view, the history of a house and of a person, and the policy.

Every read goes through ``restrict(user, action)`` (out of scope → 404, in scope but not allowed → 403); every
write through ``fieldwork.services`` (or quality's ``assign``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import mimetypes
import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.models import Grant
from core.scope import scope_for
from core.services import ConflictError
from core.views import PermissionView, apply_errors, is_htmx, require
from fieldwork import services
from fieldwork.forms import AssignForm, NewPersonForm, RejectForm, VisitForm
from fieldwork.metrics import OVERDUE_REVIEW_DAYS, week_bounds
from fieldwork.models import ChangeKind, ChangePolicy, ChangeRequest, ChangeStatus, Visit
from fieldwork.pwa import owner_of
from fieldwork.review import change_view
from people.models import Person, Residence
from places.models import House

__all__ = ["ChangeDetailView", "HouseHistoryView", "HouseVisitView", "PersonHistoryView", "PolicyView",
           "ReviewView", "TodayView", "VisitDetailView", "VisitPhotoView", "WorkloadView"]

HOUSE_RELATED = ["building__compound", "grid", "community", "street", "compound"]
TODAY_PAGE = 40  # homes a page of today's list shows (a day's round is a few dozen homes)



def _report_url(house: House) -> str | None:
    """The cases app's phone report page for this house, when that app offers it."""
    try:
        return f"{reverse('cases:report')}?house={house.pk}"
    except NoReverseMatch:
        return None


def _case_form(request, house: House) -> dict | None:
    """The short case report of the house page (kept offline with it, sent through the cases API with the
    client-generated id as its Idempotency-Key); None when the cases app or the permission is missing."""
    try:
        api = reverse("cases-api:case-list")
    except NoReverseMatch:
        return None
    if not scope_for(request.user).has("cases.add_case"):
        return None
    from cases.views import category_choices

    return {"api": api, "categories": category_choices(), "client_id": uuid.uuid4(), "house": house}


class FieldworkView(PermissionView):
    perm = "fieldwork.view_visit"


# --- the workbench ----------------------------------------------------------------------------------------------
class TodayView(FieldworkView):
    """Today's homes to visit (quality's worklist), building by building; one tap opens a house."""

    perm = "fieldwork.submit_visit"

    def get(self, request):
        from quality.services import worklist, worklist_count

        # One COUNT and one page of 40 ordered in the database: the list of a big grid holds thousands of homes.
        total = worklist_count(request.user, mine_or_unassigned=request.user)
        pages = max(1, -(-total // TODAY_PAGE))
        try:
            page = min(max(1, int(request.GET.get("page", 1))), pages)
        except ValueError:
            page = 1
        shown = worklist(request.user, mine_or_unassigned=request.user, offset=(page - 1) * TODAY_PAGE,
                         limit=TODAY_PAGE)
        start, _end = week_bounds()
        done_today = set(Visit.objects.restrict(request.user, "view")
                         .filter(worker=request.user, visited_at__gte=timezone.make_aware(
                             dt.datetime.combine(timezone.localdate(), dt.time.min)))
                         .values_list("house_id", flat=True))
        buildings = []
        for building_id, group in itertools.groupby(shown, key=lambda i: i.building_id):
            rows = list(group)
            name = rows[0].address.rsplit("幢", 1)[0] + "幢" if "幢" in rows[0].address else ""
            for row in rows:
                row.short = row.address[len(name):] if name and row.address.startswith(name) else row.address
            buildings.append({"id": building_id, "name": name or rows[0].address, "items": rows})
        week = Visit.objects.restrict(request.user, "view").filter(worker=request.user, visited_at__gte=start).count()
        return render(request, "fieldwork/today.html", {
            "title": _("今日走访"), "owner": owner_of(request), "buildings": buildings, "total": total,
            "done_today": done_today, "week_visits": week, "today": timezone.localdate(), "page": page, "pages": pages,
            "prev": page - 1 if page > 1 else None, "next": page + 1 if page < pages else None})


def _residents(house: House) -> list[Residence]:
    return list(Residence.objects.filter(house_id=house.pk, moved_out__isnull=True).select_related("person")
                .order_by("-relation", "moved_in", "id"))


def _house_or_404(request, pk: int) -> House:
    return get_object_or_404(House.objects.restrict(request.user, "view").select_related(*HOUSE_RELATED), pk=pk)


def _person_payload(form: NewPersonForm) -> tuple[str, dict]:
    d = form.cleaned_data
    where = {"relation": d.get("relation") or "", "role": d.get("role") or "family",
             "moved_in": d["moved_in"].isoformat() if d.get("moved_in") else ""}
    if d.get("mode") == "existing":
        return ChangeKind.MOVE_IN, {"id_type": d["existing_id_type"], "id_number": d["existing_id_number"], **where}
    pdata = form.person_data()
    return ChangeKind.NEW_PERSON, {
        "name": pdata.name, "id_type": pdata.id_type, "id_number": pdata.id_number, "phone": pdata.phone,
        "residency_type": pdata.residency_type, "nationality": pdata.nationality, "ethnicity": pdata.ethnicity,
        "hukou_address": pdata.hukou_address, "work_unit": pdata.work_unit, "note": pdata.note,
        "tags": pdata.tags or [], "accept_warnings": bool(d.get("accept_warnings")), **where}


ITEM_FIELD = {ChangeKind.MOVE_OUT: "move_out", ChangeKind.CHANGE_USE: "new_use", ChangeKind.PHONE_FIX: "phone_new",
              ChangeKind.HOUSEHOLDER_CHANGE: "householder"}


class HouseVisitView(FieldworkView):
    """The house visit page: the household with a one-tap "unchanged", and the forms of every change."""

    perm = "fieldwork.submit_visit"

    def context(self, request, house, form, person_form, **extra) -> dict:
        residents = form.residents
        last = Visit.objects.filter(house_id=house.pk).select_related("worker").first()
        return {"title": house.address, "house": house, "residents": residents, "form": form,
                "person_form": person_form, "last_visit": last, "report_url": _report_url(house),
                "quick_id": uuid.uuid4(), "history_url": reverse("fieldwork:house_history", args=[house.pk]),
                "pending": ChangeRequest.objects.filter(house_id=house.pk, status=ChangeStatus.PENDING).count(),
                "owner": owner_of(request), "case_form": _case_form(request, house), **extra}

    def forms(self, request, house, data=None, files=None):
        residents = _residents(house)
        form = VisitForm(data, files, residents=residents, house=house,
                         initial={"client_id": uuid.uuid4(), "house_version": house.version})
        form.residents = residents
        person_form = NewPersonForm(data if data is not None and data.get("add_person") else None, prefix="new")
        return form, person_form, residents

    def get(self, request, pk: int):
        house = _house_or_404(request, pk)
        audit.record_view(request, house)
        form, person_form, _r = self.forms(request, house)
        return render(request, "fieldwork/house.html", self.context(request, house, form, person_form))

    def post(self, request, pk: int):
        house = _house_or_404(request, pk)
        form, person_form, residents = self.forms(request, house, request.POST, request.FILES)
        wants_json = request.headers.get("X-Fieldwork-Draft") == "1"
        ok = form.is_valid() & (not person_form.is_bound or person_form.is_valid())
        if ok:
            try:
                visit = self.submit(request, house, form, person_form, residents)
            except ConflictError as exc:
                return self.conflict(request, house, form, person_form, exc, wants_json)
            except ValidationError as exc:
                target = person_form if getattr(exc, "item_kind", "") in (ChangeKind.NEW_PERSON,
                                                                         ChangeKind.MOVE_IN) else form
                field = ITEM_FIELD.get(getattr(exc, "item_kind", ""))
                if field and hasattr(exc, "error_dict"):
                    exc = ValidationError({(k if k in target.fields else field): v
                                           for k, v in exc.error_dict.items()})
                apply_errors(target, exc)
            else:
                url = reverse("fieldwork:visit", args=[visit.pk])
                if wants_json:
                    return JsonResponse({"ok": True, "visit": visit.pk, "url": url})
                return HttpResponseRedirect(url)
        if wants_json:
            errors = form.errors.get_json_data()
            if person_form.is_bound:
                errors.update({f"new-{k}": v for k, v in person_form.errors.get_json_data().items()})
            return JsonResponse({"ok": False, "errors": errors}, status=400)
        return render(request, "fieldwork/house.html", self.context(request, house, form, person_form), status=400)

    def submit(self, request, house, form, person_form, residents) -> Visit:
        d = form.cleaned_data
        items: list[services.VisitItem] = []
        if d.get("unchanged"):
            items.append(services.VisitItem(ChangeKind.UNCHANGED, payload={"person_ids": [r.person_id
                                                                                        for r in residents]}))
        for pid in d.get("move_out") or []:
            items.append(services.VisitItem(ChangeKind.MOVE_OUT, pid, {
                "moved_out": d["moved_out"].isoformat() if d.get("moved_out") else "",
                "reason": d.get("move_out_reason") or ""}))
        if d.get("add_person") and person_form.is_bound:
            kind, payload = _person_payload(person_form)
            items.append(services.VisitItem(kind, payload=payload))
        if d.get("householder"):
            items.append(services.VisitItem(ChangeKind.HOUSEHOLDER_CHANGE, d["householder"]))
        if d.get("new_use"):
            items.append(services.VisitItem(ChangeKind.CHANGE_USE, payload={"use": d["new_use"]}))
        if d.get("phone_person"):
            version = request.POST.get(f"pv_{d['phone_person']}")
            items.append(services.VisitItem(ChangeKind.PHONE_FIX, d["phone_person"], {
                "phone": d["phone_new"], "person_version": int(version) if (version or "").isdigit() else None}))
        if not items and not d.get("not_home"):
            # One control means "unchanged": the quick button, or this form sent with no change (a note, a photo).
            items.append(services.VisitItem(ChangeKind.UNCHANGED, payload={"person_ids": [r.person_id
                                                                                        for r in residents]}))
        return services.submit_visit(request.user, house, client_id=d["client_id"], items=items,
                                     note=d.get("note") or "", photo=d.get("photo"),
                                     house_version=d["house_version"], not_home=d.get("not_home", False))

    def conflict(self, request, house, form, person_form, exc: ConflictError, wants_json: bool):
        """409: what this worker submitted next to what was saved meanwhile; nothing of theirs was saved."""
        fresh = House._base_manager.select_related(*HOUSE_RELATED).get(pk=house.pk)
        d = form.cleaned_data
        names = {r.person_id: r.person.name for r in _residents(house)}
        gone = [p.name for p in Person.objects.filter(pk__in=d.get("move_out") or [])]
        mine = []
        if d.get("move_out"):
            mine.append(_("迁出：%(n)s") % {"n": _("、").join(gone)})
        if d.get("add_person") and person_form.is_bound and person_form.is_valid():
            mine.append(_("登记新住户：%(n)s") % {"n": person_form.cleaned_data.get("name")
                                                  or person_form.cleaned_data.get("existing_id_number", "")[:0]})
        if d.get("new_use"):
            mine.append(_("用途改为：%(u)s") % {"u": dict(form.fields["new_use"].choices).get(d["new_use"])})
        if d.get("householder"):
            mine.append(_("户主改为：%(n)s") % {"n": names.get(d["householder"], "")})
        if d.get("phone_person"):
            mine.append(_("更正电话：%(n)s") % {"n": names.get(d["phone_person"], "")})
        theirs = {"use": fresh.get_use_display(),
                  "residents": _("、").join(r.person.name for r in _residents(fresh))}
        last = Visit.objects.filter(house_id=house.pk).select_related("worker").first()
        if wants_json:  # a queued submission from the phone: both versions, to be shown there
            saved = [_("用途：%(u)s") % {"u": theirs["use"]}, _("现住人员：%(r)s") % {"r": theirs["residents"] or "—"}]
            if last:
                saved.append(_("%(who)s 于 %(at)s 提交") % {
                    "who": last.worker.get_username(), "at": timezone.localtime(last.visited_at).strftime("%H:%M")})
            return JsonResponse({"ok": False, "conflict": str(exc), "version": fresh.version, "mine": mine,
                                 "theirs": saved}, status=409)
        data = request.POST.copy()
        data["house_version"] = fresh.version
        form, person_form, _r = self.forms(request, fresh, data, request.FILES)
        form.is_valid()
        if person_form.is_bound:
            person_form.is_valid()
        context = self.context(request, fresh, form, person_form, conflict=exc, mine=mine, theirs=theirs,
                               theirs_visit=last)
        return render(request, "fieldwork/house.html", context, status=409)


class VisitDetailView(FieldworkView):
    def get(self, request, pk: int):
        visit = get_object_or_404(Visit.objects.restrict(request.user, "view")
                                  .select_related("house__building__compound", "worker"), pk=pk)
        changes = list(visit.changes.select_related("person").order_by("id"))
        return render(request, "fieldwork/visit.html", {
            "title": _("走访已记录"), "visit": visit, "changes": changes, "owner": owner_of(request),
            "rows": {c.pk: services.describe(c) for c in changes},
            "next_house": _next_house(request, visit) if visit.worker_id == request.user.pk else None})


def _next_house(request, visit: Visit):
    """The grid worker's next home after this visit: the next on today's list in the same building (in the list's
    order: unit, floor, room), else the first of the list; none visited today."""
    from quality.services import worklist

    today = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    done = set(Visit.objects.filter(worker=request.user, visited_at__gte=today).values_list("house_id", flat=True))
    items = [i for i in worklist(request.user, mine_or_unassigned=request.user, limit=200)
             if i.house_id not in done and i.house_id != visit.house_id]
    same = [i for i in items if i.building_id == visit.house.building_id]
    return (same or items or [None])[0]


class VisitPhotoView(FieldworkView):
    """A visit's photo, only to those who may see the visit (never from a public URL)."""

    def get(self, request, pk: int):
        visit = get_object_or_404(Visit.objects.restrict(request.user, "view"), pk=pk)
        if not visit.photo:
            raise Http404
        content_type = mimetypes.guess_type(visit.photo.name)[0] or "application/octet-stream"
        return FileResponse(visit.photo.open("rb"), content_type=content_type)


# --- review -----------------------------------------------------------------------------------------------------
def _review_rows(changes) -> list[dict]:
    return [{"cr": c, **change_view(c),
             "overdue": c.created_at < timezone.now() - dt.timedelta(days=OVERDUE_REVIEW_DAYS)} for c in changes]


class ReviewView(FieldworkView):
    """Pending change requests in the officer's places, oldest first, each with its before/after diff."""

    perm = "fieldwork.review_changerequest"

    def get(self, request):
        qs = (ChangeRequest.objects.restrict(request.user, "review").filter(status=ChangeStatus.PENDING)
              .select_related("house__building__compound", "person", "submitted_by", "visit")
              .order_by("created_at", "id"))
        source = request.GET.get("source")
        if source:
            qs = qs.filter(source=source)
        total = qs.count()
        changes = list(qs[:100])
        return render(request, "fieldwork/review.html", {
            "title": _("变更审核"), "items": _review_rows(changes), "total": total, "source": source or "",
            "reject_form": RejectForm()})


class ChangeActionView(FieldworkView):
    perm = "fieldwork.review_changerequest"

    def get_change(self, request, pk: int) -> ChangeRequest:
        return get_object_or_404(ChangeRequest.objects.restrict(request.user, "view"), pk=pk)

    def respond(self, request, cr: ChangeRequest, error: str = ""):
        cr.refresh_from_db()
        if is_htmx(request):
            return render(request, "fieldwork/_review_item.html", {
                "item": _review_rows([cr])[0], "error": error, "reject_form": RejectForm()},
                status=400 if error else 200)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("已处理：%(c)s") % {"c": cr})
        return HttpResponseRedirect(reverse("fieldwork:review"))


def _message(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


class ApproveView(ChangeActionView):
    def post(self, request, pk: int):
        cr = self.get_change(request, pk)
        version = request.POST.get("version")
        try:
            services.approve(request.user, cr, int(version) if (version or "").isdigit() else None)
        except ConflictError as exc:
            return self.respond(request, cr, str(exc))
        except ValidationError as exc:
            return self.respond(request, cr, _message(exc))
        return self.respond(request, cr)


class RejectView(ChangeActionView):
    def post(self, request, pk: int):
        cr = self.get_change(request, pk)
        version = request.POST.get("version") or ""
        expected = int(version) if version.isdigit() else None
        try:
            services.reject(request.user, cr, request.POST.get("reason", ""), expected)
        except ConflictError as exc:
            return self.respond(request, cr, str(exc))
        except ValidationError as exc:
            return self.respond(request, cr, _message(exc))
        return self.respond(request, cr)


class BulkApproveView(ChangeActionView):
    def post(self, request):
        ids = [int(x) for x in request.POST.getlist("ids") if x.isdigit()]
        done, failed = 0, []
        for cr in ChangeRequest.objects.restrict(request.user, "view").filter(pk__in=ids).order_by("created_at"):
            try:
                services.approve(request.user, cr)
                done += 1
            except (ValidationError, ConflictError, PermissionDenied) as exc:
                failed.append(f"{cr}: {_message(exc) if isinstance(exc, ValidationError) else exc}")
        messages.success(request, _("已批准 %(n)d 条") % {"n": done})
        for line in failed:
            messages.error(request, line)
        return HttpResponseRedirect(reverse("fieldwork:review"))


class ChangeDetailView(FieldworkView):
    perm = "fieldwork.view_changerequest"

    def get(self, request, pk: int):
        cr = get_object_or_404(ChangeRequest.objects.restrict(request.user, "view")
                               .select_related("house__building__compound", "person", "submitted_by", "reviewed_by",
                                               "visit"), pk=pk)
        can_review = ChangeRequest.objects.restrict(request.user, "review").filter(pk=cr.pk).exists()
        return render(request, "fieldwork/change.html", {
            "title": _("变更申请"), "item": _review_rows([cr])[0], "can_review": can_review,
            "reject_form": RejectForm()})


# --- history ----------------------------------------------------------------------------------------------------
class HouseHistoryView(FieldworkView):
    """Every change applied to a house (and rejected ones), with its source and who; its visits and residences."""

    perm = "fieldwork.view_changerequest"

    def get(self, request, pk: int):
        house = _house_or_404(request, pk)
        changes = (ChangeRequest.objects.restrict(request.user, "view").filter(house_id=house.pk)
                   .exclude(kind=ChangeKind.UNCHANGED)
                   .select_related("person", "submitted_by", "reviewed_by").order_by("-created_at", "-id"))
        visits = (Visit.objects.restrict(request.user, "view").filter(house_id=house.pk)
                  .select_related("worker")[:50])
        residences = (Residence.objects.restrict(request.user, "view").filter(house_id=house.pk)
                      .select_related("person").order_by("-moved_in", "-id"))
        audit.record_view(request, house)
        return render(request, "fieldwork/history.html", {
            "title": _("变更历史"), "subject": house, "house": house, "changes": _review_rows(changes),
            "visits": visits, "residences": residences})


class PersonHistoryView(FieldworkView):
    perm = "fieldwork.view_changerequest"

    def get(self, request, pk: int):
        person = get_object_or_404(Person.objects.restrict(request.user, "view"), pk=pk)
        if (r := audit.require_reason(request, person)) is not None:
            return r
        changes = (ChangeRequest.objects.restrict(request.user, "view").filter(person_id=person.pk)
                   .select_related("house__building__compound", "submitted_by", "reviewed_by")
                   .order_by("-created_at", "-id"))
        residences = (Residence.objects.restrict(request.user, "view").filter(person_id=person.pk)
                      .select_related("house__building__compound").order_by("-moved_in", "-id"))
        audit.record_view(request, person)
        return render(request, "fieldwork/history.html", {
            "title": _("变更历史"), "subject": person, "person": person, "changes": _review_rows(changes),
            "visits": [], "residences": residences})


# --- workload ---------------------------------------------------------------------------------------------------
def _workers(user) -> list:
    """Grid workers whose grid lies in the officer's places (by their live grants)."""
    places = scope_for(user).places_for("fieldwork.workload_visit")
    if places is None:
        return []
    now = timezone.now()
    q = Q(grid_id__in=places.grids) | Q(community_id__in=places.communities) | Q(street_id__in=places.streets)
    ids = (Grant.objects.filter(q, role__code="grid_worker", level="grid").exclude(expires_at__lt=now)
           .values_list("user_id", flat=True))
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username"))


class WorkloadView(FieldworkView):
    """Visits per worker this week (chart), stale homes per worker, reviews waiting; reassign a house's tasks."""

    perm = "fieldwork.workload_visit"

    def get(self, request, form: AssignForm | None = None, status: int = 200):
        from quality.models import HouseStatus

        start, end = week_bounds()
        workers = _workers(request.user)
        visits = dict(Visit.objects.restrict(request.user, "view").filter(visited_at__gte=start, visited_at__lt=end)
                      .values_list("worker_id").annotate(n=Count("id")).order_by())
        statuses = HouseStatus.objects.restrict(request.user, "view")
        stale = dict(statuses.filter(is_stale=True).values_list("assignee_id").annotate(n=Count("pk")).order_by())
        grids = {g.user_id: g.grid_id for g in Grant.objects.filter(user__in=workers, level="grid")}
        stale_grid = dict(statuses.filter(is_stale=True, assignee__isnull=True).values_list("grid_id")
                          .annotate(n=Count("pk")).order_by())
        rows = [{"user": w, "visits": visits.get(w.pk, 0), "stale": stale.get(w.pk, 0),
                 "unassigned": stale_grid.get(grids.get(w.pk), 0)} for w in workers]
        reviews = ChangeRequest.objects.restrict(request.user, "view").filter(status=ChangeStatus.PENDING)
        limit = timezone.now() - dt.timedelta(days=OVERDUE_REVIEW_DAYS)
        chart = {"names": [r["user"].get_full_name() or r["user"].get_username() for r in rows],
                 "visits": [r["visits"] for r in rows], "stale": [r["stale"] + r["unassigned"] for r in rows],
                 "labels": {"visits": _("本周走访"), "stale": _("过期未访")}}
        stale_houses = list(statuses.filter(is_stale=True).select_related("house__building__compound", "assignee")
                            .order_by("due_at", "pk")[:50])
        return render(request, "fieldwork/workload.html", {
            "title": _("走访工作量"), "rows": rows, "chart": json.dumps(chart, ensure_ascii=False),
            "reviews_pending": reviews.count(), "reviews_overdue": reviews.filter(created_at__lt=limit).count(),
            "stale_houses": stale_houses, "week_start": start, "can_assign": scope_for(request.user).has(
                "fieldwork.reassign_visit"),
            "form": form or AssignForm(workers=workers)}, status=status)

    def post(self, request):
        from quality.services import assign

        require(request.user, "fieldwork.reassign_visit")
        workers = _workers(request.user)
        from quality.models import HouseStatus

        visible = HouseStatus.objects.restrict(request.user, "view").filter(
            pk__in=[int(x) for x in request.POST.getlist("houses") if x.isdigit()]).values_list("pk", flat=True)
        form = AssignForm(request.POST, workers=workers, houses=list(visible))
        if form.is_valid():
            worker = next(w for w in workers if w.pk == form.cleaned_data["worker"])
            try:
                n = assign(request.user, form.house_ids(), worker)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("已将 %(n)d 户分派给 %(w)s") % {"n": n, "w": worker.get_username()})
                return HttpResponseRedirect(reverse("fieldwork:workload"))
        return self.get(request, form, status=400)


# --- policy -----------------------------------------------------------------------------------------------------
class PolicyView(FieldworkView):
    """Which changes a grid worker applies at once and which wait for a community officer (street-wide)."""

    perm = "fieldwork.view_changepolicy"

    def get(self, request):
        rows = {p.kind: p for p in ChangePolicy.objects.all()}
        policy = [{"kind": k, "label": label, "needs": rows[k].needs_approval if k in rows
                   else ChangePolicy.needs_approval_for(k)} for k, label in ChangeKind.choices]
        return render(request, "fieldwork/policy.html", {
            "title": _("变更审核策略"), "policy": policy,
            "can_change": scope_for(request.user).has("fieldwork.change_changepolicy")})

    def post(self, request):
        require(request.user, "fieldwork.change_changepolicy")
        wanted = set(request.POST.getlist("needs"))
        services.save_policy(request.user, {k: k in wanted for k, _label in ChangeKind.choices})
        messages.success(request, _("审核策略已保存"))
        return HttpResponseRedirect(reverse("fieldwork:policy"))
