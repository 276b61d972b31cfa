"""In a real browser, a community officer submits the people list's and the houses list's filter forms with every
other field left at its default (全部, empty search box) and one filter chosen: the rows of that filter come back.
Screenshots at the officer's desk size are saved in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import build_world, login

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture
def live_world(transactional_db):
    return build_world()


def submit(page, url: str, select: str, label: str) -> int:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(page.base_url + url)
    page.select_option(f"form.filters select[name={select}]", label=label)
    with page.expect_response(lambda r: url in r.url and "=" in r.url) as sent:
        page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    query = sent.value.url.split("?", 1)[1]
    assert "q=" in query  # the defaults went with it: the empty search box at least
    return page.locator("#object-table table.list tbody tr").count()


def test_the_people_list_form_with_its_defaults_and_a_grid_lists_that_grids_people(page, live_world):
    login(page, "officer_a")
    n = submit(page, "/people/", "grid_id", "A1网格")
    page.screenshot(path=str(ARTIFACTS / "list-form-people-grid.png"), full_page=True)
    assert n == 4
    assert "没有符合条件的记录" not in page.inner_text("#object-table")
    assert not page.console_errors


def test_the_houses_list_form_with_its_defaults_and_a_use_lists_those_houses(page, live_world):
    login(page, "officer_a")
    n = submit(page, "/places/houses/", "use", "自住")
    page.screenshot(path=str(ARTIFACTS / "list-form-houses-use.png"), full_page=True)
    assert n == 48  # community A: two grids of 24 homes, all lived in by their owners
    assert "没有符合条件的记录" not in page.inner_text("#object-table")
    assert not page.console_errors
