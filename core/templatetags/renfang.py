"""Template helpers of the base layout: selected filter values, house-use colours, detail links."""

from __future__ import annotations

from django import template

from core.tables import detail_url

__all__ = ["export_url", "selected", "url_of"]

register = template.Library()


@register.filter
def selected(choice_value, field_value) -> bool:
    """Whether ``choice_value`` is among the bound values of a filter field (one value or a list)."""
    if field_value in (None, ""):
        return False
    values = field_value if isinstance(field_value, (list, tuple)) else [field_value]
    return str(choice_value) in {str(v) for v in values}


@register.filter
def url_of(obj) -> str:
    """The detail page of any registry object (``app:model_name`` with its primary key)."""
    return detail_url(obj)


@register.simple_tag(takes_context=True)
def export_url(context, model_name: str) -> str:
    """The export address of this list (core.exports) when the user may export, else ""."""
    from core.exports import export_for
    from core.scope import scope_for

    export = export_for(model_name)
    request = context.get("request")
    if export is None or request is None or not request.user.is_authenticated:
        return ""
    if not scope_for(request.user).has(export.perm):
        return ""
    return export.url()
