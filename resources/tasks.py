"""Background jobs of shared resources (registered in apps.py): no-shows released after their grace, expired
waiting-list holds passed on, reminders before a booking starts, the hourly cockpit figures."""

from __future__ import annotations

from django_tasks import task

__all__ = ["expire_holds", "refresh_cockpit", "release_no_shows", "send_reminders"]


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


@task()
def refresh_cockpit() -> dict:
    """The resources' cockpit figures move with the clock (the last 14 and 30 days): recompute those metrics alone
    (one GROUP BY each per level), hourly, instead of marking places dirty at every booking."""
    from cockpit import registry
    from cockpit.rollup import full_rebuild

    metrics = [m for m in registry.metrics() if m.key.startswith("resources.")]
    return full_rebuild(metrics).as_dict()
