"""Every quality rule on crafted data: one case that triggers it and one that does not."""

from __future__ import annotations

import datetime as dt

import pytest

from quality import services
from quality.tests.conftest import add_person, found, house_subject, person_subject, rid

pytestmark = pytest.mark.django_db


def test_the_world_as_built_breaks_no_rule(world):
    services.recompute()
    from quality.models import QualityIssue

    assert list(QualityIssue.objects.filter(status="open").values_list("rule", flat=True)) == []


def test_a_person_without_sex_or_birth_date_has_missing_fields_and_a_complete_one_has_none(world, empty_houses):
    h = empty_houses[0]
    incomplete = add_person(h, "缺项人", relation="householder", sex="", id_number=rid("19800505"))
    complete = add_person(empty_houses[1], "齐全人", relation="householder")
    services.recompute()
    assert person_subject(incomplete) in found("missing_fields")
    assert person_subject(complete) not in found("missing_fields")
    from quality.models import QualityIssue

    assert "性别" in QualityIssue.objects.get(rule="missing_fields", person=incomplete).detail


def test_a_householder_without_a_phone_is_missing_a_field_but_a_child_without_one_is_not(world, empty_houses):
    h = empty_houses[0]
    head = add_person(h, "无电话户主", relation="householder", phone="")
    child = add_person(h, "无电话孩子", relation="child", phone="", birth=dt.date(2012, 3, 3))
    services.recompute()
    assert person_subject(head) in found("missing_fields")
    assert person_subject(child) not in found("missing_fields")


def test_a_house_without_area_is_flagged_unless_it_is_commercial(world, empty_houses):
    from places.models import House

    a, b = empty_houses[0], empty_houses[1]
    House.objects.filter(pk=a.pk).update(area=None)
    House.objects.filter(pk=b.pk).update(area=None, use="commercial")
    services.recompute()
    assert house_subject(a) in found("house_area_missing")
    assert house_subject(b) not in found("house_area_missing")


def test_an_id_number_with_a_wrong_check_digit_is_invalid_and_a_right_one_is_not(world, empty_houses):
    good = rid("19800505", seq=11)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    p_bad = add_person(empty_houses[0], "号错人", relation="householder", id_number=bad)
    p_good = add_person(empty_houses[1], "号对人", relation="householder", id_number=good)
    services.recompute()
    assert person_subject(p_bad) in found("id_invalid")
    assert person_subject(p_good) not in found("id_invalid")


def test_an_id_number_with_an_impossible_date_is_invalid(world, empty_houses):
    from stdnum.cn import ric

    body = "32050719801340011"  # month 13
    p = add_person(empty_houses[0], "假日期", relation="householder", id_number=body + ric.calc_check_digit(body + "0"))
    services.recompute()
    assert person_subject(p) in found("id_invalid")


def test_a_birth_date_that_differs_from_the_id_number_is_flagged(world, empty_houses):
    wrong = add_person(empty_houses[0], "生日不符", relation="householder", birth=dt.date(1980, 5, 6),
                       id_number=rid("19800505"))
    right = add_person(empty_houses[1], "生日相符", relation="householder", birth=dt.date(1980, 5, 5),
                       id_number=rid("19800505"))
    services.recompute()
    assert person_subject(wrong) in found("id_birth_mismatch")
    assert person_subject(right) not in found("id_birth_mismatch")


def test_a_sex_that_differs_from_the_id_number_is_flagged(world, empty_houses):
    wrong = add_person(empty_houses[0], "性别不符", relation="householder", sex="F",
                       id_number=rid("19800505", male=True))
    right = add_person(empty_houses[1], "性别相符", relation="householder", sex="F",
                       id_number=rid("19800505", male=False))
    services.recompute()
    assert person_subject(wrong) in found("id_sex_mismatch")
    assert person_subject(right) not in found("id_sex_mismatch")


def test_a_person_current_in_two_homes_is_flagged_and_one_who_moved_out_is_not(world, empty_houses):
    from people.models import Residence

    twice = add_person(empty_houses[0], "两处住", relation="householder")
    Residence.objects.create(person=twice, house=empty_houses[1], relation="none", role="tenant")
    moved = add_person(empty_houses[2], "已搬走", relation="householder")
    Residence.objects.create(person=moved, house=empty_houses[3], relation="none", role="tenant",
                             moved_in=dt.date(2023, 1, 1), moved_out=dt.date(2023, 6, 1))
    services.recompute()
    assert person_subject(twice) in found("two_homes")
    assert person_subject(moved) not in found("two_homes")


def test_a_vacant_house_with_residents_is_flagged_and_an_empty_vacant_one_is_not(world, empty_houses):
    from places.models import House

    lived_in, empty = empty_houses[0], empty_houses[1]
    add_person(lived_in, "空置房住户", relation="householder")
    House.objects.filter(pk__in=[lived_in.pk, empty.pk]).update(use="vacant")
    services.recompute()
    assert house_subject(lived_in) in found("vacant_with_residents")
    assert house_subject(empty) not in found("vacant_with_residents")


def test_a_rented_house_without_a_tenant_is_flagged_and_one_with_a_tenant_is_not(world, empty_houses):
    from places.models import House

    no_tenant, with_tenant = empty_houses[0], empty_houses[1]
    add_person(no_tenant, "房东家人", relation="householder", role="owner")
    add_person(with_tenant, "租客", relation="householder", role="tenant")
    House.objects.filter(pk__in=[no_tenant.pk, with_tenant.pk]).update(use="rented")
    services.recompute()
    assert house_subject(no_tenant) in found("rented_no_tenant")
    assert house_subject(with_tenant) not in found("rented_no_tenant")


def test_more_residents_than_the_area_holds_is_flagged_and_one_fewer_is_not(world, empty_houses):
    from places.models import House

    crowded, fine = empty_houses[0], empty_houses[1]
    House.objects.filter(pk__in=[crowded.pk, fine.pk]).update(area=20)  # 20 / 8 + 2 = 4.5 people
    for i in range(5):
        add_person(crowded, f"群租{i}", relation="householder" if i == 0 else "none")
    for i in range(4):
        add_person(fine, f"四口{i}", relation="householder" if i == 0 else "none")
    services.recompute()
    assert house_subject(crowded) in found("overcrowded")
    assert house_subject(fine) not in found("overcrowded")


def test_a_minor_living_alone_is_flagged_and_a_minor_with_a_parent_is_not(world, empty_houses):
    ten = dt.date.today().replace(year=dt.date.today().year - 10, day=1)
    alone, family = empty_houses[0], empty_houses[1]
    add_person(alone, "独居儿童", relation="householder", birth=ten)
    add_person(family, "家长", relation="householder")
    add_person(family, "孩子", relation="child", birth=ten)
    services.recompute()
    assert house_subject(alone) in found("minor_alone")
    assert house_subject(family) not in found("minor_alone")


def test_an_age_over_110_is_flagged_and_an_age_of_100_is_not(world, empty_houses):
    today = dt.date.today()
    old = add_person(empty_houses[0], "百十老人", relation="householder", birth=dt.date(today.year - 112, 1, 1))
    hundred = add_person(empty_houses[1], "百岁老人", relation="householder",
                         birth=dt.date(today.year - 100, 1, 1))
    services.recompute()
    assert person_subject(old) in found("age_over_110")
    assert person_subject(hundred) not in found("age_over_110")


def test_a_lived_in_house_without_a_householder_is_flagged_and_one_with_a_householder_is_not(world, empty_houses):
    without, with_head = empty_houses[0], empty_houses[1]
    add_person(without, "配偶甲", relation="spouse")
    add_person(with_head, "户主乙", relation="householder")
    services.recompute()
    assert house_subject(without) in found("householder_missing")
    assert house_subject(with_head) not in found("householder_missing")


def test_two_people_with_the_same_id_index_are_duplicates_and_a_unique_one_is_not(world, empty_houses):
    from people.models import Person

    a = add_person(empty_houses[0], "重号甲", relation="householder")
    b = add_person(empty_houses[1], "重号乙", relation="householder", id_type="passport", id_number="E12345678")
    c = add_person(empty_houses[2], "独号丙", relation="householder")
    Person.objects.filter(pk=b.pk).update(id_number_bidx=a.id_number_bidx)  # same number under another type
    services.recompute()
    assert {person_subject(a), person_subject(b)} <= found("duplicate_id")
    assert person_subject(c) not in found("duplicate_id")


def test_same_name_and_birth_date_in_one_building_are_duplicates_but_not_across_buildings(world, empty_houses):
    birth = dt.date(1990, 2, 2)
    a = add_person(empty_houses[0], "同名同日", relation="householder", birth=birth)
    b = add_person(empty_houses[1], "同名同日", relation="householder", birth=birth)
    other = add_person(world.houses["B1"][5], "同名异楼", relation="householder", birth=birth)
    mine = add_person(empty_houses[2], "同名异楼", relation="householder", birth=birth)
    services.recompute()
    assert {person_subject(a), person_subject(b)} <= found("duplicate_name_birth")
    assert person_subject(other) not in found("duplicate_name_birth")
    assert person_subject(mine) not in found("duplicate_name_birth")


def test_the_per_house_refresh_finds_the_same_as_the_full_run(world, empty_houses):
    from quality import engine

    h = empty_houses[0]
    add_person(h, "配偶丙", relation="spouse", sex="")
    engine.refresh_houses([h.pk])
    assert house_subject(h) in found("householder_missing")
    assert len(found("missing_fields")) == 1
