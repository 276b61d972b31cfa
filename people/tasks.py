"""Background import jobs (django-tasks; the database backend's worker is ``manage.py db_worker``).

A web upload becomes an ``ImportJob``. Small files are previewed and committed inline, in the request; a file
above ``INLINE_BYTES`` is handed to ``run_import_job`` and the page polls the job's progress (htmx). Progress
is written to a small file next to the upload, not to the database: the import's own transaction holds the
SQLite write lock until it commits, and its rows must stay invisible until then.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from people.importer import ImportError_, commit_import, plan_import
from people.iomodels import ImportJob

__all__ = ["INLINE_BYTES", "MAX_LISTED_ERRORS", "execute", "import_job_lost", "read_progress", "run_import_job",
           "upload_dir"]

INLINE_BYTES = 512 * 1024  # about 5,000 rows of a typical sheet
MAX_LISTED_ERRORS = 5000


def upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _progress_path(job: ImportJob) -> Path:
    return Path(job.file_path).with_suffix(".progress.json")


def read_progress(job: ImportJob) -> dict:
    try:
        return json.loads(_progress_path(job).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _progress_writer(job: ImportJob):
    path = _progress_path(job)
    last = [0.0]

    def progress(done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and done < total:
            return
        last[0] = now
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"done": done, "total": total, "stage": stage}), encoding="utf-8")
        tmp.replace(path)

    return progress


def execute(job: ImportJob, commit: bool) -> ImportJob:
    """Preview (``commit=False``) or import the job's file as its user; the outcome is stored on the job."""
    user = get_user_model().objects.get(pk=job.user_id)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING)
    data = Path(job.file_path).read_bytes()
    progress = _progress_writer(job)
    fields: dict = {"finished_at": timezone.now()}
    try:
        if commit:
            plan = commit_import(data, user, file_name=job.file_name, skip_errors=job.skip_errors, progress=progress)
            fields.update(state=ImportJob.State.DONE, result=plan.summary(), message="")
        else:
            plan = plan_import(data, user, file_name=job.file_name, progress=progress)
            fields.update(state=ImportJob.State.PREVIEWED, preview=plan.preview(), message="")
        fields.update(total_rows=len(plan.rows) + len({e.row for e in plan.errors}), done_rows=len(plan.rows),
                      errors=[e.as_dict() for e in (plan.errors + plan.warnings)[:MAX_LISTED_ERRORS]])
    except ImportError_ as exc:
        # Bad rows found at commit time send the job back to its preview, with the list; anything else fails it.
        fields.update(message=str(exc)[:500], errors=[e.as_dict() for e in exc.errors[:MAX_LISTED_ERRORS]],
                      state=ImportJob.State.PREVIEWED if commit and exc.errors else ImportJob.State.FAILED)
    except PermissionDenied as exc:
        fields.update(state=ImportJob.State.FAILED, message=str(exc)[:500])
    except Exception:
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.FAILED, finished_at=timezone.now(),
                                                   message=_("导入出错，已全部撤销，请联系系统管理员"))
        raise
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


def import_job_lost(sender, task_path: str, args: list, kwargs: dict, **extra) -> None:
    """The worker running an import died (core.workers.recover): the database rolled its transaction back, so
    nothing of the file was written; the job says so, and the user imports again when they choose."""
    if task_path != f"{__name__}.run_import_job":
        return
    job_id = args[0] if args else kwargs.get("job_id")
    ImportJob.objects.filter(pk=job_id, state__in=[ImportJob.State.RUNNING, ImportJob.State.QUEUED]).update(
        state=ImportJob.State.FAILED, finished_at=timezone.now(),
        message=_("导入中断（后台任务进程已停止），本次未导入任何数据，请重新导入"))


@task()
def run_import_job(job_id: int, commit: bool) -> str:
    job = ImportJob.objects.get(pk=job_id)
    return execute(job, commit).state
