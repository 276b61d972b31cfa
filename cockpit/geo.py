"""GeoJSON of a board's map, from what places stores, in WGS-84 (shifted to GCJ-02 when the base map needs it).

places keeps a ``boundary`` (a GeoJSON Polygon) for streets, communities, grids and compounds, and a point
(``lat``/``lng``) for communities, compounds and buildings. The demo fills both. Where a boundary is missing
the map makes a simple one, said here once:

* a compound with only a point → a square of ``COMPOUND_HALF_M`` metres each side of it;
* a grid or a community without a boundary → the bounding box of its compounds' points (or boundaries),
  padded by ``PAD_M`` metres;
* a building → its point (a circle marker), or, without one, nothing.

The features of the board's child level carry the board URL of the child and the figures the map can be
coloured by (read from Rollup), so the colouring and the drill-down need no further request.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.urls import reverse

from cockpit import board
from cockpit.coords import transform_geometry
from places.models import Building, Compound

__all__ = ["COMPOUND_HALF_M", "PAD_M", "map_data", "square"]

COMPOUND_HALF_M = 60.0
PAD_M = 40.0
M_PER_DEG_LAT = 111_320.0


def _dlng(metres: float, lat: float) -> float:
    return metres / (M_PER_DEG_LAT * max(math.cos(math.radians(lat)), 0.01))


def square(lat: float, lng: float, half_m: float) -> dict:
    dlat, dlng = half_m / M_PER_DEG_LAT, _dlng(half_m, lat)
    ring = [[lng - dlng, lat - dlat], [lng + dlng, lat - dlat], [lng + dlng, lat + dlat], [lng - dlng, lat + dlat],
            [lng - dlng, lat - dlat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _geometry(boundary) -> dict | None:
    if isinstance(boundary, dict):
        if boundary.get("type") == "Feature":
            boundary = boundary.get("geometry")
        if isinstance(boundary, dict) and boundary.get("type") in {"Polygon", "MultiPolygon"}:
            return boundary
    return None


def _positions(geometry: dict):
    def walk(c):
        if c and isinstance(c[0], (int, float)):
            yield c[0], c[1]
        else:
            for x in c:
                yield from walk(x)

    yield from walk(geometry.get("coordinates", []))


def _bbox(geometries: list[dict], pad_m: float) -> dict | None:
    pts = [p for g in geometries if g for p in _positions(g)]
    if not pts:
        return None
    lngs, lats = [p[0] for p in pts], [p[1] for p in pts]
    lat0 = sum(lats) / len(lats)
    dlat, dlng = pad_m / M_PER_DEG_LAT, _dlng(pad_m, lat0)
    w, e, s, n = min(lngs) - dlng, max(lngs) + dlng, min(lats) - dlat, max(lats) + dlat
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _compound_geometry(c) -> dict | None:
    geom = _geometry(c.boundary)
    if geom is None and c.lat is not None and c.lng is not None:
        geom = square(c.lat, c.lng, COMPOUND_HALF_M)
    return geom


def _area_geometries(level: str, objs) -> dict[int, dict | None]:
    """Boundaries of communities or grids, made from their compounds where missing (one query for those)."""
    out = {o.pk: _geometry(getattr(o, "boundary", None)) for o in objs}
    missing = [pk for pk, g in out.items() if g is None]
    if missing:
        by_parent: dict[int, list[dict]] = {}
        for c in Compound.objects.filter(**{f"{level}_id__in": missing}).only(
                "id", "lat", "lng", "boundary", f"{level}_id"):
            by_parent.setdefault(getattr(c, f"{level}_id"), []).append(_compound_geometry(c))
        for pk in missing:
            out[pk] = _bbox(by_parent.get(pk, []), PAD_M)
    return out


def _geometries(level: str, objs) -> dict[int, dict | None]:
    if level in ("street", "community", "grid"):
        return _area_geometries(level, objs)
    if level == "compound":
        return {o.pk: _compound_geometry(o) for o in objs}
    out = {}
    for b in objs:
        lat, lng = b.lat, b.lng
        if lat is None and b.compound_id and b.compound.lat is not None:
            lat, lng = b.compound.lat, b.compound.lng
        out[b.pk] = {"type": "Point", "coordinates": [lng, lat]} if lat is not None and lng is not None else None
    return out


def tile_crs() -> str:
    crs = (getattr(settings, "RENFANG_TILE_CRS", "") or "wgs84").lower()
    return "gcj02" if crs == "gcj02" else "wgs84"


def map_data(place: board.Place) -> dict:
    """{outline, features, figures}: the board's place outlined, its children filled and coloured."""
    shift = tile_crs() == "gcj02" and bool(getattr(settings, "RENFANG_TILE_URL", ""))
    child, objs = board.children_of(place)
    if child is None:  # a building: the building itself
        child, objs = "building", list(Building.objects.filter(pk=place.pk).select_related("compound"))
    figures = board.map_figures()
    values = board.rollup_values(child, [o.pk for o in objs], [f["key"] for f in figures])
    geoms = _geometries(child, objs)
    features = []
    for o in objs:
        geom = geoms.get(o.pk)
        if geom is None:
            continue
        v = values.get(o.pk, {})
        props = {"id": o.pk, "level": child, "name": str(o), "url": reverse("cockpit:board", args=[child, o.pk])}
        props["values"] = {f["key"]: _round(board.figure_value(f["key"], v.get(f["key"], {}))) for f in figures}
        features.append({"type": "Feature", "geometry": transform_geometry(geom) if shift else geom,
                         "properties": props})
    outline = _geometries(place.level, [place.obj]).get(place.pk) \
        if place.level not in ("building", board.DISTRICT) else None
    return {"type": "FeatureCollection", "features": features, "level": child,
            "outline": transform_geometry(outline) if (shift and outline) else outline,
            "figures": figures, "crs": "gcj02" if shift else "wgs84"}


def _round(value):
    return None if value is None else round(float(value), 4)
