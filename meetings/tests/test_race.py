"""Two staff open the same meeting at the same moment: it is opened once, its open items carried once."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from meetings import services
from meetings.models import AgendaItem
from meetings.tests.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def separate_connections(site, tmp_path):
    """Threads on their own connections, as web workers would be. SQLite: the in-memory test database (shared
    cache, whose locks fail instead of waiting) copied into a file that new connections open with the production
    settings (WAL, BEGIN IMMEDIATE, busy timeout), as resources' race tests do."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    path = tmp_path / "race.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    settings_dict = connection.settings_dict
    memory_name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = memory_name


def in_thread(fn):
    """``fn()`` on a connection of its own (the file database on SQLite)."""
    out = []

    def run():
        try:
            out.append(fn())
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=60)
    return out[0]


@pytest.fixture
def two_meetings(site):
    m1 = services.schedule_meeting(site.officer, site.series, starts_at=at(dt.date(2026, 12, 1), 14),
                                   ends_at=at(dt.date(2026, 12, 1), 16), title="第一次")
    for i in range(30):
        services.add_resolution(None, m1, title=f"未办结事项{i}", owner=site.o2)
    return services.schedule_meeting(site.officer, site.series, starts_at=at(dt.date(2026, 12, 15), 14),
                                     ends_at=at(dt.date(2026, 12, 15), 16), title="第二次")


def test_a_meeting_opened_twice_at_once_carries_its_open_items_once(site, two_meetings, separate_connections):
    m2 = two_meetings
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def open_it():
        try:
            barrier.wait(timeout=10)
            services.open_meeting(site.officer, m2)
            outcome.append("opened")
        except ValidationError:
            outcome.append("refused")
        except Exception as exc:  # noqa: BLE001 (reported below: anything else is the bug this test looks for)
            outcome.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcome) == ["opened", "refused"], outcome
    from meetings.models import Meeting

    carried = in_thread(lambda: (AgendaItem.objects.filter(meeting=m2, carried_from__isnull=False).count(),
                                 Meeting.objects.get(pk=m2.pk).carried))
    assert carried == (30, 30)
