"""Fault drills on PostgreSQL: a process killed (SIGKILL) in the middle of the cockpit's rollup refresh and of the
quality recompute, and a visit whose database session is cut in the middle of its transaction. Afterwards nothing
is half-written, and the next periodic run (or the phone's retry) leaves everything as a full recompute would —
the record landing exactly once. The worker killed in the middle of an import is in tests/test_worker_faults.py.

The killed process is ``manage.py shell`` running the periodic job itself, with one step of the job made to wait
(it writes a marker file, then sleeps) so that the kill lands at a known point inside the job's writes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="the killed job is a process of its own: it shares PostgreSQL's test "
                                            "database, not SQLite's in-memory one"),
    pytest.mark.django_db(transaction=True),
]


def _env(mark: Path) -> dict:
    cfg = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENFANG_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"postgres://{cfg['USER'] or 'postgres'}@{cfg['HOST'] or '127.0.0.1'}:"
                            f"{cfg['PORT'] or 5432}/{cfg['NAME']}",
               RENFANG_KEY_FILE=str(settings.RENFANG_KEY_FILE), RENFANG_VAR_DIR=str(Path(settings.MEDIA_ROOT).parent),
               RENFANG_DRILL_MARK=str(mark))
    return env


def _killed_midway(code: str, tmp_path: Path) -> None:
    """Run ``code`` in a process of its own; SIGKILL it once it has written the marker file (inside the job)."""
    mark = tmp_path / f"inside-{uuid.uuid4().hex}"
    proc = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=_env(mark),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not mark.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the job did not reach the drill's point"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


PAUSE = """
import os, time
def _pause():
    open(os.environ["RENFANG_DRILL_MARK"], "w").write("inside")
    time.sleep(300)
"""


def _rollups() -> list[tuple]:
    from cockpit.models import Rollup

    return sorted(Rollup.objects.values_list("metric", "level", "place_id", "key", "value"))


def test_a_rollup_refresh_killed_between_the_buildings_and_their_ancestors_is_mended_by_the_next_run(world, tmp_path):
    from cockpit import rollup
    from cockpit.models import DirtyPlace
    from cockpit.registry import mark_dirty_house
    from people.models import Residence
    from people.services import move_out

    rollup.full_rebuild()
    before = _rollups()
    residence = Residence.objects.filter(house__grid=world.grids["A1"], moved_out__isnull=True).first()
    move_out(world.users.officer_a, residence, moved_out=timezone.localdate(), reason="搬走")
    mark_dirty_house(residence.house_id)
    assert DirtyPlace.objects.exists()
    # The kill lands after the buildings' new rows are written and before their ancestors are moved.
    _killed_midway(PAUSE + """
from cockpit import rollup
_replace, done = rollup._replace, set()
def replace(metric, level, ids, data):
    if level != "building" and metric in done:  # a metric refreshed by difference: its buildings written
        _pause()
    if level == "building":
        done.add(metric)
    return _replace(metric, level, ids, data)
rollup._replace = replace
rollup.refresh_dirty()
""", tmp_path)
    assert _rollups() == before, "nothing of the killed run is written"
    assert DirtyPlace.objects.exists(), "the marks stay for the next run"
    rollup.refresh_dirty()  # the next periodic run
    after = _rollups()
    assert after != before, "the move-out is counted"
    assert not DirtyPlace.objects.exists()
    rollup.full_rebuild()
    assert _rollups() == after, "the next run leaves the rollups equal to a full rebuild"


def _statuses() -> list[tuple]:
    from quality.models import HouseStatus, QualityIssue

    return (sorted(HouseStatus.objects.values_list("house_id", "is_stale", "open_issues", "needs_recompute")),
            sorted(QualityIssue.objects.values_list("rule", "house_id", "person_id", "status")))


def test_a_quality_recompute_killed_midway_writes_nothing_and_the_next_run_equals_a_full_recompute(world, tmp_path):
    from quality import engine
    from quality.models import HouseStatus

    engine.recompute_all()
    houses = [h.pk for h in world.houses["A1"]]
    # Verified a year ago and marked for the next run: they become overdue when it runs.
    HouseStatus.objects.filter(pk__in=houses).update(last_verified_at=timezone.now() - dt.timedelta(days=400),
                                                     is_stale=False, needs_recompute=True)
    before = _statuses()
    _killed_midway(PAUSE + """
from quality import engine
_find = engine._find
def find(*args, **kwargs):
    _pause()  # freshness already updated in this transaction, the rules not yet run
    return _find(*args, **kwargs)
engine._find = find
engine.recompute_dirty()
""", tmp_path)
    assert _statuses() == before, "nothing of the killed run is written"
    engine.recompute_dirty()  # the next periodic run
    after = _statuses()
    assert all(HouseStatus.objects.filter(pk__in=houses).values_list("is_stale", flat=True))
    assert not HouseStatus.objects.filter(needs_recompute=True).exists()
    engine.recompute_all()
    assert _statuses() == after, "the next run leaves the statuses equal to a full recompute"


def test_a_visit_whose_database_session_is_cut_mid_transaction_saves_nothing_and_its_retry_lands_once(world):
    """What a PostgreSQL restart does to each open session (``pg_terminate_backend``), done to the one session
    submitting a visit, in the middle of its transaction; the phone keeps the record and sends it again with the
    same client id."""
    from core.models import AuditEvent
    from fieldwork import services
    from fieldwork.models import Visit

    worker, house = world.users.worker_a1, world.houses["A1"][0]
    client_id = uuid.uuid4()
    inside, go = threading.Event(), threading.Event()
    seen: dict = {}
    stamp = services._stamp

    def paused_stamp(*args, **kwargs):
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            seen["pid"] = cur.fetchone()[0]
        inside.set()
        go.wait(60)
        return stamp(*args, **kwargs)

    def submit():
        try:
            services.submit_visit(worker, house, client_id=client_id, items=[{"kind": "unchanged"}],
                                  note="楼道无信号")
        except Exception as exc:  # the error the worker's phone is answered with
            seen["error"] = exc
        finally:
            connections.close_all()

    audit_before = AuditEvent.objects.count()
    services._stamp = paused_stamp
    try:
        thread = threading.Thread(target=submit)
        thread.start()
        assert inside.wait(60), "the submission reached the point inside its transaction"
        with connection.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [seen["pid"]])
            assert cur.fetchone()[0]
        go.set()
        thread.join(60)
    finally:
        services._stamp = stamp
    assert isinstance(seen.get("error"), OperationalError), seen
    assert not Visit.objects.filter(client_id=client_id).exists(), "nothing of the cut submission is saved"
    assert AuditEvent.objects.count() == audit_before
    first = services.submit_visit(worker, house, client_id=client_id, items=[{"kind": "unchanged"}],
                                  note="楼道无信号")
    again = services.submit_visit(worker, house, client_id=client_id, items=[{"kind": "unchanged"}],
                                  note="楼道无信号")
    assert first.pk == again.pk
    assert Visit.objects.filter(client_id=client_id).count() == 1
    assert AuditEvent.objects.filter(action="create", object_type="fieldwork.visit",
                                     object_id=str(first.pk)).count() == 1
