"""Background workers that die are noticed: heartbeats, and the jobs a dead worker left "running".

Each ``manage.py worker`` writes its heartbeat (``WorkerBeat``) every schedule tick, from a thread of its own, so a
long job does not make it look dead. ``recover()`` (every tick too, in every worker) marks as FAILED the task
results still RUNNING whose worker has not beaten for ``STALE`` — a worker killed (SIGKILL, OOM, a power cut) in
the middle of a job — and sends ``task_lost`` for each, so that the app that queued it can tell its user (an
import: "nothing was imported, import again"). The job's own transaction was rolled back by the database when its
connection died: nothing is half-written; whether to run it again is the user's choice, never automatic.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from core.models import WorkerBeat

__all__ = ["STALE", "WorkerLost", "beat", "recover", "task_lost"]

log = logging.getLogger("renfang.schedule")
STALE = dt.timedelta(minutes=2)
task_lost = Signal()  # sent with task_path, args, kwargs, result_id of each job marked failed


class WorkerLost(RuntimeError):
    """The worker running a job stopped before the job finished."""


def beat(worker_id: str, *, now: dt.datetime | None = None, started_at: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    updated = WorkerBeat.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        WorkerBeat.objects.get_or_create(worker_id=worker_id, defaults={
            "host": socket.gethostname()[:100], "started_at": started_at or now, "seen_at": now})


def recover(*, now: dt.datetime | None = None, stale: dt.timedelta = STALE) -> list[str]:
    """Mark the RUNNING task results of workers silent for ``stale`` as FAILED; return their ids."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    alive = set(WorkerBeat.objects.filter(seen_at__gte=now - stale).values_list("worker_id", flat=True))
    lost = []
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
        worker = (result.worker_ids or [""])[-1]
        if worker in alive or (result.started_at and result.started_at >= now - stale):
            continue
        with transaction.atomic():
            claimed = DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED, finished_at=now, exception_class_path="core.workers.WorkerLost",
                traceback=f"WorkerLost: the worker {worker or '?'} stopped before the job finished "
                          f"(no heartbeat since {now - stale:%Y-%m-%d %H:%M:%S} UTC); its transaction was rolled back")
        if not claimed:
            continue  # another worker recovered it first
        lost.append(str(result.pk))
        log.warning("job %s (%s) of worker %s marked failed: the worker stopped", result.pk, result.task_path, worker)
        args_kwargs = result.args_kwargs or {}
        task_lost.send(sender=WorkerLost, task_path=result.task_path, args=args_kwargs.get("args", []),
                       kwargs=args_kwargs.get("kwargs", {}), result_id=str(result.pk))
    WorkerBeat.objects.filter(seen_at__lt=now - dt.timedelta(days=1)).delete()
    return lost
