from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

VIEW = ["mediation.view_mediation"]
RECORD = VIEW + ["mediation.add_mediation", "mediation.change_mediation"]
LEAD = RECORD + ["mediation.close_mediation", "mediation.agreement_mediation"]


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("矛盾纠纷调解")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        register_role_permissions("grid_worker", RECORD)
        register_role_permissions("community_officer", LEAD)
        register_role_permissions("command_centre", VIEW)
        register_periodic("mediation.follow_ups", "mediation.tasks.remind_follow_ups", daily_at="08:30")
