"""The task form of 任务与班次 as the page sends it (every default included): a plain shift, a shift that staffs an
activity's session (time and place from the session, linked so that its volunteers count as the activity's
organisers), a session out of the user's places or with a weekly repeat refused, and nothing half-saved."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from activities.tests.conftest import make_activity
from volunteers.models import Shift, Task

from .conftest import at

pytestmark = pytest.mark.django_db
NOW = at(dt.date(2027, 6, 25), 10)  # a Friday morning, a week before the summer class


class TaskForm(HTMLParser):
    """The fields of the page's ``form[data-new-task]`` with the values a browser sends untouched, and each
    select's options."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.options: dict[str, list[tuple[str, str]]] = {}
        self._in = False
        self._select: str | None = None
        self._option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "data-new-task" in a:
            self._in = True
        if not self._in:
            return
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self._option = a.get("value") or ""
            if not self.options[self._select]:
                self.fields[self._select] = self._option

    def handle_data(self, data):
        if self._option is not None and self._select:
            self.options[self._select].append((self._option, data.strip()))
            self._option = None

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in = False


def form(client) -> TaskForm:
    r = client.get(reverse("volunteers:calendar"))
    assert r.status_code == 200
    parser = TaskForm()
    parser.feed(r.content.decode())
    assert parser.fields, "the page has the task form"
    return parser


@pytest.fixture
def worker(client, world):
    with time_machine.travel(NOW, tick=False):
        client.force_login(world.users.worker_a1)
        yield client


def test_the_form_as_sent_with_its_defaults_and_a_title_publishes_one_shift(worker, world):
    f = form(worker)
    assert "session" not in f.fields, "no session coming up: no choice shown"
    assert f.fields["weekly_until"] == "" and f.fields["starts"] == "09:00"
    r = worker.post(reverse("volunteers:task_new"), {**f.fields, "title": "楼道清理"})
    assert r.status_code == 302
    task = Task.objects.get(title="楼道清理")
    shift = Shift.objects.get(task=task)
    assert shift.session_id is None and shift.grid_id == world.grids["A1"].pk


def test_a_shift_that_staffs_a_session_takes_its_time_and_place_and_links_it(worker, world):
    from activities import services as activities

    a = make_activity(world, sessions=3, first=dt.date(2027, 7, 1))
    second = a.sessions.get(number=2)
    f = form(worker)
    labels = dict(f.options["session"])
    assert str(second.pk) in labels and "青少年暑期班" in labels[str(second.pk)] and "第2场" in labels[str(second.pk)]
    r = worker.post(reverse("volunteers:task_new"),
                    {**f.fields, "kind": "other", "title": "暑期班第二场保障", "session": str(second.pk)})
    assert r.status_code == 302
    shift = Shift.objects.get(task__title="暑期班第二场保障")
    assert shift.session_id == second.pk
    assert (shift.starts_at, shift.ends_at) == (second.starts_at, second.ends_at), "the session's time, not 09:00"
    assert shift.task.kind == "activity" and shift.task.location == "社区活动室"
    # its volunteers count as the activity's organisers
    from volunteers import services

    v = services.register_volunteer(None, world.people["张三"])
    services.sign_up(v, shift, now=NOW)
    assert world.people["张三"].pk in activities.organisers(a)


def test_a_session_out_of_reach_or_with_a_weekly_repeat_is_refused_and_nothing_is_saved(worker, world):
    elsewhere = make_activity(world, title="B1的活动", grid="B1", communities=("B",))
    past = make_activity(world, title="去年的活动", first=dt.date(2026, 7, 1))
    mine = make_activity(world, title="A1的活动")
    f = form(worker)
    offered = {v for v, _ in f.options["session"]}
    assert str(mine.sessions.get().pk) in offered
    assert str(elsewhere.sessions.get().pk) not in offered and str(past.sessions.get().pk) not in offered
    tasks = Task.objects.count()
    for session, extra in ((elsewhere.sessions.get(), {}), (past.sessions.get(), {}),
                           (mine.sessions.get(), {"weekly_until": "2027-08-31"})):
        r = worker.post(reverse("volunteers:task_new"),
                        {**f.fields, "title": "不该发布", "session": str(session.pk), **extra}, follow=True)
        assert r.status_code == 200
        text = r.content.decode()
        assert "活动场次" in text, "the reason, in plain Chinese"
    r = worker.post(reverse("volunteers:task_new"), {**f.fields, "title": "人数太多", "capacity": "500"}, follow=True)
    assert "需要人数应在1到200之间" in r.content.decode()
    assert Task.objects.count() == tasks, "no task without its shifts"
