from django import template
from django.utils.translation import pgettext_lazy

register = template.Library()


@register.simple_tag(takes_context=True)
def meetings_nav(context) -> str:
    """Which link the menu shows: "staff" (the meetings permission held in scope), "member" (an account bound to
    an organisation: its own work), or "" (none)."""
    from core.scope import scope_for
    from meetings.models import member_org_ids

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    if scope_for(user).has("meetings.view_meeting"):
        return "staff"
    return "member" if member_org_ids(user) else ""


# The menu's label in templates/base.html (context "nav"): named here so that this app's catalog carries its English.
NAV_LABEL = pgettext_lazy("nav", "联席会议")
