"""Read the pedestrian network out of an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2) with pyosmium.

Kept: ways whose ``highway`` is a walkable kind (footway, path, pedestrian, steps, living_street, residential,
service, track, cycleway, crossing, unclassified, tertiary/secondary/primary and their links, ...), unless
``foot=no``, ``access=private|no`` without ``foot=yes|designated|permissive``, or a primary/secondary road
tagged ``sidewalk=no|none`` without ``foot=yes``. Never: motorway, trunk and their links, construction, proposed.

Ways clipped at the extract's edge reference nodes that are not in the file: the way is cut at every missing
node and the pieces between present nodes are kept (no edge ever jumps over a gap).
Edge lengths are haversine metres between consecutive nodes of a way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circle.engine import haversine_m

__all__ = ["WALKABLE", "OsmNetwork", "is_walkable", "read_walking_network"]

WALKABLE = {
    "footway", "path", "pedestrian", "steps", "living_street", "residential", "service", "track", "cycleway",
    "crossing", "corridor", "bridleway", "unclassified", "road", "tertiary", "tertiary_link", "secondary",
    "secondary_link", "primary", "primary_link", "elevator",
}
NEVER = {"motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed", "abandoned", "raceway",
         "bus_guideway", "platform", "planned", "razed"}
FOOT_OK = {"yes", "designated", "permissive", "official"}


def is_walkable(tags) -> bool:
    hw = tags.get("highway")
    if not hw or hw in NEVER or hw not in WALKABLE:
        return False
    foot = tags.get("foot", "")
    if foot == "no" or tags.get("area") == "yes":
        return False
    if tags.get("access") in {"private", "no"} and foot not in FOOT_OK:
        return False
    if hw in {"primary", "secondary"} and tags.get("sidewalk") in {"no", "none"} and foot not in FOOT_OK:
        return False
    return True


@dataclass
class OsmNetwork:
    osm_id: np.ndarray  # int64, one per node
    lat: np.ndarray
    lon: np.ndarray
    u: np.ndarray  # int64 node indices of each undirected edge
    v: np.ndarray
    w: np.ndarray  # metres
    ways: int
    clipped_ways: int  # ways that referenced at least one node missing from the extract
    missing_refs: int


def read_walking_network(path: str) -> OsmNetwork:
    import osmium

    index: dict[int, int] = {}
    lats: list[float] = []
    lons: list[float] = []
    us: list[int] = []
    vs: list[int] = []
    ways = clipped = missing = 0

    def node_index(ref: int, lat: float, lon: float) -> int:
        i = index.get(ref)
        if i is None:
            i = len(lats)
            index[ref] = i
            lats.append(lat)
            lons.append(lon)
        return i

    fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
          .with_locations()
          .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
          .with_filter(osmium.filter.KeyFilter("highway")))
    for way in fp:
        if not is_walkable(way.tags):
            continue
        ways += 1
        prev = None
        was_clipped = False
        for nr in way.nodes:
            loc = nr.location
            if not loc.valid():
                missing += 1
                was_clipped = True
                prev = None  # cut the way here: no edge across the missing node
                continue
            i = node_index(nr.ref, loc.lat, loc.lon)
            if prev is not None and prev != i:
                us.append(prev)
                vs.append(i)
            prev = i
        clipped += was_clipped
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    w = haversine_m(lat[u], lon[u], lat[v], lon[v]) if len(u) else np.zeros(0)
    osm_id = np.fromiter(index.keys(), dtype=np.int64, count=len(index))
    return OsmNetwork(osm_id=osm_id, lat=lat, lon=lon, u=u, v=v, w=np.asarray(w, dtype=np.float64), ways=ways,
                      clipped_ways=int(clipped), missing_refs=missing)
