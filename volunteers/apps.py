from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

MODELS = ["volunteer", "team", "task", "shift", "signup", "account", "opinion", "reward"]
VIEW = [f"volunteers.view_{m}" for m in MODELS]
# A grid worker organises their grid's shifts: tasks and shifts, the list's check-in and check-out, verification.
STAFF = VIEW + ["volunteers.add_volunteer", "volunteers.change_volunteer", "volunteers.add_task",
                "volunteers.change_task", "volunteers.add_shift", "volunteers.change_shift",
                "volunteers.change_signup", "volunteers.verify_signup", "volunteers.add_opinion"]
# A community officer also keeps the teams and rewards, corrects the ledger and exports.
MANAGER = STAFF + ["volunteers.add_team", "volunteers.change_team", "volunteers.add_reward",
                   "volunteers.change_reward", "volunteers.change_account", "volunteers.export_volunteer"]


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("志愿服务")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        register_role_permissions("grid_worker", STAFF)
        register_role_permissions("community_officer", MANAGER)
        register_role_permissions("command_centre", VIEW)
        register_periodic("volunteers.remind", "volunteers.tasks.send_reminders", every=timedelta(minutes=15))
        register_periodic("volunteers.cockpit", "volunteers.tasks.refresh_cockpit", every=timedelta(hours=1))

        from django.urls import reverse

        from core.exports import register

        # The year's service records (volunteers.views.ExportView: watermarked, audited, names masked).
        register("volunteer", lambda: reverse("volunteers:export"), "volunteers.export_volunteer")
