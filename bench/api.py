"""API server time at the demo scale: ``python bench/run.py api [--scale S] [--db sqlite|postgres]``.

A grid worker of the busiest grid and a community officer call the registry API with a token, through
the whole middleware stack (Django's test client, no network): the person list (page of 50), the house
list (page of 50), a person's detail, a house's detail and the residence history of a house. Each figure is
the median server time over ``RUNS`` requests (``*_p99_ms`` for the spread) and the query count of one
request, which must not depend on the page size (``persons_queries_p50`` vs ``persons_queries_p500``).
"""

from __future__ import annotations

import statistics

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = True
RUNS = 100


def _user(username: str, role: str, level: str, **place):
    from django.contrib.auth import get_user_model

    from access.tokens import mint
    from core.models import Grant
    from core.roles import ensure_default_roles

    roles = ensure_default_roles()
    user, _ = get_user_model().objects.get_or_create(username=username)
    Grant.objects.filter(user=user).delete()
    Grant.objects.create(user=user, role=roles[role], level=level, reason="bench", **place)
    return mint(user, name="bench")


def run(ctx) -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from people.models import Person
    from places.models import Grid, House

    busiest = Person.objects.values("grid_id").annotate(n=Count("id")).order_by("-n").first()
    grid = Grid.objects.get(pk=busiest["grid_id"])
    place = {"grid_id": grid.pk, "community_id": grid.community_id, "street_id": grid.street_id}
    worker = APIClient()
    worker.credentials(HTTP_AUTHORIZATION="Token " + _user("bench_api_grid", "grid_worker", "grid", **place))
    officer = APIClient()
    officer.credentials(HTTP_AUTHORIZATION="Token " + _user(
        "bench_api_community", "community_officer", "community", community_id=grid.community_id,
        street_id=grid.street_id))
    person = Person.objects.filter(grid_id=grid.pk, is_current=True).first()
    house = House.objects.filter(grid_id=grid.pk, resident_count__gt=0).first()
    calls = {
        "persons": (worker, "/api/people/persons/", {}),
        "persons_q": (worker, "/api/people/persons/", {"q": person.name_initials}),
        "houses": (worker, "/api/places/houses/", {}),
        "person_detail": (worker, f"/api/people/persons/{person.pk}/", {}),
        "house_detail": (worker, f"/api/places/houses/{house.pk}/", {}),
        "house_history": (worker, "/api/people/residences/", {"house_id": house.pk}),
        "community_persons": (officer, "/api/people/persons/", {}),
    }
    out: dict = {}
    for name, (client, url, params) in calls.items():
        for _ in range(3):
            assert client.get(url, params).status_code == 200, name
    for size in (50, 500):
        with CaptureQueriesContext(connection) as cq:
            worker.get("/api/people/persons/", {"page_size": size})
        out[f"persons_queries_p{size}"] = len(cq.captured_queries)
    ctx.log(f"bench api: {RUNS} runs of {len(calls)} calls (grid {grid.name}: {busiest['n']} people of "
            f"{Person.objects.count()})")
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(RUNS):
        for name, (client, url, params) in calls.items():
            samples[name].append(ctx.time_ms(lambda c=client, u=url, p=params: c.get(u, p)))
    for name, values in samples.items():
        out[f"{name}_ms"] = round(statistics.median(values), 2)
        out.update(ctx.percentiles(values, name))
    out["grid_people"] = busiest["n"]
    out["runs"] = RUNS
    return out
