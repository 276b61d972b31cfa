"""WGS-84 ⇄ GCJ-02 (the "Mars" datum of Chinese map services), with the published formulas.

``wgs84_to_gcj02`` is the forward transformation as published (Krasovsky ellipsoid, a = 6378245,
ee = 0.00669342162296594323), applied inside mainland China only (the usual bounding box 72.004–137.8347 E,
0.8293–55.8271 N); outside it the coordinates are returned unchanged. ``gcj02_to_wgs84`` inverts it by
fixed-point iteration (the forward shift is smooth, so a few steps reach centimetres; the one-step inverse is
only good to a few metres). The map uses them when the base map's tiles are in GCJ-02
(``RENFANG_TILE_CRS = "gcj02"``): Renfang stores WGS-84 and shifts what it draws.
"""

from __future__ import annotations

import math

__all__ = ["gcj02_to_wgs84", "in_china", "transform_geometry", "wgs84_to_gcj02"]

A = 6378245.0
EE = 0.00669342162296594323


def in_china(lng: float, lat: float) -> bool:
    return 72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271


def _dlat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _dlng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _shift(lng: float, lat: float) -> tuple[float, float]:
    dlat = _dlat(lng - 105.0, lat - 35.0)
    dlng = _dlng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = math.sin(radlat)
    magic = 1 - EE * magic * magic
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlng, dlat


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """(lng, lat) in WGS-84 → (lng, lat) in GCJ-02; unchanged outside China."""
    if not in_china(lng, lat):
        return lng, lat
    dlng, dlat = _shift(lng, lat)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float, *, tolerance: float = 1e-9, steps: int = 10) -> tuple[float, float]:
    """(lng, lat) in GCJ-02 → WGS-84 by iterating the forward transformation; unchanged outside China."""
    if not in_china(lng, lat):
        return lng, lat
    wlng, wlat = lng, lat
    for _ in range(steps):
        glng, glat = wgs84_to_gcj02(wlng, wlat)
        dlng, dlat = glng - lng, glat - lat
        wlng, wlat = wlng - dlng, wlat - dlat
        if abs(dlng) < tolerance and abs(dlat) < tolerance:
            break
    return wlng, wlat


def transform_geometry(geometry: dict | None, fn=wgs84_to_gcj02) -> dict | None:
    """A GeoJSON geometry with every position passed through ``fn(lng, lat)``."""
    if not geometry:
        return geometry

    def walk(coords):
        if coords and isinstance(coords[0], (int, float)):
            x, y = fn(coords[0], coords[1])
            return [x, y, *coords[2:]]
        return [walk(c) for c in coords]

    return {**geometry, "coordinates": walk(geometry.get("coordinates", []))}
