"""Serializers of the volunteer service's API: names of people masked (张*丰); the ledger's figures as numbers."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import pgettext_lazy
from rest_framework import serializers

from volunteers.models import Shift, Signup, Team, Volunteer

__all__ = ["ShiftSerializer", "SignupSerializer", "TeamSerializer", "VerifySerializer", "VolunteerSerializer"]


def _masked(name: str) -> str:
    from volunteers.views import mask_name

    return mask_name(name)


class VolunteerSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Volunteer
        fields = ["id", "number", "name", "skills", "available_days", "joined_on", "is_active", "enterprise",
                  "grid", "community", "street"]
        read_only_fields = fields

    def get_name(self, obj: Volunteer) -> str:
        return _masked(obj.person.name)


class TeamSerializer(serializers.ModelSerializer):
    shape = serializers.SerializerMethodField(help_text=pgettext_lazy("volunteers", "1+1+N：书记+网格员+志愿者数"))

    class Meta:
        model = Team
        fields = ["id", "name", "kind", "motto", "is_active", "grid", "community", "street", "shape"]
        read_only_fields = fields

    def get_shape(self, obj: Team) -> str:
        from volunteers.services import team_shape

        return team_shape(obj, obj.memberships.all()).label


class ShiftSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="task.title", read_only=True)
    kind = serializers.CharField(source="task.kind", read_only=True)

    class Meta:
        model = Shift
        fields = ["id", "task", "title", "kind", "starts_at", "ends_at", "capacity", "taken", "series", "session",
                  "grid", "community", "street"]
        read_only_fields = fields


class SignupSerializer(serializers.ModelSerializer):
    volunteer_number = serializers.CharField(source="volunteer.number", read_only=True)

    class Meta:
        model = Signup
        fields = ["id", "shift", "volunteer", "volunteer_number", "state", "substitute_for", "wants_substitute",
                  "checked_in_at", "checked_out_at", "check_method", "hours", "verified_at", "verified_hours",
                  "grid", "community", "street", "version"]
        read_only_fields = fields


class VerifySerializer(serializers.Serializer):
    hours = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0.25"), max_value=Decimal(24),
                                     required=False, allow_null=True,
                                     help_text=pgettext_lazy("volunteers", "核定时长（小时）；不填按签到签退计时"))
