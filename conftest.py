"""Shared fixtures: a small street with personas.

    street 元和街道
      community A (社区A): grid A1, grid A2          community B (社区B): grid B1
      each grid: one compound, one building (6 floors, 2 units, 2 rooms a floor), houses, a few people

Personas: worker_a1 (grid A1), worker_a2 (grid A2), worker_b1 (grid B1), officer_a (community A),
command (street, aggregate), sysadmin, secadmin, auditor, resident. All passwords: PASSWORD.

The ``world`` is built through the real services (encryption, audit chain, roles) once per test module and
kept as the rows it wrote (``Snapshot``); every later test of the module gets those rows copied back into its
own transaction, which rolls back as usual, and fresh copies of the Python objects. Tests that commit
(``transactional_db``, the browser tests) and tests that run under a moved clock build it for real.
``RENFANG_TEST_WORLD=build`` builds it for real in every test (to rule the snapshot out when hunting a bug).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Callable
from types import SimpleNamespace

import pytest

PASSWORD = "Renfang-Test-2026!"


@pytest.fixture(autouse=True)
def _test_keys(settings, tmp_path_factory):
    """Each test session uses its own encryption keys in a temporary key file."""
    from core import crypto

    # Fast hashing in tests; the argon2 setting itself is asserted in access/tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.RENFANG_KEY_FILE = str(tmp_path_factory.getbasetemp() / "keys.json")
    crypto.reset_keyring()
    yield
    crypto.reset_keyring()
    # A request in English leaves English active in this thread; the next test starts in the default language.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session", autouse=True)
def _audit_guard_lets_test_flush_through():
    """Transactional tests empty the database between tests (``flush``); the audit table's append-only triggers
    (core/db_guards.py) let that through only inside the flush's own transaction, as they do for the purge."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from core import db_guards

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        Snapshot.forget_all()  # the rows they were taken over (permissions, content types) are gone or renumbered
        return original(self, db_guards.wrap_flush(self.connection.vendor, sql_list))

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


def resident_id(first17: str) -> str:
    """A resident ID with its GB 11643 check digit."""
    from stdnum.cn import ric

    return first17 + ric.calc_check_digit(first17 + "0")


def make_user(username: str, role_code: str | None = None, level: str | None = None, *, street=None,
              community=None, grid=None, roles=None):
    from django.contrib.auth import get_user_model

    from core.models import Grant

    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role_code:
        role = roles[role_code]
        Grant.objects.create(
            user=user, role=role, level=level,
            street_id=street.pk if street else None,
            community_id=community.pk if community else None,
            grid_id=grid.pk if grid else None,
        )
    return user


def verified_login(client, user) -> None:
    """``client.force_login(user)`` with the second factor passed, as the OTP step leaves a session. The command
    centre and the admins need it: a password-only session of theirs is sent to the OTP step for every page
    (access.middleware.SecondFactorMiddleware)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
              or TOTPDevice.objects.create(user=user, name="test", confirmed=True))
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def build_world():
    from core.roles import ensure_default_roles
    from people.services import PersonData, save_person
    from places.models import Building, Community, Compound, Grid, House, Street

    roles = ensure_default_roles()
    street = Street.objects.create(name="元和街道", code="320507001", lat=31.38, lng=120.63)
    ca = Community.objects.create(street=street, name="社区A", lat=31.381, lng=120.631)
    cb = Community.objects.create(street=street, name="社区B", lat=31.382, lng=120.632)
    grids = {
        "A1": Grid.objects.create(community=ca, name="A1网格", code="A1"),
        "A2": Grid.objects.create(community=ca, name="A2网格", code="A2"),
        "B1": Grid.objects.create(community=cb, name="B1网格", code="B1"),
    }
    compounds, buildings, houses, people = {}, {}, {}, {}
    ids = iter(resident_id(p) for p in [
        "32050719800101001", "32050719820304002", "32050720051212003", "32050719500505004",
        "11010119900307777", "11010119951111004", "44030519880808001", "44030519921212002",
        "32050719450101001", "32050720150101001", "32050719990101001", "32050719770707002",
    ])
    names = iter(["张三", "李四", "张小三", "王芳", "单雄信", "曾国藩", "赵敏", "钱多多", "孙二娘", "周小明",
                  "吴用", "郑爽"])
    for key, grid in grids.items():
        comp = Compound.objects.create(grid=grid, name=f"{key}花园", lat=31.38, lng=120.63)
        b = Building.objects.create(compound=comp, number="1", floors=6, units=2)
        compounds[key], buildings[key] = comp, b
        hs = []
        for unit in ("1", "2"):
            for floor in range(1, 7):
                for r in (1, 2):
                    hs.append(House(building=b, compound=comp, grid=grid, community=grid.community,
                                    street=street, unit=unit, floor=floor, room=f"{floor}0{r}",
                                    area=90, use="owner"))
        House.objects.bulk_create(hs)
        houses[key] = list(House.objects.filter(building=b).order_by("unit", "floor", "room"))
        for i in range(4):
            house = houses[key][i // 2]
            data = PersonData(name=next(names), id_number=next(ids), phone=f"1380013{8000 + len(people):04d}")
            person = save_person(None, data,
                                 house=house, relation="householder" if i % 2 == 0 else "spouse",
                                 moved_in=dt.date(2020, 1, 1), accept_warnings=True, source="test")
            people[person.name] = person
    users = SimpleNamespace(
        worker_a1=make_user("worker_a1", "grid_worker", "grid", street=street, community=ca, grid=grids["A1"],
                            roles=roles),
        worker_a2=make_user("worker_a2", "grid_worker", "grid", street=street, community=ca, grid=grids["A2"],
                            roles=roles),
        worker_b1=make_user("worker_b1", "grid_worker", "grid", street=street, community=cb, grid=grids["B1"],
                            roles=roles),
        officer_a=make_user("officer_a", "community_officer", "community", street=street, community=ca,
                            roles=roles),
        command=make_user("command", "command_centre", "street", street=street, roles=roles),
        sysadmin=make_user("sysadmin", "system_admin", "street", street=street, roles=roles),
        secadmin=make_user("secadmin", "security_admin", "street", street=street, roles=roles),
        auditor=make_user("auditor", "auditor", "street", street=street, roles=roles),
        resident=make_user("resident", "resident", "self", roles=roles),
        nobody=make_user("nobody"),
    )
    return SimpleNamespace(street=street, communities={"A": ca, "B": cb}, grids=grids, compounds=compounds,
                           buildings=buildings, houses=houses, people=people, users=users, roles=roles,
                           password=PASSWORD)


class Snapshot:
    """The rows a fixture's builder wrote, copied back raw (sealed values, audit hashes and all) by later tests.

    Taken by diffing every table before and after the build inside the first test's transaction; restored
    with one INSERT per table (foreign keys are deferred to the commit that never comes, so the order does not
    matter). The append-only audit table only ever receives inserts. Sequences: the build advanced them past
    every id in the snapshot, and ids handed out later stay above (on PostgreSQL they are set to the maximum
    once per restore, in case a test lowered them with ``setval``).
    """

    _taken: dict[tuple, Snapshot] = {}

    def __init__(self, inserted: dict[str, tuple[list[str], list[tuple]]], deleted: dict[str, tuple[str, list]],
                 namespace: object):
        self.inserted, self.deleted, self.namespace = inserted, deleted, namespace

    @classmethod
    def forget_all(cls) -> None:
        cls._taken.clear()

    @staticmethod
    def _tables(connection) -> dict[str, str]:
        """{table: primary key column} of every concrete model table that exists."""
        from django.apps import apps

        existing = set(connection.introspection.table_names())
        return {m._meta.db_table: m._meta.pk.column for m in apps.get_models(include_auto_created=True)
                if m._meta.managed and not m._meta.proxy and m._meta.db_table in existing}

    @staticmethod
    def _read(connection, tables: dict[str, str]) -> dict[str, tuple[list[str], dict]]:
        """{table: (columns, {hashable row: row})}, the stored values as the database holds them."""
        from django.utils.hashable import make_hashable

        qn = connection.ops.quote_name
        out = {}
        with connection.cursor() as cur:
            for table in tables:
                cur.execute(f"SELECT * FROM {qn(table)} WHERE 1 = 0")
                cols = [c[0] for c in cur.description]
                # "+col" hides the declared type from SQLite's converters: the values come back as stored.
                select = ", ".join((f"+{qn(c)}" if connection.vendor == "sqlite" else qn(c)) for c in cols)
                cur.execute(f"SELECT {select} FROM {qn(table)}")
                out[table] = (cols, {make_hashable(row): tuple(row) for row in cur.fetchall()})
        return out

    @classmethod
    def take(cls, key: tuple, build: Callable[[], object]) -> object:
        from django.db import connection

        tables = cls._tables(connection)
        before = cls._read(connection, tables)
        namespace = build()
        after = cls._read(connection, tables)
        inserted, deleted = {}, {}
        for table, pk in tables.items():
            cols, rows = after[table]
            old_rows = before[table][1]
            new = [row for h, row in rows.items() if h not in old_rows]
            gone = [row for h, row in old_rows.items() if h not in rows]
            if new:
                inserted[table] = (cols, new)
            if gone:  # deleted, or changed (then also among the new rows)
                at = cols.index(pk)
                deleted[table] = (pk, [row[at] for row in gone])
        cls._taken[key] = cls(inserted, deleted, copy.deepcopy(namespace))
        return namespace

    def restore(self) -> object:
        from django.core.management.color import no_style
        from django.db import connection

        qn = connection.ops.quote_name
        with connection.cursor() as cur:
            for table, (pk, ids) in self.deleted.items():
                cur.execute(f"DELETE FROM {qn(table)} WHERE {qn(pk)} IN ({', '.join(['%s'] * len(ids))})", ids)
            for table, (cols, rows) in self.inserted.items():
                cur.executemany(f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in cols)}) "
                                f"VALUES ({', '.join(['%s'] * len(cols))})", rows)
            if connection.vendor == "postgresql":
                from django.apps import apps

                models = [m for m in apps.get_models(include_auto_created=True)
                          if m._meta.db_table in self.inserted]
                statements = connection.ops.sequence_reset_sql(no_style(), models)
                if statements:
                    cur.execute("; ".join(statements))
        return copy.deepcopy(self.namespace)

    @classmethod
    def build_or_restore(cls, key: tuple, build: Callable[[], object]) -> object:
        """``build()``'s namespace: built and remembered the first time, restored from the rows afterwards."""
        import time_machine
        from django.conf import settings
        from django.db import connection

        if (not connection.in_atomic_block  # a test that commits: built for real (and flushed afterwards)
                or time_machine.traveller_stack  # under a moved clock: timestamps must be the clock's
                or os.environ.get("RENFANG_TEST_WORLD") == "build"):
            return build()
        key = (*key, connection.vendor, repr(getattr(settings, "TASKS", None)), settings.LANGUAGE_CODE)
        snapshot = cls._taken.get(key)
        if snapshot is None:
            return cls.take(key, build)
        return snapshot.restore()


@pytest.fixture
def world(db, request):
    """The street of the module docstring, built once per test module and restored for each test."""
    return Snapshot.build_or_restore(("world", request.module.__name__), build_world)


# --- Browser tests (Playwright driving Debian's chromium) -----------------------------------------------------------
def pytest_collection_modifyitems(config, items):
    """``make test`` runs the SQLite and PostgreSQL suites side by side and the browser tests once, in the SQLite
    run (the pages and scripts are the same on both databases; PostgreSQL's own behaviour — locks, constraints,
    the production stack behind nginx — has its tests in the PostgreSQL run). The tests marked ``once`` (collected
    static files, the error pages with DEBUG off: nothing of the database in their subject) also run only in the
    SQLite run. ``RENFANG_BROWSER_TESTS=0`` is how the Makefile says so; run alone (``make test-postgres``,
    plain pytest) every test runs."""
    if os.environ.get("RENFANG_BROWSER_TESTS", "1") != "0":
        return
    skip = pytest.mark.skip(reason="browser tests run in the SQLite half of `make test` (RENFANG_BROWSER_TESTS=0 here)")
    once = pytest.mark.skip(reason="its subject does not depend on the database: run in the SQLite half of `make test`")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
        elif "once" in item.keywords:
            item.add_marker(once)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time():
    """On SQLite the live server's threads share the test's one in-memory connection (there is no other way to see
    its data), so two requests at once — a page and its htmx fragment, the service worker keeping a round — would
    interleave their transactions on it. The live server then answers one request at a time, as a connection can;
    on PostgreSQL each request thread has its own connection and the server stays threaded."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    class OneAtATime(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.connections_override = connections_override

    threaded, LiveServerThread.server_class = LiveServerThread.server_class, OneAtATime
    yield
    LiveServerThread.server_class = threaded


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the whole session. Playwright runs an event loop in this thread, so Django's
    async-safety guard is relaxed for the test process (the live server runs in its own thread)."""
    import os

    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no shared cookies) with console errors collected in ``page.console_errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: pg.console_errors.append(msg.text) if msg.type == "error" else None)
    pg.set_default_timeout(15000)
    pg.base_url = live_server.url
    yield pg
    context.close()


@pytest.fixture
def sms_file(settings, tmp_path):
    """Texts (one-time codes, reminders) written to a file of the test's own instead of sent; returns its path."""
    settings.RENFANG_SMS_BACKEND = "notify.sms.FileBackend"
    settings.RENFANG_SMS_FILE = str(tmp_path / "sms.log")
    return tmp_path / "sms.log"


def login(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form."""
    page.goto(page.base_url + "/access/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
