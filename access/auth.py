"""Login with lockout and a per-IP limit, and ending every session of a user on the server.

Policy (security.md, Authentication): five consecutive failures lock the account name for 30 minutes (the
right password does not open it meanwhile); an address with too many failures in the last hour is refused
for every account; every failure is audited as ``login_failed`` with its reason in ``result``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from access.models import LoginLock, UserSession
from core import audit, ratelimit
from core.models import AuditEvent

__all__ = ["LoginRefused", "attempt_login", "end_all_sessions", "remember_session"]


class LoginRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid", "locked", "ip_limited"


def _ip_blocked(ip: str | None, now: dt.datetime) -> bool:
    """core.ratelimit over the audited failures of the last hour from ``ip`` (the view words the refusal)."""
    if not ip:
        return False
    window = ratelimit.Window(settings.RENFANG_IP_FAILURES_PER_HOUR, dt.timedelta(hours=1))
    failures = AuditEvent.objects.filter(action="login_failed", ip=ip)
    return ratelimit.exceeded(failures, "at", window, now) is not None


def _fail(request, username: str, result: str) -> None:
    audit.record("login_failed", request=request, user=None, username=username, object_type="auth.user",
                 result=result)


def attempt_login(request, username: str, password: str):
    """The authenticated user, or ``LoginRefused`` (audited) — the caller then calls ``login``."""
    username = (username or "").strip()[:150]
    now = timezone.now()
    if _ip_blocked(audit.client_ip(request), now):
        _fail(request, username, "ip_limited")
        raise LoginRefused("ip_limited")
    lock = LoginLock.objects.filter(username=username).first()
    if lock is not None and lock.locked_until is not None and lock.locked_until > now:
        _fail(request, username, "locked")
        raise LoginRefused("locked")
    user = authenticate(request, username=username, password=password)
    if user is None:
        with transaction.atomic():
            lock, _ = LoginLock.objects.select_for_update().get_or_create(username=username)
            if lock.locked_until is not None and lock.locked_until <= now:
                lock.failures, lock.locked_until = 0, None  # the lock ran out: count again from zero
            lock.failures += 1
            lock.last_failure_at = now
            if lock.failures >= settings.RENFANG_LOCKOUT_FAILURES:
                lock.locked_until = now + dt.timedelta(seconds=settings.RENFANG_LOCKOUT_SECONDS)
            lock.save()
        _fail(request, username, "locked" if lock.locked_until else "invalid")
        raise LoginRefused("locked" if lock.locked_until else "invalid")
    LoginLock.objects.filter(username=username).delete()
    return user


def remember_session(request, user) -> None:
    """After ``login``: note the (new) session key so that logout can end it with all the others."""
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})


def end_all_sessions(user) -> int:
    """Delete every server-side session ``user`` logged in with. Returns how many there were."""
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)
