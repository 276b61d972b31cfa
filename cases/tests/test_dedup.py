"""The duplicate finder: similar open cases nearby are suggested, far or unrelated ones are not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cases import dedup
from cases.models import Case, CaseCategory
from cases.services import report, transition
from conftest import verified_login

LEAK = "楼上卫生间漏水，我家天花板一直滴水，墙面发霉"
NOISE = "楼上每天晚上十一点以后装修电钻噪音，影响休息"


def cat(code: str) -> CaseCategory:
    return CaseCategory.objects.get(code=code)


def new(world, text: str, code: str = "neighbour-leak", side: str = "A1", place=None, **kw) -> Case:
    return report(None, channel="resident", category=cat(code), title=text[:20], description=text,
                  place=place or world.buildings[side], **kw)


def ids(found) -> list[int]:
    return [c.pk for c, _score in found]


def test_words_come_from_jieba_without_stop_words_or_punctuation():
    words = dedup.tokenize("3号楼楼道堆放杂物，电动车在楼道充电，请尽快处理！")
    assert {"楼道", "杂物", "电动车", "充电"} <= words
    assert not words & {"，", "！", "请", "尽快", "处理", "3", "的"}


def test_a_similar_open_case_in_the_same_building_is_suggested(world):
    old = new(world, LEAK)
    found = dedup.suggest(category_id=cat("neighbour-leak").pk, text="楼上漏水，天花板滴水发霉",
                          building_id=world.buildings["A1"].pk)
    assert ids(found) == [old.pk]
    assert 0 < found[0][1] <= 1


def test_an_unrelated_case_in_the_same_building_is_not_suggested(world):
    new(world, NOISE, code="neighbour-noise")
    new(world, "电梯按钮失灵，老人上下楼困难", code="property-lift")
    found = dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK, building_id=world.buildings["A1"].pk)
    assert found == []


def test_the_same_words_in_another_category_family_are_not_suggested(world):
    new(world, LEAK, code="property-repair")
    assert dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK,
                         building_id=world.buildings["A1"].pk) == []


def test_a_case_filed_under_the_parent_category_still_matches(world):
    old = new(world, LEAK, code="neighbour")
    assert ids(dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK,
                             building_id=world.buildings["A1"].pk)) == [old.pk]


def test_a_far_case_with_the_same_text_is_not_suggested(world):
    from places.models import Building, Compound

    far = Compound.objects.create(grid=world.grids["B1"], name="远方花园", lat=31.42, lng=120.70)  # ≈ 8 km away
    b = Building.objects.create(compound=far, number="9", floors=6, units=1, lat=31.42, lng=120.70)
    new(world, LEAK, place=b)
    found = dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK, building_id=world.buildings["A1"].pk,
                          compound_id=world.compounds["A1"].pk, lat=31.38, lng=120.63)
    assert found == []


def test_a_case_within_300_metres_but_another_compound_is_found_by_its_point(world):
    from places.models import Building, Compound

    near = Compound.objects.create(grid=world.grids["B1"], name="隔壁花园", lat=31.3815, lng=120.6305)  # ≈ 170 m
    b = Building.objects.create(compound=near, number="2", floors=6, units=1, lat=31.3815, lng=120.6305)
    old = new(world, LEAK, place=b)
    found = dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK, compound_id=world.compounds["A1"].pk,
                          lat=31.38, lng=120.63)
    assert ids(found) == [old.pk]
    assert dedup.distance_m(31.38, 120.63, 31.3815, 120.6305) < 300


def test_closed_rejected_or_old_cases_are_not_suggested(world):
    rejected = new(world, LEAK)
    transition(None, rejected, "reject", reason="无效")
    old = new(world, LEAK, at=timezone.now() - dt.timedelta(days=dedup.WINDOW_DAYS + 5))
    found = dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK, building_id=world.buildings["A1"].pk)
    assert rejected.pk not in ids(found) and old.pk not in ids(found)


def test_the_case_itself_is_excluded_and_the_closest_text_comes_first(world):
    a = new(world, LEAK)
    b = new(world, "楼上漏水")
    found = dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK, building_id=world.buildings["A1"].pk,
                          exclude_id=a.pk)
    assert ids(found) == [b.pk]
    both = dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK, building_id=world.buildings["A1"].pk)
    assert ids(both)[0] == a.pk


def test_cases_written_in_bulk_are_found_after_index_cases(world):
    from cases.dedup_models import CaseTokens

    a = new(world, LEAK)
    CaseTokens.objects.all().delete()
    assert dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK, building_id=world.buildings["A1"].pk) == []
    assert dedup.index_cases(Case._base_manager.all()) == 1
    assert ids(dedup.suggest(category_id=cat("neighbour-leak").pk, text=LEAK,
                             building_id=world.buildings["A1"].pk)) == [a.pk]


def test_the_report_page_fragment_shows_only_cases_the_user_may_see(world):
    mine = new(world, LEAK, side="A1")
    new(world, LEAK, side="B1")
    c = Client()
    verified_login(c, world.users.worker_a1)
    r = c.get("/cases/dedup/suggest/", {"category": cat("neighbour-leak").pk, "description": LEAK,
                                        "house": world.houses["A1"][0].pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert mine.number in html and html.count("dedup-item") == 1
    other = Client()
    verified_login(other, world.users.worker_b1)
    html = other.get("/cases/dedup/suggest/", {"category": cat("neighbour-leak").pk, "description": LEAK,
                                               "building": world.buildings["A1"].pk}).content.decode()
    assert mine.number not in html
    assert Client().get("/cases/dedup/suggest/").status_code == 302


def test_linking_rejects_the_new_case_as_a_duplicate_of_the_old_one(world):
    old = new(world, LEAK)
    dup = new(world, "楼上漏水，天花板滴水")
    c = Client()
    verified_login(c, world.users.officer_a)
    html = c.get("/cases/dedup/suggest/", {"case": dup.pk}).content.decode()
    assert old.number in html and "关联到此案件" in html
    r = c.post("/cases/dedup/link/", {"case": dup.pk, "duplicate_of": old.pk, "version": dup.version})
    assert r.status_code == 302
    dup = Case._base_manager.get(pk=dup.pk)
    assert dup.status == "rejected" and dup.duplicate_of_id == old.pk and old.number in dup.reject_reason


def test_a_grid_worker_without_the_reject_permission_cannot_link(world):
    old = new(world, LEAK)
    dup = new(world, "楼上漏水，天花板滴水")
    c = Client()
    verified_login(c, world.users.worker_a1)
    assert "关联到此案件" not in c.get("/cases/dedup/suggest/", {"case": dup.pk}).content.decode()
    r = c.post("/cases/dedup/link/", {"case": dup.pk, "duplicate_of": old.pk})
    assert r.status_code == 403
    assert Case._base_manager.get(pk=dup.pk).status == "reported"


@pytest.mark.parametrize("persona", ["worker_b1", "resident"])
def test_linking_a_case_out_of_scope_is_404(world, persona):
    old = new(world, LEAK)
    dup = new(world, "楼上漏水，天花板滴水")
    c = Client()
    verified_login(c, getattr(world.users, persona))
    assert c.post("/cases/dedup/link/", {"case": dup.pk, "duplicate_of": old.pk}).status_code == 404


def test_the_report_page_and_a_reported_case_ask_for_suggestions(world):
    case = new(world, LEAK)
    c = Client()
    verified_login(c, world.users.officer_a)
    html = c.get("/cases/report/").content.decode()
    assert 'id="dedup-box"' in html and "/cases/dedup/suggest/" in html
    detail = c.get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/dedup/suggest/?case={case.pk}" in detail
