"""A record of each resident report received through a QR page: what the rate limits count.

It holds no personal data in clear: the reporter's phone only as its blind index (``core.crypto``), the client
address, the building, the kind and the number of change requests it produced. The report itself lives in
fieldwork's review queue (``fieldwork.ChangeRequest`` with source ``feedback``).
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    building = models.ForeignKey("places.Building", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("楼栋"))
    kind = models.CharField(_("类型"), max_length=20)
    phone_bidx = models.CharField(_("手机号索引"), max_length=32, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    requests = models.PositiveSmallIntegerField(_("变更申请数"), default=0)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("居民反馈")
        verbose_name_plural = _("居民反馈")
        indexes = [models.Index(fields=["ip", "created_at"], name="feedback_sub_ip")]
        permissions = [("print_sheet", _("打印楼栋二维码"))]

    def __str__(self) -> str:
        return f"{self.building_id} {self.kind} {self.created_at:%Y-%m-%d}"
