"""Open311 GeoReport v2: the API keys of client software and the tokens of submitted requests."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["APIKey", "RequestToken"]


class APIKey(models.Model):
    """A key given to one client application (a city app, a FixMyStreet install). Only its SHA-256 is stored;
    the key is shown once, when the system administrator creates it."""

    name = models.CharField(_("应用名称"), max_length=100)
    contact = models.CharField(_("对接联系人"), max_length=100, blank=True)
    prefix = models.CharField(_("密钥前缀"), max_length=8, db_index=True)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    requests_count = models.PositiveIntegerField(_("提交数"), default=0)

    class Meta:
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def generate(cls) -> str:
        return secrets.token_urlsafe(30)


class RequestToken(models.Model):
    """The token of a POSTed request (GeoReport's ``tokens/{token}``): it leads to the service_request_id. Also
    keeps what the client sent that is not a case field (media_url, device_id, account_id, attribute[...])."""

    token = models.CharField(_("令牌"), max_length=64, unique=True)
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="open311_token",
                                verbose_name=_("案件"))
    api_key = models.ForeignKey(APIKey, on_delete=models.PROTECT, related_name="tokens", verbose_name=_("密钥"))
    media_url = models.URLField(_("图片链接"), max_length=500, blank=True)
    device_id = models.CharField(_("设备标识"), max_length=100, blank=True)
    account_id = models.CharField(_("账户标识"), max_length=100, blank=True)
    attributes = models.JSONField(_("附加属性"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 令牌")
        verbose_name_plural = _("Open311 令牌")

    def __str__(self) -> str:
        return self.token
