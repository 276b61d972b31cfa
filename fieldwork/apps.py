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
        try:
            from cockpit.registry import register_metric, register_panel
        except ImportError:
            return
        from fieldwork import metrics

        register_metric("fieldwork.visits", label=_("本周走访与计划"), compute=metrics.visits_by_place,
                        subkey_labels={"visits": _("本周走访"), "plan": _("应访户数")})
        register_metric("fieldwork.reviews", label=_("待审核变更"), compute=metrics.reviews_by_place,
                        subkey_labels={"pending": _("待审核"), "overdue": _("超过3天")})
        register_panel("fieldwork.visits", title=_("本周走访"), metrics=["fieldwork.visits"], chart="bar", order=45)
        register_panel("fieldwork.reviews", title=_("待审核变更"), metrics=["fieldwork.reviews"], chart="figures",
                       order=46)
