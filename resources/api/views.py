"""API of the shared resources.

* ``/api/resources/resources/``: the resources of the user's places (``resources.view_resource``), and
  ``{id}/availability/?date=`` the choices of one day (free spaces of a pool, seats left of a sitting).
* ``/api/resources/bookings/``: the bookings of the user's places, booker masked; POST books for a registry
  person of the user's places (``resources.add_booking``); ``{id}/cancel/`` (``change``) and ``{id}/check_in/``
  (``checkin_resource``, at the gate).
* ``/api/resources/my-bookings/``: an account linked to a registry person (``BookerLink``) books as that person,
  with the same rules as the phone pages: eligibility, quotas, strikes, the waiting list.

Every write goes through ``resources.services``; its refusals in Chinese come back as 400 ``{field: [reason]}``.
"""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api import ErrorSerializer, RegistrySchema, RegistryViewSet, api_exception_handler, api_filterset
from core.filters import FilterSet
from core.pagination import Pagination
from resources import services
from resources.api import serializers as s
from resources.choices import BookingState, Kind, Mode
from resources.models import BookerLink, Booking, Resource

__all__ = ["BookingViewSet", "MyBookingViewSet", "ResourceViewSet"]


class ResourceApiFilterSet(FilterSet):
    kind = df.ChoiceFilter(choices=Kind.choices, label=gettext_lazy("类型"))
    mode = df.ChoiceFilter(choices=Mode.choices, label=gettext_lazy("预约方式"))
    compound = df.NumberFilter(field_name="compound_id", label=gettext_lazy("小区/楼宇"))
    parent = df.NumberFilter(field_name="parent_id", label=gettext_lazy("上级"))

    class Meta:
        model = Resource
        fields = ["kind", "mode"]


class BookingApiFilterSet(FilterSet):
    resource = df.NumberFilter(field_name="resource_id", label=gettext_lazy("资源"))
    state = df.MultipleChoiceFilter(choices=BookingState.choices, label=gettext_lazy("状态"))
    starts_after = df.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte", label=gettext_lazy("开始不早于"))
    starts_before = df.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt", label=gettext_lazy("开始早于"))
    community = df.NumberFilter(field_name="community_id", label=gettext_lazy("社区"))
    compound = df.NumberFilter(field_name="compound_id", label=gettext_lazy("小区/楼宇"))

    class Meta:
        model = Booking
        fields = ["state"]


def _refusal(exc: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError({"non_field_errors": [str(m) for m in exc.messages]})


class _Booking:
    """Shared by the staff and the booker's endpoints: book and its refusals, the day's choices."""

    def place(self, data: dict, resources) -> Resource:
        resource = resources.filter(pk=data["resource"]).first()
        if resource is None:
            raise exceptions.ValidationError({"resource": [_("资源不存在或不在您可预约的范围内")]})
        return resource

    def booked(self, person, resource: Resource, data: dict, **kw) -> Booking:
        start, end = data["starts_at"], data.get("ends_at")
        try:
            if data.get("wait"):
                services.join_waitlist(person, resource, start, end or start, user=kw.get("user"))
                raise exceptions.ValidationError({"wait": [_("已加入候补：有人取消时会为您保留名额并通知您")]})
            return services.book(person, resource, start, end, seats=data.get("seats", 1), channel="api", **kw)
        except DjangoValidationError as exc:
            raise _refusal(exc) from None


class ResourceViewSet(RegistryViewSet):
    queryset = Resource.objects.select_related("compound").order_by("compound__name", "parent_id", "code", "id")
    serializer_class = s.ResourceSerializer
    filterset_class = api_filterset(ResourceApiFilterSet)
    http_method_names = ["get", "head", "options"]

    @extend_schema(parameters=[s.AvailabilityQuerySerializer], responses=s.OptionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def availability(self, request, pk=None) -> Response:
        resource = self.get_object()
        query = s.AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("date") or timezone.localdate()
        return Response(s.OptionSerializer(services.availability(resource, day), many=True).data)


class BookingViewSet(_Booking, RegistryViewSet):
    queryset = Booking.objects.select_related("resource", "resource__parent", "person", "vehicle").order_by(
        "-starts_at", "-id")
    serializer_class = s.BookingSerializer
    filterset_class = api_filterset(BookingApiFilterSet)
    http_method_names = ["get", "post", "head", "options"]
    action_perms = {"cancel": "change", "check_in": "checkin"}
    idempotent_actions = ("create",)

    def restricted(self, action: str):
        if action == "checkin":  # the gate's permission is on the resource
            places = Resource.objects.restrict(self.request.user, "checkin")
            return self.queryset.filter(resource__in=places.values("pk"))
        return super().restricted(action)

    def get_serializer_class(self):
        return s.StaffBookSerializer if self.action == "create" else s.BookingSerializer

    @extend_schema(request=s.StaffBookSerializer, responses={201: s.BookingSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        self.check_model_permission("add")

        def handler() -> Response:
            from people.models import Person

            ser = s.StaffBookSerializer(data=request.data)
            ser.is_valid(raise_exception=True)
            d = ser.validated_data
            resource = self.place(d, Resource.objects.restrict(request.user, "view"))
            person = Person.objects.restrict(request.user, "view").filter(pk=d["person"]).first()
            if person is None:
                raise exceptions.ValidationError({"person": [_("人员不存在或不在您的管辖范围内")]})
            try:
                booking = self.booked(person, resource, d, actor=request.user)
            except DjangoPermissionDenied as exc:
                raise exceptions.PermissionDenied(str(exc)) from None
            return Response(s.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, handler)

    @extend_schema(request=None, responses=s.BookingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None) -> Response:
        booking = self.get_object()
        try:
            services.cancel(booking, actor=request.user)
        except DjangoValidationError as exc:
            raise _refusal(exc) from None
        booking.refresh_from_db()
        return Response(s.BookingSerializer(booking).data)

    @extend_schema(request=None, responses=s.BookingSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None) -> Response:
        booking = self.get_object()
        try:
            services.check_in(booking, method="staff")
        except DjangoValidationError as exc:
            raise _refusal(exc) from None
        booking.refresh_from_db()
        return Response(s.BookingSerializer(booking).data)


class MyBookingViewSet(_Booking, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The bookings of the registry person this account is linked to; POST books as that person."""

    schema = RegistrySchema()
    serializer_class = s.MyBookingSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    queryset = Booking.objects.none()
    filterset_class = None

    def get_exception_handler(self):
        return api_exception_handler

    @property
    def person(self):
        link = BookerLink.objects.filter(user=self.request.user).select_related("person").first()
        if link is None:
            raise exceptions.PermissionDenied(_("您的账号尚未关联到实有人口登记，请到社区核对身份后再预约"))
        return link.person

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        since = timezone.now() - dt.timedelta(days=180)
        return (Booking.objects.filter(person=self.person, starts_at__gte=since)
                .select_related("resource", "resource__parent", "vehicle").order_by("-starts_at", "-id"))

    def get_object(self) -> Booking:
        text = str(self.kwargs.get("pk", ""))
        booking = self.get_queryset().filter(pk=int(text)).first() if text.isdigit() and len(text) < 19 else None
        if booking is None:
            raise exceptions.NotFound(_("记录不存在或不在您的管辖范围内"))
        return booking

    def get_serializer_class(self):
        return s.BookSerializer if self.action == "create" else s.MyBookingSerializer

    @extend_schema(request=s.BookSerializer, responses={201: s.MyBookingSerializer,
                                                         403: OpenApiResponse(ErrorSerializer)})
    def create(self, request, *args, **kwargs) -> Response:
        person = self.person
        ser = s.BookSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        from resources.views import _bookable

        resource = self.place(ser.validated_data, _bookable(Resource.objects.all()))
        booking = self.booked(person, resource, ser.validated_data, user=request.user)
        return Response(s.MyBookingSerializer(booking).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.MyBookingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None) -> Response:
        booking = self.get_object()
        try:
            services.cancel(booking, person=self.person)
        except DjangoValidationError as exc:
            raise _refusal(exc) from None
        booking.refresh_from_db()
        return Response(s.MyBookingSerializer(booking).data)
