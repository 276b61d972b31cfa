"""Core models: roles and grants on places, the append-only audit, and base classes for domain models."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.querysets import RestrictedManager

__all__ = ["AuditEvent", "Grant", "IdempotencyKey", "Role", "ScopedModel", "TimestampedModel"]


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class ScopedModel(TimestampedModel):
    """A model read through ``.restrict(user, action)``; subclasses declare ``scope_fields``."""

    scope_fields: dict[str, str] = {}
    scope_ancestors_visible = False
    # Optimistic locking: every save through a service increments it; a stale save is refused.
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = RestrictedManager()

    class Meta:
        abstract = True


class Role(models.Model):
    LEVELS = [("street", _("街道")), ("community", _("社区")), ("grid", _("网格")), ("self", _("本人"))]

    code = models.SlugField(_("代码"), unique=True)
    name = models.CharField(_("名称"), max_length=64)
    description = models.TextField(_("说明"), blank=True)
    permissions = models.ManyToManyField("auth.Permission", blank=True, verbose_name=_("权限"))
    aggregate_only = models.BooleanField(_("仅看汇总"), default=False,
                                         help_text=_("只能看统计数字；小于5人的格子显示为“<5”"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A role given to a user on a place. Place ids are plain integers: core knows no domain app."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants",
                             verbose_name=_("用户"))
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants", verbose_name=_("角色"))
    level = models.CharField(_("层级"), max_length=16, choices=Role.LEVELS)
    street_id = models.IntegerField(_("街道"), null=True, blank=True)
    community_id = models.IntegerField(_("社区"), null=True, blank=True)
    grid_id = models.IntegerField(_("网格"), null=True, blank=True)
    starts_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("授权人"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.level}"


class AuditEvent(models.Model):
    """One line of the append-only audit. Never holds personal values, only which fields."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user_id = models.IntegerField(_("用户ID"), null=True, blank=True, db_index=True)
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    role = models.CharField(_("角色"), max_length=200, blank=True)
    action = models.CharField(_("动作"), max_length=32, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    fields = models.JSONField(_("字段"), default=list, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    result = models.CharField(_("结果"), max_length=16, default="ok")
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    request_id = models.CharField(_("请求ID"), max_length=64, blank=True)
    purpose = models.CharField(_("事由"), max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")


class IdempotencyKey(models.Model):
    """A client-generated key of a POST (``Idempotency-Key`` header) and the response it got.

    A retried POST with the same key from the same user gets the stored response and creates nothing new
    (core/api.py). Only successful responses are kept; they hold masked data only, never clear numbers.
    """

    user_id = models.IntegerField(_("用户ID"))
    key = models.CharField(_("幂等键"), max_length=128)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(_("请求摘要"), max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class ScheduledRun(models.Model):
    """When a periodic job (core/schedule.py) was last enqueued: the worker claims a run by a conditional update."""

    name = models.CharField(_("任务"), max_length=100, unique=True)
    last_run_at = models.DateTimeField(_("上次运行"), null=True, blank=True)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")

    def __str__(self) -> str:
        return self.name


class WorkerBeat(models.Model):
    """A background worker's heartbeat (core/workers.py): written every schedule tick while it lives, so that a
    worker killed in the middle of a job is noticed and its job marked failed instead of "running" for ever."""

    worker_id = models.CharField(_("后台进程"), max_length=100, unique=True)
    host = models.CharField(_("主机"), max_length=100, blank=True)
    started_at = models.DateTimeField(_("启动时间"))
    seen_at = models.DateTimeField(_("最近心跳"))

    class Meta:
        verbose_name = _("后台进程心跳")
        verbose_name_plural = _("后台进程心跳")

    def __str__(self) -> str:
        return self.worker_id
