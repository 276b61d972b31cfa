from django.conf import settings

from core.scope import scope_for


def renfang(request):
    """Settings the templates need, and which menu entries the user's grants open (one scope per request)."""
    user = getattr(request, "user", None)
    nav = {}
    if user is not None and user.is_authenticated:
        scope = scope_for(user)
        nav = {
            "people": scope.has("people.view_person") or scope.has("places.view_house"),
            "circle": scope.has("circle.view_facility"),
            "cockpit": scope.has("cockpit.view_board"),
            "cases": scope.has("cases.view_case"),
            "mediation": scope.has("mediation.view_mediation"),
            "fieldwork": scope.has("fieldwork.submit_visit") or scope.has("fieldwork.review_changerequest"),
            "quality": scope.has("quality.view_housestatus"),
            "feedback": scope.has("feedback.print_sheet"),
            "import": scope.has("people.import_person"),
            "users": scope.has("auth.view_user"),
            "roles": scope.has("core.view_role"),
            "grants": scope.has("core.view_grant"),
            "audit": scope.has("core.view_auditevent"),
        }
        nav["business"] = any(nav[k] for k in ("fieldwork", "cases", "mediation", "quality", "feedback", "circle"))
    return {"RENFANG_TILE_URL": settings.RENFANG_TILE_URL, "RENFANG_DEBUG": settings.DEBUG, "nav": nav}
