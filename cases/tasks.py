"""Background jobs of cases: the escalation of overdue cases (every 15 minutes, registered in apps.py)."""

from __future__ import annotations

from django_tasks import task

__all__ = ["escalate_overdue"]


@task()
def escalate_overdue() -> int:
    from cases.services import escalate_overdue as run

    return run()
