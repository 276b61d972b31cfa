"""The 15-minute service circle: facility categories (data), facilities, the walking network and the stored
nearest-facility figures per compound and category.

Categories are configuration an administrator edits (seeded from shared/docs/life-circle.md by migration
0002); facilities are registry objects scoped by their grid like every other place; a Network row points to
the arrays of an imported OSM extract under VAR_DIR; Access rows are recomputed by ``circle.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from core.models import ScopedModel, TimestampedModel

__all__ = ["Access", "CandidateSite", "Category", "Facility", "Network"]

FACILITY_SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}


class Tier(models.IntegerChoices):
    BLOCK = 0, _("居住街坊")
    MIN5 = 5, _("5分钟生活圈")
    MIN10 = 10, _("10分钟生活圈")
    MIN15 = 15, _("15分钟生活圈")


class Kind(models.TextChoices):
    BASIC = "basic", _("基础保障型")
    QUALITY = "quality", _("品质提升型")


class Group(models.TextChoices):
    """The residents a category serves, by age in whole years (both ends included)."""

    ALL = "all", _("全体居民")
    ELDERLY = "65+", _("65岁及以上老人")
    CHILDREN_3_6 = "3-6", _("3-6岁儿童")
    PRIMARY = "6-12", _("6-12岁儿童")
    MIDDLE = "12-15", _("12-15岁少年")

    @staticmethod
    def age_range(code: str) -> tuple[int | None, int | None]:
        return {"all": (None, None), "65+": (65, None), "3-6": (3, 6), "6-12": (6, 12), "12-15": (12, 15)}[code]


class Category(models.Model):
    """A kind of facility and its service distance. Configuration data, not scoped."""

    code = models.SlugField(_("代码"), unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级类别"))
    tier = models.PositiveSmallIntegerField(_("生活圈层级"), choices=Tier.choices, default=Tier.MIN15)
    radius_m = models.PositiveIntegerField(_("服务半径(米)"), null=True, blank=True,
                                           help_text=_("标准给出的步行距离；为空时按层级的分钟数和步行速度计算"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.BASIC)
    group = models.CharField(_("服务人群"), max_length=8, choices=Group.choices, default=Group.ALL)
    confirmed = models.BooleanField(_("已核实"), default=False,
                                    help_text=_("服务半径已按标准原文核实；未核实的取自二手资料，使用前请核对"))
    source = models.CharField(_("依据"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("设施类别")
        verbose_name_plural = _("设施类别")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the active language: ``name_en`` (first letter capitalised, as every English label is)
        when English is active and it is filled in."""
        if self.name_en and (get_language() or "").startswith("en"):
            return capfirst(self.name_en)
        return self.name

    @property
    def source_label(self) -> str:
        """The source as shown: the seeded words (``circle.seed.SOURCE``) are in the catalogue, standards' codes
        and an administrator's own text are shown as typed."""
        return gettext(self.source) if self.source else ""

    @property
    def minutes(self) -> int:
        return int(self.tier) or 5

    def threshold_m(self, speed: float) -> float:
        """The walking distance that counts as served: the standard's radius, else the tier's minutes."""
        return float(self.radius_m) if self.radius_m else self.minutes * 60 * speed


class Facility(ScopedModel):
    scope_fields = FACILITY_SCOPE

    class Status(models.TextChoices):
        OPEN = "open", _("运营中")
        PLANNED = "planned", _("规划中")
        CLOSED = "closed", _("已关闭")

    name = models.CharField(_("名称"), max_length=100)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="facilities",
                                 verbose_name=_("类别"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    opening_hours = models.CharField(_("开放时间"), max_length=100, blank=True,
                                     help_text=_("例如 周一至周五 8:00-17:30"))
    capacity = models.PositiveIntegerField(_("容量"), null=True, blank=True, help_text=_("床位、座位或名额"))
    operator = models.CharField(_("运营方"), max_length=100, blank=True)
    phone = models.CharField(_("服务电话"), max_length=32, blank=True, help_text=_("对外公开的服务电话"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    photo = models.FileField(_("照片"), upload_to="circle/photos/", blank=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("服务设施")
        verbose_name_plural = _("服务设施")
        ordering = ["category__order", "name"]
        permissions = [("import_facility", _("导入服务设施")), ("plan_facility", _("设施选址分析"))]
        indexes = [models.Index(fields=["category", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"

    def fill_ancestors(self) -> None:
        g = self.grid
        self.community_id, self.street_id = g.community_id, g.street_id

    def save(self, *args, **kwargs) -> None:
        self.fill_ancestors()
        super().save(*args, **kwargs)


class Network(TimestampedModel):
    """An imported walking network; its arrays live in ``VAR_DIR / file`` (numpy .npz)."""

    name = models.CharField(_("名称"), max_length=100)
    source_name = models.CharField(_("来源文件"), max_length=200, blank=True)
    file = models.CharField(_("数据文件"), max_length=300)
    node_count = models.PositiveIntegerField(_("节点数"), default=0)
    edge_count = models.PositiveIntegerField(_("路段数"), default=0)
    clipped_ways = models.PositiveIntegerField(_("被截断的道路"), default=0)
    is_active = models.BooleanField(_("使用中"), default=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("导入人"))

    class Meta:
        verbose_name = _("步行路网")
        verbose_name_plural = _("步行路网")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Access(ScopedModel):
    """Nearest open facility of one category from one compound, as last computed."""

    scope_fields = {"street": "compound__street_id", "community": "compound__community_id",
                    "grid": "compound__grid_id"}

    class Method(models.TextChoices):
        NETWORK = "network", _("步行路网")
        STRAIGHT = "straight", _("直线距离×绕行系数")

    compound = models.ForeignKey("places.Compound", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("小区"))
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+", verbose_name=_("类别"))
    facility = models.ForeignKey(Facility, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("最近设施"))
    distance_m = models.FloatField(_("步行距离(米)"), null=True, blank=True, help_text=_("为空表示超出计算范围"))
    method = models.CharField(_("计算方法"), max_length=16, choices=Method.choices)
    population = models.PositiveIntegerField(_("现住人口"), default=0)
    group_population = models.PositiveIntegerField(_("服务人群人口"), default=0)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("可达性")
        verbose_name_plural = _("可达性")
        constraints = [models.UniqueConstraint(fields=["compound", "category"], name="circle_access_unique")]

    def __str__(self) -> str:
        return f"{self.compound_id}·{self.category_id}"


class CandidateSite(ScopedModel):
    """A place where a new facility could go (imported or drawn on the map)."""

    scope_fields = FACILITY_SCOPE

    name = models.CharField(_("名称"), max_length=100)
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("候选选址")
        verbose_name_plural = _("候选选址")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def fill_ancestors(self) -> None:
        g = self.grid
        self.community_id, self.street_id = g.community_id, g.street_id

    def save(self, *args, **kwargs) -> None:
        self.fill_ancestors()
        super().save(*args, **kwargs)
