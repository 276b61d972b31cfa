"""Volunteer service (志愿服务): the volunteers (registry persons, or an enterprise's employees), their teams bound to
a grid (the grid action branches of "1+1+N": one branch secretary, one grid worker, N volunteers), tasks and their
shifts with sign-ups, substitutes, check-in and check-out, the organiser's verification, and the ledger of hours
and points.

The ledger is double-entry and append-only: a ``Transfer`` is two or more ``Movement`` rows whose amounts sum to
zero in each unit (hours, points); a verified sign-up is one transfer (the community's issuing accounts give, the
volunteer's accounts receive); spending points is a transfer to a service's account; a correction is a new
transfer that reverses an earlier one (``reverses``, unique: never reversed twice). Triggers on both databases
refuse UPDATE and DELETE of transfers and movements (migration 0001, ``volunteers.guards``); the models refuse it
in Python too. Balances are sums of movements. Every write goes through ``volunteers.services``.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import ScopedModel, TimestampedModel
from core.sealed import SealedTextModel
from volunteers.choices import AccountKind, Role, SignupState, TaskKind, TeamKind, TransferKind, Unit

__all__ = ["Account", "AppendOnlyError", "Membership", "Movement", "Opinion", "Reward", "Shift", "Signup", "Task",
           "Team", "Transfer", "Volunteer"]

SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}
ZERO = Decimal("0")


def _token() -> str:
    return secrets.token_urlsafe(16)


class _Placed(models.Model):
    """Scoped by its grid (and that grid's community and street, copied on save)."""

    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("网格"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("社区"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("街道"))

    class Meta:
        abstract = True

    @property
    def audit_place(self) -> str:
        if self.grid_id:
            return f"grid:{self.grid_id}"
        return f"community:{self.community_id}" if self.community_id else ""

    def place_from_grid(self, grid) -> None:
        self.grid_id, self.community_id = grid.pk, grid.community_id
        self.street_id = grid.community.street_id


class Volunteer(_Placed, ScopedModel):
    """A registry person who volunteers (or an enterprise's employee: ``enterprise``), with skills and the days
    they are usually free. Placed where the person lives (or the enterprise is); ``user`` is the account they use
    on their phone."""

    scope_fields = SCOPE

    person = models.OneToOneField("people.Person", on_delete=models.PROTECT, related_name="volunteer",
                                  verbose_name=_("人员"))
    enterprise = models.ForeignKey("people.Enterprise", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=pgettext_lazy("volunteers", "所在企业"))
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="volunteer", verbose_name=pgettext_lazy("volunteers", "登录账号"))
    number = models.CharField(pgettext_lazy("volunteers", "志愿者编号"), max_length=16, unique=True)
    skills = models.JSONField(pgettext_lazy("volunteers", "特长"), default=list, blank=True)
    available_days = models.CharField(pgettext_lazy("volunteers", "通常有空"), max_length=7, blank=True,
                                      help_text=pgettext_lazy("volunteers", "1=周一 … 7=周日"))
    joined_on = models.DateField(pgettext_lazy("volunteers", "加入日期"))
    is_active = models.BooleanField(pgettext_lazy("volunteers", "在册"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "志愿者")
        verbose_name_plural = pgettext_lazy("volunteers", "志愿者")
        ordering = ["number"]
        permissions = [("export_volunteer", pgettext_lazy("volunteers", "导出志愿服务记录"))]

    def __str__(self) -> str:
        return f"{self.number} {self.person.name}"


class Team(_Placed, ScopedModel):
    """A team bound to a grid; a grid action branch (网格行动支部) has the "1+1+N" shape: one branch secretary, one
    grid worker and N volunteers (``services.team_shape`` checks it; the database refuses a second secretary or
    grid worker)."""

    scope_fields = SCOPE

    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=12, choices=TeamKind.choices, default=TeamKind.BRANCH)
    motto = models.CharField(pgettext_lazy("volunteers", "口号"), max_length=100, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "志愿队伍")
        verbose_name_plural = pgettext_lazy("volunteers", "志愿队伍")
        ordering = ["community_id", "grid_id", "name"]
        constraints = [models.UniqueConstraint(fields=["grid", "name"], name="volunteers_team_name_per_grid")]

    def __str__(self) -> str:
        return self.name


class Membership(TimestampedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("队伍"))
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="memberships",
                                  verbose_name=pgettext_lazy("volunteers", "志愿者"))
    role = models.CharField(pgettext_lazy("volunteers", "队内角色"), max_length=12, choices=Role.choices,
                            default=Role.MEMBER)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "队伍成员")
        verbose_name_plural = pgettext_lazy("volunteers", "队伍成员")
        ordering = ["team_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "volunteer"], name="volunteers_member_once"),
            # "1+1+N": one secretary and one grid worker per team, at most
            models.UniqueConstraint(fields=["team", "role"], condition=~Q(role="member"),
                                    name="volunteers_one_secretary_one_grid_worker"),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.get_role_display()}"


class Task(SealedTextModel, _Placed, ScopedModel):
    """A piece of volunteer work (staffing an activity, visiting the elderly living alone, collecting opinions,
    helping at a mediation) done in one or more shifts."""

    scope_fields = SCOPE
    sealed_fields = ("description",)

    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks",
                             verbose_name=_("队伍"))
    kind = models.CharField(_("类型"), max_length=16, choices=TaskKind.choices, default=TaskKind.OTHER)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    location = models.CharField(pgettext_lazy("volunteers", "服务地点"), max_length=100, blank=True)
    points_per_hour = models.PositiveIntegerField(pgettext_lazy("volunteers", "每小时积分"), default=10)
    mediation = models.ForeignKey("mediation.Mediation", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=pgettext_lazy("volunteers", "协助的调解"))
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=pgettext_lazy("volunteers", "组织者"))

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "志愿任务")
        verbose_name_plural = pgettext_lazy("volunteers", "志愿任务")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class Shift(_Placed, ScopedModel):
    """One time slot of a task with its capacity; ``taken`` counts the live sign-ups and moves only by a
    conditional UPDATE (a CHECK keeps it within capacity). ``series`` groups the shifts of a weekly repeat."""

    scope_fields = SCOPE

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("任务"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(pgettext_lazy("volunteers", "需要人数"), default=3)
    taken = models.PositiveIntegerField(pgettext_lazy("volunteers", "已报名"), default=0)
    series = models.CharField(pgettext_lazy("volunteers", "重复编号"), max_length=32, blank=True, db_index=True)
    session = models.ForeignKey("activities.Session", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=pgettext_lazy("volunteers", "保障的活动场次"))
    qr_token = models.CharField(pgettext_lazy("volunteers", "签到码"), max_length=32, unique=True, default=_token)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "班次")
        verbose_name_plural = pgettext_lazy("volunteers", "班次")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="volunteers_shift_ends_after"),
            models.CheckConstraint(condition=Q(taken__lte=F("capacity")), name="volunteers_shift_within_capacity"),
        ]
        indexes = [models.Index(fields=["starts_at"], name="volunteers_shift_start")]

    def __str__(self) -> str:
        from django.utils import timezone

        return f"{self.task.title} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def hours(self) -> Decimal:
        return Decimal((self.ends_at - self.starts_at).total_seconds() / 3600).quantize(Decimal("0.01"))


class Signup(_Placed, ScopedModel):
    """A volunteer's place on a shift: signed up, withdrawn or handed to a substitute (``substitute_for`` on the
    substitute's row); check-in and check-out (by the organiser's list or the volunteer's phone at the place's QR)
    give the hours, which count once the organiser verifies them (``transfer``: the ledger's entry; one per
    sign-up, so verifying twice never pays twice)."""

    scope_fields = SCOPE

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups", verbose_name=_("班次"))
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups",
                                  verbose_name=pgettext_lazy("volunteers", "志愿者"))
    state = models.CharField(_("状态"), max_length=12, choices=SignupState.choices, default=SignupState.SIGNED)
    substitute_for = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="substitute", verbose_name=pgettext_lazy("volunteers", "替班"))
    wants_substitute = models.BooleanField(pgettext_lazy("volunteers", "请人替班"), default=False)
    reminded_at = models.DateTimeField(pgettext_lazy("volunteers", "提醒时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(pgettext_lazy("volunteers", "签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(pgettext_lazy("volunteers", "签退时间"), null=True, blank=True)
    check_method = models.CharField(pgettext_lazy("volunteers", "签到方式"), max_length=8, blank=True)
    hours = models.DecimalField(pgettext_lazy("volunteers", "服务时长(小时)"), max_digits=6, decimal_places=2,
                                null=True, blank=True)
    verified_at = models.DateTimeField(pgettext_lazy("volunteers", "核定时间"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=pgettext_lazy("volunteers", "核定人"))
    verified_hours = models.DecimalField(pgettext_lazy("volunteers", "核定时长(小时)"), max_digits=6,
                                         decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "报名")
        verbose_name_plural = pgettext_lazy("volunteers", "报名")
        ordering = ["shift_id", "id"]
        permissions = [("verify_signup", pgettext_lazy("volunteers", "核定志愿服务时长"))]
        constraints = [
            models.UniqueConstraint(fields=["shift", "volunteer"], condition=Q(state="signed"),
                                    name="volunteers_signup_once_per_shift"),
            models.CheckConstraint(condition=Q(checked_out_at__isnull=True) | Q(checked_in_at__isnull=False),
                                   name="volunteers_signup_out_after_in"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.shift}"


class Reward(_Placed, ScopedModel):
    """A community service volunteers may spend points on (a cleaning appointment): a ``daily``-mode shared
    resource booked in the same transaction as the points transfer."""

    scope_fields = SCOPE

    name = models.CharField(_("名称"), max_length=64)
    resource = models.ForeignKey("resources.Resource", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=pgettext_lazy("volunteers", "预约的服务"))
    points = models.PositiveIntegerField(pgettext_lazy("volunteers", "所需积分"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "积分兑换服务")
        verbose_name_plural = pgettext_lazy("volunteers", "积分兑换服务")
        ordering = ["points", "id"]

    def __str__(self) -> str:
        return self.name


class Opinion(SealedTextModel, _Placed, ScopedModel):
    """An opinion a volunteer collected on a shift, or a dispute they helped with: it created a case, or joined an
    open case about the same matter (``joined``)."""

    scope_fields = SCOPE
    sealed_fields = ("text",)

    signup = models.ForeignKey(Signup, on_delete=models.PROTECT, related_name="opinions", verbose_name=_("报名"))
    text = models.TextField(pgettext_lazy("volunteers", "居民意见"))
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("案件"))
    joined = models.BooleanField(pgettext_lazy("volunteers", "并入已有案件"), default=False)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "收集的意见")
        verbose_name_plural = pgettext_lazy("volunteers", "收集的意见")
        ordering = ["-id"]


# --- the ledger -----------------------------------------------------------------------------------------------------
class AppendOnlyError(Exception):
    """A ledger row may only be added: a correction is a new reversing transfer."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.db_table} is append-only: UPDATE refused")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.db_table} is append-only: DELETE refused")


class AppendOnlyModel(models.Model):
    objects = models.Manager.from_queryset(AppendOnlyQuerySet)()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.db_table} is append-only: a saved row is never changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.db_table} is append-only: DELETE refused")


class Account(_Placed, ScopedModel):
    """One account of the ledger in one unit: a volunteer's (hours, points), a community's issuing account, a
    service's account where spent points go. Its balance is the sum of its movements."""

    scope_fields = SCOPE

    kind = models.CharField(_("类型"), max_length=12, choices=AccountKind.choices)
    unit = models.CharField(pgettext_lazy("volunteers", "单位"), max_length=8, choices=Unit.choices)
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="accounts", verbose_name=pgettext_lazy("volunteers", "志愿者"))
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=pgettext_lazy("volunteers", "兑换服务"))
    name = models.CharField(_("名称"), max_length=100)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "账户")
        verbose_name_plural = pgettext_lazy("volunteers", "账户")
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "unit"], condition=Q(kind="volunteer"),
                                    name="volunteers_account_per_volunteer_unit"),
            models.UniqueConstraint(fields=["community", "unit"], condition=Q(kind="issuer"),
                                    name="volunteers_issuer_per_community_unit"),
            models.UniqueConstraint(fields=["reward", "unit"], condition=Q(kind="service"),
                                    name="volunteers_account_per_reward"),
        ]

    def __str__(self) -> str:
        return self.name


class Transfer(AppendOnlyModel):
    """One entry of the ledger: two or more movements summing to zero in each unit. ``key`` makes it happen once
    (``earn:<signup>``, ``reverse:<transfer>``, ``spend:<booking>``); ``reverses`` names the transfer a correction
    undoes (once)."""

    kind = models.CharField(_("类型"), max_length=12, choices=TransferKind.choices)
    key = models.CharField(pgettext_lazy("volunteers", "幂等键"), max_length=64, unique=True)
    signup = models.ForeignKey(Signup, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers",
                               verbose_name=_("报名"))
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by", verbose_name=pgettext_lazy("volunteers", "冲正的记录"))
    booking = models.ForeignKey("resources.Booking", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=pgettext_lazy("volunteers", "兑换的预约"))
    memo = models.CharField(pgettext_lazy("volunteers", "摘要"), max_length=200, blank=True)
    occurred_on = models.DateField(pgettext_lazy("volunteers", "服务日期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=pgettext_lazy("volunteers", "经办人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "记账")
        verbose_name_plural = pgettext_lazy("volunteers", "记账")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Movement(AppendOnlyModel):
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="movements",
                                 verbose_name=pgettext_lazy("volunteers", "记账"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="movements",
                                verbose_name=pgettext_lazy("volunteers", "账户"))
    unit = models.CharField(pgettext_lazy("volunteers", "单位"), max_length=8, choices=Unit.choices)
    amount = models.DecimalField(pgettext_lazy("volunteers", "金额"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = pgettext_lazy("volunteers", "分录")
        verbose_name_plural = pgettext_lazy("volunteers", "分录")
        ordering = ["transfer_id", "id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="volunteers_movement_not_zero")]
        indexes = [models.Index(fields=["account", "transfer"], name="volunteers_movement_account")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+}"
