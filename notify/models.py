"""In-app notifications and the one-time codes sent to a phone.

A notification belongs to one user and is read only by that user (``Notification.objects.for_user``); it is not a
place-scoped model. A ``PhoneChallenge`` keeps the phone sealed like ``Person.phone`` (ciphertext, blind index,
masked copy) and only an HMAC of the code: the clear code exists only in the message sent.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.sealed import SealedRow


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    KINDS = [("info", _("消息")), ("task", _("任务")), ("review", _("待审核")), ("reminder", _("提醒")),
             ("warning", _("警示"))]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             verbose_name=_("用户"))
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    kind = models.CharField(_("类型"), max_length=20, default="info")
    dedupe_key = models.CharField(_("去重键"), max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notify_user_unread")]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], condition=Q(dedupe_key__isnull=False),
                                    name="notify_unique_dedupe_key"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class PhoneChallenge(SealedRow):
    """One code sent to one phone for one purpose; ``public_id`` is the challenge id handed to the caller."""

    public_id = models.CharField(max_length=40, unique=True)
    purpose = models.CharField(_("用途"), max_length=64)
    phone_enc = models.TextField(_("手机号(密文)"))
    phone_bidx = models.CharField(_("手机号索引"), max_length=32, db_index=True)
    phone_masked = models.CharField(_("手机号"), max_length=16)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["ip", "created_at"], name="notify_challenge_ip")]

    def __str__(self) -> str:
        return f"{self.phone_masked} {self.purpose}"
