from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def resources_nav(context) -> bool:
    """Whether the menu shows the shared resources' staff pages (the resources permission held in scope)."""
    from core.scope import scope_for

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and scope_for(user).has("resources.view_resource"))
