"""``{% house_summary object as summary %}``: what hangs off a house for its page (core.views.house_summary)."""
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def house_summary(context, house) -> dict:
    from core.views import house_summary as summary

    return summary(context["request"].user, house)
