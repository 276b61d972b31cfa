"""Serializers of the shared-resources API. A booker appears masked (张*丰) to staff; the booker's own bookings
carry no name at all (they know it)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from resources.models import Booking, Resource

__all__ = ["AvailabilityQuerySerializer", "BookSerializer", "BookingSerializer", "MyBookingSerializer",
           "OptionSerializer", "ResourceSerializer", "StaffBookSerializer"]


class ResourceSerializer(serializers.ModelSerializer):
    compound_name = serializers.CharField(source="compound.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Resource
        fields = ["id", "parent", "kind", "kind_display", "mode", "name", "code", "owner_name", "street",
                  "community", "grid", "compound", "compound_name", "location", "lat", "lng", "capacity",
                  "opens_at", "closes_at", "weekdays", "closed_on_holidays", "workdays_only", "raster_minutes",
                  "min_minutes", "max_minutes", "horizon_days", "buffer_minutes", "needs_approval",
                  "requires_checkin", "grace_minutes", "cancel_minutes", "is_active"]
        read_only_fields = fields


class OptionSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    left = serializers.IntegerField(help_text=_("剩余名额（独占资源：1 可约，0 已约）"))
    total = serializers.IntegerField()
    label = serializers.CharField()


class AvailabilityQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text=_("哪一天（默认今天，Asia/Shanghai）"))


class _BookingBase(serializers.ModelSerializer):
    resource_name = serializers.SerializerMethodField()
    plate = serializers.CharField(source="vehicle.plate", default=None, read_only=True)

    def get_resource_name(self, obj: Booking) -> str:
        from resources.services import place_name

        return place_name(obj.resource)


class BookingSerializer(_BookingBase):
    booker = serializers.SerializerMethodField(help_text=_("预约人姓名（脱敏）"))

    class Meta:
        model = Booking
        fields = ["id", "resource", "resource_name", "booker", "house", "enterprise", "home_compound", "plate",
                  "starts_at", "ends_at", "seats", "state", "hold_until", "checked_in_at", "ended_at", "channel",
                  "street", "community", "grid", "compound", "created_at"]
        read_only_fields = fields

    def get_booker(self, obj: Booking) -> str:
        from resources.views import mask_name

        return mask_name(obj.person.name)


class MyBookingSerializer(_BookingBase):
    class Meta:
        model = Booking
        fields = ["id", "resource", "resource_name", "plate", "starts_at", "ends_at", "seats", "state",
                  "hold_until", "checked_in_at", "ended_at", "channel", "created_at"]
        read_only_fields = fields


class BookSerializer(serializers.Serializer):
    resource = serializers.IntegerField(min_value=1, max_value=2**63 - 1, label=_("资源"))
    starts_at = serializers.DateTimeField(label=_("开始"))
    ends_at = serializers.DateTimeField(required=False, allow_null=True, label=_("结束"),
                                        help_text=_("按场次或按日预约的资源可不填"))
    seats = serializers.IntegerField(min_value=1, max_value=20, default=1, label=_("人数"))
    wait = serializers.BooleanField(default=False, label=_("已满时加入候补"))


class StaffBookSerializer(BookSerializer):
    person = serializers.IntegerField(min_value=1, max_value=2**63 - 1, label=_("预约人（人员编号）"))

