"""End to end in Chromium: the community officer plans and opens a joint meeting at 1440×900 and records a
resolution owned by an enterprise of the tower, proposed by the party committee; the enterprise's contact, on a
phone (390×844), reports progress with a photo and then reports it done; the party committee's secretary confirms
it; the cockpit's board of the community shows it done."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def context(browser, base_url, phone=False):
    kw = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True} if phone else \
        {"viewport": {"width": 1440, "height": 900}}
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **kw)
    p = ctx.new_page()
    p.errors = []
    p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    p.set_default_timeout(15000)
    p.base_url = base_url
    return ctx, p


def test_a_meeting_held_a_resolution_assigned_updated_with_a_photo_confirmed_and_done_on_the_cockpit(
        page, browser, world, site, tmp_path):
    from PIL import Image

    from meetings.choices import ResolutionState
    from meetings.models import Evidence, Resolution

    # 1. the officer plans the next meeting of the series, opens it and records a resolution
    login(page, "officer_a")
    page.goto(f"{page.base_url}/meetings/series/{site.series.pk}/")
    page.click("text=安排下次会议")
    day = dt.date.today() + dt.timedelta(days=1)
    page.fill("#id_title", "共享冰箱与员工关怀")
    page.fill("#id_day", day.isoformat())
    page.fill("#id_starts", "14:30")
    page.fill("#id_ends", "16:30")
    page.fill("#id_location", "活力大厦3楼会议室")
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    assert "共享冰箱与员工关怀" in page.inner_text("main")
    page.click("button[data-open]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1 [data-state='open']").count() == 1
    page.evaluate("document.querySelector('#resolutions details').open = true")
    page.fill("#resolutions #id_title", "大厦一楼设置共享冰箱并每日巡检")
    page.select_option("#resolutions #id_owner", str(site.o1.pk))
    page.select_option("#resolutions #id_proposer", str(site.party.pk))
    page.fill("#resolutions #id_deadline_days", "5")
    page.click("#resolutions button.primary")
    page.wait_for_load_state("networkidle")
    res = Resolution.objects.get(title="大厦一楼设置共享冰箱并每日巡检")
    assert res.state == ResolutionState.ASSIGNED and res.owner_id == site.o1.pk and res.deadline_at
    shot(page, "meetings-meeting")
    assert page.console_errors == []

    # 2. the enterprise's contact, on a phone: progress with a photo, then done
    photo = tmp_path / "fridge.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 120, 200)).save(buf, "JPEG")
    photo.write_bytes(buf.getvalue())
    ctx, phone = context(browser, page.base_url, phone=True)
    login(phone, "ent_user")
    phone.goto(f"{phone.base_url}/meetings/org/")
    phone.click(f"tr[data-res='{res.pk}'] a")
    phone.wait_for_load_state("networkidle")
    phone.fill("form[data-update] #id_progress", "60")
    phone.fill("form[data-update] #id_note", "冰箱已到位，物业每日巡检")
    phone.set_input_files("form[data-update] input[name=evidence]", str(photo))
    phone.click("form[data-update] button[type=submit]")
    phone.wait_for_load_state("networkidle")
    assert phone.locator("[data-timeline] img").count() == 1, "the photo is on the timeline"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391, "no sideways scrolling on a phone"
    shot(phone, "meetings-phone-update")
    phone.fill("form[data-update] #id_note", "已完成，请党委确认")
    phone.check("form[data-update] #id_done")
    phone.click("form[data-update] button[type=submit]")
    phone.wait_for_load_state("networkidle")
    res.refresh_from_db()
    assert res.state == ResolutionState.SUBMITTED and res.progress == 100
    assert Evidence.objects.filter(update__resolution=res).count() == 1
    assert phone.errors == []
    ctx.close()

    # 3. the proposing side confirms
    ctx, sec = context(browser, page.base_url)
    login(sec, "sec_user")
    sec.goto(f"{sec.base_url}/meetings/org/r/{res.pk}/")
    sec.fill("form[data-confirm] #cf-note", "现场查看，效果良好")
    sec.click("form[data-confirm] button[value=confirm]")
    sec.wait_for_load_state("networkidle")
    res.refresh_from_db()
    assert res.state == ResolutionState.DONE
    assert "确认办结" in sec.inner_text("[data-timeline]")
    ctx.close()

    # 4. the cockpit (its hourly refresh of this module's figures) shows it done
    from meetings.tasks import refresh_cockpit

    refresh_cockpit.func()
    page.goto(f"{page.base_url}/cockpit/community/{world.communities['A'].pk}/")
    panel = page.locator("article.ck-panel", has_text="联席会议决议：办结与超期")
    panel.wait_for()
    done = panel.locator(".ck-figure", has_text="已办结").locator("b").inner_text()
    assert done.strip() == "1"
    shot(page, "meetings-cockpit")
