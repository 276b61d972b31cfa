"""End to end on a phone-sized screen (390×844) in Chromium: the grid worker's visit, the officer's approval, the
freshness that moves; the draft kept while offline and sent once when the connection returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import login, resident_id
from fieldwork.models import ChangeRequest, Visit
from people.models import Residence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
TENANT_ID = resident_id("11010119950505123")


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    ARTIFACTS.mkdir(exist_ok=True)
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"fieldwork-{name}.png"), full_page=True)


def freshness(grid) -> float:
    from quality.models import HouseStatus

    rows = HouseStatus.objects.filter(grid_id=grid.pk)
    return rows.filter(is_stale=False).count() / rows.count()


def test_a_worker_records_a_move_out_and_a_new_tenant_an_officer_approves_and_freshness_moves(phone, fw):
    world, page = fw, phone
    house = world.houses["A1"][0]
    leaving = Residence.objects.filter(house=house, moved_out__isnull=True, relation="spouse").get().person
    before = freshness(world.grids["A1"])

    login(page, "worker_a1")
    page.goto(page.base_url + "/fieldwork/today/")
    assert page.locator(".fw-building").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "today")
    page.click(f"a[data-house='{house.pk}']")
    page.wait_for_url(f"**/fieldwork/houses/{house.pk}/")
    shot(page, "house")

    page.click("summary:has-text('迁出')")
    page.check(f"input[name=move_out][value='{leaving.pk}']")
    page.fill("input[name=move_out_reason]", "租约到期")
    page.click("summary:has-text('入住')")
    page.check("input[name=add_person]")
    page.fill("input[name='new-name']", "林黛玉")
    page.fill("input[name='new-id_number']", TENANT_ID)
    page.select_option("select[name='new-residency_type']", "floating")
    page.select_option("select[name='new-relation']", "none")
    page.select_option("select[name='new-role']", "tenant")
    page.fill("textarea[name=note]", "房东告知原住户已搬走，新租户入住")
    shot(page, "house-filled")
    page.click("[data-testid=submit-visit]")
    page.wait_for_url("**/fieldwork/visits/*/")
    shot(page, "visit-done")
    assert page.locator(".fw-change[data-status=applied]").count() == 1
    assert page.locator(".fw-change[data-status=pending]").count() == 1
    assert not Residence.objects.filter(person=leaving, house=house, moved_out__isnull=True).exists()
    after_visit = freshness(world.grids["A1"])
    assert after_visit > before

    page.context.clear_cookies()
    login(page, "officer_a")
    page.goto(page.base_url + "/fieldwork/review/")
    cr = ChangeRequest.objects.get(kind="new_person")
    card = page.locator(f"#cr-{cr.pk}")
    assert "林黛玉" in card.inner_text() and TENANT_ID not in page.content()
    shot(page, "review")
    card.locator("[data-testid=approve]").click()
    page.wait_for_selector(f"#cr-{cr.pk}[data-status=applied]")
    shot(page, "review-approved")
    assert Residence.objects.filter(house=house, person__name="林黛玉", moved_out__isnull=True,
                                    source="visit").exists()
    from quality.models import PersonStatus

    tenant = Residence.objects.get(house=house, person__name="林黛玉").person
    assert PersonStatus.objects.filter(pk=tenant.pk, last_verified_at__isnull=False).exists()
    assert freshness(world.grids["A1"]) >= after_visit > before

    page.goto(page.base_url + f"/fieldwork/houses/{house.pk}/history/")
    assert page.locator("tr[data-kind=new_person][data-source=visit][data-status=applied]").count() == 1
    assert page.locator("tr[data-kind=move_out][data-source=visit][data-status=applied]").count() == 1
    shot(page, "history")
    assert not [e for e in page.console_errors if "favicon" not in e]


def test_a_draft_submitted_offline_is_sent_once_when_the_connection_returns(phone, fw):
    world, page = fw, phone
    house = world.houses["A1"][1]
    login(page, "worker_a1")
    page.goto(page.base_url + f"/fieldwork/houses/{house.pk}/")
    page.fill("textarea[name=note]", "楼道门禁坏了，已告知物业")
    page.context.set_offline(True)
    page.click("[data-testid=submit-visit]")
    page.wait_for_selector("[data-draft-status][data-state=queued]")
    assert page.locator("[data-offline-banner]").first.is_visible()
    shot(page, "offline-queued")
    assert Visit.objects.count() == 0
    # A second tap while still offline queues the same submission (same client id), not a second one.
    page.click("[data-testid=submit-visit]")
    page.wait_for_selector("[data-offline-round][data-waiting='1']")
    assert page.evaluate("RenfangOffline.entries().then(e => e.length)") == 1
    page.context.set_offline(False)
    page.wait_for_url("**/fieldwork/visits/*/")
    shot(page, "offline-sent")
    assert Visit.objects.count() == 1
    visit = Visit.objects.get()
    assert visit.note == "楼道门禁坏了，已告知物业" and visit.house_id == house.pk
    assert page.evaluate(f"localStorage.getItem('renfang.fieldwork.draft.{house.pk}')") is None
    page.reload()
    assert Visit.objects.count() == 1


def test_the_draft_survives_a_reload_of_the_page(phone, fw):
    world, page = fw, phone
    house = world.houses["A1"][1]
    login(page, "worker_a1")
    page.goto(page.base_url + f"/fieldwork/houses/{house.pk}/")
    cid = page.input_value("form[data-draft-form] input[name=client_id]")
    page.fill("textarea[name=note]", "住户外出，改日再访")
    page.reload()
    assert page.input_value("textarea[name=note]") == "住户外出，改日再访"
    assert page.input_value("form[data-draft-form] input[name=client_id]") == cid
    assert page.locator("[data-draft-banner]").is_visible()


def test_another_grids_house_is_not_found_in_the_browser(phone, fw):
    page = phone
    login(page, "worker_b1")
    response = page.goto(page.base_url + f"/fieldwork/houses/{fw.houses['A1'][0].pk}/")
    assert response.status == 404


def test_the_workload_page_draws_visits_per_worker_and_reassigns(page, fw):
    from fieldwork import services
    from fieldwork.tests.conftest import fresh, new_id
    from quality.models import HouseStatus

    world = fw
    services.submit_visit(fresh(world.users.worker_a1), world.houses["A1"][0], client_id=new_id(),
                          items=[{"kind": "unchanged"}])
    login(page, "officer_a")
    page.goto(page.base_url + "/fieldwork/workload/")
    page.wait_for_selector("#fw-chart[data-ready='1'] canvas")
    target = world.houses["A1"][7]
    page.check(f"input[name=houses][value='{target.pk}']")
    page.select_option("select[name=worker]", str(world.users.worker_a1.pk))
    shot(page, "workload")
    page.click("[data-testid=assign]")
    page.wait_for_selector(".msg-success")
    assert HouseStatus.objects.get(pk=target.pk).assignee_id == world.users.worker_a1.pk
    assert not [e for e in page.console_errors if "favicon" not in e]


def test_two_workers_on_one_house_the_second_sees_both_versions_and_the_first_change_survives(phone, fw):
    world, first = fw, phone
    house = world.houses["A1"][0]
    spouse = Residence.objects.get(house=house, moved_out__isnull=True, relation="spouse").person
    context = first.context.browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    second = context.new_page()
    second.base_url = first.base_url
    try:
        login(first, "worker_a1")
        login(second, "officer_a")
        for p in (first, second):
            p.goto(p.base_url + f"/fieldwork/houses/{house.pk}/")
        first.click("summary:has-text('迁出')")
        first.check(f"input[name=move_out][value='{spouse.pk}']")
        first.click("[data-testid=submit-visit]")
        first.wait_for_url("**/fieldwork/visits/*/")

        second.click("summary:has-text('用途')")
        second.select_option("select[name=new_use]", "rented")
        second.click("[data-testid=submit-visit]")  # through the phone's queue: the 409 comes back to the page
        second.wait_for_selector("[data-entry][data-state=conflict]")
        shot(second, "conflict")
        text = second.inner_text("[data-entry]")
        assert "出租" in text and spouse.name not in text.split("当前保存的")[-1]
        house.refresh_from_db()
        assert house.use == "owner"
        assert not Residence.objects.filter(house=house, person=spouse, moved_out__isnull=True).exists()
        second.click("[data-testid=submit-visit]")  # resubmitted on the current version, it goes through
        second.wait_for_url("**/fieldwork/visits/*/")
        assert ChangeRequest.objects.filter(house=house, kind="change_use", status="pending").count() == 1
    finally:
        context.close()
