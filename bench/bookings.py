"""Shared resources under load: ``python bench/run.py bookings [--scale S] [--db sqlite|postgres]``.

Set up once per benchmark database, on the demo registry (the bookers are its current residents):

* ``BENCH-G1000``: a garage of 1,000 spaces in the street's first compound with a night window (19:00–08:00, every
  current resident), a week of nights about 60 % booked through ``resources.services.book`` (its claims, slots on
  SQLite);
* ``BENCH-RACE``: a pool of 20 spaces for the race;
* ``BENCH-LOT``: a pool of 1,000 spaces for the lottery's bookings.

Figures:

* ``availability_ms_p99`` (and p50): a week of availability of the 1,000-space garage
  (``services.pool_availability`` over 7 days: the free spaces of every night), 60 runs;
* ``book_ms_p99`` (and p50): one ``services.book`` call while 8 processes (as gunicorn's workers: each its own
  interpreter and database connection) race for the pool's 20 spaces on the same night (10 attempts each, 80
  for 20 places), over 5 nights: 400 calls, refusals included. Each process's connection has first made one
  booking of that night and rolled it back, before the start: a worker's connection in production has served
  requests before (kept for ``CONN_MAX_AGE``), and a fresh PostgreSQL backend's first statements on each table
  pay for loading its catalog caches (the log gives that first call's time; it is not counted);
  ``book_faults`` counts the calls that failed with anything but a refusal (must be 0);
* ``double_bookings``: live claims that overlap another live claim of the same resource, counted by the database
  over every bench resource after the race, plus any night with more bookings than spaces (must be 0);
* ``lottery_s``: 10,000 applications for 1,000 places drawn by ``resources.lottery.run_draw`` (the seeded order,
  the 1,000 winners booked by ``services.allocate`` with every rule of ``book`` checked, ranks and digest
  written), and ``lottery_verified`` (the re-run from the seed agrees).
"""

from __future__ import annotations

import datetime as dt
import random

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = True
SPACES = 1000
RACE_SPACES = 20
BOOKERS = 8  # processes booking at the same moment
ATTEMPTS = 10
NIGHTS = 5
APPLICANTS = 10_000
PLACES = 1000


def _tz():
    from django.utils import timezone

    return timezone.get_current_timezone()


def _at(day: dt.date, hh: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh), tzinfo=_tz())


def _pool(code: str, name: str, spaces: int, compound):
    from resources.models import Resource

    pool = Resource._base_manager.filter(code=code).first()
    if pool is not None:
        return pool, False
    common = {"opens_at": dt.time(0), "closes_at": dt.time(0), "raster_minutes": 60, "min_minutes": 60,
              "max_minutes": 24 * 60, "horizon_days": 60, "grace_minutes": 30, "cancel_minutes": 0,
              "strike_limit": 1000}
    pool = Resource.objects.create(kind="parking_pool", mode="group", name=name, code=code, compound=compound,
                                   **common)
    Resource.objects.bulk_create([
        Resource(kind="parking_space", mode="exclusive", name=f"{code}-{i:04d}", code=f"{i:04d}", parent=pool,
                 compound=compound, street_id=pool.street_id, community_id=pool.community_id, grid_id=pool.grid_id,
                 **common) for i in range(1, spaces + 1)], batch_size=500)
    return pool, True


def _night_window(pool) -> None:
    """19:00–08:00 for every current resident (the tower's night spaces, without the compound condition)."""
    from resources.models import EligibilityRule, Window

    if not Window.objects.filter(resource=pool).exists():
        rule, _ = EligibilityRule.objects.get_or_create(name="基准：不限")
        Window.objects.create(resource=pool, label="夜间", starts=dt.time(19), ends=dt.time(8), rule=rule)


def _residents(n: int, rng: random.Random) -> list:
    from people.models import Person

    ids = list(Person._base_manager.filter(residences__moved_out__isnull=True).values_list("pk", flat=True)
               .distinct().order_by("pk")[: n * 2])
    rng.shuffle(ids)
    chosen = ids[:n]
    by_id = Person._base_manager.in_bulk(chosen)
    return [by_id[i] for i in chosen]


def _setup(ctx, rng: random.Random, base: dt.date):
    from places.models import Compound
    from resources import services

    compound = Compound._base_manager.exclude(kind="office").order_by("pk").first()
    garage, new = _pool("BENCH-G1000", "基准车库（1000 车位）", SPACES, compound)
    race, _ = _pool("BENCH-RACE", "基准竞争车库（20 车位）", RACE_SPACES, compound)
    lot, _ = _pool("BENCH-LOT", "基准摇号车库（1000 车位）", PLACES, compound)
    for pool in (garage, race, lot):
        _night_window(pool)
    if new:
        people = _residents(int(SPACES * 0.6) * 7 // 3 + 10, rng)
        ctx.log(f"bookings: filling a week of nights of {SPACES} spaces (about 60 %) with {len(people)} bookers ...")
        n = 0
        for day in range(7):
            for k in range(int(SPACES * 0.6)):
                person = people[(day * 600 + k) % len(people)]
                start = _at(base + dt.timedelta(days=day), 19)
                try:
                    services.book(person, garage, start, start + dt.timedelta(hours=13), audit_it=False,
                                  now=_at(base, 8))
                    n += 1
                except Exception:  # noqa: BLE001 a person booked twice the same night: skip
                    pass
            ctx.log(f"  night {day + 1}/7: {n} bookings")
    return garage, race, lot


def _booker_process(race_id: int, person_ids: list[int], night: dt.date, now: dt.datetime, barrier, out) -> None:
    """One web worker: its own process (own interpreter, own database connection), booking one person after
    another as fast as it can once every worker is ready."""
    import time

    from django.core.exceptions import ValidationError
    from django.db import connection, transaction

    from people.models import Person
    from resources import services
    from resources.models import Resource

    class _Undo(Exception):
        pass

    samples, won, faults = [], 0, []
    try:
        race = Resource._base_manager.get(pk=race_id)
        people = Person._base_manager.in_bulk(person_ids)
        # A web worker's connection has served bookings before (gunicorn keeps it, CONN_MAX_AGE): one booking of
        # this night made and rolled back warms this backend's caches, as serving earlier requests would.
        t = time.perf_counter()
        try:
            with transaction.atomic():
                services.book(people[person_ids[0]], race, _at(night, 19), _at(night + dt.timedelta(days=1), 8),
                              audit_it=False, now=now)
                raise _Undo
        except (_Undo, ValidationError):
            pass
        first = (time.perf_counter() - t) * 1000
        barrier.wait()
        for pid in person_ids:
            t = time.perf_counter()
            try:
                services.book(people[pid], race, _at(night, 19), _at(night + dt.timedelta(days=1), 8),
                              audit_it=False, now=now)
                won += 1
            except ValidationError:
                pass
            except Exception as exc:  # noqa: BLE001 anything but a refusal in Chinese is a fault: counted
                faults.append(f"{type(exc).__name__}: {exc}"[:200])
            samples.append((time.perf_counter() - t) * 1000)
    finally:
        connection.close()
        out.put((samples, won, faults, locals().get("first")))


def _race(ctx, race, people: list, night: dt.date, now: dt.datetime) -> tuple[list[float], int, int]:
    """BOOKERS processes × ATTEMPTS bookings of distinct people for one night of the race pool, all at once (as
    gunicorn's workers would take them: processes, not threads sharing one interpreter's lock)."""
    import multiprocessing as mp

    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connection
    fork = mp.get_context("fork")
    barrier, out = fork.Barrier(BOOKERS), fork.Queue()
    workers = [fork.Process(target=_booker_process, args=(race.pk, [p.pk for p in people[i * ATTEMPTS:(i + 1) *
                                                                                         ATTEMPTS]],
                                                          night, now, barrier, out)) for i in range(BOOKERS)]
    for w in workers:
        w.start()
    results = [out.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    samples = [s for r in results for s in r[0]]
    faults = [f for r in results for f in r[2]]
    for e in faults[:3]:
        ctx.log("  fault:", e)
    firsts = [r[3] for r in results if r[3] is not None]
    if firsts:
        ctx.log(f"  a fresh connection's first booking (rolled back, not counted): max {max(firsts):.0f} ms")
    return samples, sum(r[1] for r in results), len(faults)


def _overlaps() -> int:
    """Live claims overlapping another live claim of the same resource (bench resources), by the database."""
    from django.db import connection

    from resources.models import Claim, Resource

    bench = list(Resource._base_manager.filter(code__startswith="BENCH-").values_list("pk", flat=True))
    ids = bench + list(Resource._base_manager.filter(parent__in=bench).values_list("pk", flat=True))
    table = Claim._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table} a JOIN {table} b ON a.resource_id = b.resource_id "
                    f"AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
                    f"WHERE a.active AND b.active AND a.resource_id IN ({marks})", ids)
        return int(cur.fetchone()[0])


def run(ctx) -> dict:
    from django.db import connection
    from django.utils import timezone

    from resources import lottery, services
    from resources.choices import ACTIVE_STATES
    from resources.models import Application, Booking, Draw

    rng = random.Random(f"bookings:{ctx.seed}")
    base = timezone.localdate() + dt.timedelta(days=2)  # the week filled: two days ahead, inside the horizon
    garage, race, lot = _setup(ctx, rng, base)  # a later run finds the week filled the first time
    filled = Booking._base_manager.filter(resource__parent=garage, state__in=ACTIVE_STATES).order_by(
        "starts_at").values_list("starts_at", flat=True).first()
    week = timezone.localtime(filled).date() if filled else base

    # --- a week of availability over 1,000 spaces ---------------------------------------------------------
    def a_week() -> int:
        days = services.pool_availability(garage, week, 7, now=_at(week, 8))
        return sum(o.left for options in days.values() for o in options)
    free = a_week()
    ctx.log(f"bookings: a week of the {SPACES}-space garage: {free} free space-nights of {SPACES * 7}")
    avail = [ctx.time_ms(a_week) for _ in range(60)]

    # --- contention: 8 threads racing for 20 spaces -------------------------------------------------------
    people = _residents(BOOKERS * ATTEMPTS * NIGHTS, rng)
    start_night = week + dt.timedelta(days=10 + rng.randrange(30))
    samples: list[float] = []
    over = faults = 0
    for k in range(NIGHTS):
        night = start_night + dt.timedelta(days=k)
        Booking._base_manager.filter(resource__parent=race, starts_at=_at(night, 19)).delete()
        chunk = people[k * BOOKERS * ATTEMPTS:(k + 1) * BOOKERS * ATTEMPTS]
        got, won, failed = _race(ctx, race, chunk, night, _at(week, 8))
        samples += got
        faults += failed
        live = Booking._base_manager.filter(resource__parent=race, starts_at=_at(night, 19),
                                            state__in=ACTIVE_STATES).count()
        over += max(0, live - RACE_SPACES)
        ctx.log(f"  race night {k + 1}/{NIGHTS}: {won} booked of {len(chunk)} attempts, {live} live bookings")
    connection.close()
    double = _overlaps() + over

    # --- the lottery: 10,000 applicants for 1,000 places --------------------------------------------------
    night = max(week + dt.timedelta(days=30), timezone.localdate() + dt.timedelta(days=2))
    Booking._base_manager.filter(resource__parent=lot).delete()  # an earlier run's winners
    draw = Draw.objects.create(resource=lot, title=f"BENCH 摇号 {night}", starts_at=_at(night, 19),
                               ends_at=_at(night + dt.timedelta(days=1), 8), places=PLACES)
    applicants = _residents(APPLICANTS, rng)
    Application.objects.bulk_create([Application(draw=draw, person=p) for p in applicants], batch_size=2000)
    with ctx.timer() as t:
        lottery.run_draw(draw, seed=f"bench-{ctx.seed}")
    draw.refresh_from_db()
    won = Application.objects.filter(draw=draw, won=True).count()
    verified = lottery.verify(draw)
    ctx.log(f"bookings: lottery {len(applicants)} applicants, {won} won in {t.seconds:.2f}s, verified {verified}")
    a, b = ctx.percentiles(avail), ctx.percentiles(samples)
    return {"spaces": SPACES, "free_space_nights": free, "availability_ms_p50": a["p50_ms"],
            "availability_ms_p99": a["p99_ms"], "book_ms_p50": b["p50_ms"], "book_ms_p99": b["p99_ms"],
            "book_calls": len(samples), "book_faults": faults, "bookers": BOOKERS, "double_bookings": double,
            "applicants": len(applicants), "lottery_won": won, "lottery_s": round(t.seconds, 2),
            "lottery_verified": verified}
