"""The production path: ``collectstatic`` with the production storage (hashed names, a manifest, compressed copies)
succeeds on the vendored front-end files, and pages render with DEBUG off from what it collected; the error pages
are the app's own, in Chinese, without Django's debug information."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.views.defaults import server_error

from conftest import verified_login

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.once  # static files and error pages with DEBUG off are the same on either database
PROD_ENV = {
    "RENFANG_PRODUCTION": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "RENFANG_ALLOWED_HOSTS": "renfang.example.gov.cn",
    "RENFANG_KEYS": json.dumps({"current": "k1", "keys": {"k1": "A" * 43 + "="}, "index_key": "B" * 43 + "="}),
}
MANIFEST = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """STATIC_ROOT after ``manage.py collectstatic`` as in production (a fresh interpreter, RENFANG_PRODUCTION=1)."""
    var = tmp_path_factory.mktemp("prodvar")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RENFANG_") and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PROD_ENV, RENFANG_VAR_DIR=str(var))
    run = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return var / "staticfiles"


@pytest.fixture
def production(settings, collected):
    """The production settings that matter for serving, pointed at the collected files."""
    settings.DEBUG = False
    settings.STATIC_ROOT = collected
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.ALLOWED_HOSTS = ["renfang.example.gov.cn", "testserver"]
    return settings


def test_collectstatic_writes_a_manifest_naming_every_vendored_file(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    for name in ("css/renfang.css", "js/renfang.js", "vendor/htmx.min.js", "vendor/echarts.min.js",
                 "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/swagger-ui/swagger-ui.css"):
        assert name in manifest, name
        assert (collected / manifest[name]).is_file()
    # Every source map a vendored file names was collected beside it (or its reference was removed).
    for path in (collected / "vendor").rglob("*"):
        if path.suffix in (".js", ".css") and path.name in manifest.values():
            ref = re.search(rb"sourceMappingURL=([^\s*'\"]+)", path.read_bytes())
            if ref and not ref.group(1).startswith(b"data:"):
                assert (path.parent / ref.group(1).decode()).is_file(), path


def _static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_the_login_page_renders_with_debug_off_and_its_hashed_static_files_are_served(production, db):
    client = Client()
    page = client.get(reverse("access:login"), secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r"/static/css/renfang\.[0-9a-f]{12}\.css", html)
    urls = _static_urls(html)
    assert urls
    for url in urls:
        served = client.get(url, secure=True)
        assert served.status_code == 200, url
        assert b"".join(served.streaming_content) if served.streaming else served.content


@pytest.mark.parametrize("name, who", [("home", "officer_a"), ("cases:queue", "officer_a"),
                                       ("places:house_list", "officer_a"), ("cockpit:home", "command"),
                                       ("circle:map", "officer_a")])
def test_logged_in_pages_render_with_debug_off_from_the_collected_files(production, world, name, who):
    client = Client()
    user = getattr(world.users, who)
    verified_login(client, user)
    page = client.get(reverse(name), secure=True, follow=True)  # the cockpit opens on the user's street
    assert page.status_code == 200, (name, page.status_code)
    assert all(re.search(r"\.[0-9a-f]{12}\.(css|js|png|svg)$", u) for u in _static_urls(page.content.decode()))


def test_a_404_with_debug_off_is_the_chinese_page_without_url_patterns(production, world):
    client = Client()
    client.force_login(world.users.officer_a)
    page = client.get("/no-such-page/", secure=True)
    assert page.status_code == 404
    html = page.content.decode()
    assert "页面不存在" in html and 'data-error="404"' in html and "返回首页" in html
    assert "URLconf" not in html and "urlpatterns" not in html and "places/" not in html.split("<main")[1]


def test_a_404_for_a_visitor_is_the_chinese_page_too(production, db):
    page = Client().get("/no-such-page/", secure=True)
    assert page.status_code == 404 and "页面不存在" in page.content.decode()


def test_a_403_with_debug_off_is_the_chinese_page_with_the_reason(production, world):
    client = Client()
    client.force_login(world.users.officer_a)
    page = client.get(reverse("cases:holidays"), secure=True)
    assert page.status_code == 403
    html = page.content.decode()
    assert "没有访问权限" in html and 'data-error="403"' in html and "您没有查看节假日表的权限" in html


def test_the_500_page_needs_no_database_and_no_static_files(production, rf, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        page = server_error(rf.get("/"))
    html = page.content.decode()
    assert page.status_code == 500 and "系统出错了" in html and "/static/" not in html


def test_the_error_pages_speak_english_in_english(production, world):
    client = Client()
    client.force_login(world.users.officer_a)
    client.cookies["django_language"] = "en"
    html = client.get("/no-such-page/", secure=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Page not found" in html and "页面不存在" not in html
