"""The home pages in Chromium, at the viewport each user has: a grid worker and a resident on a phone (390×844),
a community officer, the command centre and the three duties at a desk (1440×900). Screenshots in
test-artifacts/home-*.png."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import login
from tests.test_home import make_things

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def things(world):
    """Items of every kind, in scope and out of it (tests/test_home.py)."""
    return make_things(world)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def phone(browser, base_url):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai",
                              is_mobile=True, has_touch=True)
    p = ctx.new_page()
    p.console_errors = []
    p.on("console", lambda m: p.console_errors.append(m.text) if m.type == "error" else None)
    p.set_default_timeout(15000)
    p.base_url = base_url
    return ctx, p


def _hang_things_off(house, world):
    from django.utils import timezone

    from cases.services import report
    from fieldwork.models import Visit
    from people.models import PersonTag, Tag

    tag, _ = Tag.objects.get_or_create(code="elderly_alone", defaults={"name": "独居老人"})
    PersonTag.objects.create(person=world.people["张三"], tag=tag)
    Visit.objects.create(house=house, worker=world.users.worker_a1, visited_at=timezone.now(), outcome="unchanged",
                         street=world.street, community=world.communities["A"], grid=world.grids["A1"])
    report(world.users.worker_a1, channel="worker", category="property-repair", title="张三家门口漏水", place=house)


def test_a_grid_worker_starts_the_day_from_the_home_page_on_a_phone(browser, live_server, things, world):
    ctx, p = phone(browser, live_server.url)
    login(p, "worker_a1")
    p.goto(live_server.url + "/")
    assert "今天的工作" in p.inner_text("h1")
    visits = p.locator("[data-section=visits]")
    assert "A1花园" in visits.inner_text() and "B1花园" not in p.inner_text("main")
    assert "A1楼道灯不亮" in p.inner_text("[data-section=cases]")
    assert p.evaluate("document.documentElement.scrollWidth") <= 391
    shot(p, "home-worker-390")
    visits.locator(".home-items a").first.click()
    p.wait_for_load_state("networkidle")
    assert "/fieldwork/houses/" in p.url
    house = world.houses["A1"][0]
    _hang_things_off(house, world)
    p.goto(live_server.url + f"/places/houses/{house.pk}/")
    main = p.inner_text("main")
    assert "版本" not in main
    assert "独居老人" in main and "张三家门口漏水" in main and "worker_a1" in p.inner_text(".house-visits")
    assert p.evaluate("document.documentElement.scrollWidth") <= 391
    shot(p, "home-house-390")
    assert p.console_errors == []
    ctx.close()


def test_a_resident_sees_my_submissions_on_a_phone(browser, live_server, things, world):
    ctx, p = phone(browser, live_server.url)
    login(p, "resident")
    p.goto(live_server.url + "/")
    main = p.inner_text("main")
    assert "我的提交" in main and "居民说水管漏水" in main and "正在处理" in main and "社区正在核实" in main
    assert "联系安全管理员" not in main and "A1楼道灯不亮" not in main
    assert p.evaluate("document.documentElement.scrollWidth") <= 391
    shot(p, "home-resident-390")
    assert p.console_errors == []
    ctx.close()


def test_a_community_officer_goes_from_the_home_page_to_the_reviews(page, things, world):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "officer_a")
    page.goto(page.base_url + "/")
    assert page.locator("[data-section=reviews] .home-items li").count() >= 1
    assert "A2化粪池外溢" in page.inner_text("[data-section=overdue]")
    assert "B1" not in page.inner_text("[data-section=reviews]")
    box_reviews = page.locator("[data-section=reviews]").bounding_box()
    box_cases = page.locator("[data-section=cases]").bounding_box()
    assert abs(box_reviews["y"] - box_cases["y"]) < 2, "two columns at a desk"
    shot(page, "home-officer-1440")
    page.click("[data-section=reviews] .head a.button")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/fieldwork/review/")
    assert page.console_errors == []


def _desk_with_second_factor(browser, base_url, username):
    """A 1440×900 desk logged in through the real form, with the second factor the street's duties must pass."""
    from django.contrib.auth import get_user_model
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    p = ctx.new_page()
    p.console_errors = []
    p.on("console", lambda m: p.console_errors.append(m.text) if m.type == "error" else None)
    p.set_default_timeout(15000)
    p.base_url = base_url
    login(p, username)
    p.wait_for_selector("input[name=token]")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    p.fill("input[name=token]", f"{totp.token():06d}")
    with p.expect_navigation():
        p.click("form button[type=submit]")
    p.wait_for_load_state("networkidle")
    return ctx, p


@pytest.mark.parametrize("who, section, link", [
    ("command", "cockpit", "/cockpit/"),
    ("sysadmin", "users", "/access/users/"),
    ("secadmin", "grants", "/access/"),
    ("auditor", "audit", "/access/audit/"),
])
def test_the_command_centre_and_the_three_duties_start_from_their_home_at_a_desk(browser, live_server, things, world,
                                                                                 who, section, link):
    ctx, p = _desk_with_second_factor(browser, live_server.url, who)
    p.goto(live_server.url + "/")
    p.wait_for_load_state("networkidle")
    box = p.locator(f"[data-section={section}]")
    assert box.count() == 1 and box.is_visible()
    assert p.locator(f"[data-section={section}] a[href^='{link}']").count() >= 1
    main = p.inner_text("main")
    assert not [n for n in world.people if n in main], "no resident's name on an aggregate or admin home"
    assert p.evaluate("document.documentElement.scrollWidth") <= 1440, "nothing wider than the desk"
    shot(p, f"home-{who}-1440")
    p.locator(f"[data-section={section}] a[href^='{link}']").first.click()
    p.wait_for_load_state("networkidle")
    assert p.url.split("?")[0].startswith(live_server.url + link), p.url
    assert p.console_errors == []
    ctx.close()
