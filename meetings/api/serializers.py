"""Serializers of the joint-meetings API. Contacts appear masked; free text is the sealed (masked) text."""

from __future__ import annotations

from rest_framework import serializers

from meetings.models import GovService, Meeting, Need, Organisation, Resolution

__all__ = ["GovServiceSerializer", "MeetingSerializer", "NeedSerializer", "OrganisationSerializer",
           "ProgressSerializer", "ResolutionSerializer"]


class OrganisationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "kind", "kind_display", "name", "enterprise", "compound", "floor", "street", "community",
                  "grid", "address", "contact_name", "contact_phone_masked", "is_active", "version"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    series_name = serializers.CharField(source="series.name", read_only=True)

    class Meta:
        model = Meeting
        fields = ["id", "series", "series_name", "number", "title", "starts_at", "ends_at", "location", "room",
                  "state", "opened_at", "held_at", "carried", "street", "community", "grid", "version"]
        read_only_fields = fields


class ResolutionSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.name", read_only=True, default="")
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Resolution
        fields = ["id", "number", "title", "detail", "meeting", "series", "project", "weight", "owner", "owner_name",
                  "assisting", "proposer", "deadline_days", "assigned_at", "deadline_at", "state", "state_display",
                  "progress", "escalation_level", "submitted_at", "done_at", "review_on", "overdue", "street",
                  "community", "grid", "version"]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    progress = serializers.IntegerField(min_value=0, max_value=100)
    note = serializers.CharField(max_length=2000)


class NeedSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = Need
        fields = ["id", "enterprise", "enterprise_name", "compound", "floor", "category", "title", "detail",
                  "state", "raised_on", "deadline_at", "resolved_at", "resolution_note", "satisfaction", "case",
                  "street", "community", "grid", "version"]
        read_only_fields = fields


class GovServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = GovService
        fields = ["id", "compound", "name", "department", "counter", "on_date", "weekdays", "starts", "ends",
                  "needs_appointment", "appointment", "is_active", "street", "community", "grid"]
        read_only_fields = fields
