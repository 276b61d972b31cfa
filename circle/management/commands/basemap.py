"""``manage.py basemap``: write the offline base map (the active walking network's streets) into the var directory."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from circle.basemap import write_basemap

__all__ = ["Command"]


class Command(BaseCommand):
    help = "生成离线底图（步行路网的街道）/ build the offline base map (the walking network's streets)"

    def handle(self, *args, **options):
        path, n = write_basemap()
        self.stdout.write(f"底图 / base map: {n} streets → {path.name}")
