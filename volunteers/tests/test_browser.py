"""End to end in Chromium on a 390×844 phone: the volunteer signs up for tomorrow's visit, checks in on arrival at
08:55 and out at 10:30 from "我的志愿服务"; the grid worker, the organiser, verifies the 1.5 hours on the shift's
list on their phone; the volunteer then sees the hours and the points they earned."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from conftest import login

from .conftest import at, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def phone(browser, page):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai",
                              is_mobile=True, has_touch=True)
    p = ctx.new_page()
    p.errors = []
    p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    p.set_default_timeout(15000)
    p.base_url = page.base_url
    return ctx, p


def test_a_volunteer_checks_in_and_out_on_a_phone_and_the_organiser_verifies(page, browser, world):
    from volunteers import ledger
    from volunteers.models import Signup

    site = make_site(world)
    ctx, p = phone(browser, page)
    with time_machine.travel(at(site.day, 7), tick=True):
        login(p, "resident")
        p.goto(p.base_url + "/volunteers/me/")
        assert "探访独居老人" in p.inner_text(f"li[data-open='{site.shift.pk}']")
        p.click(f"li[data-open='{site.shift.pk}'] button[data-join]")
        p.wait_for_load_state("networkidle")
        assert "报名成功" in p.inner_text(".messages")
    with time_machine.travel(at(site.day, 8, 55), tick=True):
        login(p, "resident")
        p.goto(p.base_url + "/volunteers/me/")
        shot(p, "volunteers-phone-before-check-in")
        p.click("button[data-check-in]")
        p.wait_for_load_state("networkidle")
        assert "签到成功" in p.inner_text(".messages")
        assert p.evaluate("document.documentElement.scrollWidth") <= 391
    with time_machine.travel(at(site.day, 10, 30), tick=True):
        login(p, "resident")
        p.goto(p.base_url + "/volunteers/me/")
        p.click("button[data-check-out]")
        p.wait_for_load_state("networkidle")
        assert "签退成功，本次计1.5小时" in p.inner_text(".messages")
        shot(p, "volunteers-phone-checked-out")

        octx, o = phone(browser, page)
        login(o, "worker_a1")
        o.goto(o.base_url + f"/volunteers/shifts/{site.shift.pk}/")
        card = o.locator("li[data-signup]").first
        assert "1.5" in card.inner_text() and "张小三" in card.inner_text()
        assert o.evaluate("document.documentElement.scrollWidth") <= 391
        shot(o, "volunteers-phone-organiser-list")
        o.click("button[data-verify]")
        o.wait_for_load_state("networkidle")
        assert "已核定张小三 1.5小时" in o.inner_text(".messages")
        assert "已核定 1.5 小时" in o.inner_text("li[data-signup]")
        shot(o, "volunteers-phone-organiser-verified")
        assert o.errors == []
        octx.close()

        p.goto(p.base_url + "/volunteers/me/")
        assert p.inner_text("[data-my-hours]") == "1.5"
        assert p.inner_text("[data-my-points]") == "15"
        shot(p, "volunteers-phone-hours")
        assert p.errors == []
    ctx.close()
    s = Signup.objects.get(volunteer=site.v1)
    assert s.verified_hours == Decimal("1.5")
    assert ledger.balance_figures()["ledger_balance"] == 0
