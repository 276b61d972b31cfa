"""The periodic schedule: due rules, one claim per run, and the worker running what is due."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from core import schedule
from core.models import ScheduledRun

SH = dt.timezone(dt.timedelta(hours=8))


def test_an_every_job_is_due_when_its_interval_has_passed():
    job = schedule.Periodic("x", "core.tasks.purge_audit", every=dt.timedelta(minutes=5))
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    assert job.is_due(None, now)
    assert not job.is_due(now - dt.timedelta(minutes=4), now)
    assert job.is_due(now - dt.timedelta(minutes=5), now)


def test_a_daily_job_runs_once_after_its_shanghai_time():
    job = schedule.Periodic("x", "core.tasks.purge_audit", daily_at=dt.time(2, 30))
    before = dt.datetime(2026, 11, 27, 2, 0, tzinfo=SH)
    after = dt.datetime(2026, 11, 27, 2, 45, tzinfo=SH)
    ran_yesterday = dt.datetime(2026, 11, 26, 2, 31, tzinfo=SH)
    assert not job.is_due(ran_yesterday, before)
    assert job.is_due(ran_yesterday, after)
    assert not job.is_due(after, after + dt.timedelta(hours=3))


def test_register_periodic_needs_exactly_one_rule():
    with pytest.raises(ValueError):
        schedule.register_periodic("bad", "core.tasks.purge_audit")
    with pytest.raises(ValueError):
        schedule.register_periodic("bad", "core.tasks.purge_audit", every=dt.timedelta(1), daily_at="01:00")


@pytest.mark.django_db
def test_a_due_run_is_claimed_once(settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    monkeypatch.setattr(schedule, "_REGISTRY", {})
    schedule.register_periodic("t.every", "core.tasks.purge_audit", every=dt.timedelta(hours=1))
    now = timezone.now()
    assert schedule.run_due(now) == ["t.every"]
    assert schedule.run_due(now + dt.timedelta(minutes=1)) == []
    assert ScheduledRun.objects.get(name="t.every").last_run_at == now
    # A second worker that read the old timestamp loses the conditional update.
    job = schedule.registered()[0]
    ScheduledRun.objects.filter(name="t.every").update(last_run_at=now - dt.timedelta(hours=2))
    assert schedule._claim(job, now) is True
    assert schedule._claim(job, now) is False


@pytest.mark.django_db(transaction=True)
def test_the_worker_once_runs_the_due_jobs(settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    monkeypatch.setattr(schedule, "_REGISTRY", {})
    schedule.register_periodic("core.purge_audit", "core.tasks.purge_audit", daily_at="00:00")
    call_command("worker", "--once")
    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL"
    assert ScheduledRun.objects.filter(name="core.purge_audit", last_run_at__isnull=False).exists()


def test_every_registered_job_names_a_task_that_exists():
    """A job whose task path names nothing fails in the worker every tick, unseen by any test of the app."""
    from django.utils.module_loading import import_string
    from django_tasks.base import Task

    jobs = schedule.registered()
    assert len(jobs) >= 10
    for job in jobs:
        assert isinstance(import_string(job.task_path), Task), job.task_path
