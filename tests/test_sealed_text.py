"""Numbers typed into free text (core.sealed): the detector, sealing and re-sealing, the model mixin, the reveal."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from core import crypto
from core.models import AuditEvent
from core.sealed import find_numbers, mask_text, reveal_text, seal_text, unseal_text

# Where the pure-function tests' values are bound (a table, a text's column, a row's seal id).
AT = {"table": "t_test", "column": "sealed_numbers.note", "row": uuid.UUID(int=7)}
HAN = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=0, max_size=12)
GAP = st.one_of(HAN, st.sampled_from(["", " ", "，", "：", "电话", "身份证号", "(", "）", "号码是"]))


def with_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


@st.composite
def resident_ids(draw) -> str:
    region = draw(st.sampled_from(["110101", "320507", "440305", "510104", "650102"]))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)))
    seq = draw(st.integers(0, 999))
    return with_check(f"{region}{born:%Y%m%d}{seq:03d}")


MOBILES = st.builds(lambda p, n: f"1{p}{n:09d}", st.sampled_from("3456789"), st.integers(0, 10 ** 9 - 1))
NUMBERS = st.one_of(MOBILES, resident_ids())


# --- the detector -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,kinds,masked", [
    ("请联系13812345678谢谢", ["mobile"], "请联系138****5678谢谢"),
    ("电话+86 138-1234-5678，座机0512-68001234", ["mobile", "landline"], "电话138****5678，座机0512****1234"),
    ("（0512）68001234 或 010-62345678", ["landline", "landline"], "0512****1234 或 010****5678"),
    ("８６１３８１２３４５６７８", ["mobile"], "138****5678"),  # full width, 86 without the plus
    ("138 1234 5678", ["mobile"], "138****5678"),
    (f"身份证{with_check('11010119900307123')}号", ["id"], None),
    (f"身份证 110101 19900307 123{ric.calc_check_digit('110101199003071230')}", ["id"], None),
    ("旧身份证110101900307123", ["id15"], "旧身份证110101******123"),
])
def test_numbers_are_found_and_masked(text, kinds, masked):
    assert [f.kind for f in find_numbers(text)] == kinds
    if masked is not None:
        assert mask_text(text) == masked


@pytest.mark.parametrize("text", [
    "订单号2024113812345678",            # a mobile inside a longer run of digits
    "流水1381234567890",                 # 13 digits
    "卡号6222021381234567890",           # a card number holding an ID-like run
    "2024-12-01 13:45:12", "20241201134512", "时间戳1733012345，毫秒1733012345678",
    "18位但没有出生日期：110101999999991234", "金额12,345,678元", "房号1幢2单元1302室", "IPv4 192.168.100.200",
    "案件编号RF-2026-000123", "已脱敏 138****5678 和 110101********1234",
])
def test_what_is_not_a_personal_number_is_left_alone(text):
    assert find_numbers(text) == [] and mask_text(text) == text


@given(before=GAP, number=NUMBERS, after=GAP)
@example(before="", number="13812345678", after="")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_number_embedded_in_chinese_text_is_found_exactly_and_sealed(before, number, after):
    text = f"{before}{number}{after}"
    found = find_numbers(text)
    assert [(f.start, f.end, f.value) for f in found] == [(len(before), len(before) + len(number), number)]
    assert found[0].valid
    masked, entries = seal_text(text, **AT)
    assert number not in masked and masked == before + found[0].mask + after
    assert [e[:2] for e in entries] == [[0, found[0].mask]] and number not in repr(entries)
    assert unseal_text(masked, entries, **AT) == text


@given(number=NUMBERS, left=st.integers(0, 9), right=st.integers(0, 9), side=st.sampled_from(["l", "r", "lr"]))
@settings(max_examples=200, deadline=None)
def test_digits_adjacent_to_a_number_make_it_part_of_a_longer_one(number, left, right, side):
    text = (str(left) if "l" in side else "") + number + (str(right) if "r" in side else "")
    assert all(not (f.start > 0 and text[f.start - 1].isdigit()) for f in find_numbers(text))
    assert number not in {f.value for f in find_numbers(text)}


# Epoch seconds have 10 digits and milliseconds 13 from September 2001 on (before, an epoch in milliseconds of
# 1970-71 has 11 digits and may read as a mobile number: nobody types those).
@given(moment=st.datetimes(min_value=dt.datetime(2001, 9, 10), max_value=dt.datetime(2100, 1, 1)),
       fmt=st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y%m%d %H%M", "%Y年%m月%d日%H时%M分",
                            "%Y/%m/%d %H:%M", "%H:%M:%S", "%Y%m%d"]),
       text=HAN)
@settings(max_examples=300, deadline=None)
def test_timestamps_are_not_numbers(moment, fmt, text):
    stamps = [moment.strftime(fmt), str(int(moment.replace(tzinfo=dt.UTC).timestamp())),
              str(int(moment.replace(tzinfo=dt.UTC).timestamp() * 1000))]
    for stamp in stamps:
        assert find_numbers(f"{text}{stamp}{text}") == []


@given(numbers=st.lists(NUMBERS, min_size=1, max_size=4), text=HAN)
@settings(max_examples=100, deadline=None)
def test_resealing_an_unchanged_text_keeps_every_value_without_encrypting_again(numbers, text):
    clear = text + "，".join(numbers) + text
    masked, entries = seal_text(clear, **AT)
    again, entries2 = seal_text(masked, entries, **AT)
    assert again == masked and entries2 == entries
    assert unseal_text(again, entries2, **AT) == clear


def test_an_edited_text_keeps_the_values_still_there_and_drops_the_deleted_ones():
    masked, entries = seal_text("甲13812345678，乙13912345678，丙0512-68001234", **AT)
    assert masked == "甲138****5678，乙139****5678，丙0512****1234" and len(entries) == 3
    edited = "丙0512****1234，新13700001111，甲138****5678"  # 乙 deleted, the order changed, one added
    masked2, entries2 = seal_text(edited, entries, **AT)
    assert masked2 == "丙0512****1234，新137****1111，甲138****5678"
    assert unseal_text(masked2, entries2, **AT) == "丙0512-68001234，新13700001111，甲13812345678"
    assert not any(crypto.open(e[2], table=AT["table"], column=f"{AT['column']}#{e[1]}", row=AT["row"])
                   == "13912345678" for e in entries2)
    # A masked token typed by hand has no value behind it: it stays as typed.
    assert seal_text("抄来的139****0000", **AT) == ("抄来的139****0000", [])
    assert unseal_text("139****0000", entries2, **AT) == "139****0000"


# --- models and the reveal --------------------------------------------------------------------------------------
@pytest.fixture
def sealed_case(world, settings, tmp_path):
    from cases import services
    from cases.tests.conftest import build_cases

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    cw = build_cases(world)
    return services.report(world.users.worker_a1, channel="worker", category=cw.category,
                           title="业主13812345678反映漏水", place=world.houses["A1"][0],
                           description=f"联系13912345678，身份证{with_check('32050719800101001')}")


def test_a_case_stores_its_texts_masked_with_the_numbers_sealed_beside_them(world, sealed_case):
    from cases.models import Case

    row = Case._base_manager.values("title", "description", "sealed_numbers").get(pk=sealed_case.pk)
    assert row["title"] == "业主138****5678反映漏水"
    assert row["description"] == "联系139****5678，身份证320507********001" + row["description"][-1]
    assert set(row["sealed_numbers"]) == {"title", "description"} and "13812345678" not in str(row)
    event = sealed_case.events.get(action="report")
    assert "13812345678" not in event.note
    # Saving again (another field changed) keeps the sealed values as they are.
    case = Case._base_manager.get(pk=sealed_case.pk)
    case.address = "新地址"
    case.save()
    assert Case._base_manager.get(pk=case.pk).sealed_numbers == row["sealed_numbers"]


def test_the_clear_text_is_revealed_with_a_reason_to_who_may_reveal_numbers_and_audited(world, sealed_case):
    officer, worker = world.users.officer_a, world.users.worker_a1
    assert reveal_text(officer, sealed_case, "title", "回电核实漏水情况") == "业主13812345678反映漏水"
    ev = AuditEvent.objects.filter(action="reveal").latest("id")
    assert ev.fields == ["cases.case.title"] and ev.purpose == "回电核实漏水情况" and ev.result == "ok"
    assert "13812345678" not in str(ev.changes) + ev.purpose
    with pytest.raises(ValidationError):
        reveal_text(officer, sealed_case, "title", "看")
    with pytest.raises(PermissionDenied):  # sees the case, may not reveal numbers
        reveal_text(worker, sealed_case, "description", "想看一下号码")
    assert AuditEvent.objects.filter(action="reveal", result="denied", user_id=worker.pk).exists()
    with pytest.raises(PermissionDenied):  # another community
        reveal_text(world.users.worker_b1, sealed_case, "title", "想看一下号码")
    note = sealed_case.events.get(action="report")
    assert reveal_text(officer, note, "note", "回电核实漏水情况") == note.note  # the copy in the timeline: masked


def test_the_data_migration_seals_rows_written_before(world, sealed_case):
    from cases.models import Case
    from core.sealed import seal_rows

    Case._base_manager.filter(pk=sealed_case.pk).update(description="旧数据：13700001111", sealed_numbers={})
    assert seal_rows(Case, Case.sealed_fields) == 1
    case = Case._base_manager.get(pk=sealed_case.pk)
    assert case.description == "旧数据：137****1111" and case.unsealed("description") == "旧数据：13700001111"
    assert seal_rows(Case, Case.sealed_fields) == 0  # idempotent


# --- the dump test: numbers typed through the real forms and APIs, none in clear in the database ----------------
@pytest.mark.django_db(transaction=True)
def test_numbers_typed_into_every_free_text_field_are_not_in_a_dump_of_the_database(tmp_path, settings):
    import json
    import re
    import uuid

    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from cases.models import Case, CaseEvent
    from cases.tests.conftest import build_cases
    from conftest import build_world, verified_login
    from core.testing import api_client
    from feedback.tokens import building_token
    from fieldwork.models import ChangeRequest, Visit
    from mediation.models import FollowUp, Mediation, Party, Session
    from open311.admin_views import create_key
    from tests.test_crypto import _pg_dump_bytes, _sqlite_bytes, clear_numbers_in

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.RENFANG_SMS_BACKEND = "notify.sms.FileBackend"
    settings.RENFANG_SMS_FILE = str(tmp_path / "sms.log")
    world = build_world()
    cw = build_cases(world)
    typed: list[str] = []
    serial = iter(range(10_000, 99_999))

    def numbers(label: str) -> str:
        """A text holding a fresh mobile, resident ID and landline, each as people type them."""
        n = next(serial)
        mobile = f"139{n:05d}{n % 1000:03d}"
        rid = with_check(f"3205071985{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}")
        land = f"0512-6{n:05d}{n % 100:02d}"
        typed.extend([mobile, rid, re.sub(r"\D", "", land)])
        return f"{label}：电话{mobile[:3]} {mobile[3:7]} {mobile[7:]}，身份证{rid}，座机{land}"

    def client_of(user) -> Client:
        c = Client()
        verified_login(c, user)
        return c

    house = world.houses["A1"][0]
    worker, officer = client_of(world.users.worker_a1), client_of(world.users.officer_a)
    # Cases: the report form, then actions with notes (accept, dispatch, start, pause, handle) and a rejection.
    r = worker.post("/cases/report/", {"channel": "worker", "category": "property-repair", "priority": "normal",
                                       "title": numbers("标题")[:60], "description": numbers("描述"),
                                       "compound": house.compound_id, "building": house.building_id,
                                       "house": house.pk})
    assert r.status_code == 302, r.content.decode()[:2000]
    case = Case.objects.latest("id")

    def act(c, action, **data):
        nonlocal case
        r = c.post(f"/cases/{case.pk}/act/{action}/", {"version": case.version, **data})
        assert r.status_code == 302, (action, r.status_code, r.content.decode()[:1500])
        case = Case._base_manager.get(pk=case.pk)

    act(officer, "accept", note=numbers("受理"))
    act(officer, "dispatch", lead_unit=cw.units.prop.pk, note=numbers("派遣"))
    unit = client_of(cw.users.unit_prop)
    act(unit, "start", note=numbers("开始"))
    act(unit, "pause", note=numbers("暂停"))
    act(unit, "resume", note=numbers("恢复"))
    act(unit, "handle", note=numbers("处置"))
    # The API: a case reported and rejected with a reason.
    api = api_client(world.users.worker_a1)
    r = api.post("/api/cases/cases/", {"category": "property-repair", "title": numbers("接口标题")[:60],
                                       "description": numbers("接口描述"), "house": house.pk}, format="json")
    assert r.status_code == 201, r.content
    other = Case.objects.get(pk=r.json()["id"])
    r = api_client(world.users.officer_a).post(f"/api/cases/cases/{other.pk}/transition/", {
        "action": "reject", "version": other.version, "reason": numbers("不予受理")}, format="json")
    assert r.status_code == 200, r.content
    # Fieldwork: a visit's note and a move-out reason through the visit form; a correction through the API,
    # rejected by the officer with a reason on the review form.
    from people.models import Residence

    res = Residence.objects.filter(house=house, moved_out__isnull=True).first()
    r = worker.post(f"/fieldwork/houses/{house.pk}/", {
        "client_id": str(uuid.uuid4()), "house_version": house.version, "note": numbers("走访记录"),
        "move_out": [res.person_id], "move_out_reason": numbers("迁出")[:90]})
    assert r.status_code == 302, r.content.decode()[:2000]
    r = api.post("/api/fieldwork/changes/", {"house": house.pk, "kind": "correction",
                                             "payload": {"text": numbers("更正")}}, format="json")
    assert r.status_code == 201, r.content
    cr = ChangeRequest.objects.get(pk=r.json()["id"])
    r = officer.post(f"/fieldwork/changes/{cr.pk}/reject/", {"reason": numbers("驳回"), "version": cr.version})
    assert r.status_code == 302, r.content.decode()[:1500]
    # Residents' feedback: the public page, confirmed by the code sent to the phone.
    url = reverse("feedback:report", args=[building_token(world.buildings["A1"])])
    anon = Client()
    data = {"room": "1|101", "kind": "correction", "text": numbers("居民反馈"), "phone": "13912340001",
            "step": "send"}
    r = anon.post(url, data)
    assert r.status_code == 200, r.content.decode()[:1500]
    cid = re.search(r'name="challenge" value="([^"]+)"', r.content.decode()).group(1)
    code = re.findall(r"验证码 (\d{6})", (tmp_path / "sms.log").read_text(encoding="utf-8"))[-1]
    r = anon.post(url, {**data, "step": "confirm", "challenge": cid, "code": code})
    assert r.status_code in (200, 302) and ChangeRequest.objects.filter(source="feedback").exists()
    # Mediation: opened from a case, a party's address, a session, closed with an agreement, a follow-up.
    dispute = Case.objects.get(pk=case.pk)
    r = officer.post("/mediation/new/", {"case": dispute.pk, "title": numbers("纠纷")[:60],
                                         "facts": numbers("事实")})
    assert r.status_code == 302, r.content.decode()[:1500]
    m = Mediation.objects.get(case=dispute)
    r = officer.post(f"/mediation/{m.pk}/parties/", {"role": "applicant", "name": "王五",
                                                     "address": numbers("住址")[:150]})
    assert r.status_code == 302, r.content.decode()[:1500]
    r = officer.post(f"/mediation/{m.pk}/sessions/", {"held_at": "2026-11-20T10:00", "place": "网格工作站",
                                                      "attendees": numbers("参加")[:200], "notes": numbers("记录")})
    assert r.status_code == 302, r.content.decode()[:1500]
    m.refresh_from_db()
    r = officer.post(f"/mediation/{m.pk}/close/", {"outcome": "agreed", "terms": numbers("条款"),
                                                   "performance": numbers("履行"), "outcome_note": numbers("结果"),
                                                   "version": m.version})
    assert r.status_code == 302, r.content.decode()[:1500]
    fu = FollowUp.objects.filter(mediation=m).first()
    r = officer.post(f"/mediation/{m.pk}/follow-ups/{fu.pk}/", {"honoured": "1", "note": numbers("回访")})
    assert r.status_code == 302, r.content.decode()[:1500]
    # Open311: a request posted with an API key.
    _key, raw = create_key(None, name="城市服务App")
    r = Client().post("/open311/v2/requests.json", {
        "api_key": raw, "service_code": "sanitation-rubbish", "lat": "31.38", "long": "120.63",
        "address_string": "A1花园1幢楼下", "description": numbers("市民描述"), "first_name": "三", "last_name": "张",
        "phone": "13912345670"})
    assert r.status_code in (200, 201), r.content

    # Every field received its numbers sealed: masked in the row, revealable from the ciphertexts.
    sealed = {model._meta.label_lower: sum(len(v) for o in model._base_manager.all()
                                           for v in (o.sealed_numbers or {}).values())
              for model in (Case, CaseEvent, Visit, ChangeRequest, Mediation, Party, Session, FollowUp)}
    assert all(sealed.values()), sealed
    assert reveal_text(world.users.officer_a, Case.objects.get(pk=case.pk), "description", "回电核实情况") \
        .count("身份证320507") == 1

    blob = _pg_dump_bytes() if connection.vendor == "postgresql" else _sqlite_bytes(tmp_path)
    leaked = [v for v in typed if v.encode() in blob]
    found = clear_numbers_in(blob)
    print(f"\ndump: {len(blob):,} bytes, {len(typed)} numbers typed into {len(typed) // 3} texts, "
          f"sealed values per model {json.dumps(sealed)}, clear numbers found: {len(leaked) + len(found)}")
    assert b"138****" in blob or b"139****" in blob  # the masked tokens are there
    assert leaked == [] and found == [], (leaked, found)
