from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def activities_nav(context) -> bool:
    """Whether the menu shows the activities' organiser pages (the activities permission held in scope)."""
    from core.scope import scope_for

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and scope_for(user).has("activities.view_activity"))
