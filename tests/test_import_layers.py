"""The importer in layers, writing through the project's one bulk loader with columns read from the models."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps.registry import Apps
from django.db import connection, models
from django.utils import timezone

from core.bulk import BulkLoader, BulkTable
from demo.loader import BulkLoader as DemoLoader
from people.importer import writer
from people.importer.parser import Row
from people.models import Person, Residence
from people.services import PersonData
from places.models import Building, House


def test_the_demo_generator_and_the_import_share_one_bulk_loader():
    assert issubclass(DemoLoader, BulkLoader)
    assert writer.BulkLoader is BulkLoader


@pytest.mark.parametrize("model", [Building, House, Person, Residence])
def test_the_import_writes_every_concrete_field_of_the_models(db, model):
    table = BulkLoader().table(model)
    assert table.column_names == [f.column for f in model._meta.concrete_fields]


def _person_row() -> dict:
    row = Row(number=2, house_key=(1, "5", "1", "301"), floor=3, use="owner", area=None,
              data=PersonData(name="陈大明", id_number="320507198501010019", birth_date=dt.date(1985, 1, 1), sex="M"),
              bidx="b", phone_bidx="", relation="householder", role="owner", moved_in=None, tags=[])
    return writer.person_row(7, row, (1, 2, 3), timezone.now())


def test_a_person_row_of_the_import_gives_every_field_that_has_no_default(db):
    values = _person_row()
    table = BulkLoader().table(Person)
    assert set(table.required) <= set(values)
    assert set(values) <= set(table.attnames)
    (written,) = table.tuples([values])
    assert len(written) == len(Person._meta.concrete_fields)


def _person_with(extra: models.Field) -> type[models.Model]:
    """Person's fields plus one more, as a model of its own registry (nothing is created in the database)."""
    attrs = {"__module__": __name__, "Meta": type("Meta", (), {"app_label": "layers", "apps": Apps(),
                                                               "db_table": "people_person", "managed": False})}
    for f in Person._meta.concrete_fields:
        if f.primary_key:
            continue
        clone = f.clone()
        if isinstance(clone, models.ForeignKey):
            clone = models.IntegerField(null=clone.null, db_column=f.column)
            attrs[f.attname] = clone
        else:
            attrs[f.name] = clone
    attrs["added"] = extra
    return type("PersonPlus", (models.Model,), attrs)


def test_a_not_null_field_added_to_person_without_a_default_stops_the_write_by_name(db):
    model = _person_with(models.CharField(max_length=8))
    table = BulkTable(model, connection)
    assert "added" in table.attnames and "added" in table.required
    with pytest.raises(ValueError, match="people_person.added needs a value"):
        table.tuples([_person_row()])


def test_a_field_added_to_person_with_a_default_is_written_with_it(db):
    model = _person_with(models.CharField(max_length=8, default="x"))
    table = BulkTable(model, connection)
    assert "added" not in table.required
    (values,) = table.tuples([_person_row()])
    assert values[table.attnames.index("added")] == "x"


def test_the_rows_written_from_value_tuples_are_the_rows_the_dicts_give(world):
    """The import writes ``build_values`` through ``BulkTable.maker``; the benchmark's raw load (and the tests above)
    read ``build_rows`` through ``BulkTable.tuples``: both give the same database rows, column for column."""
    from django.db import transaction

    from conftest import resident_id
    from tests.test_import import HEADER, family, xlsx

    header = [*HEADER, "面积", "入住日期", "房屋用途"]
    rows = [[*r, "89.5", "2021-03-04", "出租"] for r in family()]
    rows.append(["A1花园", "6幢", "2单元", "1201", "王芳", resident_id("32050719900307002"), "", "户主", "流动人口",
                 "", "", ""])
    plan = writer.plan_import(xlsx(rows, header), world.users.officer_a, precompute=True)
    assert plan.ok, plan.errors
    now, today = timezone.now(), timezone.localdate()
    loader = BulkLoader()
    with transaction.atomic():
        values = writer.build_values(plan, today, now, loader)
        dicts = writer.build_rows(plan, today, now, loader)
        transaction.set_rollback(True)
    for key, model in writer.WRITE_ORDER:
        table = loader.table(model)
        make = table.maker(writer.NAMES[key], writer.constants(key, now))
        assert len(values[key]) == len(dicts[key]) > 0
        # ids were allocated twice (once per build): compare everything but the primary key and what points to it
        skip = {i for i, f in enumerate(table.fields) if f.primary_key or f.attname in {"building_id", "person_id",
                                                                                          "house_id"}}
        made = [tuple(v for i, v in enumerate(make(row)) if i not in skip) for row in values[key]]
        from_dicts = [tuple(v for i, v in enumerate(row) if i not in skip) for row in table.tuples(dicts[key])]
        assert made == from_dicts


def test_a_value_tuple_maker_refuses_a_column_without_default_by_name(db):
    model = _person_with(models.CharField(max_length=8))
    table = BulkTable(model, connection)
    with pytest.raises(ValueError, match="people_person.added needs a value"):
        table.maker(writer.NAMES["person"], writer.constants("person", timezone.now()))
    with_default = BulkTable(_person_with(models.CharField(max_length=8, default="x")), connection)
    make = with_default.maker(writer.NAMES["person"], writer.constants("person", timezone.now()))
    row = make(tuple(range(len(writer.NAMES["person"]))))
    assert row[with_default.attnames.index("added")] == "x"
