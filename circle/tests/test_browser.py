"""End to end in Chromium: the gap map and the public services-near-me page load without console errors."""

from __future__ import annotations

import pytest

from circle import services
from circle.tests.conftest import at
from conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> list[str]:
    """Console errors with their URL, leaving out the browser's own favicon request (not a page resource)."""
    errors: list[str] = []

    def on_console(msg):
        url = (msg.location or {}).get("url", "")
        if msg.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"{msg.text} @ {url}")

    page.on("console", on_console)
    return errors


@pytest.fixture
def mapped(world, settings):
    """The world's compounds placed on a street, grid boundaries and two canteens; figures computed."""
    from circle.models import Category
    from circle.seed import seed_categories

    seed_categories(Category)  # transactional tests flush the rows the data migration seeded
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    for i, (key, x) in enumerate((("A1", 0), ("A2", 600), ("B1", 1500))):
        c = world.compounds[key]
        c.lat, c.lng = at(x, 0)
        c.save()
        g = world.grids[key]
        ring = [at(x - 250, -250), at(x + 250, -250), at(x + 250, 250), at(x - 250, 250), at(x - 250, -250)]
        g.boundary = {"type": "Polygon", "coordinates": [[[lng, lat] for lat, lng in ring]]}
        g.save()
        del i
    canteen = Category.objects.get(code="canteen")
    for key, x in (("A1", 100), ("B1", 1500)):
        lat, lng = at(x, 40)
        services.save_facility(None, services.FacilityData(name=f"{key}食堂", category=canteen, grid=world.grids[key],
                                                           lat=lat, lng=lng, opening_hours="7:00-19:00"))
    services.recompute()
    return world


def test_the_gap_map_draws_compounds_and_facilities_without_console_errors(page, mapped):
    errors = watch(page)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    login(page, "officer_a")
    page.goto(page.base_url + "/circle/map/?category=canteen")
    page.wait_for_selector("#circle-map[data-ready='1']")
    assert page.locator("#circle-map path.leaflet-interactive").count() >= 3  # 2 grids + compounds + facility
    assert missing == []
    assert "直线距离" in page.locator("#circle-method").inner_text()
    assert page.locator("#circle-method").is_visible()
    page.goto(page.base_url + "/circle/plan/?run=1&category=canteen&k=2")
    page.wait_for_selector("#site-map[data-ready='1']")
    page.locator("#site-map").click(position={"x": 200, "y": 150})
    assert page.locator("#site-form [name=lat]").input_value() != ""
    assert missing == []
    assert errors == []


def test_the_services_near_me_page_opens_on_a_phone_without_login(page, mapped):
    token = services.building_token(mapped.buildings["A1"])
    errors = watch(page)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(page.base_url + f"/circle/near/{token}/")
    page.wait_for_selector("#near-map[data-ready='1']")
    assert "A1食堂" in page.content()
    assert page.locator(".near-cat").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert errors == []
