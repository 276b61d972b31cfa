"""API of the service circle: /api/circle/{facilities,categories,access}/ and /api/circle/coverage/."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from circle import services
from circle.api import serializers as s
from circle.models import Access, Category, Facility
from core.api import RegistrySchema, RegistryViewSet
from core.scope import scope_for

__all__ = ["AccessViewSet", "CategoryViewSet", "CoverageView", "FacilityViewSet"]

FIELDS = services.FACILITY_FIELDS


class FacilityViewSet(RegistryViewSet):
    """Facilities in the user's places. DELETE closes the facility (kept for history)."""

    queryset = Facility.objects.select_related("category")
    serializer_class = s.FacilitySerializer
    filterset_fields = ["category__code", "grid", "status"]
    action_perms = {"destroy": "change"}

    def write(self, data, instance, expected_version):
        base = {f: getattr(instance, f) for f in FIELDS} if instance is not None else {}
        base.update({k: v for k, v in data.items() if k in FIELDS})
        for f in FIELDS:
            base.setdefault(f, None if f in ("category", "grid", "lat", "lng", "capacity") else "")
        if not base.get("status"):
            base["status"] = Facility.Status.OPEN
        return services.save_facility(self.request.user, services.FacilityData(**base), instance, expected_version)

    def remove(self, instance):
        services.close_facility(self.request.user, instance)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    schema = RegistrySchema()  # documents the 400/403/404 every API answer may be
    queryset = Category.objects.all()
    serializer_class = s.CategorySerializer
    pagination_class = None

    def get_queryset(self):
        return self.queryset if scope_for(self.request.user).has("circle.view_category") else self.queryset.none()


class AccessViewSet(viewsets.ReadOnlyModelViewSet):
    """Nearest facility per compound and category (distance in metres; ``method`` says network or straight line)."""

    schema = RegistrySchema()  # documents the 400/403/404 every API answer may be
    queryset = Access.objects.select_related("category", "compound")
    serializer_class = s.AccessSerializer
    filterset_fields = ["category__code", "compound", "method"]

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view").order_by("compound_id", "category__order")


class CoverageView(APIView):
    """Population-weighted coverage: ``?category=<code>&level=grid|community|street&speed=1.2|1.4``."""

    schema = RegistrySchema()

    @extend_schema(
        parameters=[OpenApiParameter("category", OpenApiTypes.STR, required=True, description="category code"),
                    OpenApiParameter("level", OpenApiTypes.STR, enum=["grid", "community", "street"]),
                    OpenApiParameter("speed", OpenApiTypes.FLOAT, enum=[1.2, 1.4])],
        responses=s.CoverageSerializer)
    def get(self, request):
        if not scope_for(request.user).has("circle.view_access"):
            raise PermissionDenied
        cat = get_object_or_404(Category, code=request.query_params.get("category", ""))
        level = request.query_params.get("level", "community")
        if level not in {"grid", "community", "street"}:
            level = "community"
        try:
            speed = float(request.query_params.get("speed", services.DEFAULT_SPEED))
        except ValueError:
            speed = services.DEFAULT_SPEED
        access = Access.objects.restrict(request.user, "view")
        rows = services.coverage(access, cat, speed, level)
        return Response({
            "category": cat.code, "level": level, "speed": speed, "threshold_m": cat.threshold_m(speed),
            "method": access.values_list("method", flat=True).first(),
            "rows": [{"id": r.key, "name": r.name, "population": r.population, "covered": r.covered,
                      "share": r.share, "group": cat.group, "group_population": r.group_population,
                      "group_covered": r.group_covered, "group_share": r.group_share} for r in rows],
        })
