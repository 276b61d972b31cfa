"""Community activities under load: ``python bench/run.py activities [--scale S] [--db sqlite|postgres]``.

On the demo registry (the applicants are its current residents, each signing up themself and the children of
their household the activity admits):

* ``signup_ms_p99`` (and p50): one ``activities.services.sign_up`` call (the POST of the activity's page: the
  members it offered were read before, as its GET) while 8 processes (as gunicorn's workers:
  each its own interpreter and database connection) sign up 40 families each at the same moment for an activity
  of 100 places (320 sign-ups for 100 places: confirmed while places last, then the waiting list), refusals
  included; ``signup_faults`` counts calls that failed with anything but a refusal in Chinese (must be 0);
* ``overbooked``: over every bench activity, the places held by confirmed and offered sign-ups beyond capacity,
  plus any activity whose counter disagrees with the sign-ups it counts (must be 0);
* ``allocation_s``: 10,000 applications (families of one to three) for 2,000 places allocated by
  ``services.run_allocation`` (the seeded order, families placed whole while they fit, the rest on the waiting
  list in the same order, ranks, tickets and digest written), and ``allocation_verified`` (the re-run from the
  published seed agrees);
* ``ledger_balance``: the volunteers' ledger (``volunteers.ledger.balance_figures()``), when that app is present:
  the sum over every transfer's legs (must be 0), after 20 shifts verified through ``volunteers.services``
  (``seed_verified_shifts``; ``ledger_verified_shifts`` counts the transfers they made).
"""

from __future__ import annotations

import datetime as dt
import random

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = True
PLACES = 100
WORKERS = 8
EACH = 40
APPLICATIONS = 10_000
ALLOC_PLACES = 2_000


def _at(day: dt.date, hh: int) -> dt.datetime:
    from django.utils import timezone

    return dt.datetime.combine(day, dt.time(hh), tzinfo=timezone.get_current_timezone())


def _clear() -> None:
    from activities.models import Activity, SignUp

    bench = Activity._base_manager.filter(title__startswith="BENCH-")
    SignUp._base_manager.filter(activity__in=bench).delete()
    bench.delete()


def _activity(title: str, capacity: int, mode: str, first: dt.date, now: dt.datetime):
    from activities import services
    from activities.models import Activity
    from places.models import Grid

    grid = Grid._base_manager.order_by("pk").first()
    a = Activity.objects.create(title=title, grid=grid, capacity=capacity, mode=mode, max_family=4,
                                status="published", signup_opens=now - dt.timedelta(days=1),
                                signup_closes=_at(first, 8))
    for i in range(2):
        day = first + dt.timedelta(days=7 * i)
        services.add_session(None, a, starts_at=_at(day, 9), ends_at=_at(day, 11), place="基准活动室")
    return a


def _applicants(n: int, rng: random.Random) -> list[int]:
    """Current residents, one per house (a household signs up once)."""
    from people.models import Residence

    rows = list(Residence._base_manager.filter(moved_out__isnull=True).order_by("house_id", "id")
                .values_list("house_id", "person_id")[: n * 8])
    seen, out = set(), []
    for house, person in rows:
        if house not in seen:
            seen.add(house)
            out.append(person)
    rng.shuffle(out)
    return out[:n]


def _worker(activity_id: int, person_ids: list[int], now: dt.datetime, barrier, out) -> None:
    import time

    from django.core.exceptions import ValidationError
    from django.db import connection

    from activities import services
    from activities.models import Activity
    from people.models import Person

    samples, faults = [], []
    try:
        a = Activity._base_manager.get(pk=activity_id)
        people = Person._base_manager.in_bulk(person_ids)
        # what the activity's page showed each of them before they tapped 报名: themself and the household's
        # children the rules admit (read before the burst, as the GET of the page was)
        chosen = {pid: [m.person for m in services.eligible_members(a, people[pid]) if not m.reasons][:3]
                  or [people[pid]] for pid in person_ids}
        barrier.wait()
        for pid in person_ids:
            t = time.perf_counter()
            try:
                services.sign_up(a, people[pid], chosen[pid], now=now, audit_it=True)
            except ValidationError:
                pass
            except Exception as exc:  # noqa: BLE001 anything but a refusal is a fault: counted
                faults.append(f"{type(exc).__name__}: {exc}"[:200])
            samples.append((time.perf_counter() - t) * 1000)
    finally:
        connection.close()
        out.put((samples, faults))


def _burst(ctx, activity, people: list[int], now) -> tuple[list[float], int]:
    import multiprocessing as mp

    from django.db import connections

    connections.close_all()
    fork = mp.get_context("fork")
    barrier, out = fork.Barrier(WORKERS), fork.Queue()
    procs = [fork.Process(target=_worker, args=(activity.pk, people[i * EACH:(i + 1) * EACH], now, barrier, out))
             for i in range(WORKERS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=900) for _ in procs]
    for p in procs:
        p.join()
    faults = [f for r in results for f in r[1]]
    for f in faults[:3]:
        ctx.log("  fault:", f)
    return [s for r in results for s in r[0]], len(faults)


def _overbooked() -> int:
    from django.db.models import Sum

    from activities.choices import HOLDING
    from activities.models import Activity, SignUp

    bad = 0
    for a in Activity._base_manager.filter(title__startswith="BENCH-"):
        held = SignUp._base_manager.filter(activity=a, state__in=HOLDING).aggregate(n=Sum("size"))["n"] or 0
        bad += max(held - a.capacity, 0) + (1 if held != a.taken else 0)
    return bad


def _applications(activity, n: int, rng: random.Random) -> int:
    """``n`` applications of families of one to three people (bulk: the data, not what is measured)."""
    from django.db import transaction

    from activities.models import Participant, SignUp
    from people.models import Person

    ids = list(Person._base_manager.filter(is_current=True).order_by("pk").values_list("pk", flat=True)[: n * 3])
    rng.shuffle(ids)
    pos = 0
    signups, sizes = [], []
    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(n):
        size = rng.choice([1, 1, 1, 2, 2, 3])
        if pos + size > len(ids):
            break
        sizes.append(ids[pos:pos + size])
        signups.append(SignUp(activity=activity, applicant_id=ids[pos], size=size, state="applied",
                              priority=rng.choice([0, 0, 0, 1]), street_id=activity.street_id,
                              community_id=activity.community_id, grid_id=activity.grid_id,
                              created_at=created + dt.timedelta(seconds=i)))
        pos += size
    with transaction.atomic():
        made = SignUp._base_manager.bulk_create(signups, batch_size=2000)
        import secrets

        Participant._base_manager.bulk_create(
            [Participant(signup=s, activity=activity, person_id=p, qr_token=secrets.token_urlsafe(16))
             for s, people in zip(made, sizes, strict=True) for p in people], batch_size=5000)
    return len(made)


def run(ctx) -> dict:
    from django.utils import timezone

    from activities import services

    rng = random.Random(f"activities-bench:{ctx.seed}")
    _clear()
    now = timezone.now()
    first = timezone.localdate(now) + dt.timedelta(days=30)
    burst = _activity("BENCH-BURST", PLACES, "first_come", first, now)
    people = _applicants(WORKERS * EACH, rng)
    ctx.log(f"activities: {len(people)} families sign up at once for {PLACES} places ({WORKERS} processes) ...")
    samples, faults = _burst(ctx, burst, people, now)
    confirmed = burst.signups.filter(state="confirmed").count()
    ctx.log(f"  {confirmed} sign-ups confirmed, {burst.signups.filter(state='waiting').count()} waiting")
    alloc = _activity("BENCH-ALLOC", ALLOC_PLACES, "allocation", first, now)
    n = _applications(alloc, APPLICATIONS, rng)
    ctx.log(f"activities: allocating {ALLOC_PLACES} places among {n} applications ...")
    with ctx.timer() as t:
        alloc = services.run_allocation(alloc, seed="bench", now=_at(first, 8) + dt.timedelta(minutes=1),
                                        notify_them=False)
    pct = ctx.percentiles(samples, "signup")
    out = {"signup_ms_p99": pct["signup_p99_ms"], "signup_ms_p50": pct["signup_p50_ms"],
           "signup_calls": len(samples), "signup_faults": faults,
           "overbooked": _overbooked(), "allocation_s": round(t.seconds, 2), "allocation_applications": n,
           "allocation_confirmed": alloc.taken, "allocation_verified": services.verify(alloc)}
    try:
        from volunteers.ledger import balance_figures
    except ImportError:
        ctx.log("activities: the volunteers app has no ledger here: ledger_balance left out")
        return out
    out["ledger_verified_shifts"] = _verified_hours(ctx, burst)
    out["ledger_balance"] = balance_figures().get("ledger_balance")
    return out


def _verified_hours(ctx, activity, n: int = 20) -> int:
    """Some verified hours in the ledger before it is summed, through the volunteers' own services (a few of the
    grid's residents registered as volunteers when it has none): ``volunteers.services.seed_verified_shifts``."""
    try:
        from volunteers import services as vs
        from volunteers.models import Volunteer
    except ImportError:
        return 0
    if not hasattr(vs, "seed_verified_shifts"):
        return 0
    from people.models import Person

    grid = activity.grid
    if not Volunteer._base_manager.filter(grid=grid, is_active=True).exists():
        for p in Person._base_manager.filter(grid=grid, is_current=True).order_by("pk")[:5]:
            try:
                vs.register_volunteer(None, p)
            except Exception as exc:  # noqa: BLE001 - already a volunteer, or no address: the next one
                ctx.log("  volunteer not registered:", exc)
    made = vs.seed_verified_shifts(n, grid=grid)
    ctx.log(f"activities: {made} verified volunteer shifts in the ledger")
    return made
