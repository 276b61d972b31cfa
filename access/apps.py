from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("权限与审计")

    def ready(self) -> None:
        from access import checks  # noqa: F401  (registers the system checks)
