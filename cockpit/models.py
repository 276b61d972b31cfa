"""Kept rollups: every registered metric for every place of every level, read by the boards.

``Rollup`` holds one number per (level, place, metric, subkey); ``DirtyPlace`` is the queue of places whose
figures changed since the last refresh (see cockpit/rollup.py). Neither is a scoped model: a board checks the
place against the user's grants (``places.*.objects.restrict``) before it reads the place's rollups, and the
rows hold counts, never a person.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cockpit.registry import LEVELS

__all__ = ["DirtyPlace", "Rollup"]

LEVEL_CHOICES = [(lv, lv) for lv in LEVELS]


class Rollup(models.Model):
    level = models.CharField(_("层级"), max_length=16, choices=LEVEL_CHOICES)
    place_id = models.BigIntegerField(_("地点"))
    metric = models.CharField(_("指标"), max_length=64)
    key = models.CharField(_("分项"), max_length=64)
    value = models.FloatField(_("数值"), default=0)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("汇总数")
        verbose_name_plural = _("汇总数")
        constraints = [models.UniqueConstraint(fields=["level", "place_id", "metric", "key"],
                                               name="cockpit_rollup_unique")]
        indexes = [models.Index(fields=["level", "place_id"], name="cockpit_rollup_place")]
        default_permissions = ("view",)
        permissions = [("view_board", _("查看驾驶舱"))]

    def __str__(self) -> str:
        return f"{self.level}:{self.place_id} {self.metric}[{self.key}]={self.value:g}"


class DirtyPlace(models.Model):
    level = models.CharField(_("层级"), max_length=16, choices=LEVEL_CHOICES)
    place_id = models.BigIntegerField(_("地点"))
    marked_at = models.DateTimeField(_("标记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("待刷新地点")
        verbose_name_plural = _("待刷新地点")

    def __str__(self) -> str:
        return f"{self.level}:{self.place_id}"
