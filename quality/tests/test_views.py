"""The pages: each persona sees only its own places (others 404), may do only what its roles allow (403), and
the resolve / dismiss and policy forms write through the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import verified_login
from quality import services
from quality.models import FreshnessPolicy, HouseStatus, QualityIssue
from quality.tests.conftest import add_person

pytestmark = pytest.mark.django_db

PAGES = ["quality:overview", "quality:stale", "quality:issues", "quality:policies"]


def client_of(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


@pytest.fixture
def issues(world):
    """An open issue in grid A1 and one in grid B1 (a house whose only resident is not the householder)."""
    add_person(world.houses["A1"][5], "配偶A", relation="spouse")
    add_person(world.houses["B1"][5], "配偶B", relation="spouse")
    services.recompute()
    return {g: QualityIssue.objects.get(rule="householder_missing", house=world.houses[g][5]) for g in ("A1", "B1")}


@pytest.mark.parametrize("persona, expected", [
    ("worker_a1", {"quality:overview": 200, "quality:stale": 200, "quality:issues": 200, "quality:policies": 200}),
    ("officer_a", {"quality:overview": 200, "quality:stale": 200, "quality:issues": 200, "quality:policies": 200}),
    ("command", {"quality:overview": 200, "quality:stale": 200, "quality:issues": 200, "quality:policies": 200}),
    ("sysadmin", {"quality:overview": 403, "quality:stale": 403, "quality:issues": 403, "quality:policies": 200}),
    ("auditor", {"quality:overview": 403, "quality:stale": 403, "quality:issues": 403, "quality:policies": 403}),
    ("secadmin", {"quality:overview": 403, "quality:stale": 403, "quality:issues": 403, "quality:policies": 403}),
])
def test_each_persona_opens_only_the_pages_its_roles_allow(world, persona, expected):
    """The policies are readable by the registry's roles; only the system admin may edit them (next tests)."""
    services.recompute()
    c = client_of(getattr(world.users, persona))
    assert {name: c.get(reverse(name)).status_code for name in PAGES} == expected


def test_anonymous_visitors_are_sent_to_the_login(world):
    for name in PAGES:
        r = Client().get(reverse(name))
        assert r.status_code == 302 and "/access/login/" in r["Location"]


def test_a_grid_worker_sees_only_the_stale_homes_of_their_grid(world):
    services.recompute()
    c = client_of(world.users.worker_a1)
    body = c.get(reverse("quality:stale")).content.decode()
    assert "A1花园" in body and "B1花园" not in body and "A2花园" not in body
    assert c.get(reverse("quality:stale"), {"grid": world.grids["A1"].pk}).status_code == 200
    assert c.get(reverse("quality:stale"), {"grid": world.grids["B1"].pk}).status_code == 404
    assert c.get(reverse("quality:issues"), {"grid": world.grids["A2"].pk}).status_code == 404
    assert c.get(reverse("quality:stale"), {"community": world.communities["B"].pk}).status_code == 404


def test_a_grid_worker_sees_only_the_issues_of_their_grid_and_cannot_close_them(world, issues):
    c = client_of(world.users.worker_a1)
    body = c.get(reverse("quality:issues")).content.decode()
    assert "A1花园1幢1单元302室" in body and "B1花园" not in body
    assert "缺少户主" in body and "没有人登记为户主" in body  # the rule and its Chinese explanation
    url_b = reverse("quality:issue_close", args=[issues["B1"].pk])
    assert c.post(url_b, {"action": "dismiss", "reason": "不是问题"}).status_code == 404
    url_a = reverse("quality:issue_close", args=[issues["A1"].pk])
    assert c.post(url_a, {"action": "dismiss", "reason": "不是问题"}).status_code == 403
    assert QualityIssue.objects.get(pk=issues["A1"].pk).status == "open"


def test_an_officer_dismisses_an_issue_with_htmx_and_gets_the_row_back(world, issues):
    c = client_of(world.users.officer_a)
    issue = issues["A1"]
    url = reverse("quality:issue_close", args=[issue.pk])
    r = c.post(url, {"action": "dismiss", "reason": "户主常年在外，配偶代管", "version": issue.version},
               HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert f'id="issue-{issue.pk}"' in html and "已忽略" in html and "户主常年在外" in html
    assert QualityIssue.objects.get(pk=issue.pk).status == "dismissed"
    services.recompute()
    assert QualityIssue.objects.get(pk=issue.pk).status == "dismissed"
    assert not QualityIssue.objects.filter(rule="householder_missing", house=issue.house_id, status="open").exists()
    out = reverse("quality:issue_close", args=[issues["B1"].pk])
    assert c.post(out, {"action": "resolve", "reason": "已核实"}).status_code == 404


def test_a_dismissal_without_a_reason_says_so_in_the_row_and_changes_nothing(world, issues):
    c = client_of(world.users.officer_a)
    issue = issues["A1"]
    r = c.post(reverse("quality:issue_close", args=[issue.pk]), {"action": "dismiss", "reason": ""},
               HTTP_HX_REQUEST="true")
    assert "请填写理由" in r.content.decode()
    assert QualityIssue.objects.get(pk=issue.pk).status == "open"


def test_the_command_centre_sees_issues_without_names_and_a_grid_worker_with_them(world, issues):
    from people.models import Person

    Person.objects.filter(name="配偶A").update(sex="")  # a person issue (missing fields) beside the house issue
    services.recompute()
    body = client_of(world.users.command).get(reverse("quality:issues")).content.decode()
    assert "缺少户主" in body and "必填项缺失" in body and "配偶A" not in body
    body = client_of(world.users.worker_a1).get(reverse("quality:issues")).content.decode()
    assert "配偶A" in body


def test_the_overview_shows_the_users_grids_only_and_the_chart_data(world):
    services.recompute()
    services.stamp_verified(None, "visit", house_ids=[h.pk for h in world.houses["A1"][:12]])
    body = client_of(world.users.worker_a1).get(reverse("quality:overview")).content.decode()
    assert "A1网格" in body and "B1网格" not in body and "A2网格" not in body
    assert 'id="quality-chart-data"' in body and "quality/overview.js" in body
    assert "50%" in body
    assert "None" not in body and "未分派" in body  # the homes nobody is assigned to, by name
    assert "<script>" not in body.replace('<script id="quality-chart-data" type="application/json">', "")


def test_an_officer_assigns_stale_homes_to_a_worker_of_the_grid(world):
    services.recompute()
    c = client_of(world.users.officer_a)
    ids = [h.pk for h in world.houses["A1"][:2]]
    r = c.post(reverse("quality:stale"), {"house": ids, "assignee": world.users.worker_a1.pk})
    assert r.status_code == 200 and "已分派 2 户" in r.content.decode()
    assert set(HouseStatus.objects.filter(assignee=world.users.worker_a1).values_list("pk", flat=True)) == set(ids)
    r = c.post(reverse("quality:stale"), {"house": ids, "assignee": world.users.worker_b1.pk})
    assert "看不到" in r.content.decode()
    assert client_of(world.users.worker_a1).post(reverse("quality:stale"), {"house": ids}).status_code == 403


def test_only_the_system_admin_edits_the_policies(world):
    rented = FreshnessPolicy.objects.get(house_use="rented")
    officer = client_of(world.users.officer_a)
    assert 'name="interval_days"' not in officer.get(reverse("quality:policies")).content.decode()
    assert officer.post(reverse("quality:policies"), {"policy": rented.pk, "interval_days": 7}).status_code == 403
    admin = client_of(world.users.sysadmin)
    r = admin.post(reverse("quality:policies"), {"policy": rented.pk, "interval_days": 14, "note": "加密走访"})
    assert r.status_code == 302
    assert FreshnessPolicy.objects.get(pk=rented.pk).interval_days == 14
    r = admin.post(reverse("quality:policies"), {"policy": rented.pk, "interval_days": 0})
    assert "1到3650" in r.content.decode()
    r = admin.post(reverse("quality:policies"), {"kind": "tag", "tag_code": "disabled", "interval_days": 60})
    assert r.status_code == 302 and FreshnessPolicy.objects.filter(tag_code="disabled", interval_days=60).exists()
    r = admin.post(reverse("quality:policies"), {"kind": "use", "house_use": "rented", "interval_days": 60})
    assert "已有策略" in r.content.decode()


def test_the_pages_read_in_english(world, issues):
    c = client_of(world.users.officer_a)
    c.cookies["django_language"] = "en"
    for name in PAGES[:3]:
        body = c.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Data quality" in body or "Freshness" in body or "Houses due" in body
    body = c.get(reverse("quality:issues"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Householder missing" in body and "缺少户主" not in body
