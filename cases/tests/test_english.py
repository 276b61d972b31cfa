"""Cases read completely in English: the catalogue is complete and the pages carry no Chinese but the data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from cases.tests.test_views import cases, client_of  # noqa: F401 (a fixture)

PO = Path(__file__).resolve().parents[1] / "locale" / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


@pytest.fixture(autouse=True)
def _language_restored():
    from django.utils import translation

    before = translation.get_language()
    yield
    if before:
        translation.activate(before)
    else:
        translation.deactivate()


def test_every_message_of_the_catalogue_is_translated():
    text = PO.read_text(encoding="utf-8")
    entries = re.findall(r'\nmsgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', text)
    assert len(entries) > 200
    empty = [mid for mid, mstr in entries if mid.strip() != '""' and mstr.strip() == '""']
    assert empty == []
    assert "#, fuzzy" not in text


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return html


@pytest.mark.parametrize("name", ["cases:queue", "cases:report", "cases:map", "cases:figures", "detail"])
def test_the_pages_show_no_chinese_but_data_in_english(world, cw, cases, name):  # noqa: F811
    data = {"A1的案件", "B1的案件", "A1网格", "B1网格", "A1花园", "B1花园", "幢", "单元", "A1物业公司", "城管中队",
            "B1物业公司", "元和街道", "社区A", "社区B", "A2网格", "A2花园", "楼道灯不亮", "简体中文", "人房"}
    client = client_of(world.users.command)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("cases:detail", args=[cases["A1"].pk]) if name == "detail" else reverse(name)
    r = client.get(url)
    assert r.status_code == 200
    text = visible_text(r.content.decode())
    for word in sorted(data, key=len, reverse=True):
        text = text.replace(word, " ")
    leftover = CJK.findall(text)
    assert leftover == []
