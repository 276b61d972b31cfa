"""Periodic jobs (reminders through notify) and the cockpit metrics of fieldwork."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.schedule import registered
from fieldwork import metrics, services, tasks
from fieldwork.models import ChangeRequest
from fieldwork.tests.conftest import fresh, new_id

pytestmark = pytest.mark.django_db


def inbox(user) -> list[str]:
    from notify.models import Notification

    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


def test_the_jobs_are_registered_to_run_every_day():
    names = {job.name for job in registered()}
    assert {"fieldwork.daily_task_lists", "fieldwork.overdue_reviews"} <= names


def test_each_grid_worker_gets_todays_task_list_once_a_day(fw):
    world = fw
    tasks.daily_task_lists.call()
    tasks.daily_task_lists.call()
    titles = inbox(world.users.worker_a1)
    assert len(titles) == 1 and "24" in titles[0]
    assert inbox(world.users.officer_a) == []


def test_officers_are_reminded_of_reviews_waiting_more_than_three_days(world):
    cr = services.create_change_request(house=world.houses["A1"][3], kind="change_use", source="feedback",
                                        payload={"use": "rented"})
    tasks.overdue_reviews.call()
    assert inbox(world.users.officer_a) == []
    ChangeRequest.objects.filter(pk=cr.pk).update(created_at=timezone.now() - dt.timedelta(days=4))
    tasks.overdue_reviews.call()
    assert len(inbox(world.users.officer_a)) == 1
    assert inbox(world.users.worker_a1) == []


def test_the_metrics_count_visits_against_the_plan_and_pending_reviews_per_place(fw):
    world = fw
    services.submit_visit(fresh(world.users.worker_a1), world.houses["A1"][0], client_id=new_id(),
                          items=[{"kind": "unchanged"}])
    services.create_change_request(house=world.houses["A1"][3], kind="change_use", source="feedback",
                                   payload={"use": "rented"})
    a1, b1 = world.grids["A1"].pk, world.grids["B1"].pk
    visits = metrics.visits_by_place("grid")
    assert visits[a1]["visits"] == 1 and visits[a1]["plan"] == 23
    assert visits[b1] == {"visits": 0, "plan": 24}
    assert metrics.visits_by_place("grid", place_ids=[b1]).keys() == {b1}
    assert metrics.visits_by_place("building")[world.buildings["A1"].pk]["visits"] == 1
    reviews = metrics.reviews_by_place("community")
    assert reviews == {world.communities["A"].pk: {"pending": 1, "overdue": 0}}
