"""Background jobs of the cockpit (django-tasks), registered with core.schedule in CockpitConfig.ready():
``refresh_rollups`` every 30 seconds (the dirty places), ``rebuild_rollups`` nightly (everything)."""

from __future__ import annotations

from django_tasks import task


@task()
def refresh_rollups() -> dict:
    """Recompute the places marked dirty since the last run, and their ancestors."""
    from cockpit.rollup import refresh_dirty

    return refresh_dirty().as_dict()


@task()
def rebuild_rollups() -> dict:
    """Recompute every metric for every place (one GROUP BY per metric per level)."""
    from cockpit.rollup import full_rebuild

    return full_rebuild().as_dict()
