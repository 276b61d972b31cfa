"""Background jobs of the volunteer service (registered in apps.py): reminders the day before a shift, and the
hourly cockpit figures (they move with the clock: this year, the last 30 and 90 days)."""

from __future__ import annotations

from django_tasks import task

__all__ = ["refresh_cockpit", "send_reminders"]


@task()
def send_reminders() -> int:
    from volunteers import services

    return services.send_reminders()


@task()
def refresh_cockpit() -> dict:
    from cockpit import registry
    from cockpit.rollup import full_rebuild

    metrics = [m for m in registry.metrics() if m.key.startswith("volunteers.")]
    return full_rebuild(metrics).as_dict()
