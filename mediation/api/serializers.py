from __future__ import annotations

from rest_framework import serializers

from core.api import BlankAsNullChoiceField, RegistrySerializer
from mediation.models import Mediation, Outcome

__all__ = ["MediationSerializer"]


class MediationSerializer(RegistrySerializer):
    """A mediation's facts for lists and boards: no party names or phones (they stay on the record's page)."""

    case_number = serializers.CharField(source="case.number", read_only=True)
    parties_count = serializers.IntegerField(source="parties.count", read_only=True)
    sessions_count = serializers.IntegerField(source="sessions.count", read_only=True)
    outcome = BlankAsNullChoiceField(choices=Outcome.choices, help_text="未结案时为 null")

    class Meta:
        model = Mediation
        fields = ["id", "number", "title", "case", "case_number", "committee", "state", "outcome", "signed_on",
                  "closed_at", "street", "community", "grid", "parties_count", "sessions_count", "created_at",
                  "updated_at", "version"]
        read_only_fields = fields
