"""``manage.py cockpit_rollup [--full]``: refresh the cockpit's rollups now (the dirty places, or everything)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "刷新驾驶舱汇总（默认只刷新有变动的地点；--full 全部重算）/ refresh the cockpit rollups"

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="recompute every metric for every place")

    def handle(self, *args, full: bool = False, **options):
        from cockpit.rollup import full_rebuild, refresh_dirty

        result = full_rebuild() if full else refresh_dirty()
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
