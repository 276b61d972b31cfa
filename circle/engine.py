"""The numeric core of the service circle: a walking graph in arrays, snapping, nearest facilities, coverage
and greedy site selection. No Django here: the services, the benchmark and the tests call the same functions.

Distances are metres (float64) throughout. The graph is undirected (people walk both ways along a one-way
street) and stored as a CSR matrix holding both directions of every edge, so that scipy's Dijkstra runs with
``directed=True`` on it (the same answer as ``directed=False`` on one direction, and faster).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

__all__ = [
    "DETOUR_FACTOR", "EARTH_RADIUS_M", "Graph", "GreedyStep", "brute_force_max_coverage", "coverage_matrix",
    "greedy_max_coverage", "haversine_m", "nearest_by_category", "nearest_facilities", "straight_line_nearest",
]

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
DETOUR_FACTOR = 1.3  # straight line × this when no walking network has been imported


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres; works elementwise on numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def project(lat, lon, lat0: float, lon0: float) -> np.ndarray:
    """Local equirectangular projection in metres around (lat0, lon0): good to 0.1 % over a city."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    k = math.cos(math.radians(lat0))
    return np.column_stack([np.radians(lon - lon0) * EARTH_RADIUS_M * k, np.radians(lat - lat0) * EARTH_RADIUS_M])


def dedupe_edges(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges without self-loops, one per node pair, the shortest kept."""
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    w = np.asarray(w, dtype=np.float64)
    keep = u != v
    a, b, w = np.minimum(u, v)[keep], np.maximum(u, v)[keep], w[keep]
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], w[first]


@dataclass
class Graph:
    """A walking network: node coordinates and a symmetric CSR matrix of edge lengths in metres."""

    lat: np.ndarray
    lon: np.ndarray
    csr: sparse.csr_matrix
    xy: np.ndarray = field(repr=False)
    lat0: float = 0.0
    lon0: float = 0.0
    snap_nodes: np.ndarray = field(repr=False, default=None)  # nodes of the largest connected component
    _tree: cKDTree | None = field(repr=False, default=None)

    @classmethod
    def from_edges(cls, lat, lon, u, v, w) -> Graph:
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        n = len(lat)
        a, b, w = dedupe_edges(u, v, w)
        rows = np.concatenate([a, b])
        cols = np.concatenate([b, a])
        data = np.concatenate([w, w])
        # Zero-length edges (two OSM nodes at one spot) would vanish from a sparse matrix: keep them tiny.
        data = np.maximum(data, 1e-3)
        csr = sparse.csr_matrix((data, (rows, cols)), shape=(n, n))
        csr.sort_indices()
        lat0 = float(np.mean(lat)) if n else 0.0
        lon0 = float(np.mean(lon)) if n else 0.0
        g = cls(lat=lat, lon=lon, csr=csr, xy=project(lat, lon, lat0, lon0), lat0=lat0, lon0=lon0)
        g.snap_nodes = g.largest_component()
        return g

    @property
    def n_nodes(self) -> int:
        return len(self.lat)

    @property
    def n_arcs(self) -> int:
        return int(self.csr.nnz)

    def largest_component(self) -> np.ndarray:
        if self.n_nodes == 0:
            return np.zeros(0, dtype=np.int64)
        _, labels = connected_components(self.csr, directed=False)
        counts = np.bincount(labels)
        return np.flatnonzero(labels == int(np.argmax(counts)))

    def snap(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node (of the main component) to each point, and the straight-line metres to it."""
        if self._tree is None:
            self._tree = cKDTree(self.xy[self.snap_nodes])
        pts = project(np.atleast_1d(lat), np.atleast_1d(lon), self.lat0, self.lon0)
        dist, idx = self._tree.query(pts)
        return self.snap_nodes[idx].astype(np.int64), np.asarray(dist, dtype=np.float64)


def nearest_by_category(graph: Graph, sources: list[np.ndarray], limit: float, labels: list[np.ndarray] | None = None):
    """For every node and every category, the network metres to the nearest source node (inf beyond ``limit``).

    ``sources[c]`` holds the snapped node of each facility of category c. With ``labels`` (``labels[c][i]`` an
    id for source i of category c) the id of the facility reached is returned too (-1 where none); where several
    facilities share a node, the first one's id. Returns ``dist`` (one array over the nodes per category) and,
    with labels, ``which`` (likewise).
    Distances run from the facility's node: a caller adds the facility's snap offset where it reads a figure.
    """
    n = graph.n_nodes
    # One array per category, as scipy returns it: no copy into a categories × nodes block.
    dist: list[np.ndarray] = []
    which: list[np.ndarray] = []
    # scipy marks unreached nodes with source -9999: a lookup padded below 0 turns that into -1 without a mask.
    pad = 10_000
    lookup = np.full(n + pad, -1, dtype=np.int32) if labels is not None else None
    for c, src in enumerate(sources):
        src = np.asarray(src, dtype=np.int64)
        if src.size == 0:
            dist.append(np.full(n, np.inf))
            if labels is not None:
                which.append(np.full(n, -1, dtype=np.int32))
            continue
        if labels is None:
            dist.append(dijkstra(graph.csr, directed=True, indices=src, min_only=True, limit=limit))
            continue
        d, _, reached = dijkstra(graph.csr, directed=True, indices=src, min_only=True, limit=limit,
                                 return_predecessors=True)
        lookup[src[::-1]] = np.asarray(labels[c], dtype=np.int32)[::-1]
        dist.append(d)
        which.append(lookup.take(reached))
        lookup[src] = -1  # reset only what was set, for the next category
    return (dist, which) if labels is not None else dist


def nearest_facilities(graph: Graph, lat, lon, cat_index, n_categories: int, limit: float):
    """The product's path from facility coordinates to the nearest-facility table of every node.

    Facilities are snapped to the network (their offset added), grouped by category (``cat_index`` in
    ``range(n_categories)``), and one multi-source Dijkstra per category finds, for every node, the nearest
    facility within ``limit`` metres. Returns ``dist`` (per category, an array over the nodes: network metres from
    the facility's node, inf beyond the limit), ``which`` (likewise, the facility's index into the inputs, -1
    where none) and each
    facility's snap offset (metres from the facility to its node): the figure for node i and category c is
    ``dist[c][i] + offset[which[c][i]]``.
    """
    cat_index = np.asarray(cat_index, dtype=np.int64)
    if len(cat_index):
        node, off = graph.snap(lat, lon)
    else:
        node, off = np.zeros(0, dtype=np.int64), np.zeros(0)
    order = np.argsort(cat_index, kind="stable")
    bounds = np.searchsorted(cat_index[order], np.arange(n_categories + 1))
    groups = [order[bounds[c]:bounds[c + 1]] for c in range(n_categories)]
    dist, which = nearest_by_category(graph, [node[g] for g in groups], limit, labels=groups)
    return dist, which, off


def straight_line_nearest(lat, lon, src_lat, src_lon, factor: float = DETOUR_FACTOR) -> tuple[np.ndarray, np.ndarray]:
    """Fallback without a network: straight line × ``factor`` to the nearest source. Returns (metres, index)."""
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    if len(src_lat) == 0:
        return np.full(len(lat), np.inf), np.full(len(lat), -1, dtype=np.int64)
    lat0 = float(np.mean(np.concatenate([lat, np.asarray(src_lat, dtype=np.float64)])))
    lon0 = float(np.mean(np.concatenate([lon, np.asarray(src_lon, dtype=np.float64)])))
    tree = cKDTree(project(src_lat, src_lon, lat0, lon0))
    _, idx = tree.query(project(lat, lon, lat0, lon0))
    d = haversine_m(lat, lon, np.asarray(src_lat)[idx], np.asarray(src_lon)[idx]) * factor
    return d, idx.astype(np.int64)


def coverage_matrix(graph: Graph | None, cand_lat, cand_lon, dem_lat, dem_lon, limit: float,
                    factor: float = DETOUR_FACTOR, batch: int = 64) -> sparse.csr_matrix:
    """Boolean (candidates × demand points): candidate j would be within ``limit`` metres of demand point i.

    With a graph: snap offset of both ends + network distance, one limited Dijkstra per spatial batch of
    candidates on the part of the network within reach.
    Without: straight line × ``factor``.
    """
    cand_lat = np.asarray(cand_lat, dtype=np.float64)
    cand_lon = np.asarray(cand_lon, dtype=np.float64)
    dem_lat = np.asarray(dem_lat, dtype=np.float64)
    dem_lon = np.asarray(dem_lon, dtype=np.float64)
    nc, nd = len(cand_lat), len(dem_lat)
    if nc == 0 or nd == 0:
        return sparse.csr_matrix((nc, nd), dtype=bool)
    if graph is None:
        lat0, lon0 = float(np.mean(dem_lat)), float(np.mean(dem_lon))
        tree_d = cKDTree(project(dem_lat, dem_lon, lat0, lon0))
        tree_c = cKDTree(project(cand_lat, cand_lon, lat0, lon0))
        pairs = tree_c.sparse_distance_matrix(tree_d, limit / factor * 1.01, output_type="coo_matrix")
        rows, cols = pairs.row, pairs.col
        d = haversine_m(cand_lat[rows], cand_lon[rows], dem_lat[cols], dem_lon[cols]) * factor
        ok = d <= limit
        return sparse.csr_matrix((np.ones(int(ok.sum()), dtype=bool), (rows[ok], cols[ok])), shape=(nc, nd))
    c_node, c_off = graph.snap(cand_lat, cand_lon)
    d_node, d_off = graph.snap(dem_lat, dem_lon)
    # Candidates in spatial batches; each batch runs on the subgraph within ``limit`` of its bounding box, which
    # holds every path of at most ``limit`` metres from its candidates (a path never gets farther, in a straight
    # line, than its length). Exact, and the output is batch × local nodes instead of batch × all nodes.
    cell = max(limit, 500.0) * 2
    cxy = graph.xy[c_node]
    order = np.lexsort((cxy[:, 0], np.floor(cxy[:, 1] / cell)))
    local = np.full(graph.n_nodes, -1, dtype=np.int64)
    rows_out, cols_out = [], []
    for start in range(0, nc, batch):
        sel = order[start:start + batch]
        budget = limit - float(np.min(c_off[sel]))
        if budget < 0:
            continue
        lo = cxy[sel].min(axis=0) - budget
        hi = cxy[sel].max(axis=0) + budget
        inside = np.flatnonzero((graph.xy[:, 0] >= lo[0]) & (graph.xy[:, 0] <= hi[0])
                                & (graph.xy[:, 1] >= lo[1]) & (graph.xy[:, 1] <= hi[1]))
        local[inside] = np.arange(len(inside))
        dem_local = local[d_node]
        near = np.flatnonzero(dem_local >= 0)
        if len(near):
            sub = graph.csr[inside][:, inside]
            d = dijkstra(sub, directed=True, indices=local[c_node[sel]], limit=budget)
            total = d[:, dem_local[near]] + c_off[sel, None] + d_off[None, near]
            r, c = np.nonzero(total <= limit)
            rows_out.append(sel[r])
            cols_out.append(near[c])
        local[inside] = -1
    rows = np.concatenate(rows_out) if rows_out else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols_out) if cols_out else np.zeros(0, dtype=np.int64)
    return sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(nc, nd))


@dataclass
class GreedyStep:
    candidate: int  # index into the candidates
    gain: float  # weight newly covered by this step
    covered_after: float  # total covered weight after this step


def greedy_max_coverage(cover: sparse.csr_matrix, weights, k: int, covered=None) -> list[GreedyStep]:
    """Choose up to ``k`` candidates one at a time, each adding the most uncovered weight (ties: lowest index).

    ``cover`` is (candidates × demand points) boolean; ``covered`` marks demand already served.
    Stops early when no candidate adds anything. The classic (1 - 1/e) approximation of maximum coverage.
    """
    weights = np.asarray(weights, dtype=np.float64)
    uncovered = np.ones(len(weights), dtype=bool) if covered is None else ~np.asarray(covered, dtype=bool)
    a = sparse.csr_matrix(cover, dtype=np.float64)
    total = float(weights[~uncovered].sum())
    steps: list[GreedyStep] = []
    chosen: set[int] = set()
    for _ in range(k):
        gains = a @ (weights * uncovered)
        if chosen:
            gains[list(chosen)] = -1.0
        if gains.size == 0:
            break
        j = int(np.argmax(gains))
        gain = float(gains[j])
        if gain <= 0:
            break
        chosen.add(j)
        newly = a.indices[a.indptr[j]:a.indptr[j + 1]]
        uncovered[newly] = False
        total += gain
        steps.append(GreedyStep(candidate=j, gain=gain, covered_after=total))
    return steps


def brute_force_max_coverage(cover: sparse.csr_matrix, weights, k: int, covered=None) -> tuple[tuple[int, ...], float]:
    """The exact best set of ``k`` candidates by trying every combination (small cases only: tests)."""
    weights = np.asarray(weights, dtype=np.float64)
    base = np.zeros(len(weights), dtype=bool) if covered is None else np.asarray(covered, dtype=bool)
    dense = sparse.csr_matrix(cover).toarray().astype(bool)
    best: tuple[tuple[int, ...], float] = ((), float(weights[base].sum()))
    for combo in itertools.combinations(range(dense.shape[0]), min(k, dense.shape[0])):
        mask = base | dense[list(combo)].any(axis=0)
        value = float(weights[mask].sum())
        if value > best[1] + 1e-9:
            best = (combo, value)
    return best
