"""The duplicate suggestions of the report page (htmx) and the "link to this case instead" action.

``cases:dedup_suggest`` (GET, the report form's fields: category, title, description, house / building /
compound or lat / lng, and ``case`` when looking from an existing case) answers the fragment
``cases/_dedup_suggestions.html``: the similar open cases the user may see. ``cases:dedup_link`` (POST case,
duplicate_of) rejects a reported case as a duplicate of another through ``cases.services.transition``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from cases import dedup, services
from cases.models import Case, CaseCategory
from core.scope import scope_for
from core.services import ConflictError

__all__ = ["DedupLinkView", "DedupSuggestView"]


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class DedupSuggestView(LoginRequiredMixin, View):
    def get(self, request):
        from places.models import Building, Compound, House

        user = request.user
        if not (scope_for(user).has("cases.add_case") or scope_for(user).has("cases.view_case")):
            raise PermissionDenied(_("您没有此项权限"))
        g = request.GET
        category = _int(g.get("category"))
        if category is None and g.get("category"):
            category = CaseCategory.objects.filter(code=g["category"]).values_list("pk", flat=True).first()
        current = None
        if _int(g.get("case")):
            current = get_object_or_404(Case.objects.restrict(user, "view"), pk=_int(g.get("case")))
        building_id, compound_id = _int(g.get("building")), _int(g.get("compound"))
        lat, lng = _float(g.get("lat")), _float(g.get("lng"))
        if _int(g.get("house")):
            house = House.objects.restrict(user, "view").filter(pk=_int(g["house"])).values(
                "building_id", "compound_id").first()
            if house:
                building_id, compound_id = house["building_id"], house["compound_id"]
        elif building_id:
            compound_id = compound_id or Building.objects.filter(pk=building_id).values_list(
                "compound_id", flat=True).first()
        if current is not None:
            category = category or current.category_id
            building_id, compound_id = building_id or current.building_id, compound_id or current.compound_id
            lat, lng = lat if lat is not None else current.lat, lng if lng is not None else current.lng
        if lat is None and compound_id:
            point = Compound.objects.filter(pk=compound_id).values_list("lat", "lng").first()
            if point and point[0] is not None:
                lat, lng = point
        text = " ".join(filter(None, [g.get("title"), g.get("description")]))
        if current is not None and not text.strip():
            text = f"{current.title} {current.description}"
        found = []
        if category and text.strip():
            found = dedup.suggest(category_id=category, text=text, building_id=building_id,
                                  compound_id=compound_id, lat=lat, lng=lng,
                                  exclude_id=current.pk if current else None, limit=8)
        visible = set(Case.objects.restrict(user, "view").filter(pk__in=[c.pk for c, _s in found])
                      .values_list("pk", flat=True))
        rows = [(c, round(s * 100)) for c, s in found if c.pk in visible][:5]
        can_link = current is not None and "reject" in services.actions_for(user, current)
        return render(request, "cases/_dedup_suggestions.html",
                      {"suggestions": rows, "current": current, "can_link": can_link})


class DedupLinkView(LoginRequiredMixin, View):
    def post(self, request):
        user = request.user
        case = get_object_or_404(Case.objects.restrict(user, "view"), pk=_int(request.POST.get("case")))
        other = get_object_or_404(Case.objects.restrict(user, "view"), pk=_int(request.POST.get("duplicate_of")))
        if other.pk == case.pk:
            raise ValidationError(_("不能把案件关联到它自己"))
        try:
            services.transition(user, case, "reject", expected_version=_int(request.POST.get("version")),
                                reason=_("与案件 %(n)s 重复，已并入该案件办理") % {"n": other.number},
                                duplicate_of=other)
        except ConflictError as exc:
            messages.error(request, str(exc))
            return redirect("cases:detail", pk=case.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("cases:detail", pk=case.pk)
        messages.success(request, _("已将 %(a)s 作为重复件关联到 %(b)s") % {"a": case.number, "b": other.number})
        return redirect("cases:detail", pk=other.pk)
