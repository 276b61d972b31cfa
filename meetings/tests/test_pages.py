"""The pages: an organisation's member sees only its own organisation's work; staff see their places'; the minutes
print as a Chinese PDF; the board filters; the needs follow an enterprise to resolution, a case and satisfaction."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse

from conftest import verified_login
from mediation.tests.pdftext import pdf_text
from meetings import services
from meetings.choices import NeedState, ResolutionState
from meetings.models import Need, Resolution
from meetings.tests.conftest import at

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


def two_sides(site):
    m = services.schedule_meeting(site.officer, site.series, starts_at=at(dt.date(2026, 12, 1), 14),
                                  ends_at=at(dt.date(2026, 12, 1), 16), title="共享食堂")
    mine = services.add_resolution(site.officer, m, title="本企业承办：午餐专窗", owner=site.o1, proposer=site.prop)
    helped = services.add_resolution(site.officer, m, title="本企业协办：班车", owner=site.o2, assisting=[site.o1])
    other = services.add_resolution(site.officer, m, title="别家的事：冰箱", owner=site.o2, proposer=site.party)
    far = services.add_resolution(None, site.meeting_b, title="B社区的事", owner=site.ob)
    return m, mine, helped, other, far


def test_an_organisations_member_sees_only_its_own_organisations_work(site):
    m, mine, helped, other, far = two_sides(site)
    assert set(Resolution.objects.for_member(site.ent_user)) == {mine, helped}
    c = client_of(site.ent_user)
    page = c.get(reverse("meetings:my")).content.decode()
    assert "本企业承办：午餐专窗" in page and "本企业协办：班车" in page
    assert "别家的事" not in page and "B社区的事" not in page
    assert c.get(reverse("meetings:my_resolution", args=[mine.pk])).status_code == 200
    assert c.get(reverse("meetings:my_resolution", args=[other.pk])).status_code == 404
    assert c.get(reverse("meetings:my_resolution", args=[far.pk])).status_code == 404
    # the staff pages are not theirs, whatever the record
    for name, pk in (("meetings:resolution", mine.pk), ("meetings:board", None), ("meetings:meeting", m.pk)):
        url = reverse(name, args=[pk] if pk else [])
        assert c.get(url).status_code == 403, url
    # the party committee's secretary sees the resolution their side proposed (to confirm it), not the others
    sec = client_of(site.sec_user)
    assert sec.get(reverse("meetings:my_resolution", args=[other.pk])).status_code == 200
    assert sec.get(reverse("meetings:my_resolution", args=[mine.pk])).status_code == 404


def test_a_member_updates_their_resolution_with_a_photo_and_the_proposer_confirms_it(site):
    from PIL import Image

    m, mine, helped, other, far = two_sides(site)
    services.assign(site.officer, other, owner=site.o1, deadline_days=5)  # now the enterprise's own
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 10)).save(buf, "JPEG")
    buf.seek(0)
    buf.name = "fridge.jpg"
    c = client_of(site.ent_user)
    r = c.post(reverse("meetings:my_update", args=[other.pk]), {"progress": "60", "note": "冰箱已到位",
                                                                 "evidence": buf})
    assert r.status_code == 302
    other.refresh_from_db()
    assert other.progress == 60 and other.state == ResolutionState.IN_PROGRESS
    ev = other.updates.get(kind="progress").evidence.get()
    assert c.get(reverse("meetings:my_evidence", args=[ev.pk])).status_code == 200
    assert client_of(site.worker_b1).get(reverse("meetings:evidence", args=[ev.pk])).status_code == 404
    c.post(reverse("meetings:my_update", args=[other.pk]), {"note": "完成", "done": "on"})
    other.refresh_from_db()
    assert other.state == ResolutionState.SUBMITTED
    # the owner cannot confirm its own work; the proposing party committee can
    c.post(reverse("meetings:my_confirm", args=[other.pk]), {"decision": "confirm"})
    other.refresh_from_db()
    assert other.state == ResolutionState.SUBMITTED
    client_of(site.sec_user).post(reverse("meetings:my_confirm", args=[other.pk]), {"decision": "confirm"})
    other.refresh_from_db()
    assert other.state == ResolutionState.DONE


def test_staff_see_their_places_and_the_board_filters(site):
    m, mine, helped, other, far = two_sides(site)
    c = client_of(site.worker_a1)
    page = c.get(reverse("meetings:board")).content.decode()
    assert mine.number in page and far.number not in page
    page = c.get(reverse("meetings:board"), {"owner": site.o2.pk}).content.decode()
    assert helped.number in page and mine.number not in page
    page = c.get(reverse("meetings:board"), {"overdue": "1"}).content.decode()
    assert mine.number not in page  # nothing overdue yet
    assert c.get(reverse("meetings:resolution", args=[far.pk])).status_code == 404
    assert client_of(site.worker_b1).get(reverse("meetings:resolution", args=[mine.pk])).status_code == 404
    detail = c.get(reverse("meetings:resolution", args=[mine.pk])).content.decode()
    assert "形成决议" in detail and "交办" in detail  # the timeline from proposal on
    for bad in ({"owner": "9" * 30}, {"page": "x"}, {"state": "nonsense"}):
        assert c.get(reverse("meetings:board"), bad).status_code == 200


def test_the_minutes_print_as_a_chinese_pdf(site):
    m, mine, *_rest = two_sides(site)
    services.record_attendance(site.officer, m, {i.pk: (True, "钱经理") for i in m.invitations.all()})
    services.save_minutes(site.officer, m, "会议讨论了共享食堂的开放时间，企业代表电话13912345678。")
    r = client_of(site.worker_a1).get(reverse("meetings:minutes_pdf", args=[m.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    text = pdf_text(r.content)
    for words in ("网格×楼宇企业联席会议", "第1次会议纪要", "出席单位", "一号科技", "共享食堂的开放时间",
                  "本企业承办：午餐专窗", "会议决议"):
        assert words in text, words
    assert "13912345678" not in text and "139****5678" in text  # the sealed number stays masked
    assert client_of(site.worker_b1).get(reverse("meetings:minutes_pdf", args=[m.pk])).status_code == 404


def test_a_need_is_raised_on_a_visit_resolved_rated_or_turned_into_a_case(site):
    from cases.models import Case

    c = client_of(site.worker_a1)
    r = c.post(reverse("meetings:visit_new", args=[site.e1.pk]), {
        "visited_on": "2026-12-01", "met": "钱经理", "note": "了解用餐情况",
        "n0-category": "dining", "n0-title": "午餐排队太久", "n0-detail": "",
        "n1-category": "permits", "n1-title": "食品许可证续期", "n1-detail": "",
        "n2-category": "dining", "n2-title": "", "n2-detail": ""})
    assert r.status_code == 302, r.content.decode()[:500]
    dining, permit = Need.objects.filter(enterprise=site.e1).order_by("id")
    assert dining.floor == 3 and dining.compound_id == site.tower.pk and dining.visit_id
    c.post(reverse("meetings:need_act", args=[dining.pk]), {"do": "resolve", "note": "增开窗口"})
    dining.refresh_from_db()
    assert dining.state == NeedState.RESOLVED
    # the enterprise answers itself
    e = client_of(site.ent_user)
    e.post(reverse("meetings:my_need", args=[dining.pk]), {"satisfaction": "satisfied"})
    dining.refresh_from_db()
    assert dining.satisfaction == "satisfied"
    officer = client_of(site.officer)
    officer.post(reverse("meetings:need_act", args=[permit.pk]), {"do": "case"})
    permit.refresh_from_db()
    assert permit.state == NeedState.CASE and Case.objects.filter(pk=permit.case_id, channel="enterprise").exists()
    figures = officer.get(reverse("meetings:needs")).content.decode()
    assert "午餐排队太久" in figures
    data = officer.get(reverse("meetings:tower_data"), {"tower": site.tower.pk}).json()
    dining_row = next(x for x in data["categories"] if x["key"] == "dining")
    assert dining_row == {"key": "dining", "label": "就餐", "raised": 1, "resolved": 1}
    assert {"key": "satisfied", "label": "满意", "n": 1} in data["satisfaction"]
    # another grid's worker cannot visit this enterprise
    assert client_of(site.worker_b1).get(reverse("meetings:visit_new", args=[site.e1.pk])).status_code == 404


def test_the_export_is_watermarked_audited_and_holds_the_users_places_only(site):
    from openpyxl import load_workbook

    from core.models import AuditEvent

    m, mine, helped, other, far = two_sides(site)
    r = client_of(site.officer).get(reverse("meetings:board_export"))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    text = " ".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)
    assert "officer_a 导出于" in text and mine.title in text and far.title not in text
    assert AuditEvent.objects.filter(action="export", object_type="meetings.resolution").exists()
    assert client_of(site.worker_a1).get(reverse("meetings:board_export")).status_code == 403


def test_every_staff_page_answers_in_english_too(site):
    from django.conf import settings

    m, mine, *_ = two_sides(site)
    c = client_of(site.officer)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    pages = [reverse("meetings:home"), reverse("meetings:board"), reverse("meetings:meeting", args=[m.pk]),
             reverse("meetings:resolution", args=[mine.pk]), reverse("meetings:needs"), reverse("meetings:tower"),
             reverse("meetings:enterprises"), reverse("meetings:orgs"), reverse("meetings:govservices")]
    for url in pages:
        page = c.get(url).content.decode()
        assert '<html lang="en">' in page, url
    assert "Resolutions board" in c.get(reverse("meetings:board")).content.decode()


def test_the_api_lists_the_users_places_and_takes_progress_through_the_service(site):
    m, mine, helped, other, far = two_sides(site)
    c = client_of(site.worker_a1)
    rows = c.get("/api/meetings/resolutions/", {"owner": site.o1.pk}).json()["results"]
    assert [r["id"] for r in rows] == [mine.pk]
    assert "contact_phone_masked" in c.get(f"/api/meetings/organisations/{site.o1.pk}/").json()
    assert "13900139001" not in c.get(f"/api/meetings/organisations/{site.o1.pk}/").content.decode()
    assert client_of(site.worker_b1).get(f"/api/meetings/resolutions/{mine.pk}/").status_code == 404
    officer = client_of(site.officer)
    r = officer.post(f"/api/meetings/resolutions/{mine.pk}/progress/", {"progress": 35, "note": "已召开协调会"},
                     content_type="application/json")
    assert r.status_code == 200 and r.json()["progress"] == 35 and r.json()["state"] == "in_progress"
    r = officer.post(f"/api/meetings/resolutions/{mine.pk}/progress/", {"progress": 135, "note": "x"},
                     content_type="application/json")
    assert r.status_code == 400
    assert client_of(site.worker_a1).post(f"/api/meetings/resolutions/{mine.pk}/progress/",
                                          {"progress": 50, "note": "网格员"},
                                          content_type="application/json").status_code == 403


def test_the_cockpit_figures_count_held_meetings_done_and_overdue_resolutions_and_needs(site):
    import time_machine
    from django.utils import timezone

    from meetings.cockpit import compute_meetings, compute_needs_raised, compute_resolutions

    m, mine, helped, other, far = two_sides(site)
    services.close_meeting(site.officer, m)
    services.submit_done(site.officer, mine, note="完成")
    services.confirm(site.officer, mine)
    services.raise_need(site.officer, site.e1, category="parking", title="车位不足")
    community = site.series.community_id
    assert compute_meetings("community")[community] == {"held": 1, "planned": 0}
    assert compute_resolutions("community")[community] == {"done": 1, "open": 2, "overdue": 0}
    with time_machine.travel(timezone.now() + dt.timedelta(days=60), tick=False):
        assert compute_resolutions("community")[community] == {"done": 1, "open": 0, "overdue": 2}
    assert compute_needs_raised("compound")[site.tower.pk] == {"parking": 1}


def test_a_member_reads_the_meetings_of_its_organisation_and_links_only_its_own_resolutions(site):
    m, mine, helped, other, far = two_sides(site)
    c = client_of(site.ent_user)
    page = c.get(reverse("meetings:my_meeting", args=[m.pk])).content.decode()
    assert reverse("meetings:my_resolution", args=[mine.pk]) in page
    assert "别家的事：冰箱" in page and reverse("meetings:my_resolution", args=[other.pk]) not in page
    assert c.get(reverse("meetings:my_meeting", args=[site.meeting_b.pk])).status_code == 404
    r = c.post(reverse("meetings:my_propose", args=[m.pk]), {"title": "企业提议：外卖柜"})
    assert r.status_code == 302 and m.agenda.filter(title="企业提议：外卖柜", proposing_org=site.o1).exists()
    assert c.post(reverse("meetings:my_propose", args=[site.meeting_b.pk]), {"title": "x"}).status_code == 404
