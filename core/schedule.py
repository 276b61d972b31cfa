"""Periodic background jobs, on the embedded setup and on PostgreSQL alike (no cron, no extra server).

An app registers its periodic jobs in its ``AppConfig.ready()``::

    from core.schedule import register_periodic
    register_periodic("quality.recompute", "quality.tasks.recompute_all", daily_at="02:30")
    register_periodic("cockpit.rollup", "cockpit.tasks.refresh_dirty", every=timedelta(minutes=1))

``manage.py worker`` runs django-tasks' database worker and, in a thread beside it, calls :func:`run_due` every
few seconds: each due job is *claimed* by a conditional UPDATE of its ``core.ScheduledRun`` row (two workers never
enqueue the same run) and then enqueued as an ordinary django-tasks task, which the worker runs.
``daily_at`` is a wall-clock time in Asia/Shanghai (settings.TIME_ZONE).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

__all__ = ["Periodic", "register_periodic", "registered", "due", "run_due"]

log = logging.getLogger("renfang.schedule")


@dataclass(frozen=True)
class Periodic:
    name: str
    task_path: str
    every: dt.timedelta | None = None
    daily_at: dt.time | None = None

    def is_due(self, last: dt.datetime | None, now: dt.datetime) -> bool:
        if self.every is not None:
            return last is None or now - last >= self.every
        local = timezone.localtime(now)
        slot = local.replace(hour=self.daily_at.hour, minute=self.daily_at.minute, second=0, microsecond=0)
        if local < slot:
            slot -= dt.timedelta(days=1)
        return last is None or last < slot


_REGISTRY: dict[str, Periodic] = {}


def register_periodic(name: str, task_path: str, *, every: dt.timedelta | None = None,
                      daily_at: str | dt.time | None = None) -> Periodic:
    """Register (or re-register, idempotently) a periodic job: exactly one of ``every`` / ``daily_at``."""
    if (every is None) == (daily_at is None):
        raise ValueError("register_periodic: give exactly one of every= or daily_at=")
    if isinstance(daily_at, str):
        hour, minute = (int(x) for x in daily_at.split(":"))
        daily_at = dt.time(hour, minute)
    if every is not None and every <= dt.timedelta(0):
        raise ValueError("register_periodic: every= must be positive")
    job = Periodic(name, task_path, every, daily_at)
    _REGISTRY[name] = job
    return job


def registered() -> list[Periodic]:
    return sorted(_REGISTRY.values(), key=lambda p: p.name)


def due(now: dt.datetime | None = None) -> list[Periodic]:
    from core.models import ScheduledRun

    now = now or timezone.now()
    last = dict(ScheduledRun.objects.values_list("name", "last_run_at"))
    return [job for job in registered() if job.is_due(last.get(job.name), now)]


def _claim(job: Periodic, now: dt.datetime) -> bool:
    """Mark the run as taken; False when another worker took it first."""
    from core.models import ScheduledRun

    row = ScheduledRun.objects.filter(name=job.name).values_list("last_run_at", flat=True).first()
    if row is None and not ScheduledRun.objects.filter(name=job.name).exists():
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(name=job.name, last_run_at=now)
            return True
        except IntegrityError:
            return False
    if not job.is_due(row, now):
        return False
    return ScheduledRun.objects.filter(name=job.name, last_run_at=row).update(last_run_at=now) == 1


def run_due(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every due periodic job once; return the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in due(now):
        if not _claim(job, now):
            continue
        try:
            import_string(job.task_path).enqueue()
        except Exception:  # a broken job must not stop the others; the worker's log says which
            log.exception("periodic job %s could not be enqueued", job.name)
            continue
        enqueued.append(job.name)
    return enqueued
