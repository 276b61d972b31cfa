"""Records of imports and exports: an uploaded sheet's job (preview, progress, result) and an export request.

Neither holds personal values: an ImportJob keeps the file outside the web root (MEDIA_ROOT/imports, read
only through its owner's views), its SHA-256, counts and the list of bad rows (row, column, reason); an
ExportRequest keeps the filter of the list, the row count and who approved it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ExportRequest", "ImportJob"]


class ImportJob(models.Model):
    class State(models.TextChoices):
        UPLOADED = "uploaded", _("已上传")
        PREVIEWED = "previewed", _("已预览")
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    token = models.UUIDField(_("编号"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("导入人"))
    file_name = models.CharField(_("文件名"), max_length=200)
    file_path = models.CharField(_("存放路径"), max_length=300)
    file_sha256 = models.CharField(_("文件SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("大小(字节)"), default=0)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.UPLOADED)
    skip_errors = models.BooleanField(_("跳过有错误的行"), default=False)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    stage = models.CharField(_("阶段"), max_length=16, blank=True)
    preview = models.JSONField(_("预览结果"), default=dict, blank=True)
    result = models.JSONField(_("导入结果"), default=dict, blank=True)
    errors = models.JSONField(_("错误清单"), default=list, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0


class ExportRequest(models.Model):
    """An export above ``RENFANG_EXPORT_APPROVAL_ROWS`` rows: requested → approved (by another user holding
    ``people.export_person`` on the same places) → downloaded once."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")
        DOWNLOADED = "downloaded", _("已下载")

    KINDS = [("person", _("人员")), ("house", _("房屋")), ("community", _("社区")), ("grid", _("网格")),
             ("compound", _("小区")), ("building", _("楼栋")), ("enterprise", _("企业"))]

    kind = models.CharField(_("类型"), max_length=16, choices=KINDS, default="person")
    query = models.TextField(_("筛选条件"), blank=True, help_text=_("列表页的查询参数"))
    row_count = models.PositiveIntegerField(_("行数"))
    reason = models.CharField(_("用途"), max_length=300)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("申请人"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("下载时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("导出申请")
        verbose_name_plural = _("导出申请")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} × {self.row_count} ({self.get_state_display()})"
