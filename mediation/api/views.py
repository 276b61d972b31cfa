"""The mediation API: read-only (records are written through the pages and ``mediation.services``)."""

from __future__ import annotations

from core.api import RegistryViewSet
from mediation.api.serializers import MediationSerializer
from mediation.models import Mediation

__all__ = ["MediationViewSet"]


class MediationViewSet(RegistryViewSet):
    queryset = Mediation.objects.select_related("case").order_by("-id")
    serializer_class = MediationSerializer
    http_method_names = ["get", "head", "options"]
    audit_reads = True
