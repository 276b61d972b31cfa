"""Background jobs of shared resources (registered in apps.py): no-shows released after their grace, expired
waiting-list holds passed on, reminders before a booking starts."""

from __future__ import annotations

from django_tasks import task

__all__ = ["expire_holds", "release_no_shows", "send_reminders"]


@task()
def release_no_shows() -> int:
    from resources import services

    return services.release_no_shows()


@task()
def expire_holds() -> int:
    from resources import services

    return services.expire_holds()


@task()
def send_reminders() -> int:
    from resources import services

    return services.send_reminders()
