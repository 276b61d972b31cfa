"""The API, the calendar feeds and the export of use: scoped like the pages, refusals in Chinese, no names where
whoever holds a feed's address would read them."""

from __future__ import annotations

import datetime as dt
import io

import time_machine
from icalendar import Calendar
from openpyxl import load_workbook
from rest_framework.test import APIClient

from resources.choices import BookingState
from resources.models import BookerLink, Booking
from resources.services import book
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
NOW = "2026-03-09 10:00 +0800"


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@time_machine.travel(NOW, tick=False)
def test_staff_list_the_resources_of_their_places_only(world, site):
    ids = {r["id"] for r in api(world.users.officer_a).get("/api/resources/resources/?page_size=100").json()["results"]}
    assert site.garage.pk in ids and site.room.pk in ids
    assert api(world.users.worker_b1).get("/api/resources/resources/").json()["count"] == 0
    assert api(world.users.resident).get("/api/resources/resources/").json()["count"] == 0
    kinds = api(world.users.officer_a).get("/api/resources/resources/?kind=zone").json()
    assert {r["name"] for r in kinds["results"]} == {"荟·客厅阅读区", "荟·客厅活动区", "荟·客厅共享厨房"}


@time_machine.travel(NOW, tick=False)
def test_availability_counts_the_free_spaces_of_a_pool(world, site):
    book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    body = api(world.users.officer_a).get(f"/api/resources/resources/{site.garage.pk}/availability/?date={MONDAY}")
    assert body.status_code == 200
    (night,) = body.json()
    assert night["left"] == 9 and night["total"] == 10 and night["label"] == "夜间"
    bad = api(world.users.officer_a).get(f"/api/resources/resources/{site.garage.pk}/availability/?date=9999-99-99")
    assert bad.status_code == 400 and "date" in bad.json()


@time_machine.travel(NOW, tick=False)
def test_a_linked_account_books_through_the_api_with_the_same_rules(world, site):
    BookerLink.objects.create(user=world.users.resident, person=world.people["张三"])
    c = api(world.users.resident)
    ok = c.post("/api/resources/my-bookings/", {"resource": site.garage.pk, "starts_at": at(MONDAY, 19).isoformat(),
                                                 "ends_at": at(MONDAY + dt.timedelta(days=1), 8).isoformat()},
                format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["resource_name"] == "元和大厦地下车库 B1-01" and ok.json()["state"] == BookingState.CONFIRMED
    day = c.post("/api/resources/my-bookings/", {"resource": site.lot.pk, "starts_at": at(MONDAY, 9).isoformat(),
                                                  "ends_at": at(MONDAY, 12).isoformat()}, format="json")
    assert day.status_code == 400 and "白天时段仅限" in day.json()["non_field_errors"][0]
    mine = c.get("/api/resources/my-bookings/").json()
    assert mine["count"] == 1 and "booker" not in mine["results"][0]
    booking_id = mine["results"][0]["id"]
    cancelled = c.post(f"/api/resources/my-bookings/{booking_id}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == BookingState.CANCELLED


def test_an_account_without_a_registry_person_is_refused_in_chinese(world, site):
    r = api(world.users.resident).get("/api/resources/my-bookings/")
    assert r.status_code == 403 and "尚未关联到实有人口登记" in r.json()["detail"]


@time_machine.travel(NOW, tick=False)
def test_someone_elses_booking_is_not_found_from_my_bookings(world, site):
    other = book(world.people["李四"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    BookerLink.objects.create(user=world.users.resident, person=world.people["张三"])
    c = api(world.users.resident)
    assert c.get(f"/api/resources/my-bookings/{other.pk}/").status_code == 404
    assert c.post(f"/api/resources/my-bookings/{other.pk}/cancel/").status_code == 404
    assert c.get("/api/resources/my-bookings/abc/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_staff_book_for_a_resident_of_their_places_and_see_the_booker_masked(world, site):
    officer = api(world.users.officer_a)
    r = officer.post("/api/resources/bookings/", {"resource": site.canteen.pk, "person": world.people["张三"].pk,
                                                  "starts_at": at(MONDAY, 11, 30).isoformat(), "seats": 2},
                     format="json")
    assert r.status_code == 201, r.content
    assert r.json()["booker"] == "张*" and r.json()["seats"] == 2
    outside = [p for n, p in world.people.items() if p.pk not in
               set(type(p).objects.restrict(world.users.officer_a, "view").values_list("pk", flat=True))][0]
    r = officer.post("/api/resources/bookings/", {"resource": site.canteen.pk, "person": outside.pk,
                                                  "starts_at": at(MONDAY, 11, 30).isoformat()}, format="json")
    assert r.status_code == 400 and "不在您的管辖范围内" in r.json()["person"][0]
    # a grid worker of the tower's grid sees the booking; one of another community does not
    assert api(world.users.worker_a1).get("/api/resources/bookings/").json()["count"] == 1
    assert api(world.users.worker_b1).get("/api/resources/bookings/").json()["count"] == 0
    # a grid worker may not book for others (no add_booking)
    r = api(world.users.worker_a1).post("/api/resources/bookings/", {
        "resource": site.canteen.pk, "person": world.people["张三"].pk,
        "starts_at": at(MONDAY, 11, 30).isoformat()}, format="json")
    assert r.status_code == 403


@time_machine.travel("2026-03-09 19:10 +0800", tick=False)
def test_staff_check_a_booking_in_at_the_gate_and_cancel_another(world, site):
    a = book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    b = book(world.people["李四"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    worker = api(world.users.worker_a1)
    r = worker.post(f"/api/resources/bookings/{a.pk}/check-in/")
    assert r.status_code == 200 and r.json()["state"] == BookingState.CHECKED_IN
    assert api(world.users.worker_b1).post(f"/api/resources/bookings/{b.pk}/check-in/").status_code == 404
    r = worker.post(f"/api/resources/bookings/{b.pk}/cancel/")
    assert r.status_code == 200 and r.json()["state"] == BookingState.CANCELLED
    r = worker.post(f"/api/resources/bookings/{b.pk}/cancel/")
    assert r.status_code == 400 and "不在有效状态" in r.json()["non_field_errors"][0]


@time_machine.travel(NOW, tick=False)
def test_the_bookers_feed_lists_their_bookings_and_the_resources_feed_names_nobody(world, site, client):
    link = BookerLink.objects.create(user=world.users.resident, person=world.people["张三"])
    book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    book(world.people["李四"], site.room, at(MONDAY, 14), at(MONDAY, 16))
    r = client.get(f"/resources/ical/me/{link.ical_token}.ics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    (event,) = cal.walk("VEVENT")
    assert str(event["summary"]) == "元和大厦地下车库 B1-01"
    assert event.decoded("dtstart").hour == 19 and str(event.decoded("dtstart").tzinfo) == "Asia/Shanghai"
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(hours=13)
    room = client.get(f"/resources/ical/resource/{site.room.ical_token}.ics").content.decode()
    assert "荟·客厅" in room and "李四" not in room and "李*" not in room
    assert client.get("/resources/ical/me/not-a-token.ics").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_export_of_use_is_the_officers_places_masked_and_audited(world, site, client):
    from core.models import AuditEvent

    book(world.people["张三"], site.garage, at(MONDAY, 19), at(MONDAY + dt.timedelta(days=1), 8))
    client.force_login(world.users.worker_a1)
    assert client.get(f"/resources/staff/export/?start={MONDAY}").status_code == 403
    client.force_login(world.users.officer_a)
    r = client.get(f"/resources/staff/export/?start={MONDAY}&end={MONDAY + dt.timedelta(days=6)}")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert "officer_a" in rows[0][0] and rows[1][0] == "资源"
    assert rows[2][:3] == ["元和大厦地下车库", "B1-01", MONDAY.isoformat()] and rows[2][8] == "张*"
    assert len(rows) == 3
    assert AuditEvent.objects.filter(action="export", object_type="resources.booking").exists()
    week = client.get(f"/resources/staff/{site.garage.pk}/?start={MONDAY}").content.decode()
    assert "/resources/staff/export/" in week and f"/resources/ical/resource/{site.garage.ical_token}.ics" in week
    assert Booking.objects.count() == 1
