"""Pages of the 12345-hotline import: upload → preview (errors by row and column) → import (progress polled by
htmx) → result. A job belongs to its uploader (anyone else gets 404). Needs ``cases.add_case`` and
``cases.accept_case`` (the hotline desk of the command centre or a community office)."""

from __future__ import annotations

import io

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from cases import hotline
from core.scope import scope_for

__all__ = ["HotlineCommitView", "HotlineImportView", "HotlineJobView", "HotlineProgressView",
           "HotlineTemplateView"]

MAX_UPLOAD = 20 * 1024 * 1024


class HotlineView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            scope = scope_for(request.user)
            if not (scope.has("cases.add_case") and scope.has("cases.accept_case")):
                raise PermissionDenied(_("您没有导入12345热线工单的权限"))
        return super().dispatch(request, *args, **kwargs)

    def job(self, request, job_id: str) -> hotline.Job:
        job = hotline.load_job(job_id)
        if job is None or job.user_id != request.user.pk:
            raise Http404
        return job


class HotlineImportView(HotlineView):
    def get(self, request, error: str = "", status: int = 200):
        return render(request, "cases/hotline_import.html", {"title": _("导入12345热线工单"), "error": error,
                                                              "columns": hotline.COLUMNS}, status=status)

    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            return self.get(request, _("文件：请选择要导入的 .xlsx 文件"), 400)
        if upload.size > MAX_UPLOAD:
            return self.get(request, _("文件不能超过20MB，“%(n)s”有%(m).1fMB")
                            % {"n": upload.name, "m": upload.size / 1048576}, 413)
        head = upload.read(4)
        upload.seek(0)
        if head != b"PK\x03\x04":
            return self.get(request, _("文件“%(n)s”不是 .xlsx 工作簿（按文件内容判断）") % {"n": upload.name}, 400)
        job = hotline.new_job(request.user, upload)
        return redirect("cases:hotline_job", job_id=job.id)


class HotlineJobView(HotlineView):
    def get(self, request, job_id: str):
        job = self.job(request, job_id)
        new = [r for r in job.rows if not r["skip"]]
        return render(request, "cases/hotline_job.html", {
            "title": _("热线工单导入预览"), "job": job, "sample": job.rows[:50], "new_count": len(new)})


class HotlineCommitView(HotlineView):
    def post(self, request, job_id: str):
        job = self.job(request, job_id)
        if job.errors or job.state != "previewed":
            return redirect("cases:hotline_job", job_id=job.id)
        job.state = "running"
        hotline._save(job)
        try:
            hotline.run_import.enqueue(job.id, request.user.pk)
        except ValidationError:
            pass
        return redirect("cases:hotline_job", job_id=job.id)


class HotlineProgressView(HotlineView):
    def get(self, request, job_id: str):
        return render(request, "cases/hotline_progress.html", {"job": self.job(request, job_id)})


class HotlineTemplateView(HotlineView):
    def get(self, request):
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "12345工单"
        ws.append([names[0] for names in hotline.COLUMNS.values()])
        ws.append(["GD202611280001", "2026-11-28 09:30", "噪声扰民", "某小区3幢夜间装修噪音", "某小区3幢",
                   "张先生", "13800000000", "2026-12-05"])
        buf = io.BytesIO()
        wb.save(buf)
        resp = HttpResponse(buf.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        resp["Content-Disposition"] = 'attachment; filename="hotline-template.xlsx"'
        return resp
