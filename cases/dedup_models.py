"""The duplicate finder's index of a case (cases/dedup.py): its words and where it is, one row per case.

Kept beside the case rather than on it so that the finder's indexes (place × time) stay its own. Written on every
save of a case (``post_save``) and, for cases written in bulk, by ``cases.dedup.index_cases``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CaseTokens"]


class CaseTokens(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True,
                                related_name="dedup_tokens", verbose_name=_("案件"))
    category_id = models.IntegerField(_("类别"))
    compound_id = models.IntegerField(_("小区"), null=True, blank=True)
    building_id = models.IntegerField(_("楼栋"), null=True, blank=True)
    cell = models.BigIntegerField(_("位置格"), null=True, blank=True, help_text=_("约300米见方的经纬度格"))
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    created_at = models.DateTimeField(_("上报时间"))
    tokens = models.TextField(_("分词"), blank=True)

    class Meta:
        verbose_name = _("案件查重索引")
        verbose_name_plural = _("案件查重索引")
        indexes = [
            models.Index(fields=["building_id", "created_at"], name="cases_dedup_building"),
            models.Index(fields=["compound_id", "created_at"], name="cases_dedup_compound"),
            models.Index(fields=["cell", "created_at"], name="cases_dedup_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.tokens[:40]}"


def _index_saved_case(sender, instance, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    from cases.dedup import index_case

    index_case(instance)


models.signals.post_save.connect(_index_saved_case, sender="cases.Case", dispatch_uid="cases.dedup.index_case")
