"""The reveal of sealed free text in the UI (core.sealed_views): on the case page and the mediation page, a
"查看完整号码" control beside a text holding sealed numbers; a reason, the clear text once, audited; 404 out of
scope, 403 without the reveal permission, the empty reason refused in Chinese."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from stdnum.cn import ric

from conftest import verified_login
from core.models import AuditEvent

ID = "32050719800101001" + ric.calc_check_digit("320507198001010010")


@pytest.fixture(autouse=True)
def _tasks(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def case(world):
    from cases import services
    from cases.tests.conftest import build_cases

    cw = build_cases(world)
    return services.report(world.users.worker_a1, channel="worker", category=cw.category,
                           title="业主13812345678反映漏水", place=world.houses["A1"][0],
                           description=f"联系13912345678，身份证{ID}")


@pytest.fixture
def mediation(world, case):
    from mediation import services

    return services.open_mediation(world.users.officer_a, case, facts="楼上住户电话13712345678，拒绝维修")


def client_for(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


def test_the_case_page_offers_the_control_only_to_who_may_reveal(world, case):
    url = reverse("cases:detail", args=[case.pk])
    page = client_for(world.users.officer_a).get(url).content.decode()
    assert "查看完整号码" in page and f'value="case:{case.pk}:description"' in page
    assert "13912345678" not in page and "139****5678" in page
    page = client_for(world.users.worker_a1).get(url).content.decode()
    assert "139****5678" in page and 'name="target"' not in page


def test_an_officer_reveals_a_case_text_with_a_reason_once_and_it_is_audited(world, case):
    c = client_for(world.users.officer_a)
    url = reverse("cases:reveal_text", args=[case.pk])
    r = c.post(url, {"target": f"case:{case.pk}:description", "purpose": "回电核实漏水情况"})
    assert r.status_code == 200
    page = r.content.decode()
    assert f"联系13912345678，身份证{ID}" in page and "本次查看已记录" in page
    assert "13812345678" not in page  # only the field asked for
    ev = AuditEvent.objects.filter(action="reveal", user_id=world.users.officer_a.pk).latest("id")
    assert ev.fields == ["cases.case.description"] and ev.purpose == "回电核实漏水情况" and ev.result == "ok"
    assert ev.object_type == "cases.case" and ev.object_id == str(case.pk)
    assert "13912345678" not in c.get(reverse("cases:detail", args=[case.pk])).content.decode()  # once
    assert c.get(url).status_code == 302  # GET: back to the page, nothing revealed


def test_the_case_reveal_is_a_404_out_of_scope_and_a_403_without_the_permission(world, case):
    body = {"target": f"case:{case.pk}:title", "purpose": "想看一下号码"}
    url = reverse("cases:reveal_text", args=[case.pk])
    r = client_for(world.users.worker_b1).post(url, body)
    assert r.status_code == 404 and "13812345678" not in r.content.decode()
    r = client_for(world.users.worker_a1).post(url, body)  # sees the case, may not reveal numbers
    assert r.status_code == 403 and "13812345678" not in r.content.decode()
    assert AuditEvent.objects.filter(action="reveal", result="denied", user_id=world.users.worker_a1.pk).exists()
    assert Client().post(url, body).status_code == 302  # anonymous: the login page
    assert not AuditEvent.objects.filter(action="reveal", result="ok").exists()


def test_an_empty_reason_is_refused_in_chinese_and_nothing_is_revealed(world, case):
    c = client_for(world.users.officer_a)
    r = c.post(reverse("cases:reveal_text", args=[case.pk]), {"target": f"case:{case.pk}:title", "purpose": "  "})
    assert r.status_code == 400
    page = r.content.decode()
    assert "请填写查看完整号码的事由" in page and "13812345678" not in page
    assert not AuditEvent.objects.filter(action="reveal", result="ok").exists()


def test_a_target_of_another_record_is_a_404(world, case):
    from cases import services

    other = services.report(world.users.officer_a, channel="worker", category=case.category,
                            title="另一户13600001111", place=world.houses["A1"][1])
    r = client_for(world.users.officer_a).post(reverse("cases:reveal_text", args=[case.pk]),
                                               {"target": f"case:{other.pk}:title", "purpose": "回电核实情况"})
    assert r.status_code == 404 and "13600001111" not in r.content.decode()
    r = client_for(world.users.officer_a).post(reverse("cases:reveal_text", args=[case.pk]),
                                               {"target": f"case:{case.pk}:address", "purpose": "回电核实情况"})
    assert r.status_code == 404


def test_the_mediation_page_reveals_its_facts_to_the_officer_and_refuses_the_others(world, mediation):
    page = client_for(world.users.officer_a).get(reverse("mediation:detail", args=[mediation.pk])).content.decode()
    assert "137****5678" in page and f'value="mediation:{mediation.pk}:facts"' in page
    url = reverse("mediation:reveal_text", args=[mediation.pk])
    body = {"target": f"mediation:{mediation.pk}:facts", "purpose": "联系当事人安排调解"}
    r = client_for(world.users.officer_a).post(url, body)
    assert r.status_code == 200 and "楼上住户电话13712345678，拒绝维修" in r.content.decode()
    ev = AuditEvent.objects.filter(action="reveal", result="ok").latest("id")
    assert ev.fields == ["mediation.mediation.facts"] and ev.purpose == "联系当事人安排调解"
    assert client_for(world.users.worker_b1).post(url, body).status_code == 404
    r = client_for(world.users.worker_a1).post(url, body)
    assert r.status_code == 403 and "13712345678" not in r.content.decode()
    r = client_for(world.users.officer_a).post(url, {**body, "purpose": ""})
    assert r.status_code == 400 and "请填写查看完整号码的事由" in r.content.decode()
    assert "13712345678" not in r.content.decode()
