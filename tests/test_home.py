"""The home page is each person's work for today, read only within their scope (issue 12, points 9 and 10).

For every persona of the shared world: their items are on the home page, an item of the same kind outside their
scope (another grid, another community, another user's) is not; a resident sees only what they submitted, in
residents' words; the house page shows its tags, visits and cases, not an internal version number."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from conftest import verified_login

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(response) -> str:
    page = html(response)
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def section(page: str, key: str) -> str:
    m = re.search(rf'<section class="card home-section" data-section="{key}">(.*?)</section>', page, re.S)
    assert m, f"no section {key}"
    return m.group(1)


@pytest.fixture
def things(world):
    return make_things(world)


def make_things(world) -> dict:
    """Items of every kind, in scope and out of it."""
    from cases.models import CaseCategory, Holiday
    from cases.seed import seed
    from cases.services import report
    from fieldwork.services import create_change_request
    from quality.services import recompute

    seed(CaseCategory, Holiday)
    recompute()
    u = world.users
    cat = CaseCategory.objects.get(code="property-repair")

    def case(user, house, title, status="dispatched", overdue=False, reported_by=None):
        c = report(user, channel="worker", category=cat, title=title, place=house)
        late = timezone.now() - dt.timedelta(days=2) if overdue else timezone.now() + dt.timedelta(days=3)
        type(c)._base_manager.filter(pk=c.pk).update(status=status, deadline_at=late,
                                                     reported_by=reported_by or user)
        return c

    a1, a2, b1 = world.houses["A1"], world.houses["A2"], world.houses["B1"]
    cases = {
        "a1": case(u.worker_a1, a1[3], "A1楼道灯不亮"),
        "a2_late": case(u.officer_a, a2[0], "A2化粪池外溢", status="accepted", overdue=True),
        "b1": case(u.worker_b1, b1[0], "B1电梯停运"),
        "b1_late": case(u.worker_b1, b1[1], "B1垃圾满溢", status="accepted", overdue=True),
        "resident": case(u.worker_a1, a1[4], "居民说水管漏水", status="in_progress", reported_by=u.resident),
    }
    cr = {
        "a1": create_change_request(house=a1[5], kind="correction", payload={"text": "A1面积有误"}, source="visit",
                                    submitted_by=u.worker_a1),
        "a1_other": create_change_request(house=a1[6], kind="correction", payload={"text": "另一位的"},
                                          source="visit", submitted_by=u.officer_a),
        "b1": create_change_request(house=b1[5], kind="correction", payload={"text": "B1面积有误"}, source="visit",
                                    submitted_by=u.worker_b1),
        "resident": create_change_request(house=a1[7], kind="correction", payload={"text": "我家多了一个人"},
                                          source="feedback", submitted_by=u.resident, contact="13912345678"),
        "anonymous": create_change_request(house=a1[8], kind="correction", payload={"text": "别人的反馈"},
                                           source="feedback", contact="13912340000"),
    }
    return {"cases": cases, "cr": cr, "world": world}


def test_a_grid_worker_sees_todays_visits_their_cases_and_their_changes_waiting(client, things, world):
    client.force_login(world.users.worker_a1)
    page = html(client.get("/"))
    visits = section(page, "visits")
    assert "A1花园" in visits and "B1花园" not in visits and "A2花园" not in visits
    assert "/fieldwork/today/" in visits and "/fieldwork/houses/" in visits
    cases = section(page, "cases")
    assert "A1楼道灯不亮" in cases and "B1电梯停运" not in cases and "A2化粪池外溢" not in cases
    assert f"/cases/{things['cases']['a1'].pk}/" in cases
    mine = section(page, "my_changes")
    assert f"/fieldwork/changes/{things['cr']['a1'].pk}/" in mine
    assert f"/fieldwork/changes/{things['cr']['a1_other'].pk}/" not in mine, "only what they submitted"
    assert f"/fieldwork/changes/{things['cr']['b1'].pk}/" not in page
    assert 'data-section="reviews"' not in page and 'data-section="users"' not in page
    assert "我的辖区" in page and "A1网格" in page and "B1网格" not in page  # the area summary stays below


def test_a_grid_worker_with_nothing_due_reads_a_plain_empty_state(client, world):
    client.force_login(world.users.worker_a1)
    page = text(client.get("/"))
    assert "今天没有待走访的房屋" in page or "今日走访" in page
    assert "没有需要您处理的案件" in page


def test_a_community_officer_sees_reviews_overdue_cases_imports_and_figures_of_their_community(client, things, world):
    from people.iomodels import ImportJob

    ImportJob.objects.create(user=world.users.officer_a, file_name="社区A人房表.xlsx", state="previewed")
    ImportJob.objects.create(user=world.users.worker_b1, file_name="别人的表.xlsx", state="previewed")
    client.force_login(world.users.officer_a)
    page = html(client.get("/"))
    reviews = section(page, "reviews")
    assert f"/fieldwork/changes/{things['cr']['a1'].pk}/" in reviews
    assert f"/fieldwork/changes/{things['cr']['b1'].pk}/" not in reviews
    assert "/fieldwork/review/" in reviews
    overdue = section(page, "overdue")
    assert "A2化粪池外溢" in overdue and "B1垃圾满溢" not in overdue
    assert "B1" not in section(page, "cases")
    imports = section(page, "imports")
    assert "社区A人房表.xlsx" in imports and "别人的表.xlsx" not in imports
    quality = section(page, "quality")
    assert "数据新鲜度" in quality and "/quality/" in quality
    assert 'data-section="visits"' not in page, "an officer's home is not a worker's round of the community"


def test_the_officers_quality_figures_count_only_their_community(client, things, world):
    from quality.models import HouseStatus

    client.force_login(world.users.officer_a)
    page = text(client.get("/"))
    in_a = HouseStatus.objects.filter(house__community=world.communities["A"], is_stale=True).count()
    everywhere = HouseStatus.objects.filter(is_stale=True).count()
    assert in_a < everywhere
    quality = re.search(r"本社区数据质量(.*?)质量得分", page).group(1)
    assert f" {in_a} 待复核房屋" in quality and f" {everywhere} " not in quality


def test_the_command_centre_gets_the_cockpit_and_the_streets_figures_without_names(client, things, world):
    verified_login(client, world.users.command)
    page = html(client.get("/"))
    cockpit = section(page, "cockpit")
    assert 'href="/cockpit/"' in cockpit and "/cockpit/wall/" in cockpit
    assert ">72<" in cockpit  # every house of the street
    assert not [n for n in world.people if n in page], "aggregates only: no resident's name"
    assert "A1楼道灯不亮" not in page, "no case's wording, only counts"


@pytest.mark.parametrize("who, mine, not_mine", [
    ("sysadmin", ["users"], ["grants", "audit", "cockpit", "visits"]),
    ("secadmin", ["grants"], ["users", "audit", "cockpit"]),
    ("auditor", ["audit"], ["users", "grants", "cockpit"]),
])
def test_each_of_the_three_duties_sees_its_own_admin_work_and_no_personal_data(client, things, world, who, mine,
                                                                                not_mine):
    from core.models import Grant

    Grant.objects.filter(user=world.users.worker_a2).update(expires_at=timezone.now() + dt.timedelta(days=5))
    Grant.objects.filter(user=world.users.worker_b1).update(expires_at=timezone.now() + dt.timedelta(days=60))
    verified_login(client, getattr(world.users, who))
    page = html(client.get("/"))
    for key in mine:
        section(page, key)
    for key in not_mine:
        assert f'data-section="{key}"' not in page
    assert not [n for n in world.people if n in page]
    assert "A1楼道灯不亮" not in page and "A1花园" not in page
    if who == "secadmin":
        grants = section(page, "grants")
        assert "worker_a2" in grants and "worker_b1" not in grants, "within 14 days only"
    if who == "auditor":
        assert "/access/audit/?date_from=" in section(page, "audit")


def test_a_resident_sees_their_own_submissions_in_residents_words(client, things, world):
    client.force_login(world.users.resident)
    page = html(client.get("/"))
    plain = text(client.get("/"))
    assert "我的提交" in plain
    cases = section(page, "my_cases")
    assert "居民说水管漏水" in cases and "正在处理" in cases
    assert "A1楼道灯不亮" not in page and "B1电梯停运" not in page, "only what they reported"
    feedback = section(page, "my_feedback")
    assert "社区正在核实" in feedback and "A1花园" in feedback
    assert things["cr"]["anonymous"].house.address not in feedback
    for staff in ("联系安全管理员", "我的辖区", "受理", "派遣", "处置", "核查", "待审核"):
        assert staff not in plain, staff
    assert not [n for n in world.people if n in page]


def test_a_resident_with_nothing_submitted_is_told_how_to_report(client, world):
    client.force_login(world.users.resident)
    page = text(client.get("/"))
    assert "您还没有反映过问题" in page and "您还没有报告过住户变化" in page
    assert "0" not in re.sub(r"\d{4}", "", page.split("我的提交", 1)[1]), "no row of zeros"


def test_someone_without_any_grant_is_told_whom_to_ask(client, world):
    client.force_login(world.users.nobody)
    assert "请联系安全管理员授权" in text(client.get("/"))


def test_the_home_pages_stay_within_a_bounded_number_of_queries(client, things, world, django_assert_max_num_queries):
    for user, bound in ((world.users.worker_a1, 24), (world.users.officer_a, 30), (world.users.resident, 12)):
        client.force_login(user)
        with django_assert_max_num_queries(bound):
            html(client.get("/"))


def test_the_house_page_shows_tags_visits_and_cases_not_a_version(client, things, world):
    from fieldwork.models import Visit
    from people.models import PersonTag, Tag

    house = world.houses["A1"][0]  # 张三 and 李四 live here
    tag = Tag.objects.create(code="elderly_alone_t", name="独居老人测试", color="#d9822b")
    PersonTag.objects.create(person=world.people["张三"], tag=tag)
    other = Tag.objects.create(code="elsewhere_t", name="别处的标签")
    PersonTag.objects.create(person=world.people["单雄信"], tag=other)  # lives in A2
    Visit.objects.create(house=house, worker=world.users.worker_a1, visited_at=timezone.now(), outcome="unchanged",
                         street=world.street, community=world.communities["A"], grid=world.grids["A1"])
    from cases.services import report

    mine = report(world.users.worker_a1, channel="worker", category="property-repair", title="张三家门口漏水",
                  place=house)
    client.force_login(world.users.worker_a1)
    page = html(client.get(f"/places/houses/{house.pk}/"))
    plain = text(client.get(f"/places/houses/{house.pk}/"))
    assert "版本" not in plain
    assert "独居老人测试" in page and "别处的标签" not in page
    visits = re.search(r'<section class="card house-visits">(.*?)</section>', page, re.S).group(1)
    assert "/fieldwork/visits/" in visits and "worker_a1" in visits
    cases = re.search(r'<section class="card house-cases">(.*?)</section>', page, re.S).group(1)
    assert mine.number in cases and things["cases"]["a1"].number not in cases, "only this house's cases"
    other_house = world.houses["A1"][1]
    assert "还没有走访记录" in text(client.get(f"/places/houses/{other_house.pk}/"))
