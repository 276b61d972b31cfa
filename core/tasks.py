"""Background jobs of core, run by django-tasks (database backend: ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

__all__ = ["purge_audit"]


@task()
def purge_audit() -> int:
    """Delete audit rows past the retention period (never younger than 180 days); see core.audit.purge."""
    from core.audit import purge

    return purge()
