"""End to end in Chromium: the officer sees the freshness overview with its charts, then dismisses an issue with
a reason on the issue list (htmx, the row changes in place) — no console errors."""

from __future__ import annotations

import importlib

import pytest

from conftest import login
from quality import services
from quality.tests.conftest import add_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> list[str]:
    errors: list[str] = []

    def on_console(msg):
        url = (msg.location or {}).get("url", "")
        if msg.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"{msg.text} @ {url}")

    page.on("console", on_console)
    return errors


@pytest.fixture
def checked(world):
    """Policies re-seeded (a transactional test flushes the migration's rows), an issue in A1, half of A1 verified,
    this week's snapshot taken."""
    from django.apps import apps

    from quality import scores

    seed = importlib.import_module("quality.migrations.0002_default_policies").seed
    seed(apps, None)
    add_person(world.houses["A1"][5], "配偶甲", relation="spouse")
    services.recompute()
    services.stamp_verified(None, "visit", house_ids=[h.pk for h in world.houses["A1"][:12]])
    services.recompute()
    scores.take_snapshot()
    return world


def test_the_officer_reads_the_overview_and_dismisses_an_issue_with_a_reason(page, checked):
    from quality.models import QualityIssue

    errors = watch(page)
    login(page, "officer_a")
    page.goto(page.base_url + "/quality/")
    page.wait_for_selector("#quality-bar canvas")
    page.wait_for_selector("#quality-trend canvas")
    assert "A1网格" in page.inner_text("#grid-table")
    page.screenshot(path="test-artifacts/quality-overview.png", full_page=True)

    page.goto(page.base_url + "/quality/issues/")
    issue = QualityIssue.objects.get(rule="householder_missing", status="open")
    row = page.locator(f"#issue-{issue.pk}")
    assert "缺少户主" in row.inner_text() and "没有人登记为户主" in row.inner_text()
    row.locator("input[name=reason]").fill("户主长期在外，由配偶代管")
    row.locator("button[value=dismiss]").click()
    page.wait_for_selector(f"#issue-{issue.pk}.issue-dismissed")
    assert "户主长期在外" in page.inner_text(f"#issue-{issue.pk}")
    page.screenshot(path="test-artifacts/quality-issues.png", full_page=True)
    issue.refresh_from_db()
    assert (issue.status, issue.reason) == ("dismissed", "户主长期在外，由配偶代管")
    assert errors == []
