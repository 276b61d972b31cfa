from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "notify"
    verbose_name = _("通知与短信")
    default_auto_field = "django.db.models.BigAutoField"
