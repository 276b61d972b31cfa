"""Fixtures of the cockpit tests: the conftest world made more varied (uses, residency types, ages, tags), and a
direct count of every figure, place by place, written without the cockpit's SQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from conftest import resident_id

TAGS = {"elderly_alone": "独居老人", "disabled": "残疾人", "veteran": "退役军人"}


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def enrich(world) -> None:
    """Vary the world: house uses, a floating and a foreign resident, the very old and the very young, tags."""
    from people.models import PersonTag, Tag
    from people.services import PersonData, save_person
    from places.models import House

    House.objects.filter(pk__in=[h.pk for h in world.houses["A1"][4:7]]).update(use="rented")
    House.objects.filter(pk__in=[h.pk for h in world.houses["A2"][3:9]]).update(use="vacant")
    House.objects.filter(pk=world.houses["B1"][10].pk).update(use="commercial")
    tags = {code: Tag.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in TAGS.items()}
    extra = [
        ("A1", 5, "马流动", "44030519900101001", "floating", []),
        ("A1", 5, "马老太", "32050719300101002", "registered", ["elderly_alone", "disabled"]),
        ("A2", 0, "刘宝宝", "32050720240101003", "registered", []),
        ("B1", 6, "钱退伍", "32050719700101004", "registered", ["veteran"]),
    ]
    for grid, idx, name, first17, residency, codes in extra:
        house = world.houses[grid][idx]
        save_person(None, PersonData(name=name, id_number=resident_id(first17), residency_type=residency, tags=codes),
                    house=house, relation="householder" if not house.residences.exists() else "relative",
                    moved_in=dt.date(2021, 1, 1), accept_warnings=True, source="test")
    foreigner = save_person(None, PersonData(name="John Smith", id_type="passport", id_number="E12345678",
                                             residency_type="foreign", sex="M"),
                            house=world.houses["B1"][7], relation="householder", moved_in=dt.date(2022, 1, 1),
                            accept_warnings=True, source="test")
    people = list(world.people.values())
    PersonTag.objects.create(person=people[0], tag=tags["elderly_alone"])
    PersonTag.objects.create(person=people[1], tag=tags["elderly_alone"])
    PersonTag.objects.create(person=people[4], tag=tags["disabled"])
    PersonTag.objects.create(person=foreigner, tag=tags["veteran"])


def age_label(birth: dt.date | None, today: dt.date) -> str:
    if birth is None:
        return "?"
    age = today.year - birth.year
    if (today.month, today.day) < (birth.month, birth.day):
        age -= 1
    if age >= 85:
        return "85+"
    low = age // 5 * 5
    return f"{low}-{low + 4}"


def direct_counts(level: str, place_id: int) -> dict[str, dict[str, int]]:
    """Every cockpit figure of one place, counted row by row in Python (no GROUP BY, no cockpit code)."""
    from people.models import Residence
    from places.models import House

    today = timezone.localdate()
    houses = list(House.objects.filter(**{f"{level}_id": place_id}))
    open_res = list(Residence.objects.filter(house__in=houses, moved_out__isnull=True).select_related("person"))
    residents = [r.person for r in open_res]  # one per open residence
    per_house = Counter(r.house_id for r in open_res)
    out = {
        "cockpit.houses": Counter(h.use for h in houses),
        "cockpit.population": Counter(p.residency_type for p in residents),
        "cockpit.age": Counter(f"{ {'M': 'm', 'F': 'f'}.get(p.sex, '?')}:{age_label(p.birth_date, today)}"
                               for p in residents),
        "cockpit.groups": Counter(t.code for p in residents for t in p.tags.all()),
        "cockpit.households": Counter(str(n) if n < 6 else "6+" for n in per_house.values() if n),
    }
    return {k: {key: n for key, n in v.items() if n} for k, v in out.items()}
