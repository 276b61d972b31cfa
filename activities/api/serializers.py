"""Serializers of the activities API: an applicant and participants appear masked (张*丰)."""

from __future__ import annotations

from rest_framework import serializers

from activities.models import Activity, Session, SignUp

__all__ = ["ActivitySerializer", "SessionSerializer", "SignUpSerializer"]


def _mask(name: str) -> str:
    from resources.views import mask_name

    return mask_name(name)


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Session
        fields = ["id", "activity", "number", "starts_at", "ends_at", "place", "topic", "resource", "booking",
                  "closed_at", "version"]
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    organiser = serializers.CharField(source="organiser_label", read_only=True)
    left = serializers.IntegerField(read_only=True)
    audience_communities = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    audience_tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    organiser_children_first = serializers.BooleanField(
        source="children_first", read_only=True,
        help_text="组织者子女优先（未设置时：名额分配的活动为是）/ organisers' children first, as applied")

    class Meta:
        model = Activity
        fields = ["id", "title", "organiser_kind", "organiser", "partner_name", "street", "community", "grid",
                  "audience_communities", "min_age", "max_age", "audience_tags", "capacity", "taken", "left",
                  "max_family", "signup_opens", "signup_closes", "mode", "allocation_rule", "organiser_children_first",
                  "hold_hours", "certificate_min", "status", "draw_seed", "drawn_at", "draw_digest", "version"]
        read_only_fields = fields


class SignUpSerializer(serializers.ModelSerializer):
    applicant_name = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()

    class Meta:
        model = SignUp
        fields = ["id", "activity", "applicant_name", "size", "participants", "state", "priority", "organiser_family",
                  "rank", "won", "ticket", "hold_until", "channel", "created_at", "version"]
        read_only_fields = fields

    def get_applicant_name(self, obj) -> str:
        return _mask(obj.applicant.name)

    def get_participants(self, obj) -> list[str]:
        return [_mask(p.person.name) for p in obj.participants.all()]
