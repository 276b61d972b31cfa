"""Fieldwork's figures on the boards: visits this week against the plan, pending reviews (fieldwork/metrics.py
computes them). The cockpit calls ``register()`` when it starts, as it does every app's ``cockpit.py``."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from cockpit.registry import register_metric, register_panel
    from fieldwork import metrics

    register_metric("fieldwork.visits", label=_("本周走访与计划"), compute=metrics.visits_by_place,
                    subkey_labels={"visits": _("本周走访"), "plan": _("应访户数")})
    register_metric("fieldwork.reviews", label=_("待审核变更"), compute=metrics.reviews_by_place,
                    subkey_labels={"pending": _("待审核"), "overdue": _("超过3天")})
    register_panel("fieldwork.visits", title=_("本周走访"), metrics=["fieldwork.visits"], chart="bar", order=45)
    register_panel("fieldwork.reviews", title=_("待审核变更"), metrics=["fieldwork.reviews"], chart="figures",
                   order=46)
