"""Boundaries and coordinates of the demo street: a jittered lattice that tiles the street without gaps.

The street (around 31.40N 120.60E, Xiangcheng, Suzhou) is a lattice of ``NX`` × ``NY`` cells whose
vertices and edge midpoints are moved a little, so that shapes look surveyed rather than drawn with a ruler.
A community is a rectangular block of cells and a grid is one cell (or two side by side); both walk the same
shared vertices, so neighbours share their borders exactly. Points inside a cell come from the bilinear map
of the unit square onto the cell's four corners, kept away from the edges.
"""

from __future__ import annotations

import math
import random

__all__ = ["Lattice", "point_in_polygon"]

LAT0, LAT1 = 31.372, 31.428
LNG0, LNG1 = 120.565, 120.645


class Lattice:
    def __init__(self, nx: int, ny: int, seed: int, offset: tuple[float, float] = (0.0, 0.0)) -> None:
        """``offset`` (degrees of longitude, latitude) moves the whole street: a second demo street lies beside
        the first instead of on it."""
        rng = random.Random(f"lattice:{seed}")
        lng0, lat0 = LNG0 + offset[0], LAT0 + offset[1]
        self.nx, self.ny = nx, ny
        self.dx, self.dy = (LNG1 - LNG0) / nx, (LAT1 - LAT0) / ny
        self.v: dict[tuple[int, int], tuple[float, float]] = {}
        for j in range(ny + 1):
            for i in range(nx + 1):
                jx = rng.uniform(-0.14, 0.14) * self.dx
                jy = rng.uniform(-0.14, 0.14) * self.dy
                self.v[i, j] = (lng0 + i * self.dx + jx, lat0 + j * self.dy + jy)
        self.mid: dict[tuple[tuple[int, int], tuple[int, int]], tuple[float, float]] = {}
        for (i, j) in sorted(self.v):
            for a, b in (((i, j), (i + 1, j)), ((i, j), (i, j + 1))):
                if b not in self.v:
                    continue
                (x0, y0), (x1, y1) = self.v[a], self.v[b]
                t = rng.uniform(-0.04, 0.04)
                # Offset perpendicular to the edge by up to 4% of its length.
                self.mid[a, b] = ((x0 + x1) / 2 - (y1 - y0) * t, (y0 + y1) / 2 + (x1 - x0) * t)

    def _edge_points(self, a: tuple[int, int], b: tuple[int, int]) -> list[tuple[float, float]]:
        """Points from ``a`` to the midpoint of edge ab (``b`` itself comes with the next edge)."""
        key = (a, b) if a <= b else (b, a)
        return [self.v[a], self.mid[key]]

    def block(self, i0: int, j0: int, i1: int, j1: int) -> dict:
        """GeoJSON Polygon of the cells i0 <= i < i1, j0 <= j < j1 (counter-clockwise, closed)."""
        walk = ([(i, j0) for i in range(i0, i1 + 1)] + [(i1, j) for j in range(j0 + 1, j1 + 1)]
                + [(i, j1) for i in range(i1 - 1, i0 - 1, -1)] + [(i0, j) for j in range(j1 - 1, j0 - 1, -1)])
        ring: list[tuple[float, float]] = []
        for a, b in zip(walk, walk[1:], strict=False):
            ring.extend(self._edge_points(a, b))
        ring.append(ring[0])
        return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}

    def point(self, i: int, j: int, u: float, v: float) -> tuple[float, float]:
        """(lat, lng) of (u, v) in [0, 1]² of cell (i, j)."""
        (x00, y00), (x10, y10) = self.v[i, j], self.v[i + 1, j]
        (x01, y01), (x11, y11) = self.v[i, j + 1], self.v[i + 1, j + 1]
        x = (1 - u) * (1 - v) * x00 + u * (1 - v) * x10 + (1 - u) * v * x01 + u * v * x11
        y = (1 - u) * (1 - v) * y00 + u * (1 - v) * y10 + (1 - u) * v * y01 + u * v * y11
        return round(y, 6), round(x, 6)

    def box(self, i: int, j: int, u0: float, v0: float, u1: float, v1: float) -> dict:
        corners = [(u0, v0), (u1, v0), (u1, v1), (u0, v1), (u0, v0)]
        ring = [list(reversed(self.point(i, j, u, v))) for u, v in corners]
        return {"type": "Polygon", "coordinates": [ring]}

    def centre(self, polygon: dict) -> tuple[float, float]:
        ring = polygon["coordinates"][0][:-1]
        return (round(sum(p[1] for p in ring) / len(ring), 6), round(sum(p[0] for p in ring) / len(ring), 6))


def point_in_polygon(lat: float, lng: float, polygon: dict) -> bool:
    """Ray casting over the exterior ring of a GeoJSON Polygon."""
    ring = polygon["coordinates"][0]
    inside = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        if (y0 > lat) != (y1 > lat):
            x = x0 + (lat - y0) * (x1 - x0) / (y1 - y0)
            if lng < x:
                inside = not inside
    return inside


def metres(lat0: float, lng0: float, lat1: float, lng1: float) -> float:
    """Approximate ground distance (equirectangular), good to a few metres inside a street."""
    k = 111_320.0
    return math.hypot((lat1 - lat0) * k, (lng1 - lng0) * k * math.cos(math.radians((lat0 + lat1) / 2)))


__all__ += ["metres"]
