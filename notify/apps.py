"""Notifications, the pluggable SMS sender and phone verification codes (issues 4 and 6)."""
from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "notify"
    verbose_name = _("通知与短信")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # No role permissions: every logged-in user has an inbox and reads only their own entries.
        from core.schedule import register_periodic

        register_periodic("notify.purge_codes", "notify.tasks.purge_codes", every=timedelta(hours=6))
