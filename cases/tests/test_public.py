"""The residents' pages without an account: nothing is written without the right phone code, a case is read only
by the session that proved the reporting phone, no personal data is shown, and a dissatisfied answer reopens."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import Case, CaseCategory
from cases.public_views import compound_token
from cases.services import report, transition
from conftest import verified_login

PHONE = "13912345678"
SENT: list[tuple[str, str]] = []


class MemoryBackend:
    def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


@pytest.fixture(autouse=True)
def _sms(settings, tmp_path):
    settings.RENFANG_SMS_BACKEND = "cases.tests.test_public.MemoryBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    SENT.clear()


def last_code(phone=PHONE) -> str:
    return re.search(r"\d{6}", [t for p, t in SENT if p == phone][-1]).group(0)


def ask_code(c: Client, phone=PHONE, purpose="case_report") -> str:
    html = c.post("/cases/code/", {"phone": phone, "purpose": purpose}).content.decode()
    return re.search(r'name="challenge" value="([^"]+)"', html).group(1)


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buf, "PNG")
    return buf.getvalue()


def form(world, **extra):
    data = {"category": CaseCategory.objects.get(code="sanitation-rubbish").pk,
            "description": "3幢门口垃圾堆了三天没人清运", "building": world.buildings["A1"].pk, "phone": PHONE}
    data.update(extra)
    return data


def test_a_resident_reports_with_a_photo_after_the_phone_code_and_sees_the_case(world):
    c = Client()
    url = f"/cases/r/{compound_token(world.compounds['A1'])}/"
    page = c.get(url)
    assert page.status_code == 200 and "A1花园" in page.content.decode()
    challenge = ask_code(c)
    r = c.post(url, form(world, challenge=challenge, code=last_code(),
                         photo=SimpleUploadedFile("p.png", png(), content_type="image/png")))
    assert r.status_code == 302, r.content.decode()[-2000:]
    case = Case._base_manager.get()
    assert case.channel == "resident" and case.building_id == world.buildings["A1"].pk
    assert case.reporter_phone_masked == "139****5678" and case.attachments.count() == 1
    assert r["Location"] == f"/cases/track/{case.number}/"
    html = c.get(r["Location"]).content.decode()
    assert case.number in html and "已收到您的反映" in html


def test_nothing_is_written_without_the_right_code(world):
    c = Client()
    url = f"/cases/r/{compound_token(world.compounds['A1'])}/"
    r = c.post(url, form(world, code="123456"))
    assert r.status_code == 400 and "验证码不正确" in r.content.decode()
    challenge = ask_code(c)
    wrong = "000000" if last_code() != "000000" else "111111"
    assert c.post(url, form(world, challenge=challenge, code=wrong)).status_code == 400
    other = ask_code(Client(), phone="13800138000")  # a code sent to someone else's phone
    assert c.post(url, form(world, challenge=other, code=last_code("13800138000"))).status_code == 400
    assert Case._base_manager.count() == 0


def test_a_code_works_once(world):
    c = Client()
    url = f"/cases/r/{compound_token(world.compounds['A1'])}/"
    challenge = ask_code(c)
    code = last_code()
    assert c.post(url, form(world, challenge=challenge, code=code)).status_code == 302
    assert c.post(url, form(world, challenge=challenge, code=code)).status_code == 400
    assert Case._base_manager.count() == 1


def test_a_forged_compound_token_is_404(world):
    assert Client().get("/cases/r/not-a-token/").status_code == 404
    token = compound_token(world.compounds["A1"])
    assert Client().get(f"/cases/r/{token[:-2]}xx/").status_code == 404


def test_the_compound_picker_reports_without_a_token(world):
    c = Client()
    challenge = ask_code(c)
    data = form(world, challenge=challenge, code=last_code(), compound=world.compounds["B1"].pk)
    data.pop("building")
    assert c.post("/cases/r/", data).status_code == 302
    assert Case._base_manager.get().compound_id == world.compounds["B1"].pk


def test_the_case_page_is_closed_to_other_sessions_and_shows_no_personal_data(world):
    case = report(None, channel="resident", category="property-lift", title="电梯坏了",
                  description="我是张三，电话13912345678，住101", place=world.houses["A1"][0],
                  reporter_name="张三", reporter_phone=PHONE)
    stranger = Client()
    assert stranger.get(f"/cases/track/{case.number}/").status_code == 404
    assert stranger.post(f"/cases/track/{case.number}/", {"answer": "dissatisfied"}).status_code == 404
    # the owner proves the phone on the tracking page
    c = Client()
    challenge = ask_code(c, purpose="case_track")
    r = c.post("/cases/track/", {"number": case.number, "phone": PHONE, "challenge": challenge, "code": last_code()})
    assert r.status_code == 302
    html = c.get(f"/cases/track/{case.number}/").content.decode()
    assert case.number in html
    for secret in ("张三", PHONE, "139****5678", "101", "1单元"):
        assert secret not in html


def test_tracking_with_another_phone_finds_nothing(world):
    case = report(None, channel="resident", category="property-lift", title="电梯坏了", place=world.compounds["A1"],
                  reporter_phone=PHONE)
    c = Client()
    challenge = ask_code(c, phone="13800138000", purpose="case_track")
    r = c.post("/cases/track/", {"number": case.number, "phone": "13800138000", "challenge": challenge,
                                 "code": last_code("13800138000")})
    assert r.status_code == 400 and "没有找到" in r.content.decode()
    assert c.get(f"/cases/track/{case.number}/").status_code == 404


def test_a_report_code_does_not_open_tracking(world):
    case = report(None, channel="resident", category="property-lift", title="电梯坏了", place=world.compounds["A1"],
                  reporter_phone=PHONE)
    c = Client()
    challenge = ask_code(c, purpose="case_report")
    r = c.post("/cases/track/", {"number": case.number, "phone": PHONE, "challenge": challenge, "code": last_code()})
    assert r.status_code == 400


def handled(world, officer):
    from cases.models import Unit

    unit = Unit.objects.create(name="物业", street_id=world.street.pk)
    case = report(None, channel="resident", category="property-lift", title="电梯坏了", place=world.compounds["A1"],
                  reporter_phone=PHONE)
    case = transition(officer, case, "accept")
    case = transition(officer, case, "dispatch", lead_unit=unit)
    case = transition(world.users.worker_a1, case, "handle", note="已修好")
    case = transition(officer, case, "verify")
    return case


def test_a_dissatisfied_resident_reopens_the_case(world):
    case = handled(world, world.users.officer_a)
    c = Client()
    s = c.session
    s["cases_public_verified"] = [case.pk]
    s.save()
    html = c.get(f"/cases/track/{case.number}/").content.decode()
    assert "您对办理结果满意吗" in html
    r = c.post(f"/cases/track/{case.number}/", {"answer": "dissatisfied", "note": "电梯还是坏的"})
    assert r.status_code == 302
    case = Case._base_manager.get(pk=case.pk)
    assert case.satisfaction == "dissatisfied" and case.reopened_count == 1 and case.status == "dispatched"
    assert "您对办理结果满意吗" not in c.get(f"/cases/track/{case.number}/").content.decode()


def test_the_enterprise_channel_needs_the_registered_credit_code_and_contact_phone(world):
    from people.models import Enterprise

    tower = world.compounds["A1"]
    ent = Enterprise(name="星海科技有限公司", credit_code="91320507MA1XY1234Q", compound=tower, contact_name="李经理")
    ent.set_contact_phone(PHONE)
    ent.save()
    url = f"/cases/e/{compound_token(tower)}/"
    c = Client()
    assert "星海科技有限公司" in c.get(url).content.decode()
    cat = CaseCategory.objects.get(code="enterprise-policy").pk
    challenge = ask_code(c)
    r = c.post(url, {"enterprise": ent.pk, "credit_code": "91320507MA1XY9999Q", "category": cat,
                     "description": "咨询高新技术企业申报", "phone": PHONE, "challenge": challenge,
                     "code": last_code()})
    assert r.status_code == 400 and "不符" in r.content.decode()
    assert Case._base_manager.count() == 0
    SENT.clear()
    challenge = ask_code(Client(), phone="13800138000")  # a verified phone that is not the registered one
    r = c.post(url, {"enterprise": ent.pk, "credit_code": ent.credit_code, "category": cat,
                     "description": "咨询高新技术企业申报", "phone": "13800138000", "challenge": challenge,
                     "code": last_code("13800138000")})
    assert r.status_code == 400 and Case._base_manager.count() == 0
    from notify.models import PhoneChallenge

    PhoneChallenge.objects.all().delete()  # one code a minute per phone: forget the earlier ones
    challenge = ask_code(c)
    r = c.post(url, {"enterprise": ent.pk, "credit_code": ent.credit_code.lower(), "category": cat,
                     "description": "咨询高新技术企业申报", "phone": PHONE, "challenge": challenge,
                     "code": last_code()})
    assert r.status_code == 302
    case = Case._base_manager.get()
    assert case.channel == "enterprise" and "星海科技" in case.title


def test_the_code_endpoint_refuses_a_bad_number_and_an_unknown_purpose(world):
    c = Client()
    assert "手机号" in c.post("/cases/code/", {"phone": "123", "purpose": "case_report"}).content.decode()
    assert c.post("/cases/code/", {"phone": PHONE, "purpose": "login"}).status_code == 404
    assert SENT == []


def test_the_qr_code_is_for_staff_who_see_the_compound(world):
    c = Client()
    verified_login(c, world.users.worker_a1)
    r = c.get(f"/cases/qr/{world.compounds['A1'].pk}.svg")
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml"
    assert c.get(f"/cases/qr/{world.compounds['B1'].pk}.svg").status_code == 404
    assert Client().get(f"/cases/qr/{world.compounds['A1'].pk}.svg").status_code == 302


def test_the_public_pages_read_in_english(world, settings):
    from django.utils import translation

    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    try:
        html = c.get(f"/cases/r/{compound_token(world.compounds['A1'])}/").content.decode()
        assert "Report a problem" in html and "Piled rubbish" in html
        assert "我要反映" not in html and "获取验证码" not in html
        track = c.get("/cases/track/").content.decode()
        assert "Follow a case" in track and "查询办理进度" not in track
    finally:
        translation.activate(settings.LANGUAGE_CODE)


def test_a_logged_in_resident_who_reports_finds_the_case_under_my_submissions(world):
    """The public page knows the resident's account when they are logged in: the case is theirs on their home."""
    c = Client()
    c.force_login(world.users.resident)
    url = f"/cases/r/{compound_token(world.compounds['A1'])}/"
    challenge = ask_code(c)
    r = c.post(url, form(world, challenge=challenge, code=last_code()))
    assert r.status_code == 302
    case = Case._base_manager.get()
    assert case.reported_by_id == world.users.resident.pk
    home = c.get("/").content.decode()
    assert case.number in home and "我的提交" in home
    anonymous = Client()
    challenge = ask_code(anonymous, phone="13912345679")
    anonymous.post(url, form(world, challenge=challenge, code=last_code("13912345679"), phone="13912345679"))
    assert Case._base_manager.filter(reported_by__isnull=True).count() == 1
