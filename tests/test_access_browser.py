"""In a real browser: a grid worker meets another grid's house as a 404, sees masked numbers, reveals one with a
reason; the auditor then finds that reveal in the audit page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from conftest import build_world, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PURPOSE = "核实户籍信息（浏览器测试）"


def test_grid_worker_reveals_one_number_with_a_reason_and_the_auditor_finds_it(page, browser):
    from core.models import Grant

    world = build_world()
    # The grid worker role cannot reveal; the security admin gave worker_a1 a temporary grant on their own grid
    # that can (the community officer's role), as data, expiring tomorrow.
    Grant.objects.create(user=world.users.worker_a1, role=world.roles["community_officer"], level="grid",
                         grid_id=world.grids["A1"].pk, community_id=world.communities["A"].pk,
                         street_id=world.street.pk, expires_at=timezone.now() + dt.timedelta(days=1),
                         reason="临时协助核查", granted_by=world.users.secadmin)
    zhang = world.people["张三"]
    clear = zhang.reveal_id_number()
    other_house = world.houses["B1"][0]

    login(page, "worker_a1")
    assert "/access/login/" not in page.url
    r = page.goto(f"{page.base_url}/places/houses/{other_house.pk}/")
    assert r.status == 404

    r = page.goto(f"{page.base_url}/people/{zhang.pk}/")
    assert r.status == 200
    body = page.content()
    assert zhang.id_number_masked in body and clear not in body
    assert not re.search(r"\d{17}[\dXx]", page.inner_text("body"))

    page.fill("#reveal-purpose", PURPOSE)
    page.click("button[name=field][value=id_number]")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("[data-revealed=id_number]").strip() == clear
    page.goto(f"{page.base_url}/people/{zhang.pk}/")  # the clear number was shown for that response only
    assert clear not in page.content()

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    auditor = context.new_page()
    auditor.base_url = page.base_url
    try:
        login(auditor, "auditor")
        r = auditor.goto(f"{page.base_url}/access/audit/?action=reveal&username=worker_a1")
        assert r.status == 200
        row = auditor.locator("tr.audit-row", has_text=PURPOSE)
        assert row.count() == 1
        text = row.inner_text()
        assert "worker_a1" in text and "reveal" in text and "id_number" in text and clear not in text
        assert clear not in auditor.content()
    finally:
        context.close()
