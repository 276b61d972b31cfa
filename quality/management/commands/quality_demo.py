"""``manage.py quality_demo [--seed N]``: realistic verification history on top of ``manage.py demo``.

Every house gets a last verification spread over 0–125 % of its interval (so about one in five is stale), mostly
by visits, some by import, resident feedback or forms; each grid's houses are assigned to the grid worker who
holds a grant on it (demo accounts grid1, grid2); then the full recompute runs and 12 weekly snapshots are
reconstructed (a house counts as fresh in a past week when that week lies within one interval of its last
verification). Idempotent and deterministic for a given seed; set-based SQL, seconds at scale 1.
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from quality import engine, scores
from quality.models import GridSnapshot, HouseStatus


class Command(BaseCommand):
    help = "为演示数据生成核实记录（部分已过期）、分派网格员，并计算新鲜度与数据质量"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="随机种子：同一种子生成同样的数据")

    def handle(self, *args, seed: int, **options):
        t0 = time.perf_counter()
        now = timezone.now().replace(microsecond=0)
        first = engine.recompute_all(now=now, id_limit=0)  # every house has a status row and its interval
        t1 = time.perf_counter()
        with transaction.atomic():
            self._stamp(now, seed)
            self._assign()
        t2 = time.perf_counter()
        stats = engine.recompute_all(now=now)
        t3 = time.perf_counter()
        self._snapshots(now)
        if options.get("verbosity", 1) > 1:
            self.stdout.write(f"first recompute {t1 - t0:.1f}s {first}; stamps {t2 - t1:.1f}s; "
                              f"recompute {t3 - t2:.1f}s {stats}; snapshots {time.perf_counter() - t3:.1f}s")
        stale = HouseStatus.objects.filter(is_stale=True).count()
        total = HouseStatus.objects.count()
        self.stdout.write(f"quality_demo: {total} 户，已过期 {stale} 户；新问题 {stats['opened']} 条；"
                          f"{time.perf_counter() - t0:.1f} 秒")

    def _stamp(self, now: dt.datetime, seed: int) -> None:
        hs = engine._t("quality.HouseStatus")
        frac = f"(((house_id * 7919 + {int(seed) % 100000} * 104729) %% 1000) / 1000.0)"
        frac2 = f"(((house_id * 104723 + {int(seed) % 100000} * 7907) %% 100) / 100.0)"
        days = f"({frac} * interval_days * 1.25 + {frac2} * 0.3)"
        if engine._pg():
            at = f"(%s::timestamptz - {days} * INTERVAL '1 day')"
        else:
            at = f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '-' || CAST({days} AS TEXT) || ' days')"
        method = (f"(CASE WHEN {frac2} < 0.70 THEN 'visit' WHEN {frac2} < 0.82 THEN 'import' "
                  f"WHEN {frac2} < 0.92 THEN 'feedback' ELSE 'form' END)")
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {hs} SET last_verified_at = {at}, last_verified_method = {method}",
                        [engine._dt(now)])
            due = engine._add_days("last_verified_at", "interval_days")
            cur.execute(f"UPDATE {hs} SET due_at = {due}, is_stale = ({due} < %s)", [engine._dt(now)])

    def _assign(self) -> None:
        from core.models import Grant

        workers = {}
        for g in Grant.objects.filter(role__code="grid_worker", grid_id__isnull=False).order_by("id"):
            workers.setdefault(g.grid_id, g.user_id)
        for grid_id, user_id in workers.items():
            HouseStatus.objects.filter(grid_id=grid_id).update(assignee_id=user_id)
            HouseStatus.objects.filter(grid_id=grid_id, last_verified_method="visit").update(
                last_verified_by_id=user_id)

    def _snapshots(self, now: dt.datetime) -> None:
        """This week's snapshot from the figures, the 11 before it reconstructed from the verification dates."""
        from django.db.models import Count, Q, Sum

        from places.models import Grid

        this_week = scores.week_of(timezone.localdate(now))
        grids = {g.pk: g for g in Grid.objects.all()}
        rows = []
        for back in range(11, 0, -1):
            week = this_week - dt.timedelta(weeks=back)
            end = timezone.make_aware(dt.datetime.combine(week + dt.timedelta(days=7), dt.time.min))
            qs = HouseStatus.objects.filter(last_verified_at__isnull=False)
            fresh_q = Q()
            for days in HouseStatus.objects.order_by().values_list("interval_days", flat=True).distinct():
                span = dt.timedelta(days=days)
                fresh_q |= Q(interval_days=days, last_verified_at__gte=end - span, last_verified_at__lte=end + span)
            for r in (qs.values("grid_id").annotate(houses=Count("house_id"),
                                                    fresh=Count("house_id", filter=fresh_q),
                                                    people=Sum("residents"))):
                g = grids.get(r["grid_id"])
                if g is None:
                    continue
                rows.append(GridSnapshot(grid_id=g.pk, community_id=g.community_id, street_id=g.street_id, week=week,
                                         houses=r["houses"], fresh=r["fresh"], stale=r["houses"] - r["fresh"],
                                         people=r["people"] or 0, freshness_rate=r["fresh"] / r["houses"]))
        GridSnapshot.objects.bulk_create(rows, update_conflicts=True, unique_fields=["grid", "week"],
                                         update_fields=["houses", "fresh", "stale", "people", "freshness_rate"])
        scores.take_snapshot(timezone.localdate(now))
