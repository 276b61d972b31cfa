"""Background jobs (django-tasks): recompute the stored figures after a facility or the network changed."""

from __future__ import annotations

from django_tasks import task


@task()
def recompute_access() -> dict:
    from circle.services import recompute

    return recompute()
