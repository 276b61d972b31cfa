"""Anonymous input to the public pages: whatever a stranger sends in a query string or a form body — NUL characters,
numbers past 64 bits, dates in year 1 or 9999, emoji, very long text, the same key twice — the answer is a page or a
refusal, never a server error (issue 13: every input answered). Hypothesis draws the inputs, derandomised so that a
failure is the same failure on every run."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

# The public pages that need no object in their address, and the parameters they read (and some they do not).
GETS = {
    "cases:public_pick": ["q", "compound", "building"],
    "cases:public_track": ["number", "code", "phone"],
    "resources:phone": ["next"],
    "access:login": ["next"],
    "open311:services": ["jurisdiction_id", "lat", "long"],
    "open311:requests": ["start_date", "end_date", "status", "service_code", "service_request_id", "page",
                         "page_size", "lat", "long", "radius"],
}
POSTS = {
    "resources:phone": ["phone", "next", "challenge", "code", "step"],
    "resources:phone_choose": ["person", "next"],
    "access:login": ["username", "password", "next"],
    "cases:public_code": ["phone", "purpose"],
}
OPEN311 = {"open311:services": {"fmt": "json"}, "open311:requests": {"fmt": "json"}}

NASTY = st.sampled_from([
    "", " ", "\x00", "abc\x00def", "1e19", "99999999999999999999", "-1", "0", "4.13e16", "NaN", "inf",
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-02-30", "13800138000", "+86 138-0013-8000",
    "110101199003074514", "😀" * 20, "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd",
    "https://evil.example/", "//evil.example", "%00", "x" * 5000, "step", "confirm", "张三",
])
VALUE = st.one_of(NASTY, st.text(max_size=40), st.integers(min_value=-(2**70), max_value=2**70).map(str))


def _client(name: str, method: str) -> tuple[Client, str]:
    kwargs = OPEN311.get(name, {})
    return Client(enforce_csrf_checks=False), reverse(name, kwargs=kwargs)


@settings(max_examples=120, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                     HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(GETS)), data=st.data())
def test_no_anonymous_query_string_makes_a_public_page_fail(world, settings, tmp_path, name, data):
    settings.RENFANG_SMS_BACKEND = "notify.sms.FileBackend"
    settings.RENFANG_SMS_FILE = str(tmp_path / "sms.log")
    keys = data.draw(st.lists(st.sampled_from([*GETS[name], "page", "zzz"]), max_size=4))
    query = [(k, data.draw(VALUE)) for k in keys]
    client, url = _client(name, "get")
    response = client.get(url, query)
    assert response.status_code < 500, (name, query, response.status_code)


@settings(max_examples=120, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                     HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(POSTS)), data=st.data())
def test_no_anonymous_form_body_makes_a_public_page_fail(world, settings, tmp_path, name, data):
    settings.RENFANG_SMS_BACKEND = "notify.sms.FileBackend"
    settings.RENFANG_SMS_FILE = str(tmp_path / "sms.log")
    keys = data.draw(st.lists(st.sampled_from([*POSTS[name], "zzz"]), max_size=5))
    body: dict[str, list[str]] = {}
    for k in keys:
        body.setdefault(k, []).append(data.draw(VALUE))
    client, url = _client(name, "post")
    response = client.post(url, body)
    assert response.status_code < 500, (name, body, response.status_code)
