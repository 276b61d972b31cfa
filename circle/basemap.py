"""The offline base map: the streets of the active walking network (the OpenStreetMap extract the circle
imported, or the demo's synthetic lattice) written once as GeoJSON under the var directory and served by the app,
so that every map has streets under its labels without a tile server or internet access.

Consecutive edges are joined into one line where a street goes on (through a node where only two edges meet, or
straight on through a crossing): a street is one feature, not one per segment. Coordinates keep 5 decimals
(about 1 m). ``manage.py basemap`` builds the file; the view builds it on first use when the command has not run,
and answers an empty collection when there is no network at all.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from circle.models import Network

__all__ = ["basemap_path", "build_streets", "streets_view", "write_basemap"]


def basemap_path() -> Path:
    return Path(settings.VAR_DIR) / "basemap" / "streets.geojson"


def _chains(u: np.ndarray, v: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[list[int]]:
    """The edges (u[i], v[i]) joined into polylines of node indices: a line goes on through a node where it meets
    only one other edge, or where an unused edge continues it almost straight (a street through a crossing)."""
    adj: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
        if a != b:
            adj[a].append((b, i))
            adj[b].append((a, i))
    used = bytearray(len(u))
    lines: list[list[int]] = []

    def heading(a: int, b: int) -> tuple[float, float]:
        dx, dy = float(x[b] - x[a]), float(y[b] - y[a])
        n = (dx * dx + dy * dy) ** 0.5 or 1.0
        return dx / n, dy / n

    def walk(start: int, cur: int, edge: int) -> list[int]:
        line, prev = [start], start
        used[edge] = 1
        while True:
            line.append(cur)
            free = [(n, e) for n, e in adj[cur] if not used[e]]
            if not free:
                return line
            hx, hy = heading(prev, cur)
            best, best_dot = None, 0.9 if len(adj[cur]) != 2 else -2.0  # straight on within ~25°
            for n, e in free:
                ox, oy = heading(cur, n)
                if hx * ox + hy * oy > best_dot:
                    best, best_dot = (n, e), hx * ox + hy * oy
            if best is None:
                return line
            prev, (cur, edge) = cur, best
            used[edge] = 1

    for node, nbrs in adj.items():  # from the dead ends first, then from anywhere
        if len(nbrs) == 1 and not used[nbrs[0][1]]:
            lines.append(walk(node, *nbrs[0]))
    for node, nbrs in adj.items():
        for other, edge in nbrs:
            if not used[edge]:
                lines.append(walk(node, other, edge))
    return lines


def build_streets(network: Network | None) -> dict:
    """A GeoJSON FeatureCollection of the network's streets (empty without a network or its file)."""
    out = {"type": "FeatureCollection", "features": [], "source": ""}
    if network is None:
        return out
    path = Path(settings.VAR_DIR) / "circle" / network.file
    if not path.exists():
        return out
    with np.load(path) as z:
        lat, lon, u, v = z["lat"], z["lon"], z["u"], z["v"]
    x = np.asarray(lon) * np.cos(np.radians(float(np.mean(lat)) if len(lat) else 0.0))  # local metric-ish plane
    lines = _chains(np.asarray(u), np.asarray(v), x, np.asarray(lat))
    out["features"] = [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "LineString",
                      "coordinates": [[round(float(lon[n]), 5), round(float(lat[n]), 5)] for n in line]}}
        for line in lines if len(line) >= 2
    ]
    out["source"] = network.name
    return out


def write_basemap() -> tuple[Path, int]:
    """Build the streets of the active network into the var directory; (path, number of streets)."""
    network = Network.objects.filter(is_active=True).order_by("-created_at").first()
    data = build_streets(network)
    path = basemap_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)  # never half-written: the file is swapped in whole
    return path, len(data["features"])


@require_GET
@cache_control(public=True, max_age=3600)
def streets_view(request: HttpRequest) -> HttpResponse:
    """The base map's streets (public: streets only, nothing about any person or house)."""
    path = basemap_path()
    if not path.exists():
        if not Network.objects.filter(is_active=True).exists():
            return JsonResponse({"type": "FeatureCollection", "features": [], "source": ""})
        path, _n = write_basemap()
    return FileResponse(path.open("rb"), content_type="application/geo+json")
