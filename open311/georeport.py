"""GeoReport v2 documents: the same list of dicts rendered as the spec's JSON or XML.

Element names and nesting follow the spec (wiki.open311.org/GeoReport_v2): ``<services><service>``,
``<service_definition><attributes><attribute>``, ``<service_requests><request>``, ``<errors><error>``. XML starts
with the declaration and is UTF-8; empty values are empty elements; JSON keeps ``null`` for them.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from django.http import HttpResponse

__all__ = ["error_response", "render", "to_xml"]

XML_ITEM = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
            "values": "value"}


def _xml_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _xml_node(name: str, value) -> str:
    if isinstance(value, list):
        item = XML_ITEM.get(name, "item")
        return f"<{name}>" + "".join(_xml_node(item, v) for v in value) + f"</{name}>"
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_xml_node(k, v) for k, v in value.items()) + f"</{name}>"
    text = _xml_value(value)
    return f"<{name}>{text}</{name}>" if text else f"<{name}/>"


def to_xml(root: str, payload) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n' + _xml_node(root, payload)


def render(fmt: str, root: str, payload, status: int = 200) -> HttpResponse:
    """``payload`` is a list (services, requests, errors) or a dict (a service definition)."""
    if fmt == "xml":
        resp = HttpResponse(to_xml(root, payload), content_type="text/xml; charset=utf-8", status=status)
    else:
        resp = HttpResponse(json.dumps(payload, ensure_ascii=False), content_type="application/json; charset=utf-8",
                            status=status)
    resp["Cache-Control"] = "no-store"
    return resp


def error_response(fmt: str, code: int, description: str) -> HttpResponse:
    return render(fmt, "errors", [{"code": code, "description": description}], status=code)
