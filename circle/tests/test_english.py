"""The service circle reads completely in English: every page, the map data, the category names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from circle import services
from circle.models import CandidateSite, Category, Facility, Network
from circle.seed import CATEGORIES, GROUPS
from circle.tests.conftest import at, write_street_network
from circle.tests.test_views import client_for, facilities  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

PO = Path(__file__).resolve().parents[1] / "locale" / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LANGUAGE_NAMES = {"简体中文"}  # the language switch names each language in itself


@pytest.fixture(autouse=True)
def _language_restored():
    """An English request leaves English active in this thread; the next test must start in Chinese again."""
    from django.utils import translation

    before = translation.get_language()
    yield
    if before:
        translation.activate(before)
    else:
        translation.deactivate()


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def data_names() -> set[str]:
    """Names that come from the data (places, facilities, sites, networks) and stay as they were typed in."""
    from places.models import Community, Compound, Grid, Street

    names = set(LANGUAGE_NAMES)
    for model in (Street, Community, Grid, Compound, Facility, CandidateSite, Network):
        names.update(n for n in model.objects.values_list("name", flat=True) if n)
    for field in ("address", "operator", "opening_hours", "note"):
        names.update(n for n in Facility.objects.values_list(field, flat=True) if n)
    names.update(n for n in CandidateSite.objects.values_list("note", flat=True) if n)
    return names


def visible_text(html: str) -> str:
    """What a reader sees: text between tags plus the attributes shown on screen (title, placeholder, alt, aria)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    shown = re.findall(r'\s(?:title|placeholder|alt|aria-label|data-label-\w+)="([^"]*)"', html)
    return re.sub(r"<[^>]+>", " ", html) + " " + " ".join(shown)


def chinese_left(text: str, names: set[str]) -> list[str]:
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return [text[max(0, m.start() - 40):m.start() + 40] for m in CJK.finditer(text)][:5]


@pytest.fixture
def english_world(circle_world, facilities, tmp_path, django_capture_on_commit_callbacks):  # noqa: F811
    """Facilities, a registered candidate site and an imported walking network, so every table has rows."""
    w = circle_world
    lat, lng = at(600, 20)
    services.add_candidate_site(w.users.officer_a, "A2空地", w.grids["A2"], lat, lng, note="旧仓库")
    osm = tmp_path / "street.osm"
    write_street_network(osm)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_network(osm, name="元和街道步行网")
    return w


def test_every_circle_message_has_an_english_translation_and_the_catalogue_is_compiled():
    text = PO.read_text(encoding="utf-8")
    entries = [e for e in text.split("\n\n")[1:] if "msgid" in e]
    assert len(entries) > 150
    untranslated = [e for e in entries if re.search(r'^msgstr ""$(?!\n")', e, re.M)]
    assert not untranslated, untranslated[:3]
    assert "#, fuzzy" not in text
    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime - 5


def test_every_seeded_category_has_an_english_name():
    assert all(row[2] and not CJK.search(row[2]) for row in GROUPS + CATEGORIES)
    seeded = {row[0] for row in GROUPS + CATEGORIES}
    assert not Category.objects.filter(code__in=seeded, name_en="").exists()


def test_a_category_shows_its_english_name_only_when_english_is_active(circle_world, facilities):  # noqa: F811
    w = circle_world
    chinese = client_for(w.users.officer_a).get(reverse("circle:matrix")).content.decode()
    assert "社区食堂" in chinese and "Community canteen" not in chinese
    page = english(client_for(w.users.officer_a)).get(reverse("circle:matrix")).content.decode()
    assert '<html lang="en">' in page
    assert "Community canteen" in page and "Kindergarten / nursery" in page and "社区食堂" not in page


def test_english_circle_pages_keep_only_names_from_the_data_in_chinese(english_world):
    w = english_world
    officer = english(client_for(w.users.officer_a))
    admin = english(client_for(w.users.sysadmin))
    canteen = Category.objects.get(code="canteen")
    facility = Facility.objects.filter(grid=w.grids["A1"]).first()
    pages = [
        (officer, reverse("circle:matrix")),
        (officer, reverse("circle:matrix") + "?speed=1.4"),
        (officer, reverse("circle:coverage") + "?level=grid"),
        (officer, reverse("circle:coverage") + "?level=street"),
        (officer, reverse("circle:map") + "?category=canteen"),
        (officer, reverse("circle:plan")),
        (officer, reverse("circle:plan") + "?run=1&category=canteen&k=2"),
        (officer, reverse("circle:plan") + "?run=1&category=canteen&k=1&source=sites"),
        (officer, reverse("circle:facility_list")),
        (officer, reverse("circle:facility_new")),
        (officer, reverse("circle:facility_edit", args=[facility.pk])),
        (officer, reverse("circle:facility_import")),
        (officer, reverse("circle:categories")),
        (officer, reverse("circle:network")),
        (admin, reverse("circle:categories")),
        (admin, reverse("circle:category_edit", args=[canteen.pk])),
        (english(client_for(w.users.command)), reverse("circle:coverage")),
        (english(client_for(w.users.worker_a1)), reverse("circle:matrix")),
    ]
    token = services.building_token(w.buildings["A1"])
    from django.test import Client

    pages.append((english(Client()), reverse("circle:near", args=[token])))
    names = data_names()
    for client, url in pages:
        resp = client.get(url)
        assert resp.status_code == 200, url
        html = resp.content.decode()
        assert '<html lang="en">' in html, url
        left = chinese_left(visible_text(html), names)
        assert not left, (url, left)


def test_the_map_data_is_in_english_apart_from_names(english_world):
    w = english_world
    officer = english(client_for(w.users.officer_a))
    data = officer.get(reverse("circle:map_data") + "?category=canteen").json()
    assert data["category"]["name"] == "Community canteen"
    assert {f["properties"]["status"] for f in data["facilities"]["features"]} == {"Open"}
    token = services.building_token(w.buildings["A1"])
    near = english(client_for(w.users.officer_a)).get(reverse("circle:near_data", args=[token])).json()
    assert {f["properties"]["category"] for f in near["facilities"]["features"]} == {"Community canteen"}
    names = data_names()
    for payload in (data, near, officer.get(reverse("circle:facilities_geojson")).json()):
        text = json.dumps(payload, ensure_ascii=False)
        assert not chinese_left(text, names), chinese_left(text, names)


def test_the_language_switch_turns_the_circle_pages_english(circle_world):
    client = client_for(circle_world.users.officer_a)
    assert "可达矩阵" in client.get(reverse("circle:matrix")).content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": reverse("circle:matrix")})
    assert response.status_code == 302
    page = client.get(reverse("circle:matrix")).content.decode()
    assert "Access matrix" in page and "可达矩阵" not in page


def test_the_category_list_shows_the_english_name_once_in_english_and_beside_the_chinese_one_otherwise(circle_world):
    admin = client_for(circle_world.users.sysadmin)
    chinese = admin.get(reverse("circle:categories")).content.decode()
    assert re.search(r"社区食堂\s*<span class=\"muted\">community canteen</span>", chinese)
    page = english(admin).get(reverse("circle:categories")).content.decode()
    assert "Community canteen" in page and "community canteen" not in page


def test_an_english_sheet_imports_by_english_category_names_and_its_errors_read_in_english(circle_world):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    from circle.tests.test_services import xlsx

    w = circle_world
    head = ["name", "category", "grid", "lat", "lng"]
    sheet = xlsx([head, ["A1 canteen", "Community Canteen", "A1", 31.3, 120.6]])
    made = services.import_facilities(w.users.officer_a, sheet)
    assert [f.category.code for f in made] == ["canteen"]
    bad = xlsx([head, ["x", "no such thing", "A1", "north", 120.6]])
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.import_facilities(w.users.officer_a, bad)
    msgs = exc.value.message_dict["file"]
    assert "Row 2 Latitude: not a number" in msgs and "Row 2 category: “no such thing” not found" in msgs
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.import_facilities(w.users.officer_a, xlsx([["name", "category", "grid"], ["x", "canteen", "A1"]]))
    assert exc.value.message_dict["file"] == ["Missing columns: Latitude, Longitude"]
