"""Template helpers of the base layout: selected filter values, house-use colours, detail links."""

from __future__ import annotations

from django import template

from core.tables import detail_url

__all__ = ["selected", "url_of"]

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
