"""The installable, offline-capable workbench (issue 18): the web app manifest, the service worker, the list of
pages a round keeps on the phone, and the page shown offline for a page that was not kept.

The service worker is served from the site's root (``/sw.js``) so that its scope covers the workbench and the
case report it links to; it precaches the app shell (``SHELL``: static files served by this app, never a CDN)
and keeps today's list and its house pages in Cache Storage as the grid worker opens them. What the phone keeps
and for how long is described in docs/fieldwork.md ("The offline round") and promised in docs/security.md.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_GET

from core.views import PermissionView

__all__ = [
    "ROUND_LIMIT",
    "SHELL",
    "OfflinePageView",
    "RoundView",
    "manifest",
    "owner_of",
    "service_worker",
    "shell_urls",
]

# Static files of the app shell, precached when the service worker installs (the workbench's pages need them).
SHELL = [
    "css/renfang.css",
    "js/renfang.js",
    "vendor/htmx.min.js",
    "fieldwork/fieldwork.css",
    "fieldwork/fieldwork.js",
    "fieldwork/icons/icon-192.png",
    "fieldwork/icons/icon-512.png",
]
ROUND_LIMIT = 80  # homes of today's list kept on the phone (two pages of the list: a day's round is a few dozen)
THEME = "#1f6feb"


def shell_urls() -> list[str]:
    return [static(name) for name in SHELL]


def _version() -> str:
    """Changes whenever a file of the shell changes, so the phone drops the old shell (a new worker installs)."""
    digest = hashlib.sha256()
    for name in SHELL:
        path = finders.find(name)
        if path:
            with open(path, "rb") as fh:
                digest.update(fh.read())
        digest.update(static(name).encode())
    return digest.hexdigest()[:12]


@require_GET
def manifest(request):
    """The web app manifest: installable on Android Chrome (and iOS Safari, which reads the apple-touch icon)."""
    data = {
        "name": _("人房·网格员"),
        "short_name": _("网格走访"),
        "lang": request.LANGUAGE_CODE,
        "description": _("网格员走访工作台：今日走访、离线记录、联网后自动提交"),
        "start_url": reverse("fieldwork:today"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {"src": static(f"fieldwork/icons/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
            for n in (192, 512)
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def service_worker(request):
    """The service worker, at the root so that its scope is the whole site; revalidated on every update check."""
    config = {
        "version": _version(),
        "shell": shell_urls(),
        "offline": reverse("fieldwork:offline"),
        "today": reverse("fieldwork:today"),
        "house": reverse("fieldwork:house", args=[0]).replace("0/", ""),
    }
    body = render(request, "fieldwork/sw.js", {"config": json.dumps(config)}).content
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


def owner_of(request) -> dict:
    """Who the phone's data belongs to: the user and the start of this login (the 12-hour limit runs from it)."""
    from access.middleware import LOGIN_AT

    start = request.session.get(LOGIN_AT)
    return {
        "user": request.user.pk,
        "start": int(start * 1000) if start else None,
        "max_age": settings.SESSION_COOKIE_AGE * 1000,
    }


class RoundView(PermissionView):
    """The pages today's round keeps on the phone: the list's pages and the house pages of its first
    ``ROUND_LIMIT`` homes; a fresh CSRF token for the queued submissions; the owner of the data."""

    perm = "fieldwork.submit_visit"

    def get(self, request):
        from fieldwork.views import TODAY_PAGE
        from quality.services import worklist

        items = worklist(request.user, mine_or_unassigned=request.user, limit=ROUND_LIMIT)
        today = reverse("fieldwork:today")
        pages = max(1, -(-len(items) // TODAY_PAGE))
        return JsonResponse(
            {
                "owner": owner_of(request),
                "csrf": get_token(request),
                "pages": [today] + [f"{today}?page={n}" for n in range(2, pages + 1)],
                "houses": [reverse("fieldwork:house", args=[i.house_id]) for i in items],
            }
        )


class OfflinePageView(View):
    """Shown by the service worker for a page the phone did not keep. Open to anyone and fetched without cookies
    when precached: it holds no personal data and no user name."""

    def get(self, request):
        return render(request, "fieldwork/offline.html", {"title": _("此页面未保存在本机")})
