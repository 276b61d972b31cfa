"""API of the volunteer service (read through ``restrict``; the one write is verification).

* ``/api/volunteers/volunteers/``: the volunteers of the user's places (names masked).
* ``/api/volunteers/teams/``: the teams with their 1+1+N shape.
* ``/api/volunteers/shifts/``: the shifts, filterable by time.
* ``/api/volunteers/signups/``: sign-ups with their check-in, check-out and hours; ``{id}/verify/`` (POST,
  ``volunteers.verify_signup`` on its place) enters the hours into the ledger once (again: the same answer, no
  second payment).
"""

from __future__ import annotations

import django_filters as df
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import RegistryViewSet, api_filterset
from core.filters import FilterSet
from volunteers import services
from volunteers.api import serializers as s
from volunteers.choices import SignupState
from volunteers.models import Shift, Signup, Team, Volunteer

__all__ = ["ShiftViewSet", "SignupViewSet", "TeamViewSet", "VolunteerViewSet"]

READ = ["get", "head", "options"]


class ShiftApiFilterSet(FilterSet):
    starts_after = df.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte", label=gettext_lazy("开始不早于"))
    starts_before = df.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt", label=gettext_lazy("开始早于"))

    class Meta:
        model = Shift
        fields: list = []


class SignupApiFilterSet(FilterSet):
    state = df.ChoiceFilter(choices=SignupState.choices, label=gettext_lazy("状态"))
    unverified = df.BooleanFilter(field_name="verified_at", lookup_expr="isnull", label=gettext_lazy("未核定"))

    class Meta:
        model = Signup
        fields = ["state"]


class VolunteerViewSet(RegistryViewSet):
    queryset = Volunteer.objects.select_related("person").order_by("number")
    serializer_class = s.VolunteerSerializer
    filterset_class = None
    http_method_names = READ


class TeamViewSet(RegistryViewSet):
    queryset = Team.objects.prefetch_related("memberships").order_by("community_id", "grid_id", "name")
    serializer_class = s.TeamSerializer
    filterset_class = None
    http_method_names = READ


class ShiftViewSet(RegistryViewSet):
    queryset = Shift.objects.select_related("task").order_by("starts_at", "id")
    serializer_class = s.ShiftSerializer
    filterset_class = api_filterset(ShiftApiFilterSet)
    http_method_names = READ


class SignupViewSet(RegistryViewSet):
    queryset = Signup.objects.select_related("volunteer", "shift__task").order_by("-id")
    serializer_class = s.SignupSerializer
    filterset_class = api_filterset(SignupApiFilterSet)
    http_method_names = ["get", "post", "head", "options"]
    action_perms = {"verify": "verify"}
    idempotent_actions = ("verify",)

    @extend_schema(exclude=True)  # sign-ups are made on the volunteer's pages; POST is for the verify action only
    def create(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

    @extend_schema(request=s.VerifySerializer, responses=s.SignupSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None) -> Response:
        signup = self.get_object()

        def handler() -> Response:
            ser = s.VerifySerializer(data=request.data)
            ser.is_valid(raise_exception=True)
            try:
                services.verify(request.user, signup, hours=ser.validated_data.get("hours"))
            except DjangoValidationError as exc:
                raise exceptions.ValidationError({"non_field_errors": [str(m) for m in exc.messages]}) from None
            signup.refresh_from_db()
            return Response(s.SignupSerializer(signup).data)

        return self.idempotent(request, handler)
