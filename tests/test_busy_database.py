"""SQLite with two writers (the web and the worker): a write waits for the other's transaction instead of failing
("database is locked"), and a write that waited out the whole timeout is answered 503 with Retry-After and a plain
message, nothing saved — never the server-error page."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from django.conf import settings
from django.db import OperationalError
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.test import Client


def _raw(path) -> sqlite3.Connection:
    """A connection opened as the app opens one (settings' OPTIONS: timeout, WAL, BEGIN IMMEDIATE)."""
    cfg = {**settings.DATABASES["default"], "NAME": str(path)}
    cfg["OPTIONS"] = {k: v for k, v in (cfg.get("OPTIONS") or {}).items() if k != "transaction_mode"}
    wrapper = DatabaseWrapper(cfg, alias="busy-drill")
    conn = wrapper.get_new_connection(wrapper.get_connection_params())
    conn.isolation_level = None  # transactions by hand, as Django's IMMEDIATE mode issues them
    return conn


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
                    reason="SQLite's single write lock; PostgreSQL locks rows")
def test_a_writer_waits_for_the_workers_transaction_instead_of_failing(tmp_path):
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    path = tmp_path / "two-writers.sqlite3"
    worker, web = _raw(path), _raw(path)
    worker.execute("CREATE TABLE visit (id INTEGER PRIMARY KEY, note TEXT)")
    held = threading.Event()
    hold_seconds = 1.5

    def long_job():
        worker.execute("BEGIN IMMEDIATE")
        worker.execute("INSERT INTO visit (note) VALUES ('worker')")
        held.set()
        time.sleep(hold_seconds)
        worker.execute("COMMIT")

    job = threading.Thread(target=long_job)
    job.start()
    assert held.wait(10)
    started = time.monotonic()
    web.execute("BEGIN IMMEDIATE")  # waits for the worker's commit (the configured timeout is longer)
    web.execute("INSERT INTO visit (note) VALUES ('web')")
    web.execute("COMMIT")
    waited = time.monotonic() - started
    job.join(10)
    assert waited > 0.5, "the web's write waited for the worker's transaction"
    assert settings.DATABASES["default"]["OPTIONS"]["timeout"] > hold_seconds * 4
    assert [r[0] for r in web.execute("SELECT note FROM visit ORDER BY id")] == ["worker", "web"]


@pytest.mark.parametrize("path, json", [("/fieldwork/today/", False), ("/api/places/houses/", True)])
@pytest.mark.django_db
def test_a_write_that_waited_out_the_lock_timeout_is_answered_503_with_retry_after_not_500(world, monkeypatch,
                                                                                            path, json):
    from fieldwork import views as fieldwork_views
    from places.api import views as places_api

    def busy(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(fieldwork_views.TodayView, "get", busy)
    monkeypatch.setattr(places_api.HouseViewSet, "list", busy)
    client = Client()
    client.force_login(world.users.worker_a1)
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()["detail"] if json else response.content.decode()
    assert "系统正忙" in body and "没有保存" in body
    assert response["Content-Type"].startswith("application/json" if json else "text/html")


@pytest.mark.django_db
def test_other_database_errors_still_reach_the_server_error_handling(world, monkeypatch):
    from fieldwork import views as fieldwork_views

    def broken(*args, **kwargs):
        raise OperationalError("no such table: fieldwork_visit")

    monkeypatch.setattr(fieldwork_views.TodayView, "get", broken)
    client = Client(raise_request_exception=False)
    client.force_login(world.users.worker_a1)
    assert client.get("/fieldwork/today/").status_code == 500
