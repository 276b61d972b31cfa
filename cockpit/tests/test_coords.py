"""WGS-84 ⇄ GCJ-02: the published forward formulas, an inverse that round-trips to well under a metre across
China, and the identity outside China."""

from __future__ import annotations

import math
import random

import pytest

from cockpit.coords import gcj02_to_wgs84, in_china, transform_geometry, wgs84_to_gcj02


def metres(a, b) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * 111_320 * math.cos(lat)
    dy = (a[1] - b[1]) * 110_574
    return math.hypot(dx, dy)


def test_the_forward_shift_matches_a_published_reference_point():
    # Tiananmen: WGS-84 (116.391350, 39.907723) is shown by GCJ-02 maps at about (116.397590, 39.909124)
    lng, lat = wgs84_to_gcj02(116.391350, 39.907723)
    assert metres((lng, lat), (116.397590, 39.909124)) < 15
    # in Suzhou the shift is a few hundred metres, as every Chinese map shows
    assert 300 < metres(wgs84_to_gcj02(120.63, 31.38), (120.63, 31.38)) < 700


@pytest.mark.parametrize("seed", range(3))
def test_the_round_trip_error_is_under_one_metre_all_over_china(seed):
    rng = random.Random(seed)
    worst = 0.0
    for _ in range(2000):
        p = (rng.uniform(75, 134), rng.uniform(18, 53))
        back = gcj02_to_wgs84(*wgs84_to_gcj02(*p))
        worst = max(worst, metres(p, back))
    assert worst < 1.0
    assert worst < 0.01  # in fact centimetres


@pytest.mark.parametrize("point", [(2.35, 48.85), (-74.0, 40.7), (139.7, 35.7), (151.2, -33.9), (70.0, 30.0)])
def test_outside_china_the_coordinates_are_unchanged(point):
    assert not in_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


def test_a_geometry_is_shifted_position_by_position():
    ring = [[120.6, 31.3], [120.7, 31.3], [120.7, 31.4], [120.6, 31.3]]
    poly = transform_geometry({"type": "Polygon", "coordinates": [ring]})
    assert poly["type"] == "Polygon" and len(poly["coordinates"][0]) == 4
    assert poly["coordinates"][0][1] == list(wgs84_to_gcj02(120.7, 31.3))
    assert transform_geometry(None) is None
