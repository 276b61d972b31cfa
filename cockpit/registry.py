"""The cockpit's registry: metrics, panels and map layers that any app adds from its own ``apps.py ready()``.

The cockpit imports only ``core`` and ``places``; every other app contributes to the boards by calling these
functions (the cockpit never imports them)::

    from cockpit.registry import register_metric, register_panel, register_layer, mark_dirty_house

    def ready(self):
        register_metric("quality.freshness", label=_("数据新鲜度"), compute=freshness_by_place)
        register_panel("quality.freshness", title=_("数据新鲜度"), metrics=["quality.freshness"],
                       chart="gauge", order=40)

Metrics
    ``compute(level, place_ids=None)`` returns ``{place_id: {subkey: number}}`` for one level of
    :data:`LEVELS`, computed set-based: ONE ``GROUP BY`` per level (``.values(f"{level}_id", "x")
    .annotate(n=Count("id"))``), never a loop over places. When ``place_ids`` is given the result is limited to
    those places (the incremental refresh asks for the dirty places and their ancestors only). A place that has
    nothing may be left out of the result: the rollup stores no row for it and the board shows zero.
    Subkeys are short strings ("owner", "rented", "m:20-24", "2026-W40"); numbers are ints or floats.
    ``small_cells=True`` marks counts of people that must show as "<5" to aggregate-only viewers
    (docs/security.md); the cockpit replaces them on the server, the true small number is never sent.

Panels
    A panel draws one or more metrics of the board's place. ``chart`` is one of :data:`CHARTS`:
    "bar" / "pie" draw the subkeys of the metrics, "line" draws the subkeys in sorted order (so a metric whose
    subkeys are weeks, "2026-W40", draws a trend), "pyramid" expects subkeys "m:<band>" / "f:<band>",
    "figures" shows each subkey as a big number, "gauge" shows the subkey ``rate`` (0..1) of the first metric
    (or ``num / den`` when the metric gives those two subkeys). ``drill(level, place_id, subkey)`` returns the
    URL of the filtered list behind one number (or None: not clickable). Panels are drawn in ``order``
    (ties by key). Adding a panel touches nothing else.

Layers
    ``register_layer(key, title=..., url_name=...)`` adds a GeoJSON overlay to the board's map. The URL
    (``reverse(url_name)``) is fetched with ``?level=<level>&place=<id>&bbox=<w,s,e,n>`` and must answer a
    GeoJSON FeatureCollection in WGS-84, scoped to the requesting user like any other view.

House states (the building board's 楼栋图)
    ``register_house_state(key, title=..., compute=fn(house_ids) -> {house_id: state}, states={state: (label,
    colour)}, order=100)`` colours the houses of a building board (e.g. freshness: fresh / due / stale). The
    first registered by ``order`` is the default colouring; the others are offered in a switch.

Dirty places
    :func:`mark_dirty` / :func:`mark_dirty_house` record that a place changed; ``cockpit.tasks.refresh_rollups``
    (every 30 seconds) recomputes it and its ancestors. Call them after a write that changes a figure (the cockpit's
    own signals already cover places.House and people.Residence / Person / PersonTag).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CHARTS", "LEVELS", "HouseState", "Layer", "Metric", "Panel", "get_metric", "house_states", "layers",
    "mark_dirty", "mark_dirty_house", "metrics", "panels", "register_house_state", "register_layer",
    "register_metric", "register_panel", "unregister",
]

LEVELS: tuple[str, ...] = ("street", "community", "grid", "compound", "building")
"""The places that have a board, from the top down. A house belongs to all five (denormalised ancestor ids)."""

CHARTS: tuple[str, ...] = ("bar", "pie", "line", "pyramid", "figures", "gauge")

Compute = Callable[..., dict[int, dict[str, float]]]
Drill = Callable[[str, int, str], "str | None"]


@dataclass(frozen=True)
class Metric:
    """A figure computed for every place of some levels and kept in ``cockpit.Rollup``."""

    key: str
    label: Any
    compute: Compute
    small_cells: bool = False
    levels: tuple[str, ...] = LEVELS
    subkey_labels: Callable[[], dict[str, Any]] | dict[str, Any] | None = None
    map_value: Callable[[dict[str, float]], float | None] | None = None
    map_label: Any = None
    map_percent: bool = False
    additive: bool = False
    percent: bool = False  # the values are rates 0..1: charts, tables and the map show them as percentages

    def labels(self) -> dict[str, Any]:
        """Display names of the subkeys (translated lazily); a subkey without one shows as itself."""
        if self.subkey_labels is None:
            return {}
        return dict(self.subkey_labels() if callable(self.subkey_labels) else self.subkey_labels)


@dataclass(frozen=True)
class Panel:
    """A chart on every board: the metrics it draws, how, where (``order``) and what a click opens."""

    key: str
    title: Any
    metrics: tuple[str, ...]
    chart: str = "bar"
    order: int = 100
    drill: Drill | None = None
    levels: tuple[str, ...] = LEVELS
    wide: bool = False


@dataclass(frozen=True)
class Layer:
    """A GeoJSON overlay of the board's map."""

    key: str
    title: Any
    url_name: str
    color: str = "#d9822b"
    shown: bool = True  # drawn when the board opens; False: listed, drawn when ticked


@dataclass(frozen=True)
class HouseState:
    """A colouring of the houses of the building board: ``compute(house_ids) -> {house_id: state}``."""

    key: str
    title: Any
    compute: Callable[[list[int]], dict[int, str]]
    states: dict[str, tuple[Any, str]]
    order: int = 100


@dataclass
class _Registry:
    metrics: dict[str, Metric] = field(default_factory=dict)
    panels: dict[str, Panel] = field(default_factory=dict)
    layers: dict[str, Layer] = field(default_factory=dict)
    house_states: dict[str, HouseState] = field(default_factory=dict)


_REG = _Registry()


def _check_key(key: str) -> None:
    if not isinstance(key, str) or "." not in key or len(key) > 64:
        raise ValueError(f"cockpit registry: key {key!r} must be 'app.name' (at most 64 characters)")


def _check_levels(levels: Iterable[str]) -> tuple[str, ...]:
    levels = tuple(levels)
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown or not levels:
        raise ValueError(f"cockpit registry: levels must be a non-empty subset of {LEVELS}, got {levels}")
    return levels


def register_metric(key: str, *, label: Any, compute: Compute, small_cells: bool = False,
                    levels: Iterable[str] = LEVELS, subkey_labels=None, map_value=None, map_label=None,
                    map_percent: bool = False, additive: bool = False, percent: bool = False) -> Metric:
    """Register (or re-register, idempotently) a metric.

    ``key`` "app.name"; ``label`` its display name; ``compute(level, place_ids=None)`` →
    ``{place_id: {subkey: number}}`` with one GROUP BY per level; ``small_cells`` → counts below 5 show as "<5"
    to aggregate-only viewers; ``levels`` the levels it is computed for.
    Optional: ``subkey_labels`` (a dict or a callable returning one) names the subkeys;
    ``map_value(values) -> number | None`` offers the metric as a colouring of the map (``map_label`` names it,
    ``map_percent`` shows the number as a percentage); ``additive=True`` declares that a place's values are the
    sums of its buildings' (counts of houses or residents): the incremental refresh then recomputes only the
    dirty buildings and moves their ancestors by the difference (rates and scores must leave it False);
    ``percent=True`` declares the values rates 0..1, shown as percentages everywhere (it implies ``map_percent``).
    """
    _check_key(key)
    if not callable(compute):
        raise TypeError(f"cockpit registry: compute of {key} is not callable")
    metric = Metric(key, label, compute, bool(small_cells), _check_levels(levels), subkey_labels, map_value,
                    map_label, bool(map_percent or percent), bool(additive), bool(percent))
    _REG.metrics[key] = metric
    return metric


def register_panel(key: str, *, title: Any, metrics: Iterable[str], chart: str = "bar", order: int = 100,
                   drill: Drill | None = None, levels: Iterable[str] = LEVELS, wide: bool = False) -> Panel:
    """Register (or re-register) a panel drawn on every board of ``levels``, sorted by ``order``.

    ``metrics`` are metric keys (registered before or after the panel: they are resolved when a board is
    drawn, and a panel whose metrics are all missing is not drawn); ``chart`` one of :data:`CHARTS`;
    ``drill(level, place_id, subkey)`` → URL of the list behind a number, or None.
    """
    _check_key(key)
    if chart not in CHARTS:
        raise ValueError(f"cockpit registry: chart {chart!r} of {key} must be one of {CHARTS}")
    metrics = tuple(metrics)
    if not metrics:
        raise ValueError(f"cockpit registry: panel {key} needs at least one metric")
    panel = Panel(key, title, metrics, chart, int(order), drill, _check_levels(levels), bool(wide))
    _REG.panels[key] = panel
    return panel


def register_layer(key: str, *, title: Any, url_name: str, color: str = "#d9822b", shown: bool = True) -> Layer:
    """Register a GeoJSON layer of the map: ``url_name`` answers a FeatureCollection for ``?level=&place=&bbox=``;
    ``shown=False`` lists it unticked (drawn when the viewer ticks it)."""
    _check_key(key)
    layer = Layer(key, title, url_name, color, shown)
    _REG.layers[key] = layer
    return layer


def register_house_state(key: str, *, title: Any, compute: Callable[[list[int]], dict[int, str]],
                         states: dict[str, tuple[Any, str]], order: int = 100) -> HouseState:
    """Register a colouring of the building board's houses: ``compute(house_ids)`` → ``{house_id: state}``
    (one query for the building's houses), ``states`` → ``{state: (label, "#colour")}``."""
    _check_key(key)
    state = HouseState(key, title, compute, dict(states), int(order))
    _REG.house_states[key] = state
    return state


def house_states() -> list[HouseState]:
    """The registered house colourings, in order."""
    return sorted(_REG.house_states.values(), key=lambda h: (h.order, h.key))


def unregister(key: str) -> None:
    """Remove a metric, panel, layer or house state registered under ``key`` (tests use this to clean up)."""
    for table in (_REG.metrics, _REG.panels, _REG.layers, _REG.house_states):
        table.pop(key, None)


def metrics() -> list[Metric]:
    """All registered metrics, by key."""
    return [_REG.metrics[k] for k in sorted(_REG.metrics)]


def get_metric(key: str) -> Metric | None:
    return _REG.metrics.get(key)


def panels(level: str | None = None) -> list[Panel]:
    """The panels of a level's board, in order; a panel whose metrics are all unregistered is left out."""
    out = [p for p in _REG.panels.values()
           if (level is None or level in p.levels) and any(m in _REG.metrics for m in p.metrics)]
    return sorted(out, key=lambda p: (p.order, p.key))


def layers() -> list[Layer]:
    """The registered map layers, by key."""
    return [_REG.layers[k] for k in sorted(_REG.layers)]


def mark_dirty(level: str, place_id: int) -> None:
    """Ask the rollup job to recompute ``level``/``place_id`` and its ancestors (within 30 seconds).

    One INSERT, cheap enough for a save signal; it joins the caller's transaction (a rolled-back write
    leaves nothing to refresh). Duplicates are fine: the job reads them all and deletes what it has read.
    """
    if level not in LEVELS:
        raise ValueError(f"cockpit.mark_dirty: level must be one of {LEVELS}, got {level!r}")
    if place_id is None:
        return
    from cockpit.models import DirtyPlace

    DirtyPlace.objects.create(level=level, place_id=int(place_id))


def mark_dirty_house(house_id: int) -> None:
    """Mark the building of a house dirty (the job also refreshes its compound, grid, community and street)."""
    if house_id is None:
        return
    from places.models import House

    building_id = House.objects.filter(pk=house_id).values_list("building_id", flat=True).first()
    if building_id is not None:
        mark_dirty("building", building_id)
