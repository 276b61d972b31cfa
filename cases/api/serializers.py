"""Serializers of the cases API. The reporter's data appear only masked, and only in the detail of a user who
may contact the reporter (``cases.contact_case``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.models import Case, CaseEvent, Channel, Priority, Satisfaction
from core.api import BlankAsNullChoiceField

__all__ = ["CaseEventSerializer", "CaseReportSerializer", "CaseSerializer", "TransitionSerializer"]


class CaseEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username", default="", read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["action", "from_status", "to_status", "user", "note", "at"]


class CaseSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lead_unit = serializers.CharField(source="lead_unit.name", default="", read_only=True)
    overdue = serializers.SerializerMethodField()
    satisfaction = BlankAsNullChoiceField(choices=Satisfaction.choices, help_text=_("未评价时为 null"))

    class Meta:
        model = Case
        fields = ["id", "number", "version", "channel", "category", "priority", "title", "description", "status",
                  "street", "community", "grid", "compound", "building", "house", "address", "lat", "lng",
                  "lead_unit", "deadline_at", "paused_at", "escalation_level", "satisfaction", "reopened_count",
                  "duplicate_of", "external_id", "service_code", "created_at", "closed_at", "overdue"]
        read_only_fields = fields

    def get_overdue(self, obj: Case) -> bool:
        from django.utils import timezone

        from cases.models import CLOCK_STATUSES

        return bool(obj.status in CLOCK_STATUSES and obj.deadline_at and obj.deadline_at < timezone.now())


class CaseDetailSerializer(CaseSerializer):
    events = CaseEventSerializer(many=True, read_only=True)
    reporter = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "events", "reporter"]
        read_only_fields = fields

    def get_reporter(self, obj: Case) -> dict | None:
        if not self.context.get("contact"):
            return None
        return {"name": obj.reporter_name_masked, "phone": obj.reporter_phone_masked}


class CaseReportSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API, label=_("来源"))
    category = serializers.CharField(label=_("类别代码"))
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL, label=_("紧急程度"))
    title = serializers.CharField(max_length=100, label=_("标题"))
    description = serializers.CharField(required=False, allow_blank=True, default="", label=_("描述"))
    house = serializers.IntegerField(required=False, allow_null=True, label=_("房屋"))
    building = serializers.IntegerField(required=False, allow_null=True, label=_("楼栋"))
    compound = serializers.IntegerField(required=False, allow_null=True, label=_("小区"))
    lat = serializers.FloatField(required=False, allow_null=True, label=_("纬度"))
    lng = serializers.FloatField(required=False, allow_null=True, label=_("经度"))
    reporter_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    external_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


class TransitionSerializer(serializers.Serializer):
    action = serializers.CharField(label=_("操作"))
    version = serializers.IntegerField(required=False, allow_null=True, label=_("版本"))
    note = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    answer = serializers.CharField(required=False, allow_blank=True, default="")
    lead_unit = serializers.IntegerField(required=False, allow_null=True)
    co_units = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    duplicate_of = serializers.IntegerField(required=False, allow_null=True)
