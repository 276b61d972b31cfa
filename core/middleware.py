"""Request id, the current request for audit, and security headers."""

from __future__ import annotations

import contextvars
import uuid

from django.conf import settings

__all__ = ["RequestIdMiddleware", "SecurityHeadersMiddleware", "current_request"]

_current_request: contextvars.ContextVar = contextvars.ContextVar("renfang_request", default=None)


def current_request():
    return _current_request.get()


class RequestIdMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming[:64] if incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response["X-Request-ID"] = request.id
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy everywhere; no-store on every page (personal data is never cached)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.RENFANG_CSP)
        if not request.path.startswith(settings.STATIC_URL):
            response.setdefault("Cache-Control", "no-store")
        return response
