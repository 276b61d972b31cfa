"""API of fieldwork: /api/fieldwork/visits/ and /api/fieldwork/changes/ (with approve / reject).

Visits and change requests are history: they are created (through ``fieldwork.services``) and reviewed, never
edited or deleted (PATCH / PUT / DELETE answer 405). ``POST visits/`` is idempotent on ``client_id`` like the
workbench (and on the ``Idempotency-Key`` header like every endpoint).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import RegistryViewSet
from fieldwork import services
from fieldwork.api import serializers as s
from fieldwork.models import ChangeRequest, ChangeSource, Visit

__all__ = ["ChangeRequestViewSet", "VisitViewSet"]

READ_AND_CREATE = ["get", "post", "head", "options"]


class VisitViewSet(RegistryViewSet):
    queryset = Visit.objects.select_related("house").prefetch_related("changes")
    serializer_class = s.VisitSerializer
    filterset_fields = ["house", "worker", "grid", "outcome"]
    http_method_names = READ_AND_CREATE

    def write(self, data, instance, expected_version):
        items = [services.VisitItem(i["kind"], i.get("person"), i.get("payload") or {}) for i in data["items"]]
        try:
            return services.submit_visit(self.request.user, data["house"], client_id=data["client_id"], items=items,
                                         note=data.get("note", ""), house_version=data.get("house_version"),
                                         not_home=data.get("not_home", False))
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc


class ChangeRequestViewSet(RegistryViewSet):
    queryset = ChangeRequest.objects.select_related("house", "person")
    serializer_class = s.ChangeRequestSerializer
    filterset_fields = ["house", "person", "kind", "status", "source", "grid"]
    http_method_names = READ_AND_CREATE
    action_perms = {"approve": "review", "reject": "review"}
    if_match_actions = ("approve", "reject")  # a review needs the version reviewed (If-Match or ``version``)

    def write(self, data, instance, expected_version):
        contact = {"name": data.get("contact_name", ""), "phone": data.get("contact_phone", "")}
        return services.create_change_request(house=data["house"], kind=data["kind"], payload=data.get("payload", {}),
                                              source=ChangeSource.API, submitted_by=self.request.user,
                                              contact=contact if contact["phone"] or contact["name"] else None,
                                              person=data.get("person"))

    @action(detail=True, methods=["post"], serializer_class=s.ReviewSerializer)
    def approve(self, request, pk=None):
        cr = self.get_object()
        cr = services.approve(request.user, cr, self.expected_version(request, cr))
        return Response(s.ChangeRequestSerializer(cr, context={"request": request}).data,
                        headers=self.etag_headers(cr))

    @action(detail=True, methods=["post"], serializer_class=s.ReviewSerializer)
    def reject(self, request, pk=None):
        cr = self.get_object()
        cr = services.reject(request.user, cr, request.data.get("reason", ""), self.expected_version(request, cr))
        return Response(s.ChangeRequestSerializer(cr, context={"request": request}).data,
                        headers=self.etag_headers(cr))
