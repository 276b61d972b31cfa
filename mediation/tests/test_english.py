"""Mediation and Open311 read in English: every msgid has a translation, and the pages show no Chinese of ours."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from conftest import verified_login
from mediation.tests.test_mediation import agreed

CJK = re.compile(r"[\u4e00-\u9fff]")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _language_restored():
    from django.utils import translation

    before = translation.get_language()
    yield
    translation.activate(before) if before else translation.deactivate()


@pytest.mark.parametrize("app", ["mediation", "open311"])
def test_every_message_of_the_app_has_an_english_translation(app):
    po = (ROOT / app / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', po, re.M)
    assert len(entries) > 40
    assert [m for m, s in entries if not s or CJK.search(s)] == []


def test_the_mediation_page_reads_in_english(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    m = agreed(world)
    c = Client()
    verified_login(c, world.users.officer_a)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = c.get(f"/mediation/{m.pk}/").content.decode()
    assert "Mediation sessions" in html and "Follow-up visits" in html and "Agreement reached" in html
    chrome = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    # what is left in Chinese is the record's own content (names, facts, terms), not the page's words
    for word in ("调解会", "当事人", "回访", "调解结果", "达成协议"):
        assert word not in chrome


def test_open311_errors_are_in_english_for_an_english_client(world):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = c.get("/open311/v2/services/nope.json")
    assert r.json()[0]["description"] == 'service_code "nope" does not exist'
