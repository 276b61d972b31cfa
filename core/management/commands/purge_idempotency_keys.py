"""Forget API Idempotency-Keys older than ``--days`` (default 7): a client retries within minutes, not weeks.

``python manage.py purge_idempotency_keys [--days 7]``; run it daily with the other purge jobs.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from core.models import IdempotencyKey


class Command(BaseCommand):
    help = "Delete API Idempotency-Keys older than --days (default 7)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days: int, **options) -> None:
        cutoff = timezone.now() - dt.timedelta(days=max(days, 1))
        deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"{deleted} idempotency keys older than {cutoff:%Y-%m-%d %H:%M} deleted")
