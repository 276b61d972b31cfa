"""People and their residence in houses over time; enterprises; special-group tags.

Personal numbers (ID, phone) are never stored in clear: ``*_enc`` holds the AES-GCM ciphertext,
``*_bidx`` an HMAC blind index for exact lookup and uniqueness, ``*_masked`` the masked form shown by
default. Set them only through ``Person.set_id_number`` / ``set_phone`` (used by people.services).

A person's grid, community and street are denormalised from their current residence (or their last one
after moving out) so that scoping is one filter; ``people.services`` keeps them current.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.models import ScopedModel
from core.sealed import SealedRow
from core.validators import mask_id, mask_phone
from people.choices import IdType, Relation, ResidenceRole, ResidencyType, Sex

__all__ = ["Enterprise", "Person", "PersonTag", "Residence", "Tag"]

PERSON_SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}


class Tag(models.Model):
    """A special group (elderly living alone, disabled, low-income, veteran, left-behind child, ...)."""

    code = models.SlugField(_("代码"), unique=True)
    name = models.CharField(_("名称"), max_length=32)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    sensitive = models.BooleanField(_("敏感"), default=True, help_text=_("汇总时小于5人显示为“<5”"))
    color = models.CharField(_("颜色"), max_length=16, default="#d9822b")

    class Meta:
        verbose_name = _("人群标签")
        verbose_name_plural = _("人群标签")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Person(SealedRow, ScopedModel):
    scope_fields = PERSON_SCOPE

    name = models.CharField(_("姓名"), max_length=64)
    name_pinyin = models.CharField(_("姓名全拼"), max_length=128, blank=True, db_index=True)
    name_initials = models.CharField(_("拼音首字母"), max_length=32, blank=True, db_index=True)
    id_type = models.CharField(_("证件类型"), max_length=16, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number_enc = models.TextField(_("证件号码(密文)"), blank=True)
    id_number_bidx = models.CharField(_("证件号码索引"), max_length=32, blank=True, db_index=True)
    id_number_masked = models.CharField(_("证件号码"), max_length=32, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone_enc = models.TextField(_("联系电话(密文)"), blank=True)
    phone_bidx = models.CharField(_("联系电话索引"), max_length=32, blank=True, db_index=True)
    phone_masked = models.CharField(_("联系电话"), max_length=16, blank=True)
    residency_type = models.CharField(_("人口类型"), max_length=16, choices=ResidencyType.choices,
                                      default=ResidencyType.REGISTERED)
    nationality = models.CharField(_("国籍"), max_length=32, blank=True, default="中国")
    ethnicity = models.CharField(_("民族"), max_length=16, blank=True)
    hukou_address = models.CharField(_("户籍地址"), max_length=200, blank=True)
    work_unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    note = models.TextField(_("备注"), blank=True)
    tags = models.ManyToManyField(Tag, through="PersonTag", blank=True, related_name="people",
                                  verbose_name=_("人群标签"))
    # Denormalised from the current (or last) residence.
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("网格"))
    is_current = models.BooleanField(_("现居住"), default=False, help_text=_("有一处未迁出的居住记录"))

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["name_pinyin", "id"]
        # A scoped list reads its first page straight from the index instead of sorting the whole grid.
        indexes = [models.Index(fields=["grid", "name_pinyin", "id"], name="person_grid_order"),
                   models.Index(fields=["community", "name_pinyin", "id"], name="person_community_order"),
                   models.Index(fields=["street", "name_pinyin", "id"], name="person_street_order")]
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number_bidx"], condition=~Q(id_number_bidx=""),
                                    name="person_unique_id_number",
                                    violation_error_message=_("已有相同证件号码的人员")),
        ]
        permissions = [("reveal_person", _("查看完整证件号和电话")), ("export_person", _("导出人员")),
                       ("import_person", _("导入人员"))]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}" if self.grid_id else ""

    # --- personal numbers -------------------------------------------------------------------
    @staticmethod
    def id_index(id_type: str, value: str) -> str:
        return crypto.blind_index(value, f"id:{id_type}")

    @staticmethod
    def phone_index(value: str) -> str:
        return crypto.blind_index(value, "phone")

    def set_id_number(self, value: str) -> None:
        """``value`` must already be validated and normalised (core.validators)."""
        if not value:
            self.id_number_enc = self.id_number_bidx = self.id_number_masked = ""
            return
        self.id_number_enc = self.seal_field("id_number_enc", value)
        self.id_number_bidx = self.id_index(self.id_type, value)
        self.id_number_masked = mask_id(value)

    def set_phone(self, value: str) -> None:
        if not value:
            self.phone_enc = self.phone_bidx = self.phone_masked = ""
            return
        self.phone_enc = self.seal_field("phone_enc", value)
        self.phone_bidx = self.phone_index(value)
        self.phone_masked = mask_phone(value)

    def reveal_id_number(self) -> str:
        """Clear text. Callers must check ``reveal`` permission and audit (people.services.reveal)."""
        return self.open_field("id_number_enc")

    def reveal_phone(self) -> str:
        return self.open_field("phone_enc")

    def age(self, on: dt.date | None = None) -> int | None:
        if not self.birth_date:
            return None
        on = on or dt.date.today()
        return on.year - self.birth_date.year - ((on.month, on.day) < (self.birth_date.month, self.birth_date.day))


class PersonTag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="person_tags")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+")
    since = models.DateField(_("开始日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="person_tag_unique")]


class Residence(ScopedModel):
    """A person living (or working) in a house from ``moved_in`` until ``moved_out``. Never deleted."""

    scope_fields = {"street": "house__street_id", "community": "house__community_id", "grid": "house__grid_id"}

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="residences", verbose_name=_("人员"))
    house = models.ForeignKey("places.House", on_delete=models.PROTECT, related_name="residences",
                              verbose_name=_("房屋"))
    role = models.CharField(_("身份"), max_length=16, choices=ResidenceRole.choices, default=ResidenceRole.FAMILY)
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices, blank=True)
    moved_in = models.DateField(_("入住日期"), null=True, blank=True)
    moved_out = models.DateField(_("迁出日期"), null=True, blank=True)
    move_out_reason = models.CharField(_("迁出原因"), max_length=100, blank=True)
    source = models.CharField(_("来源"), max_length=16, default="form",
                              help_text=_("form / import / api / visit / feedback / demo"))

    class Meta:
        verbose_name = _("居住记录")
        verbose_name_plural = _("居住记录")
        ordering = ["-moved_out", "-moved_in", "id"]
        constraints = [
            # One person cannot be householder of two current households.
            models.UniqueConstraint(fields=["person"], condition=Q(relation="householder", moved_out__isnull=True),
                                    name="one_current_householder_role_per_person",
                                    violation_error_message=_("此人已是另一户的户主，请先办理迁出")),
            # One current householder per house.
            models.UniqueConstraint(fields=["house"], condition=Q(relation="householder", moved_out__isnull=True),
                                    name="one_current_householder_per_house",
                                    violation_error_message=_("该房屋已有户主")),
            # No two open residences of the same person in the same house.
            models.UniqueConstraint(fields=["person", "house"], condition=Q(moved_out__isnull=True),
                                    name="one_open_residence_per_house",
                                    violation_error_message=_("此人已登记住在该房屋")),
            models.CheckConstraint(condition=Q(moved_out__isnull=True) | Q(moved_in__isnull=True)
                                   | Q(moved_out__gte=models.F("moved_in")),
                                   name="moved_out_after_moved_in",
                                   violation_error_message=_("迁出日期不能早于入住日期")),
        ]
        indexes = [models.Index(fields=["house", "moved_out"]), models.Index(fields=["person", "moved_out"])]

    def __str__(self) -> str:
        return f"{self.person} @ {self.house_id}"

    @property
    def is_current(self) -> bool:
        return self.moved_out is None

    @property
    def audit_place(self) -> str:
        return f"grid:{self.house.grid_id}" if self.house_id else ""


class Enterprise(SealedRow, ScopedModel):
    scope_fields = PERSON_SCOPE

    name = models.CharField(_("企业名称"), max_length=128)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True,
                                   error_messages={"unique": _("已有相同统一社会信用代码的企业")})
    compound = models.ForeignKey("places.Compound", on_delete=models.PROTECT, related_name="enterprises",
                                 verbose_name=_("所在楼宇"))
    building = models.ForeignKey("places.Building", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="enterprises", verbose_name=_("楼栋"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    room = models.CharField(_("房号"), max_length=32, blank=True)
    industry = models.CharField(_("行业"), max_length=64, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone_enc = models.TextField(_("联系电话(密文)"), blank=True)
    contact_phone_bidx = models.CharField(_("联系电话索引"), max_length=32, blank=True, db_index=True)
    contact_phone_masked = models.CharField(_("联系电话"), max_length=16, blank=True)
    staff_count = models.PositiveIntegerField(_("员工人数"), default=0)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"

    def fill_ancestors(self) -> None:
        c = self.compound
        self.grid_id, self.community_id, self.street_id = c.grid_id, c.community_id, c.street_id

    def save(self, *args, **kwargs) -> None:
        self.fill_ancestors()
        super().save(*args, **kwargs)

    def set_contact_phone(self, value: str) -> None:
        if not value:
            self.contact_phone_enc = self.contact_phone_bidx = self.contact_phone_masked = ""
            return
        self.contact_phone_enc = self.seal_field("contact_phone_enc", value)
        self.contact_phone_bidx = Person.phone_index(value)
        self.contact_phone_masked = mask_phone(value)


from people.iomodels import ExportRequest, ImportJob  # noqa: E402  (import and export records, people/iomodels.py)

__all__ += ["ExportRequest", "ImportJob"]
