"""Serializers of the fieldwork API. Sealed personal numbers (``*_enc``) never leave the server: a change request's
payload is shown without them, with the masked copies only."""

from __future__ import annotations

from rest_framework import serializers

from core.api import RegistrySerializer, ScopedPrimaryKeyRelatedField
from fieldwork.models import ChangeKind, ChangeRequest, Visit
from people.models import Person
from places.models import House

__all__ = ["ChangeRequestSerializer", "VisitItemSerializer", "VisitSerializer"]


def public_payload(payload: dict) -> dict:
    return {k: v for k, v in (payload or {}).items() if not k.endswith("_enc")}


class VisitItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    person = serializers.IntegerField(required=False, allow_null=True)
    payload = serializers.DictField(required=False, default=dict)


class VisitSerializer(RegistrySerializer):
    house = ScopedPrimaryKeyRelatedField(queryset=House.objects.all())
    items = VisitItemSerializer(many=True, write_only=True, required=False, default=list)
    house_version = serializers.IntegerField(write_only=True, required=False, allow_null=True)
    not_home = serializers.BooleanField(write_only=True, required=False, default=False)
    changes = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = ["id", "house", "worker", "visited_at", "client_id", "note", "outcome", "grid", "community",
                  "street", "items", "house_version", "not_home", "changes", "version", "created_at"]
        read_only_fields = ["worker", "visited_at", "outcome", "grid", "community", "street", "changes", "version",
                            "created_at"]
        extra_kwargs = {"client_id": {"required": True, "validators": []}}

    def get_changes(self, obj: Visit) -> list[dict]:
        return [{"id": c.pk, "kind": c.kind, "status": c.status} for c in obj.changes.all()]


class ChangeRequestSerializer(RegistrySerializer):
    house = ScopedPrimaryKeyRelatedField(queryset=House.objects.all())
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all(), required=False, allow_null=True)
    payload = serializers.DictField(required=False, default=dict)
    contact_phone = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = ChangeRequest
        fields = ["id", "house", "person", "kind", "payload", "status", "source", "submitted_by", "contact_name",
                  "contact_phone", "contact_phone_masked", "visit", "reviewed_by", "reviewed_at", "reason",
                  "applied_at", "before", "after", "grid", "community", "street", "version", "created_at"]
        read_only_fields = ["status", "source", "submitted_by", "contact_phone_masked", "visit", "reviewed_by",
                            "reviewed_at", "reason", "applied_at", "before", "after", "grid", "community", "street",
                            "version", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["payload"] = public_payload(instance.payload)
        return data


class ReviewSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    version = serializers.IntegerField(required=False, help_text="当前版本号（或用 If-Match 头）")
