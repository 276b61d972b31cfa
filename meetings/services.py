"""The one write path of joint meetings and enterprise services.

Every function validates, checks who may act (staff: ``restrict(user, action)`` on the object's place; an
organisation's member: bound to their organisation through ``OrgMember``), writes in one transaction and audits
with ``core.audit``. Refusals are ``ValidationError`` / ``PermissionDenied`` in plain Chinese.

The resolution workflow::

    proposed ──assign──▶ assigned ──progress──▶ in_progress ──submit──▶ submitted ──confirm──▶ done
                                      ▲                                      │
                                      └──────────────reject──────────────────┘

``assign`` gives the owner organisation (others assisting) and the deadline: the end of the N-th working day
after the assignment, on the calendar cases keep (holidays and 调休). ``report_progress`` takes a percentage and
evidence (photos re-encoded without EXIF, PDFs parsed: core.uploads). Only the proposing side confirms (its
members; staff holding ``meetings.confirm_resolution`` on the place confirm for a side without an account).
``escalate_overdue`` raises the 督办 level of overdue open resolutions by elapsed working time, as cases do
(grid → community → street). ``open_meeting`` carries every open resolution of the series onto the meeting's
agenda in a handful of set-based statements (``carry_over``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Max, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, uploads
from core.services import assert_in_scope, require_on
from meetings.choices import OPEN_STATES, MeetingState, NeedState, OrgKind, ResolutionState, UpdateKind
from meetings.models import (
    AgendaItem,
    EnterpriseVisit,
    Evidence,
    GovService,
    InstructorAssignment,
    Invitation,
    Meeting,
    MeetingSeries,
    Minutes,
    Need,
    Organisation,
    OrgGroup,
    OrgMember,
    ProgressUpdate,
    Project,
    Resolution,
    member_org_ids,
)

__all__ = ["EVIDENCE_MAX_BYTES", "OrgData", "add_member", "add_resolution", "assign", "assign_instructor",
           "can_confirm", "can_update", "carry_over", "close_meeting", "confirm", "create_series",
           "escalate_overdue", "escalation_target", "member_org_ids", "need_progress", "need_to_case",
           "open_meeting", "project_progress", "propose_item", "raise_need", "rate_need", "record_attendance",
           "record_visit", "reject", "report_progress", "resolve_need", "save_govservice", "save_group",
           "save_minutes", "save_organisation", "save_project", "schedule_meeting", "submit_done"]

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_KINDS = ("jpeg", "png", "webp", "pdf")


# --- who may act ------------------------------------------------------------------------------------------------
def _can(user, obj, action: str) -> bool:
    return user is not None and type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()


def _actor(user):
    return user if getattr(user, "is_authenticated", False) else None


def _orgs_of(user) -> set[int]:
    return set(member_org_ids(user))


def can_update(user, res: Resolution) -> bool:
    """The owner's or an assisting organisation's member, or staff with ``change`` on the place."""
    if user is None:
        return True
    mine = _orgs_of(user)
    if mine and (res.owner_id in mine or res.assisting.filter(pk__in=mine).exists()):
        return True
    return _can(user, res, "change")


def _proposer_has_accounts(res: Resolution) -> bool:
    return res.proposer_id is not None and OrgMember.objects.filter(organisation_id=res.proposer_id).exists()


def can_confirm(user, res: Resolution) -> bool:
    """The proposing side confirms: its members; staff with ``confirm`` only for a side without an account."""
    if user is None:
        return True
    if res.proposer_id and res.proposer_id in _orgs_of(user):
        return True
    return not _proposer_has_accounts(res) and _can(user, res, "confirm")


def _log(res: Resolution, kind: str, user=None, *, org=None, progress=None, note: str = "", meeting=None,
         at=None) -> ProgressUpdate:
    return ProgressUpdate.objects.create(resolution=res, kind=kind, user=_actor(user), organisation=org,
                                         progress=progress, note=note or "", meeting=meeting,
                                         at=at or timezone.now())


def _acting_org(user, res: Resolution) -> Organisation | None:
    mine = _orgs_of(user)
    for oid in (res.owner_id, res.proposer_id):
        if oid in mine:
            return Organisation.objects.get(pk=oid)
    extra = res.assisting.filter(pk__in=mine).first() if mine else None
    return extra


# --- organisations ----------------------------------------------------------------------------------------------
@dataclass
class OrgData:
    kind: str
    name: str
    community: object = None
    grid: object = None
    compound: object = None
    enterprise: object = None
    floor: int | None = None
    address: str = ""
    contact_name: str = ""
    contact_phone: str | None = None  # None: unchanged
    note: str = ""


def save_organisation(user, data: OrgData, instance: Organisation | None = None) -> Organisation:
    """Add or change an organisation. An enterprise of the registry brings its name, tower and floor; the place
    is the tower's (or the grid's, or the community's). The contact phone is sealed and shown masked."""
    from core.validators import validate_mobile

    errors: dict[str, list] = {}
    if data.kind not in OrgKind.values:
        errors["kind"] = [_("请选择组织类型")]
    name = (data.name or "").strip() or (data.enterprise.name if data.enterprise is not None else "")
    if not name:
        errors["name"] = [_("请填写组织名称")]
    compound = data.compound or (data.enterprise.compound if data.enterprise is not None else None)
    if compound is None and data.grid is None and data.community is None:
        errors["community"] = [_("请选择组织所在的社区、网格或楼宇")]
    phone = (data.contact_phone or "").strip()
    if phone:
        try:
            phone = validate_mobile(phone).value
        except ValidationError:
            errors["contact_phone"] = [_("联系电话“%(p)s”不是有效的手机号") % {"p": phone[:3] + "…"}]
    if errors:
        raise ValidationError(errors)
    if instance is not None:
        require_on(user, instance, "change")
    with transaction.atomic():
        org = instance or Organisation()
        grid = compound.grid if compound is not None else data.grid
        community = grid.community if grid is not None else data.community
        org.kind, org.name, org.enterprise, org.compound = data.kind, name[:128], data.enterprise, compound
        org.grid, org.community, org.street_id = grid, community, community.street_id
        floor = data.floor
        if floor is None and data.enterprise is not None:
            floor = data.enterprise.floor
        org.floor = floor
        org.address, org.contact_name, org.note = data.address[:200], data.contact_name[:64], data.note
        if data.contact_phone is not None:
            org.set_contact_phone(phone)
        if instance is not None:
            org.version += 1
        try:
            with transaction.atomic():
                org.save()
        except IntegrityError:
            raise ValidationError({"enterprise": [_("该企业已登记为组织")]}) from None
        assert_in_scope(user, org, "change" if instance else "add")
        audit.record("change" if instance else "add", org, user=_actor(user),
                     fields=["contact_phone"] if phone else [])
    return org


def add_member(user, org: Organisation, member, title: str = "") -> OrgMember:
    """Bind ``member`` (a user account) to ``org``: they then see the organisation's work on the member pages."""
    require_on(user, org, "change")
    with transaction.atomic():
        link, _created = OrgMember.objects.get_or_create(user=member, organisation=org,
                                                         defaults={"title": title[:64]})
        audit.record("member", org, user=_actor(user), changes={"member": [None, member.pk]})
    return link


def save_group(user, *, name: str, community, grid=None, kind: str = "party_community", description: str = "",
               members: Iterable[Organisation] = ()) -> OrgGroup:
    """A grouping of organisations on a community (and the grid its work sits in: the tower's, so that the grid's
    worker and instructor see it)."""
    if not (name or "").strip():
        raise ValidationError({"name": [_("请填写名称")]})
    with transaction.atomic():
        group = OrgGroup.objects.create(name=name.strip()[:128], kind=kind, description=description,
                                        community=community, street_id=community.street_id, grid=grid)
        group.members.set(list(members))
        assert_in_scope(user, group, "add")
        audit.record("add", group, user=_actor(user))
    return group


def save_project(user, *, group: OrgGroup, name: str, description: str = "", lead=None, starts_on=None,
                 ends_on=None) -> Project:
    if not (name or "").strip():
        raise ValidationError({"name": [_("请填写项目名称")]})
    with transaction.atomic():
        project = Project(group=group, name=name.strip()[:128], description=description, lead=lead,
                          starts_on=starts_on, ends_on=ends_on)
        project.place_from(group)
        project.save()
        assert_in_scope(user, project, "add")
        audit.record("add", project, user=_actor(user))
    return project


def project_progress(project_ids: Iterable[int]) -> dict[int, dict]:
    """Per project: its resolutions' progress rolled up, weighted (a done one counts 100, cancelled ones not at
    all), with the counts; one GROUP BY."""
    effective = Case(When(state=ResolutionState.DONE, then=Value(100)), default=F("progress"),
                     output_field=IntegerField())
    rows = (Resolution._base_manager.filter(project_id__in=list(project_ids))
            .exclude(state=ResolutionState.CANCELLED).values("project_id")
            .annotate(w=Sum("weight"), wp=Sum(F("weight") * effective),
                      done=Sum(Case(When(state=ResolutionState.DONE, then=1), default=0)),
                      total=Sum(Value(1))).order_by())
    out = {}
    for r in rows:
        out[r["project_id"]] = {"percent": round((r["wp"] or 0) / r["w"]) if r["w"] else 0, "done": r["done"],
                                "total": r["total"]}
    return out


# --- series and meetings ----------------------------------------------------------------------------------------
def create_series(user, *, name: str, community, grid=None, convener=None, organisations=(), description: str = "",
                  deadline_days: int = 10) -> MeetingSeries:
    if not (name or "").strip():
        raise ValidationError({"name": [_("请填写联席会议名称")]})
    with transaction.atomic():
        s = MeetingSeries(name=name.strip()[:128], description=description, convener=convener,
                          deadline_days=deadline_days, community=community, street_id=community.street_id, grid=grid)
        s.save()
        s.organisations.set(list(organisations))
        assert_in_scope(user, s, "add")
        audit.record("add", s, user=_actor(user))
    return s


def schedule_meeting(user, series: MeetingSeries, *, starts_at: dt.datetime, ends_at: dt.datetime, title: str,
                     location: str = "", room=None, invite: Iterable[Organisation] | None = None,
                     now: dt.datetime | None = None) -> Meeting:
    """The next meeting of the series; a room is booked through the shared resources (never twice) in the name of
    the convener's booking person."""
    require_on(user, series, "convene", _("您没有召开该联席会议的权限"))
    errors: dict[str, list] = {}
    if not (title or "").strip():
        errors["title"] = [_("请填写会议议题概要")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("结束时间须晚于开始时间")]
    if room is not None and (series.convener is None or series.convener.booker_id is None):
        errors["room"] = [_("召集单位未登记会议室预约人，无法预约会议室；请先在召集单位资料中填写预约人")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        booking = None
        if room is not None:
            from resources import services as res_services

            booking = res_services.book(series.convener.booker, room, starts_at, ends_at, actor=user,
                                        channel="meetings", now=now)
        number = (Meeting._base_manager.filter(series=series).aggregate(n=Max("number"))["n"] or 0) + 1
        meeting = Meeting(series=series, number=number, title=title.strip()[:200], starts_at=starts_at,
                          ends_at=ends_at, location=location or (room.name if room else ""), room=room,
                          booking=booking)
        meeting.place_from(series)
        meeting.save()
        orgs = list(invite) if invite is not None else list(series.organisations.all())
        Invitation.objects.bulk_create([Invitation(meeting=meeting, organisation=o) for o in orgs])
        audit.record("add", meeting, user=_actor(user), changes={"invited": len(orgs)})
    return meeting


def carry_over(meeting: Meeting, *, user=None, now: dt.datetime | None = None) -> int:
    """Every open resolution of the series decided before this meeting, not yet on its agenda, becomes an agenda
    item of it (and a step of its timeline): two bulk inserts over one read of ids. Returns the count."""
    now = now or timezone.now()
    already = AgendaItem.objects.filter(meeting=meeting, carried_from__isnull=False).values("carried_from_id")
    rows = list(Resolution._base_manager.filter(series_id=meeting.series_id, state__in=OPEN_STATES,
                                                meeting__number__lt=meeting.number)
                .exclude(pk__in=already).order_by("deadline_at", "id")
                .values_list("pk", "number", "title", "owner__name", "progress"))
    if not rows:
        return 0
    items, steps = [], []
    for n, (pk, number, title, owner, progress) in enumerate(rows, start=1):
        owner_text = owner or _("未交办")
        items.append(AgendaItem(meeting=meeting, order=n, carried_from_id=pk,
                                title=(_("【上次未办结】%(n)s %(t)s") % {"n": number, "t": title})[:200],
                                description=_("责任单位：%(o)s；进度 %(p)d%%") % {"o": owner_text, "p": progress}))
        steps.append(ProgressUpdate(resolution_id=pk, kind=UpdateKind.CARRIED, at=now, meeting=meeting,
                                    user=_actor(user),
                                    note=_("转入第%(n)d次会议议程") % {"n": meeting.number}))
    AgendaItem.objects.bulk_create(items, batch_size=1000)
    ProgressUpdate.objects.bulk_create(steps, batch_size=1000)
    return len(rows)


def open_meeting(user, meeting: Meeting, now: dt.datetime | None = None) -> Meeting:
    """Open the meeting: its state, and every open item of the series carried onto its agenda."""
    require_on(user, meeting, "change")
    now = now or timezone.now()
    with transaction.atomic():
        # The claim is the conditional update (a row lock on PostgreSQL, the write lock on SQLite): of two people
        # opening the same meeting at once, one opens it and carries the items over, the other is told.
        claimed = Meeting._base_manager.filter(pk=meeting.pk, state=MeetingState.PLANNED).update(
            state=MeetingState.OPEN, opened_at=now, version=F("version") + 1)
        if not claimed:
            raise ValidationError(_("会议已经开始或已经结束"))
        locked = Meeting._base_manager.get(pk=meeting.pk)
        count = carry_over(locked, user=user, now=now)
        Meeting._base_manager.filter(pk=meeting.pk).update(carried=count)
        audit.record("open", locked, user=_actor(user), changes={"carried": count})
    meeting.refresh_from_db()
    return meeting


def close_meeting(user, meeting: Meeting, now: dt.datetime | None = None) -> Meeting:
    require_on(user, meeting, "change")
    if meeting.state == MeetingState.HELD:
        raise ValidationError(_("会议已经结束"))
    now = now or timezone.now()
    with transaction.atomic():
        Meeting._base_manager.filter(pk=meeting.pk).update(state=MeetingState.HELD, held_at=now,
                                                           opened_at=meeting.opened_at or now,
                                                           version=F("version") + 1)
        audit.record("close", meeting, user=_actor(user))
    meeting.refresh_from_db()
    return meeting


def record_attendance(user, meeting: Meeting, rows: dict[int, tuple[bool | None, str]]) -> int:
    """``rows``: {invitation id: (attended, the names of who came)}; other meetings' invitations are ignored."""
    require_on(user, meeting, "change")
    with transaction.atomic():
        n = 0
        for inv in Invitation.objects.filter(meeting=meeting, pk__in=list(rows)):
            attended, names = rows[inv.pk]
            inv.attended, inv.attendees = attended, (names or "")[:200]
            inv.save(update_fields=["attended", "attendees"])
            n += 1
        audit.record("attendance", meeting, user=_actor(user), changes={"rows": n})
    return n


def invite(user, meeting: Meeting, org: Organisation) -> Invitation:
    require_on(user, meeting, "change")
    with transaction.atomic():
        inv, _created = Invitation.objects.get_or_create(meeting=meeting, organisation=org)
        audit.record("invite", meeting, user=_actor(user), changes={"organisation": [None, org.pk]})
    return inv


def member_may_propose(user, meeting: Meeting) -> Organisation | None:
    """The organisation an organisation's member proposes for: one of theirs invited to the meeting."""
    ids = member_org_ids(user)
    if not ids:
        return None
    inv = Invitation.objects.filter(meeting=meeting, organisation_id__in=ids).select_related("organisation").first()
    return inv.organisation if inv else None


def propose_item(user, meeting: Meeting, *, title: str, description: str = "", case=None, need=None,
                 org: Organisation | None = None) -> AgendaItem:
    """An agenda item proposed by any member: staff with ``propose`` on the meeting's place, or a member of an
    invited organisation. It may point to a case or an enterprise need (both within the proposer's reach)."""
    member_org = member_may_propose(user, meeting) if user is not None else None
    if member_org is None:
        require_on(user, meeting, "propose", _("您不是该会议的参会单位成员，不能提出议题"))
    if meeting.state == MeetingState.HELD:
        raise ValidationError(_("会议已经结束，请提到下一次会议"))
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": [_("请填写议题")]})
    if case is not None and member_org is None and user is not None:
        from cases.models import Case as CaseModel

        if not CaseModel.objects.restrict(user, "view").filter(pk=case.pk).exists():
            raise ValidationError({"case": [_("该案件不在您的管辖范围内")]})
    if need is not None:
        visible = (Need.objects.restrict(user, "view") if member_org is None and user is not None else
                   Need.objects.filter(enterprise__organisation=member_org) if member_org else Need.objects.all())
        if not visible.filter(pk=need.pk).exists():
            raise ValidationError({"need": [_("该企业诉求不在您的范围内")]})
        if case is None and need.case_id:
            case = need.case
    with transaction.atomic():
        order = (AgendaItem.objects.filter(meeting=meeting).aggregate(n=Max("order"))["n"] or 0) + 1
        item = AgendaItem.objects.create(meeting=meeting, order=order, title=title[:200], description=description,
                                         proposed_by=_actor(user), proposing_org=member_org or org, case=case,
                                         need=need)
        audit.record("propose", item, user=_actor(user), place=meeting.audit_place)
    return item


def save_minutes(user, meeting: Meeting, text: str) -> Minutes:
    require_on(user, meeting, "change")
    with transaction.atomic():
        minutes, _created = Minutes.objects.get_or_create(meeting=meeting)
        minutes.text, minutes.recorder = text or "", _actor(user)
        minutes.save()
        audit.record("minutes", meeting, user=_actor(user))
    return minutes


# --- resolutions --------------------------------------------------------------------------------------------------
def _next_number(meeting: Meeting) -> str:
    n = Resolution._base_manager.filter(meeting=meeting).count() + 1
    return f"{meeting.starts_at:%Y}-{meeting.series_id}-{meeting.number}-{n:02d}"


def add_resolution(user, meeting: Meeting, *, title: str, detail: str = "", owner: Organisation | None = None,
                   assisting: Iterable[Organisation] = (), proposer: Organisation | None = None,
                   deadline_days: int | None = None, project: Project | None = None, weight: int = 1,
                   agenda_item: AgendaItem | None = None, now: dt.datetime | None = None) -> Resolution:
    """A resolution of the meeting; with an owner it is assigned at once."""
    require_on(user, meeting, "change")
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": [_("请填写决议事项")]})
    if deadline_days is not None and not 1 <= deadline_days <= 250:
        raise ValidationError({"deadline_days": [_("办理时限须在1到250个工作日之间")]})
    now = now or timezone.now()
    with transaction.atomic():
        res = Resolution(meeting=meeting, series_id=meeting.series_id, title=title[:200], detail=detail,
                         proposer=proposer, project=project, weight=max(1, int(weight or 1)),
                         agenda_item=agenda_item, number=_next_number(meeting),
                         deadline_days=deadline_days or meeting.series.deadline_days)
        res.place_from(meeting)
        res.save()
        _log(res, UpdateKind.PROPOSED, user, org=proposer, meeting=meeting, at=now,
             note=_("第%(n)d次会议形成决议") % {"n": meeting.number})
        audit.record("add", res, user=_actor(user))
        if owner is not None:
            res = assign(user, res, owner=owner, assisting=assisting, deadline_days=res.deadline_days, now=now)
    return res


def assign(user, res: Resolution, *, owner: Organisation, assisting: Iterable[Organisation] = (),
           deadline_days: int | None = None, now: dt.datetime | None = None) -> Resolution:
    """Give the resolution to its owner organisation; the deadline is the end of the N-th working day after now."""
    from cases import deadlines

    require_on(user, res, "change")
    if not res.is_open:
        raise ValidationError(_("该决议已办结或撤销，不能再交办"))
    days = deadline_days or res.deadline_days
    if not 1 <= days <= 250:
        raise ValidationError({"deadline_days": [_("办理时限须在1到250个工作日之间")]})
    now = now or timezone.now()
    assisting = [o for o in assisting if o.pk != owner.pk]
    with transaction.atomic():
        res.owner, res.deadline_days, res.assigned_at = owner, days, now
        res.deadline_at = deadlines.deadline_for(now, days)
        if res.state == ResolutionState.PROPOSED:
            res.state = ResolutionState.ASSIGNED
        res.escalation_level = 0
        res.version += 1
        res.save()
        res.assisting.set(assisting)
        _log(res, UpdateKind.ASSIGNED, user, org=owner, at=now,
             note=_("责任单位：%(o)s；协办：%(a)s；%(d)d个工作日内办结（%(t)s前）")
             % {"o": owner.name, "a": "、".join(o.name for o in assisting) or _("无"), "d": days,
                "t": timezone.localtime(res.deadline_at).strftime("%Y-%m-%d")})
        assert_in_scope(user, res, "change")
        audit.record("assign", res, user=_actor(user), changes={"owner": [None, owner.pk], "days": days})
        _tell_org(owner, _("新交办决议：%(t)s") % {"t": res.title},
                  _("办理期限 %(d)s") % {"d": timezone.localtime(res.deadline_at).strftime("%Y-%m-%d")}, res,
                  key=f"meetings-assign:{res.pk}:{owner.pk}")
    return res


def _store_evidence(update: ProgressUpdate, files: Iterable) -> list[Evidence]:
    checked = [f if isinstance(f, uploads.CheckedUpload) else uploads.check_upload(
        f, field="evidence", max_bytes=EVIDENCE_MAX_BYTES, kinds=EVIDENCE_KINDS, label=uploads.ATTACHMENT)
        for f in files]
    out = []
    for c in checked:
        ev = Evidence(update=update, name=c.name[:200], content_type=c.content_type, size=c.size)
        ev.file.save(f"{uuid.uuid4().hex}.{c.ext}", c.content(), save=False)
        ev.save()
        out.append(ev)
    return out


def report_progress(user, res: Resolution, *, progress: int, note: str = "", files: Iterable = (),
                    now: dt.datetime | None = None) -> ProgressUpdate:
    """A progress update by the owner (or an assisting organisation, or staff) with its evidence."""
    if not can_update(user, res):
        raise PermissionDenied(_("只有责任单位、协办单位或管辖范围内的工作人员可以填报进展"))
    if res.state not in (ResolutionState.ASSIGNED, ResolutionState.IN_PROGRESS):
        raise ValidationError(_("该决议当前状态为“%(s)s”，不能填报进展") % {"s": res.get_state_display()})
    try:
        progress = int(progress)
    except (TypeError, ValueError):
        raise ValidationError({"progress": [_("进度请填0到100之间的整数")]}) from None
    if not 0 <= progress <= 100:
        raise ValidationError({"progress": [_("进度请填0到100之间的整数")]})
    if not (note or "").strip():
        raise ValidationError({"note": [_("请说明这次的进展")]})
    now = now or timezone.now()
    files = list(files)
    with transaction.atomic():
        update = _log(res, UpdateKind.PROGRESS, user, org=_acting_org(user, res), progress=progress, note=note,
                      at=now)
        _store_evidence(update, files)
        Resolution._base_manager.filter(pk=res.pk).update(state=ResolutionState.IN_PROGRESS, progress=progress,
                                                          version=F("version") + 1, updated_at=now)
        audit.record("progress", res, user=_actor(user), changes={"progress": [res.progress, progress],
                                                                   "evidence": len(files)})
    res.refresh_from_db()
    return update


def submit_done(user, res: Resolution, *, note: str = "", files: Iterable = (),
                now: dt.datetime | None = None) -> Resolution:
    """The owner reports it done: it waits for the proposing side's confirmation."""
    if not can_update(user, res):
        raise PermissionDenied(_("只有责任单位、协办单位或管辖范围内的工作人员可以报请办结"))
    if res.state not in (ResolutionState.ASSIGNED, ResolutionState.IN_PROGRESS):
        raise ValidationError(_("该决议当前状态为“%(s)s”，不能报请办结") % {"s": res.get_state_display()})
    if not (note or "").strip():
        raise ValidationError({"note": [_("请说明办理结果")]})
    now = now or timezone.now()
    with transaction.atomic():
        update = _log(res, UpdateKind.SUBMITTED, user, org=_acting_org(user, res), progress=100, note=note, at=now)
        _store_evidence(update, list(files))
        Resolution._base_manager.filter(pk=res.pk).update(state=ResolutionState.SUBMITTED, progress=100,
                                                          submitted_at=now, version=F("version") + 1)
        audit.record("submit", res, user=_actor(user))
        if res.proposer_id:
            _tell_org(res.proposer, _("决议待确认办结：%(t)s") % {"t": res.title}, note, res,
                      key=f"meetings-submit:{res.pk}:{now:%Y%m%d%H%M%S}")
    res.refresh_from_db()
    return res


def confirm(user, res: Resolution, *, note: str = "", review_on: dt.date | None = None,
            now: dt.datetime | None = None) -> Resolution:
    """The proposing side confirms: only then does the resolution count as done (an optional review date)."""
    if not can_confirm(user, res):
        raise PermissionDenied(_("只有提出方可以确认办结"))
    if res.state != ResolutionState.SUBMITTED:
        raise ValidationError(_("责任单位尚未报请办结，不能确认"))
    now = now or timezone.now()
    with transaction.atomic():
        _log(res, UpdateKind.CONFIRMED, user, org=_acting_org(user, res) or res.proposer, progress=100,
             note=note or _("提出方确认办结"), at=now)
        Resolution._base_manager.filter(pk=res.pk).update(state=ResolutionState.DONE, done_at=now, progress=100,
                                                          review_on=review_on, version=F("version") + 1)
        audit.record("confirm", res, user=_actor(user))
    res.refresh_from_db()
    return res


def reject(user, res: Resolution, *, note: str, now: dt.datetime | None = None) -> Resolution:
    """The proposing side sends it back: not done yet, with why."""
    if not can_confirm(user, res):
        raise PermissionDenied(_("只有提出方可以退回"))
    if res.state != ResolutionState.SUBMITTED:
        raise ValidationError(_("责任单位尚未报请办结，无需退回"))
    if not (note or "").strip():
        raise ValidationError({"note": [_("请说明退回的理由")]})
    now = now or timezone.now()
    with transaction.atomic():
        _log(res, UpdateKind.REJECTED, user, org=_acting_org(user, res) or res.proposer, note=note, at=now)
        Resolution._base_manager.filter(pk=res.pk).update(state=ResolutionState.IN_PROGRESS, submitted_at=None,
                                                          version=F("version") + 1)
        audit.record("reject", res, user=_actor(user))
        if res.owner_id:
            _tell_org(res.owner, _("决议被退回：%(t)s") % {"t": res.title}, note, res,
                      key=f"meetings-reject:{res.pk}:{now:%Y%m%d%H%M%S}")
    res.refresh_from_db()
    return res


def escalation_target(deadline_at: dt.datetime | None, now: dt.datetime) -> int:
    """The 督办 level an open resolution is due: the levels of cases, by working time past its deadline."""
    from cases import deadlines
    from cases.models import Escalation

    if deadline_at is None or deadline_at >= now:
        return Escalation.NONE
    late = deadlines.working_time_between(deadline_at, now)
    if late >= dt.timedelta(days=3):
        return Escalation.STREET
    if late >= dt.timedelta(days=1):
        return Escalation.COMMUNITY
    if late > dt.timedelta(0):
        return Escalation.GRID
    return Escalation.NONE


def _raises(rows, now: dt.datetime) -> dict[int, list[int]]:
    """{level: ids} of the rows ``(pk, deadline_at, level)`` that are due a higher 督办 level at ``now``."""
    raised: dict[int, list[int]] = {}
    for pk, deadline_at, level in rows:
        target = escalation_target(deadline_at, now)
        if target > level:
            raised.setdefault(target, []).append(pk)
    return raised


def _supervisors(res: Resolution | Need, level: int, codename: str = "change_resolution") -> list:
    from django.contrib.auth import get_user_model

    from cases.models import Escalation
    from core.models import Grant

    grants = Grant.objects.filter(role__permissions__codename=codename,
                                  role__permissions__content_type__app_label="meetings")
    if level == Escalation.GRID:
        q = Q(level="community", community_id=res.community_id)
        if res.grid_id:
            q |= Q(level="grid", grid_id=res.grid_id)
    elif level == Escalation.COMMUNITY:
        q = Q(level="community", community_id=res.community_id)
    else:
        q = Q(level="street", street_id=res.street_id)
    ids = set(grants.filter(q).values_list("user_id", flat=True))
    if level == Escalation.GRID and res.grid_id:  # and the grid's own workers, as cases do
        ids |= set(Grant.objects.filter(level="grid", grid_id=res.grid_id).values_list("user_id", flat=True))
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True))


def escalate_overdue(now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Raise the 督办 level of overdue open resolutions (grid → community → street by working time past the
    deadline); the level's supervisors and the owner are told. Returns how many were raised."""
    from cases.models import Escalation

    now = now or timezone.now()
    rows = list(Resolution._base_manager.filter(state__in=OPEN_STATES, deadline_at__lt=now,
                                                escalation_level__lt=Escalation.STREET)
                .exclude(state=ResolutionState.SUBMITTED)
                .order_by("deadline_at").values_list("pk", "deadline_at", "escalation_level")[:batch])
    raised = _raises(rows, now)
    count = 0
    for level, ids in raised.items():
        with transaction.atomic():
            n = Resolution._base_manager.filter(pk__in=ids, escalation_level__lt=level,
                                                state__in=OPEN_STATES).update(escalation_level=level)
            label = Escalation(level).label
            ProgressUpdate.objects.bulk_create([
                ProgressUpdate(resolution_id=pk, kind=UpdateKind.ESCALATED, at=now,
                               note=_("超期自动%(l)s") % {"l": label}) for pk in ids])
            audit.record("escalate", user=None, username="system", object_type="meetings.resolution",
                         object_id=f"{len(ids)} rows", changes={"level": level, "ids": ids[:50]})
            count += n
        for res in Resolution._base_manager.filter(pk__in=ids).select_related("owner")[:200]:
            title = _("%(l)s：决议“%(t)s”已超期") % {"l": label, "t": res.title}
            body = _("办理期限 %(d)s") % {"d": timezone.localtime(res.deadline_at).strftime("%Y-%m-%d %H:%M")}
            _tell(_supervisors(res, level), title, body, res, key=f"meetings-escalate:{res.pk}:{level}")
            if res.owner_id:
                _tell_org(res.owner, title, body, res, key=f"meetings-escalate-owner:{res.pk}:{level}")
    return count


def escalate_overdue_needs(now: dt.datetime | None = None, batch: int = 5000) -> int:
    """The enterprises' needs, tracked like cases: an open need past its deadline rises grid → community → street
    by working time late (the levels of resolutions and cases); the level's supervisors and the handler are told."""
    from django.urls import reverse

    from cases.models import Escalation
    from notify.services import notify

    now = now or timezone.now()
    rows = list(Need._base_manager.filter(state__in=[NeedState.OPEN, NeedState.IN_PROGRESS], deadline_at__lt=now,
                                          escalation_level__lt=Escalation.STREET)
                .order_by("deadline_at").values_list("pk", "deadline_at", "escalation_level")[:batch])
    raised = _raises(rows, now)
    count = 0
    for level, ids in raised.items():
        with transaction.atomic():
            count += Need._base_manager.filter(pk__in=ids, escalation_level__lt=level,
                                               state__in=[NeedState.OPEN, NeedState.IN_PROGRESS]).update(
                escalation_level=level)
            audit.record("escalate", user=None, username="system", object_type="meetings.need",
                         object_id=f"{len(ids)} rows", changes={"level": level, "ids": ids[:50]})
        label = Escalation(level).label
        for need in Need._base_manager.filter(pk__in=ids).select_related("enterprise", "handler")[:200]:
            title = _("%(l)s：企业诉求“%(t)s”已超期") % {"l": label, "t": need.title}
            body = _("%(e)s，办理期限 %(d)s") % {
                "e": need.enterprise.name, "d": timezone.localtime(need.deadline_at).strftime("%Y-%m-%d %H:%M")}
            users = _supervisors(need, level, "change_need")
            if need.handler_id and need.handler.is_active and need.handler not in users:
                users.append(need.handler)
            if users:
                notify(users, title=title, body=body, url=reverse("meetings:need", args=[need.pk]), kind="warning",
                       dedupe_key=f"meetings-need-escalate:{need.pk}:{level}")
    return count


def _tell(users, title: str, body: str, res: Resolution, key: str) -> None:
    from django.urls import reverse

    from notify.services import notify

    if users:
        notify(users, title=title, body=body, url=reverse("meetings:resolution", args=[res.pk]), kind="warning",
               dedupe_key=key)


def _tell_org(org: Organisation, title: str, body: str, res: Resolution, key: str) -> None:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from notify.services import notify

    users = list(get_user_model().objects.filter(org_memberships__organisation=org, is_active=True))
    if users:
        notify(users, title=title, body=body or "", url=reverse("meetings:my_resolution", args=[res.pk]),
               dedupe_key=key)


# --- enterprise services ------------------------------------------------------------------------------------------
def _require_enterprise(user, enterprise, perm: str) -> None:
    """Staff acting on an enterprise: it is in their places and they hold ``perm`` there."""
    if user is None:
        return
    from core.scope import scope_for
    from people.models import Enterprise

    if not Enterprise.objects.restrict(user, "view").filter(pk=enterprise.pk).exists():
        raise PermissionDenied(_("该企业不在您的管辖范围内"))
    places = scope_for(user).places_for(perm)
    if places is None or not (enterprise.grid_id in places.grids or enterprise.community_id in places.communities
                              or enterprise.street_id in places.streets):
        raise PermissionDenied(_("您没有此项权限"))


def assign_instructor(user, enterprise, person, *, role: str = InstructorAssignment.Role.INSTRUCTOR,
                      since: dt.date | None = None) -> InstructorAssignment:
    """The instructor (or grid worker) now serving the enterprise; the previous one of that role ends today."""
    _require_enterprise(user, enterprise, "meetings.add_instructorassignment")
    if role not in InstructorAssignment.Role.values:
        raise ValidationError({"role": [_("请选择服务身份")]})
    today = since or timezone.localdate()
    with transaction.atomic():
        InstructorAssignment.objects.filter(enterprise=enterprise, role=role, until__isnull=True).update(
            until=today)
        a = InstructorAssignment(enterprise=enterprise, user=person, role=role, since=today)
        a.place_from(enterprise)
        a.save()
        audit.record("assign", a, user=_actor(user))
    from notify.services import notify

    notify([person], title=_("您被安排服务企业：%(e)s") % {"e": enterprise.name}, dedupe_key=f"mt-instr:{a.pk}")
    return a


def record_visit(user, enterprise, *, visited_on: dt.date, met: str = "", note: str = "",
                 needs: Iterable[tuple[str, str, str]] = ()) -> EnterpriseVisit:
    """A visit to an enterprise and the needs it heard: ``needs`` of (category, title, detail)."""
    _require_enterprise(user, enterprise, "meetings.add_enterprisevisit")
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": [_("走访日期不能晚于今天")]})
    with transaction.atomic():
        visit = EnterpriseVisit(enterprise=enterprise, visitor=_actor(user), visited_on=visited_on, met=met[:64],
                                note=note)
        visit.place_from(enterprise)
        visit.save()
        for category, title, detail in needs:
            raise_need(user, enterprise, category=category, title=title, detail=detail, visit=visit,
                       raised_on=visited_on, check=False)
        audit.record("add", visit, user=_actor(user))
    return visit


def raise_need(user, enterprise, *, category: str, title: str, detail: str = "", visit=None,
               raised_on: dt.date | None = None, deadline_days: int = 10, check: bool = True) -> Need:
    """A need of the enterprise, by staff (``add_need`` on its place) or by the enterprise's own member."""
    from cases import deadlines
    from meetings.choices import NeedCategory

    member = user is not None and Organisation.objects.filter(enterprise=enterprise,
                                                              pk__in=member_org_ids(user)).exists()
    if check and not member:
        _require_enterprise(user, enterprise, "meetings.add_need")
    errors = {}
    if category not in NeedCategory.values:
        errors["category"] = [_("请选择诉求类别")]
    if not (title or "").strip():
        errors["title"] = [_("请用一句话写明企业的诉求")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        need = Need(enterprise=enterprise, visit=visit, compound_id=enterprise.compound_id, floor=enterprise.floor,
                    category=category, title=title.strip()[:200], detail=detail, created_by=_actor(user),
                    raised_on=raised_on or timezone.localdate(), deadline_at=deadlines.deadline_for(now, deadline_days))
        need.place_from(enterprise)
        need.save()
        audit.record("add", need, user=_actor(user))
    return need


def _need_actor(user, need: Need) -> None:
    require_on(user, need, "change")


def need_progress(user, need: Need, *, note: str) -> Need:
    _need_actor(user, need)
    if need.state not in (NeedState.OPEN, NeedState.IN_PROGRESS):
        raise ValidationError(_("该诉求已办结"))
    with transaction.atomic():
        need.state, need.handler = NeedState.IN_PROGRESS, _actor(user) or need.handler
        if note:
            need.resolution_note = note
        need.version += 1
        need.save()
        audit.record("progress", need, user=_actor(user))
    return need


def resolve_need(user, need: Need, *, note: str, now: dt.datetime | None = None) -> Need:
    _need_actor(user, need)
    if need.state in (NeedState.RESOLVED, NeedState.CLOSED):
        raise ValidationError(_("该诉求已办结"))
    if not (note or "").strip():
        raise ValidationError({"note": [_("请写明办理结果")]})
    with transaction.atomic():
        need.state, need.resolved_at, need.resolution_note = NeedState.RESOLVED, now or timezone.now(), note
        need.handler = _actor(user) or need.handler
        need.version += 1
        need.save()
        audit.record("resolve", need, user=_actor(user))
        org = Organisation.objects.filter(enterprise_id=need.enterprise_id).first()
        if org is not None:
            from django.contrib.auth import get_user_model
            from django.urls import reverse

            from notify.services import notify

            notify(list(get_user_model().objects.filter(org_memberships__organisation=org)),
                   title=_("您的诉求已办结，请评价：%(t)s") % {"t": need.title},
                   url=reverse("meetings:my_need", args=[need.pk]), dedupe_key=f"mt-need-done:{need.pk}")
    return need


def need_to_case(user, need: Need) -> Need:
    """The need becomes a case (channel 企业诉求) of the cases module, in the tower; the need follows it."""
    from cases import services as cases_services
    from cases.models import CaseCategory

    _need_actor(user, need)
    if need.case_id:
        raise ValidationError(_("该诉求已转为案件"))
    if need.state in (NeedState.RESOLVED, NeedState.CLOSED):
        raise ValidationError(_("该诉求已办结，无需转为案件"))
    code = "enterprise-policy" if need.category in ("policy", "permits", "hiring") else "enterprise-environment"
    category = (CaseCategory.objects.filter(code=code, is_active=True).first()
                or CaseCategory.objects.filter(code__startswith="enterprise", is_active=True).first())
    if category is None:
        raise ValidationError(_("案件类别“企业诉求”未启用，请联系管理员"))
    with transaction.atomic():
        case = cases_services.report(user, channel="enterprise", category=category,
                                     title=f"{need.enterprise.name}：{need.title}"[:100],
                                     description=need.detail or need.title, place=need.enterprise.compound)
        need.case, need.state = case, NeedState.CASE
        need.version += 1
        need.save()
        audit.record("to_case", need, user=_actor(user), changes={"case": [None, case.pk]})
    return need


def rate_need(user, need: Need, answer: str) -> Need:
    """The enterprise's satisfaction: its own member answers, or staff record the answer given on a visit."""
    if answer not in ("satisfied", "basic", "dissatisfied"):
        raise ValidationError({"satisfaction": [_("请选择满意、基本满意或不满意")]})
    member = user is not None and Organisation.objects.filter(enterprise_id=need.enterprise_id,
                                                              pk__in=member_org_ids(user)).exists()
    if not member:
        _need_actor(user, need)
    if need.state not in (NeedState.RESOLVED, NeedState.CASE, NeedState.CLOSED):
        raise ValidationError(_("诉求办结后才能评价"))
    with transaction.atomic():
        Need._base_manager.filter(pk=need.pk).update(satisfaction=answer, version=F("version") + 1)
        audit.record("satisfaction", need, user=_actor(user), changes={"satisfaction": answer})
    need.refresh_from_db()
    return need


def save_govservice(user, *, compound, name: str, department: str, starts: dt.time, ends: dt.time,
                    counter: str = "", on_date: dt.date | None = None, weekdays: str = "",
                    needs_appointment: bool = False, appointment=None) -> GovService:
    errors = {}
    if not (name or "").strip():
        errors["name"] = [_("请填写服务事项")]
    if not (department or "").strip():
        errors["department"] = [_("请填写办理部门")]
    if ends <= starts:
        errors["ends"] = [_("结束时间须晚于开始时间")]
    if not on_date and not weekdays:
        errors["on_date"] = [_("请填写日期或每周的固定日")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        g = GovService(compound=compound, name=name.strip()[:128], department=department.strip()[:128],
                       counter=counter[:64], on_date=on_date, weekdays=weekdays, starts=starts, ends=ends,
                       needs_appointment=needs_appointment, appointment=appointment,
                       grid_id=compound.grid_id, community_id=compound.community_id, street_id=compound.street_id)
        g.save()
        assert_in_scope(user, g, "add")
        audit.record("add", g, user=_actor(user))
    return g
