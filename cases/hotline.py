"""Import of 12345-hotline work orders from .xlsx: preview, then all-or-nothing, idempotent on 工单编号.

``preview(path)`` reads the first sheet (python-calamine) and checks every row; every problem names the row
(as Excel numbers it) and the column, in Chinese. ``commit(user, job)`` writes all rows through
``cases.services.report(channel="hotline", external_id=工单编号)`` in one transaction: a failing row rolls back
every row. Work orders already imported (same 工单编号) are skipped, so a re-run of the same file writes nothing.

A job is a pair of files under ``<RENFANG_VAR_DIR>/hotline/`` (the upload and its JSON state: owner, rows,
errors, progress), so that the page can poll the progress of a large import run by the task queue
(``run_import``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

__all__ = ["COLUMNS", "HotlineRow", "Job", "commit", "load_job", "new_job", "preview", "run_import"]

# Column → accepted header names (12345 systems differ slightly).
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("工单编号", "工单号", "编号"),
    "called_at": ("来电时间", "受理时间", "登记时间"),
    "category": ("诉求类型", "问题类型", "诉求分类"),
    "content": ("诉求内容", "问题描述", "工单内容"),
    "address": ("地址", "事发地址", "诉求地址"),
    "contact": ("联系人", "来电人", "诉求人"),
    "phone": ("联系电话", "来电号码", "电话"),
    "due": ("办理时限", "办结时限", "截止时间"),
}
REQUIRED = ("external_id", "called_at", "category", "content")
LABEL = {k: v[0] for k, v in COLUMNS.items()}
MAX_ROWS = 20000
PROGRESS_EVERY = 25
_BUILDING = re.compile(r"(\d+)\s*(?:幢|栋|号楼|座)")


@dataclass
class HotlineRow:
    row: int
    external_id: str
    called_at: str  # ISO 8601
    category_id: int
    content: str
    address: str = ""
    contact: str = ""  # sealed (core.crypto): the job file never holds a name or a phone in clear
    phone: str = ""  # sealed
    due: str = ""  # ISO 8601 or ""
    called_label: str = ""  # local time as shown in the preview
    compound_id: int | None = None
    building_id: int | None = None
    skip: bool = False  # already imported


@dataclass
class Job:
    id: str
    user_id: int
    file_name: str
    state: str = "previewed"  # previewed → running → done | failed
    rows: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"row": 3, "column": "来电时间", "message": "..."}
    row_count: int = 0
    done: int = 0
    created: int = 0
    skipped: int = 0
    message: str = ""

    @property
    def total(self) -> int:
        return self.row_count or len(self.rows)

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 100


def _dir() -> Path:
    d = Path(settings.VAR_DIR) / "hotline"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _save(job: Job) -> None:
    path = _dir() / f"{job.id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(job), ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def load_job(job_id: str) -> Job | None:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id or ""):
        return None
    path = _dir() / f"{job_id}.json"
    if not path.exists():
        return None
    return Job(**json.loads(path.read_text(encoding="utf-8")))


# --- reading ----------------------------------------------------------------------------------------------------
# A job file (the rows between the preview and the commit) is not a table: its values are bound to the job, the
# row number and the cell ("hotline_job" / "<n>.phone" / the job id). Jobs live hours; rotate_keys leaves them.
def _seal(value: str, job: Job, n: int, cell: str) -> str:
    from core import crypto

    return crypto.seal(value, table="hotline_job", column=f"{n}.{cell}", row=job.id) if value else ""


def _unseal(value: str, job: Job, n: int, cell: str) -> str:
    from core import crypto

    return crypto.open(value, table="hotline_job", column=f"{n}.{cell}", row=job.id) if value else ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _when(value, *, date_only_end: bool = False) -> dt.datetime | None:
    """A cell as an aware datetime (Asia/Shanghai): Excel dates, or text like 2026-11-28 09:30 / 2026/11/28."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(23, 59) if date_only_end else dt.time(0, 0))
    else:
        text = _text(value).replace("/", "-").replace("年", "-").replace("月", "-").replace("日", "")
        parsed = None
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
            try:
                parsed = dt.datetime.strptime(text.strip(), fmt)
                if fmt == "%Y-%m-%d" and date_only_end:
                    parsed = parsed.replace(hour=23, minute=59)
                break
            except ValueError:
                continue
        if parsed is None:
            raise ValueError(text)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _categories() -> dict[str, int]:
    """Category names → id; a child also answers to "父类-子类" and "父类/子类"."""
    from cases.models import CaseCategory

    out: dict[str, int] = {}
    cats = list(CaseCategory.objects.filter(is_active=True).select_related("parent"))
    for c in cats:
        out.setdefault(c.name, c.pk)
        out.setdefault(c.code, c.pk)
        if c.parent_id:
            for sep in ("-", "/", "—", "－", ">", "＞"):
                out[f"{c.parent.name}{sep}{c.name}"] = c.pk
    return out


def _places(places):
    """The compounds (longest name first) and buildings the user may report on."""
    from core.querysets import scope_q
    from places.models import Building, Compound

    comps = Compound.objects.filter(scope_q(Compound, places)) if places is not None else Compound.objects.none()
    compounds = sorted(comps.values_list("name", "pk"), key=lambda r: -len(r[0]))
    buildings = {(c, n): pk for c, n, pk in Building.objects.filter(compound__in=[pk for _n, pk in compounds])
                 .values_list("compound_id", "number", "pk")}
    return compounds, buildings


def _match_place(address: str, compounds, buildings) -> tuple[int | None, int | None]:
    for name, pk in compounds:
        if name and name in address:
            m = _BUILDING.search(address[address.index(name) + len(name):])
            return pk, buildings.get((pk, m.group(1))) if m else None
    return None, None


def preview(user, path: Path, file_name: str) -> Job:
    """Read and check the sheet; returns the saved job (with its rows and its errors)."""
    from python_calamine import CalamineError, CalamineWorkbook

    from cases.models import Case
    from core.validators import validate_mobile

    job = Job(id=uuid.uuid4().hex, user_id=user.pk, file_name=file_name[:200])
    try:
        wb = CalamineWorkbook.from_path(str(path))
        data = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, OSError, ValueError, IndexError) as exc:
        job.state = "failed"
        job.message = _("无法读取文件“%(f)s”：不是有效的 .xlsx 工作簿（%(e)s）") % {
            "f": file_name, "e": type(exc).__name__}
        _save(job)
        return job
    if not data:
        job.errors.append({"row": 1, "column": "", "message": _("工作表是空的")})
        _save(job)
        return job
    header = [_text(h) for h in data[0]]
    index: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                index[key] = i
                break
    missing = [LABEL[k] for k in REQUIRED if k not in index]
    if missing:
        job.errors.append({"row": 1, "column": "、".join(missing),
                           "message": _("表头缺少必需的列：%(c)s（第1行应为列名）") % {"c": "、".join(missing)}})
        _save(job)
        return job
    body = data[1:]
    if len(body) > MAX_ROWS:
        job.errors.append({"row": MAX_ROWS + 2, "column": "", "message": _("一次最多导入%(n)d行，请拆分文件")
                           % {"n": MAX_ROWS}})
        _save(job)
        return job
    cats = _categories()
    from core.scope import scope_for

    places = scope_for(user).places_for("cases.add_case")
    own_streets = sorted(places.streets) if places is not None else []
    compounds, buildings = _places(places)
    seen: dict[str, int] = {}
    existing = set()
    ids_in_file = [_text(r[index["external_id"]]) for r in body if index["external_id"] < len(r)]
    for chunk in range(0, len(ids_in_file), 900):
        existing |= set(Case._base_manager.filter(channel="hotline", external_id__in=ids_in_file[chunk:chunk + 900])
                        .values_list("external_id", flat=True))

    def err(row: int, key: str, message: str) -> None:
        job.errors.append({"row": row, "column": LABEL[key], "message": message})

    for n, raw in enumerate(body, start=2):
        cell = {k: (raw[i] if i < len(raw) else None) for k, i in index.items()}
        if all(_text(v) == "" for v in cell.values()):
            continue
        ext = _text(cell["external_id"])
        before = len(job.errors)
        if not ext:
            err(n, "external_id", _("工单编号不能为空"))
        elif len(ext) > 64:
            err(n, "external_id", _("工单编号不能超过64个字符"))
        elif ext in seen:
            err(n, "external_id", _("工单编号 %(e)s 与第%(r)d行重复") % {"e": ext, "r": seen[ext]})
        else:
            seen[ext] = n
        try:
            called = _when(cell["called_at"])
            if called is None:
                err(n, "called_at", _("来电时间不能为空"))
            elif called > timezone.now() + dt.timedelta(minutes=5):
                err(n, "called_at", _("来电时间 %(t)s 晚于现在") % {
                    "t": timezone.localtime(called).strftime("%Y-%m-%d %H:%M")})
        except ValueError as exc:
            called = None
            err(n, "called_at", _("来电时间“%(v)s”不是日期时间（应为 2026-11-28 09:30）") % {"v": str(exc)[:30]})
        cat_name = _text(cell["category"])
        cat_id = cats.get(cat_name) or cats.get(cat_name.replace(" ", ""))
        if not cat_name:
            err(n, "category", _("诉求类型不能为空"))
        elif cat_id is None:
            err(n, "category", _("诉求类型“%(v)s”在案件类别中不存在"
                                 "（请使用类别名称，如“噪声扰民”或“邻里纠纷-噪声扰民”）") % {"v": cat_name[:30]})
        content = _text(cell["content"])
        if not content:
            err(n, "content", _("诉求内容不能为空"))
        phone = _text(cell.get("phone"))
        if phone:
            try:
                phone = validate_mobile(phone).value
            except ValidationError as exc:
                err(n, "phone", _("联系电话：%(m)s") % {"m": " ".join(exc.messages)})
        due = ""
        if "due" in cell:
            try:
                d = _when(cell["due"], date_only_end=True)
                due = d.isoformat() if d else ""
            except ValueError as exc:
                err(n, "due", _("办理时限“%(v)s”不是日期（应为 2026-12-05）") % {"v": str(exc)[:30]})
        address = _text(cell.get("address"))[:200]
        comp_id, bld_id = _match_place(address, compounds, buildings)
        if comp_id is None and len(own_streets) != 1:
            err(n, "address", _("地址“%(a)s”没有对应到您管辖范围内的小区（请写出小区名称）") % {"a": address[:40]})
        if len(job.errors) == before:
            job.rows.append(asdict(HotlineRow(
                row=n, external_id=ext, called_at=called.isoformat(), category_id=cat_id, content=content,
                called_label=timezone.localtime(called).strftime("%Y-%m-%d %H:%M"),
                address=address, contact=_seal(_text(cell.get("contact"))[:64], job, n, "contact"),
                phone=_seal(phone, job, n, "phone"), due=due,
                compound_id=comp_id, building_id=bld_id, skip=ext in existing)))
    job.skipped = sum(1 for r in job.rows if r["skip"])
    job.row_count = len(job.rows)
    _save(job)
    return job


def new_job(user, upload) -> Job:
    """Store an upload and preview it."""
    path = _dir() / f"{uuid.uuid4().hex}.xlsx"
    with open(path, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    try:
        return preview(user, path, getattr(upload, "name", "") or "hotline.xlsx")
    finally:
        path.unlink(missing_ok=True)


# --- writing ----------------------------------------------------------------------------------------------------
def commit(user, job: Job) -> Job:
    """Write every row in one transaction (all or nothing). Rows already imported are skipped."""
    from cases.models import Case, CaseCategory
    from cases.services import report
    from places.models import Building, Compound, Street

    if job.errors:
        raise ValidationError(_("文件中还有%(n)d处错误，改正后重新上传再导入") % {"n": len(job.errors)})
    if job.state not in ("previewed", "running"):
        raise ValidationError(_("这个导入已经执行过了"))
    job.state, job.done, job.created = "running", 0, 0
    _save(job)
    cats = CaseCategory.objects.in_bulk([r["category_id"] for r in job.rows])
    from core.scope import scope_for

    places = scope_for(user).places_for("cases.add_case")
    streets = sorted(places.streets) if places else []
    fallback = Street.objects.filter(pk=streets[0]).first() if len(streets) == 1 else None
    try:
        with transaction.atomic():
            for i, r in enumerate(job.rows, start=1):
                if r["skip"] or Case._base_manager.filter(channel="hotline", external_id=r["external_id"]).exists():
                    job.skipped += 0 if r["skip"] else 1
                else:
                    place = (Building.objects.filter(pk=r["building_id"]).first() if r["building_id"] else None) \
                        or (Compound.objects.filter(pk=r["compound_id"]).first() if r["compound_id"] else None) \
                        or fallback
                    try:
                        case = report(user, channel="hotline", category=cats[r["category_id"]],
                                      title=r["content"].splitlines()[0][:40], description=r["content"],
                                      place=place, address=r["address"],
                                      reporter_name=_unseal(r["contact"], job, r["row"], "contact"),
                                      reporter_phone=_unseal(r["phone"], job, r["row"], "phone"),
                                      external_id=r["external_id"],
                                      at=dt.datetime.fromisoformat(r["called_at"]))
                    except ValidationError as exc:
                        raise ValidationError(_("第%(r)d行（工单编号 %(e)s）：%(m)s")
                                              % {"r": r["row"], "e": r["external_id"], "m": " ".join(exc.messages)})
                    if r["due"]:
                        Case._base_manager.filter(pk=case.pk).update(deadline_at=dt.datetime.fromisoformat(r["due"]))
                    job.created += 1
                job.done = i
                if i % PROGRESS_EVERY == 0:
                    _save(job)
    except Exception as exc:
        job.state, job.done, job.created = "failed", 0, 0
        job.message = " ".join(exc.messages) if isinstance(exc, ValidationError) else \
            _("导入失败，已全部撤销：%(e)s") % {"e": str(exc)[:200]}
        _save(job)
        raise
    job.state = "done"
    job.rows = []  # the cases hold the data now; the job keeps its counts only
    job.message = _("已导入%(c)d件，跳过已导入过的%(s)d件") % {"c": job.created, "s": job.skipped}
    _save(job)
    return job


@task()
def run_import(job_id: str, user_id: int) -> int:
    """The queue's side of a commit: the page polls ``load_job(job_id)`` for its progress."""
    from django.contrib.auth import get_user_model

    job = load_job(job_id)
    user = get_user_model().objects.get(pk=user_id)
    if job is None or job.user_id != user.pk:
        return 0
    try:
        return commit(user, job).created
    except Exception:  # the job file carries the message; the transaction was rolled back
        return 0
