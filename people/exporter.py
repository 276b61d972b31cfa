"""Export a filtered list of people or houses to .xlsx: masked numbers, a watermark, formulas neutralised.

The rows are the list page's rows: the same FilterSet (people.filtersets.PersonFilterSet,
places.filtersets.HouseFilterSet) over the rows the user may export, i.e. the places where they hold
``people.export_person``. Above ``settings.RENFANG_EXPORT_APPROVAL_ROWS`` rows an export needs an approved
``ExportRequest``: another user holding the permission over every one of those rows approves it, then the
requester downloads it once. Every export (and every refusal) is on the audit record with its row count.
"""

from __future__ import annotations

from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.importexport import XlsxWriter
from core.querysets import scope_q
from core.scope import scope_for
from people.choices import IdType, Relation, ResidencyType, Sex
from people.iomodels import ExportRequest
from people.models import Person, PersonTag, Residence
from places.choices import HouseUse
from places.models import House

__all__ = ["KINDS", "ExportNeedsApproval", "approve", "export_queryset", "needs_approval", "reject", "watermark",
           "write_export"]

CHUNK = 2000
PERSON_HEADERS = ["姓名", "性别", "出生日期", "证件类型", "证件号码", "联系电话", "人口类型", "民族", "户籍地址",
                  "工作单位", "现住址", "与户主关系", "人群标签", "网格"]
HOUSE_HEADERS = ["小区", "楼栋", "单元", "楼层", "房号", "面积", "用途", "现住人数", "网格"]


class ExportNeedsApproval(Exception):
    def __init__(self, rows: int) -> None:
        super().__init__(_("导出%(n)d行超过了%(max)d行，需要审批") % {"n": rows,
                                                                   "max": settings.RENFANG_EXPORT_APPROVAL_ROWS})
        self.rows = rows


def _table_kinds() -> dict:
    """The other lists, exported as their page shows them (the list's table: masked numbers only)."""
    from people import tables as people_tables
    from people.filtersets import EnterpriseFilterSet
    from people.models import Enterprise
    from places import filtersets, tables
    from places.models import Building, Community, Compound, Grid

    return {
        "community": (Community, filtersets.CommunityFilterSet, tables.CommunityTable),
        "grid": (Grid, filtersets.GridFilterSet, tables.GridTable),
        "compound": (Compound, filtersets.CompoundFilterSet, tables.CompoundTable),
        "building": (Building, filtersets.BuildingFilterSet, tables.BuildingTable),
        "enterprise": (Enterprise, EnterpriseFilterSet, people_tables.EnterpriseTable),
    }


KINDS = {"person", "house", "community", "grid", "compound", "building", "enterprise"}


def _table_rows(qs: QuerySet, table):
    last = 0
    while True:
        chunk = list(table.prepare(qs.filter(pk__gt=last))[:CHUNK])
        if not chunk:
            return
        for row in table.rows(chunk):
            yield [str(cell.value) if cell.value is not None else "" for cell in row]
        last = chunk[-1].pk


def export_queryset(user, kind: str, query: QueryDict | dict | str, request=None) -> QuerySet:
    """The rows of the list page with filters ``query``, limited to where ``user`` may export."""
    from people.filtersets import PersonFilterSet
    from places.filtersets import HouseFilterSet

    if isinstance(query, str):
        query = QueryDict(query)
    if request is None or getattr(request, "user", None) != user:
        request = HttpRequest()  # the filters' choices are the places of the exporting user
        request.user = user
    if kind == "person":
        base = Person.objects.restrict(user, "export")
        filterset_class = PersonFilterSet
    elif kind == "house":
        places = scope_for(user).places_for("people.export_person") if user is not None else None
        base = (House.objects.restrict(user, "view").filter(scope_q(House, places)) if places is not None
                else House.objects.none())
        filterset_class = HouseFilterSet
    elif kind in _table_kinds():
        model, filterset_class, _table = _table_kinds()[kind]
        places = scope_for(user).places_for("people.export_person") if user is not None else None
        base = (model.objects.restrict(user, "view").filter(scope_q(model, places)) if places is not None
                else model.objects.none())
    else:
        raise ValueError(kind)
    fs = filterset_class(query, queryset=base, request=request)
    if not fs.is_valid():
        return base.none()
    return fs.qs.order_by("pk")


def needs_approval(rows: int) -> bool:
    return rows > settings.RENFANG_EXPORT_APPROVAL_ROWS


def watermark(user) -> str:
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return _("导出人：%(u)s　导出时间：%(t)s　仅限工作使用，请勿外传") % {"u": user.get_username(), "t": stamp}


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _person_rows(qs: QuerySet):
    sexes, ids, kinds, relations = (_labels(Sex.choices), _labels(IdType.choices), _labels(ResidencyType.choices),
                                    _labels(Relation.choices))
    fields = ["id", "name", "sex", "birth_date", "id_type", "id_number_masked", "phone_masked", "residency_type",
              "ethnicity", "hukou_address", "work_unit", "grid__name"]
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last).values(*fields)[:CHUNK])
        if not chunk:
            return
        pids = [p["id"] for p in chunk]
        homes: dict[int, tuple[str, str]] = {}
        for r in (Residence.objects.filter(person_id__in=pids, moved_out__isnull=True).order_by("-moved_in")
                  .values("person_id", "relation", "house__compound__name", "house__building__number",
                          "house__unit", "house__room")):
            unit = f"{r['house__unit']}单元" if r["house__unit"] else ""
            homes.setdefault(r["person_id"], (
                f"{r['house__compound__name']}{r['house__building__number']}幢{unit}{r['house__room']}室",
                relations.get(r["relation"], "")))
        tags: dict[int, list[str]] = {}
        for pid, name in PersonTag.objects.filter(person_id__in=pids).values_list("person_id", "tag__name"):
            tags.setdefault(pid, []).append(name)
        for p in chunk:
            home, relation = homes.get(p["id"], ("", ""))
            yield [p["name"], sexes.get(p["sex"], ""), p["birth_date"], ids.get(p["id_type"], ""),
                   p["id_number_masked"], p["phone_masked"], kinds.get(p["residency_type"], ""), p["ethnicity"],
                   p["hukou_address"], p["work_unit"], home, relation, "、".join(sorted(tags.get(p["id"], []))),
                   p["grid__name"] or ""]
        last = chunk[-1]["id"]


def _house_rows(qs: QuerySet):
    uses = _labels(HouseUse.choices)
    fields = ["id", "compound__name", "building__number", "unit", "floor", "room", "area", "use", "resident_count",
              "grid__name"]
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last).values(*fields)[:CHUNK])
        if not chunk:
            return
        for h in chunk:
            yield [h["compound__name"], h["building__number"], h["unit"], h["floor"], h["room"],
                   float(h["area"]) if h["area"] is not None else None, uses.get(h["use"], ""), h["resident_count"],
                   h["grid__name"]]
        last = chunk[-1]["id"]


def write_export(user, kind: str, query, target: str | IO[bytes], *, request=None,
                 export_request: ExportRequest | None = None) -> int:
    """Write the export to ``target``; returns the row count. Raises PermissionDenied without the permission
    and ExportNeedsApproval above the threshold unless ``export_request`` is an approved request of ``user``."""
    if user is None or not scope_for(user).has("people.export_person"):
        audit.record("export", user=user, request=request, object_type=f"people.{kind}", result="denied")
        raise PermissionDenied(_("您没有导出人员信息的权限"))
    qs = export_queryset(user, kind, query, request=request)
    rows = qs.count()
    if needs_approval(rows):
        if export_request is None or export_request.requested_by_id != user.pk:
            raise ExportNeedsApproval(rows)
        with transaction.atomic():
            taken = ExportRequest.objects.filter(pk=export_request.pk, state=ExportRequest.State.APPROVED).update(
                state=ExportRequest.State.DOWNLOADED, downloaded_at=timezone.now())
            if not taken:
                raise PermissionDenied(_("该导出申请未获批准，或已经下载过"))
    mark = watermark(user)
    title = str(dict(ExportRequest.KINDS).get(kind, kind))
    if kind == "person":
        headers, rows_iter = PERSON_HEADERS, _person_rows(qs)
    elif kind == "house":
        headers, rows_iter = HOUSE_HEADERS, _house_rows(qs)
    else:
        table = _table_kinds()[kind][2]
        headers, rows_iter = [str(h) for h in table.headers], _table_rows(qs, table)
    with XlsxWriter(target, title, mark) as w:
        w.header(headers)
        for row in rows_iter:
            w.row(row)
    audit.record("export", user=user, request=request, object_type=f"people.{kind}",
                 object_id=str(export_request.pk) if export_request else "",
                 fields=["id_number_masked", "phone_masked"] if kind == "person" else [],
                 changes={"rows": w.rows, "query_keys": sorted(QueryDict(query).keys()) if isinstance(query, str)
                          else sorted(query.keys())}, purpose=export_request.reason if export_request else "")
    return w.rows


def request_export(user, kind: str, query: str, reason: str, *, request=None) -> ExportRequest:
    reason = (reason or "").strip()
    if not scope_for(user).has("people.export_person"):
        raise PermissionDenied(_("您没有导出人员信息的权限"))
    if len(reason) < 4:
        from django.core.exceptions import ValidationError

        raise ValidationError({"reason": [_("请填写导出用途（至少4个字）")]})
    rows = export_queryset(user, kind, query, request=request).count()
    req = ExportRequest.objects.create(kind=kind, query=query, row_count=rows, reason=reason[:300],
                                       requested_by=user)
    audit.record("export_request", req, user=user, request=request, changes={"rows": rows}, purpose=reason)
    return req


def _decide(approver, req: ExportRequest, state: str, request=None) -> ExportRequest:
    if approver.pk == req.requested_by_id:
        raise PermissionDenied(_("不能审批自己的导出申请"))
    if not scope_for(approver).has("people.export_person"):
        raise PermissionDenied(_("您没有审批导出的权限"))
    if state == ExportRequest.State.APPROVED:
        wanted = export_queryset(req.requested_by, req.kind, req.query)
        mine = export_queryset(approver, req.kind, "")
        if wanted.exclude(pk__in=mine.values("pk")).exists():
            raise PermissionDenied(_("申请导出的数据超出了您的管辖范围，不能由您审批"))
    updated = ExportRequest.objects.filter(pk=req.pk, state=ExportRequest.State.REQUESTED).update(
        state=state, decided_by=approver, decided_at=timezone.now())
    if not updated:
        raise PermissionDenied(_("该申请已经处理过"))
    req.refresh_from_db()
    audit.record("export_" + ("approve" if state == ExportRequest.State.APPROVED else "reject"), req, user=approver,
                 request=request, changes={"rows": req.row_count})
    return req


def approve(approver, req: ExportRequest, request=None) -> ExportRequest:
    return _decide(approver, req, ExportRequest.State.APPROVED, request)


def reject(approver, req: ExportRequest, request=None) -> ExportRequest:
    return _decide(approver, req, ExportRequest.State.REJECTED, request)


__all__ += ["request_export"]
