"""Base views every app configures (NetBox-style, kept short). App views never check permissions.

* ``ObjectListView``: the rows the user may view (``restrict(user, "view")``), a FilterSet, a table,
  pagination; an htmx request gets only the table back.
* ``ObjectDetailView``: ``get_object_or_404`` on the restricted queryset (out of scope → 404).
* ``require(user, perm)`` and ``PermissionView``: a page (or an app's base view) that needs a permission held
  somewhere in the user's scope; anonymous users go to the login page, others without it get a 403 in Chinese.
* ``ObjectActionView``: a form acting on one object through a service function. The object must be
  visible (else 404) and the action allowed on it (else 403). The service's ValidationError is shown on
  the form; a ConflictError (optimistic locking) is a 409 page showing both versions.

Every page carries ``Cache-Control: no-store`` (core.middleware.SecurityHeadersMiddleware).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache

from core import audit
from core.scope import scope_for
from core.services import ConflictError
from core.tables import Table, detail_url

__all__ = ["CappedPaginator", "HomeView", "ObjectActionView", "ObjectDetailView", "ObjectEditView", "ObjectListView",
           "PermissionView", "apply_errors", "is_htmx", "parse_bbox", "require"]


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """A map's ``?bbox=w,s,e,n`` (WGS-84 degrees) as four floats, or None when it is not one (a map layer then
    answers for the whole place)."""
    try:
        w, s, e, n = (float(x) for x in (value or "").split(","))
    except ValueError:
        return None
    return (w, s, e, n) if w < e and s < n and all(abs(v) <= 180 for v in (w, s, e, n)) else None


def require(user, perm: str, message: str | None = None) -> None:
    """PermissionDenied (a 403 page) unless ``perm`` is held somewhere in the user's scope."""
    from core.scope import scope_for

    if not scope_for(user).has(perm):
        raise PermissionDenied(message or _("您没有此项权限"))


class PermissionView(LoginRequiredMixin, View):
    """The base of an app's pages: logged in (else the login page), and ``perm`` held (else 403). What each row or
    object allows is the restricted querysets' business (``restrict(user, action)``)."""

    perm: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.perm:
            require(request.user, self.perm)
        return super().dispatch(request, *args, **kwargs)


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows (``SELECT COUNT(*) FROM (... LIMIT cap+1)``): an exact count of a street-wide
    list or of a two-letter search reads every matching row, which at millions of people is the slowest part
    of the page. Beyond the cap the page says "more than cap"."""

    def __init__(self, object_list, per_page, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return min(self.object_list[: self.cap + 1].count(), self.cap + 1)

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the named field when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ObjectListView(LoginRequiredMixin, View):
    model: type[models.Model]
    filterset_class: Any = None
    table: Table
    template_name = "core/object_list.html"
    paginate_by = 50
    count_cap = 10_000  # rows counted for "共 N 条"; beyond it the list says "more than"
    search_count_cap = 1_000
    title = ""
    filter_fields: list[str] = ["q"]
    ordering: list[str] | None = None
    action = "view"
    list_reason = False  # a list of personal records: aggregate-only roles state a reason first (core.audit)

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.list_reason and request.user.is_authenticated:
            from core import audit

            if (redirect := audit.require_list_reason(request, self.model)) is not None:
                return redirect
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        qs = self.model.objects.restrict(request.user, self.action)
        if self.ordering:
            qs = qs.order_by(*self.ordering)
        return self.table.prepare(qs)

    def extra_context(self, request: HttpRequest) -> dict:
        return {}

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return self.render_list(request, request.GET)

    def render_list(self, request: HttpRequest, data, template: str | None = None) -> HttpResponse:
        qs = self.get_queryset(request)
        filterset, filter_errors = None, []
        if self.filterset_class is not None:
            filterset = self.filterset_class(data, queryset=qs, request=request)
            qs = filterset.qs if filterset.is_valid() else qs.none()
            # A value out of range (an age of 4.13e16, an id beyond the database's integers): said, by its label.
            filter_errors = [(filterset.filters[name].label or name if name in filterset.filters else "", msgs)
                             for name, msgs in filterset.errors.items()]
            form_fields = filterset.form.fields
            shown = {name: form_fields[name] for name in self.filter_fields if name in form_fields}
            for f in shown.values():
                if isinstance(f, forms.NullBooleanField):
                    f.widget.choices = [("", _("全部")), ("true", _("是")), ("false", _("否"))]
                elif isinstance(f, forms.ModelChoiceField):  # one plain query (the iterator opens a cursor)
                    f.widget.choices = [(f.prepare_value(o), f.label_from_instance(o)) for o in f.queryset]
                elif hasattr(f, "choices"):
                    f.widget.choices = list(f.choices)
            filterset.form.fields = shown
        cap = self.search_count_cap if data.get("q") else self.count_cap
        page = CappedPaginator(qs, self.paginate_by, cap).get_page(data.get("page"))
        query = data.copy()
        query.pop("page", None)
        context = {
            "title": self.title or self.model._meta.verbose_name_plural,
            "model_name": self.model._meta.model_name,
            "filterset": filterset,
            "filter_errors": filter_errors,
            "headers": self.table.headers,
            "rows": self.table.rows(page.object_list),
            "page": page,
            "querystring": query.urlencode(),
            **self.extra_context(request),
        }
        if is_htmx(request) and request.headers.get("HX-Target") == "object-table":
            return render(request, "core/_table.html", context)
        return render(request, template or self.template_name, context)


class ObjectDetailView(LoginRequiredMixin, View):
    model: type[models.Model]
    template_name: str
    select_related: list[str] = []
    audit_view = False  # personal pages (a person, a house): reason for aggregate-only roles, and on record

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        qs = self.model.objects.restrict(request.user, "view")
        return qs.select_related(*self.select_related) if self.select_related else qs

    def get_object(self, request: HttpRequest, pk: int) -> models.Model:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def extra_context(self, request: HttpRequest, obj: models.Model) -> dict:
        return {}

    def can(self, request: HttpRequest, obj: models.Model, action: str, model=None) -> bool:
        model = model or type(obj)
        return model.objects.restrict(request.user, action).filter(pk=obj.pk).exists()

    def get(self, request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
        obj = self.get_object(request, pk)
        if self.audit_view:
            # An aggregate-only role states a reason first ("break the glass"); every view is on record.
            redirect = audit.require_reason(request, obj)
            if redirect is not None:
                return redirect
            audit.record_view(request, obj)
        context = {"object": obj, "title": str(obj), "kind_label": obj._meta.verbose_name,
                   **self.extra_context(request, obj)}
        return render(request, self.template_name, context)


class ObjectActionView(LoginRequiredMixin, View):
    """A form acting on one object (``model``, looked up by ``pk``) through ``perform``."""

    model: type[models.Model]
    action = "change"
    form_class: Any
    template_name = "core/object_form.html"
    title = ""
    select_related: list[str] = []

    def get_object(self, request: HttpRequest, pk: int) -> models.Model:
        visible = self.model.objects.restrict(request.user, "view")
        if self.select_related:
            visible = visible.select_related(*self.select_related)
        obj = get_object_or_404(visible, pk=pk)
        if not self.model.objects.restrict(request.user, self.action).filter(pk=obj.pk).exists():
            raise PermissionDenied(_("您可以查看此记录，但没有进行此操作的权限"))
        return obj

    def get_form_kwargs(self, request: HttpRequest, obj: models.Model) -> dict:
        return {}

    def perform(self, request: HttpRequest, obj: models.Model, form) -> models.Model:
        raise NotImplementedError

    def success_url(self, request: HttpRequest, obj: models.Model, result: models.Model) -> str:
        return detail_url(result) or detail_url(obj) or "/"

    def extra_context(self, request: HttpRequest, obj: models.Model) -> dict:
        return {}

    def render_form(self, request: HttpRequest, obj: models.Model, form, status: int = 200, **extra) -> HttpResponse:
        context = {"object": obj, "form": form, "title": self.title, "cancel_url": detail_url(obj),
                   **self.extra_context(request, obj), **extra}
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_object(request, pk)
        return self.render_form(request, obj, self.form_class(**self.get_form_kwargs(request, obj)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_object(request, pk)
        form = self.form_class(request.POST, **self.get_form_kwargs(request, obj))
        if form.is_valid():
            try:
                result = self.perform(request, obj, form)
            except ConflictError as exc:
                return self.conflict(request, obj, form, exc)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return HttpResponseRedirect(self.success_url(request, obj, result))
        return self.render_form(request, obj, form, status=400 if is_htmx(request) else 200)

    def conflict(self, request: HttpRequest, obj: models.Model, form, exc: ConflictError) -> HttpResponse:
        """409: the user's version next to the one saved meanwhile; nothing of theirs was saved."""
        current = type(obj)._base_manager.get(pk=obj.pk)
        rows = []
        for name, field in form.fields.items():
            if name in {"version", "accept_warnings"} or getattr(field, "sensitive", False):
                continue
            mine = form.cleaned_data.get(name)
            theirs = getattr(current, name, None)
            if hasattr(current, f"get_{name}_display"):
                theirs = getattr(current, f"get_{name}_display")()
                choices = dict(getattr(field, "choices", []))
                mine = choices.get(mine, mine)
            rows.append({"label": field.label, "mine": mine, "theirs": theirs, "differs": str(mine) != str(theirs)})
        form = self.form_class(request.POST.copy(), **self.get_form_kwargs(request, current))
        form.data["version"] = current.version
        return self.render_form(request, current, form, status=409, conflict=exc, conflict_rows=rows)


ObjectEditView = ObjectActionView  # the name NetBox readers look for


# --- the home page: each person's work for today ------------------------------------------------------------------
# The home page gathers what other apps hold (visits due, reviews, cases, imports, figures). core imports no domain
# app: models come from the app registry and functions by name, and every read goes through ``.restrict(user,
# action)`` or a permission held in ``scope_for(user)``. Each section is a dict drawn by templates/home/_section.html.
HOME_LIST = 5  # items shown per section; the link leads to the whole list

# A resident's words for where their report stands (no staff wording: no 受理/派遣/核查).
RESIDENT_CASE_WORDS = {
    "reported": gettext_lazy("已收到，等待社区处理"), "accepted": gettext_lazy("社区已接手，正在安排"),
    "rejected": gettext_lazy("未能办理"), "dispatched": gettext_lazy("已交给负责的单位"),
    "in_progress": gettext_lazy("正在处理"), "handled": gettext_lazy("已处理，正在确认结果"),
    "verified": gettext_lazy("已处理完毕"), "closed": gettext_lazy("已办结"), "reopened": gettext_lazy("重新处理中"),
}
RESIDENT_CHANGE_WORDS = {
    "pending": gettext_lazy("社区正在核实"), "approved": gettext_lazy("已确认，正在更新"),
    "rejected": gettext_lazy("未采纳"), "applied": gettext_lazy("已更新登记信息"),
}
# Case actions that move a case on (the ones a to-do list is about), from cases.services.ACTIONS.
CASE_MOVES = ("accept", "dispatch", "start", "handle", "verify", "close")


def _model(label: str):
    from django.apps import apps

    app, name = label.split(".")
    return apps.get_model(app, name) if apps.is_installed(app) else None


def _function(path: str):
    from importlib import import_module

    from django.apps import apps

    module, name = path.rsplit(".", 1)
    if not apps.is_installed(module.split(".")[0]):
        return None
    return getattr(import_module(module), name)


def _url(name: str, *args, query: str = "") -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return ""


def _section(key: str, title, *, url: str = "", link=None, count: int | None = None, items=(), empty=None,
             stats=(), note=None, note_url: str = "") -> dict:
    return {"key": key, "title": title, "url": url, "link": link or gettext_lazy("查看全部"), "count": count,
            "items": list(items), "empty": empty, "stats": list(stats), "note": note, "note_url": note_url}


def _local(value, fmt: str = "%Y-%m-%d") -> str:
    from django.utils import timezone

    if value is None:
        return ""
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime(fmt)


def _case_moves_q(user):
    """The cases ``user`` may move on now: for each step, the cases in its starting status within the places where
    the user holds that step's permission (``Case.objects.restrict(user, perm)``)."""
    from django.db.models import Q

    Case = _model("cases.Case")
    actions = _function("cases.services.ACTIONS")
    q = Q(pk__in=[])
    for name in CASE_MOVES:
        act = actions[name]
        ids = Case.objects.restrict(user, act.perm).filter(status__in=act.sources)
        if name == "verify":  # the handler never verifies their own work
            ids = ids.exclude(handler_id=user.pk)
        q |= Q(pk__in=ids.values("pk"))
    return q


def _case_items(rows) -> list[dict]:
    from django.utils import timezone

    now = timezone.now()
    out = []
    for c in rows:
        overdue = c.deadline_at is not None and c.deadline_at < now and c.paused_at is None \
            and c.status in ("accepted", "dispatched", "in_progress", "reopened")
        meta = [str(c.get_status_display())]
        if c.deadline_at:
            meta.append(_("期限 %(d)s") % {"d": _local(c.deadline_at, "%Y-%m-%d %H:%M")})
        out.append({"label": f"{c.number} {c.title}", "meta": " · ".join(meta), "url": _url("cases:detail", c.pk),
                    "flag": _("超期") if overdue else ""})
    return out


def _cases_to_act(user) -> dict | None:
    Case = _model("cases.Case")
    if Case is None or not scope_for(user).has("cases.view_case"):
        return None
    qs = Case.objects.restrict(user, "view").filter(_case_moves_q(user)).select_related("category")
    rows = list(qs.order_by(models.F("deadline_at").asc(nulls_last=True), "id")[:HOME_LIST + 1])
    return _section("cases", _("待我处理的案件"), url=_url("cases:queue", query="state=open"),
                    count=qs.count() if len(rows) > HOME_LIST else len(rows), items=_case_items(rows[:HOME_LIST]),
                    empty=_("没有需要您处理的案件"))


def _overdue_cases(user) -> dict | None:
    from django.utils import timezone

    Case = _model("cases.Case")
    if Case is None or not scope_for(user).has("cases.view_case"):
        return None
    qs = (Case.objects.restrict(user, "view")
          .filter(status__in=("accepted", "dispatched", "in_progress", "reopened"), paused_at__isnull=True,
                  deadline_at__lt=timezone.now()).select_related("category"))
    rows = list(qs.order_by("deadline_at", "id")[:HOME_LIST])
    return _section("overdue", _("超期案件"), url=_url("cases:queue", query="state=overdue"), count=qs.count(),
                    items=_case_items(rows), empty=_("没有超期的案件"))


def _visits_due(user) -> dict | None:
    worklist = _function("quality.services.worklist")
    if worklist is None or not scope_for(user).has("fieldwork.submit_visit"):
        return None
    count = _function("quality.services.worklist_count")(user, mine_or_unassigned=user)
    items = []
    if count:
        for w in worklist(user, mine_or_unassigned=user, limit=HOME_LIST):
            meta = "、".join(w.reason_labels)
            if w.due_at:
                meta += " · " + _("到期 %(d)s") % {"d": _local(w.due_at)}
            items.append({"label": w.address, "meta": meta, "url": _url("fieldwork:house", w.house_id)})
    return _section("visits", _("今日走访"), url=_url("fieldwork:today"), link=_("开始走访"), count=count,
                    items=items, empty=_("今天没有待走访的房屋"))


def _change_rows(qs) -> list[dict]:
    out = []
    for cr in qs:
        out.append({"label": f"{cr.get_kind_display()} · {cr.house.address}",
                    "meta": _("提交于 %(d)s") % {"d": _local(cr.created_at, "%Y-%m-%d %H:%M")},
                    "url": _url("fieldwork:change", cr.pk)})
    return out


def _my_changes_waiting(user) -> dict | None:
    ChangeRequest = _model("fieldwork.ChangeRequest")
    if ChangeRequest is None or not scope_for(user).has("fieldwork.submit_visit"):
        return None
    qs = (ChangeRequest.objects.restrict(user, "view").filter(submitted_by_id=user.pk, status="pending")
          .select_related("house__building__compound"))
    rows = list(qs.order_by("-created_at", "-id")[:HOME_LIST])
    return _section("my_changes", _("我提交的待审核变更"), count=qs.count() if len(rows) == HOME_LIST else len(rows),
                    items=_change_rows(rows), empty=_("您提交的变更都已审核"))


def _reviews_waiting(user) -> dict | None:
    ChangeRequest = _model("fieldwork.ChangeRequest")
    if ChangeRequest is None or not scope_for(user).has("fieldwork.review_changerequest"):
        return None
    qs = (ChangeRequest.objects.restrict(user, "review").filter(status="pending")
          .select_related("house__building__compound"))
    rows = list(qs.order_by("created_at", "id")[:HOME_LIST])
    return _section("reviews", _("待审核的变更"), url=_url("fieldwork:review"), link=_("去审核"), count=qs.count(),
                    items=_change_rows(rows), empty=_("没有待审核的变更"))


def _imports(user) -> dict | None:
    ImportJob = _model("people.ImportJob")
    if ImportJob is None or not scope_for(user).has("people.import_person"):
        return None
    rows = list(ImportJob.objects.filter(user=user).order_by("-id")[:3])  # a user's own jobs, as the import page
    items = [{"label": j.file_name, "meta": f"{j.get_state_display()} · {_local(j.created_at, '%Y-%m-%d %H:%M')}",
              "url": _url("people:import_job", j.token),
              "flag": _("待确认") if j.state == "previewed" else ""} for j in rows]
    return _section("imports", _("导入"), url=_url("people:import"), link=_("导入人房表"), items=items,
                    empty=_("最近没有导入"))


def _quality(user, title, level: str) -> dict | None:
    figures = _function("quality.scores.figures")
    HouseStatus, QualityIssue = _model("quality.HouseStatus"), _model("quality.QualityIssue")
    if figures is None or not scope_for(user).has("quality.view_housestatus"):
        return None
    got = figures(level, None, statuses=HouseStatus.objects.restrict(user, "view"),
                  issues=QualityIssue.objects.restrict(user, "view"))
    houses = sum(f["houses"] for f in got.values())
    stale = sum(f["stale"] for f in got.values())
    issues = sum(f["open_issues"] for f in got.values())
    score = round(sum(f["score"] * f["houses"] for f in got.values()) / houses, 1) if houses else None
    stats = [{"value": f"{100 * (houses - stale) / houses:.1f}%" if houses else "—", "label": _("数据新鲜度"),
              "url": _url("quality:overview")},
             {"value": stale, "label": _("待复核房屋"), "url": _url("quality:stale")},
             {"value": issues, "label": _("待处理的质量问题"), "url": _url("quality:issues")},
             {"value": score if score is not None else "—", "label": _("质量得分"), "url": _url("quality:overview")}]
    return _section("quality", title, url=_url("quality:overview"), stats=stats)


def _area(user) -> tuple[list[dict], dict]:
    """Per grid of the user's scope: houses, occupied houses, residents (the old home page, now a section)."""
    House, Grid = _model("places.House"), _model("places.Grid")
    houses = House.objects.restrict(user, "view")
    per_grid = {r["grid_id"]: r for r in houses.values("grid_id").annotate(
        houses=Count("id"), residents=Sum("resident_count"),
        occupied=Count("id", filter=models.Q(resident_count__gt=0)))}
    grids = list(Grid.objects.restrict(user, "view").select_related("community"))
    rows = [{"grid": g, "url": detail_url(g), **per_grid.get(g.pk, {"houses": 0, "residents": 0, "occupied": 0})}
            for g in grids]
    totals = {"grids": len(grids), "communities": len({g.community_id for g in grids}),
              "houses": sum(r["houses"] for r in rows), "residents": sum(r["residents"] or 0 for r in rows),
              "occupied": sum(r["occupied"] for r in rows)}
    return rows, totals


def _command(user) -> list[dict]:
    """The command centre: the cockpit first, then the street's key figures (aggregates only)."""
    from django.utils import timezone

    out = []
    stats = []
    House = _model("places.House")
    agg = House.objects.restrict(user, "view").aggregate(houses=Count("id"), residents=Sum("resident_count"))
    stats += [{"value": f"{agg['houses'] or 0:,}", "label": _("房屋"), "url": _url("cockpit:home")},
              {"value": f"{agg['residents'] or 0:,}", "label": _("现住人口"), "url": _url("cockpit:home")}]
    Case = _model("cases.Case")
    if Case is not None and scope_for(user).has("cases.view_case"):
        cases = Case.objects.restrict(user, "view").aggregate(
            open=Count("id", filter=models.Q(status__in=("reported", "accepted", "dispatched", "in_progress",
                                                         "handled", "verified", "reopened"))),
            overdue=Count("id", filter=models.Q(status__in=("accepted", "dispatched", "in_progress", "reopened"),
                                                paused_at__isnull=True, deadline_at__lt=timezone.now())),
            today=Count("id", filter=models.Q(created_at__date=timezone.localdate())))
        stats += [{"value": cases["today"], "label": _("今日新增案件"), "url": _url("cases:queue")},
                  {"value": cases["open"], "label": _("办理中的案件"), "url": _url("cases:queue", query="state=open")},
                  {"value": cases["overdue"], "label": _("超期案件"),
                   "url": _url("cases:queue", query="state=overdue")}]
    out.append(_section("cockpit", _("街道概况"), url=_url("cockpit:home"), link=_("打开驾驶舱"), stats=stats,
                        note=_("在指挥中心大屏上打开：大屏模式"), note_url=_url("cockpit:wall")))
    if (q := _quality(user, _("数据质量"), "street")) is not None:
        out.append(q)
    return out


def _admin(user) -> list[dict]:
    """The three duties: each sees its own work (users; roles and grants; the audit), no personal data."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.models import AuditEvent, Grant

    out, scope, now = [], scope_for(user), timezone.now()
    if scope.has("auth.view_user"):
        User = get_user_model()
        LoginLock = _model("access.LoginLock")
        locked = list(LoginLock.objects.filter(locked_until__gt=now).order_by("-locked_until")[:HOME_LIST]) \
            if LoginLock is not None else []
        no_grant = User.objects.filter(is_active=True, grants__isnull=True).count()
        items = [{"label": lk.username, "meta": _("登录已锁定至 %(t)s") % {"t": _local(lk.locked_until, "%H:%M")},
                  "url": _url("access:user_list")} for lk in locked]
        out.append(_section("users", _("用户管理"), url=_url("access:user_list"), items=items,
                            empty=_("没有被锁定的账号"),
                            stats=[{"value": User.objects.filter(is_active=True).count(), "label": _("在用账号"),
                                    "url": _url("access:user_list")},
                                   {"value": no_grant, "label": _("尚未授权的账号"), "url": _url("access:user_list")}]))
    if scope.has("core.view_grant"):
        soon = (Grant.objects.filter(expires_at__gt=now, expires_at__lte=now + dt.timedelta(days=14))
                .select_related("user", "role").order_by("expires_at"))
        rows = list(soon[:HOME_LIST])
        items = [{"label": f"{g.user.username} · {g.role.name}",
                  "meta": _("%(d)s 到期") % {"d": _local(g.expires_at)}, "url": _url("access:grant_edit", g.pk)}
                 for g in rows]
        out.append(_section("grants", _("14 天内到期的授权"), url=_url("access:grant_list"), link=_("全部授权"),
                            count=soon.count(), items=items, empty=_("没有即将到期的授权")))
    if scope.has("core.view_auditevent"):
        today = timezone.localdate()
        events = AuditEvent.objects.filter(at__date=today)
        figures = events.aggregate(all=Count("id"), reveal=Count("id", filter=models.Q(action="reveal")),
                                   reason=Count("id", filter=models.Q(action="break_glass")),
                                   denied=Count("id", filter=~models.Q(result="ok")))
        day = today.isoformat()
        base = f"date_from={day}&date_to={day}"
        out.append(_section("audit", _("今日审计"), url=_url("access:audit_list", query=base), link=_("查看审计记录"),
                            stats=[{"value": figures["all"], "label": _("今日操作"),
                                    "url": _url("access:audit_list", query=base)},
                                   {"value": figures["reveal"], "label": _("查看完整号码"),
                                    "url": _url("access:audit_list", query=base + "&action=reveal")},
                                   {"value": figures["reason"], "label": _("说明事由后查看"),
                                    "url": _url("access:audit_list", query=base + "&action=break_glass")},
                                   {"value": figures["denied"], "label": _("被拒绝的操作"),
                                    "url": _url("access:audit_list", query=base)}]))
    return out


def _resident(user) -> list[dict]:
    """A resident's own submissions: the cases they reported and the corrections they sent about their home.

    A resident's grant is at level "self" and carries no permission on places, so ``restrict`` gives them
    nothing; what they may read is what they submitted themselves: rows whose submitter is this user."""
    Case, ChangeRequest = _model("cases.Case"), _model("fieldwork.ChangeRequest")
    cases, changes = [], []
    if Case is not None:
        for c in Case._base_manager.filter(reported_by_id=user.pk).select_related("category").order_by("-id")[:20]:
            cases.append({"label": c.title, "meta": f"{c.number} · {_local(c.created_at)}",
                          "status": RESIDENT_CASE_WORDS.get(c.status, ""), "done": c.status in ("verified", "closed"),
                          "url": _url("cases:public_track", query=f"number={c.number}")})
    if ChangeRequest is not None:
        for cr in (ChangeRequest._base_manager.filter(submitted_by_id=user.pk, source="feedback")
                   .select_related("house__building__compound").order_by("-created_at", "-id")[:20]):
            changes.append({"label": f"{cr.get_kind_display()} · {cr.house.address}", "meta": _local(cr.created_at),
                            "status": RESIDENT_CHANGE_WORDS.get(cr.status, ""),
                            "done": cr.status in ("applied", "rejected"), "url": ""})
    return [_section("my_cases", _("我反映的问题"), url=_url("cases:public_pick"), link=_("我要反映"), items=cases,
                     empty=_("您还没有反映过问题。扫描楼栋的二维码即可反映。")),
            _section("my_feedback", _("我报告的住户变化"), items=changes,
                     empty=_("您还没有报告过住户变化。有人搬入或搬走时，扫描楼栋的二维码告诉社区。"))]


class HomeView(LoginRequiredMixin, View):
    """Each person's work for today, by what their grants allow: a grid worker's visits, cases and changes waiting;
    a community officer's reviews, overdue cases, imports and figures; the command centre's cockpit and figures; the
    three admins' own work; a resident's own submissions. Every item links to where it is done."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        scope = scope_for(user)
        sections: list[dict] = []
        area = None
        if scope.has("fieldwork.review_changerequest"):  # a community officer
            sections += [s for s in (_reviews_waiting(user), _cases_to_act(user), _overdue_cases(user),
                                     _imports(user), _quality(user, _("本社区数据质量"), "community")) if s]
            area = _area(user)
        elif scope.has("fieldwork.submit_visit"):  # a grid worker
            sections += [s for s in (_visits_due(user), _cases_to_act(user), _my_changes_waiting(user)) if s]
            area = _area(user)
        elif scope.has("cockpit.view_board") or scope.has("places.view_house"):  # the command centre
            sections += _command(user)
        sections += _admin(user)
        resident = not sections and "resident" in scope.roles
        if resident:
            sections = _resident(user)
        rows, totals = area if area else ([], {})
        return render(request, "home.html", {"sections": sections, "rows": rows, "totals": totals,
                                             "resident": resident, "title": _("首页")})


# --- the house page: what hangs off a house (its residents' tags, its visits, its cases) --------------------------
HOUSE_ROWS = 60  # visits and cases read for a house page at most (the newest first)


def house_summary(user, house) -> dict:
    """For the house page (templates through ``{% house_summary %}``): the special groups of its current residents,
    its latest visits and cases and its freshness, each read within the user's scope (``restrict``).

    One query, so the house page keeps its budget (tests/test_ui_pages.py): a UNION ALL of the residents' tags, the
    freshness row, the visits and the cases, in columns of one shape (rank, kind, id, when, code, text, text); rank
    0 (tags, freshness) sorts before rank 1 (visits and cases, newest first)."""
    out: dict = {"tags": [], "visits": [], "cases": [], "status": None, "links": {}}
    scope = scope_for(user)
    text, number, when = models.CharField(), models.IntegerField(), models.DateTimeField()
    cols = ("rank", "kind", "pk_", "at", "code", "a", "b")

    def part(qs, rank: int, kind: str, pk: str, at, code, a, b):
        return qs.annotate(rank=models.Value(rank, number), kind=models.Value(kind, text), pk_=models.F(pk), at=at,
                           code=code, a=a, b=b).values_list(*cols).order_by()

    parts = []
    Residence, PersonTag = _model("people.Residence"), _model("people.PersonTag")
    if Residence is not None:
        current = (Residence.objects.restrict(user, "view").filter(house_id=house.pk, moved_out__isnull=True)
                   .values("person_id"))
        parts.append(part(PersonTag.objects.filter(person_id__in=current), 0, "tag", "tag_id",
                          models.Value(None, when), models.F("tag__code"), models.F("tag__name"),
                          models.F("tag__color")))
    Visit, Case, HouseStatus = _model("fieldwork.Visit"), _model("cases.Case"), _model("quality.HouseStatus")
    if HouseStatus is not None and scope.has("quality.view_housestatus"):
        stale = models.Case(models.When(is_stale=True, then=models.Value("stale")), default=models.Value("fresh"),
                            output_field=text)
        parts.append(part(HouseStatus.objects.restrict(user, "view").filter(house_id=house.pk), 0, "status",
                          "house_id", models.F("last_verified_at"), stale, models.Value("", text),
                          models.Value("", text)))
    if Visit is not None and scope.has("fieldwork.view_visit"):
        parts.append(part(Visit.objects.restrict(user, "view").filter(house_id=house.pk), 1, "visit", "id",
                          models.F("visited_at"), models.F("outcome"), models.F("worker__username"),
                          models.Value("", text)))
        out["links"]["history"] = _url("fieldwork:house_history", house.pk) \
            if scope.has("fieldwork.view_changerequest") else ""
        out["links"]["visit"] = _url("fieldwork:house", house.pk) if scope.has("fieldwork.submit_visit") else ""
    if Case is not None and scope.has("cases.view_case"):
        parts.append(part(Case.objects.restrict(user, "view").filter(house_id=house.pk), 1, "case", "id",
                          models.F("created_at"), models.F("status"), models.F("number"), models.F("title")))
    if not parts:
        return out
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    rows = rows.order_by("rank", models.F("at").desc(nulls_last=True), "kind", "pk_")[:HOUSE_ROWS]
    outcomes = dict(Visit.outcome.field.choices) if Visit is not None else {}
    statuses = dict(Case.status.field.choices) if Case is not None else {}
    open_statuses = {"reported", "accepted", "dispatched", "in_progress", "handled", "verified", "reopened"}
    tags: dict[int, dict] = {}
    for _rank, kind, pk, at, code, a, b in rows:
        if kind == "tag":
            tags.setdefault(pk, {"code": code, "name": a, "color": b, "n": 0})["n"] += 1
        elif kind == "status":
            out["status"] = {"last_verified_at": at, "is_stale": code == "stale"}
        elif kind == "visit" and len(out["visits"]) < HOME_LIST:
            out["visits"].append({"when": _local(at, "%Y-%m-%d %H:%M"), "outcome": outcomes.get(code, code),
                                  "who": a, "url": _url("fieldwork:visit", pk)})
        elif kind == "case" and len(out["cases"]) < HOME_LIST:
            out["cases"].append({"number": a, "title": b, "status": statuses.get(code, code),
                                 "open": code in open_statuses, "when": _local(at), "url": _url("cases:detail", pk)})
    out["tags"] = sorted(tags.values(), key=lambda t: t["code"])
    return out


@never_cache
def healthz(request):
    """``/healthz/``: 200 "ok" when this process answers and the database does (one ``SELECT 1``), for the load
    balancer and the monitoring; no personal data, no login. ``/healthz/?replica``: the read replica's state as
    JSON (configured, reachable, lag in seconds, whether reads use it; core.dbrouter), measured now."""
    from django.db import connection

    from core import dbrouter

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if "replica" in request.GET:
        return JsonResponse(dbrouter.status(fresh=True).as_dict())
    return HttpResponse("ok", content_type="text/plain")
