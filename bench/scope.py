"""What scoping costs a list page: ``python bench/run.py scope [--scale S] [--db sqlite|postgres]``.

The person list page (people:person_list, all middleware, the template, the count and the first page of 50)
is requested through Django's test client, interleaved, ``RUNS`` times in each of three set-ups:

* ``scoped_ms``: a grid worker with a grant on one grid (the busiest) — the normal, scoped page;
* ``unscoped_ms``: the same user and the same view with ``restrict`` bypassed (``RestrictedQuerySet.restrict``
  returning the queryset untouched, i.e. no grant resolution and no filter): every person of the street;
* ``street_ms``: a user whose grant covers the whole street — the scoped code path returning the same rows as
  the unscoped page, so ``street_overhead`` isolates the cost of resolving the grants and filtering.

``overhead = scoped_ms / unscoped_ms - 1`` (target < 0.10) and ``street_overhead = street_ms / unscoped_ms - 1``.
Medians of the server time; ``*_p99_ms`` for the spread. The same list's query count is reported for both
paths (``scoped_queries``, ``unscoped_queries``).
"""

from __future__ import annotations

import statistics

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = True
RUNS = 200


def _user(username: str, level: str, **place):
    from django.contrib.auth import get_user_model

    from core.models import Grant
    from core.roles import ensure_default_roles

    roles = ensure_default_roles()
    user, _ = get_user_model().objects.get_or_create(username=username)
    Grant.objects.filter(user=user).delete()
    Grant.objects.create(user=user, role=roles["grid_worker"], level=level, reason="bench", **place)
    return user


def run(ctx) -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from core.querysets import RestrictedQuerySet
    from people.models import Person
    from places.models import Grid

    busiest = (Person.objects.values("grid_id").annotate(n=Count("id")).order_by("-n").first())
    grid = Grid.objects.select_related("community").get(pk=busiest["grid_id"])
    worker = _user("bench_scope_grid", "grid", grid_id=grid.pk, community_id=grid.community_id,
                   street_id=grid.street_id)
    street_user = _user("bench_scope_street", "street", street_id=grid.street_id)
    url = reverse("people:person_list")
    clients = {"scoped": Client(), "unscoped": Client(), "street": Client()}
    clients["scoped"].force_login(worker)
    clients["unscoped"].force_login(worker)
    clients["street"].force_login(street_user)
    real_restrict = RestrictedQuerySet.restrict

    def bypass(self, user, action="view"):
        return self.all()

    def get(name: str) -> float:
        if name == "unscoped":
            RestrictedQuerySet.restrict = bypass
        try:
            ms = ctx.time_ms(lambda: clients[name].get(url))
        finally:
            RestrictedQuerySet.restrict = real_restrict
        return ms

    counts = {}
    for name in clients:
        for _ in range(3):  # warm up: caches, the session's first write
            get(name)
        RestrictedQuerySet.restrict = bypass if name == "unscoped" else real_restrict
        try:
            with CaptureQueriesContext(connection) as cq:
                r = clients[name].get(url)
        finally:
            RestrictedQuerySet.restrict = real_restrict
        assert r.status_code == 200, (name, r.status_code)
        counts[name] = len(cq.captured_queries)
    samples = {name: [] for name in clients}
    ctx.log(f"bench scope: {RUNS} interleaved runs of {url} (grid {grid.name}: {busiest['n']} people of "
            f"{Person.objects.count()})")
    for _ in range(RUNS):
        for name in clients:
            samples[name].append(get(name))
    med = {name: statistics.median(v) for name, v in samples.items()}
    out = {
        "scoped_ms": round(med["scoped"], 2),
        "unscoped_ms": round(med["unscoped"], 2),
        "overhead": round(med["scoped"] / med["unscoped"] - 1, 4),
        "street_ms": round(med["street"], 2),
        "street_overhead": round(med["street"] / med["unscoped"] - 1, 4),
        "scoped_queries": counts["scoped"],
        "unscoped_queries": counts["unscoped"],
        "grid_people": busiest["n"],
        "runs": RUNS,
    }
    for name, v in samples.items():
        out.update(ctx.percentiles(v, name))
    return out
