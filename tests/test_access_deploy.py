"""Deployment settings: production hardening, security headers, and the system checks of access/checks.py."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.urls import reverse

from access import checks

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "RENFANG_PRODUCTION": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "RENFANG_ALLOWED_HOSTS": "renfang.example.gov.cn",
    "RENFANG_KEYS": json.dumps({"current": "k1", "keys": {"k1": "A" * 43 + "="}, "index_key": "B" * 43 + "="}),
}


def production_settings() -> dict:
    """Import renfang.settings in a fresh interpreter with the production environment."""
    code = ("import json, renfang.settings as s; print(json.dumps({k: getattr(s, k, None) for k in ["
            "'DEBUG', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SESSION_COOKIE_SECURE', "
            "'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', 'SECURE_CONTENT_TYPE_NOSNIFF', "
            "'X_FRAME_OPTIONS', 'RENFANG_CSP', 'PASSWORD_HASHERS', 'SESSION_COOKIE_AGE', 'INSTALLED_APPS']}))")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RENFANG_") and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PROD_ENV)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_settings_turn_on_hsts_secure_cookies_and_turn_off_debug():
    s = production_settings()
    assert s["DEBUG"] is False
    assert s["SECURE_HSTS_SECONDS"] >= 31536000 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["SESSION_COOKIE_HTTPONLY"]
    assert s["SECURE_SSL_REDIRECT"] and s["SECURE_CONTENT_TYPE_NOSNIFF"] and s["X_FRAME_OPTIONS"] == "DENY"
    assert s["PASSWORD_HASHERS"][0].endswith("Argon2PasswordHasher")
    assert s["SESSION_COOKIE_AGE"] == 12 * 3600
    assert "django.contrib.admin" not in s["INSTALLED_APPS"]


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENFANG_", "DJANGO_"))}
    env["RENFANG_PRODUCTION"] = "1"
    r = subprocess.run([sys.executable, "-c", "import renfang.settings"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "DJANGO_SECRET_KEY" in r.stderr


def test_check_deploy_passes_with_the_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RENFANG_") and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PROD_ENV, RENFANG_VAR_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_pages_carry_the_content_security_policy_and_no_store(client, db):
    r = client.get(reverse("access:login"))
    csp = r["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "http" not in csp.replace("'self'", "")  # no CDN or other host
    assert "no-store" in r["Cache-Control"]
    assert r["X-Content-Type-Options"] == "nosniff" and r["X-Frame-Options"] == "DENY"
    assert r["X-Request-ID"]


def test_the_session_cookie_is_httponly_and_samesite(world, client):
    r = client.post(reverse("access:login"), {"username": "worker_a1", "password": world.password})
    cookie = r.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_production_is_refused_while_demo_passwords_remain(settings, monkeypatch):
    import demo.accounts

    settings.PRODUCTION = True
    monkeypatch.setattr(demo.accounts, "demo_passwords_remain", lambda: True)
    errors = checks.demo_passwords_changed()
    assert [e.id for e in errors] == ["renfang.E001"]
    assert any(e.id == "renfang.E001" for e in run_checks(include_deployment_checks=True))
    monkeypatch.setattr(demo.accounts, "demo_passwords_remain", lambda: False)
    assert checks.demo_passwords_changed() == []
    settings.PRODUCTION = False
    monkeypatch.setattr(demo.accounts, "demo_passwords_remain", lambda: True)
    assert checks.demo_passwords_changed() == []


@pytest.mark.django_db
def test_the_demo_check_finds_real_demo_accounts_with_the_published_password(settings):
    from django.contrib.auth import get_user_model

    from demo.accounts import DEMO_PASSWORD

    settings.PRODUCTION = True
    user = get_user_model().objects.create_user(username="grid1", password=DEMO_PASSWORD)
    assert checks.demo_passwords_changed()
    user.set_password("Changed-Later-2027!")
    user.save()
    assert checks.demo_passwords_changed() == []


def test_the_security_middleware_check_names_what_is_missing(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "access.middleware.SecondFactorMiddleware"]
    assert [e.id for e in checks.security_middleware_present()] == ["renfang.E002"]


def test_installing_the_django_admin_site_is_an_error(monkeypatch):
    from django.apps import apps

    real = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name == "django.contrib.admin" or real(name))
    assert [e.id for e in checks.admin_site_absent()] == ["renfang.E003"]


@pytest.mark.django_db
def test_the_audit_triggers_are_checked_at_deployment():
    from django.db import connection, transaction

    from core import db_guards

    assert checks.audit_triggers_present() == []
    with transaction.atomic():
        db_guards.remove(connection)
        assert [e.id for e in checks.audit_triggers_present()] == ["renfang.E004"]
        db_guards.install(connection)
    assert checks.audit_triggers_present() == []
