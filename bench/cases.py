"""Benchmark of cases (issue 6): ``python bench/run.py cases [--scale S] [--db sqlite|postgres]``.

Once per database, the cases are generated set-based in one INSERT ... SELECT (PostgreSQL: ``generate_series``;
SQLite: a recursive CTE) over the demo's houses: 50,000 × scale (1,000,000 at scale 20), a year of history, about
14 % of them still open (recent, some overdue), numbered ``RF-2025-…`` and marked ``external_id = 'bench'``; they
stay in the benchmark database for the next run. The open ones get their duplicate-finder rows
(``cases.dedup.index_cases``) when case2's finder exists.

Figures (server time, in-process, no network):

* ``list_ms_p99``: the command centre's queue (``/cases/queue/`` through ``django.test.Client``, a street-wide
  command-centre user with the second factor passed): the default view (open cases by deadline), overdue,
  one status, one handling unit, one grid, page 5, newest first;
* ``intake_ms_p99``: a report with a 5 MB photo through the report view (the multipart body parsed by the view,
  the photo — a real 12-megapixel JPEG — decoded, re-encoded without EXIF and stored, the case numbered, the
  deadline computed, the timeline and the audit written);
* ``dedup_ms_p99``: ``cases.dedup.suggest`` for a new report in a building with open cases (null when the
  duplicate finder is not there).
"""

from __future__ import annotations

import random

NEEDS_DEMO = True
TITLES = ["楼道灯不亮", "单元门禁损坏", "电梯经常停运", "楼上夜间噪音扰民", "消防通道违停", "垃圾桶满溢无人清运",
          "电动车楼道充电", "楼上卫生间漏水到我家", "小区路面塌陷", "独居老人需要上门探访", "建议增设休闲座椅",
          "楼道堆放杂物", "外墙空调架锈蚀", "广场舞音响声音过大", "充电桩数量不足", "老鼠出没"]
# status by bucket (0-99): about 14 % open
STATUS_SQL = """CASE WHEN b < 78 THEN 'closed' WHEN b < 86 THEN 'rejected' WHEN b < 89 THEN 'reported'
 WHEN b < 91 THEN 'accepted' WHEN b < 95 THEN 'dispatched' WHEN b < 97 THEN 'in_progress' WHEN b < 98 THEN 'handled'
 WHEN b < 99 THEN 'verified' ELSE 'dispatched' END"""


def target_count(scale: float) -> int:
    return int(50_000 * scale)


def _sql(vendor: str, n: int, house_count: int, cat_count: int, unit_count: int) -> str:
    titles = ", ".join(f"({i}, '{t}')" for i, t in enumerate(TITLES))
    if vendor == "postgresql":
        series = f"SELECT g::bigint AS x, (g * 31) % 100 AS b FROM generate_series(1, {n}) AS g"
        number = "'RF-2025-' || lpad(s.x::text, 7, '0')"
        days = "make_interval(days => ({d})::int, mins => (s.x % 1440)::int)"
        now = "now()"

        def at(d: str) -> str:
            return f"{now} - " + days.format(d=d)

        def plus_days(ts: str, d: str) -> str:
            return f"({ts}) + make_interval(days => ({d})::int)"

        def plus_hours(ts: str, h: str) -> str:
            return f"({ts}) + make_interval(hours => ({h})::int)"
        recursive = ""
    else:
        series = "SELECT x, (x * 31) % 100 AS b FROM g"
        recursive = f"RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {n}), "
        number = "printf('RF-2025-%07d', s.x)"

        def at(d: str) -> str:
            return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ({d}) || ' days', '-' || (s.x % 1440) || ' minutes')"

        def plus_days(ts: str, d: str) -> str:
            return f"strftime('%Y-%m-%d %H:%M:%f', {ts}, '+' || ({d}) || ' days')"

        def plus_hours(ts: str, h: str) -> str:
            return f"strftime('%Y-%m-%d %H:%M:%f', {ts}, '+' || ({h}) || ' hours')"

    open_ = "s.b >= 86"
    created = f"CASE WHEN {open_} THEN {at('s.x % 8')} ELSE {at('s.x % 365')} END"
    status = STATUS_SQL.replace("b <", "s.b <")
    return f"""
WITH {recursive}s AS ({series}),
h AS (SELECT hs.id, hs.building_id, hs.compound_id, hs.grid_id, hs.community_id, hs.street_id, c.lat, c.lng,
             c.name AS cname, row_number() OVER (ORDER BY hs.id) AS rn
      FROM places_house hs JOIN places_compound c ON c.id = hs.compound_id),
k AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM cases_casecategory WHERE parent_id IS NOT NULL),
u AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM cases_unit),
t(i, title) AS (VALUES {titles}),
r AS (SELECT s.x, s.b, {created} AS created, {status} AS st FROM s)
INSERT INTO cases_case (created_at, updated_at, version, number, channel, category_id, priority, title, description,
  status, street_id, community_id, grid_id, compound_id, building_id, house_id, address, lat, lng,
  reporter_name_enc, reporter_name_masked, reporter_phone_enc, reporter_phone_bidx, reporter_phone_masked,
  lead_unit_id, deadline_at, escalation_level, satisfaction, reopened_count, external_id, service_code,
  handled_at, closed_at, reject_reason, sealed_numbers)
SELECT s.created, s.created, 1, {number},
  CASE WHEN s.x % 5 = 0 THEN 'hotline' ELSE 'worker' END, k.id,
  CASE WHEN s.x % 9 = 0 THEN 'urgent' ELSE 'normal' END, t.title, h.cname || '：' || t.title, s.st,
  h.street_id, h.community_id, h.grid_id, h.compound_id, h.building_id, h.id, h.cname, h.lat, h.lng,
  '', '', '', '', '',
  CASE WHEN s.st IN ('reported', 'accepted', 'rejected') THEN NULL ELSE u.id END,
  {plus_days('s.created', '5')}, 0,
  CASE WHEN s.st <> 'closed' THEN '' WHEN s.b < 60 THEN 'satisfied' WHEN s.b < 70 THEN 'basic'
       WHEN s.b < 73 THEN 'dissatisfied' ELSE '' END, 0, 'bench', '',
  CASE WHEN s.st IN ('handled', 'verified', 'closed') THEN {plus_hours('s.created', '1 + s.x % 60')} END,
  CASE WHEN s.st IN ('closed', 'rejected') THEN {plus_hours('s.created', '2 + s.x % 72')} END,
  CASE WHEN s.st = 'rejected' THEN '重复反映' ELSE '' END, '{{}}'
FROM r AS s
JOIN h ON h.rn = 1 + (s.x * 7919) % {house_count}
JOIN k ON k.rn = 1 + s.x % {cat_count}
JOIN u ON u.rn = 1 + s.x % {unit_count}
JOIN t ON t.i = s.x % {len(TITLES)}
"""


def ensure_cases(ctx) -> int:
    from django.db import connection, transaction

    from cases.management.commands.cases_demo import Command as Demo
    from cases.models import Case, CaseCategory, Unit
    from places.models import House, Street

    n = target_count(ctx.scale)
    have = Case._base_manager.filter(external_id="bench").count()
    if have >= n:
        ctx.log(f"cases: {have} bench cases already there")
        return have
    Demo().units(Street.objects.order_by("id").first())
    Case._base_manager.filter(external_id="bench").delete()
    houses = House._base_manager.count()
    cats = CaseCategory.objects.filter(parent__isnull=False).count()
    units = Unit.objects.count()
    ctx.log(f"cases: generating {n} cases over {houses} houses...")
    with ctx.timer() as t, transaction.atomic(), connection.cursor() as cur:
        cur.execute(_sql(connection.vendor, n, houses, cats, units))
    ctx.log(f"cases: {n} cases in {t.seconds:.1f} s")
    with connection.cursor() as cur:
        cur.execute("ANALYZE cases_case" if connection.vendor == "postgresql" else "ANALYZE")
    return n


def index_open(ctx) -> bool:
    try:
        from cases import dedup
        from cases.dedup_models import CaseTokens
    except ImportError:
        return False
    from cases.models import OPEN_STATUSES, Case

    qs = Case._base_manager.filter(external_id="bench", status__in=OPEN_STATUSES)
    if CaseTokens.objects.filter(case__external_id="bench").exists():
        return True
    with ctx.timer() as t:
        done = dedup.index_cases(qs.only("id", "title", "description", "category_id", "compound_id", "building_id",
                                         "lat", "lng", "created_at").iterator(chunk_size=5000), batch=5000)
    ctx.log(f"cases: {done} open cases indexed for the duplicate finder in {t.seconds:.1f} s")
    return True


def users():
    from django.contrib.auth import get_user_model

    from core.models import Grant
    from core.roles import ensure_default_roles
    from places.models import Grid, Street

    roles = ensure_default_roles()
    User = get_user_model()
    street = Street.objects.order_by("id").first()
    grid = Grid.objects.filter(street=street).order_by("id").first()
    command, _ = User.objects.get_or_create(username="bench_cases_command")
    worker, _ = User.objects.get_or_create(username="bench_cases_worker")
    Grant.objects.get_or_create(user=command, role=roles["command_centre"], level="street", street_id=street.pk)
    Grant.objects.get_or_create(user=worker, role=roles["grid_worker"], level="grid", street_id=street.pk,
                                community_id=grid.community_id, grid_id=grid.pk)
    return command, worker, grid


def photo_5mb() -> bytes:
    """A real 12-megapixel (4000 × 3000) JPEG of about 5 MB, as a phone takes: uploads are decoded and re-encoded
    (core.uploads), so the figure includes that work. Gradients with noise, the same bytes every run."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(2024)
    y, x = np.mgrid[0:3000, 0:4000]
    base = np.stack([x * 255 // 4000, y * 255 // 3000, (x + y) * 255 // 7000], axis=-1).astype(np.int16)
    pixels = np.clip(base + rng.integers(-24, 25, base.shape, dtype=np.int16), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def pct(ctx, samples: list[float], prefix: str) -> dict:
    """The issue's key names: ``<prefix>_ms_p50`` / ``<prefix>_ms_p99``."""
    p = ctx.percentiles(samples, prefix)
    return {f"{prefix}_ms_p50": p[f"{prefix}_p50_ms"], f"{prefix}_ms_p99": p[f"{prefix}_p99_ms"]}


def run(ctx) -> dict:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client, RequestFactory

    from cases.models import Case, Unit
    from cases.views import ReportView
    from conftest import verified_login
    from places.models import House

    settings.ALLOWED_HOSTS = ["*"]
    settings.MEDIA_ROOT = str(ctx.root / "var" / "bench" / "media")
    total = ensure_cases(ctx)
    has_dedup = index_open(ctx)
    command, worker, grid = users()
    client = Client()
    verified_login(client, command)
    unit = Unit.objects.order_by("id").first()
    some_grid = Case._base_manager.filter(external_id="bench").values_list("grid_id", flat=True).first()
    queries = [{}, {"state": "overdue"}, {"status": "dispatched"}, {"state": "open", "lead_unit": unit.pk},
               {"state": "open", "grid": some_grid}, {"state": "open", "page": 5}, {"order": "new"}]
    for q in queries:  # warm up, and check the page answers
        r = client.get("/cases/queue/", q)
        assert r.status_code == 200, (q, r.status_code)
    samples = []
    for _ in range(15):
        for q in queries:
            samples.append(ctx.time_ms(lambda q=q: client.get("/cases/queue/", q)))
    out = {"cases": total, **pct(ctx, samples, "list")}

    # intake: the report view with a 5 MB photo
    factory = RequestFactory()
    view = ReportView.as_view()
    houses = list(House._base_manager.filter(grid=grid).order_by("id").values_list("pk", "compound_id",
                                                                                   "building_id")[:50])
    body = photo_5mb()
    worker = type(worker).objects.get(pk=worker.pk)
    intake = []
    rng = random.Random(ctx.seed)
    for i in range(25):
        h = rng.choice(houses)
        req = factory.post("/cases/report/", {
            "channel": "worker", "category": "property-repair", "priority": "normal", "title": f"楼道灯不亮{i}",
            "description": "三楼楼道灯坏了，晚上看不见", "compound": h[1], "building": h[2], "house": h[0],
            "photos": SimpleUploadedFile("p.jpg", body, content_type="image/jpeg")})
        req.user = worker
        req._dont_enforce_csrf_checks = True
        ms = ctx.time_ms(lambda req=req: view(req))
        for f in req.FILES.getlist("photos"):
            f.close()
        if i >= 3:  # the first reports warm the caches (jieba, the calendar)
            intake.append(ms)
    out.update(pct(ctx, intake, "intake"))
    made = Case._base_manager.filter(title__startswith="楼道灯不亮", reported_by=worker)
    assert made.count() >= 25, "the report view did not create the cases"

    if has_dedup:
        from cases import dedup
        from cases.models import OPEN_STATUSES

        probes = list(Case._base_manager.filter(external_id="bench", status__in=OPEN_STATUSES)
                      .order_by("-id").values_list("category_id", "building_id", "compound_id", "lat", "lng",
                                                   "title")[:60])
        for p in probes[:5]:
            dedup.suggest(category_id=p[0], text=p[5] + "，请尽快处理", building_id=p[1], compound_id=p[2],
                          lat=p[3], lng=p[4])
        dd = [ctx.time_ms(lambda p=p: dedup.suggest(category_id=p[0], text=p[5] + "，请尽快处理",
                                                    building_id=p[1], compound_id=p[2], lat=p[3], lng=p[4]))
              for p in probes]
        out.update(pct(ctx, dd, "dedup"))
        out["open_indexed"] = Case._base_manager.filter(external_id="bench", status__in=OPEN_STATUSES,
                                                        dedup_tokens__isnull=False).count()
    else:
        out["dedup_ms_p99"] = None
    return out
