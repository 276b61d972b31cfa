"""The pages: a resident browses, signs up themself and a child, sees the QR codes, accepts an offer; an organiser
creates an activity, adds sessions (a room booked through the shared resources, never twice), publishes, runs the
roll, prints the brief and exports; scope: another community's activity is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from activities import services
from activities.models import Activity, Session, SessionAttendance, SignUp
from activities.tests.conftest import at, make_activity

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2027, 6, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


class LoggedIn(Client):
    """A client that logs in again for each request (the tests move the clock past the session's 12 hours)."""

    def __init__(self, user):
        super().__init__()
        self.user = user

    def request(self, **request):
        from django.utils import timezone

        now = timezone.now()
        if getattr(self, "at", None) is None or abs((now - self.at).total_seconds()) > 600:
            self.logout()  # a fresh session: the idle and absolute clocks restart
            self.force_login(self.user)
            self.at = now
        return super().request(**request)


@pytest.fixture
def resident(world, fam):
    from resources.models import BookerLink

    BookerLink.objects.create(user=world.users.resident, person=fam.parent)
    return LoggedIn(world.users.resident)


def test_a_parent_signs_up_two_children_and_sees_their_codes(world, fam, resident):
    a = make_activity(world, min_age=6, max_age=14)
    with time_machine.travel(NOW, tick=False):
        r = resident.get("/activities/")
        assert r.status_code == 200 and a.title in r.content.decode()
        r = resident.get(f"/activities/{a.pk}/")
        page = r.content.decode()
        assert "张小明" in page and "张小宝" in page and "6至14岁" in page
        r = resident.post(f"/activities/{a.pk}/signup/", {"person": [fam.ming.pk, fam.hong.pk]})
        assert r.status_code == 302 and r["Location"] == "/activities/mine/"
        s = SignUp.objects.get(activity=a)
        assert s.state == "confirmed" and s.size == 2 and s.user == world.users.resident
        page = resident.get("/activities/mine/").content.decode()
        assert page.count("<svg") == 2 and "张小红" in page
        # a child of another household is refused, and nothing is taken
        r = resident.post(f"/activities/{a.pk}/signup/", {"person": [fam.b_child.pk]})
        assert Activity.objects.get(pk=a.pk).taken == 2


def test_phone_code_identifies_a_resident_without_an_account(world, fam, sms_file, client):
    a = make_activity(world, communities=())
    with time_machine.travel(NOW, tick=False):
        r = client.get(f"/activities/{a.pk}/")
        assert r.status_code == 302 and r["Location"].startswith("/resources/phone/?next=")
        from resources.tests.test_phone import verify

        r = verify(client, fam.parent.reveal_phone(), sms_file, nxt=f"/activities/{a.pk}/")
        assert r.status_code == 302 and r["Location"] == f"/activities/{a.pk}/"
        r = client.post(f"/activities/{a.pk}/signup/", {"person": [fam.parent.pk]})
        assert SignUp.objects.get(activity=a).applicant == fam.parent


def test_the_organiser_keeps_an_activity_and_books_its_room(world, fam):
    from resources.models import BookerLink, Resource

    officer = world.users.officer_a
    BookerLink.objects.create(user=officer, person=fam.other_parent)
    room = Resource.objects.create(kind="room", mode="exclusive", name="社区A活动室", compound=world.compounds["A1"],
                                   opens_at=dt.time(8), closes_at=dt.time(21), horizon_days=400)
    c = LoggedIn(officer)
    with time_machine.travel(NOW, tick=False):
        r = c.post("/activities/staff/new/", {
            "title": "青少年暑期班", "organiser_kind": "community", "grid": world.grids["A1"].pk, "capacity": 20,
            "max_family": 3, "mode": "first_come", "allocation_rule": "lottery", "hold_hours": 24,
            "certificate_min": 12, "min_age": 6, "max_age": 14, "audience_communities": [world.communities["A"].pk],
            "signup_opens": "2027-06-01T08:00", "signup_closes": "2027-06-30T20:00"})
        assert r.status_code == 302, r.content.decode()[:2000]
        a = Activity.objects.get(title="青少年暑期班")
        r = c.post(f"/activities/staff/{a.pk}/sessions/", {"day": "2027-07-05", "starts": "09:00", "ends": "11:00",
                                                           "repeat": 3, "resource": room.pk})
        assert Session.objects.filter(activity=a, booking__isnull=False).count() == 3
        # the same room at the same time for another activity: refused by the shared resources, nothing added
        b = make_activity(world, title="另一活动", first=dt.date(2027, 8, 1))
        b.host_person = fam.other_parent
        b.save()
        c.post(f"/activities/staff/{b.pk}/sessions/", {"day": "2027-07-12", "starts": "10:00", "ends": "12:00",
                                                       "resource": room.pk})
        assert not Session.objects.filter(activity=b, starts_at=at(dt.date(2027, 7, 12), 10)).exists()
        r = c.post(f"/activities/staff/{a.pk}/publish/")
        assert Activity.objects.get(pk=a.pk).status == "published"
        assert c.get(f"/activities/staff/{a.pk}/").status_code == 200
        assert c.get("/activities/staff/").status_code == 200
        # out of scope: a worker of B1 gets a 404; a worker of A1 sees it but may not change it
        w = LoggedIn(world.users.worker_b1)
        assert w.get(f"/activities/staff/{a.pk}/").status_code == 404
        w = LoggedIn(world.users.worker_a1)
        assert w.get(f"/activities/staff/{a.pk}/").status_code == 200
        assert w.get(f"/activities/staff/{a.pk}/edit/").status_code == 403


def test_roll_certificate_brief_and_export(world, fam, resident):
    a = make_activity(world, sessions=3, certificate_min=2, communities=())
    s = services.sign_up(a, fam.parent, [fam.ming, fam.hong], user=world.users.resident,
                         now=at(dt.date(2027, 6, 1), 9))
    ming = s.participants.get(person=fam.ming)
    sessions = list(a.sessions.all())
    staff = LoggedIn(world.users.worker_a1)
    for i, session in enumerate(sessions[:2]):
        with time_machine.travel(session.starts_at, tick=False):
            assert staff.get(f"/activities/staff/sessions/{session.pk}/").status_code == 200
            staff.post(f"/activities/staff/sessions/{session.pk}/", {"action": "scan", "token": ming.qr_token})
            if i == 1:  # the second time the family checks itself in at the door
                resident.post(f"/activities/checkin/{session.checkin_token}/")
        with time_machine.travel(session.ends_at, tick=False):
            r = staff.post(f"/activities/staff/sessions/{session.pk}/", {"action": "close"})
            assert r.status_code == 302 and r["Location"].startswith("/activities/"), r.get("Location")
    assert SessionAttendance.objects.filter(participant=ming, state="present").count() == 2
    hong = s.participants.get(person=fam.hong)
    assert list(SessionAttendance.objects.filter(participant=hong).order_by("session__number")
                .values_list("state", flat=True)) == ["absent", "present"]
    with time_machine.travel(sessions[1].ends_at, tick=False):
        r = resident.get(f"/activities/certificate/{ming.pk}/")
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content[:4] == b"%PDF"
        r = resident.get(f"/activities/certificate/{hong.pk}/")  # one session only: no certificate
        assert r.status_code == 302
    officer = LoggedIn(world.users.officer_a)
    page = officer.get(f"/activities/staff/{a.pk}/brief/").content.decode()
    assert "活动简报" in page and "出席率" in page
    r = officer.get(f"/activities/staff/{a.pk}/brief/?format=pdf")
    assert r.content[:4] == b"%PDF"
    r = officer.get(f"/activities/staff/{a.pk}/export/")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert staff.get(f"/activities/staff/{a.pk}/export/").status_code == 403  # grid worker: no export


def test_a_grid_worker_signs_up_an_elderly_neighbour_by_phone_number(world, fam):
    a = make_activity(world, title="独居老人茶话会", tags=[fam.tag], communities=("A",), first=dt.date(2027, 7, 1))
    w = LoggedIn(world.users.worker_a1)
    with time_machine.travel(NOW, tick=False):
        w.post(f"/activities/staff/{a.pk}/signup/", {"number": fam.parent.reveal_phone()})  # not elderly alone
        assert not SignUp.objects.filter(activity=a).exists()
        r = w.post(f"/activities/staff/{a.pk}/signup/", {"number": fam.elderly.reveal_phone()})
        assert r.status_code == 302
        s = SignUp.objects.get(activity=a)
        assert s.applicant == fam.elderly and s.channel == "walk_in" and s.state == "confirmed"
        # a worker of B1 finds nobody of A1 (and the activity is not theirs: 404)
        assert LoggedIn(world.users.worker_b1).post(f"/activities/staff/{a.pk}/signup/",
                                                    {"number": fam.elderly.reveal_phone()}).status_code == 404


def test_an_edit_keeps_the_counter_and_refuses_fewer_places_than_taken(world, fam):
    a = make_activity(world, capacity=5, communities=())
    services.sign_up(a, fam.parent, [fam.parent, fam.ming, fam.hong], now=at(dt.date(2027, 6, 1), 9))
    officer = LoggedIn(world.users.officer_a)
    base = {"title": "暑期班（改）", "organiser_kind": "community", "grid": world.grids["A1"].pk, "max_family": 3,
            "mode": "first_come", "allocation_rule": "lottery", "hold_hours": 24, "certificate_min": 0,
            "version": a.version}
    r = officer.post(f"/activities/staff/{a.pk}/edit/", {**base, "capacity": 2})
    assert r.status_code == 400 and "不能少于已报名占用的3个" in r.content.decode()
    r = officer.post(f"/activities/staff/{a.pk}/edit/", {**base, "capacity": 8})
    a.refresh_from_db()
    assert r.status_code == 302 and a.title == "暑期班（改）" and a.capacity == 8 and a.taken == 3
    r = officer.post(f"/activities/staff/{a.pk}/edit/", {**base, "capacity": 9})  # the version read before
    assert r.status_code == 400 and Activity.objects.get(pk=a.pk).capacity == 8


@time_machine.travel(NOW, tick=False)
def test_the_desk_signs_up_a_resident_by_id_or_phone_and_a_number_from_elsewhere_is_simply_not_found(world, fam):
    """代报名: found among the officer's places by ID number or registered phone; an ID number of someone in
    another community, a number that is neither, or nothing typed is answered with the message, never a 500."""
    from conftest import resident_id

    a = make_activity(world, min_age=None, max_age=None, communities=("A",))
    officer = LoggedIn(world.users.officer_a)
    url = reverse("activities:staff_signup", args=[a.pk])
    for typed in (resident_id("32050719450101001"), "32050719", "not a number", ""):  # 孙二娘 is in community B
        r = officer.post(url, {"number": typed}, follow=True)
        assert r.status_code == 200 and "在您管辖的人员中没有找到该证件号或手机号" in r.content.decode(), typed
    assert not SignUp.objects.filter(activity=a).exists()
    r = officer.post(url, {"number": "138 0013 8003"}, follow=True)  # 王芳's registered phone
    assert r.status_code == 200
    assert SignUp.objects.filter(activity=a, applicant=world.people["王芳"], channel="walk_in").exists()
