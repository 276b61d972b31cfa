"""Joint meetings under load: ``python bench/run.py meetings [--scale S] [--db sqlite|postgres]``.

Set up once per benchmark database (no demo registry needed: the module builds its own street of 4 × scale
communities, a grid each, organisations and resolutions in bulk, as the demo loads rows):

* ``BENCH-MT-OWNER``: an organisation owning 5,000 resolutions (a third open, some of them overdue) over its
  community's series, with 2,000 × scale resolutions of other organisations around it in the same tables;
* ``BENCH-MT-CARRY``: a series whose first meeting left 2,000 open items.

Figures:

* ``board_ms_p99`` (and p50): the resolutions board page of that organisation (``meetings:board?owner=``, the
  page rendered for a community officer through the test client: scope, filter, count, the first 50 rows),
  and the same with ``overdue=1``; 100 runs;
* ``carry_over_s``: opening a new meeting of the series with 2,000 open items (``services.open_meeting``: every
  open item an agenda item and a step of its timeline), the slowest of 3 meetings.
"""

from __future__ import annotations

import datetime as dt
import random

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = False
OWNED = 5000
OPEN_ITEMS = 2000
BACKGROUND = 2000  # × scale
RUNS = 100


def _setup(ctx, rng) -> dict:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.models import Grant
    from core.roles import ensure_default_roles
    from meetings.choices import ResolutionState
    from meetings.models import Meeting, MeetingSeries, Organisation, Resolution
    from places.models import Community, Grid, Street

    owner = Organisation._base_manager.filter(name="BENCH-MT-OWNER").first()
    if owner is not None:
        carry = MeetingSeries._base_manager.get(name="BENCH-MT-CARRY")
        user = get_user_model().objects.get(username="bench-mt-officer")
        return {"owner": owner, "carry": carry, "user": user}
    ctx.log("meetings bench: building organisations and resolutions")
    roles = ensure_default_roles()
    street = Street.objects.create(name="BENCH-MT街道", code="BENCHMT01")
    n_comm = max(1, round(4 * ctx.scale))
    comms = [Community.objects.create(street=street, name=f"BENCH-MT社区{i}") for i in range(n_comm)]
    grids = [Grid.objects.create(community=c, name=f"{c.name}网格", code=f"MT{i}") for i, c in enumerate(comms)]
    home, home_grid = comms[0], grids[0]
    orgs = Organisation._base_manager.bulk_create([
        Organisation(kind="enterprise", name=f"BENCH-MT企业{i}", street=street, community=comms[i % n_comm],
                     grid=grids[i % n_comm]) for i in range(40)])
    owner = Organisation._base_manager.create(kind="enterprise", name="BENCH-MT-OWNER", street=street,
                                              community=home, grid=home_grid)
    now = timezone.now()

    def series_with_meeting(name, comm, grid):
        s = MeetingSeries._base_manager.create(name=name, street=street, community=comm, grid=grid)
        m = Meeting._base_manager.create(series=s, number=1, title="第一次", starts_at=now - dt.timedelta(days=60),
                                         ends_at=now - dt.timedelta(days=60, hours=-2), state="held",
                                         street=street, community=comm, grid=grid)
        return s, m

    def rows(meeting, series, who, n, open_share):
        out = []
        for i in range(n):
            is_open = rng.random() < open_share
            state = rng.choice([ResolutionState.ASSIGNED, ResolutionState.IN_PROGRESS]) if is_open else \
                ResolutionState.DONE
            deadline = now + dt.timedelta(days=rng.randint(-40, 40))
            out.append(Resolution(meeting=meeting, series=series, number=f"B-{series.pk}-{i}",
                                  title=f"决议事项{i}：共享食堂与潮汐停车", owner=who(i), state=state,
                                  progress=100 if not is_open else rng.randint(0, 90), deadline_at=deadline,
                                  assigned_at=deadline - dt.timedelta(days=14), street=street,
                                  community=meeting.community, grid=meeting.grid))
        Resolution._base_manager.bulk_create(out, batch_size=2000)

    s_home, m_home = series_with_meeting("BENCH-MT-HOME", home, home_grid)
    rows(m_home, s_home, lambda i: owner, OWNED, 1 / 3)
    for k, (comm, grid) in enumerate(zip(comms, grids, strict=True)):
        s, m = series_with_meeting(f"BENCH-MT-BG{k}", comm, grid)
        rows(m, s, lambda i: orgs[i % len(orgs)], round(BACKGROUND * ctx.scale / n_comm), 0.4)
    carry, m_carry = series_with_meeting("BENCH-MT-CARRY", home, home_grid)
    rows(m_carry, carry, lambda i: orgs[i % len(orgs)], OPEN_ITEMS, 1.0)
    user = get_user_model().objects.create_user("bench-mt-officer", password=None)
    Grant.objects.create(user=user, role=roles["community_officer"], level="community", street_id=street.pk,
                         community_id=home.pk)
    return {"owner": owner, "carry": carry, "user": user}


def run(ctx) -> dict:
    from django.db.models import Max
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from meetings import services
    from meetings.choices import OPEN_STATES
    from meetings.models import Meeting, Resolution

    rng = random.Random(f"meetings-bench:{ctx.seed}")
    site = _setup(ctx, rng)
    from django.db import connection

    if connection.vendor == "postgresql":  # fresh statistics after the bulk load (and the last run's meetings)
        with connection.cursor() as cur:
            cur.execute("ANALYZE meetings_resolution, meetings_agendaitem, meetings_progressupdate")
    owner, user = site["owner"], site["user"]
    client = Client()
    client.force_login(user)
    url = reverse("meetings:board")
    samples, overdue = [], []
    for _ in range(5):  # warm up
        client.get(url, {"owner": owner.pk})
    for _ in range(RUNS):
        samples.append(ctx.time_ms(lambda: client.get(url, {"owner": owner.pk})))
        overdue.append(ctx.time_ms(lambda: client.get(url, {"owner": owner.pk, "overdue": "1"})))
    page = client.get(url, {"owner": owner.pk})
    assert page.status_code == 200 and page.content.decode().count("data-res=") == 50, "the board lost its rows"
    series = site["carry"]
    open_items = Resolution._base_manager.filter(series=series, state__in=OPEN_STATES).count()
    worst = 0.0
    for _ in range(3):
        number = (Meeting._base_manager.filter(series=series).aggregate(n=Max("number"))["n"] or 0) + 1
        start = timezone.now() + dt.timedelta(days=number)
        meeting = Meeting._base_manager.create(series=series, number=number, title=f"第{number}次", starts_at=start,
                                               ends_at=start + dt.timedelta(hours=2), street_id=series.street_id,
                                               community_id=series.community_id, grid_id=series.grid_id)
        with ctx.timer() as t:
            services.open_meeting(None, meeting)
        meeting.refresh_from_db()
        assert meeting.carried == open_items, (meeting.carried, open_items)
        worst = max(worst, t.seconds)
    from bench.run import percentile

    def pct(xs, p):
        return round(percentile(xs, p), 2)

    return {"board_ms_p50": pct(samples, 50), "board_ms_p99": pct(samples, 99),
            "board_overdue_ms_p50": pct(overdue, 50), "board_overdue_ms_p99": pct(overdue, 99),
            "board_rows": Resolution._base_manager.filter(owner=owner).count(),
            "carry_over_s": round(worst, 3), "carried_items": open_items,
            "resolutions_total": Resolution._base_manager.count()}
