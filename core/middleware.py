"""Request id, the current request for audit, security headers, and inputs no view can use (``BadInputMiddleware``)."""

from __future__ import annotations

import contextvars
import logging
import uuid

from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

__all__ = ["BadInputMiddleware", "BusyDatabaseMiddleware", "RequestIdMiddleware", "SecurityHeadersMiddleware",
           "current_request"]

log = logging.getLogger("renfang.db")

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


class BadInputMiddleware:
    """What no view can use is answered here, before any view or database sees it:

    * a NUL character in a parameter's name or value (query string or form body): 400 naming the parameter
      (PostgreSQL refuses NUL in text, so a filter or lookup with it would fail as a server error);
    * under /api/, a page no route matches (``/api/people/persons/1.5/``) is answered in JSON like every other
      API error, not with the site's HTML 404 page.
    """

    API_PREFIX = "/api/"

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        bad = self._nul_parameter(request)
        if bad is not None:
            message = _("参数 %(p)s 含有不允许的空字符（\\0）") % {"p": bad.replace("\x00", "\\0")[:40]}
            if request.path.startswith((self.API_PREFIX, "/open311/")):
                return JsonResponse({bad.replace("\x00", ""): [message]}, status=400)
            return HttpResponse(render_to_string("400.html", {"message": message}), status=400)
        response = self.get_response(request)
        if (response.status_code == 404 and request.path.startswith(self.API_PREFIX)
                and response.get("Content-Type", "").startswith("text/html")):
            return JsonResponse({"detail": _("记录不存在或不在您的管辖范围内")}, status=404)
        return response

    @staticmethod
    def _nul_parameter(request) -> str | None:
        sources = [request.GET]
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            sources.append(request.POST)
        for params in sources:
            for key, values in params.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    return key
        return None


BUSY_SIGNS = ("database is locked", "database table is locked", "lock timeout", "could not obtain lock")


class BusyDatabaseMiddleware:
    """A write that waited out the database's lock timeout (SQLite's ``timeout``: another writer, say the worker,
    held the one write lock longer; PostgreSQL's ``lock_timeout`` where it is set) is answered 503 with
    ``Retry-After`` and a plain message — the transaction was rolled back, nothing of it is saved — never with
    the server-error page. Everything else goes on to Django's handling."""

    RETRY_AFTER = 5

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError) or not any(s in str(exception).lower() for s in BUSY_SIGNS):
            return None
        log.warning("database busy on %s %s: %s", request.method, request.path, exception)
        message = _("系统正忙，本次操作没有保存，请稍等几秒后重试")
        if request.path.startswith(("/api/", "/open311/")) or request.headers.get("HX-Request"):
            response = JsonResponse({"detail": message}, status=503, json_dumps_params={"ensure_ascii": False})
        else:
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = str(self.RETRY_AFTER)
        return response
