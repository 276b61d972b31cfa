"""One-time phone codes: hashed at rest, 10 minutes, 5 attempts, rate limits per phone and per address."""
import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from notify import sms
from notify.models import PhoneChallenge

PHONE = "13912345678"


def last_code(path) -> str:
    return re.findall(r"验证码 (\d{6})", path.read_text(encoding="utf-8"))[-1]


def request_from(ip="10.0.0.1"):
    return RequestFactory().post("/", REMOTE_ADDR=ip)


class Clock:
    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(sms.timezone, "now", lambda: self.now)

    def move(self, **kw):
        self.now += dt.timedelta(**kw)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.mark.django_db
def test_the_code_is_sent_and_only_its_hmac_is_stored(sms_file):
    cid = sms.send_code(PHONE, "test", request=request_from())
    code = last_code(sms_file)
    ch = PhoneChallenge.objects.get(public_id=cid)
    stored = " ".join(str(v) for v in PhoneChallenge.objects.filter(pk=ch.pk).values().first().values())
    assert code not in stored and PHONE not in stored
    assert ch.phone_masked == "139****5678" and ch.code_hash and ch.phone_enc
    assert PHONE not in sms_file.read_text(encoding="utf-8"), "the log holds the masked phone only"
    assert sms.verify_code(cid, code) is True
    assert sms.challenge_phone(cid) == PHONE


@pytest.mark.django_db
def test_a_code_works_once_and_not_for_another_phone_or_purpose(sms_file, clock):
    cid = sms.send_code(PHONE, "feedback")
    code = last_code(sms_file)
    assert sms.verify_code(cid, code, phone="13800000000") is False
    assert sms.verify_code(cid, code, purpose="other") is False
    assert sms.verify_code(cid, code, phone=PHONE, purpose="feedback") is True
    assert sms.verify_code(cid, code) is False, "a one-time code is spent after its first use"


@pytest.mark.django_db
def test_a_code_expires_after_ten_minutes(sms_file, clock):
    cid = sms.send_code(PHONE, "test")
    code = last_code(sms_file)
    clock.move(minutes=10, seconds=1)
    assert sms.verify_code(cid, code) is False
    assert sms.challenge_phone(cid) is None


@pytest.mark.django_db
def test_a_code_is_still_good_just_before_ten_minutes(sms_file, clock):
    cid = sms.send_code(PHONE, "test")
    clock.move(minutes=9, seconds=59)
    assert sms.verify_code(cid, last_code(sms_file)) is True


@pytest.mark.django_db
def test_after_five_wrong_attempts_the_right_code_is_refused(sms_file):
    cid = sms.send_code(PHONE, "test")
    code = last_code(sms_file)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(5):
        assert sms.verify_code(cid, wrong) is False
    assert sms.verify_code(cid, code) is False
    assert PhoneChallenge.objects.get(public_id=cid).attempts == 5


@pytest.mark.django_db
def test_four_wrong_attempts_still_leave_the_fifth_for_the_right_code(sms_file):
    cid = sms.send_code(PHONE, "test")
    code = last_code(sms_file)
    for _ in range(4):
        sms.verify_code(cid, "000000" if code != "000000" else "111111")
    assert sms.verify_code(cid, code) is True


@pytest.mark.django_db
def test_one_code_a_minute_per_phone_in_chinese(sms_file, clock):
    sms.send_code(PHONE, "test")
    with pytest.raises(sms.RateLimited, match="每分钟只能获取1次"):
        sms.send_code("+86 139 1234 5678", "test")
    clock.move(seconds=61)
    sms.send_code(PHONE, "test")


@pytest.mark.django_db
def test_five_codes_an_hour_per_phone(sms_file, clock):
    for _ in range(5):
        sms.send_code(PHONE, "test")
        clock.move(minutes=2)
    with pytest.raises(sms.RateLimited, match="每小时最多5次"):
        sms.send_code(PHONE, "test")
    sms.send_code("13912345679", "test")  # another phone is not held back
    clock.move(minutes=51)
    sms.send_code(PHONE, "test")


@pytest.mark.django_db
def test_twenty_codes_an_hour_per_address(sms_file, clock):
    for i in range(20):
        sms.send_code(f"139000000{i:02d}", "test", request=request_from("10.9.9.9"))
    with pytest.raises(sms.RateLimited, match="本网络"):
        sms.send_code("13900000099", "test", request=request_from("10.9.9.9"))
    sms.send_code("13900000099", "test", request=request_from("10.9.9.10"))
    assert PhoneChallenge.objects.count() == 21


@pytest.mark.django_db
def test_a_number_that_is_not_a_mainland_mobile_is_refused_and_nothing_is_sent(sms_file):
    with pytest.raises(ValidationError, match="手机号"):
        sms.send_code("12345", "test")
    assert not sms_file.exists() and PhoneChallenge.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_challenge_or_an_empty_code_is_false():
    assert sms.verify_code("nope", "123456") is False
    assert sms.verify_code("", "") is False


def test_the_console_backend_writes_the_masked_phone_to_the_log(settings, caplog):
    settings.RENFANG_SMS_BACKEND = "notify.sms.ConsoleBackend"
    with caplog.at_level("WARNING", logger="renfang.sms"):
        sms.send_message(PHONE, "你好")
    assert "139****5678" in caplog.text and "你好" in caplog.text and PHONE not in caplog.text


@pytest.mark.django_db
def test_the_purge_job_deletes_challenges_older_than_two_days_only(sms_file, settings):
    from notify.tasks import purge_codes

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    old = sms.send_code(PHONE, "test")
    PhoneChallenge.objects.filter(public_id=old).update(created_at=timezone.now() - dt.timedelta(days=2, minutes=1))
    fresh = sms.send_code("13912345679", "test")
    assert purge_codes.enqueue().return_value == 1
    assert list(PhoneChallenge.objects.values_list("public_id", flat=True)) == [fresh]


def test_the_purge_job_is_scheduled():
    from core.schedule import registered

    assert "notify.purge_codes" in {job.name for job in registered()}
