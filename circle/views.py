"""Pages of the service circle: matrix, coverage, gap map, planning, facilities, categories, network, and the
public "services near me" page reached from a building's QR code.

Every read goes through ``restrict(user, action)``; every write through ``circle.services``. Out of scope →
404, in scope but not allowed → 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circle import services
from circle.models import Access, CandidateSite, Category, Facility, Network
from core import uploads
from core.scope import scope_for
from core.services import ConflictError
from core.views import PermissionView, require

SMALL_CELL = 5


def _speed(request) -> float:
    try:
        value = float(request.GET.get("speed", services.DEFAULT_SPEED))
    except ValueError:
        return services.DEFAULT_SPEED
    return value if value in services.SPEEDS else services.DEFAULT_SPEED



def _aggregate_only(user) -> bool:
    ps = scope_for(user).places_for("circle.view_access")
    return bool(ps and ps.aggregate_only)


def _count(n: int, aggregate_only: bool) -> str:
    return "<5" if aggregate_only and 0 < n < SMALL_CELL else str(n)


def _leaf_categories():
    return list(Category.objects.filter(is_active=True, parent__isnull=False).order_by("order", "code"))


def _category(request, cats) -> Category | None:
    code = request.GET.get("category") or request.POST.get("category")
    for c in cats:
        if c.code == code:
            return c
    return cats[0] if cats else None


def _method_of(access_qs) -> str | None:
    return access_qs.values_list("method", flat=True).first()


class CircleView(PermissionView):
    perm = "circle.view_access"

    def render(self, request, template, **ctx):
        ctx.setdefault("speeds", services.SPEEDS)
        return render(request, template, ctx)


# --- matrix and coverage --------------------------------------------------------------------------------------
class MatrixView(CircleView):
    """Compound × category. Cells are built here (one format_html per row): 150 compounds × 30 categories."""

    def get(self, request):
        speed = _speed(request)
        cats = _leaf_categories()
        access = Access.objects.restrict(request.user, "view")
        col = {c.pk: i for i, c in enumerate(cats)}
        limits = [c.threshold_m(speed) for c in cats]
        per_min = 1.0 / (speed * 60.0)
        agg = _aggregate_only(request.user)
        cells: dict[int, list] = {}
        names: dict[int, str] = {}
        pops: dict[int, int] = {}
        for cid, name, cat_id, d, pop in access.values_list("compound_id", "compound__name", "category_id",
                                                            "distance_m", "population"):
            i = col.get(cat_id)
            if i is None:
                continue
            row = cells.get(cid)
            if row is None:
                row = cells[cid] = [("none", "—")] * len(cats)
                names[cid] = name
                pops[cid] = pop
            if d is None:
                continue
            m = d * per_min
            cls = 5 if m <= 5 else 10 if m <= 10 else 15 if m <= 15 else 0
            css = f"ok{cls}" if d <= limits[i] and cls else "gap"
            row[i] = (css, f"{m:.0f}′")
        rows = []
        for cid in sorted(cells, key=lambda k: names[k]):
            html = format_html_join("", '<td class="m {}">{}</td>', cells[cid])
            rows.append({"name": names[cid], "cells": html, "population": _count(pops[cid], agg)})
        return self.render(request, "circle/matrix.html", title=_("15分钟生活圈"), categories=cats, rows=rows,
                           speed=speed, method=_method_of(access), detour=services.engine.DETOUR_FACTOR)


class CoverageView(CircleView):
    def get(self, request):
        speed = _speed(request)
        level = request.GET.get("level", "community")
        if level not in {"grid", "community", "street"}:
            level = "community"
        cats = _leaf_categories()
        access = Access.objects.restrict(request.user, "view")
        agg = _aggregate_only(request.user)
        table = []
        for c in cats:
            for r in services.coverage(access, c, speed, level):
                table.append({"category": c, "row": r, "population": _count(r.population, agg),
                              "group_population": _count(r.group_population, agg)})
        return self.render(request, "circle/coverage.html", title=_("生活圈覆盖率"), table=table, level=level,
                           speed=speed, method=_method_of(access), detour=services.engine.DETOUR_FACTOR,
                           levels=[("grid", _("网格")), ("community", _("社区")), ("street", _("街道"))])


# --- gap map --------------------------------------------------------------------------------------------------
class MapView(CircleView):
    def get(self, request):
        cats = _leaf_categories()
        cat = _category(request, cats)
        return self.render(request, "circle/map.html", title=_("生活圈缺口地图"), categories=cats, category=cat,
                           speed=_speed(request), tile_url=_tile_url(), detour=services.engine.DETOUR_FACTOR)


def _tile_url() -> str:
    from django.conf import settings

    return getattr(settings, "RENFANG_TILE_URL", "") or ""


def _feature(geometry, **props) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _geometry(boundary) -> dict | None:
    """A GeoJSON geometry out of a stored boundary (a geometry or a Feature)."""
    if not isinstance(boundary, dict):
        return None
    if boundary.get("type") == "Feature":
        return boundary.get("geometry")
    return boundary if boundary.get("type") in {"Polygon", "MultiPolygon"} else None


def _point(lat, lng) -> dict:
    return {"type": "Point", "coordinates": [lng, lat]}


class MapDataView(CircleView):
    """GeoJSON for the gap map: grid boundaries, compounds (gaps sized by affected residents), facilities."""

    def get(self, request):
        from places.models import Grid

        cats = _leaf_categories()
        cat = _category(request, cats)
        if cat is None:
            raise Http404
        speed = _speed(request)
        limit = cat.threshold_m(speed)
        agg = _aggregate_only(request.user)
        user = request.user
        grids = [_feature(_geometry(g.boundary), name=g.name, kind="grid", id=g.pk)
                 for g in Grid.objects.restrict(user, "view").exclude(boundary__isnull=True)]
        grids = [f for f in grids if f["geometry"]]
        comps = []
        access = Access.objects.restrict(user, "view").filter(category=cat, compound__lat__isnull=False)
        for a in access.select_related("compound", "facility"):
            served = a.distance_m is not None and a.distance_m <= limit
            affected = 0 if served else a.group_population
            comps.append(_feature(_point(a.compound.lat, a.compound.lng), kind="compound", name=a.compound.name,
                                  served=served, minutes=round(services.minutes(a.distance_m, speed), 1)
                                  if a.distance_m is not None else None,
                                  affected=affected, affected_label=_count(affected, agg),
                                  nearest=a.facility.name if a.facility_id else ""))
        facs = [_feature(_point(f.lat, f.lng), kind="facility", name=f.name, category=f.category.label,
                         hours=f.opening_hours, status=f.get_status_display())
                for f in Facility.objects.restrict(user, "view").filter(category=cat, status=Facility.Status.OPEN)
                .select_related("category")]
        return JsonResponse({
            "category": {"code": cat.code, "name": cat.label, "threshold_m": limit, "confirmed": cat.confirmed},
            "method": _method_of(access), "grids": {"type": "FeatureCollection", "features": grids},
            "compounds": {"type": "FeatureCollection", "features": comps},
            "facilities": {"type": "FeatureCollection", "features": facs},
        })


class FacilitiesGeoJsonView(CircleView):
    """All open facilities in the user's places as GeoJSON (for the cockpit map)."""

    perm = "circle.view_facility"

    def get(self, request):
        qs = (Facility.objects.restrict(request.user, "view").filter(status=Facility.Status.OPEN)
              .select_related("category"))
        feats = [_feature(_point(f.lat, f.lng), id=f.pk, name=f.name, category=f.category.code,
                          category_name=f.category.label, tier=f.category.tier, hours=f.opening_hours)
                 for f in qs]
        return JsonResponse({"type": "FeatureCollection", "features": feats})


# --- planning -------------------------------------------------------------------------------------------------
class PlanView(CircleView):
    perm = "circle.plan_facility"

    def get(self, request):
        cats = _leaf_categories()
        cat = _category(request, cats)
        speed = _speed(request)
        source = request.GET.get("source", "compounds")
        try:
            k = max(1, min(20, int(request.GET.get("k", 3))))
        except ValueError:
            k = 3
        result = None
        if cat is not None and "run" in request.GET:
            access = Access.objects.restrict(request.user, "view")
            candidates = services.candidate_sites(request.user, source)
            result = services.plan(cat, access, candidates, k, speed)
        return self.render(request, "circle/plan.html", title=_("设施选址"), categories=cats, category=cat,
                           speed=speed, k=k, source=source, result=result, detour=services.engine.DETOUR_FACTOR,
                           sources=[("compounds", _("所有小区位置")), ("sites", _("已登记的候选选址"))],
                           sites=CandidateSite.objects.restrict(request.user, "view").select_related("grid"),
                           site_form=SiteForm(user=request.user),
                           can_add_site=scope_for(request.user).has("circle.add_candidatesite"), tile_url=_tile_url())


class SiteForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    grid = forms.ModelChoiceField(label=gettext_lazy("所在网格"), queryset=None)
    # The site is a click on the map above (circle/plan.js fills these and names the grid), never typed.
    lat = forms.FloatField(label=gettext_lazy("位置"), min_value=-90, max_value=90, widget=forms.HiddenInput,
                           error_messages={"required": gettext_lazy("请先在地图上点击选址位置")})
    lng = forms.FloatField(label=gettext_lazy("位置"), min_value=-180, max_value=180, widget=forms.HiddenInput,
                           error_messages={"required": gettext_lazy("请先在地图上点击选址位置")})
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from places.models import Grid

        self.fields["grid"].queryset = Grid.objects.restrict(user, "view")


class SiteAddView(CircleView):
    perm = "circle.add_candidatesite"

    def post(self, request):
        form = SiteForm(request.POST, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.add_candidate_site(request.user, d["name"], d["grid"], d["lat"], d["lng"], d["note"])
            except ValidationError as exc:
                for field, msgs in exc.message_dict.items():
                    for m in msgs:
                        form.add_error(field if field in form.fields else None, m)
            else:
                messages.success(request, _("已登记候选选址“%(n)s”") % {"n": d["name"]})
                return redirect(reverse("circle:plan") + "?source=sites")
        for field, errs in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for e in errs:
                messages.error(request, f"{label}：{e}" if label else e)
        return redirect(reverse("circle:plan") + "?source=sites")


# --- facilities -----------------------------------------------------------------------------------------------
class FacilityForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    category = forms.ModelChoiceField(label=gettext_lazy("类别"), queryset=Category.objects.none())
    grid = forms.ModelChoiceField(label=gettext_lazy("所在网格"), queryset=None)
    address = forms.CharField(label=gettext_lazy("地址"), max_length=200, required=False)
    lat = forms.FloatField(label=gettext_lazy("纬度"), min_value=-90, max_value=90)
    lng = forms.FloatField(label=gettext_lazy("经度"), min_value=-180, max_value=180)
    opening_hours = forms.CharField(label=gettext_lazy("开放时间"), max_length=100, required=False)
    capacity = forms.IntegerField(label=gettext_lazy("容量"), min_value=0, required=False)
    operator = forms.CharField(label=gettext_lazy("运营方"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("服务电话"), max_length=32, required=False)
    status = forms.ChoiceField(label=gettext_lazy("状态"), choices=Facility.Status.choices)
    note = forms.CharField(label=gettext_lazy("备注"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    photo = forms.FileField(label=gettext_lazy("照片"), required=False,
                            help_text=gettext_lazy("JPEG、PNG或WebP，不超过5MB；不选则保留原照片"),
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from places.models import Grid

        self.fields["category"].queryset = Category.objects.filter(is_active=True, parent__isnull=False)
        self.fields["grid"].queryset = Grid.objects.restrict(user, "view")


class FacilityListView(CircleView):
    perm = "circle.view_facility"

    def get(self, request):
        qs = Facility.objects.restrict(request.user, "view").select_related("category", "grid")
        cat = request.GET.get("category")
        if cat:
            qs = qs.filter(category__code=cat)
        q = (request.GET.get("q") or "").strip()
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(address__icontains=q) | Q(operator__icontains=q))
        scope = scope_for(request.user)
        return self.render(request, "circle/facility_list.html", title=_("服务设施"), facilities=qs[:500],
                           categories=_leaf_categories(), q=q, cat=cat,
                           can_add=scope.has("circle.add_facility"), can_import=scope.has("circle.import_facility"))


class FacilityEditView(CircleView):
    perm = "circle.view_facility"

    def _get(self, request, pk):
        if pk is None:
            require(request.user, "circle.add_facility")
            return None
        fac = get_object_or_404(Facility.objects.restrict(request.user, "view"), pk=pk)
        if not Facility.objects.restrict(request.user, "change").filter(pk=pk).exists():
            raise PermissionDenied(_("您无权修改该服务设施"))
        return fac

    def get(self, request, pk=None):
        fac = self._get(request, pk)
        initial = {}
        if fac is not None:
            initial = {f: getattr(fac, f) for f in services.FACILITY_FIELDS} | {"version": fac.version}
        form = FacilityForm(initial=initial, user=request.user)
        return self._page(request, form, fac)

    def post(self, request, pk=None):
        fac = self._get(request, pk)
        form = FacilityForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            data = services.FacilityData(**{f: d.get(f) for f in services.FACILITY_FIELDS}, photo=d.get("photo"))
            try:
                saved = services.save_facility(request.user, data, instance=fac, expected_version=d.get("version"))
            except ValidationError as exc:
                for field, msgs in exc.message_dict.items():
                    for m in msgs:
                        form.add_error(field if field in form.fields else None, m)
            except ConflictError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已保存“%(n)s”，生活圈数据将在后台重新计算") % {"n": saved.name})
                return redirect("circle:facility_list")
        return self._page(request, form, fac, status=400)

    def _page(self, request, form, fac, status=200):
        resp = render(request, "circle/facility_form.html", {
            "title": _("修改服务设施") if fac else _("新增服务设施"), "form": form, "facility": fac,
            "cancel_url": reverse("circle:facility_list")})
        resp.status_code = status
        return resp


class FacilityPhotoView(CircleView):
    """A facility's photo, through the same scope as the facility (uploads are never served from a public path)."""

    perm = "circle.view_facility"

    def get(self, request, pk):
        fac = get_object_or_404(Facility.objects.restrict(request.user, "view"), pk=pk)
        if not fac.photo:
            raise Http404
        handle = fac.photo.open("rb")
        kind = uploads.sniff(handle.read(16))
        handle.seek(0)
        return FileResponse(handle, content_type=kind or "application/octet-stream")


class FacilityCloseView(CircleView):
    perm = "circle.view_facility"

    def post(self, request, pk):
        fac = get_object_or_404(Facility.objects.restrict(request.user, "view"), pk=pk)
        if not Facility.objects.restrict(request.user, "change").filter(pk=pk).exists():
            raise PermissionDenied(_("您无权修改该服务设施"))
        services.close_facility(request.user, fac)
        messages.success(request, _("已将“%(n)s”标记为已关闭") % {"n": fac.name})
        return redirect("circle:facility_list")


class FacilityImportView(CircleView):
    perm = "circle.import_facility"

    def get(self, request):
        return self.render(request, "circle/facility_import.html", title=_("导入服务设施"))

    def post(self, request):
        f = request.FILES.get("file")
        errors = []
        if f is None:
            errors = [_("请选择要上传的 .xlsx 文件")]
        else:
            try:
                created = services.import_facilities(request.user, f)
            except ValidationError as exc:
                errors = [m for msgs in exc.message_dict.values() for m in msgs]
            else:
                messages.success(request, _("已导入 %(n)d 个服务设施") % {"n": len(created)})
                return redirect("circle:facility_list")
        resp = self.render(request, "circle/facility_import.html", title=_("导入服务设施"), errors=errors)
        resp.status_code = 400
        return resp


# --- categories and network -----------------------------------------------------------------------------------
class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["code", "name", "name_en", "parent", "tier", "radius_m", "kind", "group", "confirmed", "source",
                  "order", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Category.objects.filter(parent__isnull=True)
        if self.instance.pk:
            self.fields["code"].disabled = True


class CategoryListView(CircleView):
    perm = "circle.view_category"

    def get(self, request):
        every = list(Category.objects.select_related("parent").order_by("order", "code"))
        cats = []  # the tree: each group followed by its categories
        for top in [c for c in every if c.parent_id is None]:
            cats.append(top)
            cats.extend(c for c in every if c.parent_id == top.pk)
        cats.extend(c for c in every if c not in cats)
        return self.render(request, "circle/category_list.html", title=_("设施类别与服务半径"), categories=cats,
                           can_change=scope_for(request.user).has("circle.change_category"),
                           can_add=scope_for(request.user).has("circle.add_category"))


class CategoryEditView(CircleView):
    perm = "circle.change_category"

    def _get(self, request, pk):
        if pk is None:
            require(request.user, "circle.add_category")
            return None
        return get_object_or_404(Category, pk=pk)

    def _page(self, request, form, cat, status=200):
        title = _("修改类别：%(n)s") % {"n": cat.label} if cat else _("新增设施类别")
        resp = render(request, "circle/facility_form.html", {"title": title, "form": form,
                                                              "cancel_url": reverse("circle:categories")})
        resp.status_code = status
        return resp

    def get(self, request, pk=None):
        cat = self._get(request, pk)
        return self._page(request, CategoryForm(instance=cat), cat)

    def post(self, request, pk=None):
        from core import audit

        cat = self._get(request, pk)
        form = CategoryForm(request.POST, instance=cat)
        if form.is_valid():
            with transaction.atomic():
                saved = form.save()
                audit.record("update" if cat else "create", saved, user=request.user, fields=list(form.changed_data))
                services._schedule_recompute()
            messages.success(request, _("已保存类别“%(n)s”") % {"n": saved.label})
            return redirect("circle:categories")
        return self._page(request, form, cat, status=400)


class NetworkView(CircleView):
    perm = "circle.view_access"

    def get(self, request):
        return self.render(request, "circle/network.html", title=_("步行路网"),
                           networks=Network.objects.all()[:10], active=services.active_network())


# --- services near me (public, no login) ---------------------------------------------------------------------
def near_view(request, token: str):
    building = services.read_building_token(token)
    if building is None:
        raise Http404
    speed = _speed(request)
    data = services.near(building, speed=speed)
    return render(request, "circle/near.html", {
        "title": _("我身边的服务"), "place": building.compound.name, "data": data, "speed": speed,
        "minutes_max": services.NEAR_MINUTES, "detour": services.engine.DETOUR_FACTOR, "token": token,
    })


def near_data(request, token: str):
    building = services.read_building_token(token)
    if building is None:
        raise Http404
    data = services.near(building, speed=_speed(request))
    feats = [_feature(_point(i["lat"], i["lng"]), name=i["name"], category=e["category"].label, minutes=i["minutes"])
             for e in data["categories"] for i in e["items"]]
    return JsonResponse({"home": {"lat": data["lat"], "lng": data["lng"]},
                         "facilities": {"type": "FeatureCollection", "features": feats}})


class BuildingQrView(CircleView):
    """The QR code (SVG) to print at a building's entrance, pointing at its services-near-me page."""

    perm = "places.view_building"

    def get(self, request, pk):
        import io

        import segno

        from places.models import Building

        building = get_object_or_404(Building.objects.restrict(request.user, "view"), pk=pk)
        url = request.build_absolute_uri(reverse("circle:near", args=[services.building_token(building)]))
        buf = io.BytesIO()
        segno.make(url, error="m").save(buf, kind="svg", scale=6, title=building.compound.name)
        return HttpResponse(buf.getvalue(), content_type="image/svg+xml")
