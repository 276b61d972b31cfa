"""``manage.py cockpit_demo [--seed N]``: the cockpit on top of ``manage.py demo`` — a full rollup of every
registered metric (idempotent; the cockpit keeps no demo data of its own: its figures are the registry's)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "为演示数据生成驾驶舱汇总 / build the cockpit rollups of the demo street"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="accepted for symmetry with the other *_demo commands")

    def handle(self, *args, **options):
        from cockpit.rollup import full_rebuild
        from core.roles import ensure_default_roles
        from places.models import Street

        if not Street.objects.exists():
            raise CommandError("请先运行 manage.py demo / run manage.py demo first")
        ensure_default_roles()
        result = full_rebuild()
        self.stdout.write(f"驾驶舱汇总 / cockpit rollups: {result.rows} rows, "
                          f"{sum(result.places.values())} places, {result.seconds:.1f} s")
