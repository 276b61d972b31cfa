"""The place hierarchy: street → community → grid → compound → building → house.

Typed foreign keys to the parent, plus denormalised ancestor keys (a house knows its grid, community and
street) so that scoping and rollups are a single filter. The ancestors are set in one place,
``PlaceModel.fill_ancestors``, called by ``save`` and by every bulk path (import, demo).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import ScopedModel
from places.choices import CompoundKind, HouseUse

__all__ = ["Building", "Community", "Compound", "Grid", "House", "Street"]

FULL_SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}


class PlaceModel(ScopedModel):
    parent_field: str = ""

    class Meta:
        abstract = True

    def fill_ancestors(self) -> None:
        """Copy the ancestor keys from the parent (the single place where they are kept current)."""
        parent = getattr(self, self.parent_field) if self.parent_field else None
        if parent is None:
            return
        for level in ("street", "community", "grid", "compound", "building"):
            if level == self.parent_field:
                continue
            if hasattr(self, f"{level}_id") and hasattr(parent, f"{level}_id"):
                setattr(self, f"{level}_id", getattr(parent, f"{level}_id"))

    def save(self, *args, **kwargs) -> None:
        self.fill_ancestors()
        super().save(*args, **kwargs)


class Street(PlaceModel):
    scope_fields = {"street": "id"}
    scope_ancestors_visible = True

    name = models.CharField(_("名称"), max_length=64, unique=True)
    code = models.CharField(_("区划代码"), max_length=12, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    boundary = models.JSONField(_("边界"), null=True, blank=True, help_text=_("GeoJSON Polygon, WGS-84"))

    class Meta:
        verbose_name = _("街道")
        verbose_name_plural = _("街道")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"street:{self.pk}"


class Community(PlaceModel):
    parent_field = "street"
    scope_fields = {"street": "street_id", "community": "id"}
    scope_ancestors_visible = True

    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("街道"))
    name = models.CharField(_("名称"), max_length=64)
    code = models.CharField(_("代码"), max_length=16, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    boundary = models.JSONField(_("边界"), null=True, blank=True)

    class Meta:
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        ordering = ["street", "name"]
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="community_unique_name",
                                               violation_error_message=_("该街道下已有同名社区"))]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"community:{self.pk}"


class Grid(PlaceModel):
    parent_field = "community"
    scope_fields = {"street": "street_id", "community": "community_id", "grid": "id"}

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids",
                                  verbose_name=_("社区"))
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    name = models.CharField(_("名称"), max_length=64)
    code = models.CharField(_("编号"), max_length=16, blank=True)
    boundary = models.JSONField(_("边界"), null=True, blank=True)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["community", "code", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name",
                                               violation_error_message=_("该社区下已有同名网格"))]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"grid:{self.pk}"


class Compound(PlaceModel):
    parent_field = "grid"
    scope_fields = FULL_SCOPE

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="compounds", verbose_name=_("网格"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    name = models.CharField(_("名称"), max_length=100)
    name_pinyin = models.CharField(_("拼音"), max_length=200, blank=True, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=CompoundKind.choices, default=CompoundKind.RESIDENTIAL)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    boundary = models.JSONField(_("边界"), null=True, blank=True)
    built_year = models.PositiveSmallIntegerField(_("建成年份"), null=True, blank=True)
    property_company = models.CharField(_("物业公司"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("小区/楼宇")
        verbose_name_plural = _("小区/楼宇")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="compound_unique_name",
                                               violation_error_message=_("本街道已有同名小区"))]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"


class Building(PlaceModel):
    parent_field = "compound"
    scope_fields = FULL_SCOPE

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="buildings",
                                 verbose_name=_("小区"))
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    number = models.CharField(_("楼栋号"), max_length=16, help_text=_("“3幢”“3栋”“3号楼”都写作 3"))
    floors = models.PositiveSmallIntegerField(_("层数"), default=6)
    units = models.PositiveSmallIntegerField(_("单元数"), default=1)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["compound", "number"]
        constraints = [models.UniqueConstraint(fields=["compound", "number"], name="building_unique_number",
                                               violation_error_message=_("该小区已有相同楼栋号"))]

    def __str__(self) -> str:
        return f"{self.compound.name} {self.number}幢" if self.compound_id else self.number

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"


class House(PlaceModel):
    parent_field = "building"
    scope_fields = FULL_SCOPE

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="houses", verbose_name=_("楼栋"))
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="houses", verbose_name=_("小区"))
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="houses", verbose_name=_("网格"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    unit = models.CharField(_("单元"), max_length=8, blank=True, default="1")
    floor = models.SmallIntegerField(_("楼层"))
    room = models.CharField(_("房号"), max_length=16)
    area = models.DecimalField(_("面积(㎡)"), max_digits=7, decimal_places=2, null=True, blank=True)
    use = models.CharField(_("用途"), max_length=16, choices=HouseUse.choices, default=HouseUse.OWNER)
    resident_count = models.PositiveSmallIntegerField(_("现住人数"), default=0,
                                                      help_text=_("由入住/迁出自动维护"))
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["building", "unit", "floor", "room"]
        constraints = [models.UniqueConstraint(fields=["building", "unit", "room"], name="house_unique_room",
                                               violation_error_message=_("该楼栋该单元已有相同房号"))]
        indexes = [models.Index(fields=["grid", "use"]), models.Index(fields=["community", "use"])]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        b = self.building
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{b.compound.name}{b.number}幢{unit}{self.room}室"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"

    def clean(self) -> None:
        if self.building_id and self.compound_id and self.building.compound_id != self.compound_id:
            raise ValidationError({"building": _("楼栋不属于所选小区")})
        if self.building_id and self.floor is not None and self.floor > self.building.floors:
            raise ValidationError({"floor": _("楼层 %(f)d 超过了该楼栋的层数 %(n)d")
                                   % {"f": self.floor, "n": self.building.floors}})
