import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from conftest import verified_login
from volunteers import ledger, services

from .conftest import at

pytestmark = pytest.mark.django_db


def relogin(client, user):
    """A fresh session at the travelled-to time (the old one idles out after 30 minutes)."""
    client.logout()
    client.force_login(user)


def test_staff_pages_show_their_places_only(client, site, done, world):
    services.verify(site.worker, done)
    client.force_login(world.users.worker_a1)
    for name in ("volunteers:list", "volunteers:teams", "volunteers:queue", "volunteers:honour"):
        r = client.get(reverse(name))
        assert r.status_code == 200, name
    body = client.get(reverse("volunteers:list")).content.decode()
    assert site.v1.number in body and site.vb.number not in body
    teams = client.get(reverse("volunteers:teams")).content.decode()
    assert "1+1+2" in teams
    r = client.get(reverse("volunteers:calendar"), {"week": site.day.isoformat()})
    assert "探访独居老人" in r.content.decode()
    r = client.get(reverse("volunteers:shift", args=[site.shift.pk]))
    assert r.status_code == 200 and "<svg" in r.content.decode()
    client.force_login(world.users.worker_b1)
    assert client.get(reverse("volunteers:shift", args=[site.shift.pk])).status_code == 404
    assert client.get(reverse("volunteers:volunteer", args=[site.v1.pk])).status_code == 404


def test_the_organiser_ticks_the_list_and_verifies(client, site, world):
    s = services.sign_up(site.v2, site.shift, now=at(site.day, 7))
    client.force_login(site.worker)
    with time_machine.travel(at(site.day, 9), tick=False):
        relogin(client, site.worker)
        r = client.post(reverse("volunteers:mark", args=[s.pk]), {"what": "in"})
    assert r.status_code == 302
    with time_machine.travel(at(site.day, 11), tick=False):
        relogin(client, site.worker)
        client.post(reverse("volunteers:mark", args=[s.pk]), {"what": "out"})
        client.post(reverse("volunteers:verify", args=[s.pk]), {"hours": ""})
        client.post(reverse("volunteers:verify", args=[s.pk]), {"hours": ""})
    assert ledger.balances(site.v2)["hours"] == Decimal("2.00")
    assert ledger.balance_figures()["transfers"] == 1


def test_a_correction_from_the_volunteer_page(client, site, done):
    services.verify(site.worker, done)
    client.force_login(site.officer)
    r = client.post(reverse("volunteers:correct", args=[done.pk]), {"hours": "2", "reason": "补录"})
    assert r.status_code == 302
    assert ledger.balances(site.v1)["hours"] == Decimal("2.00")
    page = client.get(reverse("volunteers:volunteer", args=[site.v1.pk])).content.decode()
    assert "冲正" in page


def test_the_certificate_is_a_pdf(client, site, done):
    services.verify(site.worker, done)
    client.force_login(site.officer)
    r = client.get(reverse("volunteers:certificate", args=[site.v1.pk]))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_the_export_is_watermarked_and_audited(client, site, done, world):
    from core.models import AuditEvent

    services.verify(site.worker, done)
    verified_login(client, site.officer)
    r = client.get(reverse("volunteers:export"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(action="export", object_type="volunteers.signup").exists()
    client.force_login(world.users.worker_a1)
    assert client.get(reverse("volunteers:export")).status_code == 403


def test_the_volunteer_phone_page(client, site, world):
    client.force_login(world.users.resident)
    with time_machine.travel(at(site.day, 7), tick=False):
        relogin(client, world.users.resident)
        r = client.get(reverse("volunteers:me"))
        assert r.status_code == 200 and "探访独居老人" in r.content.decode()
        client.post(reverse("volunteers:join", args=[site.shift.pk]))
    s = site.v1.signups.get()
    with time_machine.travel(at(site.day, 8, 50), tick=False):
        relogin(client, world.users.resident)
        client.post(reverse("volunteers:act", args=[s.pk, "in"]))
    with time_machine.travel(at(site.day, 11), tick=False):
        relogin(client, world.users.resident)
        client.post(reverse("volunteers:act", args=[s.pk, "out"]))
    s.refresh_from_db()
    assert s.hours == Decimal("2.00")
    client.force_login(world.users.worker_a1)
    assert client.get(reverse("volunteers:me")).status_code == 403


def test_points_spent_from_the_phone(client, site, done, world):
    services.verify(site.worker, done)
    client.force_login(world.users.resident)
    day = timezone_day(site.day + dt.timedelta(days=2))
    r = client.post(reverse("volunteers:spend", args=[site.reward.pk]), {"day": day})
    assert r.status_code == 302
    assert ledger.balances(site.v1)["points"] == Decimal("2.50")


def timezone_day(d):
    return d.isoformat()


def test_an_opinion_from_the_phone(client, site, done, world):
    from cases.models import CaseCategory, Holiday
    from cases.seed import seed

    seed(CaseCategory, Holiday)
    client.force_login(world.users.resident)
    assert client.get(reverse("volunteers:opinion", args=[done.pk])).status_code == 200
    r = client.post(reverse("volunteers:opinion", args=[done.pk]), {"category": "neighbour-leak",
                                                                    "text": "楼上漏水，楼下墙面发霉"})
    assert r.status_code == 302
    r = client.post(reverse("volunteers:opinion", args=[done.pk]), {"category": "neighbour-leak", "text": "短"})
    assert r.status_code == 400 and "至少4个字" in r.content.decode()


def test_the_qr_page_checks_in_and_out(client, site, world):
    s = services.sign_up(site.v1, site.shift, now=at(site.day, 7))
    client.force_login(world.users.resident)
    url = reverse("volunteers:qr", args=[site.shift.qr_token])
    with time_machine.travel(at(site.day, 9), tick=False):
        relogin(client, world.users.resident)
        assert client.get(url).status_code == 200
        client.post(url)
    with time_machine.travel(at(site.day, 10), tick=False):
        relogin(client, world.users.resident)
        client.post(url)
    s.refresh_from_db()
    assert s.check_method == "qr" and s.hours == Decimal("1.00")


def test_an_officer_registers_a_volunteer_of_their_places_into_a_branch(client, site, world):
    client.force_login(site.officer)
    r = client.get(reverse("volunteers:register"), {"q": "单雄信"})
    person = world.people["单雄信"]
    assert r.status_code == 200 and "单雄信" in r.content.decode()
    r = client.post(reverse("volunteers:register"), {"person": person.pk, "skills": ["visit", "legal"],
                                                     "days": ["6", "7"], "team": site.team.pk, "role": "member"})
    assert r.status_code == 302
    v = person.volunteer
    assert v.skills == ["visit", "legal"] and v.available_days == "67"
    assert services.team_shape(site.team).label == "1+1+3"
    # a second secretary is refused in plain Chinese, and nothing is registered
    other = world.people["曾国藩"]
    r = client.post(reverse("volunteers:register"), {"person": other.pk, "team": site.team.pk, "role": "secretary"})
    assert r.status_code == 400 and "支部书记" in r.content.decode()
    from volunteers.models import Volunteer

    assert not Volunteer.objects.filter(person=other).exists()
    client.force_login(world.users.worker_b1)
    r = client.post(reverse("volunteers:register"), {"person": other.pk})
    assert r.status_code == 400  # a person outside their places is not found
