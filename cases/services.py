"""The one write path of cases: intake (``report``), the workflow (``transition``), escalation, units.

Every write runs in a transaction, checks the user's permission and scope, writes a ``CaseEvent`` on the case's
timeline and a line in the audit. A transition is a conditional UPDATE on the status and version the user saw
(``UPDATE ... WHERE id = ? AND status = ? AND version = ?``): of two dispatchers racing on the same case exactly
one succeeds; the other gets ``CaseConflict`` (409) with a Chinese message naming the status it has now.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import deadlines
from cases.models import (
    CLOCK_STATUSES,
    Case,
    CaseAttachment,
    CaseCategory,
    CaseEvent,
    CaseParty,
    Channel,
    Escalation,
    NumberCounter,
    Priority,
    Satisfaction,
    Status,
    Unit,
)
from core import audit, uploads
from core.scope import scope_for
from core.sealed import mask_text
from core.services import ConflictError, assert_in_scope
from core.validators import validate_mobile

__all__ = ["ACTIONS", "ATTACHMENT_MAX_BYTES", "CaseConflict", "Party", "actions_for", "add_unit_member",
           "check_attachment", "ensure_unit_role", "escalate_overdue", "locate", "next_number", "report",
           "transition", "UNIT_ROLE", "UNIT_ROLE_PERMS"]

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_KINDS = ("jpeg", "png", "pdf")
UNIT_ROLE = "case_unit"
UNIT_ROLE_PERMS = ["cases.view_case", "cases.start_case", "cases.pause_case", "cases.handle_case"]


class CaseConflict(ConflictError):
    """The case changed since the user read it: someone else acted first."""

    def __init__(self, case: Case, expected: int, current_version: int, current_status: str) -> None:
        super().__init__(case, expected, current_version)
        label = Status(current_status).label if current_status in Status.values else current_status
        self.current_status = current_status
        self.args = (_("案件 %(n)s 已被他人处理（现在的状态是“%(s)s”，第 %(c)d 版；您看到的是第 %(e)d 版），"
                       "请刷新后再操作") % {"n": case.number, "s": label, "c": current_version, "e": expected},)

    def __str__(self) -> str:
        return self.args[0]


# --- attachments ------------------------------------------------------------------------------------------------
def check_attachment(upload) -> uploads.CheckedUpload:
    """The upload checked by its content (core.uploads): a JPEG/PNG decoded and re-encoded without EXIF, a PDF
    parsed; at most 10 MB. ValidationError on ``attachments`` otherwise."""
    if isinstance(upload, uploads.CheckedUpload):
        return upload
    return uploads.check_upload(upload, field="attachments", max_bytes=ATTACHMENT_MAX_BYTES,
                                kinds=ATTACHMENT_KINDS, label=uploads.ATTACHMENT)


def _store_attachments(user, case: Case, files: Iterable, stage: str) -> list[CaseAttachment]:
    checked = [check_attachment(u) for u in files]
    out = []
    for c in checked:
        att = CaseAttachment(case=case, name=c.name[:200], content_type=c.content_type, size=c.size, stage=stage,
                             uploaded_by=user if getattr(user, "is_authenticated", False) else None)
        att.file.save(f"{uuid.uuid4().hex}.{c.ext}", c.content(), save=False)
        att.save()
        out.append(att)
    return out


def next_number(year: int) -> str:
    """``RF-2026-000123``: the year's counter incremented by an UPDATE, which row-locks it until the transaction
    ends, so concurrent reports get distinct numbers. Call inside a transaction."""
    if not NumberCounter.objects.filter(year=year).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                NumberCounter.objects.create(year=year, last=_highest_number(year) + 1)
        except IntegrityError:
            NumberCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = NumberCounter.objects.filter(year=year).values_list("last", flat=True).get()
    return f"RF-{year}-{last:06d}"


def _highest_number(year: int) -> int:
    top = (Case._base_manager.filter(number__startswith=f"RF-{year}-").order_by("-number")
           .values_list("number", flat=True).first())
    return int(top.rsplit("-", 1)[1]) if top else 0


# --- places -----------------------------------------------------------------------------------------------------
def locate(lat: float, lng: float):
    """The compound nearest to a point (within about 2 km), or None."""
    from places.models import Compound

    box = 0.02
    near = list(Compound.objects.filter(lat__range=(lat - box, lat + box), lng__range=(lng - box, lng + box))
                .values_list("pk", "lat", "lng")[:2000])
    if not near:
        return None
    pk = min(near, key=lambda r: (r[1] - lat) ** 2 + (r[2] - lng) ** 2)[0]
    return Compound.objects.get(pk=pk)


def _place_fields(place) -> dict:
    """The case's place columns from a street, community, grid, compound, building or house."""
    from places.models import Building, Community, Compound, Grid, House, Street

    out = {"street": None, "community": None, "grid": None, "compound": None, "building": None, "house": None}
    if isinstance(place, House):
        out.update(house=place, building_id=place.building_id, compound_id=place.compound_id)
        out.update(grid_id=place.grid_id, community_id=place.community_id, street_id=place.street_id)
    elif isinstance(place, Building):
        out.update(building=place, compound_id=place.compound_id, grid_id=place.grid_id,
                   community_id=place.community_id, street_id=place.street_id)
    elif isinstance(place, Compound):
        out.update(compound=place, grid_id=place.grid_id, community_id=place.community_id,
                   street_id=place.street_id)
    elif isinstance(place, Grid):
        out.update(grid=place, community_id=place.community_id, street_id=place.street_id)
    elif isinstance(place, Community):
        out.update(community=place, street_id=place.street_id)
    elif isinstance(place, Street):
        out.update(street=place)
    else:
        raise ValidationError({"place": [_("请选择案件发生的地点（网格、小区、楼栋或房屋）")]})
    return {k: v for k, v in out.items() if v is not None}


def _place_point(place) -> tuple[float | None, float | None]:
    for obj in (place, getattr(place, "building", None), getattr(place, "compound", None)):
        if obj is not None and getattr(obj, "lat", None) is not None and getattr(obj, "lng", None) is not None:
            return obj.lat, obj.lng
    return None, None


def _address(place) -> str:
    from places.models import Building, House

    if isinstance(place, House):
        return f"{place.compound.name}{place.building.number}幢{place.unit}单元{place.room}"
    if isinstance(place, Building):
        return f"{place.compound.name}{place.number}幢"
    return getattr(place, "name", "") or ""


# --- intake -----------------------------------------------------------------------------------------------------
@dataclass
class Party:
    name: str
    role: str = CaseParty.Role.RELATED
    person: object | None = None
    house: object | None = None
    note: str = ""


def report(user, *, channel: str, category, title: str, description: str = "", place=None,
           reporter_name: str = "", reporter_phone: str = "", attachments: Iterable = (), external_id: str = "",
           service_code: str = "", priority: str = Priority.NORMAL, lat: float | None = None,
           lng: float | None = None, address: str = "", parties: Iterable[Party] = (),
           at: dt.datetime | None = None, reporter_account=None) -> Case:
    """Register a case from any channel; one transaction: number, deadline, attachments, event, audit.

    ``reporter_account``: the logged-in resident reporting on the public page (``user`` is None there: a resident
    holds no staff permission); the case then appears under "我的提交" on their home.

    ``user`` is None for channels without an account (the resident's public page, the hotline import, Open311);
    otherwise they need ``cases.add_case`` on the place. ``place`` is a house, building, compound, grid,
    community or street; without one, ``lat``/``lng`` find the nearest compound.
    """
    errors: dict[str, list[str]] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("来源“%(c)s”不是有效的渠道") % {"c": channel}]
    if isinstance(category, str):
        category = CaseCategory.objects.filter(code=category, is_active=True).first()
    if category is None or not getattr(category, "is_active", False):
        errors["category"] = [_("请选择案件类别")]
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("请填写标题（一句话说明发生了什么）")]
    elif len(title) > 100:
        errors["title"] = [_("标题不能超过100个字，现在是%(n)d个字") % {"n": len(title)}]
    if priority not in Priority.values:
        errors["priority"] = [_("紧急程度只能是“一般”或“紧急”")]
    phone = ""
    if reporter_phone:
        try:
            phone = validate_mobile(reporter_phone).value
        except ValidationError as exc:
            errors["reporter_phone"] = list(exc.messages)
    if place is None and lat is not None and lng is not None:
        place = locate(lat, lng)
    if place is None:
        errors["place"] = [_("请选择案件发生的地点（网格、小区、楼栋或房屋）")]
    if errors:
        raise ValidationError(errors)
    if user is not None and not scope_for(user).has("cases.add_case"):
        raise PermissionDenied(_("您没有上报案件的权限"))
    attachments = [check_attachment(upload) for upload in attachments]  # decoded once, before anything is written
    now = at or timezone.now()
    with transaction.atomic():
        case = Case(channel=channel, category=category, priority=priority, title=title,
                    description=(description or "").strip(), external_id=external_id or "",
                    service_code=service_code or "", reported_by=user if user is not None else reporter_account,
                    **_place_fields(place))
        plat, plng = _place_point(place)
        case.lat = lat if lat is not None else plat
        case.lng = lng if lng is not None else plng
        case.address = (address or _address(place))[:200]
        case.set_reporter(reporter_name, phone)
        case.deadline_at = deadlines.deadline_for(now, category.days_for(priority))
        case.number = next_number(timezone.localtime(now).year)
        case.save()
        if at is not None:
            Case._base_manager.filter(pk=case.pk).update(created_at=at)
            case.created_at = at
        for p in parties:
            CaseParty.objects.create(case=case, name=p.name, role=p.role, person=p.person, house=p.house,
                                     note=p.note)
        _store_attachments(user, case, attachments, "report")
        assert_in_scope(user, case, "add")
        _event(case, "report", "", Status.REPORTED, user, note=case.title,
               data={"channel": channel, "attachments": len(attachments)})
        _dirty(case)
        audit.record("create", case, user=user, fields=["title", "category", "place", "reporter"],
                     purpose=f"case:{channel}", username="" if user else channel)
    return case


def _dirty(case: Case) -> None:
    """Ask the cockpit to refresh the case's place (its lowest known level; the job refreshes the ancestors)."""
    try:
        from cockpit.registry import mark_dirty
    except ImportError:
        return
    for level in ("building", "compound", "grid", "community", "street"):
        place_id = getattr(case, f"{level}_id", None)
        if place_id:
            mark_dirty(level, place_id)
            return


def _event(case: Case, action: str, from_status: str, to_status: str, user, note: str = "",
           data: dict | None = None) -> CaseEvent:
    return CaseEvent.objects.create(case=case, action=action, from_status=from_status, to_status=to_status,
                                    user=user if getattr(user, "is_authenticated", False) else None,
                                    note=note or "", data=data or {})


# --- the workflow -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    name: str
    perm: str
    sources: tuple[str, ...]
    target: str | None  # None: the status does not change
    label: object  # a lazy translation


ACTIONS: dict[str, Action] = {a.name: a for a in [
    Action("accept", "accept", (Status.REPORTED,), Status.ACCEPTED, gettext_lazy("受理")),
    Action("reject", "reject", (Status.REPORTED, Status.ACCEPTED), Status.REJECTED, gettext_lazy("不予受理")),
    Action("dispatch", "dispatch", (Status.ACCEPTED, Status.REOPENED), Status.DISPATCHED, gettext_lazy("派遣")),
    Action("start", "start", (Status.DISPATCHED,), Status.IN_PROGRESS, gettext_lazy("开始处置")),
    Action("pause", "pause", (Status.DISPATCHED, Status.IN_PROGRESS), None, gettext_lazy("暂停计时")),
    Action("resume", "pause", (Status.DISPATCHED, Status.IN_PROGRESS), None, gettext_lazy("恢复计时")),
    Action("handle", "handle", (Status.DISPATCHED, Status.IN_PROGRESS), Status.HANDLED, gettext_lazy("处置完毕")),
    Action("verify", "verify", (Status.HANDLED,), Status.VERIFIED, gettext_lazy("核查通过")),
    Action("close", "close", (Status.VERIFIED,), Status.CLOSED, gettext_lazy("结案")),
    Action("satisfaction", "survey", (Status.VERIFIED, Status.CLOSED), None, gettext_lazy("满意度回访")),
    Action("escalate", "escalate", tuple(CLOCK_STATUSES), None, gettext_lazy("督办")),
]}
ACTION_LABELS = {"report": gettext_lazy("上报"), "reopen": gettext_lazy("重启"),
                 **{k: a.label for k, a in ACTIONS.items()}}


def _may(user, case: Case, perm: str) -> bool:
    return Case.objects.restrict(user, perm).filter(pk=case.pk).exists()


def actions_for(user, case: Case) -> list[str]:
    """The actions ``user`` may take on ``case`` now (for the buttons)."""
    out = []
    for name, act in ACTIONS.items():
        if case.status not in act.sources:
            continue
        if name == "pause" and case.paused_at is not None or name == "resume" and case.paused_at is None:
            continue
        if name == "verify" and case.handler_id == getattr(user, "pk", None):
            continue
        if name == "escalate" and case.escalation_level >= Escalation.STREET:
            continue
        if _may(user, case, act.perm):
            out.append(name)
    return out


def _unit(value) -> Unit | None:
    if value in (None, ""):
        return None
    if isinstance(value, Unit):
        return value
    return Unit.objects.filter(pk=value, is_active=True).first()


def transition(user, case: Case, action: str, *, expected_version: int | None = None, **data) -> Case:
    """Move ``case`` by ``action``; returns the case re-read. Raises PermissionDenied, ValidationError or
    CaseConflict. ``data``: reject(reason, duplicate_of), dispatch(lead_unit, co_units), pause/resume/handle/
    verify/close(note), satisfaction(answer, note), escalate(note), any(attachments)."""
    act = ACTIONS.get(action)
    if act is None:
        raise ValidationError({"action": [_("未知的操作“%(a)s”") % {"a": action}]})
    if user is not None and not _may(user, case, act.perm):
        raise PermissionDenied(_("您没有“%(a)s”这项操作的权限") % {"a": str(act.label)})
    seen_status, seen_version = case.status, expected_version if expected_version is not None else case.version
    if seen_version != case.version:  # the form was read at another version: someone acted in between
        raise CaseConflict(case, seen_version, case.version, case.status)
    if seen_status not in act.sources:
        raise ValidationError({"action": [_("案件现在的状态是“%(s)s”，不能“%(a)s”")
                                          % {"s": Status(seen_status).label, "a": str(act.label)}]})
    if data.get("attachments"):
        data["attachments"] = [check_attachment(u) for u in data["attachments"]]
    now = timezone.now()
    note = (data.get("note") or "").strip()
    fields: dict = {}
    event_data: dict = {}
    target = act.target or seen_status
    co_units: list[Unit] | None = None
    follow_up = None
    if action == "reject":
        reason = (data.get("reason") or "").strip()
        duplicate = data.get("duplicate_of")
        if duplicate not in (None, "") and not isinstance(duplicate, Case):
            duplicate = Case.objects.restrict(user, "view").filter(pk=duplicate).first() if user else \
                Case._base_manager.filter(pk=duplicate).first()
            if duplicate is None:
                raise ValidationError({"duplicate_of": [_("重复案件不存在或不在您的管辖范围内")]})
        if not reason:
            raise ValidationError({"reason": [_("请填写不予受理的理由")]})
        # The reason is sealed in full in the event's note; the case keeps its masked copy (core.sealed).
        fields.update(reject_reason=mask_text(reason)[:200], closed_at=now, duplicate_of=duplicate or None)
        note = reason
        event_data["duplicate_of"] = duplicate.number if duplicate else ""
    elif action == "dispatch":
        lead = _unit(data.get("lead_unit"))
        if lead is None:
            raise ValidationError({"lead_unit": [_("请选择主办单位")]})
        co_units = [u for u in (_unit(v) for v in data.get("co_units") or ()) if u is not None and u.pk != lead.pk]
        fields.update(lead_unit=lead, handler=None)
        event_data.update(lead_unit=lead.name, co_units=[u.name for u in co_units])
    elif action == "start":
        fields.update(handler=user)
    elif action == "pause":
        if case.paused_at is not None:
            raise ValidationError({"action": [_("案件已在暂停计时中")]})
        if not note:
            raise ValidationError({"note": [_("请说明等待居民的原因（例如：等待居民提供材料）")]})
        fields.update(paused_at=now)
    elif action == "resume":
        if case.paused_at is None:
            raise ValidationError({"action": [_("案件没有在暂停计时")]})
        fields.update(paused_at=None, paused_total=(case.paused_total or dt.timedelta(0)) + (now - case.paused_at))
        if case.deadline_at:
            fields["deadline_at"] = deadlines.resume_deadline(case.deadline_at, case.paused_at, now)
            event_data["deadline_at"] = timezone.localtime(fields["deadline_at"]).isoformat()
    elif action == "handle":
        if not note:
            raise ValidationError({"note": [_("请填写处置情况")]})
        fields.update(handled_at=now, paused_at=None)
        if case.handler_id is None:
            fields["handler"] = user
    elif action == "verify":
        handler_id = case.handler_id
        if user is not None and handler_id == user.pk:
            raise PermissionDenied(_("核查须由处置人以外的人员进行：您是本案的处置人"))
        fields.update(verified_by=user)
    elif action == "close":
        fields.update(closed_at=now)
    elif action == "satisfaction":
        answer = data.get("answer")
        if answer not in Satisfaction.values:
            raise ValidationError({"answer": [_("请选择居民的回答：满意、基本满意或不满意")]})
        fields.update(satisfaction=answer)
        event_data["answer"] = answer
        if answer == Satisfaction.DISSATISFIED:
            target = Status.REOPENED
            fields.update(reopened_count=F("reopened_count") + 1, closed_at=None, verified_by=None,
                          handled_at=None, escalation_level=Escalation.NONE,
                          deadline_at=deadlines.deadline_for(now, case.category.days_for(case.priority)))
            follow_up = case.lead_unit
    elif action == "escalate":
        if case.escalation_level >= Escalation.STREET:
            raise ValidationError({"action": [_("案件已是街道督办，不能再升级")]})
        level = int(data.get("level") or case.escalation_level + 1)
        fields.update(escalation_level=min(max(level, case.escalation_level + 1), Escalation.STREET))
        event_data["level"] = fields["escalation_level"]
    if act.target is not None or target != seen_status:
        fields["status"] = target

    with transaction.atomic():
        updated = Case._base_manager.filter(pk=case.pk, status=seen_status, version=seen_version).update(
            version=seen_version + 1, updated_at=now, **fields)
        if not updated:
            current = Case._base_manager.filter(pk=case.pk).values("version", "status").first() or {}
            raise CaseConflict(case, seen_version, current.get("version", seen_version), current.get("status", ""))
        if co_units is not None:
            case.co_units.set(co_units)
        _store_attachments(user, case, data.get("attachments") or (), action)
        label = "satisfaction" if action == "satisfaction" else action
        _dirty(case)
        _event(case, label, seen_status, target, user, note=note, data=event_data)
        changes = {"status": [seen_status, target]} if target != seen_status else {}
        changes.update({k: [None, str(v.pk if hasattr(v, "pk") else v)] for k, v in event_data.items()
                        if k in ("lead_unit", "level", "answer")})
        audit.record(f"case_{action}", case, user=user, changes=changes, fields=sorted(fields),
                     username="" if user else "system")
        case = Case._base_manager.select_related("category", "lead_unit").get(pk=case.pk)
        if follow_up is not None:
            # A dissatisfied answer: the case goes back to the unit that handled it.
            Case._base_manager.filter(pk=case.pk, status=Status.REOPENED).update(
                status=Status.DISPATCHED, version=F("version") + 1, handler=None)
            _event(case, "dispatch", Status.REOPENED, Status.DISPATCHED, user,
                   note=_("居民不满意，退回原主办单位重新处置"), data={"lead_unit": follow_up.name, "reopen": True})
            audit.record("case_dispatch", case, user=user,
                         changes={"status": [Status.REOPENED, Status.DISPATCHED]}, username="" if user else "system")
            case = Case._base_manager.select_related("category", "lead_unit").get(pk=case.pk)
    _after(case, action, data)
    return case


def _after(case: Case, action: str, data: dict) -> None:
    """Notifications after a transition (the unit of a dispatched case, the escalation's level)."""
    if action == "dispatch" or (action == "satisfaction" and case.status == Status.DISPATCHED):
        users = list(case.lead_unit.members.all()) if case.lead_unit_id else []
        for unit in case.co_units.all():
            users += list(unit.members.all())
        _notify(users, title=_("新派遣案件：%(n)s %(t)s") % {"n": case.number, "t": case.title},
                body=_("请在期限前处置"), case=case, key=f"case-dispatch:{case.pk}:{case.version}")


def _notify(users, *, title: str, body: str, case: Case, key: str, kind: str = "info") -> None:
    if not users:
        return
    try:
        from notify.services import notify
    except ImportError:
        return
    from django.urls import reverse

    def go():
        notify(users, title=title, body=body, url=reverse("cases:detail", args=[case.pk]), kind=kind,
               dedupe_key=key)

    transaction.on_commit(go)


# --- escalation -------------------------------------------------------------------------------------------------
def _escalation_target(case: Case, now: dt.datetime) -> int:
    """Overdue → grid 督办; one further working day late → community; three → street. Lateness is the working
    time elapsed since the deadline (``deadlines.working_time_between``), not the count of dates crossed."""
    if case.deadline_at is None or case.deadline_at >= now:
        return Escalation.NONE
    late = deadlines.working_time_between(case.deadline_at, now)
    if late >= dt.timedelta(days=3):
        return Escalation.STREET
    if late >= dt.timedelta(days=1):
        return Escalation.COMMUNITY
    return Escalation.GRID


def _supervisors(case: Case, level: int) -> list:
    from django.contrib.auth import get_user_model

    from core.models import Grant

    grants = Grant.objects.filter(role__permissions__codename="escalate_case",
                                  role__permissions__content_type__app_label="cases")
    if level == Escalation.GRID:
        grants = grants.filter(level="grid", grid_id=case.grid_id) | grants.filter(
            level="community", community_id=case.community_id)
    elif level == Escalation.COMMUNITY:
        grants = grants.filter(level="community", community_id=case.community_id)
    else:
        grants = grants.filter(level="street", street_id=case.street_id)
    ids = set(grants.values_list("user_id", flat=True))
    if level == Escalation.GRID:
        ids |= set(Grant.objects.filter(level="grid", grid_id=case.grid_id).values_list("user_id", flat=True))
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True))


def escalate_overdue(now: dt.datetime | None = None, batch: int = 2000) -> int:
    """Raise the 督办 level of overdue, running cases; notify the level's supervisors. Returns the count."""
    now = now or timezone.now()
    count = 0
    qs = (Case._base_manager.filter(status__in=CLOCK_STATUSES, deadline_at__lt=now, paused_at__isnull=True,
                                    escalation_level__lt=Escalation.STREET)
          .select_related("category").order_by("deadline_at")[:batch])
    for case in qs:
        target = _escalation_target(case, now)
        if target <= case.escalation_level:
            continue
        try:
            case = transition(None, case, "escalate", level=target, note=_("超期自动督办"))
        except (CaseConflict, ValidationError):
            continue
        count += 1
        level = Escalation(case.escalation_level)
        _notify(_supervisors(case, level), title=_("%(l)s：%(n)s %(t)s 已超期")
                % {"l": level.label, "n": case.number, "t": case.title},
                body=_("办理期限 %(d)s") % {"d": timezone.localtime(case.deadline_at).strftime("%Y-%m-%d %H:%M")},
                case=case, key=f"case-escalate:{case.pk}:{case.escalation_level}", kind="warning")
    return count


# --- units ------------------------------------------------------------------------------------------------------
def ensure_unit_role():
    """The role a unit member's grant carries (level "self": their units' cases only)."""
    from django.contrib.auth.models import Permission

    from core.models import Role

    role, _created = Role.objects.get_or_create(code=UNIT_ROLE, defaults={
        "name": "处置单位人员", "description": "只能看到并处置派遣给本单位的案件"})
    perms = Permission.objects.filter(content_type__app_label="cases",
                                      codename__in=[p.split(".", 1)[1] for p in UNIT_ROLE_PERMS])
    role.permissions.add(*perms)
    return role


def add_unit_member(actor, unit: Unit, user) -> None:
    """Make ``user`` a member of ``unit`` and give them the unit role (a grant at level "self")."""
    from core.models import Grant

    with transaction.atomic():
        role = ensure_unit_role()
        unit.members.add(user)
        if not Grant.objects.filter(user=user, role=role, level="self").exists():
            Grant.objects.create(user=user, role=role, level="self", reason=f"处置单位：{unit.name}",
                                 granted_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record("unit_member", unit, user=actor, object_type="cases.unit", changes={"member": [None, user.pk]},
                     username="" if actor else "system")
