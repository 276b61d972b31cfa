"""Behind pgbouncer in transaction pooling: a pgbouncer is started on a free port (configuration in a temporary
folder, ``auth_type = trust``, run as the OS user ``postgres`` since pgbouncer refuses root), pointed at the
PostgreSQL server the tests use, with fewer server connections than client threads, so that consecutive
transactions of one Django connection land on different server connections. The app is then driven through it:
a login, a page, audit writes (the chain's transaction-level advisory lock) from four threads at once, and the
worker running its jobs — with ``DISABLE_SERVER_SIDE_CURSORS`` as ``DATABASE_POOL_MODE=transaction`` sets it.
pgbouncer's own statistics prove the traffic went through it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.urls import reverse

from conftest import PASSWORD

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="pgbouncer pools PostgreSQL connections (this is the SQLite run)"),
    pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is installed by `make browser` (Debian)"),
]
THREADS, WRITES = 4, 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bouncer():
    top = Path(tempfile.mkdtemp(prefix="renfang-pgbouncer-"))  # readable by postgres (pytest's tmp is root-only)
    port = _free_port()
    cfg = settings.DATABASES["default"]
    user = cfg["USER"] or "postgres"
    (top / "userlist.txt").write_text(f'"{user}" ""\n')
    (top / "pgbouncer.ini").write_text(f"""[databases]
* = host={cfg["HOST"] or "127.0.0.1"} port={cfg["PORT"] or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {top}
auth_type = trust
auth_file = {top / "userlist.txt"}
admin_users = {user}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 50
ignore_startup_parameters = extra_float_digits
logfile = {top / "pgbouncer.log"}
""")
    if os.geteuid() == 0:
        for path in (top, *top.iterdir()):
            shutil.chown(path, "postgres", "postgres")
    cmd = [PGBOUNCER, str(top / "pgbouncer.ini")]
    proc = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "pgbouncer did not start"
                time.sleep(0.1)
        yield {"port": port, "user": user, "log": top / "pgbouncer.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(top, ignore_errors=True)


def _stats(b, dbname: str) -> int:
    """Transactions pgbouncer has passed to ``dbname`` (its admin console)."""
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=b["port"], user=b["user"], dbname="pgbouncer", autocommit=True, prepare_threshold=None
    ) as conn:
        cur = conn.cursor()
        cur.execute("SHOW STATS")
        cols = [c.name for c in cur.description]
        return sum(
            row[cols.index("total_xact_count")] for row in cur.fetchall() if row[cols.index("database")] == dbname
        )


@pytest.fixture
def through_bouncer(transactional_db, bouncer):
    """The ``default`` database reached through pgbouncer, as DATABASE_URL pointed at it and
    DATABASE_POOL_MODE=transaction would make it; put back before the test database is emptied."""
    conn = connections["default"]
    saved = {k: conn.settings_dict.get(k) for k in ("HOST", "PORT", "DISABLE_SERVER_SIDE_CURSORS")}
    conn.close()
    conn.settings_dict.update(HOST="127.0.0.1", PORT=str(bouncer["port"]), DISABLE_SERVER_SIDE_CURSORS=True)
    yield {**bouncer, "server_port": int(saved["PORT"] or 5432)}
    connections.close_all()
    conn.settings_dict.update(saved)


def test_the_app_runs_behind_pgbouncer_in_transaction_mode(through_bouncer, client):
    from django.db import connection

    from conftest import build_world
    from core import audit
    from core.models import AuditEvent

    b = through_bouncer
    dbname = connection.settings_dict["NAME"]
    before = _stats(b, dbname)
    with connection.cursor() as cur:
        cur.execute("SELECT inet_server_port()")
        assert cur.fetchone()[0] == b["server_port"]  # the server, behind it
    world = build_world()

    # A login (the per-IP limiter's advisory lock, the audit chain's), then a page.
    response = client.post("/access/login/", {"username": world.users.officer_a.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    page = client.get(reverse("people:person_list"))
    assert page.status_code == 200 and world.users.officer_a.username.encode() in page.content

    # Writers at once from four threads over two server connections: the chain stays one unbroken line.
    chain_before = AuditEvent.objects.count()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(WRITES):
                audit.record("test", object_type="tests.pgbouncer", object_id=f"{n}-{i}", username=f"t{n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert AuditEvent.objects.count() == chain_before + THREADS * WRITES
    ok, bad, _rows = audit.verify_chain()
    assert ok, f"the audit chain breaks at {bad}"

    # The worker: the periodic jobs enqueued and the queue run, through the pool (.iterator() included).
    from django_tasks_db.models import DBTaskResult

    call_command("worker", "--once", stdout=open(os.devnull, "w"))  # noqa: SIM115
    done = DBTaskResult.objects.filter(task_path="cockpit.tasks.refresh_rollups", status="SUCCESSFUL").count()
    assert done >= 1, list(DBTaskResult.objects.values_list("task_path", "status", "traceback"))
    # No job failed for the pool's sake (a database error: a lost cursor, a prepared statement, session state).
    failed = list(DBTaskResult.objects.filter(status="FAILED").values_list("task_path", "exception_class_path"))
    assert not [f for f in failed if f[1].startswith(("django.db.", "psycopg"))], failed
    assert _stats(b, dbname) > before + THREADS * WRITES, "the traffic went through pgbouncer"
