"""Freshness policy, verification stamps, data-quality rules and scores (issue 4)."""
from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

VIEW = ["quality.view_housestatus", "quality.view_qualityissue", "quality.view_freshnesspolicy",
        "quality.view_gridsnapshot"]


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("数据质量与新鲜度")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.roles import register_role_permissions
        from core.schedule import register_periodic
        from quality import signals  # noqa: F401  (stamps and per-house refresh when the registry changes)

        # A grid worker sees their grid's freshness and issues; a community officer also resolves or dismisses
        # issues and assigns homes to workers; the command centre sees the figures; the system admin edits policy.
        register_role_permissions("grid_worker", VIEW)
        register_role_permissions("community_officer", VIEW + ["quality.resolve_qualityissue",
                                                               "quality.assign_housestatus"])
        register_role_permissions("command_centre", VIEW)
        register_role_permissions("system_admin", ["quality.view_freshnesspolicy", "quality.add_freshnesspolicy",
                                                   "quality.change_freshnesspolicy"])

        register_periodic("quality.refresh_dirty", "quality.tasks.refresh_dirty", every=timedelta(minutes=1))
        register_periodic("quality.recompute", "quality.tasks.recompute_all", every=timedelta(minutes=10))
        register_periodic("quality.snapshot", "quality.tasks.weekly_snapshot", daily_at="01:30")
        register_periodic("quality.overdue_reminders", "quality.tasks.overdue_reminders", daily_at="07:30")

