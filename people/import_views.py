"""Pages of import and export: upload a sheet, preview it, import it (with a progress bar for big files),
download its error list; export a filtered list, request and approve a large export.

Permissions are the services' business (people.importer, people.exporter): a PermissionDenied there is a 403
here. An import job is visible to the user who uploaded it only (anyone else: 404).
"""

from __future__ import annotations

import hashlib
import io
import uuid

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from core.importexport import SheetError, XlsxWriter, detect_format
from core.querysets import scope_q
from core.scope import scope_for
from people import exporter
from people.importer import COLUMNS, RowError, import_places, write_error_sheet
from people.iomodels import ExportRequest, ImportJob
from people.tasks import INLINE_BYTES, execute, read_progress, run_import_job, upload_dir
from places.models import Grid
from places.services import save_compound

__all__ = ["ExportRequestsView", "ExportView", "ImportCommitView", "ImportCreatePlacesView", "ImportErrorsView",
           "ImportJobView", "ImportProgressView", "ImportTemplateView", "ImportUploadView", "creation_grids"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _job(request: HttpRequest, token) -> ImportJob:
    return get_object_or_404(ImportJob, token=token, user=request.user)


def _xlsx_response(buf: io.BytesIO, name: str) -> FileResponse:
    buf.seek(0)
    return FileResponse(buf, as_attachment=True, filename=name, content_type=XLSX)


class ImportUploadView(LoginRequiredMixin, View):
    template_name = "people/import_upload.html"

    def context(self, request, **extra) -> dict:
        return {"title": _("导入人房表"), "columns": COLUMNS,
                "jobs": ImportJob.objects.filter(user=request.user)[:10],
                "max_mb": settings.RENFANG_MAX_UPLOAD_BYTES // (1024 * 1024), **extra}

    def get(self, request: HttpRequest) -> HttpResponse:
        import_places(request.user)
        return render(request, self.template_name, self.context(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        import_places(request.user)
        upload = request.FILES.get("file")
        if upload is None:
            return render(request, self.template_name, self.context(request, error=_("请选择要导入的文件")),
                          status=400)
        if upload.size > settings.RENFANG_MAX_UPLOAD_BYTES:
            return render(request, self.template_name, self.context(
                request, error=_("文件太大：最大 %(n)d MB") % {"n": settings.RENFANG_MAX_UPLOAD_BYTES // 2 ** 20}),
                status=413)
        head = upload.read(8)
        try:
            fmt = detect_format(head)
        except SheetError as exc:
            return render(request, self.template_name, self.context(request, error=str(exc)), status=400)
        token = uuid.uuid4()
        path = upload_dir() / f"{token}.{fmt}"
        upload.seek(0)
        digest = hashlib.sha256()
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                digest.update(chunk)
                fh.write(chunk)
        job = ImportJob.objects.create(token=token, user=request.user, file_name=upload.name[:200],
                                       file_path=str(path), file_sha256=digest.hexdigest(), size=upload.size,
                                       skip_errors=False)
        if upload.size <= INLINE_BYTES:
            execute(job, commit=False)
        else:
            ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED, stage="validate")
            run_import_job.enqueue(job.pk, False)
        return HttpResponseRedirect(reverse("people:import_job", args=[job.token]))


def creation_grids(user):
    """The grids where the user may both create a compound and import people: where a missing compound of a
    sheet can be created from the preview."""
    scope = scope_for(user)
    add, imp = scope.places_for("places.add_compound"), scope.places_for("people.import_person")
    if add is None or imp is None:
        return Grid.objects.none()
    return Grid.objects.filter(scope_q(Grid, add)).filter(scope_q(Grid, imp)).order_by("community_id", "name")


def _job_page(request: HttpRequest, job: ImportJob, *, error: str = "", status: int = 200) -> HttpResponse:
    errors = [e for e in job.errors if e.get("level") == "error"]
    warnings = [e for e in job.errors if e.get("level") != "error"]
    to_create = (job.preview or {}).get("compounds_to_create") or []
    return render(request, "people/import_job.html", {
        "title": _("导入：%(f)s") % {"f": job.file_name}, "job": job, "errors": errors[:500],
        "warnings": warnings[:200], "n_errors": len(errors), "n_warnings": len(warnings),
        "progress": read_progress(job), "running": job.state in {ImportJob.State.QUEUED, ImportJob.State.RUNNING},
        "to_create": to_create, "to_create_rows": sum(c.get("rows", 0) for c in to_create),
        "grids": list(creation_grids(request.user)) if to_create else [], "create_error": error,
    }, status=status)


class ImportJobView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, token) -> HttpResponse:
        return _job_page(request, _job(request, token))


class ImportCreatePlacesView(LoginRequiredMixin, View):
    """From the preview: create the compounds the sheet names that do not exist yet, in a grid the user chooses
    among those of their scope (places.services.save_compound checks the permission and the scope again), all
    or none, then preview the file again. Their buildings and houses are created by the import itself."""

    def post(self, request: HttpRequest, token) -> HttpResponse:
        job = _job(request, token)
        if job.state != ImportJob.State.PREVIEWED:
            return HttpResponseRedirect(reverse("people:import_job", args=[job.token]))
        offered = {c["name"] for c in (job.preview or {}).get("compounds_to_create") or []}
        names = [n for n in dict.fromkeys(request.POST.getlist("compound")) if n in offered]
        grid = creation_grids(request.user).filter(pk=request.POST.get("grid") or 0).first() \
            if (request.POST.get("grid") or "").isdigit() else None
        if grid is None:
            return _job_page(request, job, error=_("请选择您管辖范围内的网格"), status=400)
        if not names:
            return _job_page(request, job, error=_("请勾选要新建的小区"), status=400)
        try:
            with transaction.atomic():
                for name in names:
                    save_compound(request.user, {"name": name[:100], "grid": grid}, source="import")
        except ValidationError as exc:
            return _job_page(request, job, error="；".join(exc.messages), status=400)
        except PermissionDenied as exc:
            return _job_page(request, job, error=str(exc), status=403)
        if job.size <= INLINE_BYTES:
            execute(job, commit=False)
        else:
            ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED, stage="validate")
            run_import_job.enqueue(job.pk, False)
        return HttpResponseRedirect(reverse("people:import_job", args=[job.token]))


class ImportProgressView(LoginRequiredMixin, View):
    """The progress bar, polled by htmx every second while the job runs; when it ends, the page reloads."""

    def get(self, request: HttpRequest, token) -> HttpResponse:
        job = _job(request, token)
        running = job.state in {ImportJob.State.QUEUED, ImportJob.State.RUNNING}
        response = render(request, "people/import_progress.html", {"job": job, "progress": read_progress(job),
                                                                    "running": running})
        if not running:
            response["HX-Refresh"] = "true"
        return response


class ImportCommitView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, token) -> HttpResponse:
        job = _job(request, token)
        if job.state not in {ImportJob.State.PREVIEWED}:
            return HttpResponseRedirect(reverse("people:import_job", args=[job.token]))
        skip = request.POST.get("skip_errors") == "on"
        ImportJob.objects.filter(pk=job.pk).update(skip_errors=skip)
        job.skip_errors = skip
        if job.size <= INLINE_BYTES:
            execute(job, commit=True)
        else:
            ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED, stage="write")
            run_import_job.enqueue(job.pk, True)
        return HttpResponseRedirect(reverse("people:import_job", args=[job.token]))


class ImportErrorsView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, token) -> HttpResponse:
        job = _job(request, token)
        errors = [RowError(e["row"], e["column"], e["reason"], e.get("level", "error")) for e in job.errors]
        buf = io.BytesIO()
        write_error_sheet(job.file_path, errors, buf)
        return _xlsx_response(buf, f"错误清单-{job.file_name.rsplit('.', 1)[0]}.xlsx")


class ImportTemplateView(LoginRequiredMixin, View):
    """An empty sheet with the header row the importer reads (any synonym would do)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        buf = io.BytesIO()
        with XlsxWriter(buf, _("人房表")) as w:
            w.header([c.label for c in COLUMNS])
        return _xlsx_response(buf, "人房表模板.xlsx")


class ExportView(LoginRequiredMixin, View):
    """``GET ?kind=person&<the list's filters>``: the .xlsx, or the approval form above the threshold."""

    def get(self, request: HttpRequest) -> HttpResponse:
        kind = request.GET.get("kind", "person")
        if kind not in exporter.KINDS:
            kind = "person"
        query = request.GET.copy()
        query.pop("kind", None)
        buf = io.BytesIO()
        try:
            exporter.write_export(request.user, kind, query, buf, request=request)
        except exporter.ExportNeedsApproval as exc:
            return render(request, "people/import_export_request.html", {
                "title": _("导出需要审批"), "rows": exc.rows, "kind": kind, "query": query.urlencode(),
                "limit": settings.RENFANG_EXPORT_APPROVAL_ROWS})
        name = dict(ExportRequest.KINDS).get(kind, kind)
        return _xlsx_response(buf, f"{name}-{request.user.get_username()}.xlsx")

    def post(self, request: HttpRequest) -> HttpResponse:
        kind = request.POST.get("kind", "person")
        if kind not in exporter.KINDS:
            kind = "person"
        try:
            exporter.request_export(request.user, kind, request.POST.get("query", ""), request.POST.get("reason", ""),
                                    request=request)
        except ValidationError as exc:
            return render(request, "people/import_export_request.html", {
                "title": _("导出需要审批"), "kind": kind, "query": request.POST.get("query", ""),
                "error": " ".join(exc.messages), "limit": settings.RENFANG_EXPORT_APPROVAL_ROWS}, status=400)
        return HttpResponseRedirect(reverse("people:export_requests"))


class ExportRequestsView(LoginRequiredMixin, View):
    """My export requests, and the ones others asked me to approve; POST approves, rejects or downloads."""

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        if not scope_for(request.user).has("people.export_person"):
            raise PermissionDenied(_("您没有导出人员信息的权限"))
        mine = ExportRequest.objects.filter(requested_by=request.user)[:50]
        pending = (ExportRequest.objects.filter(state=ExportRequest.State.REQUESTED)
                   .exclude(requested_by=request.user).select_related("requested_by")[:50])
        return render(request, "people/import_export_requests.html", {
            "title": _("导出申请"), "mine": mine, "pending": pending})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        req = get_object_or_404(ExportRequest.objects.filter(Q(requested_by=request.user)
                                                             | Q(state=ExportRequest.State.REQUESTED)), pk=pk)
        action = request.POST.get("action")
        if action == "download":
            if req.requested_by_id != request.user.pk:
                raise PermissionDenied(_("只有申请人可以下载"))
            buf = io.BytesIO()
            exporter.write_export(request.user, req.kind, req.query, buf, request=request, export_request=req)
            return _xlsx_response(buf, f"{req.get_kind_display()}-{req.pk}.xlsx")
        if action == "approve":
            exporter.approve(request.user, req, request=request)
        elif action == "reject":
            exporter.reject(request.user, req, request=request)
        return HttpResponseRedirect(reverse("people:export_requests"))
