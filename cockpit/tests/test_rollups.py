"""The rollups equal a direct count of the registry, for every figure, place by place, at every level; the
incremental refresh after a move-in recomputes exactly the places above the house and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from cockpit import registry
from cockpit.board import rollup_values
from cockpit.models import DirtyPlace, Rollup
from cockpit.rollup import expand, full_rebuild, refresh_dirty
from cockpit.tests.conftest import direct_counts, enrich
from places.models import Building, Community, Compound, Grid, Street

CORE = ["cockpit.houses", "cockpit.population", "cockpit.age", "cockpit.groups", "cockpit.households"]
MODELS = {"street": Street, "community": Community, "grid": Grid, "compound": Compound, "building": Building}


def stored(level: str, pk: int) -> dict[str, dict[str, int]]:
    values = rollup_values(level, [pk], CORE).get(pk, {})
    return {m: {k: int(v) for k, v in values.get(m, {}).items()} for m in CORE}


def assert_every_place_matches() -> int:
    checked = 0
    for level, model in MODELS.items():
        for pk in model.objects.values_list("pk", flat=True):
            expected = direct_counts(level, pk)
            assert stored(level, pk) == expected, f"{level} {pk}"
            checked += 1
    return checked


@pytest.mark.django_db
def test_every_figure_of_every_place_equals_a_direct_count(world):
    enrich(world)
    full_rebuild()
    checked = assert_every_place_matches()
    assert checked == 1 + 2 + 3 + 3 + 3
    street = stored("street", world.street.pk)
    # the world is not trivial: several uses, residency types, tags and household sizes
    assert len(street["cockpit.houses"]) == 4 and len(street["cockpit.population"]) == 3
    assert street["cockpit.groups"] == {"elderly_alone": 3, "disabled": 2, "veteran": 2}
    assert sum(street["cockpit.age"].values()) == sum(street["cockpit.population"].values()) == 17
    assert "f:85+" in street["cockpit.age"] or "m:85+" in street["cockpit.age"]
    assert "?:?" not in street["cockpit.age"] and "m:?" in street["cockpit.age"]  # the passport holder


@pytest.mark.django_db
def test_the_rollups_of_a_small_generated_demo_equal_direct_counts():
    from demo.generator import generate

    generate(0.01, seed=5, progress=False, reset=True)
    call_command("cockpit_demo")
    assert Rollup.objects.filter(level="building").exists()
    for level, model in MODELS.items():
        for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:6]:
            assert stored(level, pk) == direct_counts(level, pk), f"{level} {pk}"


@pytest.mark.django_db
def test_a_move_in_refreshes_exactly_the_building_and_its_ancestors(world):
    from people.services import PersonData, save_person

    enrich(world)
    full_rebuild()
    assert not DirtyPlace.objects.exists()
    before = {(r.level, r.place_id, r.metric, r.key): (r.value, r.computed_at) for r in Rollup.objects.all()}
    house = world.houses["B1"][20]
    DirtyPlace.objects.all().delete()
    save_person(None, PersonData(name="新住户"), house=house, relation="householder", moved_in=dt.date(2024, 5, 1),
                accept_warnings=True, source="test")
    marks = set(DirtyPlace.objects.values_list("level", "place_id"))
    assert marks == {("building", world.buildings["B1"].pk)}
    todo = expand(marks)
    assert todo == {"street": {world.street.pk}, "community": {world.communities["B"].pk},
                    "grid": {world.grids["B1"].pk}, "compound": {world.compounds["B1"].pk},
                    "building": {world.buildings["B1"].pk}}
    result = refresh_dirty()
    assert not DirtyPlace.objects.exists() and result.places["building"] == 1
    touched = {(lv, pk) for lv, ids in todo.items() for pk in ids}
    after = {(r.level, r.place_id, r.metric, r.key): (r.value, r.computed_at) for r in Rollup.objects.all()}
    for key, (value, at) in after.items():
        if (key[0], key[1]) not in touched:
            assert before.get(key) == (value, at), key  # other places: not even rewritten
    for level, pk in touched:
        assert stored(level, pk)["cockpit.population"].get("registered", 0) == \
            direct_counts(level, pk)["cockpit.population"]["registered"]
    assert stored("grid", world.grids["B1"].pk)["cockpit.population"]["registered"] == 6  # 4 + 钱退伍 + the newcomer
    assert stored("grid", world.grids["A1"].pk)["cockpit.population"].get("registered") == 5
    assert_every_place_matches()


@pytest.mark.django_db
def test_a_move_out_and_a_new_tag_reach_the_rollups_through_the_job(world, immediate_tasks):
    from cockpit.tasks import refresh_rollups
    from people.models import PersonTag, Residence, Tag
    from people.services import move_out

    enrich(world)
    full_rebuild()
    person = world.people["张三"]
    res = Residence.objects.get(person=person, moved_out__isnull=True)
    move_out(None, res, reason="搬家")
    tag = Tag.objects.get(code="veteran")
    PersonTag.objects.create(person=world.people["赵敏"], tag=tag)
    assert DirtyPlace.objects.exists()
    refresh_rollups.enqueue()
    assert not DirtyPlace.objects.exists()
    assert_every_place_matches()


@pytest.mark.django_db
def test_a_dirty_grid_refreshes_its_compounds_and_buildings_and_a_dirty_street_everything(world):
    todo = expand([("grid", world.grids["A2"].pk)])
    assert todo["building"] == {world.buildings["A2"].pk} and todo["compound"] == {world.compounds["A2"].pk}
    assert todo["community"] == {world.communities["A"].pk} and todo["street"] == {world.street.pk}
    assert expand([("street", world.street.pk)]) is None


@pytest.mark.django_db
def test_the_rollup_command_refreshes_dirty_places_or_everything(world, capsys):
    DirtyPlace.objects.all().delete()
    registry.mark_dirty("building", world.buildings["A1"].pk)
    call_command("cockpit_rollup")
    assert '"building": 1' in capsys.readouterr().out
    call_command("cockpit_rollup", "--full")
    assert '"full": true' in capsys.readouterr().out
    assert Rollup.objects.filter(level="street", place_id=world.street.pk, metric="cockpit.houses").exists()


def test_the_jobs_are_registered_with_the_schedule():
    from core.schedule import registered

    jobs = {j.name: j for j in registered()}
    assert jobs["cockpit.refresh_rollups"].every <= dt.timedelta(seconds=30)
    assert jobs["cockpit.rebuild_rollups"].daily_at is not None


def test_the_registry_refuses_malformed_entries():
    with pytest.raises(ValueError):
        registry.register_metric("nodot", label="x", compute=lambda level, place_ids=None: {})
    with pytest.raises(ValueError):
        registry.register_panel("t.p", title="x", metrics=["cockpit.houses"], chart="radar")
    with pytest.raises(ValueError):
        registry.register_metric("t.m", label="x", compute=lambda level, place_ids=None: {}, levels=["house"])
    with pytest.raises(ValueError):
        registry.mark_dirty("house", 1)
