"""Serializers of the place hierarchy. Ancestor keys are read-only: they follow the parent."""

from __future__ import annotations

from rest_framework import serializers

from core.api import RegistrySerializer
from places.models import Building, Community, Compound, Grid, House, Street

__all__ = ["BuildingSerializer", "CommunitySerializer", "CompoundSerializer", "GridSerializer", "HouseSerializer",
           "StreetSerializer"]

VERSION_HELP = "当前版本号；修改时回传（或用 If-Match 头）"
COMMON_READ_ONLY = ["created_at", "updated_at"]


class PlaceSerializer(RegistrySerializer):
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


class StreetSerializer(PlaceSerializer):
    class Meta:
        model = Street
        fields = ["id", "version", "name", "code", "lat", "lng", "boundary", "created_at", "updated_at"]
        read_only_fields = COMMON_READ_ONLY


class CommunitySerializer(PlaceSerializer):
    class Meta:
        model = Community
        fields = ["id", "version", "street", "name", "code", "lat", "lng", "boundary", "created_at", "updated_at"]
        read_only_fields = COMMON_READ_ONLY


class GridSerializer(PlaceSerializer):
    class Meta:
        model = Grid
        fields = ["id", "version", "community", "street", "name", "code", "boundary", "created_at", "updated_at"]
        read_only_fields = ["street", *COMMON_READ_ONLY]


class CompoundSerializer(PlaceSerializer):
    class Meta:
        model = Compound
        fields = ["id", "version", "grid", "community", "street", "name", "name_pinyin", "kind", "address", "lat",
                  "lng", "boundary", "built_year", "property_company", "created_at", "updated_at"]
        read_only_fields = ["community", "street", "name_pinyin", *COMMON_READ_ONLY]


class BuildingSerializer(PlaceSerializer):
    name = serializers.CharField(source="__str__", read_only=True, help_text="小区名+楼栋号")

    class Meta:
        model = Building
        fields = ["id", "version", "compound", "grid", "community", "street", "number", "name", "floors", "units",
                  "lat", "lng", "created_at", "updated_at"]
        read_only_fields = ["grid", "community", "street", *COMMON_READ_ONLY]


class HouseSerializer(PlaceSerializer):
    address = serializers.CharField(read_only=True, help_text="小区 楼栋 单元 房号")

    class Meta:
        model = House
        fields = ["id", "version", "building", "compound", "grid", "community", "street", "unit", "floor", "room",
                  "address", "area", "use", "resident_count", "note", "created_at", "updated_at"]
        read_only_fields = ["compound", "grid", "community", "street", "resident_count", *COMMON_READ_ONLY]
