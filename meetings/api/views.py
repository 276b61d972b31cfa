"""API of joint meetings and enterprise services (read through ``restrict``; the one write is a progress update
through ``meetings.services``, refusals 400 ``{field: [reason]}`` in Chinese).

* ``/api/meetings/organisations/``, ``meetings/``, ``needs/``, ``services/``: the rows of the user's places.
* ``/api/meetings/resolutions/`` with ``?owner=&state=&overdue=1&series=``; ``{id}/progress/`` (POST
  ``{"progress", "note"}``, ``meetings.change_resolution`` on its place).
"""

from __future__ import annotations

import django_filters as df
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import RegistryViewSet, api_filterset
from core.filters import FilterSet
from meetings import services
from meetings.api import serializers as s
from meetings.choices import OPEN_STATES, NeedCategory, NeedState, OrgKind, ResolutionState
from meetings.models import GovService, Meeting, Need, Organisation, Resolution

__all__ = ["GovServiceViewSet", "MeetingViewSet", "NeedViewSet", "OrganisationViewSet", "ResolutionViewSet"]


class OrganisationFilterSet(FilterSet):
    kind = df.ChoiceFilter(choices=OrgKind.choices, label=gettext_lazy("类型"))

    class Meta:
        model = Organisation
        fields = ["kind"]


class ResolutionFilterSet(FilterSet):
    owner = df.NumberFilter(field_name="owner_id", label=gettext_lazy("责任单位"))
    series = df.NumberFilter(field_name="series_id", label=gettext_lazy("联席会议"))
    state = df.ChoiceFilter(choices=ResolutionState.choices, label=gettext_lazy("状态"))
    overdue = df.BooleanFilter(method="filter_overdue", label=gettext_lazy("只看超期"))

    class Meta:
        model = Resolution
        fields = ["state"]

    def filter_overdue(self, qs, name, value):
        if value:
            return qs.filter(state__in=OPEN_STATES, deadline_at__lt=timezone.now())
        return qs


class NeedFilterSet(FilterSet):
    category = df.ChoiceFilter(choices=NeedCategory.choices, label=gettext_lazy("类别"))
    state = df.ChoiceFilter(choices=NeedState.choices, label=gettext_lazy("状态"))
    enterprise = df.NumberFilter(field_name="enterprise_id", label=gettext_lazy("企业"))
    floor = df.NumberFilter(field_name="floor", label=gettext_lazy("楼层"))

    class Meta:
        model = Need
        fields = ["category", "state"]


class OrganisationViewSet(RegistryViewSet):
    queryset = Organisation.objects.order_by("kind", "name", "id")
    serializer_class = s.OrganisationSerializer
    filterset_class = api_filterset(OrganisationFilterSet)
    http_method_names = ["get", "head", "options"]


class MeetingViewSet(RegistryViewSet):
    queryset = Meeting.objects.select_related("series").order_by("-starts_at", "id")
    serializer_class = s.MeetingSerializer
    filterset_class = None
    http_method_names = ["get", "head", "options"]


class ResolutionViewSet(RegistryViewSet):
    queryset = Resolution.objects.select_related("owner").prefetch_related("assisting").order_by("deadline_at", "id")
    serializer_class = s.ResolutionSerializer
    filterset_class = api_filterset(ResolutionFilterSet)
    http_method_names = ["get", "post", "head", "options"]
    action_perms = {"progress": "change"}

    @extend_schema(exclude=True)  # resolutions are recorded at their meeting (the pages); POST is for progress only
    def create(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed("POST")

    @extend_schema(request=s.ProgressSerializer, responses={200: s.ResolutionSerializer})
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None) -> Response:
        res = self.get_object()
        body = s.ProgressSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.report_progress(request.user, res, **body.validated_data)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}) from None
        res.refresh_from_db()
        return Response(s.ResolutionSerializer(res, context={"request": request}).data)


class NeedViewSet(RegistryViewSet):
    queryset = Need.objects.select_related("enterprise").order_by("-raised_on", "-id")
    serializer_class = s.NeedSerializer
    filterset_class = api_filterset(NeedFilterSet)
    http_method_names = ["get", "head", "options"]


class GovServiceViewSet(RegistryViewSet):
    queryset = GovService.objects.order_by("on_date", "starts", "id")
    serializer_class = s.GovServiceSerializer
    filterset_class = None
    http_method_names = ["get", "head", "options"]
