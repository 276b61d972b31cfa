"""Read replicas, against a real one: the test makes a streaming replica of the PostgreSQL server it runs on
(``pg_basebackup`` into a temporary folder, started on a free port as a second cluster), points the ``replica``
database alias at it, and shows core.dbrouter at work — the cockpit and exports read from the replica, writes land
on the primary, a user who wrote reads from the primary until the replica has replayed their write, the lag is
measured and shown, and a replica that stops is not a failed page.

What the machine must allow: a replication connection. The server's pg_hba.conf usually has none; ``make
postgres`` (which ``make test`` runs) adds the narrowest one when it is missing — ``local replication postgres
peer``: the local socket, the OS user ``postgres`` only — and says so. pg_basebackup and the replica run as the OS
user ``postgres`` (PostgreSQL refuses to run as root) through ``runuser`` when the tests run as root. Without that
entry these tests are skipped, saying why.

Proof of where a read went: ``CaptureQueriesContext`` on each alias, and what the page shows while the replica's
replay is paused (``pg_wal_replay_pause()``) after a change committed on the primary.
"""

from __future__ import annotations

import copy
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import dbrouter

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="a streaming replica is a PostgreSQL server (this is the SQLite run)"),
    pytest.mark.skipif(
        not (PG_BIN / "pg_basebackup").exists() and shutil.which("pg_basebackup") is None,
        reason="pg_basebackup (postgresql-15) is not installed",
    ),
]


def _bin(name: str) -> str:
    return str(PG_BIN / name) if (PG_BIN / name).exists() else name


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _primary(sql: str, *params):
    import psycopg

    cfg = connections["default"].settings_dict
    with psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        return conn.execute(sql, params or None).fetchall()


def _on_replica(port: int, sql: str):
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def _caught_up(port: int, timeout: float = 30) -> None:
    """Until the replica has replayed everything the primary had written when this was called."""
    target = dbrouter.lsn(_primary("SELECT pg_current_wal_lsn()::text")[0][0])
    deadline = time.monotonic() + timeout
    while dbrouter.lsn(_on_replica(port, "SELECT pg_last_wal_replay_lsn()::text")[0][0] or "0/0") < target:
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    socket_dir = _primary("SHOW unix_socket_directories")[0][0].split(",")[0].strip()
    allowed = _primary(
        "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) "
        "AND (type = 'local' OR address = '127.0.0.1')"
    )[0][0]
    if not allowed:
        pytest.skip(
            "pg_hba.conf allows no replication connection: `make postgres` adds "
            "'local replication postgres peer' (see this module's docstring)"
        )
    top = Path(tempfile.mkdtemp(prefix="renfang-replica-"))  # not under pytest's root-only tmp: postgres reads it
    data = top / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(top, "postgres", "postgres")
    top.chmod(0o700)
    proc = None
    try:
        base = subprocess.run(
            _as_postgres(
                [
                    _bin("pg_basebackup"),
                    "-h",
                    socket_dir,
                    "-p",
                    "5432",
                    "-U",
                    "postgres",
                    "-D",
                    str(data),
                    "-R",
                    "-X",
                    "stream",
                    "--checkpoint=fast",
                ]
            ),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert base.returncode == 0, base.stderr
        # A Debian data folder has no configuration of its own (it lives in /etc): the replica gets one. A hot
        # standby needs at least the primary's connection and worker limits.
        limits = {
            k: _primary(f"SHOW {k}")[0][0]
            for k in (
                "max_connections",
                "max_worker_processes",
                "max_locks_per_transaction",
                "max_prepared_transactions",
                "max_wal_senders",
            )
        }
        conf = [
            f"port = {port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{top}'",
            "hot_standby = on",
            "shared_buffers = 32MB",
            "fsync = off",
            "autovacuum = off",
            "hot_standby_feedback = on",
            "wal_receiver_status_interval = 1s",
            f"hba_file = '{data / 'pg_hba.conf'}'",
            f"ident_file = '{data / 'pg_ident.conf'}'",
            *(f"{k} = {v}" for k, v in limits.items()),
        ]
        (data / "postgresql.conf").write_text("\n".join(conf) + "\n")
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (data / "pg_ident.conf").write_text("")
        if os.geteuid() == 0:
            for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
                shutil.chown(data / name, "postgres", "postgres")
        proc = subprocess.run(
            _as_postgres(
                [
                    _bin("pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(top / "replica.log"),
                    "-o",
                    f"-p {port} -k {top}",
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert proc.returncode == 0, proc.stderr + (top / "replica.log").read_text()[-2000:]
        assert _on_replica(port, "SELECT pg_is_in_recovery()")[0][0] is True
        # The replica alias, as DATABASE_REPLICA_URL makes it: the same (test) database, on the replica's port.
        cfg = copy.deepcopy(connections["default"].settings_dict)
        cfg.update(HOST="127.0.0.1", PORT=str(port), CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=True)
        cfg["OPTIONS"] = {**cfg.get("OPTIONS", {}), "connect_timeout": 2}
        cfg["TEST"] = {**cfg.get("TEST", {}), "MIRROR": "default"}
        connections.settings[dbrouter.REPLICA] = cfg
        dbrouter.forget_status()
        yield {"port": port, "data": data, "top": top}
    finally:
        connections.settings.pop(dbrouter.REPLICA, None)
        try:
            delattr(connections._connections, dbrouter.REPLICA)
        except AttributeError:
            pass
        dbrouter.forget_status()
        if proc is not None:
            subprocess.run(
                _as_postgres([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def fresh(settings):
    """Measure the replica at every read (no cached state between the steps of a test); a lag bound that a paused
    replay does not reach."""
    settings.RENFANG_REPLICA_CHECK_SECONDS = 0
    settings.RENFANG_REPLICA_MAX_LAG = 3600
    dbrouter.forget_status()
    yield
    dbrouter.forget_status()


def _board(client, community, *, capture_replica: bool = True):
    """The community's board: (page, queries on the replica, queries on the primary)."""
    url = reverse("cockpit:board", args=["community", community.pk])
    with CaptureQueriesContext(connections["default"]) as on_primary:
        if capture_replica:
            with CaptureQueriesContext(connections["replica"]) as on_replica:
                response = client.get(url)
        else:
            on_replica, response = None, client.get(url)
    assert response.status_code == 200
    return response.content.decode(), on_replica, on_primary


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_board_reads_from_the_replica_and_a_user_who_wrote_reads_their_write_from_the_primary(
    replica, fresh, world, client
):
    from core.models import AuditEvent
    from places.models import Community

    port = replica["port"]
    officer = world.users.officer_a
    officer.is_staff = True  # staff see the replica's lag on the board
    officer.save(update_fields=["is_staff"])
    community = world.communities["A"]
    client.force_login(officer)
    _caught_up(port)

    page, on_replica, on_primary = _board(client, community)
    assert community.name in page
    assert len(on_replica) > 0, "the board read from the replica"
    assert any("places_community" in q["sql"] for q in on_replica.captured_queries)
    assert not any("places_community" in q["sql"] for q in on_primary.captured_queries)
    assert "只读副本延迟" in page, "the lag is shown to staff"
    assert not [
        q for q in on_replica.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]

    # The replica stops replaying; a change is committed on the primary (streamed, not applied).
    _on_replica(port, "SELECT pg_wal_replay_pause()")
    try:
        Community.objects.filter(pk=community.pk).update(name="社区A（改名）")
        receive_ahead = "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
        deadline = time.monotonic() + 20
        while not _on_replica(port, receive_ahead)[0][0]:
            assert time.monotonic() < deadline, "the change did not reach the replica"
            time.sleep(0.05)
        measured = dbrouter.status(fresh=True)
        assert measured.reachable and measured.lag_s is not None and measured.lag_s > 0, measured
        health = client.get("/healthz/?replica").json()
        assert health["reachable"] and health["used"] and health["lag_s"] is not None

        page, on_replica, _ = _board(client, community)
        assert "社区A（改名）" not in page and community.name in page, "the board shows the replica's (old) state"
        assert on_replica.captured_queries

        # An export: its reads from the replica, its audit row written on the primary; the answer pins this
        # browser to the primary until the replica has replayed that write.
        before = AuditEvent.objects.using("default").filter(action="export").count()
        with CaptureQueriesContext(connections["replica"]) as export_reads:
            response = client.get(reverse("meetings:board_export"))
        assert response.status_code == 200
        assert any("meetings_resolution" in q["sql"] for q in export_reads.captured_queries)
        assert AuditEvent.objects.using("default").filter(action="export").count() == before + 1
        assert dbrouter.PIN_COOKIE in response.cookies

        page, on_replica, _ = _board(client, community)
        assert "社区A（改名）" in page, "after writing, the user reads the primary"
        assert not on_replica.captured_queries or all(
            "pg_last_wal_replay_lsn" in q["sql"] for q in on_replica.captured_queries
        )
        # Another user, who wrote nothing, still reads the replica.
        other = world.users.command
        from django.test import Client

        from conftest import verified_login

        second = Client()
        verified_login(second, other)
        street_url = reverse("cockpit:board", args=["street", world.street.pk])
        with CaptureQueriesContext(connections["replica"]) as theirs:
            assert second.get(street_url).status_code == 200
        assert any("places_" in q["sql"] for q in theirs.captured_queries)
    finally:
        _on_replica(port, "SELECT pg_wal_replay_resume()")
    _caught_up(port)
    page, on_replica, _ = _board(client, community)
    assert "社区A（改名）" in page and any("places_community" in q["sql"] for q in on_replica.captured_queries), (
        "once the replica has replayed the write, the user reads it there"
    )


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_writes_go_to_the_primary_and_nothing_migrates_on_the_replica(replica, world):
    router = dbrouter.ReplicaRouter()
    from places.models import Community

    assert router.db_for_write(Community) == "default"
    assert router.allow_migrate("replica", "places") is False
    assert router.db_for_read(Community) == "default", "outside an opted-in view every read is on the primary"


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_replica_that_stops_is_not_a_failed_page(replica, settings, world, client):
    """Last of the module: it stops the replica. First the state measured before it stopped is still trusted
    (a long check interval): the read fails on the replica and is run again on the primary; then the replica is
    measured as down and not used."""
    settings.RENFANG_REPLICA_CHECK_SECONDS = 3600
    dbrouter.forget_status()
    officer = world.users.officer_a
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    client.force_login(officer)
    _caught_up(replica["port"])
    page, on_replica, _ = _board(client, world.communities["A"])
    assert on_replica.captured_queries and dbrouter.status().usable
    stop = subprocess.run(
        _as_postgres([_bin("pg_ctl"), "-D", str(replica["data"]), "-m", "fast", "-w", "stop"]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stop.returncode == 0, stop.stderr
    assert dbrouter.status().usable, "the cached state still says usable: the next read will find it gone"
    page, _, on_primary = _board(client, world.communities["A"], capture_replica=False)
    assert world.communities["A"].name in page and on_primary.captured_queries
    assert not dbrouter.status().reachable, "the failed read marked the replica down"
    assert "只读副本不可用" in page
    settings.RENFANG_REPLICA_CHECK_SECONDS = 0
    page, _, _ = _board(client, world.communities["A"], capture_replica=False)
    assert world.communities["A"].name in page and "只读副本不可用" in page
    health = client.get("/healthz/?replica").json()
    assert health["configured"] and not health["reachable"] and not health["used"] and health["error"]
