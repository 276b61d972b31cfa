"""The API's base classes: every endpoint of every app is a ``RegistryViewSet`` configured by the app.

* Reads: ``get_queryset`` is ``Model.objects.restrict(user, action)`` with the action taken from the HTTP
  method (GET view, POST add, PUT/PATCH change, DELETE delete, or ``action_perms`` for extra actions).
  An object outside the user's view scope is a 404; one they may see but not act on is a 403.
  Viewsets of apps never check permissions themselves.
* Writes: the viewset hands the validated data to the app's service function (``write``/``remove``),
  which validates again, checks scope, writes history and audit in one transaction.
* Optimistic locking: responses carry ``ETag: "<version>"`` and a ``version`` field; PUT/PATCH (and the actions
  in ``if_match_actions``) need ``If-Match`` or ``version`` (428 without), a stale one is a 412 and the first
  writer's change survives; an ``If-Match`` and a ``version`` that disagree are a 412 too.
* ``Idempotency-Key`` on POST: a retried request with the same key returns the first response and
  creates nothing new (``core.models.IdempotencyKey``).
* Errors: ``{field: [message in Chinese]}``; 400 invalid, 403 not permitted, 404 not in scope,
  409 still referenced, 412 stale version, 422 Idempotency-Key reused, 428 version missing; every one of them is
  in the schema (``RegistrySchema``).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator
from rest_framework.views import exception_handler as drf_exception_handler

from core.models import IdempotencyKey
from core.pagination import Pagination
from core.scope import scope_for
from core.services import ConflictError

__all__ = ["ACTIONS", "BlankAsNullChoiceField", "Pagination", "PreconditionFailed", "PreconditionRequired",
           "RegistrySchema", "RegistrySerializer", "RegistryViewSet", "ScopedPrimaryKeyRelatedField",
           "api_exception_handler", "api_filterset", "parse_if_match"]

ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change", "PATCH": "change",
           "DELETE": "delete"}


class PreconditionFailed(exceptions.APIException):
    """The version the client edited is not the current one; the response names the current version."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__({"version": [message]})
        self.current_version = current_version


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition_required"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]] | list[str]:
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if k == NON_FIELD_ERRORS else k): [str(m) for m in v]
                for k, v in exc.message_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus the exceptions the service functions raise, as ``{field: [message]}``."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_errors(exc))
    elif isinstance(exc, ConflictError):
        exc = PreconditionFailed(str(exc), exc.current)
    elif isinstance(exc, ProtectedError):
        exc = Conflict({"non_field_errors": [str(exc.args[0]) if exc.args else _("记录仍被引用，不能删除")]})
    elif isinstance(exc, IntegrityError):
        exc = Conflict({"non_field_errors": [_("与已有记录冲突，请刷新后重试")]})
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or _("您没有执行该操作的权限"))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("记录不存在或不在您的管辖范围内"))
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, PreconditionFailed):
        response.data["current_version"] = exc.current_version
        response["ETag"] = f'"{exc.current_version}"'
    return response


def parse_if_match(value: str | None) -> int | None:
    """``"3"``, ``W/"3"`` or ``3`` → 3; ``*``, empty or malformed → None."""
    text = (value or "").strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    return int(text) if text.isdigit() else None


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key whose choices are the objects the requesting user may view (dropdowns are scoped too)."""

    def get_queryset(self):
        qs = super().get_queryset()
        request = self.context.get("request")
        if request is not None and hasattr(qs, "restrict"):
            return qs.restrict(request.user, "view")
        return qs


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's SlugRelatedField, refusing what no slug can be before the lookup (a NUL character, which PostgreSQL
    cannot compare with text, or a value longer than the column) as "no such object": a 400, never a 500."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            column = self.get_queryset().model._meta.get_field(self.slug_field)
            if "\x00" in data or (column.max_length and len(data) > column.max_length):
                self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\0")[:40])
        return super().to_internal_value(data)


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A read-only choice a model stores as "" while unset (``blank=True`` without ``null``): answered as null, so
    the value is always one of the enum's or null, as the schema says."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)
        self.allow_null = True  # read-only fields drop allow_null from kwargs; the schema reads the attribute

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class RegistrySerializer(serializers.ModelSerializer):
    """Foreign keys scoped to the user; uniqueness left to the service (one validation path, Chinese messages)."""

    serializer_related_field = ScopedPrimaryKeyRelatedField

    def get_validators(self) -> list:
        return [v for v in super().get_validators() if not isinstance(v, UniqueTogetherValidator)]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.validators = [v for v in field.validators if not isinstance(v, UniqueValidator)]
        return fields


IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True,
                            description='ETag of the version being edited (`"3"`); without it the answer is 428, '
                                        "stale 412. A `version` field in the body is accepted instead (forms that "
                                        "cannot set a header); both present must agree")
IDEMPOTENCY_KEY = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                                   description="Client-generated key: a retry with the same key creates nothing new")


class RegistrySchema(AutoSchema):
    """Documents the headers and error responses every registry endpoint shares."""

    def get_override_parameters(self) -> list:
        params = list(super().get_override_parameters())
        if self.needs_version():
            params.append(IF_MATCH)
        if self.idempotent():
            params.append(IDEMPOTENCY_KEY)
        return params

    def needs_version(self) -> bool:
        """PUT/PATCH and the view's ``if_match_actions`` of a versioned record need the version edited."""
        view = self.view
        versioned = getattr(view, "versioned", None)
        actions = getattr(view, "if_match_actions", ())
        return bool(versioned and versioned() and getattr(view, "action", None) in actions)

    def takes_query(self) -> bool:
        """A list (filters, page, page_size) or a view declaring query parameters: any of them may be refused."""
        return self._is_list_view() or any(
            isinstance(p, OpenApiParameter) and p.location == OpenApiParameter.QUERY
            for p in self.get_override_parameters())

    def idempotent(self) -> bool:
        return self.method.upper() == "POST" and getattr(self.view, "action", None) in \
            getattr(self.view, "idempotent_actions", ())

    def _get_response_bodies(self, direction: str = "response") -> dict:
        bodies = super()._get_response_bodies(direction)
        method = self.method.upper()
        errors = {"403": _("没有权限"), "404": _("不存在或不在管辖范围内")}
        if method in ("POST", "PUT", "PATCH") or (method == "GET" and self.takes_query()):
            errors["400"] = _("输入有误：{字段: [原因]}")  # a filter, page or page_size out of its range, a NUL
        if self.needs_version():
            errors.update({"412": _("版本已过期，或 If-Match 与 version 不一致"), "428": _("缺少 If-Match 或 version")})
        if self.idempotent():
            errors.update({"409": _("相同幂等键的请求正在处理"), "422": _("该幂等键已用于另一个请求")})
        if method == "DELETE":
            errors["409"] = _("仍被引用，不能删除")
        for code, text in errors.items():
            if code not in bodies:
                bodies[code] = self._get_response_for_code(
                    OpenApiResponse(response=ErrorSerializer, description=text), code)
        return bodies


class ErrorSerializer(serializers.Serializer):
    """``{"detail": "..."}`` or ``{field: [message, ...]}``."""

    detail = serializers.CharField(required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


def api_filterset(filterset_class: type) -> type:
    """The app's FilterSet (the one the UI list uses) with the parameter types the schema cannot guess.

    Filters choosing among scoped places take a callable queryset, so the schema generator cannot read
    their type: by primary key they are integers, by ``to_field_name`` (names, codes) strings.
    """
    import copy

    from django_filters import filters as df_filters
    from drf_spectacular.types import OpenApiTypes

    annotated, id_filters = {}, []
    for name, flt in filterset_class.base_filters.items():
        if isinstance(flt, (df_filters.ModelChoiceFilter, df_filters.ModelMultipleChoiceFilter)):
            method = flt.method
            flt = copy.copy(flt)
            if method is not None:
                flt.method = method  # rebinds the method proxy to the copy
            by_id = not flt.extra.get("to_field_name")
            if not hasattr(flt, "_spectacular_annotation"):  # core.filters puts the id's bounds there
                flt._spectacular_annotation = {"field": OpenApiTypes.INT if by_id else OpenApiTypes.STR}
            if by_id:
                id_filters.append(name)
        annotated[name] = flt

    def is_valid(self) -> bool:
        # An id beyond 64 bits would overflow the database driver (a 500): refuse it as bad input.
        getlist = getattr(self.data, "getlist", lambda k: [self.data.get(k)])
        bad = {name: [_("请填写有效的编号")] for name in id_filters
               if any(v not in (None, "") and not _ID_RE.fullmatch(str(v)) for v in getlist(name))}
        if bad:
            raise exceptions.ValidationError(bad)
        return filterset_class.is_valid(self)

    sub = type(f"Api{filterset_class.__name__}", (filterset_class,),
               {"__module__": filterset_class.__module__, "is_valid": is_valid})
    sub.base_filters = annotated
    return sub


_ID_RE = re.compile(r"-?\d{1,18}")


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str, ensure_ascii=False)
    except TypeError:
        body = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


class RegistryViewSet(viewsets.ModelViewSet):
    """Configured by an app with ``queryset`` (with its select_related/prefetch), ``serializer_class``,
    ``filterset_class`` and the two hooks ``write(data, instance, expected_version)`` and ``remove(instance)``
    that call the app's service functions."""

    schema = RegistrySchema()
    # Extra actions → the permission action their object lookup needs (e.g. {"move_in": "change"}).
    action_perms: dict[str, str] = {}
    # POST actions that honour the Idempotency-Key header.
    idempotent_actions: tuple[str, ...] = ("create",)
    # Actions that need the version being edited (If-Match or ``version``; 428 without, 412 stale).
    if_match_actions: tuple[str, ...] = ("update", "partial_update")
    # Reads of one object are audited (persons and houses: issue 3 point 5).
    audit_reads = False
    # Models without places only: other permissions that also open reading (e.g. tags for "people.view_person").
    reference_view_perms: tuple[str, ...] = ()

    # --- scoping -----------------------------------------------------------------------------
    @property
    def perm_action(self) -> str:
        return self.action_perms.get(self.action or "", ACTIONS.get(self.request.method, "view"))

    @property
    def model(self) -> type[models.Model]:
        return self.queryset.model

    def restricted(self, action: str):
        qs = self.queryset.all()
        user = self.request.user
        if hasattr(qs, "restrict"):
            return qs.restrict(user, action)
        # Reference data without places (tags): the permission held anywhere is enough; reading it may also
        # come with another permission (``reference_view_perms``: whoever views persons reads their tags).
        scope = scope_for(user)
        perm = f"{self.model._meta.app_label}.{action}_{self.model._meta.model_name}"
        perms = [perm, *self.reference_view_perms] if action == "view" else [perm]
        return qs if any(scope.has(p) for p in perms) else qs.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.restricted("view" if self.action == "list" else self.perm_action)

    def get_object(self) -> models.Model:
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        lookup = {self.lookup_field: self.kwargs[lookup_url_kwarg]}
        try:
            obj = self.get_queryset().filter(**lookup).first()
        except (ValueError, TypeError, DjangoValidationError):
            raise Http404 from None  # not an id at all
        if obj is None:
            if self.perm_action != "view" and self.restricted("view").filter(**lookup).exists():
                raise exceptions.PermissionDenied(_("您可以查看此记录，但没有执行该操作的权限"))
            raise Http404
        self.check_object_permissions(self.request, obj)
        return obj

    def check_model_permission(self, action: str) -> None:
        """Create: the user must hold the permission somewhere; the service checks the exact place."""
        perm = f"{self.model._meta.app_label}.{action}_{self.model._meta.model_name}"
        if not scope_for(self.request.user).has(perm):
            raise exceptions.PermissionDenied(_("您没有新增%(m)s的权限") % {"m": self.model._meta.verbose_name})

    def get_exception_handler(self):
        return api_exception_handler

    # --- hooks the apps fill in ----------------------------------------------------------------
    def write(self, data: dict[str, Any], instance: models.Model | None, expected_version: int | None):
        raise exceptions.MethodNotAllowed(self.request.method)

    def remove(self, instance: models.Model) -> None:
        raise exceptions.MethodNotAllowed(self.request.method)

    # --- versions ------------------------------------------------------------------------------
    def versioned(self) -> bool:
        return any(f.name == "version" for f in self.model._meta.concrete_fields)

    def etag_headers(self, obj: models.Model) -> dict[str, str]:
        return {"ETag": f'"{obj.version}"'} if self.versioned() and obj is not None else {}

    def expected_version(self, request, instance: models.Model | None = None) -> int | None:
        """The version the client edited, from ``If-Match`` or the body's ``version``; both given must agree (412
        naming ``instance``'s current version otherwise)."""
        if not self.versioned():
            return None
        from_header = parse_if_match(request.headers.get("If-Match"))
        body_version = request.data.get("version") if hasattr(request.data, "get") else None
        from_body = None
        if body_version not in (None, ""):
            try:
                from_body = int(body_version)
            except (TypeError, ValueError):
                if from_header is None:
                    raise exceptions.ValidationError({"version": [_("版本号必须是整数")]}) from None
        if from_header is not None and from_body is not None and from_header != from_body:
            message = _("If-Match 头（第 %(h)d 版）与 version 字段（第 %(b)d 版）不一致，请刷新后再保存") % {
                "h": from_header, "b": from_body}
            if instance is None:
                raise Conflict({"version": [message]})
            raise PreconditionFailed(message, instance.version)
        expected = from_header if from_header is not None else from_body
        if expected is None:
            raise PreconditionRequired({"version": [_("请在 If-Match 头或 version 字段中给出您编辑的版本号")]})
        return expected

    # --- idempotency ---------------------------------------------------------------------------
    def idempotent(self, request, handler) -> Response:
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            return handler()
        if len(key) > 128:
            raise exceptions.ValidationError({"Idempotency-Key": [_("幂等键最长128个字符")]})
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(user_id=request.user.pk, key=key, method=request.method,
                                                           path=request.path[:300], fingerprint=fingerprint)
            except IntegrityError:
                record = None
            if record is None:
                return self.replay(request, key, fingerprint)
            response = handler()
            record.status_code = response.status_code
            record.body = response.data
            record.save(update_fields=["status_code", "body"])
            return response

    def replay(self, request, key: str, fingerprint: str) -> Response:
        prior = IdempotencyKey.objects.filter(user_id=request.user.pk, key=key).first()
        if prior is None or prior.status_code is None:
            raise Conflict({"Idempotency-Key": [_("相同幂等键的请求正在处理，请稍后重试")]})
        if prior.fingerprint != fingerprint:
            return Response({"Idempotency-Key": [_("该幂等键已用于另一个请求")]},
                            status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        response = Response(prior.body, status=prior.status_code)
        response["Idempotent-Replayed"] = "true"
        return response

    # --- the CRUD actions ----------------------------------------------------------------------
    def retrieve(self, request, *args, **kwargs) -> Response:
        instance = self.get_object()
        if self.audit_reads:
            from core import audit

            # An aggregate-only role (command centre) states a reason first: header X-Access-Reason (issue 3).
            purpose = audit.api_reason(request._request, instance)
            audit.record("view", instance, request=request._request, user=request.user, purpose=purpose)
        return Response(self.get_serializer(instance).data, headers=self.etag_headers(instance))

    def create(self, request, *args, **kwargs) -> Response:
        self.check_model_permission("add")

        def handler() -> Response:
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            obj = self.write(dict(serializer.validated_data), None, None)
            data = self.get_serializer(obj).data
            return Response(data, status=status.HTTP_201_CREATED, headers=self.etag_headers(obj))

        return self.idempotent(request, handler)

    def update(self, request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        expected = self.expected_version(request, instance)
        if expected is not None and expected != instance.version:
            raise PreconditionFailed(_("该记录已被他人修改（您编辑的是第 %(e)d 版，现在是第 %(c)d 版），请刷新后再保存")
                                     % {"e": expected, "c": instance.version}, instance.version)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "version"}
        obj = self.write(data, instance, expected)
        return Response(self.get_serializer(obj).data, headers=self.etag_headers(obj))

    def destroy(self, request, *args, **kwargs) -> Response:
        instance = self.get_object()
        self.remove(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)
