"""Login protection state: failures per account name, and the sessions each user holds.

``LoginLock`` counts consecutive failed logins for an account name (whether or not such a user exists, so
that the answer never tells who has an account); five in a row lock it for 30 minutes.
``UserSession`` lists the session keys a user logged in with, so that logout and a password change end
every one of them on the server, not only the browser's cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ApiToken", "LoginLock", "UserSession"]


class LoginLock(models.Model):
    username = models.CharField(_("用户名"), max_length=150, unique=True)
    failures = models.PositiveIntegerField(_("连续失败次数"), default=0)
    last_failure_at = models.DateTimeField(_("最近失败时间"), null=True, blank=True)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    class Meta:
        verbose_name = _("登录锁定")
        verbose_name_plural = _("登录锁定")

    def __str__(self) -> str:
        return self.username


class UserSession(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("用户"))
    session_key = models.CharField(_("会话"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("登录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")
        indexes = [models.Index(fields=["user"])]

    def __str__(self) -> str:
        return f"{self.user_id}"


class ApiToken(models.Model):
    """A key for the REST API, issued by its user from the tokens page after a second factor, for a limited time.

    Only a SHA-256 of the key is stored (the key is shown once); ``prefix`` lets the user tell their keys apart.
    A token acts as its user, within the user's grants; it stops at ``expires_at`` or when revoked.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("用户"))
    name = models.CharField(_("令牌用途"), max_length=80)
    prefix = models.CharField(_("前缀"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("有效期至"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def is_live(self, now=None) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and self.expires_at > (now or timezone.now())
