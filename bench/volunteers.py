"""The volunteers' ledger under load: ``python bench/run.py volunteers [--scale S] [--db sqlite|postgres]``.

Set up once per benchmark database, on the demo registry: 300 volunteers of the street's first grids (registry
persons through ``volunteers.services.register_volunteer``), each round of the run adds ``SHIFTS`` past shifts
with one volunteer checked in and out (``volunteers.services.seed_verified_shifts`` without the verification).

Figures:

* ``verify_ms_p99`` (and p50): one ``services.verify`` (the organiser's confirmation: the conditional update, the
  transfer of hours and points, four movements, the audit row), ``SHIFTS`` calls;
* ``verify_again_paid``: transfers written by verifying every one of them a second time (must be 0);
* ``race_double_payments``: on PostgreSQL, 4 threads verify the same 50 sign-ups at once; sign-ups paid more
  than once (must be 0; left out on SQLite, whose writers queue);
* ``balance_ms_p99``: a volunteer's balances (a sum over their movements), 200 calls;
* ``honour_list_ms``: the year's honour list over every volunteer;
* ``ledger_balance`` (the sum of every movement: must be 0), ``unbalanced_transfers`` (0), ``transfers``,
  ``accounts``, ``sql_update_refused`` / ``sql_delete_refused`` (the triggers refused a raw UPDATE and DELETE of
  a movement: true).
"""

from __future__ import annotations

import datetime as dt

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = True
VOLUNTEERS = 300
SHIFTS = 200
RACE = 50


def _volunteers(ctx) -> list:
    from people.models import Person
    from places.models import Grid
    from volunteers import services
    from volunteers.models import Volunteer

    have = list(Volunteer.objects.filter(number__startswith="HT").order_by("id")[:VOLUNTEERS])
    if len(have) >= VOLUNTEERS:
        return have
    grids = list(Grid._base_manager.order_by("id")[:6])
    taken = set(Volunteer._base_manager.values_list("person_id", flat=True))
    people = [p for p in Person._base_manager.filter(grid__in=grids).order_by("id")[:VOLUNTEERS * 2]
              if p.pk not in taken][:VOLUNTEERS - len(have)]
    ctx.log(f"volunteers: registering {len(people)} volunteers")
    for p in people:
        have.append(services.register_volunteer(None, p, skills=["visit"]))
    return have


def _checked_out(vols, n: int, label: str) -> list:
    """``n`` past shifts of one volunteer each, checked in and out (not verified). Each run's shifts lie 40 days
    before the previous run's, so that a volunteer is never on two shifts at once across runs."""
    from django.utils import timezone

    from volunteers import services
    from volunteers.models import Task

    runs = Task.objects.filter(title__startswith="基准").values("title").distinct().count()
    now = timezone.now() - dt.timedelta(days=40 * runs)
    by_grid: dict = {}
    for v in vols:
        by_grid.setdefault(v.grid_id, []).append(v)
    out = []
    grids = list(by_grid)
    tasks = {}
    from places.models import Grid

    for i in range(n):
        gid = grids[i % len(grids)]
        if gid not in tasks:
            tasks[gid] = services.create_task(None, grid=Grid._base_manager.get(pk=gid), title=f"基准{label}")
        start = now - dt.timedelta(days=1 + i // 8, hours=2 + (i % 8) * 2)
        shift = services.add_shifts(None, tasks[gid], start, start + dt.timedelta(hours=2), capacity=1)[0]
        pool = by_grid[gid]
        v = pool[(i // len(grids)) % len(pool)]
        try:
            s = services.sign_up(v, shift, now=start - dt.timedelta(days=1))
        except Exception:  # noqa: BLE001 (the same volunteer at that time already: next one)
            continue
        services.check_in(s, now=start)
        services.check_out(s, now=start + dt.timedelta(hours=2))
        out.append(s)
    return out


def _race(signups) -> int:
    import threading

    from django.db import connection

    from volunteers import services
    from volunteers.models import Transfer

    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            for s in signups:
                fresh = type(s).objects.get(pk=s.pk)
                services.verify(None, fresh)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from django.db.models import Count

    return (Transfer.objects.filter(signup__in=[s.pk for s in signups], kind="earn").values("signup_id")
            .annotate(n=Count("id")).filter(n__gt=1).count())


def _refused(sql: str) -> bool:
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    except DatabaseError:
        return True
    return False


def run(ctx) -> dict:
    from django.utils import timezone

    from volunteers import ledger, services
    from volunteers.models import Movement, Transfer, Volunteer

    vols = _volunteers(ctx)
    stamp = timezone.now().strftime("%H%M%S")
    signups = _checked_out(vols, SHIFTS, stamp)
    ctx.log(f"volunteers: {len(signups)} shifts checked out; verifying")
    if len(signups) < SHIFTS // 2:
        raise RuntimeError(f"only {len(signups)} of {SHIFTS} shifts could be staffed: the figures would mean nothing")
    samples = [ctx.time_ms(services.verify, None, s) for s in signups]
    before = Transfer.objects.count()
    for s in signups:
        services.verify(None, type(s).objects.get(pk=s.pk))
    paid_again = Transfer.objects.count() - before
    out: dict = {**ctx.percentiles(samples, "verify"), "verified": len(signups), "verify_again_paid": paid_again}
    if ctx.db == "postgres":
        race = _checked_out(vols, RACE, stamp + "r")
        out["race_signups"] = len(race)
        out["race_double_payments"] = _race(race)
    pick = vols[: min(len(vols), 50)]
    out.update(ctx.percentiles([ctx.time_ms(ledger.balances, pick[i % len(pick)]) for i in range(200)], "balance"))
    year = timezone.localdate().year
    with ctx.timer() as t:
        rows = services.honour_list(year, Volunteer.objects.all(), limit=50)
    out["honour_list_ms"] = round(t.ms, 1)
    out["honour_list_rows"] = len(rows)
    m = Movement.objects.order_by("-id").first()
    out["sql_update_refused"] = _refused(f"UPDATE volunteers_movement SET amount = amount + 1 WHERE id = {m.pk}")
    out["sql_delete_refused"] = _refused(f"DELETE FROM volunteers_movement WHERE id = {m.pk}")
    figures = ledger.balance_figures()
    out.update({"ledger_balance": figures["ledger_balance"], "unbalanced_transfers": figures["unbalanced_transfers"],
                "transfers": figures["transfers"], "accounts": figures["accounts"], "volunteers": len(vols)})
    return out
