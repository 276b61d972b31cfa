"""Run the background jobs: django-tasks' database worker plus the periodic schedule (core/schedule.py).

One process, no extra server: ``manage.py worker`` next to the web server (``make demo`` starts both).
``--once`` enqueues what is due, runs every queued task, and exits (for cron-less operation or tests).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from core.schedule import registered, run_due

log = logging.getLogger("renfang.schedule")


def _schedule_loop(stop: threading.Event, every: float, worker_id: str) -> None:
    from django.utils import timezone

    from core.workers import beat, recover

    started = timezone.now()
    while not stop.is_set():
        try:
            close_old_connections()
            beat(worker_id, started_at=started)  # this thread beats even while the main one runs a long job
            recover()  # jobs left "running" by a worker that died
            names = run_due()
            if names:
                log.warning("enqueued periodic jobs: %s", ", ".join(names))
        except Exception:  # keep the loop alive across a database restart; the log says why
            log.exception("schedule tick failed")
        finally:
            connection.close()
        stop.wait(every)


class Command(BaseCommand):
    help = "后台任务：运行任务队列与定时任务 / run the task queue and the periodic schedule"

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between queue polls")
        parser.add_argument("--tick", type=float, default=15.0, help="seconds between schedule checks")
        parser.add_argument("--once", action="store_true", help="enqueue due jobs, run the queue empty, exit")

    def handle(self, *args, interval: float = 1.0, tick: float = 15.0, once: bool = False, **options):
        from django_tasks_db.management.commands.db_worker import Worker

        jobs = ", ".join(f"{j.name} ({j.every or j.daily_at})" for j in registered()) or "-"
        self.stdout.write(f"worker: periodic jobs: {jobs}")
        worker_id = f"renfang-{socket.gethostname()[:60]}-{os.getpid()}"
        if once:
            from core.workers import recover

            recover()
            run_due()
            Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
                   max_tasks=None, worker_id=worker_id, excluded_queue_names=[]).run()
            return
        stop = threading.Event()
        thread = threading.Thread(target=_schedule_loop, args=(stop, tick, worker_id), daemon=True, name="schedule")
        thread.start()
        worker = Worker(queue_names=["*"], interval=interval, batch=False, backend_name="default",
                        startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[])
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
            time.sleep(0)
