"""Community activities (社区活动): a one-off event or a series of sessions, organised by a community or a partner
organisation, for an audience defined by rules over the registry; the sign-ups (a family placed together or not
at all), the waiting list whose offer holds a place for N hours, an allocation run for oversubscribed classes, and
attendance per session.

Never more than capacity: ``Activity.taken`` counts the places held by confirmed and offered sign-ups; it moves
only by a conditional UPDATE (``taken + n <= capacity``) inside the sign-up's transaction, and a CHECK constraint
refuses any row with ``taken > capacity`` on both databases. A family is one ``SignUp`` with one ``Participant``
per person, so its places are taken in one step or not at all. Every write goes through ``activities.services``.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from activities.choices import AllocationRule, Attendance, Mode, Organiser, SignUpState, Status
from core.models import ScopedModel, TimestampedModel
from core.sealed import SealedTextModel

__all__ = ["Activity", "ActivityPhoto", "Participant", "Session", "SessionAttendance", "SignUp"]

SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}
VIA_ACTIVITY = {"street": "activity__street_id", "community": "activity__community_id",
                "grid": "activity__grid_id"}


def _token() -> str:
    return secrets.token_urlsafe(16)


class Activity(SealedTextModel, ScopedModel):
    """An activity held in a grid of the organising community (its scope); open to the audience its rules say."""

    scope_fields = SCOPE
    sealed_fields = ("description", "summary")

    title = models.CharField(pgettext_lazy("activities", "活动名称"), max_length=100)
    organiser_kind = models.CharField(pgettext_lazy("activities", "主办方类型"), max_length=12,
                                      choices=Organiser.choices, default=Organiser.COMMUNITY)
    partner_name = models.CharField(pgettext_lazy("activities", "合作单位"), max_length=100, blank=True)
    contact = models.CharField(pgettext_lazy("activities", "联系人"), max_length=64, blank=True)
    host_person = models.ForeignKey("people.Person", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=pgettext_lazy("activities", "场地预约负责人"),
                                    help_text=pgettext_lazy("activities", "以其名义通过共享资源预约活动场地"))
    description = models.TextField(pgettext_lazy("activities", "活动介绍"), blank=True)
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+",
                             verbose_name=pgettext_lazy("activities", "举办网格"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=pgettext_lazy("activities", "主办社区"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("街道"))
    # the audience: every rule given must hold for each participant on the first session's day
    audience_communities = models.ManyToManyField("places.Community", blank=True, related_name="+",
                                                  verbose_name=pgettext_lazy("activities", "限以下社区现住居民"))
    min_age = models.PositiveSmallIntegerField(pgettext_lazy("activities", "最小年龄"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(pgettext_lazy("activities", "最大年龄"), null=True, blank=True)
    audience_tags = models.ManyToManyField("people.Tag", blank=True, related_name="+",
                                           verbose_name=pgettext_lazy("activities", "限以下重点人群（任一）"))
    capacity = models.PositiveIntegerField(pgettext_lazy("activities", "名额"), default=20)
    taken = models.IntegerField(pgettext_lazy("activities", "已占名额"), default=0)
    max_family = models.PositiveSmallIntegerField(pgettext_lazy("activities", "每户最多报名人数"), default=4)
    signup_opens = models.DateTimeField(pgettext_lazy("activities", "报名开始"), null=True, blank=True)
    signup_closes = models.DateTimeField(pgettext_lazy("activities", "报名截止"), null=True, blank=True)
    mode = models.CharField(pgettext_lazy("activities", "名额方式"), max_length=12, choices=Mode.choices,
                            default=Mode.FIRST_COME)
    allocation_rule = models.CharField(pgettext_lazy("activities", "分配规则"), max_length=12,
                                       choices=AllocationRule.choices, default=AllocationRule.LOTTERY)
    hold_hours = models.PositiveSmallIntegerField(pgettext_lazy("activities", "候补名额保留(小时)"), default=24)
    certificate_min = models.PositiveSmallIntegerField(
        pgettext_lazy("activities", "颁发证书的最少出席场次"), default=0, help_text=pgettext_lazy(
            "activities", "0 表示不颁发证书"))
    status = models.CharField(pgettext_lazy("activities", "状态"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    # the allocation run: published seed, when, and the digest of the ordered list anyone can recompute
    draw_seed = models.CharField(pgettext_lazy("activities", "随机种子"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(pgettext_lazy("activities", "分配时间"), null=True, blank=True)
    draw_digest = models.CharField(pgettext_lazy("activities", "结果摘要"), max_length=64, blank=True)
    summary = models.TextField(pgettext_lazy("activities", "活动简报正文"), blank=True)
    # feriennet's rule: the families of the people who run the activity come first (None: on for allocation)
    organiser_children_first = models.BooleanField(
        pgettext_lazy("activities", "组织者子女优先"), null=True, blank=True, help_text=pgettext_lazy(
            "activities", "组织者（本活动场次的志愿者、场地预约负责人、组织志愿任务的工作人员）"
                          "同户的未成年子女在分配和候补中优先；未设置时，报名后统一分配的活动默认开启"))
    draw_organiser_first = models.BooleanField(pgettext_lazy("activities", "分配时组织者子女优先"), default=False)

    class Meta:
        verbose_name = pgettext_lazy("activities", "社区活动")
        verbose_name_plural = pgettext_lazy("activities", "社区活动")
        ordering = ["-id"]
        permissions = [("checkin_activity", pgettext_lazy("activities", "活动签到")),
                       ("export_activity", pgettext_lazy("activities", "导出报名名单")),
                       ("allocate_activity", pgettext_lazy("activities", "组织名额分配"))]
        constraints = [models.CheckConstraint(condition=Q(taken__gte=0) & Q(taken__lte=F("capacity")),
                                              name="activity_taken_within_capacity")]
        indexes = [models.Index(fields=["status", "signup_closes"], name="activity_status_closes")]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"

    def fill_ancestors(self) -> None:
        g = self.grid
        self.community_id, self.street_id = g.community_id, g.street_id

    def save(self, *args, **kwargs) -> None:
        if self.grid_id:
            self.fill_ancestors()
        super().save(*args, **kwargs)

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def children_first(self) -> bool:
        """Whether organisers' children come first: the option, or by default on for allocation-based classes."""
        if self.organiser_children_first is None:
            return self.mode == Mode.ALLOCATION
        return self.organiser_children_first

    @property
    def organiser_label(self) -> str:
        return self.partner_name if self.organiser_kind == Organiser.PARTNER and self.partner_name else \
            str(self.community)


class Session(ScopedModel):
    """One date of an activity (a one-off has one): its time, place and attendance; the room, when booked through
    the shared resources, is the ``booking`` (never twice: resources' exclusion constraint)."""

    scope_fields = VIA_ACTIVITY

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="sessions",
                                 verbose_name=pgettext_lazy("activities", "活动"))
    number = models.PositiveSmallIntegerField(pgettext_lazy("activities", "场次"), default=1)
    starts_at = models.DateTimeField(pgettext_lazy("activities", "开始时间"))
    ends_at = models.DateTimeField(pgettext_lazy("activities", "结束时间"))
    place = models.CharField(pgettext_lazy("activities", "活动地点"), max_length=100, blank=True)
    resource = models.ForeignKey("resources.Resource", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=pgettext_lazy("activities", "预约的场地"))
    booking = models.ForeignKey("resources.Booking", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=pgettext_lazy("activities", "场地预约"))
    topic = models.CharField(pgettext_lazy("activities", "本场内容"), max_length=100, blank=True)
    checkin_token = models.CharField(pgettext_lazy("activities", "现场签到码"), max_length=32, unique=True,
                                     default=_token)
    closed_at = models.DateTimeField(pgettext_lazy("activities", "点名结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("activities", "活动场次")
        verbose_name_plural = pgettext_lazy("activities", "活动场次")
        ordering = ["activity_id", "starts_at", "number"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after"),
                       models.UniqueConstraint(fields=["activity", "number"], name="session_number_once")]

    def __str__(self) -> str:
        return f"{self.activity} #{self.number}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.activity.grid_id}"


class SignUp(ScopedModel):
    """One sign-up of a family (or one person): ``size`` places taken together or not at all. The applicant is
    the registry person who signed up (a parent for their children); the participants are who attends.

    Scoped by the activity's place; the applicant's own account reads it too (level "self")."""

    scope_fields = {**SCOPE, "self": "user_id"}

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="signups",
                                 verbose_name=pgettext_lazy("activities", "活动"))
    applicant = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=pgettext_lazy("activities", "报名人"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("账号"))
    house = models.ForeignKey("places.House", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=pgettext_lazy("activities", "户"))
    size = models.PositiveSmallIntegerField(pgettext_lazy("activities", "人数"), default=1)
    state = models.CharField(pgettext_lazy("activities", "状态"), max_length=10, choices=SignUpState.choices)
    priority = models.PositiveSmallIntegerField(pgettext_lazy("activities", "优先级"), default=0,
                                                help_text=pgettext_lazy("activities", "越大越优先"))
    priority_reason = models.CharField(pgettext_lazy("activities", "优先原因"), max_length=100, blank=True)
    organiser_family = models.BooleanField(pgettext_lazy("activities", "组织者子女"), default=False)
    ticket = models.CharField(pgettext_lazy("activities", "签号"), max_length=64, blank=True)
    rank = models.PositiveIntegerField(pgettext_lazy("activities", "顺位"), null=True, blank=True)
    won = models.BooleanField(pgettext_lazy("activities", "分配到名额"), null=True, blank=True)
    hold_until = models.DateTimeField(pgettext_lazy("activities", "保留至"), null=True, blank=True)
    channel = models.CharField(pgettext_lazy("activities", "渠道"), max_length=12, default="web")
    ended_at = models.DateTimeField(pgettext_lazy("activities", "取消时间"), null=True, blank=True)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=pgettext_lazy("activities", "主办社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+",
                             verbose_name=pgettext_lazy("activities", "举办网格"))

    class Meta:
        verbose_name = pgettext_lazy("activities", "活动报名")
        verbose_name_plural = pgettext_lazy("activities", "活动报名")
        ordering = ["activity_id", "-priority", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(size__gte=1), name="signup_size_positive")]
        indexes = [models.Index(fields=["activity", "state"], name="signup_activity_state"),
                   models.Index(fields=["state", "hold_until"], name="signup_state_hold")]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.pk}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"


class Participant(ScopedModel):
    """One person of a sign-up; ``live`` while the sign-up is active, so a person is signed up to an activity
    once. ``qr_token`` is the code shown at the door."""

    scope_fields = {"street": "signup__street_id", "community": "signup__community_id", "grid": "signup__grid_id",
                    "self": "signup__user_id"}

    signup = models.ForeignKey(SignUp, on_delete=models.CASCADE, related_name="participants",
                               verbose_name=pgettext_lazy("activities", "报名"))
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+",
                                 verbose_name=pgettext_lazy("activities", "活动"))
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+",
                               verbose_name=pgettext_lazy("activities", "参加人"))
    live = models.BooleanField(default=True)
    qr_token = models.CharField(pgettext_lazy("activities", "签到二维码"), max_length=32, unique=True, default=_token)

    class Meta:
        verbose_name = pgettext_lazy("activities", "参加人")
        verbose_name_plural = pgettext_lazy("activities", "参加人")
        ordering = ["signup_id", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "person"], condition=Q(live=True),
                                               name="participant_once_per_activity")]

    def __str__(self) -> str:
        return f"{self.signup_id}:{self.person_id}"


class SessionAttendance(TimestampedModel):
    """Whether a participant came to one session: checked in (QR or the organiser's list), absent (a no-show,
    recorded when the session's roll is closed) or excused."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance",
                                verbose_name=pgettext_lazy("activities", "场次"))
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="attendance",
                                    verbose_name=pgettext_lazy("activities", "参加人"))
    state = models.CharField(pgettext_lazy("activities", "出席"), max_length=8, choices=Attendance.choices)
    at = models.DateTimeField(pgettext_lazy("activities", "时间"))
    method = models.CharField(pgettext_lazy("activities", "方式"), max_length=8, default="list")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")

    class Meta:
        verbose_name = pgettext_lazy("activities", "出席记录")
        verbose_name_plural = pgettext_lazy("activities", "出席记录")
        constraints = [models.UniqueConstraint(fields=["session", "participant"], name="attendance_once")]


def photo_path(instance, filename: str) -> str:
    return f"activities/{instance.activity_id}/{secrets.token_hex(8)}.{filename.rsplit('.', 1)[-1][:5]}"


class ActivityPhoto(TimestampedModel):
    """A photo of the activity for its brief (re-encoded without EXIF by core.uploads)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos",
                                 verbose_name=pgettext_lazy("activities", "活动"))
    image = models.FileField(pgettext_lazy("activities", "照片"), upload_to=photo_path, max_length=200)
    caption = models.CharField(pgettext_lazy("activities", "说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("activities", "活动照片")
        verbose_name_plural = pgettext_lazy("activities", "活动照片")
        ordering = ["id"]
