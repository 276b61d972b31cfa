from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "open311"
    verbose_name = _("Open311")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.roles import register_role_permissions

        register_role_permissions("system_admin", ["open311.view_apikey", "open311.add_apikey",
                                                   "open311.change_apikey"])
