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
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import View

from core import audit
from core.services import ConflictError
from core.tables import Table, detail_url

__all__ = ["CappedPaginator", "HomeView", "ObjectActionView", "ObjectDetailView", "ObjectEditView", "ObjectListView",
           "PermissionView", "apply_errors", "is_htmx", "require"]


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


class HomeView(LoginRequiredMixin, View):
    """An overview of the places the user may view, with counts (the cockpit comes later)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        from django.apps import apps

        user = request.user
        House = apps.get_model("places", "House")
        Grid = apps.get_model("places", "Grid")
        houses = House.objects.restrict(user, "view")
        per_grid = {r["grid_id"]: r for r in houses.values("grid_id").annotate(houses=Count("id"),
                                                                             residents=Sum("resident_count"),
                                                                             occupied=Count("id", filter=models.Q(
                                                                                 resident_count__gt=0)))}
        grids = list(Grid.objects.restrict(user, "view").select_related("community"))
        rows = [{"grid": g, "url": detail_url(g), **per_grid.get(g.pk, {"houses": 0, "residents": 0, "occupied": 0})}
                for g in grids]
        totals = {
            "grids": len(grids),
            "communities": len({g.community_id for g in grids}),
            "houses": sum(r["houses"] for r in rows),
            "residents": sum(r["residents"] or 0 for r in rows),
            "occupied": sum(r["occupied"] for r in rows),
        }
        return render(request, "home.html", {"rows": rows, "totals": totals, "title": _("首页")})
