"""API tokens (access.ApiToken): issue, revoke, and the DRF authentication that reads them.

A key is ``rf_<prefix>_<secret>``; only its SHA-256 is stored. ``issue`` needs the user's current second-factor
code (a TOTP device confirmed and a code of now); ``TokenAuthentication`` accepts ``Authorization: Token <key>``
or ``Bearer <key>`` while the token is live, and answers in Chinese why it is not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from access.models import ApiToken
from core import audit

__all__ = ["MAX_DAYS", "TokenAuthentication", "issue", "mint", "revoke"]

MAX_DAYS = 365
TOUCH_EVERY = dt.timedelta(minutes=5)  # last_used_at is written at most this often per token


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(user, *, name: str, days: int, otp_code: str, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token of ``user`` valid ``days`` days; the clear key is returned once and never stored."""
    from django_otp import match_token, user_has_device

    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = [_("请填写用途，例如“12345热线对接”")]
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        errors["days"] = [_("有效期应为1至%(n)d天") % {"n": MAX_DAYS}]
    if errors:
        raise ValidationError(errors)
    if not user_has_device(user, confirmed=True):
        raise PermissionDenied(_("签发API令牌前请先绑定动态验证码（第二步验证）"))
    if match_token(user, (otp_code or "").strip()) is None:
        raise ValidationError({"otp_code": [_("动态验证码不正确，请确认手机时间准确后重试")]})
    now = now or timezone.now()
    prefix = secrets.token_hex(4)
    key = f"rf_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name[:80], prefix=prefix, key_hash=_hash(key),
                                        expires_at=now + dt.timedelta(days=days))
        audit.record("token_issued", user=user, object_type="access.apitoken", object_id=str(token.pk),
                     changes={"name": token.name, "expires_at": token.expires_at.isoformat()})
    return token, key


def mint(user, *, name: str = "test", days: int = 30) -> str:
    """A live token without the second-factor step: for the tests and the benchmarks only (never a page)."""
    prefix = secrets.token_hex(4)
    key = f"rf_{prefix}_{secrets.token_urlsafe(32)}"
    ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=_hash(key),
                            expires_at=timezone.now() + dt.timedelta(days=days))
    return key


def revoke(user, token: ApiToken, *, now: dt.datetime | None = None) -> None:
    if token.user_id != user.pk:
        raise PermissionDenied(_("只能吊销自己的API令牌"))
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now or timezone.now())
        if changed:
            audit.record("token_revoked", user=user, object_type="access.apitoken", object_id=str(token.pk))


class TokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为：Token <令牌>"))
        key = header[1].decode(errors="replace")
        token = ApiToken.objects.select_related("user").filter(key_hash=_hash(key)).first()
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("API令牌无效"))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("API令牌已被吊销"))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("API令牌已过期，请重新签发"))
        if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'


try:
    from drf_spectacular.extensions import OpenApiAuthenticationExtension
except ImportError:  # pragma: no cover - the schema package is a dependency; keep the auth usable without it
    OpenApiAuthenticationExtension = None

if OpenApiAuthenticationExtension is not None:
    class TokenScheme(OpenApiAuthenticationExtension):
        """The schema names the token scheme (/api/docs/ shows how to authorise)."""

        target_class = "access.tokens.TokenAuthentication"
        name = "tokenAuth"

        def get_security_definition(self, auto_schema):
            return {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "Token rf_…（在“API令牌”页面签发，有到期日，可吊销）"}
