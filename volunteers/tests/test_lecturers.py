"""The youth league school's lecturers (少年团校讲师团): a lecturer team, a 授课讲师 task whose shifts are linked to an
activity's sessions, the lecturer of each session shown on the activity's page (masked), their teaching hours
verified onto the ledger like any volunteer's, and the demo's summer class taught session by session."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from activities import services as activities
from activities.tests.conftest import make_activity, make_family
from volunteers import ledger, services
from volunteers.models import Shift, Team

from .conftest import at

pytestmark = pytest.mark.django_db


def test_each_session_shows_its_lecturer_and_the_teaching_hours_are_verified(world, client):
    a = make_activity(world, sessions=3, first=dt.date(2027, 7, 1))
    team = services.create_team(world.users.officer_a, world.grids["A1"], "少年团校讲师团", kind="lecturers")
    zhang = services.register_volunteer(None, world.people["张三"], skills=["teaching"])
    li = services.register_volunteer(None, world.people["李四"], skills=["teaching"])
    services.add_member(None, team, zhang)
    services.add_member(None, team, li)
    task = services.create_task(world.users.worker_a1, grid=world.grids["A1"], team=team, kind="lecture",
                                title="暑期班授课")
    sessions = list(a.sessions.order_by("number"))
    signups = []
    for i, s in enumerate(sessions[:2]):
        shift = services.add_shifts(None, task, s.starts_at, s.ends_at, capacity=1, session=s)[0]
        signups.append(services.sign_up([zhang, li][i], shift, now=at(dt.date(2027, 6, 20), 9)))
    # a staffing shift (活动保障) at the third session is not a lecturer
    helper = services.create_task(None, grid=world.grids["A1"], kind="activity", title="现场保障")
    services.sign_up(li, services.add_shifts(None, helper, sessions[2].starts_at, sessions[2].ends_at,
                                             session=sessions[2])[0], now=at(dt.date(2027, 6, 20), 9))
    assert activities.lecturers(a) == {sessions[0].pk: ["张三"], sessions[1].pk: ["李四"]}
    assert {zhang.person_id, li.person_id} <= activities.organisers(a)

    from resources.models import BookerLink

    BookerLink.objects.create(user=world.users.resident, person=world.people["王芳"])
    with time_machine.travel(at(dt.date(2027, 6, 25), 10), tick=False):
        client.force_login(world.users.resident)
        page = client.get(reverse("activities:activity", args=[a.pk])).content.decode()
    assert page.count("data-lecturers") == 2 and "讲师：张*" in page and "讲师：李*" in page
    assert "张三" not in page, "the lecturer's name masked on the residents' page"

    s = signups[0]
    services.check_in(s, now=sessions[0].starts_at - dt.timedelta(minutes=10))
    services.check_out(s, now=sessions[0].ends_at)
    services.verify(world.users.worker_a1, s, now=sessions[0].ends_at + dt.timedelta(hours=1))
    assert ledger.balances(zhang)["hours"] == Decimal("2.00")


def test_the_task_form_publishes_a_lecture_at_a_session_as_a_lecture(world, client):
    a = make_activity(world, sessions=1, first=dt.date(2027, 7, 1))
    session = a.sessions.get()
    with time_machine.travel(at(dt.date(2027, 6, 25), 10), tick=False):
        client.force_login(world.users.worker_a1)
        r = client.post(reverse("volunteers:task_new"), {
            "grid": world.grids["A1"].pk, "kind": "lecture", "title": "开班第一课", "location": "", "day": "2027-06-21",
            "starts": "09:00", "ends": "11:00", "capacity": "1", "points": "15", "weekly_until": "",
            "session": str(session.pk)})
    assert r.status_code == 302
    shift = Shift.objects.get(task__title="开班第一课")
    assert shift.task.kind == "lecture" and shift.session_id == session.pk


def test_the_demo_summer_class_is_taught_by_the_lecturer_team(world):
    make_family(world)  # children of the class's age, as activities/tests/test_demo.py has them
    call_command("activities_demo", stdout=StringIO())
    out = StringIO()
    call_command("volunteers_demo", stdout=out)
    team = Team.objects.get(name="少年团校讲师团")
    assert team.kind == "lecturers" and team.memberships.exists()
    from activities.models import Activity

    summer = Activity.objects.get(title="青少年暑期班")
    taught = activities.lecturers(summer)
    assert len(taught) == summer.sessions.count() == 16, "every session has its lecturer"
    assert "16 sessions taught by the lecturers" in out.getvalue()
    assert ledger.balance_figures()["ledger_balance"] == 0
