from rest_framework import serializers

from circle.models import Access, Category, Facility
from core.api import RegistrySerializer, SlugRelatedField


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "name_en", "parent", "tier", "radius_m", "kind", "group", "confirmed",
                  "source", "order", "is_active"]


class FacilitySerializer(RegistrySerializer):
    category = SlugRelatedField(
        slug_field="code", queryset=Category.objects.filter(is_active=True, parent__isnull=False))

    class Meta:
        model = Facility
        fields = ["id", "name", "category", "grid", "community", "street", "address", "lat", "lng", "opening_hours",
                  "capacity", "operator", "phone", "status", "note", "version", "created_at", "updated_at"]
        read_only_fields = ["community", "street", "version", "created_at", "updated_at"]


class AccessSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    compound_name = serializers.CharField(source="compound.name", read_only=True)

    class Meta:
        model = Access
        fields = ["compound", "compound_name", "category", "facility", "distance_m", "method", "population",
                  "group_population", "computed_at"]


class CoverageRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    population = serializers.IntegerField()
    covered = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    group = serializers.CharField()
    group_population = serializers.IntegerField()
    group_covered = serializers.IntegerField()
    group_share = serializers.FloatField(allow_null=True)


class CoverageSerializer(serializers.Serializer):
    category = serializers.CharField()
    level = serializers.ChoiceField(choices=["grid", "community", "street"])
    speed = serializers.FloatField()
    threshold_m = serializers.FloatField()
    method = serializers.ChoiceField(choices=["network", "straight"], allow_null=True)
    rows = CoverageRowSerializer(many=True)
