from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

VIEW = ["circle.view_facility", "circle.view_access", "circle.view_category", "circle.view_candidatesite"]
EDIT = ["circle.add_facility", "circle.change_facility", "circle.import_facility", "circle.plan_facility",
        "circle.add_candidatesite", "circle.change_candidatesite"]


class CircleConfig(AppConfig):
    name = "circle"
    verbose_name = _("15分钟生活圈")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from circle import signals  # noqa: F401  (recompute when compounds move or residents change)
        from core.roles import register_role_permissions

        register_role_permissions("grid_worker", VIEW)
        register_role_permissions("community_officer", VIEW + EDIT)
        register_role_permissions("command_centre", VIEW + ["circle.plan_facility"])
        register_role_permissions("system_admin", ["circle.view_category", "circle.add_category",
                                                   "circle.change_category"])
        from places.views import BUILDING_PANELS

        BUILDING_PANELS.append(building_qr_panel)


def building_qr_panel(request, building) -> dict | None:
    """The building page's "services near me" QR code (to print at the entrance), for those who may see it."""
    from core.scope import scope_for

    if not scope_for(request.user).has("circle.view_facility"):
        return None
    from django.urls import reverse

    from circle.services import building_token

    return {"template": "circle/_building_qr_panel.html", "building": building,
            "near_url": request.build_absolute_uri(reverse("circle:near", args=[building_token(building)]))}
