from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

VIEW = ["resources.view_resource", "resources.view_booking", "resources.view_vehicle"]
STAFF = VIEW + ["resources.checkin_resource", "resources.add_vehicle", "resources.change_vehicle",
                "resources.change_booking"]
MANAGER = STAFF + ["resources.add_resource", "resources.change_resource", "resources.approve_resource",
                   "resources.export_resource", "resources.draw_resource", "resources.add_booking",
                   "resources.view_approvergroup", "resources.add_approvergroup", "resources.change_approvergroup"]


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = _("共享资源")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        register_role_permissions("grid_worker", STAFF)
        register_role_permissions("community_officer", MANAGER)
        register_role_permissions("command_centre", VIEW)
        register_periodic("resources.release", "resources.tasks.release_no_shows", every=timedelta(minutes=5))
        register_periodic("resources.holds", "resources.tasks.expire_holds", every=timedelta(minutes=5))
        register_periodic("resources.remind", "resources.tasks.send_reminders", every=timedelta(minutes=15))
        register_periodic("resources.cockpit", "resources.tasks.refresh_cockpit", every=timedelta(hours=1))
