from django import template
from django.utils.translation import pgettext_lazy

register = template.Library()

# The menu's label, drawn by templates/base.html ({% translate "志愿服务" context "nav" %}); named here so that this
# app's catalog carries its English.
NAV_LABEL = pgettext_lazy("nav", "志愿服务")


@register.simple_tag(takes_context=True)
def volunteers_nav(context) -> str:
    """Where the menu's 志愿服务 link leads: the staff pages (volunteers.view_volunteer in scope), a volunteer's own
    page (an account linked to a volunteer), or nowhere ("")."""
    from django.urls import reverse

    from core.scope import scope_for

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    if scope_for(user).has("volunteers.view_volunteer"):
        return reverse("volunteers:list")
    from volunteers.models import Volunteer

    return reverse("volunteers:me") if Volunteer.objects.filter(user=user, is_active=True).exists() else ""
