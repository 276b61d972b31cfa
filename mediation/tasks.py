"""Background jobs of mediation: the daily reminder of follow-up visits (回访)."""

from __future__ import annotations

from django_tasks import task

__all__ = ["remind_follow_ups"]


@task()
def remind_follow_ups() -> int:
    from mediation import services

    return services.remind_follow_ups()
