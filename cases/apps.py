from datetime import timedelta

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _

VIEW = ["cases.view_case", "cases.add_case", "cases.view_casecategory", "cases.view_unit"]
WORKER = VIEW + ["cases.start_case", "cases.pause_case", "cases.handle_case", "cases.verify_case",
                 "cases.survey_case"]
OFFICER = WORKER + ["cases.accept_case", "cases.reject_case", "cases.dispatch_case", "cases.close_case",
                    "cases.escalate_case", "cases.contact_case"]
COMMAND = VIEW + ["cases.accept_case", "cases.reject_case", "cases.dispatch_case", "cases.verify_case",
                  "cases.close_case", "cases.survey_case", "cases.escalate_case", "cases.contact_case"]
CONFIG = ["cases.view_casecategory", "cases.add_casecategory", "cases.change_casecategory", "cases.view_unit",
          "cases.add_unit", "cases.change_unit", "cases.view_holiday", "cases.add_holiday", "cases.change_holiday",
          "cases.delete_holiday"]


def _ensure_unit_role(sender, **kwargs) -> None:
    if getattr(sender, "name", "") != "cases":
        return
    from cases.services import ensure_unit_role

    ensure_unit_role()


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("案件")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cases import (
            checks,  # noqa: F401  (registers the holiday-table check)
            deadlines,
        )
        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        register_role_permissions("grid_worker", WORKER)
        register_role_permissions("community_officer", OFFICER)
        register_role_permissions("command_centre", COMMAND)
        register_role_permissions("system_admin", CONFIG)
        register_periodic("cases.escalate", "cases.tasks.escalate_overdue", every=timedelta(minutes=15))
        post_migrate.connect(_ensure_unit_role, dispatch_uid="cases.unit_role")
        post_save.connect(deadlines.invalidate, sender="cases.Holiday", dispatch_uid="cases.holiday_saved")
        post_delete.connect(deadlines.invalidate, sender="cases.Holiday", dispatch_uid="cases.holiday_deleted")
        if _serving():
            from cases.dedup import warm_up

            warm_up()  # jieba's dictionary, in the background: the first case submitted does not wait for it


def _serving() -> bool:
    """This process serves pages (runserver, gunicorn), as opposed to a management command or the tests."""
    import os
    import sys

    return (len(sys.argv) > 1 and sys.argv[1] == "runserver") or "gunicorn" in os.path.basename(sys.argv[0])
