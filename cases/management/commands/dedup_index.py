"""``manage.py dedup_index``: index for the duplicate finder every case that has no CaseTokens row yet (cases written
with ``bulk_create``: the demo, imports of old data). Idempotent; prints the count."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases import dedup
from cases.models import Case


class Command(BaseCommand):
    help = "为查重建立案件分词索引（只补缺失的）/ index cases for the duplicate finder (missing rows only)"

    def handle(self, *args, **options):
        missing = Case._base_manager.filter(dedup_tokens__isnull=True).order_by("id")
        n = dedup.index_cases(missing.iterator(chunk_size=2000))
        self.stdout.write(f"indexed {n} cases")
