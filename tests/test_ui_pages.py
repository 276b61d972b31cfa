"""The registry's pages: scoping (404 / 403), masking, reveal, search, move-in / move-out, conflicts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import resident_id, verified_login
from core.models import AuditEvent
from people.models import Person, Residence
from people.services import PersonData, move_in, save_person
from places.models import House
from places.services import save_house

ID_RE = re.compile(r"\d{17}[\dXx]")
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def a1(client, world):
    client.force_login(world.users.worker_a1)
    return client


@pytest.fixture
def officer(client, world):
    client.force_login(world.users.officer_a)
    return client


def test_grid_worker_sees_the_houses_of_their_grid_in_the_house_list(a1, world):
    page = html(a1.get(reverse("places:house_list")))
    for house in world.houses["A1"][:5]:
        assert reverse("places:house", args=[house.pk]) in page
    assert reverse("places:house", args=[world.houses["B1"][0].pk]) not in page
    assert "共 24 条" in page


@pytest.mark.parametrize("name,key", [("places:house", "houses"), ("places:building", "buildings"),
                                      ("places:compound", "compounds"), ("places:grid", "grids")])
def test_grid_worker_gets_404_on_a_place_of_another_grid(a1, world, name, key):
    other = world.houses["B1"][0] if key == "houses" else getattr(world, key)["B1"]
    assert a1.get(reverse(name, args=[other.pk])).status_code == 404
    mine = world.houses["A1"][0] if key == "houses" else getattr(world, key)["A1"]
    assert a1.get(reverse(name, args=[mine.pk])).status_code == 200


def test_grid_worker_gets_404_on_a_person_of_another_grid_and_on_their_forms(a1, world):
    other = world.people["孙二娘"]  # grid B1
    assert a1.get(reverse("people:person", args=[other.pk])).status_code == 404
    assert a1.get(reverse("people:person_edit", args=[other.pk])).status_code == 404
    assert a1.get(reverse("people:move_in", args=[world.houses["B1"][0].pk])).status_code == 404
    res = Residence.objects.filter(person=other).first()
    assert a1.post(reverse("people:move_out", args=[res.pk]), {"moved_out": "2024-01-01"}).status_code == 404
    assert Residence.objects.get(pk=res.pk).moved_out is None


def test_a_user_who_may_view_but_not_change_gets_403_on_the_edit_form(client, world):
    verified_login(client, world.users.command)  # the command centre views the whole street, changes nothing
    house = world.houses["A1"][0]
    assert client.get(reverse("places:house_edit", args=[house.pk])).status_code == 403
    assert client.post(reverse("people:move_in", args=[house.pk]), {"mode": "new", "name": "某人"}).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client, world):
    response = client.get(reverse("places:house", args=[world.houses["A1"][0].pk]))
    assert response.status_code == 302 and "/access/login/" in response["Location"]


def test_out_of_scope_filter_values_are_refused(a1, world):
    page = html(a1.get(reverse("places:house_list"), {"grid_id": world.grids["B1"].pk}))
    assert "没有符合条件的记录" in page


def test_no_full_id_or_phone_number_on_any_page_a_grid_worker_sees(a1, world):
    urls = ["/", reverse("people:person_list"), reverse("places:house_list"), reverse("people:search"),
            reverse("places:building", args=[world.buildings["A1"].pk]), reverse("people:enterprise_list")]
    urls += [reverse("places:house", args=[h.pk]) for h in world.houses["A1"][:2]]
    mine = Person.objects.filter(grid=world.grids["A1"])
    for person in mine:
        urls += [reverse("people:person", args=[person.pk]), reverse("people:person_edit", args=[person.pk])]
    secrets = [p.reveal_id_number() for p in mine] + [p.reveal_phone() for p in mine]
    for url in urls:
        response = a1.get(url)
        assert response.status_code == 200, url
        page = html(response)
        assert not ID_RE.search(page), url
        assert not PHONE_RE.search(page), url
        assert not any(s in page for s in secrets), url
        assert response["Cache-Control"] == "no-store"
    assert "320507********001X" in html(a1.get(reverse("people:person", args=[world.people["张三"].pk])))


def test_reveal_needs_the_permission(a1, world):
    person = world.people["张三"]
    response = a1.post(reverse("people:person_reveal", args=[person.pk]),
                       {"field": "id_number", "purpose": "核实户籍信息"})
    assert response.status_code == 403
    assert person.reveal_id_number() not in html(response)
    assert AuditEvent.objects.filter(action="reveal", result="denied", object_id=str(person.pk)).exists()


def test_reveal_needs_a_reason(officer, world):
    person = world.people["张三"]
    response = officer.post(reverse("people:person_reveal", args=[person.pk]), {"field": "id_number", "purpose": ""})
    assert response.status_code == 400
    assert person.reveal_id_number() not in html(response)
    assert "事由" in html(response)
    assert not AuditEvent.objects.filter(action="reveal", result="ok").exists()


def test_reveal_shows_the_number_once_and_is_audited(officer, world):
    person = world.people["张三"]
    number = person.reveal_id_number()
    response = officer.post(reverse("people:person_reveal", args=[person.pk]),
                            {"field": "id_number", "purpose": "核实户籍信息"})
    assert response.status_code == 200 and number in html(response)
    assert person.reveal_phone() not in html(response)
    ev = AuditEvent.objects.filter(action="reveal", result="ok").latest("id")
    assert ev.purpose == "核实户籍信息" and ev.fields == ["id_number"] and number not in str(ev.__dict__)
    assert number not in html(officer.get(reverse("people:person", args=[person.pk])))


def test_viewing_a_person_is_on_record(a1, world):
    person = world.people["李四"]
    a1.get(reverse("people:person", args=[person.pk]))
    assert AuditEvent.objects.filter(action="view", object_type="people.person", object_id=str(person.pk),
                                     username="worker_a1").exists()


def test_search_box_posts_and_an_id_search_never_reaches_a_url(a1, world):
    page = html(a1.get("/"))
    assert re.search(r'<form class="topsearch" method="post" action="/people/search/"', page)
    number = world.people["王芳"].reveal_id_number()
    response = a1.post(reverse("people:search"), {"q": number})
    assert response.status_code == 200
    assert "王芳" in html(response) and number not in html(response)
    assert AuditEvent.objects.filter(action="search", fields=["id_number"]).exists()


def test_a_phone_search_finds_the_person(a1, world):
    response = a1.post(reverse("people:search"), {"q": world.people["张小三"].reveal_phone()})
    assert "张小三" in html(response) and "张三<" not in html(response)


def test_a_name_search_goes_to_the_shareable_list_address(a1, world):
    response = a1.post(reverse("people:search"), {"q": "zs"})
    assert response.status_code == 302 and response["Location"] == "/people/?q=zs"
    page = html(a1.get(response["Location"]))
    assert "张三" in page and "李四" not in page


def test_an_address_search_lists_the_current_residents(a1, world):
    page = html(a1.get(reverse("people:person_list"), {"q": "1幢101"}))
    assert "张三" in page and "李四" in page and "王芳" not in page


def test_htmx_list_requests_get_only_the_table(a1, world):
    response = a1.get(reverse("people:person_list"), {"q": "zs"}, HTTP_HX_REQUEST="true",
                      HTTP_HX_TARGET="object-table")
    page = html(response)
    assert "<table" in page and "<html" not in page and "张三" in page


def test_move_in_a_new_person_through_the_form(a1, world):
    house = world.houses["A1"][5]
    number = resident_id("32050720000101123")
    response = a1.post(reverse("people:move_in", args=[house.pk]), {
        "mode": "new", "name": "刘备", "id_type": "resident_id", "id_number": number, "phone": "13900001111",
        "residency_type": "floating", "relation": "householder", "role": "tenant", "moved_in": "2025-03-01",
        "existing_id_type": "resident_id", "nationality": "中国",
    })
    assert response.status_code == 302, html(response)
    person = Person.objects.get(name="刘备")
    assert person.reveal_id_number() == number and person.grid_id == world.grids["A1"].pk
    house.refresh_from_db()
    assert house.resident_count == 1
    assert "刘备" in html(a1.get(reverse("places:house", args=[house.pk])))


def test_move_in_form_names_the_field_and_the_reason_of_a_bad_id(a1, world):
    house = world.houses["A1"][5]
    response = a1.post(reverse("people:move_in", args=[house.pk]), {
        "mode": "new", "name": "刘备", "id_type": "resident_id", "id_number": "320507200001011230",
        "residency_type": "floating", "role": "tenant", "existing_id_type": "resident_id"})
    assert response.status_code == 200
    assert "校验位" in html(response) and "320507200001011230" not in html(response)
    assert not Person.objects.filter(name="刘备").exists()


def test_move_in_an_already_registered_person(a1, world):
    house = world.houses["A1"][6]
    person = world.people["张小三"]
    response = a1.post(reverse("people:move_in", args=[house.pk]), {
        "mode": "existing", "existing_id_type": "resident_id", "existing_id_number": person.reveal_id_number(),
        "relation": "", "role": "family", "moved_in": "2025-01-01", "id_type": "resident_id",
        "residency_type": "registered"})
    assert response.status_code == 302, html(response)
    assert Residence.objects.filter(person=person, house=house, moved_out__isnull=True).exists()


def test_move_out_through_the_form_keeps_the_history(a1, world):
    person = world.people["李四"]
    res = Residence.objects.get(person=person, moved_out__isnull=True)
    response = a1.post(reverse("people:move_out", args=[res.pk]), {"moved_out": "2025-06-30", "reason": "搬家"})
    assert response.status_code == 302
    res.refresh_from_db()
    assert str(res.moved_out) == "2025-06-30" and res.move_out_reason == "搬家"
    page = html(a1.get(reverse("places:house", args=[res.house_id])))
    history = page.split("历史住户")[1]
    assert "李四" in history and "搬家" in history
    again = a1.post(reverse("people:move_out", args=[res.pk]), {"moved_out": "2025-07-01"})
    assert again.status_code == 200 and "迁出" in html(again)


def test_a_stale_person_edit_is_a_409_showing_both_versions(officer, world):
    person = world.people["张三"]
    form = {"name": "张三丰", "id_type": "resident_id", "residency_type": "registered", "version": person.version,
            "nationality": "中国"}
    # Someone else saves first.
    save_person(world.users.worker_a1, PersonData(name="张三", work_unit="苏州工业园区", residency_type="registered"),
                person, expected_version=person.version)
    response = officer.post(reverse("people:person_edit", args=[person.pk]), form)
    assert response.status_code == 409
    page = html(response)
    assert "张三丰" in page and "苏州工业园区" in page
    person.refresh_from_db()
    assert person.name == "张三" and person.work_unit == "苏州工业园区"


def test_a_stale_house_edit_is_a_409_and_the_first_change_survives(a1, world):
    house = world.houses["A1"][0]
    stale = house.version
    save_house(world.users.officer_a, {"use": "rented"}, house, expected_version=stale)
    response = a1.post(reverse("places:house_edit", args=[house.pk]), {"use": "vacant", "version": stale})
    assert response.status_code == 409
    assert "出租" in html(response) and "空置" in html(response)
    house.refresh_from_db()
    assert house.use == "rented"
    ok = a1.post(reverse("places:house_edit", args=[house.pk]), {"use": "vacant", "version": house.version})
    assert ok.status_code == 302
    house.refresh_from_db()
    assert house.use == "vacant"


def test_home_page_counts_the_users_places(a1, world):
    page = html(a1.get("/"))
    assert "A1网格" in page and "B1网格" not in page
    assert ">24<" in page and ">4<" in page


def test_list_pages_use_a_bounded_number_of_queries(a1, world, django_assert_max_num_queries):
    for i in range(20):
        save_person(None, PersonData(name=f"测试{i}"), house=world.houses["A1"][10 + i % 10], relation="",
                    source="test")
    for url in [reverse("people:person_list"), reverse("places:house_list"), reverse("places:building_list"),
                reverse("places:compound_list"), "/"]:
        with django_assert_max_num_queries(12):
            assert a1.get(url).status_code == 200


def count_queries(client, url) -> int:
    """Queries of one page, leaving out the session's own bookkeeping (saved on some requests only)."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len([q for q in ctx.captured_queries
                if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"]])


def test_detail_pages_do_not_add_queries_per_resident(a1, world):
    house_url = reverse("places:house", args=[world.houses["A1"][0].pk])
    person_url = reverse("people:person", args=[world.people["张三"].pk])
    before = count_queries(a1, house_url), count_queries(a1, person_url)
    for i in range(8):
        save_person(None, PersonData(name=f"住户{i}"), house=world.houses["A1"][0], relation="", source="test")
        save_person(None, PersonData(name=f"旧户{i}"), house=world.houses["A1"][1], relation="", source="test")
    move_in(None, world.people["张三"], world.houses["A1"][1])
    after = count_queries(a1, house_url), count_queries(a1, person_url)
    assert after == before
    assert max(after) <= 10


def test_house_edit_changes_nothing_in_another_grid(a1, world):
    other = world.houses["B1"][0]
    response = a1.post(reverse("places:house_edit", args=[other.pk]), {"use": "vacant", "version": other.version})
    assert response.status_code == 404
    assert House.objects.get(pk=other.pk).use == "owner"


def test_long_lists_count_up_to_a_cap_and_say_more_than(a1, world, monkeypatch):
    from core.views import ObjectListView

    monkeypatch.setattr(ObjectListView, "count_cap", 10)
    monkeypatch.setattr(ObjectListView, "paginate_by", 5)
    page = html(a1.get(reverse("places:house_list")))
    assert "超过 10 条" in page and "共 24 条" not in page
    assert "下一页" in page  # pages still follow
    monkeypatch.setattr(ObjectListView, "search_count_cap", 1)
    assert "超过 1 条" in html(a1.get(reverse("people:person_list"), {"q": "1幢101"}))
    assert "共 4 条" in html(a1.get(reverse("people:person_list")))
