"""Residents' feedback by QR code: public pages that feed the review queue (issue 4)."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("居民反馈")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        # The community office prints and posts the QR sheets of its compounds.
        register_role_permissions("community_officer", ["feedback.print_sheet"])
        register_periodic("feedback.purge_submissions", "feedback.tasks.purge_submissions", every=timedelta(days=1))
