"""Session policy: 30 minutes idle, 12 hours absolute (security.md)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

__all__ = ["SessionPolicyMiddleware"]


class SessionPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            started = request.session.get("renfang_login_at", now)
            last = request.session.get("renfang_seen_at", now)
            if now - last > settings.RENFANG_SESSION_IDLE_SECONDS or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
            else:
                request.session.setdefault("renfang_login_at", started)
                if now - last > 30:  # avoid a session write on every request
                    request.session["renfang_seen_at"] = now
                else:
                    request.session.setdefault("renfang_seen_at", now)
        return self.get_response(request)
