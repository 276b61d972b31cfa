"""Demo facilities (and optionally a synthetic walking network) for the demo sub-district.

Facilities are placed near compounds with a fixed seed, more of them for the small circles (5-minute
categories) than for the 15-minute ones, so that the matrix and the gap map show both coverage and gaps.
``--network`` adds a street lattice (100 m blocks, some streets missing) over the compounds' area, stored as
a walking network named as synthetic: the demo has no real OpenStreetMap extract.
"""

from __future__ import annotations

import math
import random

import numpy as np
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from circle import engine, services
from circle.models import Category, Facility, Network
from places.models import Compound

PER_TIER = {15: 0.08, 10: 0.25, 5: 0.45, 0: 0.6}  # facilities per compound, by tier
HOURS = ["8:00-17:30", "7:00-19:00", "9:00-21:00", "周一至周五 8:30-17:00", "全天"]
OPERATORS = ["街道", "社区居委会", "社会组织", "物业公司", "卫生服务中心"]


class Command(BaseCommand):
    help = "为演示街道生成服务设施（可选合成路网）/ demo facilities and an optional synthetic walking network"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--network", action="store_true", help="also build a synthetic street lattice")
        parser.add_argument("--reset", action="store_true", help="delete existing facilities first")

    def handle(self, *args, seed, network, reset, **options):
        rng = random.Random(seed)
        comps = list(Compound._base_manager.filter(lat__isnull=False, lng__isnull=False).order_by("id"))
        if not comps:
            self.stderr.write("no compounds with coordinates: run manage.py demo first")
            return
        if not reset and Facility._base_manager.exists():
            # Run twice (make demo twice), change nothing: the demo's facilities and network are already there.
            self.stdout.write("演示设施已存在 / demo facilities already there (--reset regenerates them)")
            return
        with transaction.atomic():
            if reset:
                Facility._base_manager.all().delete()
            rows = []
            for cat in Category.objects.filter(is_active=True, parent__isnull=False).order_by("order"):
                n = max(1, round(len(comps) * PER_TIER.get(cat.tier, 0.3) * rng.uniform(0.6, 1.2)))
                for k in range(n):
                    c = rng.choice(comps)
                    r, a = rng.uniform(30, 220), rng.uniform(0, 2 * math.pi)
                    lat = c.lat + r * math.sin(a) / 111_195.0
                    lng = c.lng + r * math.cos(a) / (111_195.0 * math.cos(math.radians(c.lat)))
                    f = Facility(name=f"{c.name}{cat.name}" if k == 0 or n < 3 else f"{c.name}{cat.name}{k + 1}",
                                 category=cat, grid_id=c.grid_id, community_id=c.community_id,
                                 street_id=c.street_id, lat=lat, lng=lng, address=c.address,
                                 opening_hours=rng.choice(HOURS), operator=rng.choice(OPERATORS),
                                 capacity=rng.choice([None, 20, 40, 60, 120]))
                    rows.append(f)
            Facility._base_manager.bulk_create(rows)
        self.stdout.write(f"{len(rows)} facilities")
        if network:
            self.stdout.write(self._network(comps, seed))
        self.stdout.write(str(services.recompute()))

    def _network(self, comps, seed: int) -> str:
        rng = np.random.default_rng(seed)
        lat = np.array([c.lat for c in comps])
        lng = np.array([c.lng for c in comps])
        lat0 = float(lat.mean())
        m_lat = 1 / 111_195.0
        m_lng = 1 / (111_195.0 * math.cos(math.radians(lat0)))
        margin = 600.0
        y0, y1 = lat.min() - margin * m_lat, lat.max() + margin * m_lat
        x0, x1 = lng.min() - margin * m_lng, lng.max() + margin * m_lng
        rows = int((y1 - y0) / (100 * m_lat)) + 1
        cols = int((x1 - x0) / (100 * m_lng)) + 1
        ii, jj = np.divmod(np.arange(rows * cols), cols)
        n_lat = y0 + ii * 100 * m_lat + rng.normal(0, 6, rows * cols) * m_lat
        n_lng = x0 + jj * 100 * m_lng + rng.normal(0, 6, rows * cols) * m_lng
        idx = np.arange(rows * cols).reshape(rows, cols)
        u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
        v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
        keep = rng.random(len(u)) < 0.85
        u, v = u[keep], v[keep]
        w = engine.haversine_m(n_lat[u], n_lng[u], n_lat[v], n_lng[v])
        fname = f"network-demo-{timezone.now():%Y%m%d%H%M%S}.npz"
        services.save_graph_arrays(services.network_dir() / fname, n_lat, n_lng, u, v, w)
        Network.objects.filter(is_active=True).update(is_active=False)
        Network.objects.create(name="演示路网（合成，非真实道路）", source_name="synthetic", file=fname,
                               node_count=rows * cols, edge_count=len(u))
        return f"synthetic network: {rows * cols} nodes, {len(u)} edges"
