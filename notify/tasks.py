"""Background jobs of notify (django-tasks; scheduled in notify/apps.py)."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

__all__ = ["purge_codes"]

KEEP_CODES = timedelta(days=2)  # longer than every rate-limit window (1 hour), short for the sealed phones


@task()
def purge_codes() -> int:
    """Delete phone challenges older than two days: the sealed phone is kept no longer than the limits need it."""
    from notify.models import PhoneChallenge

    deleted, _ = PhoneChallenge.objects.filter(created_at__lt=timezone.now() - KEEP_CODES).delete()
    return deleted
