"""A record of the demo sub-district generated in this database (so that ``manage.py demo`` is idempotent)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["DemoDataset"]


class DemoDataset(models.Model):
    """One generated demo street: its scale and seed, whether loading finished, and what it holds."""

    street_name = models.CharField(_("街道名称"), max_length=64, unique=True)
    street_id = models.BigIntegerField(_("街道ID"), null=True, blank=True)
    scale = models.FloatField(_("规模"))
    seed = models.IntegerField(_("随机种子"))
    complete = models.BooleanField(_("已完成"), default=False)
    counts = models.JSONField(_("数量"), default=dict, blank=True)
    seconds = models.FloatField(_("用时(秒)"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("演示数据集")
        verbose_name_plural = _("演示数据集")

    def __str__(self) -> str:
        return f"{self.street_name} ×{self.scale:g} (seed {self.seed})"
