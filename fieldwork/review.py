"""What a reviewer reads for one change request: the change field by field.

``services.describe`` gives one row per touched field with the whole value before and after; here the household
is compared resident by resident (the one person added or moved out is marked, the others stay plain), a new
person's own fields are listed (masked ID number, birth date, sex...), and the visit's note and photo come along.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from fieldwork import services
from fieldwork.models import ChangeKind, ChangeRequest
from people.choices import IdType, Relation, ResidenceRole, ResidencyType, Sex

__all__ = ["change_view", "new_person_fields", "resident_items"]


def resident_items(before: list, after: list) -> list[dict]:
    """The household before and after, one item a person: ``state`` is "same", "added" or "removed"."""
    before = [tuple(r) for r in before or []]
    after = [tuple(r) for r in after or []]
    items = []
    remaining = list(after)
    for r in before:
        if r in remaining:
            remaining.remove(r)
            items.append({"label": services._resident_label(*r), "state": "same"})
        else:
            items.append({"label": services._resident_label(*r), "state": "removed"})
    items += [{"label": services._resident_label(*r), "state": "added"} for r in remaining]
    return items


def _date(value) -> str:
    if not value:
        return ""
    try:
        return dt.date.fromisoformat(str(value)).strftime("%Y-%m-%d")
    except ValueError:
        return str(value)


def new_person_fields(cr: ChangeRequest) -> list[tuple[str, str]]:
    """The fields of the person a new-person or move-in request registers (numbers masked), those filled in."""
    if cr.kind not in (ChangeKind.NEW_PERSON, ChangeKind.MOVE_IN):
        return []
    p = cr.payload or {}
    person = cr.person
    choices = {"sex": dict(Sex.choices), "id_type": dict(IdType.choices),
               "residency_type": dict(ResidencyType.choices)}
    relation = dict(Relation.choices).get(p.get("relation") or "") or dict(ResidenceRole.choices).get(
        p.get("role") or "", "")
    rows = [
        (_("姓名"), p.get("name") or (person.name if person else "")),
        (_("证件类型"), str(choices["id_type"].get(p.get("id_type") or "", ""))),
        (_("证件号码"), p.get("id_number_masked") or (person.id_number_masked if person else "")),
        (_("出生日期"), _date(p.get("birth_date") or (person.birth_date if person else ""))),
        (_("性别"), str(choices["sex"].get(p.get("sex") or (person.sex if person else ""), ""))),
        (_("联系电话"), p.get("phone_masked") or (person.phone_masked if person else "")),
        (_("人口类型"), str(choices["residency_type"].get(p.get("residency_type") or "", ""))),
        (_("民族"), p.get("ethnicity") or ""),
        (_("国籍"), p.get("nationality") or ""),
        (_("户籍地址"), p.get("hukou_address") or ""),
        (_("工作单位"), p.get("work_unit") or ""),
        (_("与户主关系"), str(relation or "")),
        (_("入住日期"), _date(p.get("moved_in"))),
        (_("备注"), p.get("note") or ""),
    ]
    return [(label, value) for label, value in rows if value]


def change_view(cr: ChangeRequest) -> dict:
    """Everything the review card shows: the rows that differ (residents item by item), the new person, the visit."""
    rows = []
    for row in services.describe(cr):
        if not row["differs"]:
            continue
        if row["key"] == "residents":
            row = {**row, "people": resident_items(cr.before.get("residents"), cr.after.get("residents"))}
        rows.append(row)
    visit = cr.visit if cr.visit_id else None
    return {
        "rows": rows,
        "person_fields": new_person_fields(cr),
        "visit_note": visit.note if visit is not None else "",
        "visit_photo": reverse("fieldwork:visit_photo", args=[visit.pk]) if visit is not None and visit.photo else "",
        "visit_url": reverse("fieldwork:visit", args=[visit.pk]) if visit is not None else "",
        "visited_at": visit.visited_at if visit is not None else None,
    }
