"""The site under concurrent users: ``python bench/run.py load [--scale S] [--db postgres]``.

On the benchmark database (the demo registry at scale S), this starts the stack as a deployment runs it —
gunicorn (2 workers, DEBUG off) and the worker — on loopback, and drives it with locust (headless, bounded in
users and time, ``bench/locustfile.py``):

1. **the mix at work**: 20 concurrent users, each 0.5–1.5 s between requests (grid workers 3 : officers 2 :
   API clients 1, plus the cockpit's board data among the officers' requests), 60 s: p50/p99 per kind of request
   (``worker_p99_ms``: today's list, house page, visit submit), errors;
2. **throughput**: the same mix with no pause (``mix_rps``, ``mix_p99_ms``), then a trivial view alone
   (``/healthz/``: one ``SELECT 1``) the same way (``trivial_rps``); ``ratio`` = mix_rps / trivial_rps;
   ``mix_rps_per_core`` divides by the machine's cores (locust runs on them too).

``errors`` counts failed requests of every run (must be 0). The users are bench accounts made here (grid
workers on the first grids, officers on the first communities) with sessions and API tokens made here too: the
runs time the work, not the argon2 logins. RENFANG_LOAD_SECONDS shortens the runs (default 60).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = True
USERS = 20
SECONDS = int(os.environ.get("RENFANG_LOAD_SECONDS", "60"))
PASSWORD = "Load-Bench-Account-2026"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session(user) -> str:
    """A logged-in session made here, so that the measured runs do not time argon2 logins (a login is once a day;
    its cost is the password hash's, on purpose)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _plan(path: Path) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from access.tokens import mint
    from core.models import Grant
    from core.roles import ensure_default_roles
    from people.models import Person
    from places.models import Community, Grid, House

    roles = ensure_default_roles()
    User = get_user_model()
    workers, officers, tokens = [], [], []
    for i, grid in enumerate(Grid.objects.order_by("id")[:12]):
        user, created = User.objects.get_or_create(username=f"load_worker_{i}")
        if created:
            user.set_password(PASSWORD)
            user.save()
            Grant.objects.create(user=user, role=roles["grid_worker"], level="grid", grid_id=grid.pk)
        houses = list(House.objects.filter(grid_id=grid.pk).order_by("id").values_list("id", flat=True)[:200])
        workers.append({"username": user.username, "houses": houses, "session": _session(user)})
        tokens.append(mint(user, name="load bench", days=1))
    for i, community in enumerate(Community.objects.order_by("id")[:4]):
        user, created = User.objects.get_or_create(username=f"load_officer_{i}")
        if created:
            user.set_password(PASSWORD)
            user.save()
            Grant.objects.create(user=user, role=roles["community_officer"], level="community",
                                 community_id=community.pk)
        grids = list(Grid.objects.filter(community_id=community.pk).values_list("id", flat=True))
        officers.append({"username": user.username, "community": community.pk, "grids": grids,
                         "session": _session(user)})
    surnames = sorted({n[0] for n in Person.objects.order_by("id").values_list("name", flat=True)[:2000] if n})[:30]
    plan = {"cookie": settings.SESSION_COOKIE_NAME, "workers": workers, "officers": officers, "tokens": tokens,
            "surnames": surnames}
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return plan


def _wait_up(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn stopped before answering")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=5)
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError("gunicorn did not answer /healthz/")


def _num(text: str) -> float:
    """A locust percentile: 'N/A' (no request of that kind in a short run) reads as 0."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def _locust(ctx, env: dict, port: int, users: str, wait: str, seconds: int, prefix: Path) -> dict:
    """One headless locust run; {name: (requests, failures, p50, p99)} from its stats CSV, and the Aggregated."""
    cmd = [sys.executable, "-m", "locust", "-f", str(Path(ctx.root) / "bench" / "locustfile.py"), "--headless",
           "-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
           "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", *users.split()]
    run = subprocess.run(cmd, env={**env, "RENFANG_LOAD_WAIT": wait}, capture_output=True, text=True,
                         timeout=seconds + 120)
    rows = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows[r["Name"]] = {"n": int(r["Request Count"]), "fail": int(r["Failure Count"]),
                               "p50": _num(r["50%"]), "p99": _num(r["99%"]),
                               "rps": float(r["Requests/s"] or 0)}
    if "Aggregated" not in rows:
        raise RuntimeError(f"locust gave no figures: {run.stderr[-1500:]}")
    return rows


def _warm_up(ctx) -> dict:
    """Run every periodic job that is due, here and to its end, before the stack starts: the measured minutes are
    a working day's steady state, not the first run after the demo was generated (the first quality recompute and
    rollup rebuild of a new street hold its status rows for seconds; a deployment meets that once, after its first
    import). Returns each job's seconds, logged beside the figures."""
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from core import schedule

    took = {}
    now = timezone.now()
    for job in schedule.due(now):
        if not schedule._claim(job, now):
            continue
        t0 = time.perf_counter()
        import_string(job.task_path).call()
        took[job.name] = round(time.perf_counter() - t0, 2)
    ctx.log(f"bench load: periodic jobs run before the stack starts (s): {json.dumps(took)}")
    return took


def run(ctx) -> dict:
    from django.conf import settings

    work = Path(tempfile.mkdtemp(prefix="renfang-load-"))
    plan_path = work / "plan.json"
    _plan(plan_path)
    warm = _warm_up(ctx)
    port = _port()
    env = {k: v for k, v in os.environ.items() if k not in ("RENFANG_PRODUCTION",)}
    env.update(RENFANG_DEBUG="0", RENFANG_STATIC_MANIFEST="0", RENFANG_LOAD_PLAN=str(plan_path),
               RENFANG_KEY_FILE=str(settings.RENFANG_KEY_FILE), RENFANG_IP_FAILURES_PER_HOUR="100000",
               PYTHONPATH=str(ctx.root))
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen([str(bin_dir / "gunicorn"), "renfang.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
                            "2", "--timeout", "120"], cwd=ctx.root, env=env, stdout=subprocess.DEVNULL,
                           stderr=open(work / "gunicorn.log", "w"), start_new_session=True)  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=ctx.root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_up(port, web)
        ctx.log(f"bench load: the mix at work, {USERS} users for {SECONDS} s")
        work_rows = _locust(ctx, env, port, "GridWorker Officer ApiClient", "think", SECONDS, work / "work")
        ctx.log("bench load: throughput of the mix, then of the trivial view")
        mix = _locust(ctx, env, port, "GridWorker Officer ApiClient", "none", SECONDS // 2, work / "mix")
        trivial = _locust(ctx, env, port, "Trivial", "none", SECONDS // 2, work / "trivial")
    finally:
        for proc in (web, worker):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in (web, worker):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    worker_kinds = [r for name, r in work_rows.items() if name.startswith("worker:")]
    errors = sum(r["fail"] for rows in (work_rows, mix, trivial) for name, r in rows.items() if name != "Aggregated")
    cores = os.cpu_count() or 1
    mix_rps, trivial_rps = mix["Aggregated"]["rps"], trivial["Aggregated"]["rps"]
    out = {
        "users": USERS,
        "work_rps": round(work_rows["Aggregated"]["rps"], 1),
        "work_p99_ms": work_rows["Aggregated"]["p99"],
        "worker_p99_ms": max((r["p99"] for r in worker_kinds), default=None),
        "mix_rps": round(mix_rps, 1), "mix_p99_ms": mix["Aggregated"]["p99"],
        "mix_rps_per_core": round(mix_rps / cores, 1),
        "trivial_rps": round(trivial_rps, 1), "ratio": round(mix_rps / trivial_rps, 3) if trivial_rps else None,
        "errors": errors,
        "warm_up_s": round(sum(warm.values()), 1),
        "requests": work_rows["Aggregated"]["n"] + mix["Aggregated"]["n"] + trivial["Aggregated"]["n"],
    }
    for name, r in sorted(work_rows.items()):
        if name != "Aggregated":
            key = name.replace(": ", "_").replace(" ", "_")
            out[f"{key}_p50_ms"], out[f"{key}_p99_ms"] = r["p50"], r["p99"]
    return out
