"""Faults survived, nothing lost: a worker killed in the middle of an import's commit leaves nothing written, the
job is marked failed with a clear message (core.workers: heartbeats and recovery), and importing again lands the
file exactly once."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from conftest import resident_id
from core.models import WorkerBeat
from core.workers import STALE, beat, recover
from people.iomodels import ImportJob
from people.models import Person
from people.tasks import execute, read_progress, run_import_job, upload_dir

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)


def _result(worker: str, started: dt.datetime, args: list) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING, started_at=started, args_kwargs={"args": args, "kwargs": {}},
        task_path="people.tasks.run_import_job", worker_ids=[worker], backend_name="default", run_after=started,
        exception_class_path="", traceback="")


def _job(user, data: bytes, state=ImportJob.State.RUNNING) -> ImportJob:
    path = upload_dir() / f"fault-{time.monotonic_ns()}.xlsx"
    path.write_bytes(data)
    return ImportJob.objects.create(user=user, file_name="名单.xlsx", file_path=str(path), size=len(data),
                                    file_sha256=hashlib.sha256(data).hexdigest(), state=state)


def _sheet(rows: int) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["小区", "楼栋", "单元", "房号", "姓名", "身份证号", "与户主关系"])
    for i in range(rows):
        first17 = f"320507{1980 + i % 30}{i % 12 + 1:02d}{i % 28 + 1:02d}{i % 1000:03d}"  # unique for i < 3000
        ws.append(["A1花园", "9", "1", f"{100 + i // 2}", f"断电测试{i}", resident_id(first17),
                   "户主" if i % 2 == 0 else "配偶"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.django_db
def test_a_job_of_a_silent_worker_is_marked_failed_and_its_import_says_nothing_was_imported(world):
    user = world.users.officer_a
    dead_job, live_job = _job(user, b"x"), _job(user, b"y")
    dead = _result("renfang-host-111", NOW - dt.timedelta(minutes=10), [dead_job.pk, True])
    live = _result("renfang-host-222", NOW - dt.timedelta(minutes=10), [live_job.pk, True])
    beat("renfang-host-111", now=NOW - STALE - dt.timedelta(seconds=1))  # its last beat, before it was killed
    beat("renfang-host-222", now=NOW - dt.timedelta(seconds=5))  # alive: a long job, still beating
    assert recover(now=NOW) == [str(dead.pk)]
    dead.refresh_from_db()
    live.refresh_from_db()
    assert dead.status == TaskResultStatus.FAILED and dead.exception_class_path == "core.workers.WorkerLost"
    assert live.status == TaskResultStatus.RUNNING
    dead_job.refresh_from_db()
    live_job.refresh_from_db()
    assert dead_job.state == ImportJob.State.FAILED and "未导入任何数据" in dead_job.message
    assert live_job.state == ImportJob.State.RUNNING
    assert recover(now=NOW) == [], "recovered once"
    assert WorkerBeat.objects.count() == 2
    recover(now=NOW + dt.timedelta(days=2))
    assert not WorkerBeat.objects.filter(worker_id="renfang-host-111").exists(), "old beats are cleared"


@pytest.mark.skipif(not POSTGRES, reason="the worker is a process of its own: it shares PostgreSQL's test "
                                         "database, not SQLite's in-memory one (the recovery is tested above)")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_an_import_commit_writes_nothing_and_the_retry_lands_once(world):
    user = world.users.officer_a
    before = Person.objects.count()
    rows = 3000
    job = _job(user, _sheet(rows), state=ImportJob.State.QUEUED)
    run_import_job.enqueue(job.pk, True)
    cfg = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENFANG_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"postgres://{cfg['USER'] or 'postgres'}@{cfg['HOST'] or '127.0.0.1'}:"
                            f"{cfg['PORT'] or 5432}/{cfg['NAME']}",
               RENFANG_KEY_FILE=str(settings.RENFANG_KEY_FILE), RENFANG_VAR_DIR=str(Path(settings.MEDIA_ROOT).parent))
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--tick", "1"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        # The moment: the worker's transaction holds its write lock on the person table (rows written, not
        # committed), as the database itself shows.
        from django.db import connection

        while True:
            with connection.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE "
                            "c.relname = 'people_person' AND l.mode = 'RowExclusiveLock' AND l.pid <> "
                            "pg_backend_pid()")
                if cur.fetchone()[0]:
                    break
            state = ImportJob.objects.values_list("state", "message").get(pk=job.pk)
            assert state[0] in (ImportJob.State.QUEUED, ImportJob.State.RUNNING), state  # not ended before the kill
            assert worker.poll() is None and time.monotonic() < deadline, (worker.poll(), read_progress(job))
            time.sleep(0.01)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the power cut: in the middle of the import's transaction
        worker.wait(timeout=30)
    time.sleep(1)
    assert Person.objects.count() == before, "nothing of the file is written"
    assert not Person.objects.filter(name__startswith="断电测试").exists()
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING  # as the dead worker left it, until the recovery runs
    assert recover(now=timezone.now() + STALE + dt.timedelta(seconds=30))
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and "请重新导入" in job.message
    # The officer imports again: the file lands once, whole.
    again = _job(user, Path(job.file_path).read_bytes(), state=ImportJob.State.QUEUED)
    assert execute(again, commit=True).state == ImportJob.State.DONE
    assert Person.objects.filter(name__startswith="断电测试").count() == rows
    assert json.dumps(again.result)
