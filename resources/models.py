"""Shared resources (潮汐停车与共享空间): parking pools and spaces, rooms and their zones, canteen sittings, service
appointments, shuttle trips and check-in points such as the shared fridge; who may book them and when; the bookings.

The tree: a ``Resource`` has a parent (a garage holds its spaces, the living room its zones). Every resource belongs
to a compound (a residential compound or the office tower) and an owner organisation; its street, community and grid
are copied from the compound for scoping. Booking rules (opening hours, raster, length, horizon, buffers, approval,
check-in grace, cancellation) live on the resource; tidal ``Window``s give one space a different population by time
of day; an ``EligibilityRule`` is a rule over the registry evaluated at booking time.

Never twice: an exclusive booking writes one ``Claim`` per resource it blocks (itself, its zones, the whole room it
is part of). On PostgreSQL an exclusion constraint over ``tstzrange(starts_at, ends_at)`` per resource refuses two
overlapping live claims (migration 0002); on SQLite each claim also writes one ``Slot`` row per 15 minutes under a
unique key (resource, start), so the same refusal comes from the database there too. Seats and daily places are
``Offer`` rows whose ``taken`` can never pass ``capacity`` nor go below zero (a CHECK constraint, and a conditional
UPDATE). Every write goes through ``resources.services``.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import ScopedModel, TimestampedModel
from resources.choices import BookingState, Kind, Mode, Period, Subject, WaitState

__all__ = ["Application", "ApproverGroup", "Blackout", "Booking", "BookerLink", "CheckIn", "Claim", "Draw",
           "EligibilityRule", "Employment", "Offer", "Quota", "Resource", "Series", "Slot", "Strike", "Vehicle",
           "WaitEntry", "Window", "SLOT_MINUTES"]

SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}
SLOT_MINUTES = 15  # the SQLite guard's step; every raster is a multiple of it


def _token() -> str:
    return secrets.token_urlsafe(16)


class EligibilityRule(models.Model):
    """Who may book: all the conditions given must hold for the booker at booking time.

    * ``residents_of``: a current resident of one of these compounds, and/or
    * ``employees_in``: an employee of an enterprise located in one of these compounds (either one suffices when
      both are given);
    * ``needs_vehicle``: the booker's household (or enterprise) has a registered vehicle;
    * ``min_age`` / ``max_age``: an age group.
    """

    name = models.CharField(_("名称"), max_length=100)
    residents_of = models.ManyToManyField("places.Compound", blank=True, related_name="+",
                                          verbose_name=_("限以下小区现住居民"))
    employees_in = models.ManyToManyField("places.Compound", blank=True, related_name="+",
                                          verbose_name=_("限以下楼宇企业员工"))
    needs_vehicle = models.BooleanField(_("须有登记车辆"), default=False)
    min_age = models.PositiveSmallIntegerField(_("最小年龄"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("最大年龄"), null=True, blank=True)

    class Meta:
        verbose_name = _("预约资格")
        verbose_name_plural = _("预约资格")

    def __str__(self) -> str:
        return self.name


class ApproverGroup(ScopedModel):
    """A named set of staff accounts who decide the pending bookings of the resources that name the group; scoped
    to a community (or, without one, to the street) like everything else. Any one member decides."""

    scope_fields = {"street": "street_id", "community": "community_id"}

    name = models.CharField(_("审批组名称"), max_length=60)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("社区"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="resource_approver_groups",
                                     verbose_name=_("审批组成员"))

    class Meta:
        verbose_name = _("审批组")
        verbose_name_plural = _("审批组")
        ordering = ["street_id", "community_id", "name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"community:{self.community_id}" if self.community_id else f"street:{self.street_id}"


class Resource(ScopedModel):
    scope_fields = SCOPE

    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    mode = models.CharField(_("预约方式"), max_length=12, choices=Mode.choices, default=Mode.EXCLUSIVE)
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("编号"), max_length=32, blank=True)
    owner_name = models.CharField(_("管理单位"), max_length=100, blank=True)
    owner_enterprise = models.ForeignKey("people.Enterprise", on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+", verbose_name=_("所属企业"))
    compound = models.ForeignKey("places.Compound", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("所在小区/楼宇"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    location = models.CharField(_("位置说明"), max_length=100, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    description = models.TextField(_("说明"), blank=True)
    capacity = models.PositiveIntegerField(_("容量"), default=1, help_text=_("每场次座位数或每日名额"))
    # Opening hours: closes_at <= opens_at means the resource is open over midnight (19:00–08:00).
    opens_at = models.TimeField(_("开放时间"), default=dt.time(8, 0))
    closes_at = models.TimeField(_("关闭时间"), default=dt.time(22, 0))
    weekdays = models.CharField(_("开放星期"), max_length=7, default="1234567", help_text=_("1=周一 … 7=周日"))
    closed_on_holidays = models.BooleanField(_("法定节假日关闭"), default=False)
    workdays_only = models.BooleanField(_("仅工作日（含调休上班日）"), default=False)
    start_times = models.JSONField(_("场次/班次时间"), default=list, blank=True,
                                   help_text=_("按场次预约时每天的开始时间，如 [\"11:30\", \"12:15\"]"))
    sitting_minutes = models.PositiveIntegerField(_("每场时长(分钟)"), default=30)
    raster_minutes = models.PositiveIntegerField(_("预约粒度(分钟)"), default=30)
    min_minutes = models.PositiveIntegerField(_("最短(分钟)"), default=30)
    max_minutes = models.PositiveIntegerField(_("最长(分钟)"), default=240)
    horizon_days = models.PositiveIntegerField(_("可提前预约天数"), default=14)
    buffer_minutes = models.PositiveIntegerField(_("间隔(分钟)"), default=0, help_text=_("两次预约之间留出的整理时间"))
    needs_approval = models.BooleanField(_("须审批"), default=False)
    approver_group = models.ForeignKey(ApproverGroup, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="resources", verbose_name=_("审批组"),
                                       help_text=_("须审批时由该组成员审批；不填则由有审批权限的工作人员审批"))
    requires_checkin = models.BooleanField(_("须签到"), default=True)
    grace_minutes = models.PositiveIntegerField(_("签到宽限(分钟)"), default=15)
    cancel_minutes = models.PositiveIntegerField(_("最晚取消(开始前分钟)"), default=60)
    strike_limit = models.PositiveIntegerField(_("爽约次数上限"), default=3)
    strike_days = models.PositiveIntegerField(_("爽约统计天数"), default=30)
    hold_hours = models.PositiveIntegerField(_("候补保留(小时)"), default=2)
    rule = models.ForeignKey(EligibilityRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("预约资格"))
    qr_token = models.CharField(_("签到码"), max_length=32, unique=True, default=_token)
    ical_token = models.CharField(_("日历订阅码"), max_length=32, unique=True, default=_token)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("共享资源")
        verbose_name_plural = _("共享资源")
        ordering = ["compound_id", "parent_id", "code", "id"]
        permissions = [("approve_resource", _("审批预约")), ("checkin_resource", _("现场签到（车牌）")),
                       ("export_resource", _("导出使用记录")), ("draw_resource", _("组织摇号"))]
        indexes = [models.Index(fields=["parent", "kind"], name="resource_parent_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"

    def fill_ancestors(self) -> None:
        c = self.compound
        self.grid_id, self.community_id, self.street_id = c.grid_id, c.community_id, c.street_id

    def save(self, *args, **kwargs) -> None:
        if self.compound_id:
            self.fill_ancestors()
        super().save(*args, **kwargs)

    @property
    def overnight(self) -> bool:
        return self.closes_at <= self.opens_at


class Window(models.Model):
    """A tidal window: during these hours the resource (and everything under it) serves the rule's population."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="windows", verbose_name=_("资源"))
    label = models.CharField(_("名称"), max_length=64)
    starts = models.TimeField(_("开始"))
    ends = models.TimeField(_("结束"), help_text=_("早于开始表示跨夜"))
    weekdays = models.CharField(_("星期"), max_length=7, default="1234567")
    rule = models.ForeignKey(EligibilityRule, on_delete=models.PROTECT, related_name="windows",
                             verbose_name=_("预约资格"))

    class Meta:
        verbose_name = _("潮汐时段")
        verbose_name_plural = _("潮汐时段")
        ordering = ["resource_id", "starts"]

    def __str__(self) -> str:
        return f"{self.label} {self.starts:%H:%M}–{self.ends:%H:%M}"

    @property
    def overnight(self) -> bool:
        return self.ends <= self.starts


class Blackout(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="blackouts", verbose_name=_("资源"))
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    reason = models.CharField(_("原因"), max_length=100)

    class Meta:
        verbose_name = _("停用时段")
        verbose_name_plural = _("停用时段")
        ordering = ["starts_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="blackout_ends_after")]

    def __str__(self) -> str:
        return self.reason


class Employment(models.Model):
    """Who works for which enterprise (the registry's enterprises and their employees), over time."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("人员"))
    enterprise = models.ForeignKey("people.Enterprise", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("企业"))
    since = models.DateField(_("入职日期"), null=True, blank=True)
    until = models.DateField(_("离职日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("企业员工")
        verbose_name_plural = _("企业员工")
        indexes = [models.Index(fields=["person", "until"], name="employment_person_until")]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.enterprise_id}"


class Vehicle(ScopedModel):
    """A registered vehicle of a household (a house) or of an enterprise — exactly one of the two."""

    scope_fields = SCOPE

    plate = models.CharField(_("车牌号"), max_length=8, unique=True)
    new_energy = models.BooleanField(_("新能源"), default=False)
    house = models.ForeignKey("places.House", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              verbose_name=_("所属户"))
    enterprise = models.ForeignKey("people.Enterprise", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", verbose_name=_("所属企业"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))

    class Meta:
        verbose_name = _("登记车辆")
        verbose_name_plural = _("登记车辆")
        ordering = ["plate"]
        constraints = [models.CheckConstraint(
            condition=(Q(house__isnull=False, enterprise__isnull=True) | Q(house__isnull=True,
                                                                           enterprise__isnull=False)),
            name="vehicle_one_owner", violation_error_message=_("车辆须属于一户或一家企业"))]

    def __str__(self) -> str:
        return self.plate


class BookerLink(models.Model):
    """The registry person a user account books as (a resident's or employee's own account)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="booker",
                                verbose_name=_("用户"))
    person = models.OneToOneField("people.Person", on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("人员"))
    ical_token = models.CharField(_("日历订阅码"), max_length=32, unique=True, default=_token)

    class Meta:
        verbose_name = _("预约账号")
        verbose_name_plural = _("预约账号")

    def __str__(self) -> str:
        return f"{self.user_id}→{self.person_id}"


class Offer(models.Model):
    """Counted capacity: one sitting, trip or provider's day with ``capacity`` places, ``taken`` of them booked."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="offers", verbose_name=_("资源"))
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    capacity = models.PositiveIntegerField(_("名额"))
    taken = models.IntegerField(_("已约"), default=0)

    class Meta:
        verbose_name = _("场次")
        verbose_name_plural = _("场次")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "starts_at"], name="offer_one_per_start"),
            models.CheckConstraint(condition=Q(taken__gte=0) & Q(taken__lte=F("capacity")),
                                   name="offer_taken_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def left(self) -> int:
        return self.capacity - self.taken


class Series(TimestampedModel):
    """A recurring booking request and the dates that failed, with why."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+", verbose_name=_("资源"))
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("人员"))
    first_date = models.DateField(_("开始日期"))
    last_date = models.DateField(_("结束日期"))
    failed = models.JSONField(_("未约成的日期"), default=list, blank=True)

    class Meta:
        verbose_name = _("周期预约")
        verbose_name_plural = _("周期预约")


class Booking(ScopedModel):
    """A booking of a resource by a registry person. Scoped by the resource's place; the booker reads their own
    (level "self": ``user_id``)."""

    scope_fields = {**SCOPE, "self": "user_id"}

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("资源"))
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings",
                              verbose_name=_("场次"))
    series = models.ForeignKey(Series, on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings",
                               verbose_name=_("周期预约"))
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("预约人"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("账号"))
    # Who the booking counts for (quotas, the boards): the booker's household, enterprise and compound then.
    house = models.ForeignKey("places.House", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("户"))
    enterprise = models.ForeignKey("people.Enterprise", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("企业"))
    home_compound = models.ForeignKey("places.Compound", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", verbose_name=_("预约人所在小区/楼宇"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("车辆"))
    starts_at = models.DateTimeField(_("开始"), db_index=True)
    ends_at = models.DateTimeField(_("结束"))
    seats = models.PositiveSmallIntegerField(_("人数"), default=1)
    state = models.CharField(_("状态"), max_length=12, choices=BookingState.choices, default=BookingState.CONFIRMED)
    hold_until = models.DateTimeField(_("保留至"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("取消/释放时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    channel = models.CharField(_("渠道"), max_length=12, default="web")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    compound = models.ForeignKey("places.Compound", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("资源所在小区/楼宇"))

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["-starts_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="booking_ends_after")]
        indexes = [models.Index(fields=["resource", "starts_at"], name="booking_resource_start"),
                   models.Index(fields=["state", "starts_at"], name="booking_state_start"),
                   models.Index(fields=["person", "starts_at"], name="booking_person_start")]

    def __str__(self) -> str:
        return f"{self.resource} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"

    @property
    def is_active(self) -> bool:
        return self.state in (BookingState.PENDING, BookingState.HELD, BookingState.CONFIRMED,
                              BookingState.CHECKED_IN)


class Claim(models.Model):
    """One resource a live exclusive booking blocks over [starts_at, ends_at) (buffer included). PostgreSQL refuses
    two overlapping live claims on one resource (exclusion constraint, migration 0002)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="claims")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="claims")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("占用")
        verbose_name_plural = _("占用")
        indexes = [models.Index(fields=["resource", "starts_at"], name="claim_resource_start")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="claim_ends_after")]


class Slot(models.Model):
    """SQLite's guard: one row per resource and 15 minutes a live claim covers, under a unique key."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="slots")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "at"], name="slot_once")]


class Quota(models.Model):
    """At most ``limit`` bookings of the resource (and everything under it) per subject per period."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="quotas", verbose_name=_("资源"))
    subject = models.CharField(_("对象"), max_length=12, choices=Subject.choices)
    period = models.CharField(_("周期"), max_length=8, choices=Period.choices)
    limit = models.PositiveIntegerField(_("上限"))

    class Meta:
        verbose_name = _("配额")
        verbose_name_plural = _("配额")

    def __str__(self) -> str:
        return f"{self.get_subject_display()}{self.get_period_display()}{self.limit}"


class Strike(models.Model):
    """A no-show: enough of them within the resource's window stop the person booking it."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("人员"))
    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="strike", verbose_name=_("预约"))
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+", verbose_name=_("资源"))
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("爽约记录")
        verbose_name_plural = _("爽约记录")
        indexes = [models.Index(fields=["person", "at"], name="strike_person_at")]


class WaitEntry(TimestampedModel):
    """A place on the waiting list for one slot; a freed place is offered (held as a booking) for N hours."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="waiting", verbose_name=_("资源"))
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("人员"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    state = models.CharField(_("状态"), max_length=10, choices=WaitState.choices, default=WaitState.WAITING)
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("候补")
        verbose_name_plural = _("候补")
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["resource", "starts_at", "person"],
                                               condition=Q(state__in=["waiting", "offered"]),
                                               name="wait_once_per_slot")]


class Draw(TimestampedModel):
    """A seeded lottery for an oversubscribed release: ``places`` bookings of a pool's slot (repeated each day up
    to ``last_date``). The order is sha256(seed:application id), losers of the previous draw of the same pool
    first; anyone can recompute it from the published seed and list (``resources.lottery.order``)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="draws", verbose_name=_("资源"))
    title = models.CharField(_("名称"), max_length=100)
    starts_at = models.DateTimeField(_("首次开始"))
    ends_at = models.DateTimeField(_("首次结束"))
    last_date = models.DateField(_("末次日期"), null=True, blank=True)
    places = models.PositiveIntegerField(_("名额"))
    seed = models.CharField(_("随机种子"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("摇号时间"), null=True, blank=True)
    digest = models.CharField(_("结果摘要"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("摇号")
        verbose_name_plural = _("摇号")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class Application(models.Model):
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="applications", verbose_name=_("摇号"))
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("人员"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    priority = models.BooleanField(_("优先（上次未中）"), default=False)
    ticket = models.CharField(_("签号"), max_length=64, blank=True)
    rank = models.PositiveIntegerField(_("顺位"), null=True, blank=True)
    won = models.BooleanField(_("中签"), null=True, blank=True)
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    failed = models.JSONField(_("未约成的日期"), default=list, blank=True)

    class Meta:
        verbose_name = _("摇号申请")
        verbose_name_plural = _("摇号申请")
        ordering = ["rank", "id"]
        constraints = [models.UniqueConstraint(fields=["draw", "person"], name="application_once")]


class CheckIn(models.Model):
    """Someone was there: a booking checked in (QR, plate at the gate, staff), or a visit of a check-in point."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="checkins", verbose_name=_("资源"))
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="checkins")
    person = models.ForeignKey("people.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("时间"), db_index=True)
    method = models.CharField(_("方式"), max_length=8, default="qr")
    plate = models.CharField(_("车牌号"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("签到")
        verbose_name_plural = _("签到")
        ordering = ["-at"]
