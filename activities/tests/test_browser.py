"""End to end in Chromium on a phone (390×844): a parent signs their two children up for the summer class, finds
their entry QR codes in "my sign-ups", checks the family in with the code shown at the door of the first session,
and downloads the certificate (one session attended is the threshold here). The clock is a Friday 23:30 — the
session runs late (a New Year's Eve-style evening event) — and stays ticking."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from activities.tests.conftest import make_family
from conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TZ = ZoneInfo("Asia/Shanghai")
FRIDAY = dt.datetime(2027, 1, 8, 23, 30, tzinfo=TZ)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_parent_signs_two_children_up_checks_in_and_gets_the_certificate(page, browser, world):
    from activities.models import Activity, SessionAttendance, SignUp
    from activities.services import add_session
    from resources.models import BookerLink

    with time_machine.travel(FRIDAY, tick=True):
        fam = make_family(world)
        BookerLink.objects.create(user=world.users.resident, person=fam.parent)
        a = Activity.objects.create(title="青少年冬令营", grid=world.grids["A1"], capacity=10, min_age=6, max_age=14,
                                    certificate_min=1, status="published")
        a.audience_communities.set([world.communities["A"]])
        first = add_session(None, a, starts_at=FRIDAY - dt.timedelta(minutes=10),
                            ends_at=FRIDAY + dt.timedelta(hours=1), place="社区A活动室")
        add_session(None, a, starts_at=FRIDAY + dt.timedelta(days=7), ends_at=FRIDAY + dt.timedelta(days=7, hours=1),
                    place="社区A活动室")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                    timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True,
                                    accept_downloads=True)
        p = phone.new_page()
        errors: list[str] = []
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        p.set_default_timeout(15000)
        p.base_url = page.base_url
        login(p, "resident")
        p.goto(p.base_url + "/activities/")
        item = p.locator(f"[data-activity='{a.pk}']")
        assert "张小明" in item.inner_text() and "张小红" in item.inner_text()
        shot(p, "activities-phone-browse")
        item.get_by_role("link").click()
        p.wait_for_load_state("networkidle")
        form = p.locator("[data-signup]")
        assert form.locator(f"input[value='{fam.bao.pk}']").is_disabled()  # 3 years old: the rule says why
        assert "6至14岁" in form.inner_text()
        form.locator(f"input[value='{fam.ming.pk}']").check()
        form.locator(f"input[value='{fam.hong.pk}']").check()
        shot(p, "activities-phone-signup")
        form.get_by_role("button").click()
        p.wait_for_load_state("networkidle")
        assert p.url.endswith("/activities/mine/")
        assert "报名成功" in p.locator(".messages").inner_text()
        s = SignUp.objects.get(activity=a)
        assert s.state == "confirmed" and s.size == 2
        row = p.locator(f"[data-signup='{s.pk}']")
        row.locator("details.ac-qr").first.locator("summary").click()
        assert row.locator("svg").count() == 2
        shot(p, "activities-phone-mine")
        # at the door: the code shown there opens the check-in page; one tap checks the family in
        p.goto(p.base_url + f"/activities/checkin/{first.checkin_token}/")
        p.locator("[data-self-checkin]").click()
        p.wait_for_load_state("networkidle")
        assert p.locator("[data-done]").count() == 2
        shot(p, "activities-phone-checkin")
        assert SessionAttendance.objects.filter(session=first, state="present").count() == 2
        p.goto(p.base_url + "/activities/mine/")
        with p.expect_download() as dl:
            p.locator("[data-certificate]").first.click()
        path = dl.value.path()
        assert Path(path).read_bytes()[:4] == b"%PDF"
        overflow = p.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow and errors == []
        phone.close()
