"""The pages: a resident books, sees and cancels on a phone, checks in from the QR code; staff see the week grid,
the day sheet, approve and check in by plate — each inside their places only."""

from __future__ import annotations

import datetime as dt
import re

import time_machine

from resources.choices import BookingState
from resources.models import BookerLink, Booking
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
NOW = "2026-03-09 10:00 +0800"


def linked(world, client, name="张三"):
    BookerLink.objects.create(user=world.users.resident, person=world.people[name])
    client.force_login(world.users.resident)
    return world.people[name]


@time_machine.travel(NOW, tick=False)
def test_a_resident_sees_what_they_may_book_and_why_not_in_plain_chinese(world, site, client):
    linked(world, client, "孙二娘")  # lives in B1花园: not on the tower's night list
    html = client.get("/resources/").content.decode()
    assert "元和大厦地下车库" in html and "荟·客厅" in html
    assert "不可预约：仅限A1花园、A2花园的现住居民" in html
    assert "B1-01" not in html, "the single spaces of a pool are not offered one by one"


def test_an_account_without_a_registry_person_is_told_how_to_get_one(world, client):
    client.force_login(world.users.resident)
    response = client.get("/resources/")
    assert response.status_code == 403 and "社区服务站" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_resident_books_a_night_space_sees_it_and_cancels_it(world, site, client):
    person = linked(world, client)
    page = client.get(f"/resources/book/{site.garage.pk}/?date={MONDAY}").content.decode()
    assert "空余车位 10/10" in page and "19:00–次日08:00" in page
    assert "Node" not in page, "no template internals on the page (a context variable named block)"
    start, end = at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8)
    response = client.post(f"/resources/book/{site.garage.pk}/new/", {"start": start.isoformat(),
                                                                      "end": end.isoformat()}, follow=True)
    booking = Booking.objects.get(person=person)
    assert booking.resource.parent == site.garage and booking.state == BookingState.CONFIRMED
    html = response.content.decode()
    assert "预约成功：元和大厦地下车库 B1-01" in html and "元和大厦地下车库 B1-01" in html and "取消预约" in html
    client.post(f"/resources/mine/{booking.pk}/cancel/")
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


@time_machine.travel(NOW, tick=False)
def test_a_refused_booking_says_why_on_the_day_page(world, site, client):
    linked(world, client, "孙二娘")
    start, end = at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8)
    response = client.post(f"/resources/book/{site.garage.pk}/new/", {"start": start.isoformat(),
                                                                      "end": end.isoformat()}, follow=True)
    assert "仅限A1花园、A2花园的现住居民" in response.content.decode()
    assert not Booking.objects.exists()


def test_check_in_from_the_qr_code_of_the_garage(world, site, client):
    from resources import services

    with time_machine.travel(NOW, tick=False):
        person = linked(world, client)
        services.book(person, site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8),
                      user=world.users.resident)
    with time_machine.travel("2026-03-09 19:05 +0800", tick=False):
        page = client.get(f"/resources/checkin/{site.garage.qr_token}/").content.decode()
        assert "确认签到" in page
        response = client.post(f"/resources/checkin/{site.garage.qr_token}/", follow=True)
        assert "签到成功" in response.content.decode()
    assert Booking.objects.get(person=person).state == BookingState.CHECKED_IN


@time_machine.travel(NOW, tick=False)
def test_staff_week_grid_and_day_sheet_show_bookings_with_masked_names(world, site, client):
    from resources import services

    services.book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    client.force_login(world.users.worker_a1)
    listing = client.get("/resources/staff/").content.decode()
    assert "元和大厦地下车库" in listing and f'href="/resources/staff/{site.garage.pk}/"' in listing
    week = client.get(f"/resources/staff/{site.garage.pk}/").content.decode()
    assert "张*" in week and "张三" not in week and "1/10" in week
    sheet = client.get(f"/resources/staff/{site.garage.pk}/sheet/?date={MONDAY}").content.decode()
    assert "张*" in sheet and "张三" not in sheet and "B1-01" in sheet
    home = client.get("/").content.decode()
    assert 'href="/resources/staff/"' in home[home.index('class="mainnav"'):home.index("</nav>")]


@time_machine.travel(NOW, tick=False)
def test_staff_of_another_grid_see_neither_the_resource_nor_the_menu_entry(world, site, client):
    client.force_login(world.users.worker_b1)
    assert client.get(f"/resources/staff/{site.garage.pk}/").status_code == 404
    assert "元和大厦地下车库" not in client.get("/resources/staff/").content.decode()
    client.force_login(world.users.resident)
    assert client.get("/resources/staff/").status_code == 403
    home = client.get("/").content.decode()
    assert "/resources/staff/" not in home


@time_machine.travel(NOW, tick=False)
def test_the_officer_approves_and_the_grid_worker_may_not(world, site, client):
    from resources import services

    site.room.needs_approval = True
    site.room.save()
    b = services.book(world.people["张三"], site.room, at(MONDAY, 14), at(MONDAY, 16))
    assert b.state == BookingState.PENDING
    client.force_login(world.users.worker_a1)
    assert client.post(f"/resources/staff/bookings/{b.pk}/approve/").status_code == 403
    client.force_login(world.users.officer_a)
    assert "张*" in client.get("/resources/staff/pending/").content.decode()
    client.post(f"/resources/staff/bookings/{b.pk}/approve/")
    b.refresh_from_db()
    assert b.state == BookingState.CONFIRMED


def test_check_in_by_plate_at_the_gate(world, site, client):
    from resources import services

    with time_machine.travel(NOW, tick=False):
        services.register_vehicle(None, "苏E12345", house=world.houses["A1"][0])
        b = services.book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    with time_machine.travel("2026-03-09 19:10 +0800", tick=False):
        client.force_login(world.users.worker_a1)
        bad = client.post("/resources/staff/plate/", {"plate": "苏E1234"})
        assert bad.status_code == 400
        ok = client.post("/resources/staff/plate/", {"plate": "苏e12345"}, HTTP_HX_REQUEST="true")
        assert "苏E12345 已签到" in ok.content.decode() and "张*" in ok.content.decode()
    b.refresh_from_db()
    assert b.state == BookingState.CHECKED_IN


@time_machine.travel(NOW, tick=False)
def test_a_resident_books_the_same_hour_every_week_and_sees_the_dates_that_failed(world, site, client):
    from cases.models import Holiday

    person = linked(world, client)
    zone = site.zones[1]
    Holiday.objects.update_or_create(date=MONDAY + dt.timedelta(weeks=1),
                                     defaults={"name": "测试假日", "is_workday": False})
    site.room.closed_on_holidays = True
    site.room.save()
    zone.closed_on_holidays = True
    zone.horizon_days = 31
    zone.save()
    from resources import services

    services.book(world.people["李四"], zone, at(MONDAY + dt.timedelta(weeks=2), 14),
                  at(MONDAY + dt.timedelta(weeks=2), 15))
    page = client.get(f"/resources/book/{zone.pk}/?date={MONDAY}").content.decode()
    assert "每周同一时间预约" in page
    slot = re.search(r'<option value="([^"|]+\|[^"]+)">3月9日 周一 14:00', page).group(1)
    html = client.post(f"/resources/book/{zone.pk}/weekly/", {"slot": slot, "weeks": "4"}).content.decode()
    booked = Booking.objects.filter(person=person, resource=zone).order_by("starts_at")
    assert [b.starts_at.date().isoformat() for b in booked] == ["2026-03-09", "2026-03-30"]
    assert "已预约 2 次" in html and "3月16日 周一" in html and "3月23日 周一" in html
    assert "不开放" in html and "已被预约" in html
