"""Keeping the resources: an officer adds and changes them with the form as the page sends it, inside their places
only; a blackout closes a resource and, when asked, cancels the bookings inside it and tells each booker."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from notify.models import Notification
from resources import services
from resources.choices import BookingState
from resources.models import BookerLink, Booking, Resource
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
NOW = "2026-03-09 10:00 +0800"


def page_form(html: str) -> dict:
    """The form's fields with the values the page filled in (checkboxes only when checked), as a browser sends."""
    form = html[html.index("data-resource-form"):]
    form = form[:form.index("</form>")]
    data = {}
    for m in re.finditer(r"<input([^>]*)>", form):
        attrs = m.group(1)
        name = re.search(r'name="([^"]+)"', attrs)
        if not name or name.group(1) == "csrfmiddlewaretoken":
            continue
        if 'type="checkbox"' in attrs:
            if " checked" in attrs:
                data[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', attrs)
        data[name.group(1)] = value.group(1) if value else ""
    for m in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', m.group(2))
        data[m.group(1)] = chosen.group(1) if chosen else ""
    for m in re.finditer(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[m.group(1)] = m.group(2).strip()
    return data


def test_an_officer_adds_a_room_with_the_form_as_the_page_sends_it(world, site, client):
    client.force_login(world.users.officer_a)
    html = client.get("/resources/staff/new/").content.decode()
    data = page_form(html)
    assert data["opens_at"] == "08:00" and data["weekdays"] == "1234567" and data["kind"] == "space"
    data.update(name="党群活动室", compound=str(world.compounds["A2"].pk))
    response = client.post("/resources/staff/new/", data)
    assert response.status_code == 302, re.findall(r"errorlist[^>]*><li>([^<]+)", response.content.decode())
    room = Resource.objects.get(name="党群活动室")
    assert (room.grid_id, room.community_id) == (world.grids["A2"].pk, world.communities["A"].pk)
    assert AuditEvent.objects.filter(action="add", object_type="resources.resource", object_id=str(room.pk)).exists()
    # a compound of another community is not among the choices; a grid worker may not add at all
    data.update(name="越界", compound=str(world.compounds["B1"].pk))
    refused = client.post("/resources/staff/new/", data)
    assert refused.status_code == 400 and "选择一个有效的选项" in refused.content.decode()
    client.force_login(world.users.worker_a1)
    assert client.get("/resources/staff/new/").status_code == 403


def test_an_officer_changes_a_resource_and_bad_input_is_named_in_chinese(world, site, client):
    client.force_login(world.users.officer_a)
    data = page_form(client.get(f"/resources/staff/{site.canteen.pk}/edit/").content.decode())
    assert data["start_times"] == "11:30,12:15" and data["capacity"] == "10"
    data.update(capacity="12", start_times="11:30，12:15, 13:00")
    assert client.post(f"/resources/staff/{site.canteen.pk}/edit/", data).status_code == 302
    site.canteen.refresh_from_db()
    assert site.canteen.capacity == 12 and site.canteen.start_times == ["11:30", "12:15", "13:00"]
    assert site.canteen.version == 2
    data.update(start_times="中午", raster_minutes="20", weekdays="89")
    bad = client.post(f"/resources/staff/{site.canteen.pk}/edit/", data).content.decode()
    assert "“中午”不是时间" in bad and "15分钟的整数倍" in bad and "1 至 7" in bad
    client.force_login(world.users.worker_b1)
    assert client.get(f"/resources/staff/{site.canteen.pk}/edit/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_a_blackout_cancels_the_bookings_inside_it_when_asked_and_tells_the_bookers(world, site, client):
    BookerLink.objects.create(user=world.users.resident, person=world.people["张三"])
    inside = services.book(world.people["张三"], site.zones[0], at(MONDAY, 14), at(MONDAY, 16),
                           user=world.users.resident)
    outside = services.book(world.people["李四"], site.zones[1], at(MONDAY, 18), at(MONDAY, 19))
    client.force_login(world.users.officer_a)
    response = client.post(f"/resources/staff/{site.room.pk}/blackout/", {
        "starts_at": "2026-03-09T13:00", "ends_at": "2026-03-09T17:00", "reason": "消防检查", "cancel": "on"},
        follow=True)
    assert "已停用，并取消 1 个预约" in response.content.decode()
    inside.refresh_from_db()
    outside.refresh_from_db()
    assert inside.state == BookingState.CANCELLED and outside.state == BookingState.CONFIRMED
    note = Notification.objects.get(user=world.users.resident)
    assert "因「消防检查」" in note.title and "3月9日 14:00" in note.title
    # the room and its zones offer nothing in those hours now
    hours = {services._local(o.start).hour for o in services.availability(site.zones[0], MONDAY)}
    assert not hours & {13, 14, 15, 16} and 17 in hours
    assert Booking.objects.filter(state=BookingState.CONFIRMED).count() == 1
    bad = client.post(f"/resources/staff/{site.room.pk}/blackout/", {
        "starts_at": "2026-03-09T17:00", "ends_at": "2026-03-09T13:00", "reason": "x"}, follow=True)
    assert "结束须晚于开始" in bad.content.decode()


@time_machine.travel(NOW, tick=False)
def test_an_officer_sets_up_tidal_windows_a_rule_and_a_quota_and_booking_follows_them(world, site, client):
    from resources.models import EligibilityRule, Quota, Window

    client.force_login(world.users.officer_a)
    room = site.room
    assert client.get(f"/resources/staff/{room.pk}/rules/").status_code == 200
    client.post(f"/resources/staff/{room.pk}/rules/", {
        "op": "rule", "name": "仅A2花园居民", "residents_of": [str(world.compounds["A2"].pk)]})
    rule = EligibilityRule.objects.get(name="仅A2花园居民")
    bad = client.post(f"/resources/staff/{room.pk}/rules/", {"op": "window", "label": "晚间", "starts": "18:00",
                                                            "ends": "18:00", "weekdays": "12345", "rule": rule.pk})
    assert bad.status_code == 400 and "结束不能等于开始" in bad.content.decode()
    client.post(f"/resources/staff/{room.pk}/rules/", {"op": "window", "label": "晚间", "starts": "18:00",
                                                      "ends": "21:00", "weekdays": "12345", "rule": rule.pk})
    client.post(f"/resources/staff/{room.pk}/rules/", {"op": "quota", "subject": "person", "period": "week",
                                                      "limit": "1"})
    assert Window.objects.filter(resource=room, label="晚间").exists() and Quota.objects.filter(resource=room).exists()
    with pytest.raises(ValidationError) as refused:
        services.book(world.people["张三"], room, at(MONDAY, 18), at(MONDAY, 20))  # lives in A1
    assert "晚间时段仅限A2花园的现住居民" in " ".join(refused.value.messages)
    services.book(world.people["单雄信"], room, at(MONDAY, 18), at(MONDAY, 19))  # lives in A2
    with pytest.raises(ValidationError) as refused:
        services.book(world.people["单雄信"], room, at(MONDAY, 20), at(MONDAY, 21))
    assert "您每周最多预约「荟·客厅」1次" in " ".join(refused.value.messages)
    window = Window.objects.get(resource=room, label="晚间")
    client.post(f"/resources/staff/{room.pk}/rules/", {"op": "drop_window", "id": str(window.pk)})
    assert not Window.objects.filter(pk=window.pk).exists()
    assert AuditEvent.objects.filter(action="delete", object_type="resources.window").exists()
    client.force_login(world.users.worker_a1)
    assert client.get(f"/resources/staff/{room.pk}/rules/").status_code == 403
