"""The one search box: name, pinyin initials, full pinyin, surname readings, ID, phone, address."""

import pytest
from django.test import RequestFactory

from core.models import AuditEvent
from people.filtersets import PersonFilterSet
from people.models import Person
from people.search import is_sensitive, parse, search_people
from places.filtersets import HouseFilterSet, parse_address


def names(qs):
    return sorted(p.name for p in qs)


def search(world, text, user=None):
    user = user or world.users.officer_a
    request = RequestFactory().get("/")
    request.user = user
    fs = PersonFilterSet({"q": text}, queryset=Person.objects.restrict(user, "view"), request=request)
    assert fs.is_valid(), fs.errors
    return fs.qs


def test_initials_find_zhang_san(world):
    assert "张三" in names(search(world, "zs"))
    assert "张小三" in names(search(world, "zxs"))


def test_full_pinyin_finds_zhang_san_with_or_without_spaces(world):
    assert names(search(world, "zhangsan")) == ["张三"]
    assert names(search(world, "Zhang San")) == ["张三"]


def test_surname_is_read_as_a_surname(world):
    # 单 is read Shan and 曾 Zeng as surnames (people.pinyin); both live in grid A2.
    command = world.users.command
    assert names(search(world, "shanxiongxin", command)) == ["单雄信"]
    assert names(search(world, "sxx", command)) == ["单雄信"]
    assert names(search(world, "zengguofan", command)) == ["曾国藩"]


def test_chinese_name_prefix_and_contains(world):
    assert names(search(world, "张")) == ["张三", "张小三"]
    assert names(search(world, "小三")) == ["张小三"]


def test_search_by_resident_id_is_exact_and_audited_without_the_value(world):
    person = world.people["李四"]
    number = person.reveal_id_number()
    found = search(world, number.lower())
    assert names(found) == ["李四"]
    ev = AuditEvent.objects.filter(action="search").latest("id")
    assert number not in str(ev.__dict__) and number[-6:] not in str(ev.__dict__)
    assert ev.fields == ["id_number"] and ev.changes == {"matches": 1} and ev.username == "officer_a"


def test_search_by_phone_is_exact(world):
    person = world.people["王芳"]
    assert names(search(world, person.reveal_phone())) == ["王芳"]
    assert names(search(world, person.reveal_phone()[:10])) == []


def test_search_by_address_finds_the_current_residents(world):
    assert names(search(world, "1幢101", world.users.worker_a1)) == ["张三", "李四"]
    assert names(search(world, "A1花园1栋1单元102室", world.users.worker_a1)) == ["张小三", "王芳"]


def test_search_never_leaves_the_users_scope(world):
    assert names(search(world, "sxx", world.users.worker_a1)) == []
    assert names(search(world, "1幢101", world.users.worker_b1)) == ["周小明", "孙二娘"]


@pytest.mark.parametrize("text,kind", [
    ("320507198001010011", "id"), ("13800138000", "phone"), ("E12345678", "doc"), ("zs", "pinyin"),
    ("3幢301", "address"), ("张三", "name"), ("３幢３０１室", "address"),
])
def test_parse_recognises_what_was_typed(text, kind):
    assert parse(text).kind == kind


def test_id_and_phone_searches_are_sensitive_and_names_are_not():
    assert is_sensitive("320507198001010011") and is_sensitive("138 0013 8000")
    assert not is_sensitive("zhangsan") and not is_sensitive("3幢301")


def test_address_spellings_are_the_same_address():
    assert parse_address("3幢301") == parse_address("3栋301室") == parse_address("3号楼301")


def test_house_filterset_finds_a_house_by_address(world):
    user = world.users.worker_a1
    request = RequestFactory().get("/")
    request.user = user
    from places.models import House
    fs = HouseFilterSet({"q": "1幢2单元101"}, queryset=House.objects.restrict(user, "view"), request=request)
    assert [(h.unit, h.room) for h in fs.qs] == [("2", "101")]


def test_paired_grid_filters_choose_among_the_users_grids_only(world):
    user = world.users.worker_a1
    request = RequestFactory().get("/")
    request.user = user
    qs = Person.objects.restrict(user, "view")
    ok = PersonFilterSet({"grid": ["A1网格"]}, queryset=qs, request=request)
    assert ok.is_valid() and ok.qs.count() == 4
    by_id = PersonFilterSet({"grid_id": [world.grids["A1"].pk]}, queryset=qs, request=request)
    assert by_id.is_valid() and by_id.qs.count() == 4
    other = PersonFilterSet({"grid_id": [world.grids["B1"].pk]}, queryset=qs, request=request)
    assert not other.is_valid()


def test_search_people_without_user_does_not_audit(world):
    before = AuditEvent.objects.count()
    search_people(Person.objects.all(), world.people["张三"].reveal_id_number())
    assert AuditEvent.objects.count() == before


def _add(world, name, house_key="A1", index=5):
    import datetime as dt

    from people.services import PersonData, save_person

    house = world.houses[house_key][index]
    return save_person(None, PersonData(name=name), house=house, relation="householder",
                       moved_in=dt.date(2021, 1, 1), accept_warnings=True, source="test")


def test_letters_with_a_vowel_find_initials_and_full_pinyin_both(world):
    _add(world, "阿晶")  # ajing
    _add(world, "艾建", index=6)  # initials aj
    assert names(search(world, "aj")) == ["艾建", "阿晶"]


def test_an_exact_pinyin_ranks_before_prefixes(world):
    _add(world, "张三丰", index=7)  # zhangsanfeng, zsf
    # 张三 is "zs" exactly; 张三丰's initials "zsf" only start with it (and come after, although "zhangsanfeng"
    # and "zhangsan" would sort the other way by full pinyin alone).
    assert [p.name for p in search(world, "zs")] == ["张三", "张三丰"]
    assert [p.name for p in search(world, "zhangsan")] == ["张三", "张三丰"]


def test_suggestions_show_at_most_the_limit_and_nothing_for_one_letter(world):
    from people.search import suggest

    qs = Person.objects.restrict(world.users.officer_a, "view")
    assert suggest(qs, "z") == []
    assert [p.name for p in suggest(qs, "zs", limit=1)] == ["张三"]
