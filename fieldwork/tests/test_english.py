"""Fieldwork reads completely in English: the workbench, the visit result, the review queue, history, workload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from fieldwork import services
from fieldwork.tests.conftest import fresh, new_id

pytestmark = pytest.mark.django_db

PO = Path(__file__).resolve().parents[1] / "locale" / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


@pytest.fixture(autouse=True)
def _language_restored():
    from django.utils import translation

    before = translation.get_language()
    yield
    translation.activate(before or settings.LANGUAGE_CODE)


def english(user) -> Client:
    c = Client()
    c.force_login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def main_text(html: str) -> str:
    """The page's own content (inside <main>), as a reader sees it, without scripts."""
    html = html[html.index("<main"):html.index("</main>")]
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    shown = re.findall(r'\s(?:title|placeholder|alt|aria-label|data-msg-\w+)="([^"]*)"', html)
    return " ".join([re.sub(r"<[^>]+>", " ", html), *shown])


def data_words(world) -> set[str]:
    """Words typed in as data (names of places and people, addresses) stay as they were written."""
    from people.models import Person
    from places.models import Community, Compound, Grid, Street

    words = {"幢", "单元", "室", "林黛玉"}
    for model in (Street, Community, Grid, Compound, Person):
        words.update(model.objects.values_list("name", flat=True))
    return words


def assert_english(html: str, world) -> None:
    left = set(CJK.findall(main_text(html)))
    allowed = data_words(world)
    stray = {w for w in left if not any(w in a or a in w for a in allowed if a)}
    assert not stray, stray


def test_every_fieldwork_page_reads_in_english(fw):
    world = fw
    worker, officer = fresh(world.users.worker_a1), fresh(world.users.officer_a)
    house = world.houses["A1"][0]
    visit = services.submit_visit(worker, house, client_id=new_id(), items=[{"kind": "unchanged"}])
    cr = services.create_change_request(house=world.houses["A1"][3], kind="new_person", source="feedback",
                                        payload={"name": "林黛玉"}, contact="13912345678")
    w, o = english(world.users.worker_a1), english(world.users.officer_a)
    pages = [(w, "/fieldwork/today/"), (w, f"/fieldwork/houses/{house.pk}/"), (w, f"/fieldwork/visits/{visit.pk}/"),
             (o, "/fieldwork/review/"), (o, f"/fieldwork/changes/{cr.pk}/"), (o, "/fieldwork/workload/"),
             (o, f"/fieldwork/houses/{house.pk}/history/")]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_english(html, world)
    del officer


def test_the_english_catalogue_is_complete_and_compiled():
    text = PO.read_text(encoding="utf-8")
    entries = re.findall(r'\nmsgid "(.+)"\n(?:msgid_plural "[^"]*"\n)?msgstr(?:\[0\])? "(.*)"', text)
    assert len(entries) > 150
    assert not [m for m, tr in entries if not tr]
    assert PO.with_suffix(".mo").stat().st_mtime >= PO.stat().st_mtime - 1
