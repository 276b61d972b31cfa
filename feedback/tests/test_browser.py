"""End to end in Chromium: the officer prints the sheet; a resident on a phone (390×844) reports a move-in with
the code read from the SMS log; the report waits in the review queue."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import login, resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_resident_reports_a_move_in_from_a_phone_with_a_code(page, browser, world, settings, tmp_path):
    from fieldwork.models import ChangeRequest

    sms_log = tmp_path / "sms.log"
    settings.RENFANG_SMS_BACKEND = "notify.sms.FileBackend"
    settings.RENFANG_SMS_FILE = str(sms_log)

    # The community officer opens the QR sheet of a compound and takes the first building's link.
    login(page, "officer_a")
    page.goto(f"{page.base_url}/feedback/sheet/{world.compounds['A1'].pk}/")
    assert page.locator(".qr-card:not(.qr-near) svg").count() == 1
    shot(page, "feedback-sheet")
    link = page.locator("a.qr-url").first.get_attribute("href")
    assert "/feedback/r/" in link

    # A resident opens it on a phone, without an account.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai",
                                is_mobile=True, has_touch=True)
    p = phone.new_page()
    errors: list[str] = []
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    p.goto(link)
    body = p.inner_text("main")
    assert "A1花园 1幢" in body
    assert not [n for n in world.people if n in body], "no resident's name on the public page"
    assert p.evaluate("document.documentElement.scrollWidth") <= 391
    assert p.locator("[data-kind=move_out]").is_hidden(), "only the chosen kind's fields show"
    shot(p, "feedback-phone-form")

    p.select_option("select[name=room]", label="1单元 102")
    p.check("input[name=kind][value=move_in]")
    assert p.locator("[data-kind=move_in]").is_visible()
    assert p.locator("input[name=name_2]").is_hidden()
    p.click("button.fb-add")
    assert p.locator("input[name=name_2]").is_visible() and p.locator("input[name=name_3]").is_hidden()
    p.fill("input[name=name_1]", "陈新来")
    p.fill("input[name=id_number_1]", "320507199001011234")  # a wrong check digit first
    p.fill("input[name=phone]", "13912345678")
    p.click("button.fb-submit")
    p.wait_for_load_state("networkidle")
    assert "证件号码：第1位" in p.inner_text(".form-errors")
    assert not sms_log.exists(), "no code is sent for an invalid form"
    shot(p, "feedback-phone-error")

    assert p.locator("input[name=name_2]").is_hidden(), "an empty second row folds away again after the error"
    p.fill("input[name=id_number_1]", resident_id("32050719900101123"))
    p.click("button.fb-submit")
    p.wait_for_selector("input[name=code]")
    assert "139****5678" in p.inner_text("main")
    code = re.findall(r"验证码 (\d{6})", sms_log.read_text(encoding="utf-8"))[-1]
    assert ChangeRequest.objects.filter(source="feedback").count() == 0
    p.fill("input[name=code]", code)
    shot(p, "feedback-phone-code")
    p.click("button[value=confirm]")
    p.wait_for_load_state("networkidle")
    assert "已提交" in p.inner_text("main")
    shot(p, "feedback-phone-done")
    assert p.evaluate("document.documentElement.scrollWidth") <= 391
    assert errors == []
    phone.close()

    cr = ChangeRequest.objects.get(source="feedback")
    assert cr.kind == "move_in" and cr.status == "pending"
    assert cr.house.room == "102" and cr.house.building_id == world.buildings["A1"].pk

    # The officer's inbox shows the report, and the badge counts it.
    page.goto(f"{page.base_url}/notify/")
    assert "居民扫码反馈" in page.inner_text("main")
    page.wait_for_selector(".notify-nav .notify-count")
    shot(page, "notify-inbox")
    assert page.console_errors == []
