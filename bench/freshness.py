"""Freshness and quality at scale: ``python bench/run.py freshness [--scale S] [--db sqlite|postgres]``.

* ``recompute_cold_s``: the first full recompute on a database without statuses (1 status row per house inserted,
  every rule run, the first bounded batch of ID-number checks);
* then verification dates are spread over the houses as ``manage.py quality_demo`` does (about 20 % stale; due
  dates set with them, as ``stamp_verified`` does);
* ``recompute_s``: the full recompute (quality.services.recompute(): freshness of every house from the policies
  and its last verification, every rule as one set-based statement, issues opened / resolved, open-issue counts,
  and the next bounded batch of ID checks while a backlog remains — ``recompute_id_checked`` says how many);
* ``recompute_again_s``: the same run once more (nothing changed: the steady state of the 10-minute job);
* ``today_list_ms_p99``: server time of the fieldwork today page (``/fieldwork/today/``) through Django's test
  client, logged in (force_login) as a grid worker with a grant on the busiest grid; when that URL does not exist
  the figure is the time of ``quality.services.worklist()`` instead (``today_list_source`` says which);
  ``worklist_ms_p99``: ``worklist()`` alone for the same worker.
"""

from __future__ import annotations

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = True
RUNS = 30


def _worker(grid):
    from django.contrib.auth import get_user_model

    from core.models import Grant
    from core.roles import ensure_default_roles

    roles = ensure_default_roles()
    user, _ = get_user_model().objects.get_or_create(username="bench_fresh_grid")
    Grant.objects.filter(user=user).delete()
    Grant.objects.create(user=user, role=roles["grid_worker"], level="grid", grid_id=grid.pk,
                         community_id=grid.community_id, street_id=grid.street_id, reason="bench")
    return get_user_model().objects.get(pk=user.pk)


def run(ctx) -> dict:
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from places.models import Grid, House
    from quality import engine, services
    from quality.management.commands.quality_demo import Command as QualityDemo
    from quality.models import HouseStatus

    out: dict = {"houses": House.objects.count()}
    with ctx.timer() as t:
        cold = engine.recompute_all()
    out["recompute_cold_s"] = round(t.seconds, 2)
    out["cold_inserted"] = cold["inserted"]
    ctx.log("cold", cold)
    QualityDemo()._stamp(timezone.now(), ctx.seed)
    with ctx.timer() as t:
        stats = services.recompute()
    out["recompute_s"] = round(t.seconds, 2)
    out["recompute_id_checked"] = stats["id_checked"]
    out["recompute_parts_s"] = {k: stats[k] for k in ("id_s", "freshness_s", "rules_s")}
    ctx.log("recompute", stats)
    with ctx.timer() as t:
        again = services.recompute()
    out["recompute_again_s"] = round(t.seconds, 2)
    ctx.log("again", again)
    out["stale"] = HouseStatus.objects.filter(is_stale=True).count()
    out["open_issues"] = sum(stats["found"].values())

    busiest = HouseStatus.objects.values("grid_id").annotate(n=Count("house_id")).order_by("-n").first()
    grid = Grid.objects.get(pk=busiest["grid_id"])
    worker = _worker(grid)
    samples = [ctx.time_ms(services.worklist, worker) for _ in range(RUNS)]
    out["worklist_items"] = len(services.worklist(worker))
    out.update(ctx.percentiles(samples, "worklist"))
    try:
        url = reverse("fieldwork:today")
    except NoReverseMatch:
        url = None
    if url:
        if "testserver" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        client.force_login(worker)
        first = client.get(url)
        out["today_list_status"] = first.status_code
        page = [ctx.time_ms(client.get, url) for _ in range(RUNS)]
        out["today_list_source"] = url
    else:
        page = samples
        out["today_list_source"] = "quality.services.worklist()"
    out["today_list_ms_p99"] = round(max(page) if len(page) < 100 else sorted(page)[int(len(page) * .99)], 1)
    out["today_list_ms_p50"] = round(sorted(page)[len(page) // 2], 1)
    return out
