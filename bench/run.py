"""Run one benchmark: ``python bench/run.py NAME [--scale S] [--db sqlite|postgres] [--seed N] [--no-record]``.

The harness
  1. points Django at a benchmark database of its own per scale and engine
     (sqlite: ``var/bench/s{S}.sqlite3``; postgres: ``renfang_bench_s{S}`` on 127.0.0.1:5432, created if missing),
     with its own key file ``var/bench/keys.json`` so the encrypted numbers stay readable between runs
     (``RENFANG_VAR_DIR`` moves var/, ``RENFANG_BENCH_PG_PREFIX`` replaces ``renfang_bench``);
  2. migrates it and, when it holds no street yet, generates the demo sub-district at that scale
     (``demo.generator.generate(scale, seed, progress=True)``) unless the module sets ``NEEDS_DEMO = False``;
  3. imports ``bench.<NAME>`` (``bench.<NAME>_`` when NAME is a Python keyword, e.g. ``bench/import_.py``)
     and calls ``run(ctx) -> dict``;
  4. prints the figures as ONE JSON object on the last line of stdout and appends a row to bench/RESULTS.md
     (machine and its load average when the run started, date in Asia/Shanghai, the exact command, the JSON).

A bench module looks like::

    NEEDS_DEMO = True            # optional, default True

    def run(ctx) -> dict:
        with ctx.timer() as t:
            do_something()
        samples = [ctx.time_ms(lambda: query()) for _ in range(200)]
        return {"thing_ms": round(t.ms, 1), **ctx.percentiles(samples, "query")}

``ctx`` carries ``scale``, ``db`` ("sqlite" / "postgres"), ``seed``, ``root`` (the repository), ``log`` (a
message on stderr, never on the last line) and the helpers ``timer``, ``time_ms`` and ``percentiles``.
Progress bars and logs go to stderr so that stdout's last line stays the JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import keyword
import os
import platform
import shlex
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"

__all__ = ["Ctx", "Timer", "main", "percentile"]


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks."""
    if not samples:
        return float("nan")
    xs = sorted(samples)
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


@dataclass
class Timer:
    start: float = 0.0
    seconds: float = 0.0

    @property
    def ms(self) -> float:
        return self.seconds * 1000


@dataclass
class Ctx:
    scale: float
    db: str
    seed: int
    root: Path = ROOT
    extra: dict = field(default_factory=dict)

    @staticmethod
    def log(*parts: object) -> None:
        print(*parts, file=sys.stderr, flush=True)

    @staticmethod
    @contextmanager
    def timer():
        """``with ctx.timer() as t: ...`` then ``t.seconds`` / ``t.ms`` (wall clock, perf_counter)."""
        t = Timer(start=time.perf_counter())
        try:
            yield t
        finally:
            t.seconds = time.perf_counter() - t.start

    @staticmethod
    def time_ms(fn, *args, **kwargs) -> float:
        """Milliseconds one call of ``fn`` takes."""
        start = time.perf_counter()
        fn(*args, **kwargs)
        return (time.perf_counter() - start) * 1000

    @staticmethod
    def percentiles(samples: list[float], prefix: str = "", unit: str = "ms", digits: int = 2) -> dict:
        """{"<prefix>_p50_<unit>": ..., "<prefix>_p99_<unit>": ...} (keys without prefix when it is empty)."""
        pre = f"{prefix}_" if prefix else ""
        return {f"{pre}p50_{unit}": round(statistics.median(samples), digits) if samples else None,
                f"{pre}p99_{unit}": round(percentile(samples, 99), digits) if samples else None}


def scale_label(scale: float) -> str:
    return str(int(scale)) if float(scale).is_integer() else str(scale)


def bench_dir() -> Path:
    """var/bench, or bench/ under ``RENFANG_VAR_DIR`` when set (several people benchmarking on one machine)."""
    var = os.environ.get("RENFANG_VAR_DIR")
    return (ROOT / var if var and not Path(var).is_absolute() else Path(var) if var else ROOT / "var") / "bench"


def database_url(db: str, scale: float) -> str:
    label = scale_label(scale).replace(".", "_")
    if db == "sqlite":
        path = bench_dir() / f"s{label}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    prefix = os.environ.get("RENFANG_BENCH_PG_PREFIX", "renfang_bench")
    return f"{PG_SERVER}/{prefix}_s{label}"


def ensure_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB RAM"
                break
    except OSError:
        pass
    return ", ".join(x for x in (cpu, f"{os.cpu_count()} cores", ram) if x)


def prepare(ctx: Ctx, needs_demo: bool) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if not needs_demo:
        return
    from places.models import Street

    if Street.objects.exists():
        return
    try:
        from demo.generator import generate
    except ImportError:
        sys.exit("bench: this benchmark needs the demo sub-district, but demo.generator is not available yet "
                 "(app demo/ with generate(scale, seed, progress=True)).")
    ctx.log(f"bench: generating the demo sub-district at scale {scale_label(ctx.scale)} (seed {ctx.seed})...")
    generate(ctx.scale, ctx.seed, progress=True)


def load_module(name: str):
    modname = f"{name}_" if keyword.iskeyword(name) else name
    return importlib.import_module(f"bench.{modname}")


def load_average() -> str:
    """The 1-minute load average: on a shared 2-core machine it says how much the wall-clock figures can be trusted."""
    try:
        return f"load {os.getloadavg()[0]:.1f}"
    except OSError:
        return ""


def append_result(name: str, ctx: Ctx, command: str, figures: dict, load: str = "") -> None:
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by `bench/run.py`; one row per run, newest last.\n\n"
                           "| date (Asia/Shanghai) | bench | db | scale | machine | command | figures |\n"
                           "|---|---|---|---|---|---|---|\n", encoding="utf-8")
    where = ", ".join(x for x in (machine(), load) if x)
    row = (f"| {now} | {name} | {ctx.db} | {scale_label(ctx.scale)} | {where} | `{command}` | "
           f"`{json.dumps(figures, ensure_ascii=False)}` |\n")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(row)


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="bench module: bench/NAME.py (or bench/NAME_.py for a keyword)")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the demo sub-district, 20 ≈ 1,000,000 houses")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=2024, help="the demo generator's seed (its default)")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    url = database_url(args.db, args.scale)
    if args.db == "postgres":
        ensure_pg_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "renfang.settings"
    os.environ.setdefault("RENFANG_KEY_FILE", str(bench_dir() / "keys.json"))
    bench_dir().mkdir(parents=True, exist_ok=True)

    import django

    django.setup()
    ctx = Ctx(scale=args.scale, db=args.db, seed=args.seed)
    module = load_module(args.name)
    prepare(ctx, getattr(module, "NEEDS_DEMO", True))
    load = load_average()
    figures = module.run(ctx)
    out = {"bench": args.name, "db": args.db, "scale": args.scale, **figures}
    command = "python bench/run.py " + " ".join(shlex.quote(a) for a in argv)
    if not args.no_record:
        append_result(args.name, ctx, command, figures, load)
    sys.stdout.flush()
    print(json.dumps(out, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main()
