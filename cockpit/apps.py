import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

BOARD = ["cockpit.view_board"]


class CockpitConfig(AppConfig):
    name = "cockpit"
    verbose_name = _("驾驶舱")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cockpit import signals  # noqa: F401  (mark the buildings of changed houses and residents dirty)
        from cockpit.houses import register_default_states
        from cockpit.metrics import register_core
        from core.roles import register_role_permissions
        from core.schedule import register_periodic

        register_core()
        register_default_states()
        discover()
        register_role_permissions("grid_worker", BOARD)
        register_role_permissions("community_officer", BOARD)
        register_role_permissions("command_centre", BOARD)
        register_periodic("cockpit.refresh_rollups", "cockpit.tasks.refresh_rollups", every=dt.timedelta(seconds=30))
        register_periodic("cockpit.rebuild_rollups", "cockpit.tasks.rebuild_rollups", daily_at="03:10")


def discover() -> None:
    """Every installed app's figures, panels and layers: the ``register()`` of its ``<app>/cockpit.py``, called
    once here (the one way an app puts itself on the boards; cockpit imports none of them by name)."""
    import importlib
    import importlib.util

    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name == "cockpit" or importlib.util.find_spec(f"{config.name}.cockpit") is None:
            continue
        module = importlib.import_module(f"{config.name}.cockpit")
        if callable(getattr(module, "register", None)):
            module.register()
