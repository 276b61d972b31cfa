"""The full lifecycle in Chromium: a grid worker reports with a photo on a phone, the command centre accepts and
dispatches, the unit handles, a second person verifies, the case is closed, the resident's dissatisfied answer
reopens it and sends it back to the unit. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect as expect_that

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def jpeg() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 480), (200, 210, 220))
    draw = ImageDraw.Draw(img)
    draw.rectangle((200, 120, 440, 400), fill=(90, 90, 100))
    draw.ellipse((380, 250, 410, 280), fill=(230, 200, 40))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def watch(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in
            (m.location or {}).get("url", "") else None)
    return errors


def session(browser, live_server, username: str, *, phone: bool = False):
    """A fresh browser context logged in as ``username`` (with the second factor for the command centre)."""
    from django.contrib.auth import get_user_model
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and username == "command":
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    if device is not None:
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # a second login within the same 30 s step
        device.refresh_from_db()
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    ctx = browser.new_context(viewport=size, locale="zh-CN", timezone_id="Asia/Shanghai")
    # The unread badge polls the server beside every page; the live server shares one SQLite connection between
    # its request threads, so the test answers the badge itself and keeps to one request at a time.
    ctx.route("**/notify/badge/**", lambda route: route.fulfill(status=200, body=""))
    pg = ctx.new_page()
    pg.set_default_timeout(40000)
    pg.base_url = live_server.url
    pg.errors = watch(pg)
    pg.goto(live_server.url + "/access/login/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    with pg.expect_navigation():
        pg.click("button[type=submit]")
    if device is not None:
        pg.wait_for_selector("input[name=token]")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        pg.fill("input[name=token]", f"{totp.token():06d}")
        with pg.expect_navigation():
            pg.click("form button[type=submit]")
        assert "/access/" not in pg.url, pg.url
    return pg


def done(pg) -> list[str]:
    """Close the page's context (one session at a time: the live server shares one SQLite connection)."""
    errors = list(pg.errors)
    pg.context.close()
    return errors


def act(pg, action: str, expect: str, **fields) -> None:
    form = pg.locator(f"form[data-action={action}]")
    for name, value in fields.items():
        if name == "answer":
            form.locator(f"input[name=answer][value={value}]").check()
            continue
        el = form.locator(f"[name={name}]")
        if el.evaluate("e => e.tagName") == "SELECT":
            el.select_option(str(value))
        elif name == "attachments":
            el.set_input_files(value)
        else:
            el.fill(value)
    form.locator("button[type=submit]").click()
    expect_that(pg.locator("#case-status")).to_have_text(expect, timeout=40000)


def test_the_whole_life_of_a_case_in_the_browser(browser, live_server, world):
    from cases.models import Case
    from cases.tests.conftest import build_cases

    cw = build_cases(world)
    SHOTS.mkdir(exist_ok=True)
    house = world.houses["A1"][5]

    # 1. the grid worker reports on a phone, the house preselected from the workbench's link, with a photo
    worker = session(browser, live_server, "worker_a1", phone=True)
    worker.goto(f"{live_server.url}/cases/report/?house={house.pk}")
    assert worker.locator("#id_house").input_value() == str(house.pk)
    worker.select_option("#id_category", "property-repair")
    worker.fill("#id_title", "单元门禁损坏")
    worker.fill("#id_description", "1幢2单元门禁无法关闭，外人可随意进出")
    worker.fill("#id_reporter_name", "张三")
    worker.fill("#id_reporter_phone", "13800138000")
    worker.set_input_files("#id_photos", {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    worker.screenshot(path=str(SHOTS / "cases-01-report-phone.png"), full_page=True)
    assert worker.evaluate("document.documentElement.scrollWidth") <= 390
    worker.click("form.case-form button[type=submit]")
    worker.wait_for_url("**/cases/*/")
    case = Case.objects.get(title="单元门禁损坏")
    assert case.house_id == house.pk and case.attachments.count() == 1
    assert worker.locator("img.case-thumb").evaluate("i => i.naturalWidth") == 640
    worker.screenshot(path=str(SHOTS / "cases-02-reported.png"), full_page=True)
    errors = done(worker)

    # 2. the command centre accepts and dispatches to the property company, with the department as co-unit
    command = session(browser, live_server, "command")
    command.goto(f"{live_server.url}/cases/queue/")
    assert case.number in command.content(), (command.url, command.inner_text("main")[:300])
    command.screenshot(path=str(SHOTS / "cases-03-queue.png"), full_page=True)
    command.goto(f"{live_server.url}/cases/{case.pk}/")
    act(command, "accept", "已受理")
    act(command, "dispatch", "已派遣", lead_unit=cw.units.prop.pk)
    command.screenshot(path=str(SHOTS / "cases-04-dispatched.png"), full_page=True)
    errors += done(command)

    # 3. the unit finds it in its inbox, starts and handles it with a photo
    unit = session(browser, live_server, "unit_prop")
    unit.goto(f"{live_server.url}/cases/")
    assert "/cases/inbox/" in unit.url and case.number in unit.content()
    unit.click(f"text={case.number}")
    act(unit, "start", "处置中")
    act(unit, "handle", "已处置", note="已更换门禁锁，恢复正常",
        attachments={"name": "fixed.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    assert unit.locator("form[data-action=verify]").count() == 0
    unit.screenshot(path=str(SHOTS / "cases-05-handled.png"), full_page=True)
    errors += done(unit)

    # 4. a second person (the grid worker, not the handler) verifies; the command centre closes
    worker = session(browser, live_server, "worker_a1")
    worker.goto(f"{live_server.url}/cases/{case.pk}/")
    act(worker, "verify", "已核查", note="现场核查，门禁正常")
    errors += done(worker)
    command = session(browser, live_server, "command")
    command.goto(f"{live_server.url}/cases/{case.pk}/")
    act(command, "close", "已结案")

    # 5. the resident answers "dissatisfied": the case reopens and goes back to the unit
    act(command, "satisfaction", "已派遣", answer="dissatisfied", note="居民反映晚上门禁又失灵")
    case.refresh_from_db()
    assert case.status == "dispatched" and case.reopened_count == 1 and case.satisfaction == "dissatisfied"
    assert "重启次数" in command.content()
    command.screenshot(path=str(SHOTS / "cases-06-reopened.png"), full_page=True)

    # the map and the figures draw without errors
    command.goto(f"{live_server.url}/cases/map/")
    expect_that(command.locator("#case-map-summary")).not_to_be_empty(timeout=40000)
    command.screenshot(path=str(SHOTS / "cases-07-map.png"), full_page=True)
    command.goto(f"{live_server.url}/cases/figures/")
    command.wait_for_selector(".case-chart canvas")
    command.screenshot(path=str(SHOTS / "cases-08-figures.png"), full_page=True)
    errors += done(command)
    unit = session(browser, live_server, "unit_prop")
    unit.goto(f"{live_server.url}/cases/inbox/")
    assert case.number in unit.content()
    errors += done(unit)
    assert errors == []


def test_the_report_button_says_it_is_sending_while_the_server_has_not_answered(browser, live_server, world):
    """The field worker's report on a phone: between the click and the server's answer the button is disabled,
    shows a spinner and 正在提交…, so a slow connection is not mistaken for nothing happening (and the report is
    not sent twice). The page's own handler runs on the click; the submission itself is stopped after it (a
    listener on the window, which the event reaches last), so the state is read before any answer."""
    from cases.tests.conftest import build_cases

    build_cases(world)  # the categories (an earlier transactional test flushed the seeded ones)
    worker = session(browser, live_server, "worker_a1", phone=True)
    house = world.houses["A1"][0]
    worker.goto(f"{live_server.url}/cases/report/?house={house.pk}")
    worker.select_option("#id_category", "property-repair")
    worker.fill("#id_title", "楼道灯不亮")
    worker.evaluate("() => window.addEventListener('submit', e => e.preventDefault())")
    worker.click("form.case-form button[type=submit]")
    button = worker.locator("form.case-form button[type=submit]")
    expect_that(button).to_be_disabled()
    expect_that(button).to_have_class("button primary busy")
    expect_that(button).to_have_text("正在提交…")
    worker.screenshot(path=str(SHOTS / "cases-report-sending-390.png"))
    worker.context.close()
