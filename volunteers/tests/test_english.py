"""The volunteers' pages in English: what remains in Chinese is data (names, places, the titles people typed)."""

import re

import pytest
from django.urls import reverse

from volunteers import services

from .conftest import at

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")


def _text(page: str, data) -> str:
    page = re.sub(r'<input type="hidden"[^>]*>', "", page)
    page = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", page)
    for word in sorted(data, key=len, reverse=True):
        text = text.replace(word, "")
    return text


def _around(text: str) -> str:
    i = CJK.search(text).start()
    return repr(text[max(0, i - 30):i + 30])


def test_every_volunteer_page_is_english(client, site, done, world):
    services.verify(site.worker, done)
    services.sign_up(site.v2, site.shift, now=at(site.day, 7))
    data = {"张三", "李四", "张小三", "王芳", "赵敏", "元和街道", "社区A", "A1网格", "A2网格", "A1花园", "中国",
            "简体中文", site.team.name, site.task.title, site.task.location, site.reward.name, "家政保洁", "A1花园1幢"}
    client.cookies["django_language"] = "en"
    client.force_login(site.officer)
    urls = [reverse("volunteers:list"), reverse("volunteers:volunteer", args=[site.v1.pk]),
            reverse("volunteers:teams"), reverse("volunteers:calendar") + f"?week={site.day.isoformat()}",
            reverse("volunteers:shift", args=[site.shift.pk]), reverse("volunteers:queue"),
            reverse("volunteers:honour")]
    for url in urls:
        raw = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        text = _text(raw, data)
        assert not CJK.search(text), (url, _around(text))
    client.force_login(world.users.resident)
    client.cookies["django_language"] = "en"
    for url in [reverse("volunteers:me"), reverse("volunteers:opinion", args=[done.pk])]:
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        page = re.sub(r"<option[^>]*>[^<]*</option>", "", page)  # case categories: the cases app's data
        text = _text(page, data)
        assert not CJK.search(text), (url, _around(text))
