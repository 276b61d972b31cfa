"""``{% reveal_text obj "field" %}``: beside a text holding sealed numbers, its clear text once revealed, else the
"查看完整号码" control asking for a reason (core.sealed_views)."""

from __future__ import annotations

from django import template

from core.sealed_views import target_key

register = template.Library()


@register.inclusion_tag("core/_reveal_text.html", takes_context=True)
def reveal_text(context, obj, field: str) -> dict:
    spec = context.get("sealed_reveal")
    if not spec or obj is None or not obj.has_sealed(field):
        return {"show": False}
    key = target_key(obj, field)
    form = spec.get("form")
    mine = form is not None and form.data.get("target") == key
    return {"show": True, "key": key, "url": spec["url"], "can": spec["can"],
            "clear": spec["revealed"].get(key), "errors": form.errors if mine and form.errors else None,
            "csrf_token": context.get("csrf_token")}
