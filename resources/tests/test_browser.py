"""End to end in Chromium: a resident on a phone (390×844) books a night space in the tower's garage, finds it in
"my bookings" and checks in from the garage's QR code; a neighbour's booking is released as a no-show; the grid
worker sees both in the garage's week grid at 1440×900. The clock is set to tomorrow 18:50 (check-in opens at
18:45 for the 19:00 night window)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine

from conftest import login
from resources.tests.conftest import at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def board_world(world):
    from cockpit.tests.test_browser import spread_and_enrich

    return spread_and_enrich(world)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def evening() -> dt.datetime:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    tomorrow = dt.datetime.now(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(18, 50), tzinfo=tz)


def test_a_resident_books_a_night_space_on_a_phone_checks_in_and_staff_see_the_week(page, browser, world, site):
    from resources import services
    from resources.choices import BookingState
    from resources.models import BookerLink, Booking

    start = evening()
    with time_machine.travel(start, tick=True):
        BookerLink.objects.create(user=world.users.resident, person=world.people["张三"])
        day = start.date()
        # A neighbour booked a space for tonight too (and will not come: released after the grace time).
        late = services.book(world.people["王芳"], site.garage, at(day, 19), at(day + dt.timedelta(days=1), 8))

        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                    timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True)
        p = phone.new_page()
        errors: list[str] = []
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        p.base_url = page.base_url
        login(p, "resident")
        p.goto(p.base_url + "/resources/")
        card = p.locator(f"li[data-resource='{site.garage.pk}']")
        assert "您可以预约" in card.inner_text()
        lot = p.locator(f"li[data-resource='{site.lot.pk}']")
        assert "不可预约：仅限元和大厦内企业的员工" in lot.inner_text(), "refused in plain Chinese"
        assert p.evaluate("document.documentElement.scrollWidth") <= 391
        shot(p, "resources-phone-browse")

        card.locator("a.rs-primary").click()
        p.wait_for_load_state("networkidle")
        assert "空余车位 9/10" in p.inner_text(".rs-options")
        assert "夜间 19:00–次日08:00" in p.inner_text(".rs-options")
        assert "Node" not in p.inner_text("main")
        shot(p, "resources-phone-day")
        p.locator("button[data-book]").first.click()
        p.wait_for_load_state("networkidle")
        assert "预约成功" in p.inner_text(".messages")
        mine = p.inner_text("[data-upcoming]")
        assert "元和大厦地下车库 B1-02" in mine and "已预约" in mine and "现在可以签到" in mine
        assert p.locator("button[data-cancel]").count() == 0, "ten minutes before the start: no longer cancellable"
        assert "开始前 60 分钟内不能自行取消" in mine
        assert p.evaluate("document.documentElement.scrollWidth") <= 391
        shot(p, "resources-phone-mine")

        # The QR code on the garage wall opens the check-in page.
        p.goto(p.base_url + f"/resources/checkin/{site.garage.qr_token}/")
        assert "元和大厦地下车库" in p.inner_text("main")
        shot(p, "resources-phone-checkin")
        p.click("button[data-checkin]")
        p.wait_for_load_state("networkidle")
        assert "签到成功" in p.inner_text(".messages")
        assert "已签到" in p.inner_text("[data-upcoming]")
        shot(p, "resources-phone-checked-in")
        assert errors == []
        phone.close()
        mine = Booking.objects.get(person=world.people["张三"])
        assert mine.state == BookingState.CHECKED_IN and mine.checked_in_at is not None

        # The neighbour's no-show is released by the periodic job 30 minutes after the start.
        assert services.release_no_shows(now=at(day, 19, 31)) == 1
        late.refresh_from_db()
        assert late.state == BookingState.RELEASED

        page.set_viewport_size({"width": 1440, "height": 900})
        login(page, "worker_a1")
        page.goto(page.base_url + "/resources/staff/")
        page.click(f"a[href='/resources/staff/{site.garage.pk}/']")
        page.wait_for_selector("table[data-week]")
        grid = page.inner_text("table[data-week]")
        assert "张*" in grid and "王*" in grid and "张三" not in grid
        assert page.locator(".rs-s-released").count() >= 1 and page.locator(".rs-s-checked_in").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 1440
        shot(page, "resources-staff-week")
        page.goto(page.base_url + f"/resources/staff/{site.garage.pk}/sheet/?date={day.isoformat()}")
        assert "B1-01" in page.inner_text("table[data-sheet]") and "B1-02" in page.inner_text("table[data-sheet]")
        shot(page, "resources-staff-sheet")
        assert page.console_errors == []


def test_the_wall_shows_the_tide_and_pages_the_panels_beyond_its_twelve_places(page, board_world, live_server,
                                                                               monkeypatch):
    """With the resources' three panels the street has fifteen: the wall keeps twelve places (nothing overlaps,
    nothing scrolls) and the sixth of each side shows the rest in turn; the tide is drawn as a line of 24 hours."""
    from django.conf import settings as django_settings
    from django.test import Client

    from cockpit import views as cockpit_views
    from cockpit.rollup import full_rebuild
    from cockpit.tests.test_browser import MEASURE_JS, layout_faults, wait_board, watch
    from conftest import verified_login
    from resources import services
    from resources.choices import BookingState
    from resources.models import Booking
    from resources.tests.conftest import make_site

    world = board_world
    site = make_site(world)
    monday = dt.date.today() - dt.timedelta(days=7)
    with time_machine.travel(dt.datetime.combine(monday - dt.timedelta(days=1), dt.time(10)).astimezone(), tick=False):
        for i, name in enumerate(["张三", "李四"]):
            services.book(world.people[name], site.garage, at(monday + dt.timedelta(days=i), 19),
                          at(monday + dt.timedelta(days=i + 1), 8))
        services.book(site.employee, site.lot, at(monday, 8), at(monday, 18))
    Booking.objects.update(state=BookingState.CHECKED_IN)
    full_rebuild()
    monkeypatch.setattr(cockpit_views, "WALL_ROTATE_S", 1)
    errors = watch(page)
    client = Client()
    verified_login(client, world.users.command)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "url": page.base_url,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value}])
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{page.base_url}/cockpit/wall/")
    wait_board(page)
    panels = page.locator(".ck-panel")
    from cockpit import board

    expected = len(board.board_payload(board.resolve_place(world.users.command, "street", world.street.pk))["panels"])
    assert panels.count() == expected > 12, "every panel of the street's board, more than one page of twelve"
    visible = lambda: [p.get_attribute("id") for p in panels.all() if p.is_visible()]  # noqa: E731
    first = visible()
    assert len(first) == 12
    page.wait_for_function("() => Number(document.getElementById('cockpit').dataset.rotated || 0) >= 1")
    page.wait_for_timeout(300)
    second = visible()
    assert len(second) == 12 and second != first and set(first[:5]) <= set(second)
    page.wait_for_function("() => Number(document.getElementById('cockpit').dataset.rotated || 0) >= 2")
    page.wait_for_timeout(300)
    tide = page.locator("#panel-resources-tide")
    page.wait_for_function("() => getComputedStyle(document.getElementById('panel-resources-tide')).display "
                           "!== 'none'", timeout=10000)
    tide.locator("h2").hover()  # a pointer over the panels holds the pages still
    rotated = page.evaluate("document.getElementById('cockpit').dataset.rotated")
    page.wait_for_timeout(2500)  # the line's grow-in animation; and no page turns meanwhile
    assert tide.is_visible() and page.evaluate("document.getElementById('cockpit').dataset.rotated") == rotated
    shot(page, "resources-wall-1920x1080")
    width, height = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert width <= 1920 and height <= 1080
    texts = tide.locator("svg text").evaluate_all("(ts) => ts.map((t) => t.textContent)")
    assert any(t.endswith("时") for t in texts), texts
    measured = page.evaluate(MEASURE_JS)
    faults = layout_faults(measured)
    assert faults == [], "\n".join(faults)
    assert min(c["height"] for c in measured["charts"]) >= 180
    assert errors == []


def test_the_officer_books_the_living_room_for_a_resident_at_the_desk(page, world, site):
    """代预约 at 1440×900: the panel on the room's week, the resident's ID number typed, three Wednesdays asked for;
    the result page lists what was booked and the blacked-out week with its reason, the name masked."""
    from conftest import resident_id
    from resources import services
    from resources.models import Booking

    wednesday = dt.date(2026, 3, 11)
    page.set_viewport_size({"width": 1440, "height": 900})
    with time_machine.travel(at(dt.date(2026, 3, 9), 10), tick=True):
        services.add_blackout(world.users.officer_a, site.room, at(wednesday + dt.timedelta(days=7), 8),
                              at(wednesday + dt.timedelta(days=7), 21), "地面维修")
        login(page, "officer_a")
        page.goto(page.base_url + f"/resources/staff/{site.room.pk}/")
        page.click("[data-desk-panel] summary")
        page.fill("form[data-desk] input[name=number]", resident_id("32050719500505004"))
        page.fill("form[data-desk] input[name=day]", wednesday.isoformat())
        page.fill("form[data-desk] input[name=starts]", "14:00")
        page.fill("form[data-desk] input[name=ends]", "16:00")
        page.fill("form[data-desk] input[name=weeks]", "3")
        shot(page, "resources-desk-form-1440")
        with page.expect_navigation():
            page.click("form[data-desk] button")
        assert page.locator("[data-booked] li").count() == 2
        assert "地面维修" in page.inner_text("[data-failed]") and "为 王* 代约" in page.inner_text("main")
        shot(page, "resources-desk-result-1440")
        assert Booking.objects.filter(person=world.people["王芳"], channel="desk").count() == 2
        page.click("text=返回周视图")
        page.wait_for_load_state("networkidle")
        assert "start=2026-03-11" in page.url and "王*" in page.inner_text("[data-week]")
    assert page.console_errors == []
