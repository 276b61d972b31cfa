from django.core.management.base import BaseCommand

from circle.basemap import write_basemap
from circle.services import import_network


class Command(BaseCommand):
    help = "导入 OpenStreetMap 数据（.osm.pbf / .osm）中的步行路网，并重新计算生活圈 / import an OSM walking network"

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--name", default="")

    def handle(self, *args, path, name, **options):
        nw = import_network(path, name=name)
        self.stdout.write(f"network {nw.pk}: {nw.node_count} nodes, {nw.edge_count} edges, "
                          f"{nw.clipped_ways} clipped ways")
        _path, streets = write_basemap()  # the offline base map follows the imported streets
        self.stdout.write(f"base map: {streets} streets")
