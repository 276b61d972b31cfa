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


def test_the_organiser_publishes_a_shift_for_a_session_of_the_summer_class_at_a_desk(page, world):
    """The task form at 1440×900: the session chosen from the list, the rest left as the page has it; the shift
    appears on the session's day at the session's time."""
    import datetime as dt

    from activities.tests.conftest import make_activity
    from volunteers.models import Shift

    a = make_activity(world, sessions=2, first=dt.date(2027, 7, 1))
    second = a.sessions.get(number=2)
    page.set_viewport_size({"width": 1440, "height": 900})
    with time_machine.travel(at(dt.date(2027, 6, 25), 10), tick=True):
        login(page, "worker_a1")
        page.goto(page.base_url + "/volunteers/shifts/")
        page.select_option("form[data-new-task] select[name=session]", str(second.pk))
        page.fill("form[data-new-task] input[name=title]", "暑期班第二场保障")
        shot(page, "volunteers-task-form-session-1440")
        with page.expect_navigation():
            page.click("form[data-new-task] button[type=submit]")
        assert "已发布" in page.inner_text(".messages")
        shift = Shift.objects.get(task__title="暑期班第二场保障")
        assert shift.session_id == second.pk and shift.starts_at == second.starts_at
        assert "week=2027-06-28" in page.url, "the calendar opens on the session's week"
        assert "暑期班第二场保障" in page.inner_text("main")
        shot(page, "volunteers-task-published-1440")
    assert page.console_errors == []
