"""In Chromium on a phone-sized screen (390×844): a resident reports through the compound's link with a phone
code and a photo, lands on the tracking page; screenshots in test-artifacts/."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SENT: list[tuple[str, str]] = []


class MemoryBackend:
    def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


@pytest.fixture
def seeded(world, settings, tmp_path):
    from django.apps import apps

    import_module("cases.migrations.0002_seed").seed(apps, None)  # transactional tests flush seeded rows
    settings.RENFANG_SMS_BACKEND = "cases.tests.test_public_browser.MemoryBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    SENT.clear()
    return world


def test_a_resident_reports_on_a_phone_and_sees_the_tracking_page(page, seeded, tmp_path):
    from PIL import Image

    from cases.models import Case
    from cases.public_views import compound_token

    ARTIFACTS.mkdir(exist_ok=True)
    photo = tmp_path / "rubbish.jpg"
    Image.new("RGB", (64, 48), "green").save(photo, "JPEG")
    page.set_viewport_size({"width": 390, "height": 844})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in (
        (m.location or {}).get("url", "")) else None)
    page.goto(page.base_url + f"/cases/r/{compound_token(seeded.compounds['A1'])}/")
    page.select_option("#id_category", label="垃圾堆放")
    page.fill("#id_description", "1幢门口垃圾堆了三天没人清运，气味很大")
    page.fill("#id_phone", "13912345678")
    page.click("#send-code")
    page.wait_for_selector("#code-status input[name=challenge]", state="attached")
    assert "139****5678" in page.inner_text("#code-status")
    code = re.search(r"\d{6}", SENT[-1][1]).group(0)
    page.fill("#id_code", code)
    page.set_input_files("#id_photo", str(photo))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(ARTIFACTS / "cases-public-report-390.png"), full_page=True)
    page.click("button.pub-submit")
    page.wait_for_url(re.compile(r"/cases/track/RF-\d{4}-\d{6}/$"))
    case = Case._base_manager.get()
    assert case.number in page.inner_text(".pub-number") and case.attachments.count() == 1
    assert "已收到您的反映" in page.inner_text(".pub-timeline")
    assert "13912345678" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "cases-public-track-390.png"), full_page=True)
    assert errors == []
