"""Background jobs of feedback (django-tasks; scheduled in feedback/apps.py)."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

__all__ = ["purge_submissions"]

KEEP = timedelta(days=30)  # the limits look back one day; the report itself lives on in fieldwork's queue


@task()
def purge_submissions() -> int:
    from feedback.models import Submission

    deleted, _ = Submission.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted
