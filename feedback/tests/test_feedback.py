"""The QR sheet and the public report page: it reads nothing of anyone and writes nothing without the code."""
import re

import pytest
from django.urls import reverse

from conftest import resident_id, verified_login
from feedback.models import Submission
from feedback.tokens import building_token, house_token, parse_token
from notify.models import PhoneChallenge

PHONE = "13912340001"
NEW_ID = resident_id("32050719900101123")


def last_code(path) -> str:
    return re.findall(r"验证码 (\d{6})", path.read_text(encoding="utf-8"))[-1]


def change_requests():
    from fieldwork.models import ChangeRequest

    return ChangeRequest.objects.filter(source="feedback")


def url_for(building):
    return reverse("feedback:report", args=[building_token(building)])


def move_in(**extra):
    data = {"room": "1|101", "kind": "move_in", "name_1": "陈新来", "id_type_1": "resident_id",
            "id_number_1": NEW_ID, "phone": PHONE, "step": "send"}
    data.update(extra)
    return data


def world_secrets(world) -> list[str]:
    """Every name, ID number and phone of the world's residents, in clear and masked."""
    out = []
    for p in world.people.values():
        out += [p.name, p.reveal_id_number(), p.reveal_phone(), p.id_number_masked, p.phone_masked]
    return [s for s in out if s]


def assert_no_secret(world, response):
    body = response.content.decode()
    leaked = [s for s in world_secrets(world) if s in body]
    assert not leaked, f"the public page shows residents' data: {leaked}"


# --- tokens ---------------------------------------------------------------------------------------------------------
def test_a_token_names_its_building_without_a_database_id_in_clear(world):
    b = world.buildings["A1"]
    token = building_token(b)
    assert parse_token(token) == (b.pk, None)
    value = token.rsplit(":", 1)[0]
    assert str(b.pk) not in value and "building" not in value
    h = world.houses["A1"][3]
    assert parse_token(house_token(h)) == (b.pk, h.pk)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature altered
    lambda t: "A" + t[1:] if t[0] != "A" else "B" + t[1:],  # value altered
    lambda t: "nonsense",
    lambda t: t.split(":")[0],  # no signature
])
def test_a_forged_or_altered_token_is_a_404(client, world, mangle):
    token = mangle(building_token(world.buildings["A1"]))
    assert parse_token(token) is None
    assert client.get(reverse("feedback:report", args=[token])).status_code == 404


def test_a_token_signed_for_another_purpose_is_refused(world):
    from django.core import signing

    b = world.buildings["A1"]
    value = building_token(b).rsplit(":", 1)[0]
    other = signing.Signer(salt="renfang.something.else").sign(value)
    assert parse_token(other) is None


# --- reading nothing -----------------------------------------------------------------------------------------------
def test_the_public_page_shows_the_building_and_rooms_only(client, world):
    r = client.get(url_for(world.buildings["A1"]))
    assert r.status_code == 200
    body = r.content.decode()
    assert "A1花园 1幢" in body and "1单元 101" in body and "2单元 602" in body
    assert "现住" not in body and "户主" not in body
    assert_no_secret(world, r)
    assert r["Cache-Control"] == "no-store"


def test_no_resident_data_appears_in_any_response_of_the_flow(client, world, sms_file):
    b = world.buildings["A1"]
    url = url_for(b)
    someone = world.people["张三"]
    responses = [client.get(url)]
    # a move-out naming a real resident, one naming nobody, a move-in with a registered person's ID, errors
    for data in [
        move_in(room="1|101", kind="move_out", out_name=someone.name, phone="13912340002"),
        move_in(room="1|102", kind="move_out", out_name="查无此人", phone="13912340003"),
        move_in(id_number_1=someone.reveal_id_number(), name_1="冒名", phone="13912340004"),
        move_in(id_number_1="123", phone="13912340005"),
        move_in(phone="12345"),
    ]:
        r = client.post(url, data)
        responses.append(r)
        if 'name="challenge"' in r.content.decode():
            code = last_code(sms_file)
            cid = re.search(r'name="challenge" value="([^"]+)"', r.content.decode()).group(1)
            responses.append(client.post(url, {**data, "step": "confirm", "challenge": cid, "code": code}))
    for r in responses:
        body = r.content.decode()
        # The resident's own words may come back to them in the form (the name they typed); nothing else may.
        typed = {someone.name, someone.reveal_id_number()}
        leaked = [s for s in world_secrets(world) if s in body and s not in typed]
        assert not leaked, leaked
    done = [r for r in responses if "已提交" in r.content.decode()]
    assert len(done) == 3, "the real and the unknown resident's move-out, and the move-in, all end the same way"


def test_a_move_out_of_a_real_and_of_an_unknown_person_answer_alike(client, world, sms_file):
    url = url_for(world.buildings["A1"])
    bodies = []
    for name, phone in [(world.people["张三"].name, "13912340006"), ("查无此人", "13912340007")]:
        data = move_in(room="1|101", kind="move_out", out_name=name, phone=phone)
        r = client.post(url, data)
        cid = re.search(r'name="challenge" value="([^"]+)"', r.content.decode()).group(1)
        r = client.post(url, {**data, "step": "confirm", "challenge": cid, "code": last_code(sms_file)})
        bodies.append(re.sub(r"[A-Za-z0-9]{64}", "", r.content.decode()))  # CSRF tokens differ
        assert r.status_code == 200
    assert bodies[0].replace("13912340006", "") == bodies[1].replace("13912340007", "")
    assert change_requests().count() == 2


# --- writing nothing without the code --------------------------------------------------------------------------------
def test_no_change_request_without_the_right_code(client, world, sms_file):
    url = url_for(world.buildings["A1"])
    data = move_in()
    r = client.post(url, data)
    assert r.status_code == 200 and "139****0001" in r.content.decode()
    cid = re.search(r'name="challenge" value="([^"]+)"', r.content.decode()).group(1)
    code = last_code(sms_file)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    r = client.post(url, {**data, "step": "confirm", "challenge": cid, "code": wrong})
    assert "验证码：不正确或已过期" in r.content.decode()
    r = client.post(url, {**data, "step": "confirm", "challenge": "forged", "code": code})
    assert "验证码：不正确或已过期" in r.content.decode()
    r = client.post(url, {**data, "step": "confirm", "challenge": cid, "code": ""})
    assert "验证码：请填写" in r.content.decode()
    assert change_requests().count() == 0 and Submission.objects.count() == 0


def test_a_code_for_one_phone_does_not_confirm_a_report_with_another(client, world, sms_file):
    url = url_for(world.buildings["A1"])
    r = client.post(url, move_in())
    cid = re.search(r'name="challenge" value="([^"]+)"', r.content.decode()).group(1)
    r = client.post(url, {**move_in(phone="13912349999"), "step": "confirm", "challenge": cid,
                          "code": last_code(sms_file)})
    assert "验证码：不正确或已过期" in r.content.decode() and change_requests().count() == 0


def test_the_right_code_files_a_move_in_for_review_with_the_id_sealed(client, world, sms_file):
    from people.models import Person

    url = url_for(world.buildings["A1"])
    people_before = Person.objects.count()
    data = move_in(name_2="陈小来", id_number_2=resident_id("32050720100101123"), text="上周搬来")
    r = client.post(url, data)
    cid = re.search(r'name="challenge" value="([^"]+)"', r.content.decode()).group(1)
    r = client.post(url, {**data, "step": "confirm", "challenge": cid, "code": last_code(sms_file)})
    assert r.status_code == 200 and "已提交" in r.content.decode()
    crs = list(change_requests().order_by("id"))
    assert [cr.kind for cr in crs] == ["move_in", "move_in"]
    assert {cr.house_id for cr in crs} == {world.houses["A1"][0].pk}
    assert all(cr.status == "pending" for cr in crs)
    assert Person.objects.count() == people_before, "the registry is never written directly"
    raw = str(change_requests().values().first())
    assert NEW_ID not in raw and PHONE not in raw
    # the same code does not file the report twice
    r = client.post(url, {**data, "step": "confirm", "challenge": cid, "code": last_code(sms_file)})
    assert "已提交" not in r.content.decode() and change_requests().count() == 2


def test_a_house_token_fixes_the_room(client, world, sms_file):
    h = world.houses["A1"][5]
    url = reverse("feedback:report", args=[house_token(h)])
    body = client.get(url).content.decode()
    assert f"{h.unit}单元 {h.room}" in body and "2单元 602" not in body
    data = move_in(room=f"{h.unit}|{h.room}", kind="correction", text="门牌号写错了")
    r = client.post(url, data)
    cid = re.search(r'name="challenge" value="([^"]+)"', r.content.decode()).group(1)
    client.post(url, {**data, "step": "confirm", "challenge": cid, "code": last_code(sms_file)})
    assert change_requests().get().house_id == h.pk
    other = world.houses["A1"][0]
    r = client.post(url, {**data, "room": f"{other.unit}|{other.room}", "phone": "13912340011"})
    assert "房号：" in r.content.decode() and 'name="challenge"' not in r.content.decode()


# --- validation, honeypot, limits ----------------------------------------------------------------------------------
def test_errors_name_the_field_in_chinese_and_send_nothing(client, world, sms_file):
    url = url_for(world.buildings["A1"])
    r = client.post(url, move_in(id_number_1="320507199001011234", phone="1391234"))
    body = r.content.decode()
    assert 'name="challenge"' not in body
    assert "证件号码：第1位" in body and "您的手机号：" in body and "11位" in body
    r = client.post(url, {"room": "", "kind": "correction", "phone": PHONE})
    body = r.content.decode()
    assert "房号：" in body and "说明：请说明需要更正的内容" in body
    assert not sms_file.exists() and PhoneChallenge.objects.count() == 0


def test_a_room_of_another_building_is_refused(client, world, sms_file):
    r = client.post(url_for(world.buildings["A1"]), move_in(room="9|909"))
    assert "房号：" in r.content.decode() and PhoneChallenge.objects.count() == 0


def test_the_honeypot_sends_no_code_and_files_nothing(client, world, sms_file):
    url = url_for(world.buildings["A1"])
    r = client.post(url, move_in(website="http://spam.example"))
    assert r.status_code == 200
    assert not sms_file.exists() and PhoneChallenge.objects.count() == 0
    r = client.post(url, {**move_in(website="x"), "step": "confirm", "challenge": "x", "code": "123456"})
    assert change_requests().count() == 0


def test_codes_are_rate_limited_per_phone_with_the_reason_on_the_phone_field(client, world, sms_file):
    url = url_for(world.buildings["A1"])
    assert client.post(url, move_in()).status_code == 200
    r = client.post(url, move_in())
    assert r.status_code == 429 and "您的手机号：验证码发送太频繁" in r.content.decode()
    assert PhoneChallenge.objects.count() == 1


def test_codes_are_rate_limited_per_address(client, world, sms_file):
    url = url_for(world.buildings["A1"])
    for i in range(20):
        assert client.post(url, move_in(phone=f"139000001{i:02d}")).status_code == 200
    r = client.post(url, move_in(phone="13900000199"))
    assert r.status_code == 429 and "本网络" in r.content.decode()


def test_reports_are_limited_per_address(client, world, sms_file):
    from feedback import services

    for i in range(services.IP_PER_HOUR):
        Submission.objects.create(building=world.buildings["A1"], kind="correction", phone_bidx=f"x{i}",
                                  ip="127.0.0.1")
    r = client.post(url_for(world.buildings["A1"]), move_in())
    assert r.status_code == 429 and "本网络提交的反馈太多" in r.content.decode()
    assert PhoneChallenge.objects.count() == 0


def test_csrf_is_enforced_on_the_public_page(world, sms_file):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    r = c.post(url_for(world.buildings["A1"]), move_in())
    assert r.status_code == 403 and PhoneChallenge.objects.count() == 0


# --- the sheet -------------------------------------------------------------------------------------------------------
def test_the_community_officer_prints_the_sheet_of_a_compound_of_their_community(client, world):
    client.force_login(world.users.officer_a)
    comp = world.compounds["A1"]
    r = client.get(reverse("feedback:sheet", args=[comp.pk]))
    body = r.content.decode()
    # One feedback code per building, and beside it the building's "services near me" code (circle).
    assert r.status_code == 200 and body.count('class="qr-card"') == 1 and body.count('class="qr-card qr-near"') == 1
    assert body.count("<svg") == 2
    assert building_token(world.buildings["A1"]) in body
    r = client.get(reverse("feedback:sheet", args=[comp.pk]) + "?per=house")
    assert r.content.decode().count('class="qr-card"') == 24


def test_the_sheet_is_404_out_of_scope_and_403_for_those_who_may_not_print(client, world):
    url_a1 = reverse("feedback:sheet", args=[world.compounds["A1"].pk])
    url_b1 = reverse("feedback:sheet", args=[world.compounds["B1"].pk])
    client.force_login(world.users.officer_a)
    assert client.get(url_b1).status_code == 404
    client.force_login(world.users.worker_a1)
    assert client.get(url_a1).status_code == 403
    client.force_login(world.users.worker_b1)
    assert client.get(url_a1).status_code == 404
    verified_login(client, world.users.command)
    assert client.get(url_a1).status_code == 403
    client.force_login(world.users.resident)
    assert client.get(url_a1).status_code == 404
    client.logout()
    assert client.get(url_a1).status_code == 302


def test_a_verified_report_tells_the_community_officers_in_their_inbox(client, world, sms_file,
                                                                         django_capture_on_commit_callbacks):
    from notify.models import Notification

    url = url_for(world.buildings["A1"])
    data = move_in(kind="correction", text="阳台改成了卧室")
    r = client.post(url, data)
    cid = re.search(r'name="challenge" value="([^"]+)"', r.content.decode()).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {**data, "step": "confirm", "challenge": cid, "code": last_code(sms_file)})
    entries = list(Notification.objects.all())
    assert [n.user for n in entries] == [world.users.officer_a]
    assert "A1花园1幢1单元101室" in entries[0].title and PHONE not in entries[0].title + entries[0].body


def test_the_index_lists_the_compounds_of_the_officers_community_only(client, world):
    client.force_login(world.users.officer_a)
    body = client.get(reverse("feedback:index")).content.decode()
    assert "A1花园" in body and "A2花园" in body and "B1花园" not in body
    client.force_login(world.users.worker_a1)
    assert client.get(reverse("feedback:index")).status_code == 403


def test_the_public_page_reads_in_english(client, world, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(url_for(world.buildings["A1"])).content.decode()
    assert "Report a change in your home" in body and "Unit 1, room 101" in body and "Send me a code" in body
    r = client.post(url_for(world.buildings["A1"]), move_in(phone="123"))
    assert "Your mobile number" in r.content.decode()


def test_submissions_older_than_30_days_are_purged_and_the_job_is_scheduled(world, settings):
    import datetime as dt

    from django.utils import timezone

    from core.schedule import registered
    from feedback.tasks import purge_submissions

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    old = Submission.objects.create(building=world.buildings["A1"], kind="correction", phone_bidx="a")
    Submission.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    Submission.objects.create(building=world.buildings["A1"], kind="correction", phone_bidx="b")
    assert purge_submissions.enqueue().return_value == 1
    assert list(Submission.objects.values_list("phone_bidx", flat=True)) == ["b"]
    assert "feedback.purge_submissions" in {job.name for job in registered()}
