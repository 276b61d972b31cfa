from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "fieldwork"
    verbose_name = _("走访与变更审核")
    default_auto_field = "django.db.models.BigAutoField"
