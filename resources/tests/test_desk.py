"""代预约 at the community's desk: a resident without a phone booked by the officer, found by ID number or phone
among the officer's places, the same time on consecutive weeks with every rule of a booking applied and the weeks
that fail listed with why; nobody outside the officer's places; the number typed never in a URL or the audit."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from conftest import resident_id
from resources.models import Booking

from .conftest import at

pytestmark = pytest.mark.django_db
NOW = "2026-03-09 10:00 +0800"  # a Monday
WEDNESDAY = dt.date(2026, 3, 11)
WANG_FANG = resident_id("32050719500505004")  # conftest.py's world: 王芳 of A1, phone 13800138003
SUN_ERNIANG = resident_id("32050719450101001")  # 孙二娘 of community B


def desk_form(client, resource) -> dict:
    """The fields of the week page's form[data-desk] with the values the page gives them."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.fields = False, {}

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.inside = "data-desk" in a
            elif tag == "input" and self.inside and a.get("name"):
                self.fields[a["name"]] = a.get("value") or ""

    parser = Form()
    parser.feed(client.get(reverse("resources:resource", args=[resource.pk])).content.decode())
    assert parser.fields, "the officer's week page has the desk form"
    return parser.fields


@time_machine.travel(NOW, tick=False)
def test_the_officer_books_three_wednesdays_for_a_resident_and_the_blacked_out_one_is_listed(world, site, client):
    from resources import services

    officer = world.users.officer_a
    services.add_blackout(officer, site.room, at(WEDNESDAY + dt.timedelta(days=7), 8),
                          at(WEDNESDAY + dt.timedelta(days=7), 21), "地面维修")
    client.force_login(officer)
    fields = desk_form(client, site.room)
    assert fields["weeks"] == "1" and fields["starts"] == "08:00"
    number = WANG_FANG
    r = client.post(reverse("resources:desk", args=[site.room.pk]),
                    {**fields, "number": f" {number.lower()} ", "day": WEDNESDAY.isoformat(), "starts": "14:00",
                     "ends": "16:00", "weeks": "3"})
    assert r.status_code == 200
    page = r.content.decode()
    booked = list(Booking.objects.filter(person=world.people["王芳"], resource=site.room).order_by("starts_at"))
    assert [b.starts_at for b in booked] == [at(WEDNESDAY, 14), at(WEDNESDAY + dt.timedelta(days=14), 14)]
    assert all(b.channel == "desk" for b in booked)
    assert "地面维修" in page and "为 王* 代约" in page and "王芳" not in page
    assert 'data-cancel' not in page, "the resident's cancel button is not the officer's"
    from core.models import AuditEvent

    events = AuditEvent.objects.filter(action="book", object_type="resources.booking")
    assert events.count() == 2 and all(e.user_id == officer.pk for e in events)
    assert not AuditEvent.objects.filter(changes__icontains=number).exists()
    assert number not in r.request["PATH_INFO"] and number not in r.request.get("QUERY_STRING", "")


@time_machine.travel(NOW, tick=False)
def test_found_by_the_registered_phone_and_the_rules_still_say_no(world, site, client):
    client.force_login(world.users.officer_a)
    fields = desk_form(client, site.garage)
    # 王芳 lives in A1花园: the garage's night window is for A1花园 and A2花园 — booked
    r = client.post(reverse("resources:desk", args=[site.garage.pk]),
                    {**fields, "number": "138 0013 8003", "day": WEDNESDAY.isoformat(), "starts": "19:00",
                     "ends": "23:00"})
    assert r.status_code == 200 and Booking.objects.filter(person=world.people["王芳"]).count() == 1
    # the A1花园 lot by day is for employees of the tower's enterprises: the rule says no, as it would to her
    r = client.post(reverse("resources:desk", args=[site.lot.pk]),
                    {**desk_form(client, site.lot), "number": "13800138003", "day": WEDNESDAY.isoformat(),
                     "starts": "09:00", "ends": "12:00"})
    assert r.status_code == 200
    assert "仅限元和大厦内企业的员工" in r.content.decode()
    assert not Booking.objects.filter(person=world.people["王芳"], resource__parent=site.lot).exists()


@time_machine.travel(NOW, tick=False)
def test_nobody_outside_the_officers_places_and_no_desk_without_the_permission(world, site, client):
    client.force_login(world.users.officer_a)
    fields = desk_form(client, site.room)
    r = client.post(reverse("resources:desk", args=[site.room.pk]),
                    {**fields, "number": SUN_ERNIANG, "day": WEDNESDAY.isoformat()}, follow=True)
    assert "在您管辖的人员中没有找到该证件号或手机号" in r.content.decode()
    assert not Booking.objects.exists()
    for bad in ({"weeks": "9"}, {"weeks": "x"}, {"day": "2026-02-30"}, {"starts": "25:00"}):
        r = client.post(reverse("resources:desk", args=[site.room.pk]),
                        {**fields, "number": WANG_FANG, "day": WEDNESDAY.isoformat(), **bad},
                        follow=True)
        assert r.status_code == 200 and not Booking.objects.exists(), bad
        assert "请填写日期、开始和结束时间，重复周数为1到8" in r.content.decode(), bad
    client.force_login(world.users.worker_a1)  # grid workers check in, they do not book for others
    page = client.get(reverse("resources:resource", args=[site.room.pk])).content.decode()
    assert "data-desk" not in page
    r = client.post(reverse("resources:desk", args=[site.room.pk]), {**fields, "number": "x"})
    assert r.status_code == 403
