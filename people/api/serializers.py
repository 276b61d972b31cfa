"""Serializers of people, residences, enterprises and tags.

Personal numbers are masked in every response (``id_number_masked``, ``phone_masked``); the clear values
are write-only on create/update and only ever readable through the audited reveal endpoint.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.api import RegistrySerializer, ScopedPrimaryKeyRelatedField, SlugRelatedField
from people.choices import Relation, ResidenceRole
from people.models import Enterprise, Person, Residence, Tag
from places.models import House

__all__ = ["EnterpriseSerializer", "MoveInSerializer", "MoveOutSerializer", "PersonSerializer",
           "ResidenceSerializer", "RevealResultSerializer", "RevealSerializer", "SearchSerializer", "TagSerializer"]

VERSION_HELP = "当前版本号；修改时回传（或用 If-Match 头）"


class TagSerializer(RegistrySerializer):
    class Meta:
        model = Tag
        fields = ["id", "code", "name", "name_en", "sensitive", "color"]


class PersonSerializer(RegistrySerializer):
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)
    id_number = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=40,
                                      help_text="证件号码（只写；响应中只有脱敏的 id_number_masked）")
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20,
                                  help_text="手机号码（只写；响应中只有脱敏的 phone_masked）")
    accept_warnings = serializers.BooleanField(write_only=True, required=False, default=False,
                                               help_text="确认证件号码的提示（如地区码未知）后仍保存")
    tags = SlugRelatedField(slug_field="code", many=True, required=False, queryset=Tag.objects.all())
    # The first residence of a new person (create only).
    house = ScopedPrimaryKeyRelatedField(queryset=House.objects.all(), write_only=True, required=False,
                                         help_text="新增人员时：入住的房屋")
    relation = serializers.ChoiceField(choices=Relation.choices, write_only=True, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=ResidenceRole.choices, write_only=True, required=False)
    moved_in = serializers.DateField(write_only=True, required=False, allow_null=True)

    class Meta:
        model = Person
        fields = ["id", "version", "name", "name_pinyin", "name_initials", "id_type", "id_number", "id_number_masked",
                  "phone", "phone_masked", "sex", "birth_date", "residency_type", "nationality", "ethnicity",
                  "hukou_address", "work_unit", "note", "tags", "street", "community", "grid", "is_current",
                  "accept_warnings", "house", "relation", "role", "moved_in", "created_at", "updated_at"]
        read_only_fields = ["name_pinyin", "name_initials", "id_number_masked", "phone_masked", "street", "community",
                            "grid", "is_current", "created_at", "updated_at"]

    def validate(self, attrs: dict) -> dict:
        creating = self.instance is None
        if creating and not attrs.get("house"):
            raise serializers.ValidationError({"house": [_("新增人员需要选择居住的房屋")]})
        if not creating and {"house", "relation", "role", "moved_in"} & set(attrs):
            raise serializers.ValidationError(
                {"house": [_("修改人员时不能改居住信息，请用入住（move-in）和迁出（move-out）")]})
        if (not creating and "id_type" in attrs and attrs["id_type"] != self.instance.id_type
                and not attrs.get("id_number")):
            raise serializers.ValidationError({"id_number": [_("更换证件类型时请同时填写新的证件号码")]})
        return attrs


class ResidenceSerializer(RegistrySerializer):
    version = serializers.IntegerField(read_only=True)
    person_name = serializers.CharField(source="person.name", read_only=True)
    house_address = serializers.CharField(source="house.address", read_only=True)
    is_current = serializers.BooleanField(read_only=True)

    class Meta:
        model = Residence
        fields = ["id", "version", "person", "person_name", "house", "house_address", "role", "relation", "moved_in",
                  "moved_out", "move_out_reason", "is_current", "source", "created_at", "updated_at"]
        read_only_fields = ["moved_out", "move_out_reason", "source", "created_at", "updated_at"]


class MoveInSerializer(serializers.Serializer):
    house = ScopedPrimaryKeyRelatedField(queryset=House.objects.all(), help_text="入住的房屋")
    relation = serializers.ChoiceField(choices=Relation.choices, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=ResidenceRole.choices, required=False, default=ResidenceRole.FAMILY)
    moved_in = serializers.DateField(required=False, allow_null=True, default=None)


class MoveOutSerializer(serializers.Serializer):
    moved_out = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class SearchSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text="姓名、拼音首字母、证件号码、电话或地址")


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=[("id_number", "证件号码"), ("phone", "联系电话")])
    purpose = serializers.CharField(max_length=300, help_text="查看事由（至少4个字，记入审计）")


class RevealResultSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


class EnterpriseSerializer(RegistrySerializer):
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)
    contact_phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20,
                                          help_text="联系电话（只写；响应中只有脱敏的 contact_phone_masked）")

    class Meta:
        model = Enterprise
        fields = ["id", "version", "name", "credit_code", "compound", "building", "grid", "community", "street",
                  "floor", "room", "industry", "contact_name", "contact_phone", "contact_phone_masked",
                  "staff_count", "created_at", "updated_at"]
        read_only_fields = ["grid", "community", "street", "contact_phone_masked", "created_at", "updated_at"]
