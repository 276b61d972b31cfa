"""The one write path for people: forms, the API, imports and background jobs all call these.

Each function validates, writes, keeps the denormalised place keys and the house's resident count
current, checks that the result is still in the user's scope, and writes the audit — in one transaction.
``user=None`` means the system itself (demo generation, migrations).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, crypto
from core.sealed import UNREADABLE
from core.services import assert_in_scope, bump_version, diff, snapshot
from core.validators import Checked, validate_identifier, validate_mobile
from people.choices import IdType, Relation
from people.models import Person, Residence
from people.pinyin import name_pinyin
from places.models import House

__all__ = ["PersonData", "clean_person_data", "move_in", "move_out", "refresh_house_count", "refresh_person_place",
           "reveal", "save_person"]

PERSON_FIELDS = ["name", "id_type", "id_number_bidx", "sex", "birth_date", "phone_bidx", "residency_type",
                 "nationality", "ethnicity", "hukou_address", "work_unit", "note"]
PERSONAL = {"id_number_bidx", "phone_bidx"}


@dataclass
class PersonData:
    name: str
    id_type: str = IdType.RESIDENT_ID
    id_number: str = ""
    phone: str = ""
    residency_type: str = "registered"
    sex: str = ""
    birth_date: dt.date | None = None
    nationality: str = ""
    ethnicity: str = ""
    hukou_address: str = ""
    work_unit: str = ""
    note: str = ""
    tags: list[str] | None = None
    warnings: list[str] = field(default_factory=list)


def clean_person_data(data: PersonData, *, accept_warnings: bool = False, today: dt.date | None = None) -> PersonData:
    """Validate and normalise in place. Raises ValidationError({field: [message]}) in Chinese.

    ``today``: the date to check birth dates against (an import passes it once instead of reading the clock per row).
    """
    today = today or dt.date.today()
    errors: dict[str, list[str]] = {}
    data.name = (data.name or "").strip()
    if not data.name:
        errors.setdefault("name", []).append(_("姓名不能为空"))
    elif len(data.name) > 64:
        errors.setdefault("name", []).append(_("姓名太长（最多64个字）"))
    if data.id_number:
        try:
            checked: Checked = validate_identifier(data.id_type, data.id_number, today)
            data.id_number = checked.value
            data.warnings = list(checked.warnings)
            if checked.birth_date:
                data.birth_date = checked.birth_date
                data.sex = checked.sex or data.sex
        except ValidationError as exc:
            errors.setdefault("id_number", []).extend(exc.messages)
    if data.phone:
        try:
            data.phone = validate_mobile(data.phone).value
        except ValidationError as exc:
            errors.setdefault("phone", []).extend(exc.messages)
    if data.birth_date and data.birth_date > today:
        errors.setdefault("birth_date", []).append(_("出生日期不能晚于今天"))
    if errors:
        raise ValidationError(errors)
    if data.warnings and not accept_warnings:
        raise ValidationError({"id_number": data.warnings}, code="warning")
    return data


def _apply(person: Person, data: PersonData) -> None:
    person.name = data.name
    person.name_pinyin, person.name_initials = name_pinyin(data.name)
    person.id_type = data.id_type
    if data.id_number:
        person.set_id_number(data.id_number)
    if data.phone:
        person.set_phone(data.phone)
    person.residency_type = data.residency_type or "registered"
    person.sex = data.sex or person.sex
    person.birth_date = data.birth_date or person.birth_date
    for name in ("nationality", "ethnicity", "hukou_address", "work_unit", "note"):
        value = getattr(data, name)
        if value or name == "note":
            setattr(person, name, value)


@audit.deferred()
def save_person(user, data: PersonData, person: Person | None = None, *, house: House | None = None,
                relation: str = "", role: str = "family", moved_in: dt.date | None = None,
                expected_version: int | None = None, accept_warnings: bool = False, source: str = "form") -> Person:
    """Create a person (with their first residence in ``house``) or update one."""
    clean_person_data(data, accept_warnings=accept_warnings)
    creating = person is None
    if creating:
        if house is None and user is not None:
            raise ValidationError({"house": [_("新增人员需要选择居住的房屋")]})
        person = Person()
        before = {}
    else:
        if user is not None and not Person.objects.restrict(user, "change").filter(pk=person.pk).exists():
            raise PermissionDenied(_("您没有修改此人员信息的权限"))
        bump_version(person, expected_version)
        before = snapshot(person, PERSON_FIELDS)
    _apply(person, data)
    if person.id_number_bidx and Person.objects.filter(id_type=person.id_type, id_number_bidx=person.id_number_bidx) \
            .exclude(pk=person.pk).exists():
        raise ValidationError({"id_number": [_("已有相同证件号码的人员，请搜索后在原记录上修改")]})
    try:
        person.save()
    except IntegrityError as exc:
        raise ValidationError({"id_number": [_("已有相同证件号码的人员")]}) from exc
    if data.tags is not None:
        from people.models import PersonTag, Tag
        wanted = set(Tag.objects.filter(code__in=data.tags).values_list("id", flat=True))
        have = set(person.person_tags.values_list("tag_id", flat=True))
        PersonTag.objects.filter(person=person, tag_id__in=have - wanted).delete()
        PersonTag.objects.bulk_create([PersonTag(person=person, tag_id=t) for t in wanted - have])
    if creating and house is not None:
        move_in(user, person, house, relation=relation, role=role, moved_in=moved_in, source=source, _audit=False)
        person.refresh_from_db()
    after = snapshot(person, PERSON_FIELDS)
    assert_in_scope(user, person, "add" if creating else "change")
    audit.record("create" if creating else "update", person, user=user,
                 fields=sorted(diff(before, after)), changes=diff(before, after, PERSONAL),
                 purpose=source)
    return person


def find_by_number(people, text: str) -> Person | None:
    """The person of ``people`` (a queryset, already restricted to the user's places) whose resident ID number or
    registered mobile is ``text`` (spaces and case ignored), found by the blind indexes: for a desk where staff
    type what the resident tells them. None when neither matches, whatever was typed."""
    number = "".join((text or "").split()).upper()[:32]
    if not number:
        return None
    found = people.filter(id_number_bidx=Person.id_index("resident_id", number)).first()
    if found is None:
        try:
            phone = validate_mobile(number).value
        except ValidationError:
            return None
        found = people.filter(phone_bidx=Person.phone_index(phone)).first()
    return found


def refresh_person_place(person: Person) -> None:
    """Person's grid/community/street = their current residence's (or the latest one's)."""
    res = list(Residence.objects.filter(person=person).select_related("house"))
    current = [r for r in res if r.moved_out is None]
    if current:
        chosen = max(current, key=lambda r: (r.moved_in or dt.date.min, r.id))
    else:
        chosen = max(res, key=lambda r: (r.moved_out, r.id)) if res else None
    if chosen is None:
        return
    h = chosen.house
    Person.objects.filter(pk=person.pk).update(grid_id=h.grid_id, community_id=h.community_id,
                                               street_id=h.street_id, is_current=bool(current))


def refresh_house_count(house_id: int) -> None:
    n = Residence.objects.filter(house_id=house_id, moved_out__isnull=True).count()
    House.objects.filter(pk=house_id).update(resident_count=n)


@transaction.atomic
def move_in(user, person: Person, house: House, *, relation: str = "", role: str = "family",
            moved_in: dt.date | None = None, source: str = "form", _audit: bool = True) -> Residence:
    if user is not None and not House.objects.restrict(user, "change").filter(pk=house.pk).exists():
        raise PermissionDenied(_("您没有在该房屋登记入住的权限"))
    if moved_in and moved_in > timezone.localdate():
        raise ValidationError({"moved_in": [_("入住日期不能晚于今天")]})
    res = Residence(person=person, house=house, relation=relation, role=role,
                    moved_in=moved_in or timezone.localdate(), source=source)
    try:
        res.validate_constraints()
        with transaction.atomic():
            res.save()
    except IntegrityError as exc:
        raise ValidationError({"relation": [_("该房屋已有户主，或此人已是另一户的户主")]}) from exc
    refresh_person_place(person)
    refresh_house_count(house.pk)
    if _audit:
        audit.record("move_in", res, user=user, fields=["house", "relation", "role", "moved_in"], purpose=source)
    return res


@transaction.atomic
def move_out(user, residence: Residence, *, moved_out: dt.date | None = None, reason: str = "",
             source: str = "form") -> Residence:
    """End a residence. It is never deleted: the house's and the person's history keep it."""
    if user is not None and not Residence.objects.restrict(user, "change").filter(pk=residence.pk).exists():
        raise PermissionDenied(_("您没有为该居住记录办理迁出的权限"))
    moved_out = moved_out or timezone.localdate()
    if residence.moved_out is not None:
        raise ValidationError({"moved_out": [_("此人已于 %(d)s 迁出") % {"d": residence.moved_out}]})
    if residence.moved_in and moved_out < residence.moved_in:
        raise ValidationError({"moved_out": [_("迁出日期不能早于入住日期 %(d)s") % {"d": residence.moved_in}]})
    updated = Residence.objects.filter(pk=residence.pk, moved_out__isnull=True).update(
        moved_out=moved_out, move_out_reason=reason[:100], version=residence.version + 1)
    if not updated:
        raise ValidationError({"moved_out": [_("此人已经迁出")]})
    residence.refresh_from_db()
    refresh_person_place(residence.person)
    refresh_house_count(residence.house_id)
    audit.record("move_out", residence, user=user, fields=["moved_out", "move_out_reason"], purpose=source)
    return residence


def reveal(user, person: Person, field_name: str, purpose: str) -> str:
    """The clear value of one personal number, for a user holding ``people.reveal_person`` who gave a reason."""
    purpose = (purpose or "").strip()
    if field_name not in {"id_number", "phone"}:
        raise ValueError(field_name)
    allowed = Person.objects.restrict(user, "reveal").filter(pk=person.pk).exists()
    if not allowed:
        audit.record("reveal", person, user=user, fields=[field_name], result="denied", purpose=purpose)
        raise PermissionDenied(_("您没有查看完整号码的权限"))
    if len(purpose) < 4:
        raise ValidationError({"purpose": [_("请填写查看完整号码的事由（至少4个字）")]})
    audit.record("reveal", person, user=user, fields=[field_name], purpose=purpose)
    try:
        return person.reveal_id_number() if field_name == "id_number" else person.reveal_phone()
    except crypto.Unreadable:
        # Sealed for another row, column or table (copied in the database): never someone else's number, never
        # a 500; crypto.open logged where. The audit says so too.
        audit.record("reveal", person, user=user, fields=[field_name], result="unreadable", purpose=purpose)
        return str(UNREADABLE)


def household_sizes(house_ids: list[int]) -> dict[int, int]:
    rows = (Residence.objects.filter(house_id__in=house_ids, moved_out__isnull=True)
            .values("house_id").annotate(n=Count("id")))
    return {r["house_id"]: r["n"] for r in rows}


__all__ += ["household_sizes", "Relation"]


# --- Enterprises and tags (added for the API; forms and imports use the same functions) ---------------------------
ENTERPRISE_FIELDS = ["name", "credit_code", "compound", "building", "floor", "room", "industry", "contact_name",
                     "contact_phone_bidx", "staff_count"]


@transaction.atomic
def save_enterprise(user, data: dict, enterprise=None, *, contact_phone: str | None = None,
                    expected_version: int | None = None, source: str = "form"):
    """Create or update an enterprise in an office tower: credit code (GB 32100) and phone validated here."""
    from core.scope import scope_for
    from core.validators import validate_credit_code
    from people.models import Enterprise
    from places.models import Compound

    creating = enterprise is None
    if user is not None:
        if creating and not scope_for(user).has("people.add_enterprise"):
            raise PermissionDenied(_("您没有新增企业的权限"))
        if not creating and not Enterprise.objects.restrict(user, "change").filter(pk=enterprise.pk).exists():
            raise PermissionDenied(_("您没有修改此企业的权限"))
    errors: dict[str, list[str]] = {}
    data = dict(data)
    if "credit_code" in data:
        try:
            data["credit_code"] = validate_credit_code(data["credit_code"]).value
        except ValidationError as exc:
            errors["credit_code"] = list(exc.messages)
    if contact_phone:
        try:
            contact_phone = validate_mobile(contact_phone).value
        except ValidationError as exc:
            errors["contact_phone"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    if creating:
        enterprise, before = Enterprise(), {}
    else:
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        bump_version(enterprise, expected_version)
        before = snapshot(enterprise, ENTERPRISE_FIELDS)
    for name, value in data.items():
        if name not in {"name", "credit_code", "compound", "building", "floor", "room", "industry", "contact_name",
                        "staff_count"}:
            raise ValidationError({name: [_("该字段不能修改")]})
        setattr(enterprise, name, value)
    if contact_phone is not None:
        enterprise.set_contact_phone(contact_phone)
    if enterprise.compound_id is None:
        raise ValidationError({"compound": [_("请选择企业所在的楼宇")]})
    if user is not None and not Compound.objects.restrict(user, "view").filter(pk=enterprise.compound_id).exists():
        raise ValidationError({"compound": [_("所选的楼宇不存在或不在您的管辖范围内")]})
    if enterprise.building_id and enterprise.building.compound_id != enterprise.compound_id:
        raise ValidationError({"building": [_("楼栋不属于所选楼宇")]})
    enterprise.fill_ancestors()
    enterprise.full_clean(exclude=["version", "contact_phone_enc", "contact_phone_bidx", "contact_phone_masked"])
    enterprise.save()
    assert_in_scope(user, enterprise, "add" if creating else "change")
    changes = diff(before, snapshot(enterprise, ENTERPRISE_FIELDS), {"contact_phone_bidx"})
    audit.record("create" if creating else "update", enterprise, user=user, fields=sorted(changes),
                 changes=changes, purpose=source)
    return enterprise


@transaction.atomic
def delete_enterprise(user, enterprise, *, source: str = "form") -> None:
    """An enterprise that left the tower (registered in error, or closed)."""
    from people.models import Enterprise

    if user is not None and not Enterprise.objects.restrict(user, "delete").filter(pk=enterprise.pk).exists():
        raise PermissionDenied(_("您没有删除此企业的权限"))
    pk, place = enterprise.pk, enterprise.audit_place
    enterprise.delete()
    audit.record("delete", user=user, object_type="people.enterprise", object_id=str(pk), place=place,
                 purpose=source)


def _tag_permission(user, action: str) -> None:
    from core.scope import scope_for

    if user is not None and not scope_for(user).has(f"people.{action}_tag"):
        raise PermissionDenied(_("您没有维护人群标签的权限"))


@transaction.atomic
def save_tag(user, data: dict, tag=None, *, source: str = "form"):
    """Special-group tags are street-wide reference data: the permission, held anywhere, is enough."""
    from people.models import Tag

    creating = tag is None
    _tag_permission(user, "add" if creating else "change")
    fields = ["code", "name", "name_en", "sensitive", "color"]
    tag = Tag() if creating else Tag.objects.select_for_update().get(pk=tag.pk)
    before = {} if creating else snapshot(tag, fields)
    for name, value in data.items():
        if name not in fields:
            raise ValidationError({name: [_("该字段不能修改")]})
        setattr(tag, name, value)
    tag.full_clean()
    tag.save()
    changes = diff(before, snapshot(tag, fields))
    audit.record("create" if creating else "update", tag, user=user, fields=sorted(changes), changes=changes,
                 purpose=source)
    return tag


@transaction.atomic
def delete_tag(user, tag, *, source: str = "form") -> None:
    from django.db.models import ProtectedError

    _tag_permission(user, "delete")
    pk = tag.pk
    try:
        with transaction.atomic():
            tag.delete()
    except ProtectedError as exc:
        raise ProtectedError(_("还有人员带有该标签，不能删除"), exc.protected_objects) from exc
    audit.record("delete", user=user, object_type="people.tag", object_id=str(pk), purpose=source)


__all__ += ["delete_enterprise", "delete_tag", "save_enterprise", "save_tag"]


def follow_place_move(sender, instance, level: str, ancestors: dict, **kwargs) -> None:
    """A place moved under another parent (places.services.ancestors_changed): keep the place keys that
    people and enterprises copy from it current, so that scoping follows the move in the same transaction."""
    from people.models import Enterprise

    names = {"compound_id", "grid_id", "community_id", "street_id"}
    Enterprise.objects.filter(**{f"{level}_id": instance.pk}).update(
        **{k: v for k, v in ancestors.items() if k in names})
    movers = Person.objects.filter(
        pk__in=Residence.objects.filter(**{f"house__{level}_id": instance.pk}).values("person_id"))
    for person in movers.only("pk").iterator():
        refresh_person_place(person)


__all__ += ["follow_place_move"]
