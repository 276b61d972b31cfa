"""The REST API: scoping, masking, move-in / move-out history, versions, validation, reveal, query counts."""

import re

import pytest

from conftest import resident_id
from core.models import AuditEvent
from core.testing import api_client
from people.models import Person, Residence
from places.models import House

ID_RE = re.compile(r"\d{17}[\dXx]")
PHONE_RE = re.compile(r"1[3-9]\d{9}")

LISTS = ["/api/places/streets/", "/api/places/communities/", "/api/places/grids/", "/api/places/compounds/",
         "/api/places/buildings/", "/api/places/houses/", "/api/people/persons/", "/api/people/residences/",
         "/api/people/enterprises/", "/api/people/tags/"]


# --- scoping ---------------------------------------------------------------------------------------------------
def test_grid_worker_gets_not_found_for_a_house_of_another_grid(world):
    house = world.houses["B1"][0]
    client = api_client(world.users.worker_a1)
    assert client.get(f"/api/places/houses/{house.pk}/").status_code == 404
    patched = client.patch(f"/api/places/houses/{house.pk}/", {"note": "x", "version": 1}, format="json")
    assert patched.status_code == 404
    assert House.objects.get(pk=house.pk).note == ""


def test_grid_worker_lists_only_their_grid(world):
    client = api_client(world.users.worker_a1)
    grid = world.grids["A1"].pk
    houses = client.get("/api/places/houses/", {"page_size": 500}).json()
    assert houses["count"] == len(world.houses["A1"])
    assert {h["grid"] for h in houses["results"]} == {grid}
    persons = client.get("/api/people/persons/").json()["results"]
    assert persons and {p["grid"] for p in persons} == {grid}
    residences = client.get("/api/people/residences/").json()["results"]
    assert residences and all(House.objects.get(pk=r["house"]).grid_id == grid for r in residences)
    grids = client.get("/api/places/grids/").json()["results"]
    assert [g["id"] for g in grids] == [grid]


def test_grid_worker_sees_their_own_community_and_street_but_not_the_neighbouring_community(world):
    client = api_client(world.users.worker_b1)
    names = {c["name"] for c in client.get("/api/places/communities/").json()["results"]}
    assert names == {"社区B"}
    assert client.get(f"/api/places/communities/{world.communities['A'].pk}/").status_code == 404
    assert client.get(f"/api/places/streets/{world.street.pk}/").status_code == 200


def test_filters_of_the_ui_work_on_the_api_and_cannot_probe_other_grids(world):
    client = api_client(world.users.officer_a)
    a2 = client.get("/api/places/houses/", {"grid_id": world.grids["A2"].pk, "page_size": 500}).json()
    assert a2["count"] == len(world.houses["A2"])
    probe = api_client(world.users.worker_a1).get("/api/places/houses/", {"grid_id": world.grids["B1"].pk})
    assert probe.status_code == 400  # not a choice: the grid lies outside the user's scope


def test_a_person_of_another_grid_cannot_be_moved_into_my_grid_by_id(world):
    stranger = world.people["赵敏"]  # lives in grid B1
    response = api_client(world.users.worker_a1).post(
        f"/api/people/persons/{stranger.pk}/move-in/", {"house": world.houses["A1"][9].pk}, format="json")
    assert response.status_code == 404


def test_user_without_any_grant_sees_empty_lists(world):
    client = api_client(world.users.nobody)
    for url in LISTS:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.json()["count"] == 0, url


# --- masking ---------------------------------------------------------------------------------------------------
def test_no_full_id_or_phone_number_in_any_response_for_a_grid_worker(world):
    from stdnum.cn import uscc

    from people.services import save_enterprise

    save_enterprise(None, {"name": "活力科技", "credit_code": "91320507MA1WXY123" + uscc.calc_check_digit(
        "91320507MA1WXY123"), "compound": world.compounds["A1"]}, contact_phone="13700137000")
    client = api_client(world.users.worker_a1)
    bodies = []
    created = client.post("/api/people/persons/", {
        "name": "新邻居", "id_number": resident_id("11010119900307123"), "phone": "13912345678",
        "house": world.houses["A1"][10].pk, "relation": "householder", "accept_warnings": True}, format="json")
    assert created.status_code == 201, created.content
    bodies.append(created.content.decode())
    for url in LISTS:
        listing = client.get(url, {"page_size": 500})
        bodies.append(listing.content.decode())
        for row in listing.json()["results"][:20]:
            bodies.append(client.get(f"{url}{row['id']}/").content.decode())
    person = world.people["张三"]
    bodies.append(client.post(f"/api/people/persons/{person.pk}/reveal/",
                              {"field": "id_number", "purpose": "核实身份信息"}, format="json").content.decode())
    text = "\n".join(bodies)
    assert "********" in text and "****" in text  # masked values are there
    assert not ID_RE.search(text)
    assert not PHONE_RE.search(text)


def test_person_responses_carry_masked_numbers_only(world):
    body = api_client(world.users.worker_a1).get(f"/api/people/persons/{world.people['张三'].pk}/").json()
    assert body["id_number_masked"].startswith("320507") and "*" in body["id_number_masked"]
    assert re.fullmatch(r"138\*{4}\d{4}", body["phone_masked"])
    assert "id_number" not in body and "phone" not in body


def test_reading_a_person_is_audited(world):
    person = world.people["张三"]
    api_client(world.users.worker_a1).get(f"/api/people/persons/{person.pk}/")
    assert AuditEvent.objects.filter(action="view", object_type="people.person", object_id=str(person.pk),
                                     username="worker_a1").exists()


# --- reveal ----------------------------------------------------------------------------------------------------
def test_community_officer_reveals_a_number_with_a_reason_and_it_is_audited(world):
    person = world.people["张三"]
    response = api_client(world.users.officer_a).post(
        f"/api/people/persons/{person.pk}/reveal/", {"field": "id_number", "purpose": "办理低保核对"}, format="json")
    assert response.status_code == 200
    assert response.json()["value"] == resident_id("32050719800101001")
    ev = AuditEvent.objects.filter(action="reveal", object_id=str(person.pk)).latest("id")
    assert ev.purpose == "办理低保核对" and ev.result == "ok"
    assert resident_id("32050719800101001") not in str(ev.changes)


def test_grid_worker_may_not_reveal_and_the_attempt_is_audited(world):
    person = world.people["张三"]
    response = api_client(world.users.worker_a1).post(
        f"/api/people/persons/{person.pk}/reveal/", {"field": "phone", "purpose": "联系本人"}, format="json")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="reveal", result="denied", username="worker_a1").exists()


def test_reveal_without_a_reason_is_refused(world):
    response = api_client(world.users.officer_a).post(
        f"/api/people/persons/{world.people['张三'].pk}/reveal/", {"field": "phone", "purpose": "看"}, format="json")
    assert response.status_code == 400
    assert "事由" in response.json()["purpose"][0]


# --- validation ------------------------------------------------------------------------------------------------
def test_a_wrong_check_digit_is_refused_in_chinese_naming_the_field(world):
    good = resident_id("32050719800101009")
    bad = good[:17] + ("0" if good[-1] != "0" else "1")
    before = Person.objects.count()
    response = api_client(world.users.worker_a1).post("/api/people/persons/", {
        "name": "错号", "id_number": bad, "house": world.houses["A1"][5].pk}, format="json")
    assert response.status_code == 400
    assert "校验位" in response.json()["id_number"][0]
    assert Person.objects.count() == before


def test_an_unknown_region_is_a_warning_that_needs_accept_warnings(world):
    number = resident_id("99050719800101001")
    body = {"name": "远方", "id_number": number, "house": world.houses["A1"][5].pk}
    client = api_client(world.users.worker_a1)
    first = client.post("/api/people/persons/", body, format="json")
    assert first.status_code == 400
    assert "accept_warnings" in first.json() and first.json()["id_number"]
    second = client.post("/api/people/persons/", {**body, "accept_warnings": True}, format="json")
    assert second.status_code == 201, second.content
    assert Person.objects.get(pk=second.json()["id"]).reveal_id_number() == number


def test_a_new_person_needs_a_house(world):
    response = api_client(world.users.worker_a1).post("/api/people/persons/", {"name": "无房"}, format="json")
    assert response.status_code == 400
    assert response.json()["house"]


def test_a_duplicate_room_is_refused_with_a_readable_message(world):
    response = api_client(world.users.officer_a).post("/api/places/houses/", {
        "building": world.buildings["A1"].pk, "unit": "1", "floor": 1, "room": "101"}, format="json")
    assert response.status_code == 400
    assert "相同房号" in response.content.decode()


# --- versions --------------------------------------------------------------------------------------------------
def test_a_stale_version_in_the_body_is_refused_and_the_first_writer_wins(world):
    person = world.people["张三"]
    url = f"/api/people/persons/{person.pk}/"
    first = api_client(world.users.worker_a1).patch(url, {"work_unit": "第一位", "version": person.version},
                                                    format="json")
    assert first.status_code == 200
    second = api_client(world.users.officer_a).patch(url, {"work_unit": "第二位", "version": person.version},
                                                     format="json")
    assert second.status_code == 412
    assert second.json()["current_version"] == person.version + 1
    person.refresh_from_db()
    assert person.work_unit == "第一位"


def test_put_replaces_a_house_with_if_match(world):
    house = world.houses["A1"][3]
    client = api_client(world.users.officer_a)
    current = client.get(f"/api/places/houses/{house.pk}/")
    data = {**current.json(), "area": "75.50", "use": "vacant"}
    response = client.put(f"/api/places/houses/{house.pk}/", data, format="json", HTTP_IF_MATCH=current["ETag"])
    assert response.status_code == 200, response.content
    house.refresh_from_db()
    assert str(house.area) == "75.50" and house.use == "vacant"


def test_ancestors_of_a_house_cannot_be_written_directly(world):
    house = world.houses["A1"][3]
    response = api_client(world.users.officer_a).patch(
        f"/api/places/houses/{house.pk}/", {"grid": world.grids["A2"].pk, "version": house.version}, format="json")
    house.refresh_from_db()
    assert response.status_code == 200  # read-only fields are ignored
    assert house.grid_id == world.grids["A1"].pk


# --- move in / move out ----------------------------------------------------------------------------------------
def test_move_out_and_move_in_through_the_api_keep_the_history(world):
    person = world.people["张三"]
    old = Residence.objects.get(person=person, moved_out__isnull=True)
    client = api_client(world.users.worker_a1)
    out = client.post(f"/api/people/residences/{old.pk}/move-out/", {"moved_out": "2025-06-30", "reason": "换房"},
                      format="json")
    assert out.status_code == 200, out.content
    assert out.json()["moved_out"] == "2025-06-30" and out.json()["is_current"] is False
    new_house = world.houses["A1"][11]
    moved = client.post(f"/api/people/persons/{person.pk}/move-in/", {
        "house": new_house.pk, "relation": "householder", "role": "owner", "moved_in": "2025-07-01"}, format="json")
    assert moved.status_code == 201, moved.content
    history = client.get("/api/people/residences/", {"person_id": person.pk}).json()["results"]
    assert {(r["house"], r["moved_out"]) for r in history} == {(old.house_id, "2025-06-30"), (new_house.pk, None)}
    assert Residence.objects.filter(person=person).count() == 2
    new_house.refresh_from_db()
    assert new_house.resident_count == 1


def test_moving_out_twice_is_refused(world):
    res = Residence.objects.get(person=world.people["张三"], moved_out__isnull=True)
    client = api_client(world.users.worker_a1)
    assert client.post(f"/api/people/residences/{res.pk}/move-out/", {}, format="json").status_code == 200
    again = client.post(f"/api/people/residences/{res.pk}/move-out/", {}, format="json")
    assert again.status_code == 400
    assert "迁出" in again.json()["moved_out"][0]


def test_residences_and_persons_are_never_deleted_through_the_api(world):
    person = world.people["张三"]
    res = Residence.objects.filter(person=person).first()
    client = api_client(world.users.officer_a)
    assert client.delete(f"/api/people/persons/{person.pk}/").status_code == 405
    assert client.delete(f"/api/people/residences/{res.pk}/").status_code == 405
    assert Person.objects.filter(pk=person.pk).exists() and Residence.objects.filter(pk=res.pk).exists()


def test_a_house_with_history_cannot_be_deleted_even_with_the_permission(world):
    from core.testing import grant_perms

    grant_perms(world.users.officer_a, ["places.delete_house"])
    house = world.houses["A1"][0]
    response = api_client(world.users.officer_a).delete(f"/api/places/houses/{house.pk}/")
    assert response.status_code == 409
    assert "不能删除" in response.json()["non_field_errors"][0]
    assert House.objects.filter(pk=house.pk).exists()


# --- query counts ----------------------------------------------------------------------------------------------
def add_people(world, n):
    from people.services import PersonData, save_person

    houses = world.houses["A1"][2:]
    for i in range(n):
        save_person(None, PersonData(name=f"住户{i}", phone=f"1391234{i:04d}"), house=houses[i % len(houses)],
                    relation="child", accept_warnings=True, source="test")


@pytest.mark.parametrize("url", LISTS)
def test_list_endpoints_do_not_grow_queries_with_the_page_size(world, url, django_assert_max_num_queries):
    from people.models import PersonTag, Tag

    add_people(world, 30)
    tags = [Tag.objects.create(code=f"t{i}", name=f"标签{i}") for i in range(3)]
    for p in Person.objects.all():
        PersonTag.objects.bulk_create([PersonTag(person=p, tag=t) for t in tags])
    client = api_client(world.users.officer_a)
    client.get(url, {"page_size": 1})  # warm the token
    counts = []
    for size in (2, 40):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"page_size": size}).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(8):
        client.get(url, {"page_size": 40})


# --- search by number --------------------------------------------------------------------------------------------
def test_search_by_id_number_goes_in_the_body_not_the_url(world):
    client = api_client(world.users.worker_a1)
    number = resident_id("32050719800101001")
    in_url = client.get("/api/people/persons/", {"q": number})
    assert in_url.status_code == 400 and "POST" in in_url.json()["q"][0]
    found = client.post("/api/people/persons/search/", {"q": number}, format="json")
    assert found.status_code == 200, found.content
    assert [p["id"] for p in found.json()["results"]] == [world.people["张三"].pk]
    assert not ID_RE.search(found.content.decode())


def test_search_by_number_stays_inside_the_users_scope(world):
    number = resident_id("44030519880808001")  # 赵敏, grid B1
    found = api_client(world.users.worker_a1).post("/api/people/persons/search/", {"q": number}, format="json")
    assert found.status_code == 200
    assert found.json()["results"] == []


def test_search_by_pinyin_initials_still_works_in_the_url(world):
    found = api_client(world.users.worker_a1).get("/api/people/persons/", {"q": "zs"}).json()["results"]
    assert world.people["张三"].pk in {p["id"] for p in found}


def test_a_malformed_id_is_not_found_for_every_method(world):
    client = api_client(world.users.officer_a)
    assert client.get("/api/places/houses/abc/").status_code == 404
    assert client.patch("/api/places/houses/abc/", {"note": "x"}, format="json").status_code == 404
    assert client.delete("/api/places/houses/abc/").status_code == 404
