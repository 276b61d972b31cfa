"""The holiday table: seeded as the official calendar says (cross-checked with the chinesecalendar package for
every year both hold), loaded from it where it knows the year, edited by the system administrator, and reported
(system check cases.W001 and a banner) when the coming year has nothing entered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import checks
from django.urls import reverse

from cases import deadlines, holidays
from cases.checks import holidays_entered
from cases.models import Holiday
from conftest import verified_login
from tests.moments import SHANGHAI

D = dt.date.fromisoformat
EARLY_DECEMBER = dt.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
MIDSUMMER = dt.datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)


def table(year: int) -> dict[dt.date, bool]:
    return dict(Holiday.objects.filter(date__year=year).values_list("date", "is_workday"))


def test_the_seeded_table_matches_the_official_calendar_for_every_year_the_package_knows(db):
    years = sorted(holidays.package_years() & set(Holiday.objects.values_list("date__year", flat=True)))
    assert 2026 in years
    for year in years:
        official = {d: w for d, (w, _name) in holidays.official_days(year).items()}
        assert table(year) == official, year


def test_the_package_does_not_know_2027_yet_so_loading_it_is_refused(db):
    assert 2027 not in holidays.package_years()
    assert holidays.load_year(2027) is None
    assert not Holiday.objects.filter(date__year=2027).exists()


def test_loading_a_year_adds_its_days_off_and_worked_weekends_and_keeps_hand_edits(db):
    Holiday.objects.create(date=D("2025-01-01"), name="元旦（本地）")
    added = holidays.load_year(2025)
    assert added == len(holidays.official_days(2025)) - 1
    assert table(2025)[D("2025-01-26")] is True  # Sunday before the Spring Festival, worked
    assert table(2025)[D("2025-01-28")] is False
    assert Holiday.objects.get(date=D("2025-01-01")).name == "元旦（本地）"
    assert holidays.load_year(2025) == 0
    deadlines.invalidate()
    assert deadlines.add_working_days(D("2025-01-27"), 1) == D("2025-02-05")


@pytest.mark.time_machine(EARLY_DECEMBER)
def test_in_december_the_check_warns_that_the_coming_year_has_no_holidays(db):
    found = holidays_entered(databases=["default"])
    assert [(w.id, w.level) for w in found] == [("cases.W001", checks.WARNING)]
    assert "2027" in found[0].msg and "/cases/holidays/" in found[0].hint
    assert holidays.missing_years() == [2027]


@pytest.mark.time_machine(EARLY_DECEMBER)
def test_the_check_is_quiet_once_the_coming_year_is_entered(db):
    Holiday.objects.create(date=D("2027-01-01"), name="元旦")
    assert holidays_entered(databases=["default"]) == []


@pytest.mark.time_machine(MIDSUMMER)
def test_in_june_with_this_year_entered_there_is_no_warning(db):
    assert holidays_entered(databases=["default"]) == []
    assert holidays.missing_years() == []


@pytest.mark.time_machine(MIDSUMMER)
def test_a_year_with_nothing_entered_warns_even_before_december(db):
    Holiday.objects.filter(date__year=2026).delete()
    assert holidays.missing_years() == [2026]
    assert [w.id for w in holidays_entered(databases=["default"])] == ["cases.W001"]


@pytest.mark.time_machine(EARLY_DECEMBER)
def test_the_system_admin_sees_the_banner_in_december_and_an_officer_does_not(world, client):
    verified_login(client, world.users.sysadmin)
    page = client.get(reverse("home")).content.decode()
    assert "data-holiday-banner" in page and "2027" in page and reverse("cases:holidays") in page
    client.force_login(world.users.officer_a)
    assert "data-holiday-banner" not in client.get(reverse("home")).content.decode()


@pytest.mark.time_machine(MIDSUMMER)
def test_the_system_admin_sees_no_banner_in_june(world, client):
    verified_login(client, world.users.sysadmin)
    assert "data-holiday-banner" not in client.get(reverse("home")).content.decode()


@pytest.mark.time_machine(EARLY_DECEMBER)
def test_the_system_admin_enters_a_day_of_2027_and_the_banner_goes(world, client):
    verified_login(client, world.users.sysadmin)
    url = reverse("cases:holidays")
    page = client.get(url)
    assert page.status_code == 200 and "2027 年尚未录入放假安排" in page.content.decode()
    refused = client.post(url, {"action": "load", "year": "2027"})
    assert refused.status_code == 400 and "chinesecalendar 尚无该年安排" in refused.content.decode()
    bad = client.post(url, {"action": "add", "date": "2027-13-01", "name": "元旦"})
    assert bad.status_code == 400 and "日期" in bad.content.decode()
    done = client.post(url, {"action": "add", "date": "2027-01-01", "name": "元旦", "is_workday": "0"})
    assert done.status_code == 302
    assert Holiday.objects.get(date=D("2027-01-01")).is_workday is False
    assert not deadlines.is_workday(D("2027-01-01"))  # the calendar cache was dropped
    assert "data-holiday-banner" not in client.get(reverse("home")).content.decode()
    row = Holiday.objects.get(date=D("2027-01-01"))
    assert client.post(url, {"action": "delete", "pk": row.pk, "year": "2027"}).status_code == 302
    assert not Holiday.objects.filter(date=D("2027-01-01")).exists()


def test_only_who_may_configure_cases_sees_or_edits_the_holiday_table(world, client):
    client.force_login(world.users.officer_a)
    assert client.get(reverse("cases:holidays")).status_code == 403
    assert client.post(reverse("cases:holidays"), {"action": "add", "date": "2027-01-01",
                                                   "name": "元旦"}).status_code == 403
    assert not Holiday.objects.filter(date=D("2027-01-01")).exists()
