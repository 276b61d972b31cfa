"""The one write path of fieldwork: visits, change requests, their review and application to the registry.

* ``create_change_request`` (the contract other apps use: feedback, the API) validates a proposed change the way the
  people forms do (``people.services.clean_person_data``, ``core.validators``), seals personal numbers
  (``core.crypto``: ``id_number`` / ``phone`` in the payload become ``*_enc`` + ``*_masked``) and records a
  before/after snapshot for the reviewer's diff.
* ``submit_visit`` records a grid worker's visit, idempotent on the client-generated ``client_id`` (the unique
  constraint decides, inside a savepoint; a retry returns the visit already there), turns each item into a
  change request, applies at once those the policy allows (``ChangePolicy``) and stamps the house and the persons
  it confirmed as verified (``quality.services.stamp_verified`` method "visit").
* ``approve`` applies a pending change through ``people.services`` / ``places.services`` in one transaction
  (history keeps its source: the residence's ``source`` and the audit's purpose); ``reject`` needs a reason.

Optimistic locking: a visit that changes a house checks and bumps the house's ``version`` (the page it was
filled in on carries it); a phone fix checks the person's. The second of two workers gets ``ConflictError``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, crypto, uploads
from core.services import assert_in_scope, bump_version
from core.validators import mask_id, mask_phone, validate_identifier, validate_mobile
from fieldwork.models import ChangeKind, ChangePolicy, ChangeRequest, ChangeSource, ChangeStatus, Visit, VisitOutcome
from people.choices import IdType, Relation, ResidenceRole, ResidencyType
from people.models import Person, Residence
from people.services import PersonData, clean_person_data, move_in, move_out, save_person
from places.choices import HouseUse
from places.models import House

__all__ = ["MAX_PHOTO_BYTES", "VisitItem", "approve", "check_photo", "create_change_request", "describe",
           "house_state", "reject", "save_policy", "submit_visit", "unseal"]

MAX_PHOTO_BYTES = 5 * 1024 * 1024
SEALED = ("id_number", "phone")
CORRECTABLE = ("name", "ethnicity", "nationality", "hukou_address", "work_unit", "residency_type")
PERSON_FIELDS_IN_PAYLOAD = ("name", "id_type", "sex", "birth_date", "residency_type", "nationality", "ethnicity",
                            "hukou_address", "work_unit", "note", "tags")


@dataclass
class VisitItem:
    """One thing the worker recorded: ``kind`` (ChangeKind), the person it is about (if any) and its data."""

    kind: str
    person_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


# --- sealing ----------------------------------------------------------------------------------------------------
def _seal(cr: ChangeRequest, payload: dict) -> dict:
    """``payload`` with its clear numbers sealed for ``cr``: bound to the change request's row and the key
    (``payload.id_number_enc``), so a token copied into another request's payload does not open there."""
    out = {k: v for k, v in payload.items() if k not in SEALED}
    for key in SEALED:
        value = payload.get(key)
        if value:
            out[f"{key}_enc"] = cr.seal_field(f"payload.{key}_enc", value)
            out[f"{key}_masked"] = mask_id(value) if key == "id_number" else mask_phone(value)
    return out


def unseal(cr: ChangeRequest, key: str) -> str:
    """The clear personal number of a change request's payload, for applying it (never shown). A value that
    does not open (sealed for another request) refuses the approval rather than writing something else."""
    try:
        return cr.open_field(f"payload.{key}_enc")
    except crypto.Unreadable as exc:
        raise ValidationError({key: [_("变更内容中的号码无法解密，请退回后重新提交")]}) from exc


def _date(value, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError({name: [_("日期格式不正确，应为 年-月-日")]}) from exc


# --- snapshots for the reviewer's diff -------------------------------------------------------------------------
def _resident_label(name: str, code: str) -> str:
    label = dict(Relation.choices).get(code) or dict(ResidenceRole.choices).get(code) or code
    return _("%(name)s（%(relation)s）") % {"name": name, "relation": label}


def house_state(house: House) -> dict:
    """The part of a house a change request can touch, in displayable form (numbers masked)."""
    current = list(Residence.objects.filter(house_id=house.pk, moved_out__isnull=True).select_related("person")
                   .order_by("id"))
    return {"use": house.use, "residents": [[r.person.name, r.relation or r.role] for r in current],
            "householder": next((r.person.name for r in current if r.relation == Relation.HOUSEHOLDER), "")}


def _person_state(person: Person | None) -> dict:
    if person is None:
        return {}
    return {"name": person.name, "phone": person.phone_masked, "id_number": person.id_number_masked,
            **{k: getattr(person, k) for k in ("ethnicity", "nationality", "hukou_address", "work_unit")}}


def _after(kind: str, house: House, person: Person | None, payload: dict, before: dict) -> dict:
    after = {k: (list(v) if isinstance(v, list) else v) for k, v in before.items()}
    residents = list(after.get("residents", []))
    if kind in (ChangeKind.NEW_PERSON, ChangeKind.MOVE_IN):
        name = person.name if person is not None else payload.get("name", "")
        residents.append([name, payload.get("relation") or payload.get("role") or "family"])
        after["residents"] = residents
        if payload.get("relation") == Relation.HOUSEHOLDER:
            after["householder"] = name
        if payload.get("id_number_masked"):
            after["id_number"] = payload["id_number_masked"]
        if payload.get("phone_masked"):
            after["phone"] = payload["phone_masked"]
    elif kind == ChangeKind.MOVE_OUT and person is not None:
        after["residents"] = [r for r in residents if r[0] != person.name]
        if after.get("householder") == person.name:
            after["householder"] = ""
    elif kind == ChangeKind.HOUSEHOLDER_CHANGE and person is not None:
        after["householder"] = person.name
    elif kind == ChangeKind.CHANGE_USE:
        after["use"] = payload.get("use")
    elif kind == ChangeKind.PHONE_FIX:
        after["phone"] = payload.get("phone_masked", "")
    elif kind == ChangeKind.CORRECTION:
        after.update(payload.get("fields") or {})
        if payload.get("text"):
            after["text"] = payload["text"]
    return after


def _shown(key: str, value) -> str:
    if key == "residents":
        return _("、").join(_resident_label(*r) for r in value or [])
    if key == "use":
        return str(dict(HouseUse.choices).get(value, value or ""))
    if key == "residency_type":
        return str(dict(ResidencyType.choices).get(value, value or ""))
    return "" if value is None else str(value)


def describe(cr: ChangeRequest) -> list[dict]:
    """Rows of the before/after diff: label, before, after, whether it differs."""
    labels = {"use": _("房屋用途"), "residents": _("现住人员"), "householder": _("户主"), "name": _("姓名"),
              "phone": _("联系电话"), "id_number": _("证件号码"), "ethnicity": _("民族"), "nationality": _("国籍"),
              "hukou_address": _("户籍地址"), "work_unit": _("工作单位"), "residency_type": _("人口类型"),
              "text": _("说明")}
    rows = []
    for key in labels:
        if key not in cr.before and key not in cr.after:
            continue
        before, after = cr.before.get(key, ""), cr.after.get(key, "")
        rows.append({"key": key, "label": labels[key], "before": _shown(key, before), "after": _shown(key, after),
                     "differs": before != after})
    return rows


# --- validation of one proposed change --------------------------------------------------------------------------
def _open_residence(house: House, person: Person | None) -> Residence | None:
    if person is None:
        return None
    return Residence.objects.filter(house_id=house.pk, person_id=person.pk, moved_out__isnull=True).first()


def _find_by_id(id_type: str, number: str) -> Person | None:
    return Person.objects.filter(id_type=id_type, id_number_bidx=Person.id_index(id_type, number)).first()


def _clean_new_person(payload: dict, *, accept_warnings: bool) -> dict:
    """Validate a new person's data exactly as the people forms do; returns the normalised payload (clear)."""
    data = PersonData(name=payload.get("name") or "", id_type=payload.get("id_type") or IdType.RESIDENT_ID,
                      id_number=payload.get("id_number") or "", phone=payload.get("phone") or "",
                      residency_type=payload.get("residency_type") or ResidencyType.REGISTERED,
                      sex=payload.get("sex") or "", birth_date=_date(payload.get("birth_date"), "birth_date"),
                      nationality=payload.get("nationality") or "", ethnicity=payload.get("ethnicity") or "",
                      hukou_address=payload.get("hukou_address") or "", work_unit=payload.get("work_unit") or "",
                      note=payload.get("note") or "")
    clean_person_data(data, accept_warnings=accept_warnings)
    out = dict(payload)
    out.update(name=data.name, id_type=data.id_type, id_number=data.id_number, phone=data.phone, sex=data.sex,
               birth_date=data.birth_date.isoformat() if data.birth_date else "", residency_type=data.residency_type)
    if data.id_number and _find_by_id(data.id_type, data.id_number) is not None and \
            payload.get("_kind") == ChangeKind.NEW_PERSON:
        raise ValidationError({"id_number": [_("已有相同证件号码的人员，请改用“已登记人员入住”")]})
    return out


def _clean_residence_fields(payload: dict) -> None:
    errors = {}
    if (payload.get("relation") or "") not in dict(Relation.choices) and payload.get("relation"):
        errors["relation"] = [_("与户主关系不在可选范围内")]
    if (payload.get("role") or "family") not in dict(ResidenceRole.choices):
        errors["role"] = [_("身份不在可选范围内")]
    moved_in = _date(payload.get("moved_in"), "moved_in")
    if moved_in and moved_in > timezone.localdate():
        errors["moved_in"] = [_("入住日期不能晚于今天")]
    if errors:
        raise ValidationError(errors)
    payload["moved_in"] = moved_in.isoformat() if moved_in else ""


def _validate(house: House, kind: str, payload: dict, person: Person | None, source: str) -> tuple[dict,
                                                                                                    Person | None]:
    payload = dict(payload or {})
    accept = bool(payload.pop("accept_warnings", False)) or source == ChangeSource.FEEDBACK
    if kind not in dict(ChangeKind.choices):
        raise ValidationError({"kind": [_("变更类型不正确")]})
    if kind in (ChangeKind.NEW_PERSON, ChangeKind.MOVE_IN):
        _clean_residence_fields(payload)
        if kind == ChangeKind.MOVE_IN and person is None and payload.get("id_number"):
            try:
                number = validate_identifier(payload.get("id_type") or IdType.RESIDENT_ID, payload["id_number"]).value
            except ValidationError as exc:
                raise ValidationError({"id_number": exc.messages}) from exc
            person = _find_by_id(payload.get("id_type") or IdType.RESIDENT_ID, number)
            if person is None and not payload.get("name"):
                raise ValidationError({"id_number": [_("没有找到该证件号码的人员，请改用“新增人员”")]})
        if person is not None:
            if _open_residence(house, person) is not None:
                raise ValidationError({"person": [_("此人已登记住在该房屋")]})
            payload = {k: v for k, v in payload.items() if k not in SEALED and k not in PERSON_FIELDS_IN_PAYLOAD}
            payload["name"] = person.name
        else:
            payload["_kind"] = kind
            payload = _clean_new_person(payload, accept_warnings=accept)
            payload.pop("_kind", None)
        if payload.get("relation") == Relation.HOUSEHOLDER and \
                Residence.objects.filter(house_id=house.pk, moved_out__isnull=True,
                                         relation=Relation.HOUSEHOLDER).exists():
            raise ValidationError({"relation": [_("该房屋已有户主；如需更换户主请提交“户主变更”")]})
    elif kind == ChangeKind.MOVE_OUT:
        if person is None and payload.get("name"):
            matches = [r.person for r in Residence.objects.filter(house_id=house.pk, moved_out__isnull=True,
                                                                   person__name=payload["name"]).select_related("person")]
            person = matches[0] if len(matches) == 1 else None
        if _open_residence(house, person) is None:
            raise ValidationError({"person": [_("请选择目前住在该房屋的迁出人员")]})
        moved_out = _date(payload.get("moved_out"), "moved_out") or timezone.localdate()
        if moved_out > timezone.localdate():
            raise ValidationError({"moved_out": [_("迁出日期不能晚于今天")]})
        payload["moved_out"] = moved_out.isoformat()
        payload["reason"] = (payload.get("reason") or "")[:100]
    elif kind == ChangeKind.HOUSEHOLDER_CHANGE:
        if _open_residence(house, person) is None:
            raise ValidationError({"person": [_("新户主须是目前住在该房屋的人员")]})
    elif kind == ChangeKind.CHANGE_USE:
        if payload.get("use") not in dict(HouseUse.choices):
            raise ValidationError({"use": [_("请选择房屋用途")]})
        if payload["use"] == house.use:
            raise ValidationError({"use": [_("房屋用途没有变化")]})
    elif kind == ChangeKind.PHONE_FIX:
        if person is None:
            raise ValidationError({"person": [_("请选择要更正电话的人员")]})
        try:
            payload["phone"] = validate_mobile(payload.get("phone") or "").value
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
    elif kind == ChangeKind.CORRECTION:
        fields = {k: str(v).strip() for k, v in (payload.get("fields") or {}).items() if str(v).strip()}
        unknown = [k for k in fields if k not in CORRECTABLE]
        if unknown:
            raise ValidationError({"fields": [_("这些字段不能通过更正修改：%(f)s") % {"f": "、".join(unknown)}]})
        if fields and person is None:
            raise ValidationError({"person": [_("请选择要更正信息的人员")]})
        if "residency_type" in fields and fields["residency_type"] not in dict(ResidencyType.choices):
            raise ValidationError({"residency_type": [_("人口类型不在可选范围内")]})
        payload["fields"] = fields
        payload["text"] = (payload.get("text") or "").strip()[:500]
        if not fields and not payload["text"]:
            raise ValidationError({"text": [_("请说明需要更正的内容")]})
    elif kind == ChangeKind.UNCHANGED:
        ids = [int(i) for i in payload.get("person_ids") or []]
        payload = {"person_ids": ids}
    return payload, person


# --- the contract: one proposed change --------------------------------------------------------------------------
@audit.deferred()
def create_change_request(*, house: House, kind: str, payload: dict, source: str, submitted_by=None, contact=None,
                          visit: Visit | None = None, person: Person | None = None) -> ChangeRequest:
    """Record a proposed change to ``house`` (and ``person``), pending review.

    ``payload`` holds the change's data; personal numbers may be given in clear as ``id_number`` / ``phone``:
    they are validated, then stored sealed (``*_enc``) with a masked copy (``*_masked``), never in clear.
    ``contact`` is the reporting resident's phone (a string) or ``{"name": ..., "phone": ...}``: stored sealed,
    with a blind index and a masked copy. ``submitted_by`` (a user, or None for a public report) must see the
    house when given. Raises ValidationError({field: [message]}) in Chinese. It never applies the change: see
    ``submit_visit`` (policy) and ``approve``.
    """
    if source not in dict(ChangeSource.choices):
        raise ValidationError({"source": [_("来源不正确")]})
    if submitted_by is not None and source != ChangeSource.FEEDBACK and \
            not House.objects.restrict(submitted_by, "view").filter(pk=house.pk).exists():
        raise PermissionDenied(_("该房屋不在您的管辖范围内"))
    if person is not None and not Residence.objects.filter(house_id=house.pk, person_id=person.pk).exists() \
            and kind not in (ChangeKind.MOVE_IN,):
        raise ValidationError({"person": [_("此人与该房屋没有居住记录")]})
    clean, person = _validate(house, kind, payload, person, source)
    before = {**house_state(house), **_person_state(person)}
    cr = ChangeRequest(house=house, person=person, kind=kind, source=source, submitted_by=submitted_by, visit=visit,
                       before=before)
    cr.payload = sealed = _seal(cr, clean)
    cr.after = _after(kind, house, person, sealed, before)
    if contact:
        if isinstance(contact, dict):
            name, phone = contact.get("name", ""), contact.get("phone", "")
        else:
            name, phone = "", contact
        cr.contact_name = (name or "")[:64]
        if phone:
            try:
                cr.set_contact_phone(validate_mobile(phone).value)
            except ValidationError as exc:
                raise ValidationError({"contact": exc.messages}) from exc
    cr.fill_ancestors()
    cr.save()
    audit.record("create", cr, user=submitted_by, fields=[kind], purpose=source)
    return cr


# --- applying a change to the registry -------------------------------------------------------------------------
def _set_relation(user, residence: Residence, relation: str, source: str) -> None:
    Residence.objects.filter(pk=residence.pk).update(relation=relation, version=residence.version + 1)
    audit.record("update", residence, user=user, fields=["relation"], changes={"relation": [residence.relation,
                                                                                             relation]},
                 purpose=source)


def _person_data(person: Person, **changes) -> PersonData:
    data = PersonData(name=person.name, id_type=person.id_type, residency_type=person.residency_type,
                      sex=person.sex, birth_date=person.birth_date, nationality=person.nationality,
                      ethnicity=person.ethnicity, hukou_address=person.hukou_address, work_unit=person.work_unit,
                      note=person.note)
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def _apply(user, cr: ChangeRequest) -> None:
    """Write one change through the registry's services (each validates, checks scope and audits)."""
    house, person, p, source = cr.house, cr.person, cr.payload, cr.source
    if cr.kind in (ChangeKind.NEW_PERSON, ChangeKind.MOVE_IN):
        where = {"relation": p.get("relation") or "", "role": p.get("role") or "family",
                 "moved_in": _date(p.get("moved_in"), "moved_in")}
        number = unseal(cr, "id_number")
        if person is None and number:
            person = _find_by_id(p.get("id_type") or IdType.RESIDENT_ID, number)
        if person is not None:
            move_in(user, person, house, source=source, **where)
        else:
            data = PersonData(name=p.get("name", ""), id_type=p.get("id_type") or IdType.RESIDENT_ID,
                              id_number=number, phone=unseal(cr, "phone"),
                              residency_type=p.get("residency_type") or ResidencyType.REGISTERED,
                              sex=p.get("sex") or "", birth_date=_date(p.get("birth_date"), "birth_date"),
                              nationality=p.get("nationality") or "", ethnicity=p.get("ethnicity") or "",
                              hukou_address=p.get("hukou_address") or "", work_unit=p.get("work_unit") or "",
                              note=p.get("note") or "", tags=p.get("tags") or None)
            person = save_person(user, data, house=house, accept_warnings=True, source=source, **where)
        cr.person = person
    elif cr.kind == ChangeKind.MOVE_OUT:
        residence = _open_residence(house, person)
        if residence is None:
            raise ValidationError({"person": [_("此人已不住在该房屋，无需迁出")]})
        move_out(user, residence, moved_out=_date(p.get("moved_out"), "moved_out"), reason=p.get("reason", ""),
                 source=source)
    elif cr.kind == ChangeKind.HOUSEHOLDER_CHANGE:
        new = _open_residence(house, person)
        if new is None:
            raise ValidationError({"person": [_("新户主已不住在该房屋")]})
        if user is not None and not Residence.objects.restrict(user, "change").filter(pk=new.pk).exists():
            raise PermissionDenied(_("您没有修改该房屋居住记录的权限"))
        old = Residence.objects.filter(house_id=house.pk, moved_out__isnull=True,
                                       relation=Relation.HOUSEHOLDER).exclude(pk=new.pk).first()
        if old is not None:
            _set_relation(user, old, p.get("old_relation") or Relation.OTHER_RELATIVE, source)
        try:
            with transaction.atomic():
                _set_relation(user, new, Relation.HOUSEHOLDER, source)
        except IntegrityError as exc:
            raise ValidationError({"person": [_("此人已是另一户的户主，请先处理那一户")]}) from exc
    elif cr.kind == ChangeKind.CHANGE_USE:
        from places.services import save_house

        save_house(user, {"use": p["use"]}, house, source=source)
    elif cr.kind == ChangeKind.PHONE_FIX:
        save_person(user, _person_data(person, phone=unseal(cr, "phone")), person,
                    expected_version=p.get("person_version"), accept_warnings=True, source=source)
    elif cr.kind == ChangeKind.CORRECTION and p.get("fields"):
        save_person(user, _person_data(person, **p["fields"]), person, expected_version=p.get("person_version"),
                    accept_warnings=True, source=source)
    cr.house.refresh_from_db()
    cr.after = {**cr.after, **house_state(cr.house)} if cr.kind != ChangeKind.UNCHANGED else cr.after


def _stamp(user, method: str, *, house_ids=(), person_ids=()) -> None:
    """Mark the house and persons verified (quality's freshness), and the cockpit's figures stale."""
    try:
        from quality.services import stamp_verified
    except ImportError:  # the quality app is not installed
        stamp_verified = None
    if stamp_verified is not None:
        stamp_verified(user, method, house_ids=list(house_ids), person_ids=[i for i in person_ids if i])
    try:
        from cockpit.registry import mark_dirty_house
    except ImportError:
        return
    for house_id in house_ids:
        mark_dirty_house(house_id)


# --- visits -----------------------------------------------------------------------------------------------------
def check_photo(upload) -> uploads.CheckedUpload:
    """The photo checked by its content (core.uploads): JPEG, PNG or WebP, decoded and re-encoded without EXIF
    (no GPS of the resident's home), at most 5 MB; ValidationError on ``photo`` otherwise."""
    return uploads.check_upload(upload, field="photo", max_bytes=MAX_PHOTO_BYTES, kinds=uploads.IMAGES)


def _existing(client_id: uuid.UUID, user, house: House) -> Visit | None:
    visit = Visit.objects.filter(client_id=client_id).first()
    if visit is not None and (visit.worker_id != user.pk or visit.house_id != house.pk):
        raise ValidationError({"client_id": [_("该提交编号已被使用，请刷新页面后重新填写")]})
    return visit


def submit_visit(user, house: House, *, client_id, items: list[VisitItem | dict], note: str = "", photo=None,
                 visited_at: dt.datetime | None = None, house_version: int | None = None,
                 not_home: bool = False) -> Visit:
    """Record a visit; idempotent on ``client_id`` (a retry returns the visit saved the first time).

    Each item becomes a change request (source "visit"); those the policy lets a grid worker apply are applied
    at once, the others wait for a community officer. ``house_version`` (the version the page was filled in on)
    is checked when the visit changes anything: a stale one raises ConflictError and nothing is saved.
    """
    try:
        client_id = uuid.UUID(str(client_id))
    except ValueError as exc:
        raise ValidationError({"client_id": [_("提交编号格式不正确")]}) from exc
    if not House.objects.restrict(user, "view").filter(pk=house.pk).exists():
        raise PermissionDenied(_("该房屋不在您的管辖范围内"))
    if not _may_submit(user):
        raise PermissionDenied(_("您没有提交走访的权限"))
    found = _existing(client_id, user, house)
    if found is not None:
        return found
    items = [i if isinstance(i, VisitItem) else VisitItem(**i) for i in items]
    checked_photo = check_photo(photo) if photo else None
    note = (note or "").strip()
    if not items and not note and not not_home and not photo:
        raise ValidationError({"__all__": [_("请至少记录一项：无变化、变更、备注或照片")]})
    with audit.deferred():  # every event of the visit written at the end, the chain's lock taken once, last
        visit = Visit(house=house, worker=user, visited_at=visited_at or timezone.now(), client_id=client_id,
                      note=note, outcome=VisitOutcome.NOT_HOME if not_home else VisitOutcome.UNCHANGED)
        visit.fill_ancestors()
        try:
            with transaction.atomic():
                visit.save(force_insert=True)
        except IntegrityError:
            # A parallel submission with the same client id got there first: it is the one visit.
            found = _existing(client_id, user, house)
            if found is None:
                raise
            return found
        assert_in_scope(user, visit, "submit")
        changes = [i for i in items if i.kind != ChangeKind.UNCHANGED]
        if changes:
            locked = House._base_manager.select_for_update().get(pk=house.pk)
            bump_version(locked, house_version)
            house.version = locked.version
        pending = applied = 0
        confirmed: set[int] = set()
        for item in items:
            try:
                cr = _visit_item(user, house, visit, item)
            except ValidationError as exc:
                exc.item_kind = item.kind  # the view puts the message on that part of the form
                raise
            if item.kind == ChangeKind.UNCHANGED:
                confirmed |= set(cr.payload.get("person_ids") or _current_person_ids(house))
            if cr.status == ChangeStatus.PENDING:
                pending += 1
                continue
            applied += 1
            if cr.person_id and item.kind != ChangeKind.MOVE_OUT:
                confirmed.add(cr.person_id)
        if checked_photo:
            visit.photo.save(f"{uuid.uuid4().hex}.{checked_photo.ext}", checked_photo.content(), save=False)
        if not not_home:
            visit.outcome = (VisitOutcome.PENDING if pending else
                             VisitOutcome.CHANGED if applied and changes else VisitOutcome.UNCHANGED)
        visit.save(update_fields=["photo", "outcome", "updated_at"])
        if not not_home:
            current = set(_current_person_ids(house))
            _stamp(user, "visit", house_ids=[house.pk], person_ids=sorted(confirmed & current))
        # Queued with the items' events, written when the block ends: the audit chain's lock is held from then to
        # the commit, so nothing may come after the block's end (the freshness stamps above can wait on a running
        # quality recompute; the whole site would wait too).
        audit.record("create", visit, user=user, fields=sorted({i.kind for i in items}) + (["photo"] if photo else []),
                     purpose="visit")
    return visit


def _visit_item(user, house: House, visit: Visit, item: VisitItem) -> ChangeRequest:
    person = Person.objects.filter(pk=item.person_id).first() if item.person_id else None
    cr = create_change_request(house=house, kind=item.kind, payload=item.payload, source=ChangeSource.VISIT,
                               submitted_by=user, visit=visit, person=person)
    if not ChangePolicy.needs_approval_for(item.kind):
        _apply(user, cr)
        cr.status, cr.applied_at = ChangeStatus.APPLIED, timezone.now()
        cr.save(update_fields=["status", "applied_at", "person", "after", "updated_at"])
    return cr


def _may_submit(user) -> bool:
    from core.scope import scope_for

    return scope_for(user).has("fieldwork.submit_visit")


def _current_person_ids(house: House) -> list[int]:
    return list(Residence.objects.filter(house_id=house.pk, moved_out__isnull=True)
                .values_list("person_id", flat=True))


# --- review -----------------------------------------------------------------------------------------------------
def _reviewable(user, cr: ChangeRequest) -> ChangeRequest:
    if not ChangeRequest.objects.restrict(user, "view").filter(pk=cr.pk).exists():
        raise ChangeRequest.DoesNotExist
    if not ChangeRequest.objects.restrict(user, "review").filter(pk=cr.pk).exists():
        raise PermissionDenied(_("您没有审核变更申请的权限"))
    fresh = ChangeRequest._base_manager.select_for_update(of=("self",)).select_related("house", "person").get(
        pk=cr.pk)
    if fresh.status != ChangeStatus.PENDING:
        raise ValidationError({"status": [_("该申请已经%(s)s，不能再次审核") % {"s": fresh.get_status_display()}]})
    return fresh


@transaction.atomic
def approve(user, cr: ChangeRequest, expected_version: int | None = None) -> ChangeRequest:
    """Apply a pending change to the registry, in one transaction; history keeps its source and reviewer."""
    cr = _reviewable(user, cr)
    bump_version(cr, expected_version)
    _apply(user, cr)
    now = timezone.now()
    cr.reviewed_by, cr.reviewed_at, cr.applied_at = user, now, now
    cr.status = ChangeStatus.APPLIED
    cr.save(update_fields=["reviewed_by", "reviewed_at", "applied_at", "status", "person", "after", "updated_at"])
    audit.record("approve", cr, user=user, fields=[cr.kind], purpose=cr.source)
    if cr.kind != ChangeKind.MOVE_OUT:
        _stamp(user, cr.source, house_ids=[cr.house_id], person_ids=[cr.person_id])
    else:
        _stamp(user, cr.source, house_ids=[cr.house_id])
    return cr


@transaction.atomic
def reject(user, cr: ChangeRequest, reason: str, expected_version: int | None = None) -> ChangeRequest:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("请填写驳回理由")]})
    cr = _reviewable(user, cr)
    bump_version(cr, expected_version)
    cr.status, cr.reason = ChangeStatus.REJECTED, reason[:300]
    cr.reviewed_by, cr.reviewed_at = user, timezone.now()
    cr.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at", "updated_at"])
    audit.record("reject", cr, user=user, fields=[cr.kind], purpose=cr.source)
    return cr


@transaction.atomic
def save_policy(user, needs: dict[str, bool]) -> None:
    """Set which kinds of change need a community officer's approval (``fieldwork.change_changepolicy``)."""
    from core.scope import scope_for

    if user is not None and not scope_for(user).has("fieldwork.change_changepolicy"):
        raise PermissionDenied(_("您没有修改审核策略的权限"))
    changes = {}
    for kind, value in needs.items():
        if kind not in dict(ChangeKind.choices):
            raise ValidationError({"kind": [_("变更类型不正确")]})
        row, created = ChangePolicy.objects.get_or_create(kind=kind, defaults={"needs_approval": bool(value)})
        if row.needs_approval != bool(value) or created:
            changes[kind] = [None if created else row.needs_approval, bool(value)]
            row.needs_approval = bool(value)
            row.save(update_fields=["needs_approval", "updated_at"])
    audit.record("update", user=user, object_type="fieldwork.changepolicy", object_id="all", fields=sorted(changes),
                 changes=changes)
