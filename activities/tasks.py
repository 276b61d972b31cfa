"""Background jobs of the activities (registered in apps.py): waiting-list offers whose hold passed are handed
on; reminders the day before a session; the cockpit figures (they move with the clock)."""

from __future__ import annotations

from django_tasks import task

__all__ = ["expire_offers", "refresh_cockpit", "send_reminders"]


@task()
def expire_offers() -> int:
    from activities import services

    return services.expire_offers()


@task()
def send_reminders() -> int:
    from activities import services

    return services.send_reminders()


@task()
def refresh_cockpit() -> dict:
    from cockpit import registry
    from cockpit.rollup import full_rebuild

    metrics = [m for m in registry.metrics() if m.key.startswith("activities.")]
    return full_rebuild(metrics).as_dict()
