"""Text messages and one-time phone codes.

The sender is pluggable: ``settings.RENFANG_SMS_BACKEND`` names a class with ``send(phone, text)``.
``ConsoleBackend`` (the default) writes the message to the log; ``FileBackend`` appends it to
``RENFANG_SMS_FILE`` (default ``<RENFANG_VAR_DIR>/sms.log``) for tests and the demo. A real gateway is one more
class. Both built-in backends write the masked phone only, never the full number.

``send_code(phone, purpose, request=...)`` sends a 6-digit code and returns a challenge id; the database keeps the
phone sealed (``core.crypto``) and an HMAC of the code, never the code. A code lives 10 minutes and allows
5 attempts. Sending is rate-limited (``core.ratelimit``) per phone (1 a minute, 5 an hour) and per client address
(20 an hour): ``RateLimited`` carries the reason in Chinese. ``verify_code(challenge_id, code)`` is true once, for
the right code within its time and attempts.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import crypto, ratelimit
from core.audit import client_ip
from core.ratelimit import RateLimited, Window
from core.validators import mask_phone, validate_mobile
from notify.models import PhoneChallenge

__all__ = ["CODE_TTL", "MAX_ATTEMPTS", "ConsoleBackend", "FileBackend", "RateLimited", "challenge_phone",
           "get_backend", "normalise_phone", "send_code", "send_message", "verify_code"]

log = logging.getLogger("renfang.sms")

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
PHONE_PER_MINUTE = 1
PHONE_PER_HOUR = 5
IP_PER_HOUR = 20


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", mask_phone(phone), text)


class FileBackend:
    _lock = threading.Lock()

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path or getattr(settings, "RENFANG_SMS_FILE", "") or Path(settings.VAR_DIR) / "sms.log")

    def send(self, phone: str, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().isoformat(timespec="seconds")
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp}\t{mask_phone(phone)}\t{text}\n")


@lru_cache(maxsize=8)
def _backend_class(path: str):
    return import_string(path)


def get_backend():
    return _backend_class(getattr(settings, "RENFANG_SMS_BACKEND", "notify.sms.ConsoleBackend"))()


def normalise_phone(phone: str) -> str:
    """The 11-digit mainland mobile number, or ``ValidationError`` naming the field in Chinese."""
    return validate_mobile(phone).value


def send_message(phone: str, text: str) -> None:
    get_backend().send(normalise_phone(phone), text)


def _code_hash(public_id: str, code: str) -> str:
    key = f"renfang.notify.sms:{settings.SECRET_KEY}".encode()
    return hmac.new(key, f"{public_id}\x00{code}".encode(), hashlib.sha256).hexdigest()


PHONE_MINUTE = Window(PHONE_PER_MINUTE, timedelta(minutes=1),
                      gettext_lazy("验证码发送太频繁：同一手机号每分钟只能获取1次，请%(s)d秒后再试"))
PHONE_HOUR = Window(PHONE_PER_HOUR, timedelta(hours=1),
                    gettext_lazy("验证码发送次数过多：同一手机号每小时最多%(n)d次，请%(m)d分钟后再试"))
IP_HOUR = Window(IP_PER_HOUR, timedelta(hours=1),
                 gettext_lazy("本网络获取验证码次数过多（每小时最多%(n)d次），请稍后再试"))


def _check_limits(bidx: str, ip: str | None, now) -> None:
    """core.ratelimit over the challenges already sent: per phone (a minute, an hour), then per address."""
    ratelimit.check(PhoneChallenge.objects.filter(phone_bidx=bidx), "created_at", PHONE_MINUTE, PHONE_HOUR, now=now)
    if ip:
        ratelimit.check(PhoneChallenge.objects.filter(ip=ip), "created_at", IP_HOUR, now=now)


def send_code(phone: str, purpose: str, *, request=None) -> str:
    """Send a 6-digit code to ``phone`` and return the challenge id. Raises ``ValidationError`` for a number that
    is not a mainland mobile and ``RateLimited`` when the phone or the address asked too often."""
    clear = normalise_phone(phone)
    bidx = crypto.blind_index(clear, "phone")
    ip = client_ip(request) if request is not None else None
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    public_id = secrets.token_urlsafe(24)
    with transaction.atomic():
        ratelimit.serialise("notify.sms", bidx)  # two requests for one phone at once cannot both pass the limit
        _check_limits(bidx, ip, now)
        ch = PhoneChallenge(
            public_id=public_id, purpose=str(purpose)[:64], phone_bidx=bidx,
            phone_masked=mask_phone(clear), code_hash=_code_hash(public_id, code), ip=ip, created_at=now,
            expires_at=now + CODE_TTL)
        ch.phone_enc = ch.seal_field("phone_enc", clear)
        ch.save(force_insert=True)
    minutes = int(CODE_TTL.total_seconds() // 60)
    text = _("【人房】验证码 %(code)s，%(m)d分钟内有效。请勿告诉他人。") % {"code": code, "m": minutes}
    get_backend().send(clear, text)
    return public_id


def verify_code(challenge_id: str, code: str, *, phone: str | None = None, purpose: str | None = None) -> bool:
    """True once for the right code within 10 minutes and 5 attempts. With ``phone`` or ``purpose`` the challenge
    must also have been sent to that phone, for that purpose. Every wrong try counts, also after the limit."""
    code = "".join(ch for ch in str(code or "") if not ch.isspace())
    if not challenge_id or not code:
        return False
    ch = PhoneChallenge.objects.filter(public_id=str(challenge_id)).first()
    if ch is None:
        return False
    if purpose is not None and ch.purpose != str(purpose)[:64]:
        return False
    if phone is not None:
        try:
            if crypto.blind_index(normalise_phone(phone), "phone") != ch.phone_bidx:
                return False
        except ValidationError:
            return False
    now = timezone.now()
    if ch.verified_at is not None or ch.expires_at <= now:
        return False
    # Count the attempt first, conditionally, so that parallel guesses cannot exceed the limit.
    counted = PhoneChallenge.objects.filter(pk=ch.pk, attempts__lt=MAX_ATTEMPTS, verified_at__isnull=True).update(
        attempts=F("attempts") + 1)
    if not counted:
        return False
    if not hmac.compare_digest(_code_hash(ch.public_id, code), ch.code_hash):
        return False
    return bool(PhoneChallenge.objects.filter(pk=ch.pk, verified_at__isnull=True).update(verified_at=now))


def challenge_phone(challenge_id: str) -> str | None:
    """The clear phone of a verified challenge (for the service that acts on it), else None."""
    ch = PhoneChallenge.objects.filter(public_id=str(challenge_id), verified_at__isnull=False).first()
    return ch.open_field("phone_enc") if ch else None
