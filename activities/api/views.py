"""API of the activities (read-only; every write goes through the pages and ``activities.services``).

* ``/api/activities/activities/``: the activities of the user's places (``activities.view_activity``);
* ``/api/activities/sessions/``: their sessions;
* ``/api/activities/signups/``: the sign-ups (applicant and participants masked; a resident's own account reads
  its own sign-ups, level "self").
"""

from __future__ import annotations

import django_filters as df
from django.utils.translation import pgettext_lazy

from activities.api import serializers as s
from activities.choices import Mode, SignUpState, Status
from activities.models import Activity, Session, SignUp
from core.api import RegistryViewSet, api_filterset
from core.filters import FilterSet

__all__ = ["ActivityViewSet", "SessionViewSet", "SignUpViewSet"]


class ActivityApiFilterSet(FilterSet):
    status = df.ChoiceFilter(choices=Status.choices, label=pgettext_lazy("activities", "状态"))
    mode = df.ChoiceFilter(choices=Mode.choices, label=pgettext_lazy("activities", "名额方式"))
    community = df.NumberFilter(field_name="community_id", label=pgettext_lazy("activities", "主办社区"))
    grid = df.NumberFilter(field_name="grid_id", label=pgettext_lazy("activities", "举办网格"))

    class Meta:
        model = Activity
        fields = ["status", "mode"]


class SessionApiFilterSet(FilterSet):
    activity = df.NumberFilter(field_name="activity_id", label=pgettext_lazy("activities", "活动"))

    class Meta:
        model = Session
        fields = ["activity"]


class SignUpApiFilterSet(FilterSet):
    activity = df.NumberFilter(field_name="activity_id", label=pgettext_lazy("activities", "活动"))
    state = df.MultipleChoiceFilter(choices=SignUpState.choices, label=pgettext_lazy("activities", "状态"))

    class Meta:
        model = SignUp
        fields = ["activity", "state"]


class ActivityViewSet(RegistryViewSet):
    queryset = Activity.objects.prefetch_related("audience_communities", "audience_tags").select_related(
        "community").order_by("-id")
    serializer_class = s.ActivitySerializer
    filterset_class = api_filterset(ActivityApiFilterSet)
    http_method_names = ["get", "head", "options"]


class SessionViewSet(RegistryViewSet):
    queryset = Session.objects.select_related("activity").order_by("activity_id", "starts_at", "number")
    serializer_class = s.SessionSerializer
    filterset_class = api_filterset(SessionApiFilterSet)
    http_method_names = ["get", "head", "options"]


class SignUpViewSet(RegistryViewSet):
    queryset = SignUp.objects.select_related("applicant").prefetch_related("participants__person").order_by(
        "activity_id", "-priority", "created_at", "id")
    serializer_class = s.SignUpSerializer
    filterset_class = api_filterset(SignUpApiFilterSet)
    http_method_names = ["get", "head", "options"]
