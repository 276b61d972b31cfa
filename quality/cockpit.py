"""The cockpit's figures of quality: freshness, score and the 12-week trend (cockpit calls ``register()``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

__all__ = ["freshness", "house_state", "register", "score", "trend"]


def freshness(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    from quality.scores import figures

    return {pid: {"rate": f["rate"], "fresh": f["fresh"], "stale": f["stale"]}
            for pid, f in figures(level, place_ids).items()}


def score(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    from quality.scores import figures

    return {pid: {k: f[k] for k in ("score", "area", "house", "household", "person")}
            for pid, f in figures(level, place_ids).items()}


def trend(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    from quality.scores import trend as weekly

    return weekly(level, place_ids)


def house_state(house_ids: list[int]) -> dict[int, str]:
    import datetime as dt

    from django.utils import timezone

    from quality.models import HouseStatus

    soon = timezone.now() + dt.timedelta(days=7)
    out = {}
    for hid, stale, due in HouseStatus.objects.filter(pk__in=house_ids).values_list("house_id", "is_stale", "due_at"):
        out[hid] = "stale" if stale else ("due" if due is not None and due < soon else "fresh")
    return out


def _drill(level: str, place_id: int, subkey: str):
    from django.urls import reverse

    if level not in ("street", "community", "grid"):
        return None
    return f"{reverse('quality:stale')}?{level}={place_id}"


def register() -> None:
    from cockpit.registry import register_house_state, register_metric, register_panel

    register_metric("quality.freshness", label=_("数据新鲜度"), compute=freshness,
                    subkey_labels=lambda: {"rate": _("新鲜度"), "fresh": _("按期核实"), "stale": _("已过期")},
                    map_value=lambda v: v.get("rate", 0.0) if v else None,  # rollups keep no zeros: 0 fresh is 0 %
                    map_label=_("数据新鲜度"), map_percent=True)
    register_metric("quality.score", label=_("数据质量得分"), compute=score,
                    subkey_labels=lambda: {"score": _("总分"), "area": _("区不漏房"), "house": _("房不漏户"),
                                           "household": _("户不漏人"), "person": _("人不漏项")})
    register_metric("quality.trend", label=_("新鲜度周趋势"), compute=trend, levels=("street", "community", "grid"),
                    percent=True)
    register_panel("quality.freshness", title=_("数据新鲜度"), metrics=["quality.freshness"], chart="gauge",
                   order=40, drill=_drill)
    register_panel("quality.score", title=_("数据质量（区不漏房、房不漏户、户不漏人、人不漏项）"),
                   metrics=["quality.score"], chart="bar", order=41)
    register_panel("quality.trend", title=_("新鲜度12周趋势"), metrics=["quality.trend"], chart="line", order=42,
                   levels=("street", "community", "grid"))
    register_house_state("quality.freshness", title=_("核实状态"), compute=house_state, order=50,
                         states={"fresh": (_("按期核实"), "#2e7d32"), "due": (_("7天内到期"), "#f9a825"),
                                 "stale": (_("已过期"), "#c62828")})
