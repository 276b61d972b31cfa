"""Server time of the grid worker's workbench at demo scale: today's list and a house visit page (issue 4: under
200 ms server time).

A grid worker of the grid with the most houses (``bench_fieldwork_grid``) requests ``/fieldwork/today/`` and the
house page of the homes on that list, interleaved, through Django's test client in this process (middleware,
views, queries and templates: the server's whole work, no network). Quality's HouseStatus rows are computed first
when the bench database has none.

Keys: ``today_p50_ms``, ``today_p99_ms``, ``house_p50_ms``, ``house_p99_ms`` (wall time of the request),
``today_cpu_*`` / ``house_cpu_*`` (this process's CPU time for it: on a shared, loaded machine the wall time also
counts waiting for a core; on SQLite the queries run in this process, on PostgreSQL their server time is not in
the CPU figure), ``today_items`` (homes on the list), ``houses_in_grid``.
"""

from __future__ import annotations

import time

N = 60


def _worker(grid):
    from django.contrib.auth import get_user_model

    from core.models import Grant
    from core.roles import ensure_default_roles

    roles = ensure_default_roles()
    user, _ = get_user_model().objects.get_or_create(username="bench_fieldwork_grid")
    Grant.objects.filter(user=user).delete()
    Grant.objects.create(user=user, role=roles["grid_worker"], level="grid", grid_id=grid.pk,
                         community_id=grid.community_id, street_id=grid.street_id, reason="bench")
    return user


def run(ctx) -> dict:
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client

    from places.models import Grid
    from quality.models import HouseStatus
    from quality.services import recompute, worklist

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    grid = Grid.objects.annotate(n=Count("houses")).order_by("-n", "id").first()
    if not HouseStatus.objects.filter(grid_id=grid.pk).exists():
        with ctx.timer() as t:
            recompute()
        ctx.log(f"quality recompute: {t.ms / 1000:.1f} s")
    user = _worker(grid)
    items = worklist(type(user).objects.get(pk=user.pk))
    houses = [i.house_id for i in items] or list(grid.houses.values_list("id", flat=True)[:N])
    client = Client()
    client.force_login(user)
    for url in ("/fieldwork/today/", f"/fieldwork/houses/{houses[0]}/"):  # warm the caches once
        assert client.get(url).status_code == 200, url
    samples: dict[str, list[float]] = {"today": [], "house": [], "today_cpu": [], "house_cpu": []}

    def measure(name: str, url: str) -> None:
        cpu = time.process_time()
        samples[name].append(ctx.time_ms(lambda: client.get(url)))
        samples[f"{name}_cpu"].append((time.process_time() - cpu) * 1000)

    for k in range(N):
        measure("today", "/fieldwork/today/")
        measure("house", f"/fieldwork/houses/{houses[k % len(houses)]}/")
    out = {"today_items": len(items), "houses_in_grid": grid.n}
    for name, values in samples.items():
        out.update(ctx.percentiles(values, name))
    return out
