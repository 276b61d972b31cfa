from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

WORKER = ["fieldwork.view_visit", "fieldwork.add_visit", "fieldwork.submit_visit", "fieldwork.view_changerequest",
          "fieldwork.add_changerequest"]
OFFICER = WORKER + ["fieldwork.review_changerequest", "fieldwork.reassign_visit", "fieldwork.workload_visit"]


class FieldworkConfig(AppConfig):
    name = "fieldwork"
    verbose_name = _("走访与变更审核")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        register_role_permissions("grid_worker", WORKER)
        register_role_permissions("community_officer", OFFICER)
        register_role_permissions("system_admin", ["fieldwork.view_changepolicy", "fieldwork.change_changepolicy"])
        register_periodic("fieldwork.daily_task_lists", "fieldwork.tasks.daily_task_lists", daily_at="07:00")
        register_periodic("fieldwork.overdue_reviews", "fieldwork.tasks.overdue_reviews", daily_at="08:30")
