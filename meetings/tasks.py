"""Background jobs of joint meetings (registered in apps.py): overdue resolutions escalated every 15 minutes, the
cockpit's figures of this module hourly (overdue moves with the clock)."""

from __future__ import annotations

from django_tasks import task

__all__ = ["escalate", "refresh_cockpit"]


@task()
def escalate() -> int:
    from meetings import services

    return services.escalate_overdue() + services.escalate_overdue_needs()


@task()
def refresh_cockpit() -> dict:
    from cockpit import registry
    from cockpit.rollup import full_rebuild

    metrics = [m for m in registry.metrics() if m.key.startswith("meetings.")]
    return full_rebuild(metrics).as_dict()
