from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

VIEW = ["meetings.view_organisation", "meetings.view_orggroup", "meetings.view_project",
        "meetings.view_meetingseries", "meetings.view_meeting", "meetings.view_resolution",
        "meetings.view_instructorassignment", "meetings.view_enterprisevisit", "meetings.view_need",
        "meetings.view_govservice"]
WORKER = VIEW + ["meetings.propose_meeting", "meetings.add_enterprisevisit", "meetings.add_need",
                 "meetings.change_need"]
OFFICER = WORKER + ["meetings.add_organisation", "meetings.change_organisation", "meetings.add_orggroup",
                    "meetings.add_project", "meetings.add_meetingseries", "meetings.convene_meetingseries",
                    "meetings.add_meeting", "meetings.change_meeting", "meetings.add_resolution",
                    "meetings.change_resolution", "meetings.confirm_resolution", "meetings.export_resolution",
                    "meetings.add_instructorassignment", "meetings.add_govservice", "meetings.change_govservice"]


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("联席会议与企业服务")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        register_role_permissions("grid_worker", WORKER)
        register_role_permissions("community_officer", OFFICER)
        register_role_permissions("command_centre", VIEW)
        register_periodic("meetings.escalate", "meetings.tasks.escalate", every=timedelta(minutes=15))
        register_periodic("meetings.cockpit", "meetings.tasks.refresh_cockpit", every=timedelta(hours=1))

        from meetings.cockpit import register as register_cockpit

        register_cockpit()
