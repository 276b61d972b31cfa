from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

VIEW = ["activities.view_activity", "activities.view_session", "activities.view_signup",
        "activities.view_participant"]
STAFF = VIEW + ["activities.checkin_activity", "activities.add_signup"]
MANAGER = STAFF + ["activities.add_activity", "activities.change_activity", "activities.change_signup",
                   "activities.export_activity", "activities.allocate_activity"]


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("社区活动")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        register_role_permissions("grid_worker", STAFF)
        register_role_permissions("community_officer", MANAGER)
        register_role_permissions("command_centre", ["activities.view_activity", "activities.view_session"])
        register_periodic("activities.offers", "activities.tasks.expire_offers", every=timedelta(minutes=5))
        register_periodic("activities.remind", "activities.tasks.send_reminders", every=timedelta(hours=1))
        register_periodic("activities.cockpit", "activities.tasks.refresh_cockpit", every=timedelta(hours=1))

        from activities.cockpit import register as register_cockpit

        register_cockpit()
