"""The review card shows the change field by field: the one person added, not the whole household struck."""

from __future__ import annotations

from conftest import resident_id
from fieldwork import services
from fieldwork.models import ChangeRequest
from fieldwork.review import change_view, resident_items
from fieldwork.tests.conftest import fresh, new_id

NEW_ID = resident_id("11010119900615123")


def test_the_household_is_compared_person_by_person():
    items = resident_items([["张三", "householder"], ["李四", "spouse"]],
                           [["张三", "householder"], ["李四", "spouse"], ["林黛玉", "none"]])
    assert [i["state"] for i in items] == ["same", "same", "added"]
    assert "林黛玉" in items[2]["label"]
    gone = resident_items([["张三", "householder"], ["李四", "spouse"]], [["张三", "householder"]])
    assert [i["state"] for i in gone] == ["same", "removed"]


def test_a_new_person_shows_the_masked_id_birth_date_and_the_visits_note(world):
    worker = fresh(world.users.worker_a1)
    house = world.houses["A1"][0]
    visit = services.submit_visit(worker, house, client_id=new_id(), house_version=house.version,
                                  note="新租客，已看过身份证", items=[
                                      {"kind": "new_person", "payload": {"name": "林黛玉", "id_number": NEW_ID,
                                                                          "relation": "none", "role": "tenant"}}])
    cr = ChangeRequest.objects.get(visit=visit, kind="new_person")
    view = change_view(cr)
    fields = dict(view["person_fields"])
    assert fields["姓名"] == "林黛玉"
    assert fields["出生日期"] == "1990-06-15"
    assert fields["证件号码"] == cr.payload["id_number_masked"] and NEW_ID not in fields["证件号码"]
    assert view["visit_note"] == "新租客，已看过身份证"
    residents = next(r for r in view["rows"] if r["key"] == "residents")
    assert [i["state"] for i in residents["people"]].count("added") == 1
    assert all(i["state"] == "same" for i in residents["people"] if "林黛玉" not in i["label"])
