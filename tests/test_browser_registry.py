"""End to end in a real browser: a grid worker logs in, finds a person by pinyin initials, opens the building
view and a house (issue 2). Screenshots are saved in test-artifacts/ for a person to look at."""

import re
from pathlib import Path

import pytest

from conftest import build_world, login

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture
def live_world(transactional_db):
    return build_world()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_grid_worker_finds_a_person_by_initials_and_walks_to_the_building_view(page, live_world):
    login(page, "worker_a1")
    assert "/access/login/" not in page.url

    page.fill("form.topsearch input[name=q]", "zs")
    page.press("form.topsearch input[name=q]", "Enter")
    page.wait_for_load_state("networkidle")
    body = page.inner_text("main")
    assert "张三" in body                            # zs: Zhang San
    assert "张小三" not in body and "李四" not in body  # zxs and ls do not start with zs
    assert "赵敏" not in body                        # another grid's person never shows
    shot(page, "registry-search-zs")

    page.click("main a:text-is('张三')")
    page.wait_for_load_state("networkidle")
    html = page.content()
    assert not re.search(r"\d{17}[\dXx]", html), "a full resident ID reached the page"
    assert not re.search(r"1[3-9]\d{9}", html), "a full phone number reached the page"
    assert "********" in html                        # the masked ID is shown

    page.click("main a[href*='/places/houses/']")
    page.wait_for_load_state("networkidle")
    assert "张三" in page.inner_text("main")
    page.click("main a[href*='/places/buildings/']:has-text('楼栋图')")
    page.wait_for_load_state("networkidle")
    cells = page.locator("a[data-house]")
    assert cells.count() == len(live_world.houses["A1"])   # every room of the building, one cell each
    shot(page, "registry-building-view")

    target = live_world.houses["A1"][5]
    page.click(f"a[data-house='{target.pk}']")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/places/houses/{target.pk}/")
    assert target.room in page.inner_text("main")
    assert page.console_errors == []


def test_building_view_fits_a_phone(page, live_world):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "worker_a1")
    building = live_world.buildings["A1"]
    page.goto(f"{page.base_url}/places/buildings/{building.pk}/")
    page.wait_for_load_state("networkidle")
    assert page.locator("a[data-house]").count() == len(live_world.houses["A1"])
    # The page itself does not scroll sideways; a wide unit scrolls inside its own box.
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390 + 1
    shot(page, "registry-building-view-phone")
