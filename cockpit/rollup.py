"""Keeping ``cockpit.Rollup`` current: a full rebuild and the incremental refresh of dirty places.

Full rebuild (nightly, ``manage.py cockpit_rollup --full``, ``cockpit_demo``): for every registered metric and
each of its levels, ``compute(level)`` — one GROUP BY over the whole registry — and the level's rows replaced in
one transaction (readers see the old figures until it commits; on PostgreSQL the rows go in by COPY). An
``additive`` metric is computed once, at the
building level, and its upper levels are the sums of their buildings (the same numbers, a fifth of the work).

Incremental refresh (every 30 seconds, ``cockpit.tasks.refresh_rollups``): the dirty places queued by
``registry.mark_dirty`` are expanded to their ancestors (a dirty building → its compound, grid, community and
street) and, when a place above a building was marked, its descendants too (a dirty grid → its compounds and
buildings; a dirty street → a full rebuild). Then ONE query per metric per level restricted to those place ids
(``compute(level, place_ids)``), the rows of those places replaced, and the queue rows that were read deleted
(marks that arrive meanwhile stay queued for the next run). When only buildings were marked (the usual case: a
house or a resident changed), an ``additive`` metric (a count: the value of a place is the sum of its buildings')
is recomputed for the dirty buildings only and each ancestor moves by the buildings' difference — no scan of a
street for a move-in. Rates and scores (not additive) are recomputed at every level for the places concerned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from cockpit import registry
from cockpit.models import DirtyPlace, Rollup
from places.models import Building, Community, Compound, Grid, Street

__all__ = ["RefreshResult", "expand", "full_rebuild", "refresh_dirty", "refresh_places"]

log = logging.getLogger("renfang.cockpit")
MODELS = {"street": Street, "community": Community, "grid": Grid, "compound": Compound, "building": Building}
ANCESTORS = {"street": (), "community": ("street",), "grid": ("community", "street"),
             "compound": ("grid", "community", "street"), "building": ("compound", "grid", "community", "street")}
BATCH = 5000
ANCESTOR_FIELDS = ["compound_id", "grid_id", "community_id", "street_id"]
ID_CHUNK = 900  # SQLite's default bound on query parameters is 999
_REFRESH_LOCK_ID = 7_226_012  # pg_advisory_xact_lock: one difference refresh at a time (core.audit uses 7_226_011)


@dataclass
class RefreshResult:
    places: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    seconds: float = 0.0
    full: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {"places": self.places, "rows": self.rows, "seconds": round(self.seconds, 3), "full": self.full}
        if self.errors:
            out["errors"] = self.errors
        return out


def _safe_compute(metric: registry.Metric, level: str, place_ids, result: RefreshResult):
    """A metric of another app that fails is logged and skipped (its old rollups stay); the others go on.
    The savepoint keeps the caller's transaction usable on PostgreSQL."""
    try:
        with transaction.atomic():
            return _compute(metric, level, place_ids)
    except Exception as exc:  # noqa: BLE001  (any app's metric: isolate it)
        log.exception("cockpit rollup: metric %s failed at level %s", metric.key, level)
        result.errors[f"{metric.key}/{level}"] = f"{type(exc).__name__}: {exc}"[:300]
        return None


def _chunks(ids: list[int], size: int = ID_CHUNK) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _rows(metric: str, level: str, data: dict[int, dict[str, float]], now) -> list[Rollup]:
    return [Rollup(level=level, place_id=pid, metric=metric, key=str(key)[:64], value=float(value), computed_at=now)
            for pid, values in data.items() for key, value in values.items() if value]


def _compute(metric: registry.Metric, level: str, place_ids: list[int] | None) -> dict[int, dict[str, float]]:
    if place_ids is None:
        return metric.compute(level)
    out: dict[int, dict[str, float]] = {}
    for chunk in _chunks(place_ids):
        out.update(metric.compute(level, place_ids=chunk))
    wanted = set(place_ids)
    return {pid: v for pid, v in out.items() if pid in wanted}


def _sum_up(data: dict[int, dict[str, float]], ancestors: dict[int, dict[str, int]], level: str):
    out: dict[int, dict[str, float]] = {}
    for building, values in data.items():
        place = ancestors.get(building, {}).get(level)
        if place is None:
            continue
        target = out.setdefault(place, {})
        for key, value in values.items():
            target[key] = target.get(key, 0) + value
    return out


def _tuples(metric: str, level: str, data: dict[int, dict[str, float]]) -> list[tuple]:
    return [(level, pid, metric, str(key)[:64], float(value)) for pid, values in data.items()
            for key, value in values.items() if value]


def _write_all(metric_keys: list[str], rows: list[tuple], now) -> None:
    """Replace every row of ``metric_keys`` by ``rows`` in ONE transaction: a single DELETE, then COPY on
    PostgreSQL (bulk INSERTs of 5,000 elsewhere). Readers see the old figures until it commits."""
    with transaction.atomic():
        Rollup.objects.filter(metric__in=metric_keys).delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                with cursor.copy("COPY cockpit_rollup (level, place_id, metric, key, value, computed_at) "
                                 "FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((*row, now))
        else:
            for i in range(0, len(rows), BATCH):
                Rollup.objects.bulk_create([Rollup(level=lv, place_id=pid, metric=m, key=k, value=v, computed_at=now)
                                            for lv, pid, m, k, v in rows[i:i + BATCH]], batch_size=BATCH)


def full_rebuild(metrics: Iterable[registry.Metric] | None = None) -> RefreshResult:
    """Recompute every metric for every place and replace the rollups: one GROUP BY per metric per level — for an
    additive metric one GROUP BY at the building level, the levels above being the sums of their buildings.
    Everything is computed first, then written in one transaction (a metric that fails keeps its old rows)."""
    started = time.perf_counter()
    result = RefreshResult(full=True)
    max_dirty = DirtyPlace.objects.order_by("-id").values_list("id", flat=True).first()
    ancestors = None
    rows: list[tuple] = []
    done: list[str] = []
    for metric in metrics or registry.metrics():
        per_level: dict[str, dict] = {}
        if metric.additive and "building" in metric.levels:
            data = _safe_compute(metric, "building", None, result)
            if data is None:
                continue
            if ancestors is None:
                ancestors = {row["id"]: {f[:-3]: row[f] for f in ANCESTOR_FIELDS}
                             for row in Building.objects.values("id", *ANCESTOR_FIELDS).iterator(chunk_size=10000)}
            for level in metric.levels:
                per_level[level] = data if level == "building" else _sum_up(data, ancestors, level)
        else:
            failed = False
            for level in metric.levels:
                data = _safe_compute(metric, level, None, result)
                if data is None:
                    failed = True
                    break
                per_level[level] = data
            if failed:
                continue
        for level, data in per_level.items():
            rows.extend(_tuples(metric.key, level, data))
            result.places[level] = max(result.places.get(level, 0), len(data))
        done.append(metric.key)
    _write_all(done, rows, timezone.now())
    result.rows = len(rows)
    log.info("cockpit full rollup: %d metrics, %d rows", len(done), len(rows))
    if max_dirty is not None:
        DirtyPlace.objects.filter(id__lte=max_dirty).delete()
    result.seconds = time.perf_counter() - started
    return result


def expand(marks: Iterable[tuple[str, int]]) -> dict[str, set[int]] | None:
    """Dirty marks → the place ids to recompute per level (ancestors, and descendants of a mark above a
    building). None means "everything" (a street was marked)."""
    marked: dict[str, set[int]] = {lv: set() for lv in registry.LEVELS}
    for level, pid in marks:
        if level in marked:
            marked[level].add(int(pid))
    if marked["street"]:
        return None
    todo: dict[str, set[int]] = {lv: set(ids) for lv, ids in marked.items()}
    # descendants of a marked community / grid / compound
    for level in ("community", "grid", "compound"):
        ids = sorted(marked[level])
        below = registry.LEVELS[registry.LEVELS.index(level) + 1:]
        for chunk in _chunks(ids):
            for child in below:
                todo[child].update(MODELS[child].objects.filter(**{f"{level}_id__in": chunk})
                                   .values_list("id", flat=True))
    # ancestors of everything
    for level in ("building", "compound", "grid", "community"):
        ids = sorted(todo[level])
        fields = [f"{a}_id" for a in ANCESTORS[level]]
        for chunk in _chunks(ids):
            for row in MODELS[level].objects.filter(id__in=chunk).values_list(*fields):
                for a, value in zip(ANCESTORS[level], row, strict=True):
                    if value is not None:
                        todo[a].add(value)
    return todo


def _replace(metric: str, level: str, ids: list[int], data: dict[int, dict[str, float]]) -> int:
    """Replace the rows of ``metric`` at ``level`` for ``ids`` by ``data`` (one transaction)."""
    rows = _rows(metric, level, data, timezone.now())
    with transaction.atomic():
        for chunk in _chunks(ids):
            Rollup.objects.filter(metric=metric, level=level, place_id__in=chunk).delete()
        Rollup.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _stored(metric: str, level: str, ids: list[int]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for chunk in _chunks(ids):
        for pid, key, value in Rollup.objects.filter(metric=metric, level=level, place_id__in=chunk) \
                .values_list("place_id", "key", "value"):
            out.setdefault(pid, {})[key] = value
    return out


def _building_ancestors(ids: list[int]) -> dict[int, dict[str, int]]:
    fields = ANCESTOR_FIELDS
    out = {}
    for chunk in _chunks(ids):
        for row in Building.objects.filter(id__in=chunk).values("id", *fields):
            out[row["id"]] = {f[:-3]: row[f] for f in fields}
    return out


def _refresh_by_difference(metric: registry.Metric, todo: dict[str, set[int]], ancestors, result) -> bool:
    """An additive metric after changes inside buildings only: recompute the buildings, then add each building's
    difference (new − stored) to its ancestors' stored values. No scan above the buildings."""
    buildings = sorted(todo["building"])
    new = _safe_compute(metric, "building", buildings, result)
    if new is None:
        return True
    # One transaction for the buildings and their ancestors: a run killed between the two would leave the
    # buildings new and the ancestors old, and the next run (finding no difference left) would never mend them.
    # One refresher at a time (a second would add the same difference twice).
    with transaction.atomic():
        _lock_refresh()
        _apply_difference(metric, buildings, new, ancestors, result)
    return True


def _lock_refresh() -> None:
    if connection.vendor == "postgresql":  # SQLite's BEGIN IMMEDIATE already holds the one write lock
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK_ID])


def _apply_difference(metric: registry.Metric, buildings: list[int], new, ancestors, result) -> None:
    old = _stored(metric.key, "building", buildings)
    result.rows += _replace(metric.key, "building", buildings, new)
    for level in metric.levels:
        if level == "building":
            continue
        deltas: dict[int, dict[str, float]] = {}
        for b in buildings:
            place = ancestors.get(b, {}).get(level)
            if place is None:
                continue
            target = deltas.setdefault(place, {})
            for key in set(new.get(b, {})) | set(old.get(b, {})):
                target[key] = target.get(key, 0) + new.get(b, {}).get(key, 0) - old.get(b, {}).get(key, 0)
        ids = sorted(p for p, d in deltas.items() if any(d.values()))
        if not ids:
            continue
        values = _stored(metric.key, level, ids)
        for pid in ids:
            merged = values.setdefault(pid, {})
            for key, d in deltas[pid].items():
                merged[key] = merged.get(key, 0) + d
        result.rows += _replace(metric.key, level, ids, values)


def refresh_places(todo: dict[str, set[int]], metrics: Iterable[registry.Metric] | None = None, *,
                   buildings_only: bool = False) -> RefreshResult:
    """Recompute the given places: one query per metric per level restricted to those ids — or, for an additive
    metric when only buildings changed (``buildings_only``), the buildings and the differences upwards."""
    started = time.perf_counter()
    result = RefreshResult(places={lv: len(ids) for lv, ids in todo.items() if ids})
    ancestors = _building_ancestors(sorted(todo.get("building") or ())) if buildings_only else {}
    for metric in metrics or registry.metrics():
        if (buildings_only and metric.additive and "building" in metric.levels and todo.get("building")
                and Rollup.objects.filter(metric=metric.key).exists()):  # built once: differences apply
            _refresh_by_difference(metric, todo, ancestors, result)
            continue
        for level in metric.levels:
            ids = sorted(todo.get(level) or ())
            if not ids:
                continue
            data = _safe_compute(metric, level, ids, result)
            if data is None:
                continue
            result.rows += _replace(metric.key, level, ids, data)
    result.seconds = time.perf_counter() - started
    return result


def refresh_dirty() -> RefreshResult:
    """Refresh the places queued in DirtyPlace (and their ancestors); delete the queue rows that were read."""
    started = time.perf_counter()
    marks = list(DirtyPlace.objects.order_by("id").values_list("id", "level", "place_id"))
    if not marks:
        return RefreshResult()
    max_id = marks[-1][0]
    todo = expand((level, pid) for _id, level, pid in marks)
    buildings_only = all(level == "building" for _id, level, _pid in marks)
    result = full_rebuild() if todo is None else refresh_places(todo, buildings_only=buildings_only)
    if result.errors:
        log.warning("cockpit refresh: %d metric(s) failed: %s", len(result.errors), result.errors)
    DirtyPlace.objects.filter(id__lte=max_id).delete()
    result.seconds = time.perf_counter() - started
    log.info("cockpit refresh: %s", result.as_dict())
    return result
