"""Mediation records: opening from a case, parties linked to the registry, sessions, outcome, the agreement PDF,
follow-up reminders, and who may do what where."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cases.models import CaseParty
from cases.services import Party as CaseParty_
from cases.services import report
from conftest import verified_login
from mediation import services
from mediation.models import FollowUp, Mediation, Outcome, State
from mediation.tests.pdftext import pdf_text


@pytest.fixture(autouse=True)
def _tasks(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def dispute(world, side="A1"):
    houses = world.houses[side]
    people = {p.name: p for p in world.people.values() if p.grid_id == world.grids[side].pk}
    names = sorted(people)
    return report(None, channel="walk_in", category="neighbour-leak", title="楼上漏水纠纷",
                  description="楼上卫生间漏水，楼下天花板受损，双方就赔偿争执", place=houses[0],
                  parties=[CaseParty_(name=names[0], role=CaseParty.Role.APPLICANT, person=people[names[0]],
                                      house=houses[0]),
                           CaseParty_(name=names[1], role=CaseParty.Role.RESPONDENT, house=houses[2])])


def agreed(world, user=None):
    user = user or world.users.officer_a
    case = dispute(world)
    m = services.open_mediation(user, case)
    services.add_mediator(user, m, name="陈阿姨", is_volunteer=True)
    services.record_session(user, m, held_at=timezone.now() - dt.timedelta(hours=1), place="社区调解室",
                            notes="双方陈述，初步同意维修")
    services.close(user, m, outcome=Outcome.AGREED, terms="楼上于12月10日前修复防水\n赔偿维修费1500元",
                   performance="一次性支付")
    return Mediation.objects.get(pk=m.pk)


def client_for(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


def test_opening_copies_the_case_parties_with_their_registry_links(world):
    case = dispute(world)
    m = services.open_mediation(world.users.worker_a1, case)
    parties = list(m.parties.order_by("role"))
    assert [p.role for p in parties] == ["applicant", "respondent"]
    assert parties[0].person_id is not None and parties[0].house_id == world.houses["A1"][0].pk
    assert "A1花园" in parties[0].address
    assert m.grid_id == world.grids["A1"].pk and m.committee == "社区A人民调解委员会"
    assert m.mediators.get().user == world.users.worker_a1 and m.number.startswith("TJ-")


def test_a_case_has_at_most_one_mediation(world):
    case = dispute(world)
    services.open_mediation(world.users.officer_a, case)
    with pytest.raises(Exception, match="已有调解记录"):
        services.open_mediation(world.users.officer_a, case)


def test_closing_with_an_agreement_schedules_follow_ups_and_a_referral_does_not(world):
    m = agreed(world)
    assert m.state == State.CLOSED and m.outcome == Outcome.AGREED and m.signed_on == timezone.localdate()
    assert [f.due_on - timezone.localdate() for f in m.follow_ups.all()] == [dt.timedelta(days=7),
                                                                              dt.timedelta(days=30)]
    other = services.open_mediation(world.users.officer_a, dispute(world))
    services.close(world.users.officer_a, other, outcome=Outcome.REFERRED, referred_to="司法所")
    assert not other.follow_ups.exists()


def test_an_agreement_without_terms_or_a_referral_without_a_unit_is_refused_naming_the_field(world):
    from django.core.exceptions import ValidationError

    m = services.open_mediation(world.users.officer_a, dispute(world))
    with pytest.raises(ValidationError) as exc:
        services.close(world.users.officer_a, m, outcome=Outcome.AGREED)
    assert "协议条款" in exc.value.message_dict["terms"][0]
    with pytest.raises(ValidationError) as exc:
        services.close(world.users.officer_a, m, outcome=Outcome.REFERRED)
    assert "转交单位" in exc.value.message_dict["referred_to"][0]
    assert Mediation.objects.get(pk=m.pk).state == State.OPEN


def test_the_agreement_pdf_is_a_pdf_holding_the_party_names_and_terms(world):
    m = agreed(world)
    pdf = services.agreement_pdf(world.users.officer_a, m)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for p in m.parties.all():
        assert p.name in text
    assert "人民调解协议书" in text and "赔偿维修费1500元" in text and "陈阿姨" in text and m.number in text


def test_the_agreement_page_serves_the_pdf_and_is_audited(world):
    from core.models import AuditEvent

    m = agreed(world)
    r = client_for(world.users.officer_a).get(f"/mediation/{m.pk}/agreement.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", object_type="mediation.mediation",
                                     object_id=str(m.pk)).exists()


def test_a_grid_worker_records_but_cannot_close_or_print_the_agreement(world):
    m = services.open_mediation(world.users.worker_a1, dispute(world))
    c = client_for(world.users.worker_a1)
    assert c.get(f"/mediation/{m.pk}/").status_code == 200
    r = c.post(f"/mediation/{m.pk}/sessions/", {"held_at": "2026-11-20T10:00", "place": "网格工作站",
                                                "notes": "第一次调解"})
    assert r.status_code == 302 and m.sessions.count() == 1
    r = c.post(f"/mediation/{m.pk}/close/", {"outcome": "failed", "version": m.version})
    assert r.status_code == 403 and Mediation.objects.get(pk=m.pk).state == State.OPEN
    done = agreed(world)
    assert c.get(f"/mediation/{done.pk}/agreement.pdf").status_code == 403


@pytest.mark.parametrize("persona", ["worker_b1", "worker_a2", "resident", "sysadmin"])
def test_people_outside_the_place_get_404_or_403(world, persona):
    m = agreed(world)
    c = client_for(getattr(world.users, persona))
    for url in (f"/mediation/{m.pk}/", f"/mediation/{m.pk}/agreement.pdf"):
        assert c.get(url).status_code in (403, 404)
    assert c.post(f"/mediation/{m.pk}/sessions/", {"held_at": "2026-11-20T10:00", "place": "x",
                                                   "notes": "y"}).status_code in (403, 404)
    assert m.sessions.count() == 1


def test_the_command_centre_states_a_reason_before_the_detail(world):
    m = agreed(world)
    c = client_for(world.users.command)
    r = c.get(f"/mediation/{m.pk}/")
    assert r.status_code == 302 and "/access/reason/" in r.url
    assert c.get(f"/mediation/{m.pk}/agreement.pdf").status_code == 403


def test_the_list_shows_only_records_in_scope(world):
    a = agreed(world)
    c = client_for(world.users.worker_b1)
    assert a.number not in c.get("/mediation/").content.decode()
    assert a.number in client_for(world.users.officer_a).get("/mediation/").content.decode()
    assert Client().get("/mediation/").status_code == 302


def test_a_session_form_error_names_the_field_in_chinese(world):
    m = services.open_mediation(world.users.officer_a, dispute(world))
    r = client_for(world.users.officer_a).post(f"/mediation/{m.pk}/sessions/", {
        "held_at": "2026-11-20T10:00", "place": "", "notes": ""})
    html = r.content.decode()
    assert r.status_code == 400 and "地点：请填写调解地点" in html and "调解记录：请填写调解经过" in html


def test_stale_close_is_a_conflict_and_nothing_changes(world):
    from core.services import ConflictError

    m = services.open_mediation(world.users.officer_a, dispute(world))
    seen = m.version
    services.add_party(world.users.officer_a, m, services.PartyData(name="王五", role="third"))
    with pytest.raises(ConflictError):
        services.close(world.users.officer_a, m, outcome=Outcome.FAILED, expected_version=seen)
    assert Mediation.objects.get(pk=m.pk).state == State.OPEN


def test_due_follow_ups_remind_the_mediators_once(world):
    from notify.models import Notification

    m = agreed(world)
    later = timezone.localdate() + dt.timedelta(days=8)
    assert services.remind_follow_ups(later) == 1
    assert services.remind_follow_ups(later) == 0
    notes = Notification.objects.filter(user=world.users.officer_a)
    assert notes.count() == 1 and m.number in notes.get().title


def test_recording_a_follow_up_is_once_only(world):
    m = agreed(world)
    f = m.follow_ups.first()
    services.record_follow_up(world.users.officer_a, f, honoured=True, note="电话回访张三，已修好")
    assert FollowUp.objects.get(pk=f.pk).honoured is True
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.record_follow_up(world.users.officer_a, f, honoured=False, note="再次")


def test_party_phone_is_sealed_and_masked(world):
    m = services.open_mediation(world.users.officer_a, dispute(world))
    p = services.add_party(world.users.officer_a, m, services.PartyData(name="王五", role="third",
                                                                        phone="13912345678"))
    assert p.phone_masked == "139****5678" and "13912345678" not in p.phone_enc
    html = client_for(world.users.officer_a).get(f"/mediation/{m.pk}/").content.decode()
    assert "139****5678" in html and "13912345678" not in html


def test_a_mediation_is_started_from_the_case_number(world):
    case = dispute(world)
    c = client_for(world.users.officer_a)
    r = c.get("/mediation/new/", {"number": case.number.lower()})
    assert r.status_code == 200 and case.number in r.content.decode()
    r = c.post("/mediation/new/", {"case": case.pk, "title": "漏水纠纷", "facts": "楼上漏水"})
    assert r.status_code == 302 and Mediation.objects.get(case=case).title == "漏水纠纷"
    assert client_for(world.users.worker_b1).get("/mediation/new/", {"number": case.number}).status_code == 404
