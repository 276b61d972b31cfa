"""The foundation: scoping by place, encrypted numbers, the one write path."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from conftest import resident_id
from people.models import Person, Residence
from people.services import PersonData, move_out, save_person
from places.models import House


def wrong_check_digit(first17: str) -> str:
    good = resident_id(first17)
    return first17 + ("0" if good[-1] != "0" else "1")


def test_grid_worker_sees_only_houses_of_their_grid(world):
    mine = House.objects.restrict(world.users.worker_a1, "view")
    assert set(mine.values_list("grid_id", flat=True)) == {world.grids["A1"].pk}
    assert mine.count() == len(world.houses["A1"])


def test_community_officer_sees_every_grid_of_their_community_only(world):
    seen = set(House.objects.restrict(world.users.officer_a, "view").values_list("grid_id", flat=True))
    assert seen == {world.grids["A1"].pk, world.grids["A2"].pk}


def test_user_without_grant_sees_nothing(world):
    assert not Person.objects.restrict(world.users.nobody, "view").exists()
    assert not Person.objects.restrict(world.users.auditor, "view").exists()


def test_grid_worker_cannot_reveal_numbers(world):
    assert not Person.objects.restrict(world.users.worker_a1, "reveal").exists()
    assert Person.objects.restrict(world.users.officer_a, "reveal").count() == 8


def test_person_numbers_are_not_stored_in_clear(world):
    with connection.cursor() as cur:
        cur.execute("SELECT id_number_enc, id_number_masked, phone_enc, phone_masked FROM people_person")
        rows = cur.fetchall()
    text = repr(rows)
    assert rows
    assert not re.search(r"\d{17}[\dXx]", text)
    assert not re.search(r"1[3-9]\d{9}", text)
    zhang = world.people["张三"]
    number = resident_id("32050719800101001")
    assert zhang.reveal_id_number() == number
    assert Person.objects.filter(id_number_bidx=Person.id_index("resident_id", number)).get() == zhang


def test_moving_out_keeps_the_residence_and_updates_counts(world):
    zhang = world.people["张三"]
    res = Residence.objects.get(person=zhang, moved_out__isnull=True)
    move_out(world.users.worker_a1, res, reason="搬家")
    res.refresh_from_db()
    assert res.moved_out is not None
    assert Residence.objects.filter(person=zhang).count() == 1
    assert House.objects.get(pk=res.house_id).resident_count == 1


def test_bad_resident_id_is_refused_in_chinese_and_nothing_is_saved(world):
    before = Person.objects.count()
    with pytest.raises(ValidationError) as exc:
        save_person(world.users.worker_a1, PersonData(name="错号", id_number=wrong_check_digit("32050719800101009")),
                    house=world.houses["A1"][5])
    assert "校验位" in str(exc.value)
    assert Person.objects.count() == before


def test_grid_worker_cannot_register_a_person_in_another_grid(world):
    from django.core.exceptions import PermissionDenied

    before = Person.objects.count()
    with pytest.raises(PermissionDenied):
        save_person(world.users.worker_a1, PersonData(name="越界", id_number=resident_id("32050719900101001")),
                    house=world.houses["B1"][5], accept_warnings=True)
    assert Person.objects.count() == before
