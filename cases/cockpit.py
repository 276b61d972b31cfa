"""The cases' figures on the cockpit: open, overdue, closed this month, satisfaction; a layer of open cases."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["register"]

LEVEL_FIELDS = {"street": "street_id", "community": "community_id", "grid": "grid_id", "compound": "compound_id",
                "building": "building_id"}


def _grouped(level: str, place_ids, qs, **aggregates) -> dict[int, dict[str, float]]:
    col = LEVEL_FIELDS[level]
    qs = qs.exclude(**{f"{col}__isnull": True})
    if place_ids is not None:
        qs = qs.filter(**{f"{col}__in": list(place_ids)})
    out: dict[int, dict[str, float]] = {}
    for row in qs.values(col).annotate(**aggregates).order_by():
        out[row[col]] = {k: row[k] for k in aggregates}
    return out


def compute_open(level: str, place_ids=None):
    from cases.models import OPEN_STATUSES, Case

    return _grouped(level, place_ids, Case._base_manager.filter(status__in=OPEN_STATUSES), open=Count("id"))


def compute_overdue(level: str, place_ids=None):
    from cases.models import CLOCK_STATUSES, Case

    qs = Case._base_manager.filter(status__in=CLOCK_STATUSES, deadline_at__lt=timezone.now())
    return _grouped(level, place_ids, qs, overdue=Count("id"))


def compute_closed_month(level: str, place_ids=None):
    from cases.models import Case

    start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return _grouped(level, place_ids, Case._base_manager.filter(closed_at__gte=start, status="closed"),
                    closed=Count("id"))


def compute_satisfaction(level: str, place_ids=None):
    from cases.models import Case

    qs = Case._base_manager.exclude(satisfaction="")
    out = _grouped(level, place_ids, qs, den=Count("id"),
                   num=Count("id", filter=Q(satisfaction__in=["satisfied", "basic"])))
    for row in out.values():
        row["rate"] = round(row["num"] / row["den"], 3) if row["den"] else 0
    return out


def register() -> None:
    """Called by the cockpit when it starts (cockpit/apps.py), as every app's ``cockpit.register``."""
    from cockpit.registry import register_layer, register_metric, register_panel

    register_metric("cases.open", label=_("未结案件"), compute=compute_open, subkey_labels={"open": _("未结案件")})
    register_metric("cases.overdue", label=_("超期案件"), compute=compute_overdue,
                    subkey_labels={"overdue": _("超期案件")})
    register_metric("cases.closed_month", label=_("本月结案"), compute=compute_closed_month,
                    subkey_labels={"closed": _("本月结案")})
    register_metric("cases.satisfaction", label=_("满意率"), compute=compute_satisfaction,
                    subkey_labels={"rate": _("满意率"), "num": _("满意"), "den": _("回访")})
    register_panel("cases.figures", title=_("案件"), metrics=["cases.open", "cases.overdue", "cases.closed_month"],
                   chart="figures", order=60, drill=_drill)
    register_panel("cases.satisfaction", title=_("案件满意率"), metrics=["cases.satisfaction"], chart="gauge",
                   order=61)
    register_layer("cases.open", title=_("未结案件"), url_name="cases:geojson")


def _drill(level: str, place_id: int, subkey: str):
    from django.urls import reverse

    query = {"open": "open=1", "overdue": "overdue=1", "closed": "status=closed"}.get(subkey, "")
    col = {"street": "", "community": "community", "grid": "grid"}.get(level)
    if col is None:
        return None
    place = f"&{col}={place_id}" if col else ""
    return f"{reverse('cases:queue')}?{query}{place}"
