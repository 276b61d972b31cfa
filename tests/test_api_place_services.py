"""The place write path (places.services): validation, scope, optimistic locking, moving a place."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from core.services import ConflictError
from places.models import Building, Compound, House
from places.services import delete_place, save_compound, save_house


def test_officer_creates_a_house_and_its_ancestors_are_filled_and_audited(world):
    b = world.buildings["A1"]
    house = save_house(world.users.officer_a, {"building": b, "unit": "1", "floor": 3, "room": "309"})
    assert (house.compound_id, house.grid_id, house.community_id) == (b.compound_id, b.grid_id, b.community_id)
    assert AuditEvent.objects.filter(action="create", object_type="places.house", object_id=str(house.pk)).exists()


def test_a_floor_above_the_building_is_refused_in_chinese_and_nothing_is_saved(world):
    before = House.objects.count()
    with pytest.raises(ValidationError) as exc:
        save_house(world.users.officer_a, {"building": world.buildings["A1"], "floor": 9, "room": "901"})
    assert "超过了该楼栋的层数" in str(exc.value.message_dict["floor"])
    assert House.objects.count() == before


def test_a_duplicate_room_is_refused_with_the_constraint_message(world):
    with pytest.raises(ValidationError) as exc:
        save_house(world.users.officer_a, {"building": world.buildings["A1"], "unit": "1", "floor": 1, "room": "101"})
    assert "相同房号" in str(exc.value)


def test_grid_worker_cannot_create_a_house_under_a_building_of_another_grid(world):
    with pytest.raises(ValidationError) as exc:
        save_house(world.users.worker_a1, {"building": world.buildings["B1"], "floor": 2, "room": "299"})
    assert "building" in exc.value.message_dict


def test_grid_worker_may_not_create_a_compound(world):
    with pytest.raises(PermissionDenied):
        save_compound(world.users.worker_a1, {"grid": world.grids["A1"], "name": "新小区"})


def test_a_stale_version_is_refused_and_the_first_change_survives(world):
    house = world.houses["A1"][0]
    save_house(world.users.worker_a1, {"note": "第一位"}, house, expected_version=house.version)
    with pytest.raises(ConflictError):
        save_house(world.users.officer_a, {"note": "第二位"}, house,
                   expected_version=house.version)
    house.refresh_from_db()
    assert house.note == "第一位" and house.version == 2


def test_moving_a_compound_to_another_grid_moves_its_buildings_and_houses(world):
    comp = world.compounds["A2"]
    save_compound(world.users.officer_a, {"grid": world.grids["A1"]}, comp)
    assert set(Building.objects.filter(compound=comp).values_list("grid_id", flat=True)) == {world.grids["A1"].pk}
    assert set(House.objects.filter(compound=comp).values_list("grid_id", flat=True)) == {world.grids["A1"].pk}


def test_officer_cannot_move_a_compound_out_of_their_community(world):
    comp = world.compounds["A1"]
    with pytest.raises(ValidationError):
        save_compound(world.users.officer_a, {"grid": world.grids["B1"]}, comp)
    assert Compound.objects.get(pk=comp.pk).grid_id == world.grids["A1"].pk


def test_a_house_with_residence_history_cannot_be_deleted(world, django_user_model):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        delete_place(None, world.houses["A1"][0])
    assert House.objects.filter(pk=world.houses["A1"][0].pk).exists()


def test_residents_of_a_moved_compound_follow_it_into_the_new_grid(world):
    from people.models import Person

    comp = world.compounds["A2"]
    save_compound(world.users.officer_a, {"grid": world.grids["A1"]}, comp)
    movers = Person.objects.filter(residences__house__compound=comp).distinct()
    assert movers.exists()
    assert set(movers.values_list("grid_id", flat=True)) == {world.grids["A1"].pk}
    assert set(Person.objects.restrict(world.users.worker_a2, "view").values_list("pk", flat=True)).isdisjoint(
        movers.values_list("pk", flat=True))
