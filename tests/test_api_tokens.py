"""API tokens from a page: issued only after a second-factor code, for a limited time, shown once, stored as a hash,
listed and revocable by their owner; an expired or revoked token is refused with the reason in Chinese."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from access.models import ApiToken
from conftest import verified_login
from core.models import AuditEvent
from people.models import Person

pytestmark = pytest.mark.django_db
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def _page_client(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


def _api(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_a_grid_worker_issues_a_token_with_a_code_uses_it_within_their_scope_and_revokes_it(world):
    user = world.users.worker_a1
    with time_machine.travel(MONDAY, tick=False):
        device = _device(user)
        c = _page_client(user)
        assert c.get("/access/tokens/").status_code == 200
        resp = c.post("/access/tokens/", {"name": "网格小程序", "days": "30", "otp_code": _code(device)})
        key = re.search(r'data-testid="new-token">([^<]+)<', resp.content.decode()).group(1)
        token = ApiToken.objects.get(user=user)
        assert token.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in str(token.__dict__)
        assert token.expires_at == MONDAY + dt.timedelta(days=30)
        assert AuditEvent.objects.filter(action="token_issued", object_id=str(token.pk)).exists()
        listed = _api(key).get("/api/people/persons/")
        assert listed.status_code == 200
        ids = {p["id"] for p in listed.json()["results"]}
        in_scope = set(Person.objects.restrict(user, "view").values_list("id", flat=True))
        assert ids and ids <= in_scope, "the token acts within its user's grants"
        assert not ids & set(Person.objects.filter(grid_id=world.grids["B1"].pk).values_list("id", flat=True))
        again = c.get("/access/tokens/").content.decode()
        assert key not in again and f"rf_{token.prefix}…" in again, "shown once, listed by its prefix"
        assert c.post(f"/access/tokens/{token.pk}/revoke/").status_code == 302
        refused = _api(key).get("/api/people/persons/")
        assert refused.status_code == 401 and "吊销" in refused.json()["detail"]


def test_no_token_without_a_correct_code_and_none_beyond_a_year(world):
    user = world.users.officer_a
    c = _page_client(user)
    resp = c.post("/access/tokens/", {"name": "对接", "days": "30", "otp_code": "123456"})
    assert resp.status_code == 400 and "动态验证码" in resp.content.decode()  # no device enrolled yet
    device = _device(user)
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"
    assert c.post("/access/tokens/", {"name": "对接", "days": "30", "otp_code": wrong}).status_code == 400
    resp = c.post("/access/tokens/", {"name": "对接", "days": "400", "otp_code": _code(device)})
    assert resp.status_code == 400 and "1至365天" in resp.content.decode()
    resp = c.post("/access/tokens/", {"name": "", "days": "", "otp_code": ""})  # the form sent empty
    assert resp.status_code == 400
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused_and_another_users_token_cannot_be_revoked(world):
    user, other = world.users.worker_a1, world.users.worker_b1
    with time_machine.travel(MONDAY, tick=False):
        device = _device(user)
        c = _page_client(user)
        c.post("/access/tokens/", {"name": "短期", "days": "1", "otp_code": _code(device)})
        token = ApiToken.objects.get(user=user)
        assert _page_client(other).post(f"/access/tokens/{token.pk}/revoke/").status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None
    from access.tokens import mint

    key = mint(user, days=1)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)):
        refused = _api(key).get("/api/people/persons/")
        assert refused.status_code == 401 and "过期" in refused.json()["detail"]
    assert _api("rf_nope_nope").get("/api/people/persons/").status_code == 401
