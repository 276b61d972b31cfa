"""API of cases: /api/cases/cases/ (list, detail, POST = report) and /api/cases/cases/{id}/transition/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cases import services
from cases.api import serializers as s
from cases.filtersets import CaseFilterSet
from cases.models import Case
from core.api import RegistryViewSet, api_filterset
from core.querysets import scope_q
from core.scope import scope_for

__all__ = ["CaseViewSet"]


class CaseViewSet(RegistryViewSet):
    """Cases in the user's places (or dispatched to their unit). POST reports a new case; the workflow moves only
    through ``transition`` (a conflict is 409 with the current status)."""

    queryset = Case.objects.select_related("category", "lead_unit").order_by("-id")
    serializer_class = s.CaseSerializer
    filterset_class = api_filterset(CaseFilterSet)
    http_method_names = ["get", "post", "head", "options"]
    action_perms = {"transition": "view"}  # the service checks the action's own permission

    def get_serializer_class(self):
        if self.action == "create":
            return s.CaseReportSerializer
        if self.action == "retrieve":
            return s.CaseDetailSerializer
        if self.action == "transition":
            return s.TransitionSerializer
        return s.CaseSerializer

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        if self.action == "retrieve" and self.kwargs.get("pk"):
            ctx["contact"] = Case.objects.restrict(self.request.user, "contact").filter(
                pk=self.kwargs["pk"]).exists()
        return ctx

    def create(self, request, *args, **kwargs) -> Response:
        self.check_model_permission("add")

        def handler() -> Response:
            ser = s.CaseReportSerializer(data=request.data)
            ser.is_valid(raise_exception=True)
            case = self.report(ser.validated_data)
            return Response(s.CaseSerializer(case).data, status=status.HTTP_201_CREATED,
                            headers=self.etag_headers(case))

        return self.idempotent(request, handler)

    def report(self, d: dict) -> Case:
        from places.models import Building, Compound, House

        ps = scope_for(self.request.user).places_for("cases.add_case")
        place = None
        for model, key in ((House, "house"), (Building, "building"), (Compound, "compound")):
            if d.get(key):
                place = model.objects.filter(scope_q(model, ps), pk=d[key]).first()
                if place is None:
                    raise ValidationError({key: ["所选地点不存在或不在您的管辖范围内"]})
                break
        return services.report(self.request.user, channel=d["channel"], category=d["category"], title=d["title"],
                               description=d["description"], place=place, priority=d["priority"],
                               lat=d.get("lat"), lng=d.get("lng"), reporter_name=d["reporter_name"],
                               reporter_phone=d["reporter_phone"], external_id=d["external_id"],
                               attachments=self.request.FILES.getlist("attachments"))

    @extend_schema(request=s.TransitionSerializer, responses=s.CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None) -> Response:
        case = self.get_object()
        ser = s.TransitionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = dict(ser.validated_data)
        name = d.pop("action")
        version = d.pop("version", None)
        try:
            case = services.transition(request.user, case, name, expected_version=version, **d)
        except services.CaseConflict as exc:
            return Response({"non_field_errors": [str(exc)], "current_version": exc.current,
                             "current_status": exc.current_status}, status=status.HTTP_409_CONFLICT)
        ctx = {**self.get_serializer_context(), "contact": False}
        return Response(s.CaseDetailSerializer(case, context=ctx).data, headers=self.etag_headers(case))
