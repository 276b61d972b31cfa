"""Helpers for quality's tests: crafted people and residences written straight to the tables (the rules must
find data that the registry's own validation would have refused), and the findings of a recompute."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

_seq = itertools.count(1)


def rid(birth: str, region: str = "320507", seq: int | None = None, male: bool = True) -> str:
    """A valid resident ID for a birth date ``YYYYMMDD`` (check digit computed)."""
    from stdnum.cn import ric

    n = seq if seq is not None else next(_seq)
    body = f"{region}{birth}{n % 100:02d}{(1 if male else 2) + 2 * (n % 4)}"
    return body + ric.calc_check_digit(body + "0")


def add_person(house, name: str, *, birth: dt.date | None = dt.date(1980, 5, 5), sex: str = "M",
               id_number: str | None = "auto", relation: str = "", role: str = "family", phone: str = "13800138000",
               id_type: str = "resident_id"):
    from people.models import Person, Residence

    p = Person(name=name, id_type=id_type, sex=sex, birth_date=birth, grid_id=house.grid_id,
               community_id=house.community_id, street_id=house.street_id, is_current=True)
    if id_number == "auto":
        id_number = rid(birth.strftime("%Y%m%d"), male=sex != "F") if birth else ""
    p.set_id_number(id_number or "")
    p.set_phone(phone)
    p.save()
    Residence.objects.create(person=p, house=house, relation=relation, role=role, moved_in=dt.date(2024, 1, 1))
    return p


def found(rule: str) -> set[str]:
    from quality.models import QualityIssue

    return set(QualityIssue.objects.filter(rule=rule, status="open").values_list("subject", flat=True))


def house_subject(house) -> str:
    return f"{house.pk}:0"


def person_subject(person) -> str:
    return f"0:{person.pk}"


@pytest.fixture
def empty_houses(world):
    """Houses of grid A1 with nobody in them (the world puts its people in the first two of each grid)."""
    return world.houses["A1"][4:]
