"""API endpoints of people: /api/people/{persons,residences,enterprises,tags}/.

Persons and residences are never deleted (history, not overwrites): DELETE is not offered on them, and a
residence ends through the move-out action. Every write goes through people.services.
"""

from __future__ import annotations

import dataclasses
import re

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import RegistryViewSet, api_filterset
from people import filtersets, services
from people.api import serializers as s
from people.api.filters import TagFilterSet
from people.models import Enterprise, Person, Residence, Tag

__all__ = ["EnterpriseViewSet", "PersonViewSet", "ResidenceViewSet", "TagViewSet"]

NO_DELETE = ["get", "post", "put", "patch", "head", "options"]
# An identity document or mobile number: 11+ digits (an ID may end in X).
NUMBER_IN_URL = re.compile(r"\d{11,}|\d{14,}[Xx]")
PERSON_COPY = ["name", "id_type", "residency_type", "sex", "birth_date", "nationality", "ethnicity", "hukou_address",
               "work_unit", "note"]


class PersonViewSet(RegistryViewSet):
    queryset = Person.objects.prefetch_related("tags")
    serializer_class = s.PersonSerializer
    filterset_class = api_filterset(filtersets.PersonFilterSet)
    http_method_names = NO_DELETE
    action_perms = {"move_in": "change", "reveal": "view", "search": "view"}
    idempotent_actions = ("create", "move_in")
    audit_reads = True
    list_reason = True  # list and search: aggregate-only roles send X-Access-Reason (core.audit.api_list_reason)

    def person_data(self, data: dict, instance: Person | None) -> services.PersonData:
        base = {name: getattr(instance, name) for name in PERSON_COPY} if instance is not None else {}
        base.update({k: v for k, v in data.items() if k in PERSON_COPY or k in ("id_number", "phone")})
        base = {k: ("" if v is None and k not in ("birth_date",) else v) for k, v in base.items()}
        if "tags" in data:
            base["tags"] = [t.code for t in data["tags"]]
        return services.PersonData(**base)

    def write(self, data, instance, expected_version):
        accept = bool(data.pop("accept_warnings", False))
        person_data = self.person_data(data, instance)
        # One validation path: clean_person_data tells errors (raised here) from warnings the user may accept.
        probe = services.clean_person_data(dataclasses.replace(person_data, warnings=[]), accept_warnings=True)
        if probe.warnings and not accept:
            raise exceptions.ValidationError({
                "id_number": probe.warnings,
                "accept_warnings": [_("如确认号码无误，请同时提交 accept_warnings: true")],
            })
        return services.save_person(
            self.request.user, person_data, instance, house=data.get("house"), relation=data.get("relation") or "",
            role=data.get("role") or "family", moved_in=data.get("moved_in"), expected_version=expected_version,
            accept_warnings=accept, source="api")

    def list(self, request, *args, **kwargs) -> Response:
        if NUMBER_IN_URL.search(request.query_params.get("q", "")):
            raise exceptions.ValidationError(
                {"q": [_("证件号码和电话号码不能放在网址里，请用 POST /api/people/persons/search/ 查找")]})
        from core import audit

        audit.api_list_reason(request._request, Person)  # aggregate-only roles: X-Access-Reason, or 403
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.SearchSerializer, responses={200: s.PersonSerializer(many=True)},
                   summary="按证件号码或电话查找（号码放在请求体里，不进网址和日志）")
    @action(detail=False, methods=["post"])
    def search(self, request) -> Response:
        from core import audit

        audit.api_list_reason(request._request, Person)
        ser = s.SearchSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        queryset = self.restricted("view")
        filterset = self.filterset_class(data={"q": ser.validated_data["q"]}, queryset=queryset, request=request)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=s.MoveInSerializer, responses={201: s.ResidenceSerializer},
                   summary="入住：此人开始住在一处房屋（历史保留）")
    @action(detail=True, methods=["post"], url_path="move-in")
    def move_in(self, request, pk=None) -> Response:
        person = self.get_object()

        def handler() -> Response:
            ser = s.MoveInSerializer(data=request.data, context=self.get_serializer_context())
            ser.is_valid(raise_exception=True)
            res = services.move_in(request.user, person, ser.validated_data["house"],
                                   relation=ser.validated_data["relation"], role=ser.validated_data["role"],
                                   moved_in=ser.validated_data["moved_in"], source="api")
            res = Residence.objects.select_related("person", "house__building__compound").get(pk=res.pk)
            return Response(s.ResidenceSerializer(res, context=self.get_serializer_context()).data,
                            status=status.HTTP_201_CREATED, headers={"ETag": f'"{res.version}"'})

        return self.idempotent(request, handler)

    @extend_schema(request=s.RevealSerializer, responses={200: s.RevealResultSerializer},
                   summary="查看完整号码（需权限和事由，记入审计）")
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None) -> Response:
        person = self.get_object()
        ser = s.RevealSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        value = services.reveal(request.user, person, ser.validated_data["field"], ser.validated_data["purpose"])
        return Response({"field": ser.validated_data["field"], "value": value})


class ResidenceViewSet(RegistryViewSet):
    queryset = Residence.objects.select_related("person", "house__building__compound")
    serializer_class = s.ResidenceSerializer
    filterset_class = api_filterset(filtersets.ResidenceFilterSet)
    http_method_names = ["get", "post", "head", "options"]
    action_perms = {"move_out": "change"}
    idempotent_actions = ("create", "move_out")

    def write(self, data, instance, expected_version):
        res = services.move_in(self.request.user, data["person"], data["house"], relation=data.get("relation", ""),
                               role=data.get("role", "family"), moved_in=data.get("moved_in"), source="api")
        return self.queryset.get(pk=res.pk)

    @extend_schema(request=s.MoveOutSerializer, responses={200: s.ResidenceSerializer},
                   summary="迁出：结束这条居住记录（记录保留，不删除）")
    @action(detail=True, methods=["post"], url_path="move-out")
    def move_out(self, request, pk=None) -> Response:
        residence = self.get_object()

        def handler() -> Response:
            ser = s.MoveOutSerializer(data=request.data)
            ser.is_valid(raise_exception=True)
            res = services.move_out(request.user, residence, moved_out=ser.validated_data["moved_out"],
                                    reason=ser.validated_data["reason"], source="api")
            res = self.queryset.get(pk=res.pk)
            return Response(s.ResidenceSerializer(res, context=self.get_serializer_context()).data,
                            headers={"ETag": f'"{res.version}"'})

        return self.idempotent(request, handler)


class EnterpriseViewSet(RegistryViewSet):
    queryset = Enterprise.objects.all()
    serializer_class = s.EnterpriseSerializer
    filterset_class = api_filterset(filtersets.EnterpriseFilterSet)

    def write(self, data, instance, expected_version):
        phone = data.pop("contact_phone", None)
        return services.save_enterprise(self.request.user, data, instance, contact_phone=phone,
                                        expected_version=expected_version, source="api")

    def remove(self, instance) -> None:
        services.delete_enterprise(self.request.user, instance, source="api")


class TagViewSet(RegistryViewSet):
    """Special-group tags: street-wide reference data (readable by anyone who may view persons)."""

    queryset = Tag.objects.all()
    serializer_class = s.TagSerializer
    filterset_class = TagFilterSet

    reference_view_perms = ("people.view_person",)

    def write(self, data, instance, expected_version):
        return services.save_tag(self.request.user, data, instance, source="api")

    def remove(self, instance) -> None:
        services.delete_tag(self.request.user, instance, source="api")
