"""Freshness and data quality of the registry (issue 4).

* ``FreshnessPolicy``: how often a home must be re-verified, per house use or per special-group tag; the shortest
  interval that applies to a home wins.
* ``HouseStatus``: one row per house (same id as the house): when, how and by whom it was last verified, its
  interval, when it falls due, whether it is stale, how many open quality issues it has and who is assigned to it.
  Denormalised street / community / grid / compound / building ids make scoping and rollups one filter.
* ``PersonStatus``: when, how and by whom a person was last verified, and the cached result of the ID-number
  check (the number is sealed; it is checked once when it changes, never in bulk SQL).
* ``QualityIssue``: a finding of a data-quality rule (quality/rules.py) about a house and/or a person, open until
  it is fixed (resolved automatically by the next recompute, or by an officer) or dismissed with a reason
  (a dismissed finding is never raised again).
* ``GridSnapshot``: one row per grid and ISO week: freshness rate, completeness score and counts (12-week trend).

Everything here is written by quality.services (stamp_verified, assign, recompute, resolve/dismiss, policies).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import ScopedModel
from places.choices import HouseUse

__all__ = ["FreshnessPolicy", "GridSnapshot", "HouseStatus", "IssueStatus", "Method", "PersonStatus",
           "QualityIssue"]

SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}


class Method(models.TextChoices):
    VISIT = "visit", _("入户走访")
    FEEDBACK = "feedback", _("居民反馈")
    IMPORT = "import", _("批量导入")
    API = "api", _("接口")
    FORM = "form", _("表单登记")


class IssueStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已解决")
    DISMISSED = "dismissed", _("已忽略")


class FreshnessPolicy(models.Model):
    """A re-verification interval for homes of one use (``house_use``) or with a resident of one tag (``tag_code``).

    Exactly one of the two is set. A home's interval is the shortest of its use's and its residents' tags'.
    """

    house_use = models.CharField(_("房屋用途"), max_length=16, choices=HouseUse.choices, blank=True)
    tag_code = models.SlugField(_("人群标签代码"), blank=True)
    interval_days = models.PositiveSmallIntegerField(_("复核周期(天)"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("新鲜度策略")
        verbose_name_plural = _("新鲜度策略")
        ordering = ["tag_code", "house_use"]
        constraints = [
            models.CheckConstraint(condition=(Q(house_use="") & ~Q(tag_code="")) | (~Q(house_use="") & Q(tag_code="")),
                                   name="freshness_policy_use_xor_tag",
                                   violation_error_message=_("房屋用途和人群标签只能填写其中一项")),
            models.UniqueConstraint(fields=["house_use"], condition=~Q(house_use=""), name="freshness_policy_one_use",
                                    violation_error_message=_("该房屋用途已有策略")),
            models.UniqueConstraint(fields=["tag_code"], condition=~Q(tag_code=""), name="freshness_policy_one_tag",
                                    violation_error_message=_("该人群标签已有策略")),
            models.CheckConstraint(condition=Q(interval_days__gte=1) & Q(interval_days__lte=3650),
                                   name="freshness_policy_interval_range",
                                   violation_error_message=_("复核周期须在1到3650天之间")),
        ]

    def __str__(self) -> str:
        what = self.get_house_use_display() if self.house_use else self.tag_code
        return f"{what}: {self.interval_days}"


class HouseStatus(ScopedModel):
    """Freshness and quality state of one house; ``house_id`` is its primary key (one row per house)."""

    scope_fields = SCOPE

    house = models.OneToOneField("places.House", on_delete=models.CASCADE, primary_key=True,
                                 related_name="quality_status", verbose_name=_("房屋"))
    # Place keys: no single-column indexes (the composite ones below serve the filters; fewer indexes keep the
    # set-based updates of a million rows cheap).
    street = models.ForeignKey("places.Street", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                               related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.DO_NOTHING, db_constraint=False,
                                  db_index=False, related_name="+", verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                             related_name="+", verbose_name=_("网格"))
    compound = models.ForeignKey("places.Compound", on_delete=models.DO_NOTHING, db_constraint=False,
                                 db_index=False, related_name="+", verbose_name=_("小区"))
    building = models.ForeignKey("places.Building", on_delete=models.DO_NOTHING, db_constraint=False,
                                 db_index=False, related_name="+", verbose_name=_("楼栋"))
    last_verified_at = models.DateTimeField(_("最近核实时间"), null=True, blank=True)
    last_verified_method = models.CharField(_("核实方式"), max_length=16, choices=Method.choices, blank=True)
    last_verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                         db_index=False, related_name="+", verbose_name=_("核实人"))
    interval_days = models.PositiveSmallIntegerField(_("复核周期(天)"), default=180)
    due_at = models.DateTimeField(_("应复核时间"), null=True, blank=True)
    is_stale = models.BooleanField(_("已过期"), default=True)
    key_group = models.BooleanField(_("重点人群户"), default=False)
    residents = models.PositiveSmallIntegerField(_("现住人数"), default=0)
    open_issues = models.PositiveSmallIntegerField(_("待处理问题"), default=0)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 db_index=False, related_name="quality_houses", verbose_name=_("负责网格员"))
    needs_recompute = models.BooleanField(_("待重算"), default=False)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("房屋新鲜度")
        verbose_name_plural = _("房屋新鲜度")
        ordering = ["building_id", "house_id"]
        indexes = [models.Index(fields=["grid", "is_stale"], name="qhs_grid_stale"),
                   models.Index(fields=["assignee", "is_stale"], name="qhs_assignee_stale"),
                   models.Index(fields=["community", "is_stale"], name="qhs_community_stale"),
                   models.Index(fields=["building", "is_stale"], name="qhs_building_stale"),
                   models.Index(fields=["needs_recompute"], name="qhs_dirty",
                                condition=Q(needs_recompute=True))]
        permissions = [("assign_housestatus", _("分派房屋给网格员"))]

    def __str__(self) -> str:
        return f"house {self.house_id}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"


class PersonStatus(models.Model):
    """When, how and by whom a person was last verified; the cached check of their sealed ID number.

    Read only next to a person already read through ``Person.objects.restrict`` (it holds no personal value).
    """

    person = models.OneToOneField("people.Person", on_delete=models.CASCADE, primary_key=True,
                                  related_name="quality_status", verbose_name=_("人员"))
    last_verified_at = models.DateTimeField(_("最近核实时间"), null=True, blank=True)
    last_verified_method = models.CharField(_("核实方式"), max_length=16, choices=Method.choices, blank=True)
    last_verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+", verbose_name=_("核实人"))
    # The ID check: the blind index and birth date it was made for (re-checked when either changes) and its result:
    # "" valid, "invalid" (checksum, region or date wrong), "birth" (birth date differs from the number's),
    # "sex" (sex differs from the number's).
    id_checked_bidx = models.CharField(max_length=32, blank=True)
    id_checked_birth = models.DateField(null=True, blank=True)
    id_checked_sex = models.CharField(max_length=1, blank=True)
    id_problem = models.CharField(_("证件号码问题"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("人员新鲜度")
        verbose_name_plural = _("人员新鲜度")
        indexes = [models.Index(fields=["id_problem"], name="qps_id_problem", condition=~Q(id_problem=""))]

    def __str__(self) -> str:
        return f"person {self.person_id}"


class QualityIssue(ScopedModel):
    """A finding of one rule about one house and/or person. ``subject`` = ``"<house id>:<person id>"`` (0 if none).

    At most one open-or-dismissed finding per (rule, subject): recompute never raises a dismissed one again.
    """

    scope_fields = SCOPE

    rule = models.CharField(_("规则"), max_length=32, db_index=True)
    subject = models.CharField(max_length=40)
    house = models.ForeignKey("places.House", on_delete=models.CASCADE, null=True, blank=True,
                              related_name="quality_issues", verbose_name=_("房屋"))
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="quality_issues", verbose_name=_("人员"))
    street = models.ForeignKey("places.Street", on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                               related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                                  related_name="+", verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                             related_name="+", verbose_name=_("网格"))
    building = models.ForeignKey("places.Building", on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                                 related_name="+", verbose_name=_("楼栋"))
    detail = models.CharField(_("详情"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=IssueStatus.choices, default=IssueStatus.OPEN)
    found_at = models.DateTimeField(_("发现时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("处理人"))
    reason = models.CharField(_("理由"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("数据质量问题")
        verbose_name_plural = _("数据质量问题")
        ordering = ["building_id", "house_id", "rule", "id"]
        constraints = [models.UniqueConstraint(fields=["rule", "subject"],
                                               condition=Q(status__in=["open", "dismissed"]),
                                               name="quality_issue_one_live_per_subject")]
        indexes = [models.Index(fields=["grid", "status", "rule"], name="qi_grid_status"),
                   models.Index(fields=["house", "status"], name="qi_house_status"),
                   models.Index(fields=["community", "status"], name="qi_community_status")]
        permissions = [("resolve_qualityissue", _("处理或忽略数据质量问题"))]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}" if self.grid_id else ""

    @property
    def rule_info(self):
        from quality.rules import RULES

        return RULES.get(self.rule)


class GridSnapshot(models.Model):
    """The week's figures of one grid (taken by the weekly job): the 12-week trend reads these rows."""

    grid = models.ForeignKey("places.Grid", on_delete=models.CASCADE, related_name="+", verbose_name=_("网格"))
    community_id = models.IntegerField(_("社区"))
    street_id = models.IntegerField(_("街道"))
    week = models.DateField(_("周(周一)"))
    houses = models.PositiveIntegerField(_("房屋数"), default=0)
    fresh = models.PositiveIntegerField(_("未过期房屋"), default=0)
    stale = models.PositiveIntegerField(_("已过期房屋"), default=0)
    people = models.PositiveIntegerField(_("现住人数"), default=0)
    open_issues = models.PositiveIntegerField(_("待处理问题"), default=0)
    freshness_rate = models.FloatField(_("新鲜度"), default=0)
    score = models.FloatField(_("质量得分"), default=0)
    taken_at = models.DateTimeField(_("生成时间"), auto_now=True)

    class Meta:
        verbose_name = _("网格周快照")
        verbose_name_plural = _("网格周快照")
        ordering = ["grid_id", "week"]
        constraints = [models.UniqueConstraint(fields=["grid", "week"], name="grid_snapshot_one_per_week")]

    def __str__(self) -> str:
        return f"{self.grid_id} {self.week}"
