"""Background jobs (django-tasks): recompute the stored figures after a facility, a category or the network
changed."""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def recompute_access(requested_at: str | None = None) -> dict:
    """Recompute, unless a recompute has already run since this job was queued (``requested_at``, ISO time)."""
    from django.db.models import Max

    from circle.models import Access
    from circle.services import recompute

    if requested_at:
        last = Access._base_manager.aggregate(m=Max("computed_at"))["m"]
        if last is not None and last >= dt.datetime.fromisoformat(requested_at):
            return {"skipped": True}
    return recompute()
