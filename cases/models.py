"""Cases: residents' opinions, requests and disputes from report to closure (issue 6).

``CaseCategory`` (a tree, with a handling deadline in working days per priority) and ``Holiday`` (the official
calendar with its 调休 workdays) are configuration; ``Unit`` is a handling unit (a community, a department, a
property company) with its member users; ``Case`` is scoped by its street / community / grid like every record on
a place, and a unit's members reach the cases dispatched to their unit (``CaseQuerySet.restrict``).

The status changes only through ``cases.services.transition`` (a conditional UPDATE per action); the reporter's
phone is sealed like a person's (``core.crypto``: ciphertext, blind index, masked copy).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.models import ScopedModel, TimestampedModel
from core.querysets import RestrictedManager, RestrictedQuerySet, scope_q
from core.scope import scope_for
from core.sealed import SealedTextModel
from core.validators import mask_phone

__all__ = ["Case", "CaseAttachment", "CaseCategory", "CaseEvent", "CaseParty", "Channel", "Escalation", "Holiday",
           "Priority", "Satisfaction", "Status", "Unit", "UnitKind"]

CASE_SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}


class Priority(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Channel(models.TextChoices):
    WORKER = "worker", _("网格员上报")
    RESIDENT = "resident", _("居民自报")
    ENTERPRISE = "enterprise", _("企业诉求")
    WALK_IN = "walk_in", _("来访")
    HOTLINE = "hotline", _("12345热线")
    OPEN311 = "open311", _("Open311接口")
    API = "api", _("接口")


class Status(models.TextChoices):
    REPORTED = "reported", _("已上报")
    ACCEPTED = "accepted", _("已受理")
    REJECTED = "rejected", _("不予受理")
    DISPATCHED = "dispatched", _("已派遣")
    IN_PROGRESS = "in_progress", _("处置中")
    HANDLED = "handled", _("已处置")
    VERIFIED = "verified", _("已核查")
    CLOSED = "closed", _("已结案")
    REOPENED = "reopened", _("已重启")


OPEN_STATUSES = (Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED,
                 Status.VERIFIED, Status.REOPENED)
# Statuses whose handling clock runs (a deadline is checked and escalated).
CLOCK_STATUSES = (Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED)


class Escalation(models.IntegerChoices):
    NONE = 0, _("未督办")
    GRID = 1, _("网格督办")
    COMMUNITY = 2, _("社区督办")
    STREET = 3, _("街道督办")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class CaseCategory(models.Model):
    """A kind of case and its handling deadline in working days. Configuration data, not scoped."""

    code = models.SlugField(_("代码"), unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级类别"))
    deadline_days = models.PositiveSmallIntegerField(_("办理时限(工作日)"), default=5)
    urgent_deadline_days = models.PositiveSmallIntegerField(_("紧急办理时限(工作日)"), default=1)
    default_unit = models.ForeignKey("Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                     verbose_name=_("默认处置单位"))
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("案件类别")
        verbose_name_plural = _("案件类别")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    def days_for(self, priority: str) -> int:
        return self.urgent_deadline_days if priority == Priority.URGENT else self.deadline_days


class UnitKind(models.TextChoices):
    COMMUNITY = "community", _("社区")
    DEPARTMENT = "department", _("职能部门")
    PROPERTY = "property", _("物业公司")


class Unit(models.Model):
    """A handling unit. ``street_id``/``community_id``/``grid_id`` say where it works (for the dispatch list);
    its members see the cases dispatched to it (lead or co-unit)."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices, default=UnitKind.DEPARTMENT)
    street_id = models.IntegerField(_("街道"), null=True, blank=True)
    community_id = models.IntegerField(_("社区"), null=True, blank=True)
    grid_id = models.IntegerField(_("网格"), null=True, blank=True)
    compound_ids = models.JSONField(_("负责小区"), default=list, blank=True)
    phone = models.CharField(_("值班电话"), max_length=32, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="case_units",
                                     verbose_name=_("成员"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("处置单位")
        verbose_name_plural = _("处置单位")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="cases_unit_name_unique")]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """A day off on a weekday (``is_workday=False``) or a weekend day that is a workday (调休, ``True``)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("调休上班"), default=False)
    name = models.CharField(_("名称"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class CaseQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> CaseQuerySet:
        """The place rule (street / community / grid of the case), plus the unit rule: a grant at level
        "self" of a role holding the permission reaches the cases dispatched to the user's units."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        perm = f"cases.{action}_case"
        places = scope_for(user).places_for(perm)
        if places is None:
            return self.none()
        q = scope_q(Case, places, user.pk)
        if places.self_only:
            units = Unit.objects.filter(members=user.pk, is_active=True).values("pk")
            co = Case.co_units.through.objects.filter(unit_id__in=units).values("case_id")
            q |= Q(lead_unit_id__in=units) | Q(pk__in=co)
        return self.filter(q)


class CaseManager(RestrictedManager.from_queryset(CaseQuerySet)):
    pass


class Case(SealedTextModel, ScopedModel):
    scope_fields = CASE_SCOPE
    sealed_fields = ("title", "description", "reject_reason")  # numbers typed into them: core.sealed

    number = models.CharField(_("编号"), max_length=20, unique=True)
    channel = models.CharField(_("来源"), max_length=16, choices=Channel.choices, default=Channel.WORKER)
    category = models.ForeignKey(CaseCategory, on_delete=models.PROTECT, related_name="cases",
                                 verbose_name=_("类别"))
    priority = models.CharField(_("紧急程度"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("描述"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.REPORTED)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("网格"))
    compound = models.ForeignKey("places.Compound", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("小区"))
    building = models.ForeignKey("places.Building", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("楼栋"))
    house = models.ForeignKey("places.House", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("房屋"))
    address = models.CharField(_("地点"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    reporter_name_enc = models.TextField(_("反映人姓名(密文)"), blank=True)
    reporter_name_masked = models.CharField(_("反映人"), max_length=32, blank=True)
    reporter_phone_enc = models.TextField(_("反映人电话(密文)"), blank=True)
    reporter_phone_bidx = models.CharField(_("反映人电话索引"), max_length=32, blank=True, db_index=True)
    reporter_phone_masked = models.CharField(_("反映人电话"), max_length=16, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("上报人"))
    lead_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="lead_cases",
                                  verbose_name=_("主办单位"))
    co_units = models.ManyToManyField(Unit, blank=True, related_name="co_cases", verbose_name=_("协办单位"))
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("处置人"))
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("核查人"))
    deadline_at = models.DateTimeField(_("办理期限"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    paused_total = models.DurationField(_("累计暂停"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), choices=Escalation.choices,
                                                        default=Escalation.NONE)
    satisfaction = models.CharField(_("满意度"), max_length=16, choices=Satisfaction.choices, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("重启次数"), default=0)
    duplicate_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="duplicates", verbose_name=_("重复于"))
    external_id = models.CharField(_("外部编号"), max_length=64, blank=True, db_index=True)
    service_code = models.CharField(_("服务代码"), max_length=64, blank=True)
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    reject_reason = models.CharField(_("不予受理理由"), max_length=200, blank=True)

    objects = CaseManager()

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "deadline_at"], name="cases_status_deadline"),
            models.Index(fields=["grid", "status"], name="cases_grid_status"),
            models.Index(fields=["community", "status"], name="cases_community_status"),
            models.Index(fields=["lead_unit", "status"], name="cases_unit_status"),
            models.Index(fields=["street", "status", "id"], name="cases_street_status_id"),
            models.Index(fields=["building", "category", "status"], name="cases_building_category"),
            models.Index(fields=["created_at"], name="cases_created"),
            models.Index(fields=["deadline_at", "id"], name="cases_open_deadline",
                         condition=Q(status__in=["reported", "accepted", "dispatched", "in_progress", "handled",
                                                 "verified", "reopened"])),
            models.Index(fields=["closed_at"], name="cases_closed"),
        ]
        permissions = [
            ("accept_case", _("受理案件")),
            ("reject_case", _("不予受理")),
            ("dispatch_case", _("派遣案件")),
            ("start_case", _("开始处置")),
            ("pause_case", _("暂停/恢复计时")),
            ("handle_case", _("处置完毕")),
            ("verify_case", _("核查案件")),
            ("close_case", _("结案")),
            ("survey_case", _("回访满意度")),
            ("escalate_case", _("督办案件")),
            ("contact_case", _("查看反映人联系方式(脱敏)")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}" if self.grid_id else f"street:{self.street_id}"

    # --- reporter's personal data -----------------------------------------------------------------------
    @staticmethod
    def phone_index(value: str) -> str:
        return crypto.blind_index(value, "phone")

    def set_reporter(self, name: str, phone: str) -> None:
        """``phone`` must already be validated (core.validators.validate_mobile)."""
        name = (name or "").strip()
        self.reporter_name_enc = self.seal_field("reporter_name_enc", name)
        self.reporter_name_masked = (name[0] + "*" * max(len(name) - 1, 1)) if name else ""
        if phone:
            self.reporter_phone_enc = self.seal_field("reporter_phone_enc", phone)
            self.reporter_phone_bidx = self.phone_index(phone)
            self.reporter_phone_masked = mask_phone(phone)
        else:
            self.reporter_phone_enc = self.reporter_phone_bidx = self.reporter_phone_masked = ""

    def reveal_reporter_phone(self) -> str:
        """Clear text, for the service that calls the resident back (audited by its caller)."""
        return self.open_field("reporter_phone_enc")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseParty(SealedTextModel):
    sealed_fields = ("note",)

    class Role(models.TextChoices):
        REPORTER = "reporter", _("反映人")
        APPLICANT = "applicant", _("申请人")
        RESPONDENT = "respondent", _("被申请人")
        RELATED = "related", _("相关人")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties", verbose_name=_("案件"))
    name = models.CharField(_("姓名"), max_length=64)
    role = models.CharField(_("身份"), max_length=16, choices=Role.choices, default=Role.RELATED)
    person = models.ForeignKey("people.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("登记人员"))
    house = models.ForeignKey("places.House", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("房屋"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")

    def __str__(self) -> str:
        return self.name

    def sealed_scope_object(self):
        return self.case


def attachment_path(instance: CaseAttachment, filename: str) -> str:
    return f"cases/{instance.case_id}/{filename}"


class CaseAttachment(TimestampedModel):
    """A photo or document of a case, stored under MEDIA_ROOT and served only by ``cases:attachment``."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("案件"))
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(_("类型"), max_length=32)
    size = models.PositiveIntegerField(_("大小"))
    stage = models.CharField(_("环节"), max_length=16, blank=True, help_text=_("上报、处置或核查时附上"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("上传人"))

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.file.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class CaseEvent(SealedTextModel):
    """One line of a case's timeline."""

    sealed_fields = ("note",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("案件"))
    action = models.CharField(_("动作"), max_length=16)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("操作人"))
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("案件动态")
        verbose_name_plural = _("案件动态")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="cases_event_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"

    def get_action_label(self) -> str:
        from cases.services import ACTION_LABELS

        return str(ACTION_LABELS.get(self.action, self.action))

    def sealed_scope_object(self):
        return self.case

    def get_to_status_display(self) -> str:
        return str(Status(self.to_status).label) if self.to_status in Status.values else self.to_status


class NumberCounter(models.Model):
    """The last case number of a year: allocated by an UPDATE ... SET last = last + 1 (row-locked)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("案件编号计数")
        verbose_name_plural = _("案件编号计数")

    def __str__(self) -> str:
        return f"{self.year}:{self.last}"


from cases.dedup_models import CaseTokens  # noqa: E402  (the duplicate finder's index, cases/dedup.py)

__all__ += ["CaseTokens"]
