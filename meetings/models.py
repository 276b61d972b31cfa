"""Joint meetings and enterprise services (联席会议与企业服务).

Organisations (enterprises of the registry, property companies, party and youth-league organisations, schools,
government offices) take part in a ``MeetingSeries`` (the compound grids × the tower's enterprises); each
``Meeting`` invites organisations and records who attended for each, an agenda any member may add to (pointing
to a case or an enterprise need), minutes and ``Resolution``s. A resolution becomes work owned by one
organisation (others assisting) with a deadline in working days, progress updates with evidence, the proposing
side's confirmation before it counts as done, escalation when overdue (the levels of cases), and, while open,
an agenda item of every next meeting of its series. ``Project``s (co-building projects of an ``OrgGroup``, the
regional party-building community) nest resolutions and roll their progress up, weighted.

Enterprise services: an instructor or grid worker assigned to each enterprise of the tower
(``InstructorAssignment``), ``EnterpriseVisit``s recording ``Need``s by category, tracked to resolution (or turned
into a case) with the enterprise's satisfaction; government services held in the tower (``GovService``).

Scope: every model carries (or reaches) the street, community and grid it belongs to (``scope_fields``); staff
read through ``restrict(user, action)``. An organisation's member (``OrgMember``: a user bound to their
organisation, like resources' BookerLink binds a resident to their person) holds no place grant: they read their
organisation's work through ``Resolution.objects.for_member(user)`` and its siblings on the member pages only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import ScopedModel, TimestampedModel
from core.querysets import RestrictedManager, RestrictedQuerySet
from core.sealed import SealedTextModel
from meetings.choices import (
    OPEN_STATES,
    GroupKind,
    MeetingState,
    NeedCategory,
    NeedState,
    OrgKind,
    ResolutionState,
    UpdateKind,
)

__all__ = ["AgendaItem", "EnterpriseVisit", "Evidence", "GovService", "InstructorAssignment", "Invitation",
           "Meeting", "MeetingSeries", "Minutes", "Need", "OrgGroup", "OrgMember", "Organisation", "ProgressUpdate",
           "Project", "Resolution"]

SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}


def _via(prefix: str) -> dict[str, str]:
    return {k: f"{prefix}__{v}" for k, v in SCOPE.items()}


class Placed(ScopedModel):
    """A row on a place: its street, community and (when it is a grid's) grid."""

    scope_fields = SCOPE
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("网格"))

    class Meta:
        abstract = True

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}" if self.grid_id else f"community:{self.community_id}"

    def place_from(self, other) -> None:
        self.street_id, self.community_id, self.grid_id = other.street_id, other.community_id, other.grid_id


class Organisation(Placed, SealedTextModel):
    sealed_fields = ("note",)

    kind = models.CharField(_("类型"), max_length=16, choices=OrgKind.choices)
    name = models.CharField(_("名称"), max_length=128)
    enterprise = models.OneToOneField("people.Enterprise", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="organisation", verbose_name=_("登记企业"))
    compound = models.ForeignKey("places.Compound", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("所在小区/楼宇"))
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone_enc = models.TextField(_("联系电话(密文)"), blank=True)
    contact_phone_bidx = models.CharField(_("联系电话索引"), max_length=32, blank=True, db_index=True)
    contact_phone_masked = models.CharField(_("联系电话"), max_length=16, blank=True)
    booker = models.ForeignKey("people.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("会议室预约人"), help_text=_("以召集单位名义预约会议室的登记人员"))
    note = models.TextField(_("备注"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["community", "kind"], name="mt_org_place_kind")]

    def __str__(self) -> str:
        return self.name

    def set_contact_phone(self, value: str) -> None:
        from core.validators import mask_phone
        from people.models import Person

        if not value:
            self.contact_phone_enc = self.contact_phone_bidx = self.contact_phone_masked = ""
            return
        self.contact_phone_enc = self.seal_field("contact_phone_enc", value)
        self.contact_phone_bidx = Person.phone_index(value)
        self.contact_phone_masked = mask_phone(value)


class OrgMember(TimestampedModel):
    """A user account bound to its organisation (an enterprise's contact, a party branch's secretary): they see
    their organisation's work and nothing else of this module."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_memberships",
                             verbose_name=_("用户"))
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="members",
                                     verbose_name=_("组织"))
    title = models.CharField(_("职务"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("组织成员")
        verbose_name_plural = _("组织成员")
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="mt_member_once")]

    def __str__(self) -> str:
        return f"{self.user_id}→{self.organisation_id}"


def member_org_ids(user) -> list[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(OrgMember.objects.filter(user=user, organisation__is_active=True)
                .values_list("organisation_id", flat=True))


class OrgGroup(Placed):
    """A grouping of organisations: the regional party-building community (区域党建共同体), a youth alliance."""

    kind = models.CharField(_("类型"), max_length=20, choices=GroupKind.choices, default=GroupKind.PARTY_COMMUNITY)
    name = models.CharField(_("名称"), max_length=128)
    description = models.TextField(_("说明"), blank=True)
    members = models.ManyToManyField(Organisation, blank=True, related_name="groups", verbose_name=_("成员单位"))

    class Meta:
        verbose_name = _("组织联盟")
        verbose_name_plural = _("组织联盟")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Project(Placed):
    """A co-building project (共建项目) of a group; its resolutions roll their progress up, weighted."""

    group = models.ForeignKey(OrgGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="projects",
                              verbose_name=_("所属联盟"))
    name = models.CharField(_("名称"), max_length=128)
    description = models.TextField(_("说明"), blank=True)
    lead = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("牵头单位"))
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("计划完成"), null=True, blank=True)

    class Meta:
        verbose_name = _("共建项目")
        verbose_name_plural = _("共建项目")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MeetingSeries(Placed):
    name = models.CharField(_("名称"), max_length=128)
    description = models.TextField(_("说明"), blank=True)
    convener = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("召集单位"))
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="series",
                                           verbose_name=_("成员单位"))
    deadline_days = models.PositiveSmallIntegerField(_("决议默认办理时限(工作日)"), default=10)

    class Meta:
        verbose_name = _("联席会议")
        verbose_name_plural = _("联席会议")
        ordering = ["name"]
        permissions = [("convene_meetingseries", _("召开联席会议"))]

    def __str__(self) -> str:
        return self.name


class Meeting(Placed):
    series = models.ForeignKey(MeetingSeries, on_delete=models.PROTECT, related_name="meetings",
                               verbose_name=_("联席会议"))
    number = models.PositiveIntegerField(_("届次"))
    title = models.CharField(_("议题概要"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    location = models.CharField(_("地点"), max_length=128, blank=True)
    room = models.ForeignKey("resources.Resource", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("会议室"))
    booking = models.ForeignKey("resources.Booking", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("会议室预约"))
    state = models.CharField(_("状态"), max_length=12, choices=MeetingState.choices, default=MeetingState.PLANNED)
    opened_at = models.DateTimeField(_("开会时间"), null=True, blank=True)
    held_at = models.DateTimeField(_("散会时间"), null=True, blank=True)
    carried = models.PositiveIntegerField(_("转入的未办结事项"), default=0)

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-starts_at"]
        permissions = [("propose_meeting", _("提出议题"))]
        constraints = [models.UniqueConstraint(fields=["series", "number"], name="mt_meeting_number")]
        indexes = [models.Index(fields=["series", "starts_at"], name="mt_meeting_series_start")]

    def __str__(self) -> str:
        from django.utils.translation import gettext

        return gettext("%(s)s 第%(n)d次") % {"s": self.series.name, "n": self.number}


class Invitation(models.Model):
    """An organisation invited to a meeting, and who attended for it."""

    scope_fields = _via("meeting")
    objects = RestrictedManager()

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations",
                                verbose_name=_("会议"))
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="invitations",
                                     verbose_name=_("组织"))
    attended = models.BooleanField(_("出席"), null=True, blank=True)
    attendees = models.CharField(_("出席人"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("参会单位")
        verbose_name_plural = _("参会单位")
        ordering = ["organisation__kind", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["meeting", "organisation"], name="mt_invite_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}·{self.organisation_id}"


class AgendaItem(SealedTextModel, TimestampedModel):
    scope_fields = _via("meeting")
    sealed_fields = ("description",)
    objects = RestrictedManager()

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda", verbose_name=_("会议"))
    order = models.PositiveIntegerField(_("序号"), default=0)
    title = models.CharField(_("议题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("提议人"))
    proposing_org = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", verbose_name=_("提议单位"))
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("关联案件"))
    need = models.ForeignKey("meetings.Need", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("关联企业诉求"))
    carried_from = models.ForeignKey("meetings.Resolution", on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="carried_items", verbose_name=_("上次会议未办结决议"))

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["meeting_id", "carried_from_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "carried_from"], name="mt_carried_once",
                                               condition=Q(carried_from__isnull=False))]

    def __str__(self) -> str:
        return self.title


class Minutes(SealedTextModel, TimestampedModel):
    scope_fields = _via("meeting")
    sealed_fields = ("text",)
    objects = RestrictedManager()

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes",
                                   verbose_name=_("会议"))
    text = models.TextField(_("会议纪要"), blank=True)
    recorder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("记录人"))

    class Meta:
        verbose_name = _("会议纪要")
        verbose_name_plural = _("会议纪要")

    def __str__(self) -> str:
        return str(self.meeting_id)


class ResolutionQuerySet(RestrictedQuerySet):
    def open(self):
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, now=None):
        return self.open().filter(deadline_at__lt=now or timezone.now())

    def for_member(self, user):
        """The resolutions of the user's organisations (owning or assisting): an organisation member's view."""
        ids = member_org_ids(user)
        if not ids:
            return self.none()
        return self.filter(Q(owner_id__in=ids) | Q(pk__in=Resolution.assisting.through.objects.filter(
            organisation_id__in=ids).values("resolution_id")))


class Resolution(Placed, SealedTextModel):
    sealed_fields = ("detail",)
    objects = models.Manager.from_queryset(ResolutionQuerySet)()

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="resolutions",
                                verbose_name=_("形成于会议"))
    series = models.ForeignKey(MeetingSeries, on_delete=models.PROTECT, related_name="resolutions",
                               verbose_name=_("联席会议"))
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("议题"))
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="resolutions", verbose_name=_("共建项目"))
    weight = models.PositiveSmallIntegerField(_("权重"), default=1, help_text=_("在共建项目进度中所占的分量"))
    number = models.CharField(_("编号"), max_length=32)
    title = models.CharField(_("决议事项"), max_length=200)
    detail = models.TextField(_("具体要求"), blank=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="owned_resolutions", verbose_name=_("责任单位"))
    assisting = models.ManyToManyField(Organisation, blank=True, related_name="assisted_resolutions",
                                       verbose_name=_("协办单位"))
    proposer = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="proposed_resolutions", verbose_name=_("提出方"),
                                 help_text=_("确认办结的一方"))
    deadline_days = models.PositiveSmallIntegerField(_("办理时限(工作日)"), default=10)
    assigned_at = models.DateTimeField(_("交办时间"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("办理期限"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=ResolutionState.choices,
                             default=ResolutionState.PROPOSED)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), default=0)
    submitted_at = models.DateTimeField(_("报请办结时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    review_on = models.DateField(_("回看日期"), null=True, blank=True, help_text=_("办结后回头看效果的日期"))

    class Meta:
        verbose_name = _("决议")
        verbose_name_plural = _("决议")
        ordering = ["deadline_at", "id"]
        permissions = [("confirm_resolution", _("确认决议办结")), ("export_resolution", _("导出决议"))]
        # The board reads one owner's (or one place's) rows in deadline order, 50 at a time: an index each, in that
        # order, so the first page is read off the index whatever the owner holds.
        indexes = [models.Index(fields=["owner", "deadline_at", "id"], name="mt_res_owner_deadline"),
                   models.Index(fields=["series", "state"], name="mt_res_series_state"),
                   models.Index(fields=["community", "deadline_at", "id"], name="mt_res_place_deadline"),
                   models.Index(fields=["grid", "deadline_at", "id"], name="mt_res_grid_deadline"),
                   models.Index(fields=["state", "deadline_at"], name="mt_res_state_deadline")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.deadline_at is not None and self.deadline_at < timezone.now()


class ProgressUpdate(SealedTextModel):
    """One step of a resolution's timeline: proposed, assigned, progress with evidence, submitted, confirmed or
    sent back, escalated, carried onto the next meeting."""

    scope_fields = _via("resolution")
    sealed_fields = ("note",)
    objects = RestrictedManager()

    resolution = models.ForeignKey(Resolution, on_delete=models.CASCADE, related_name="updates",
                                   verbose_name=_("决议"))
    kind = models.CharField(_("类型"), max_length=12, choices=UpdateKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("填报人"))
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("单位"))
    progress = models.PositiveSmallIntegerField(_("进度(%)"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    meeting = models.ForeignKey(Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("会议"))

    class Meta:
        verbose_name = _("决议进展")
        verbose_name_plural = _("决议进展")
        ordering = ["resolution_id", "at", "id"]
        indexes = [models.Index(fields=["resolution", "at"], name="mt_update_res_at")]

    def __str__(self) -> str:
        return f"{self.resolution_id} {self.kind}"


def evidence_path(instance, filename: str) -> str:
    return f"meetings/evidence/{timezone.now():%Y/%m}/{filename}"


class Evidence(models.Model):
    """A photo or document of a progress update (re-encoded without EXIF, PDFs parsed: core.uploads)."""

    scope_fields = _via("update__resolution")
    objects = RestrictedManager()

    update = models.ForeignKey(ProgressUpdate, on_delete=models.CASCADE, related_name="evidence",
                               verbose_name=_("进展"))
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=200)
    name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(_("类型"), max_length=32)
    size = models.PositiveIntegerField(_("大小"))

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class InstructorAssignment(Placed):
    """A party-building instructor (党建指导员) or grid worker serving one enterprise of the tower."""

    class Role(models.TextChoices):
        INSTRUCTOR = "instructor", _("党建指导员")
        GRID_WORKER = "grid_worker", _("网格员")

    enterprise = models.ForeignKey("people.Enterprise", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("企业"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("服务人员"))
    role = models.CharField(_("身份"), max_length=12, choices=Role.choices, default=Role.INSTRUCTOR)
    since = models.DateField(_("起始日期"), default=timezone.localdate)
    until = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("企业服务人员")
        verbose_name_plural = _("企业服务人员")
        ordering = ["enterprise_id", "role"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "role"], condition=Q(until__isnull=True),
                                               name="mt_one_current_per_role")]

    def __str__(self) -> str:
        return f"{self.enterprise_id}·{self.user_id}"


class EnterpriseVisit(Placed, SealedTextModel):
    sealed_fields = ("note",)

    enterprise = models.ForeignKey("people.Enterprise", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("企业"))
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("走访人"))
    visited_on = models.DateField(_("走访日期"))
    met = models.CharField(_("接待人"), max_length=64, blank=True)
    note = models.TextField(_("走访情况"), blank=True)

    class Meta:
        verbose_name = _("企业走访")
        verbose_name_plural = _("企业走访")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["enterprise", "visited_on"], name="mt_visit_ent_day")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.visited_on}"


class Need(Placed, SealedTextModel):
    """An enterprise's need (诉求), tracked to resolution like a case (or turned into one), its satisfaction
    asked."""

    sealed_fields = ("detail", "resolution_note")

    enterprise = models.ForeignKey("people.Enterprise", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("企业"))
    visit = models.ForeignKey(EnterpriseVisit, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="needs", verbose_name=_("走访"))
    compound = models.ForeignKey("places.Compound", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("所在楼宇"))
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    category = models.CharField(_("类别"), max_length=12, choices=NeedCategory.choices)
    title = models.CharField(_("诉求"), max_length=200)
    detail = models.TextField(_("详细情况"), blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=NeedState.choices, default=NeedState.OPEN)
    raised_on = models.DateField(_("提出日期"), default=timezone.localdate)
    deadline_at = models.DateTimeField(_("办理期限"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), default=0)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("承办人"))
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    resolution_note = models.TextField(_("办理结果"), blank=True)
    satisfaction = models.CharField(_("企业满意度"), max_length=16, blank=True,
                                    choices=[("satisfied", _("满意")), ("basic", _("基本满意")),
                                             ("dissatisfied", _("不满意"))])
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("转办案件"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("登记人"))

    class Meta:
        verbose_name = _("企业诉求")
        verbose_name_plural = _("企业诉求")
        ordering = ["-raised_on", "-id"]
        indexes = [models.Index(fields=["compound", "category", "state"], name="mt_need_tower_cat"),
                   models.Index(fields=["enterprise", "state"], name="mt_need_ent_state")]

    def __str__(self) -> str:
        return self.title

    @property
    def escalation_label(self) -> str:
        """网格督办 / 社区督办 / 街道督办, or "" (the levels of cases)."""
        from cases.models import Escalation

        return str(Escalation(self.escalation_level).label) if self.escalation_level else ""


class GovService(Placed):
    """A government service held in the tower (政务服务进楼宇): what, by which office, when, at which counter,
    whether an appointment is needed."""

    compound = models.ForeignKey("places.Compound", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("所在楼宇"))
    name = models.CharField(_("服务事项"), max_length=128)
    department = models.CharField(_("办理部门"), max_length=128)
    counter = models.CharField(_("窗口/地点"), max_length=64, blank=True)
    on_date = models.DateField(_("日期"), null=True, blank=True, help_text=_("单次活动的日期；每周固定的留空"))
    weekdays = models.CharField(_("每周"), max_length=7, blank=True, help_text=_("1=周一 … 7=周日"))
    starts = models.TimeField(_("开始"))
    ends = models.TimeField(_("结束"))
    needs_appointment = models.BooleanField(_("须预约"), default=False)
    appointment = models.ForeignKey("resources.Resource", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("预约入口"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("政务服务")
        verbose_name_plural = _("政务服务")
        ordering = ["on_date", "weekdays", "starts"]

    def __str__(self) -> str:
        return self.name

    def when(self) -> str:
        from django.utils.dates import WEEKDAYS
        from django.utils.translation import gettext

        if self.on_date:
            day = f"{self.on_date:%Y-%m-%d}"
        else:
            days = [str(WEEKDAYS[int(d) - 1]) for d in self.weekdays if d.isdigit() and 1 <= int(d) <= 7]
            day = gettext("每周%(d)s") % {"d": "、".join(days)}
        return f"{day} {self.starts:%H:%M}–{self.ends:%H:%M}"
