"""Benchmark of the 15-minute service circle (issue 7): ``python bench/run.py circle [--scale S]``.

A synthetic city-scale walking network (scale 1: 200,000 nodes / 600,000 arcs, a jittered 80 m lattice with a
quarter of its streets removed), 15 categories with 2,000 facilities placed at random points (not on nodes, so
snapping is exercised), then, in the same run:

* ``product_s``: facility coordinates → nearest facility of every category for every node within 1,200 m,
  through ``circle.engine.nearest_facilities`` (the code path ``circle.services.recompute`` uses: snapping,
  grouping, one multi-source Dijkstra per category that also tells which facility is reached);
* ``bare_scipy_s``: ``scipy.sparse.csgraph.dijkstra(indices=nodes, min_only=True, limit=1200)`` per category on
  the same CSR matrix and the same (already snapped) source nodes;
* ``ratio`` = product / bare, each the best of 5 runs, interleaved (``ratio_cpu``: the same in CPU time);
* ``site_selection_s``: best 10 sites among 3,000 compounds (candidates = the compounds themselves, 1,000 m,
  weights = residents) through ``coverage_matrix`` + ``greedy_max_coverage`` (the path of ``services.plan``);
* ``osm_import_s``: the same network written as an .osm.pbf (pyosmium writer) and read back by
  ``circle.osm.read_walking_network`` plus ``Graph.from_edges`` — the import path of a city's extract.

The answers of the two paths are compared (``max_diff_vs_bare_m`` must be 0).
No database is needed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

NEEDS_DEMO = False
N_CATEGORIES = 15
N_FACILITIES = 2000
LIMIT_M = 1200.0
N_COMPOUNDS = 3000
K_SITES = 10
SITE_LIMIT_M = 1000.0
SPACING_M = 80.0


def synthetic_city(scale: float, seed: int):
    """Lattice nodes (lat, lon) and undirected edges (u, v, metres): about 200,000 × scale nodes, 3 arcs a node."""
    from circle.engine import haversine_m

    rng = np.random.default_rng(seed)
    side = int(round((200_704 * scale) ** 0.5))
    n = side * side
    ii, jj = np.divmod(np.arange(n), side)
    m_lat = 1 / 111_195.0
    m_lon = 1 / (111_195.0 * np.cos(np.radians(31.3)))
    lat = 31.2 + (ii * SPACING_M + rng.normal(0, 8, n)) * m_lat
    lon = 121.3 + (jj * SPACING_M + rng.normal(0, 8, n)) * m_lon
    idx = np.arange(n).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) < (1.5 * n) / len(u)  # 1.5 edges a node → 3 arcs a node
    u, v = u[keep], v[keep]
    w = haversine_m(lat[u], lon[u], lat[v], lon[v])
    return lat, lon, u, v, w


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def write_pbf(path: Path, lat, lon, u, v) -> None:
    """The network as OSM data: one two-node footway per edge (a worst case for way count)."""
    import osmium

    with osmium.SimpleWriter(str(path)) as writer:
        for i in range(len(lat)):
            writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=(float(lon[i]), float(lat[i]))))
        for k in range(len(u)):
            writer.add_way(osmium.osm.mutable.Way(id=k + 1, nodes=[int(u[k]) + 1, int(v[k]) + 1],
                                                  tags={"highway": "footway"}))


def run(ctx) -> dict:
    from scipy.sparse.csgraph import dijkstra

    from circle.engine import Graph, coverage_matrix, greedy_max_coverage, nearest_facilities
    from circle.osm import read_walking_network

    lat, lon, u, v, w = synthetic_city(ctx.scale, ctx.seed)
    with ctx.timer() as t_build:
        graph = Graph.from_edges(lat, lon, u, v, w)
    graph.snap(lat[:1], lon[:1])  # build the snapping tree once, as a loaded network keeps it
    ctx.log(f"circle: {graph.n_nodes} nodes, {graph.n_arcs} arcs, built in {t_build.seconds:.2f} s")

    rng = np.random.default_rng(ctx.seed + 1)
    at = rng.choice(graph.snap_nodes, N_FACILITIES, replace=False)
    f_lat = lat[at] + rng.normal(0, 15, N_FACILITIES) / 111_195.0
    f_lon = lon[at] + rng.normal(0, 15, N_FACILITIES) / 111_195.0
    f_cat = rng.integers(0, N_CATEGORIES, N_FACILITIES)

    def product():
        return nearest_facilities(graph, f_lat, f_lon, f_cat, N_CATEGORIES, LIMIT_M)

    nodes, _ = graph.snap(f_lat, f_lon)
    sources = [nodes[f_cat == c] for c in range(N_CATEGORIES)]

    def bare():
        return [dijkstra(graph.csr, directed=True, indices=s, min_only=True, limit=LIMIT_M) for s in sources]

    # Interleaved, best of 5 each: the machine is shared, so both paths see the same background load.
    # CPU time (process_time) is reported too: it is less disturbed by other processes than the wall clock.
    bare_s = product_s = bare_cpu = product_cpu = float("inf")
    for _ in range(5):
        c0 = time.process_time()
        s, bare_out = best_of(bare, repeat=1)
        bare_cpu = min(bare_cpu, time.process_time() - c0)
        bare_s = min(bare_s, s)
        c0 = time.process_time()
        s, (dist, which, _) = best_of(product, repeat=1)
        product_cpu = min(product_cpu, time.process_time() - c0)
        product_s = min(product_s, s)
    # Same graph, same sources: the product's distances must equal the bare call's exactly.
    dist, which = np.vstack(dist), np.vstack(which)
    reached = np.isfinite(dist)
    bare_dist = np.vstack(bare_out)
    agree = float(np.max(np.abs(dist[reached] - bare_dist[reached]))) if reached.any() else 0.0
    assert (np.isfinite(bare_dist) == reached).all() and (which[reached] >= 0).all()
    coverage_share = float(reached.mean())

    comp = rng.choice(graph.snap_nodes, N_COMPOUNDS, replace=False)
    c_lat, c_lon = lat[comp], lon[comp]
    weights = rng.integers(50, 3000, N_COMPOUNDS)
    covered = rng.random(N_COMPOUNDS) < 0.5

    def select():
        cover = coverage_matrix(graph, c_lat, c_lon, c_lat, c_lon, SITE_LIMIT_M)
        return greedy_max_coverage(cover, weights, K_SITES, covered=covered)

    site_s, steps = best_of(select, repeat=1)

    with tempfile.TemporaryDirectory() as tmp:
        pbf = Path(tmp) / "city.osm.pbf"
        write_pbf(pbf, lat, lon, u, v)
        with ctx.timer() as t_import:
            net = read_walking_network(str(pbf))
            Graph.from_edges(net.lat, net.lon, net.u, net.v, net.w)
        pbf_mb = pbf.stat().st_size / 1e6

    return {
        "nodes": graph.n_nodes, "arcs": graph.n_arcs, "categories": N_CATEGORIES, "facilities": N_FACILITIES,
        "limit_m": LIMIT_M,
        "product_s": round(product_s, 4), "bare_scipy_s": round(bare_s, 4), "ratio": round(product_s / bare_s, 3),
        "product_cpu_s": round(product_cpu, 4), "bare_scipy_cpu_s": round(bare_cpu, 4),
        "ratio_cpu": round(product_cpu / bare_cpu, 3), "max_diff_vs_bare_m": round(agree, 6),
        "node_category_pairs_reached": round(coverage_share, 4),
        "graph_build_s": round(t_build.seconds, 3),
        "site_selection_s": round(site_s, 3), "site_candidates": N_COMPOUNDS, "sites_chosen": len(steps),
        "site_gain_first": int(steps[0].gain) if steps else 0,
        "osm_import_s": round(t_import.seconds, 2), "osm_pbf_mb": round(pbf_mb, 1), "osm_ways": int(net.ways),
    }
