"""Booking without an account: a code to the phone the registry holds identifies the person in this browser for two
hours; a number the registry does not hold is told so only after its code; a family sharing a number picks who."""

from __future__ import annotations

import datetime as dt
import re

import time_machine

from resources.models import Booking
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
NOW = "2026-03-09 10:00 +0800"


def phone_of(person) -> str:
    return person.reveal_phone()


def verify(client, phone, sms_file, nxt="/resources/"):
    page = client.post("/resources/phone/", {"phone": phone, "next": nxt})
    assert page.status_code == 200, page.content.decode()
    html = page.content.decode()
    challenge = re.search(r'name="challenge" value="([^"]+)"', html).group(1)
    code = re.findall(r"验证码 (\d{6})", sms_file.read_text(encoding="utf-8"))[-1]
    return client.post("/resources/phone/", {"phone": phone, "next": nxt, "challenge": challenge, "code": code,
                                             "step": "confirm"})


@time_machine.travel(NOW, tick=False)
def test_a_resident_without_an_account_books_with_a_code_to_the_registered_phone(world, site, client, sms_file):
    start = client.get(f"/resources/book/{site.garage.pk}/")
    assert start.status_code == 302 and start["Location"].startswith("/resources/phone/?next=")
    person = world.people["张三"]
    done = verify(client, phone_of(person), sms_file, nxt=f"/resources/book/{site.garage.pk}/")
    assert done.status_code == 302 and done["Location"] == f"/resources/book/{site.garage.pk}/"
    page = client.get(done["Location"]).content.decode()
    assert "空余车位 10/10" in page and "已验证：张*" in page
    client.post(f"/resources/book/{site.garage.pk}/new/", {"start": at(MONDAY, 19).isoformat(),
                                                           "end": at(MONDAY + dt.timedelta(days=1), 8).isoformat()})
    booking = Booking.objects.get(person=person)
    assert booking.user is None and booking.channel == "phone"
    assert "元和大厦地下车库 B1-01" in client.get("/resources/mine/").content.decode()
    # two hours later the browser must verify again
    with time_machine.travel("2026-03-09 12:01 +0800", tick=False):
        assert client.get("/resources/mine/").status_code == 302


@time_machine.travel(NOW, tick=False)
def test_a_wrong_code_and_an_unregistered_number_are_answered_in_chinese(world, site, client, sms_file):
    page = client.post("/resources/phone/", {"phone": "13912345678", "next": "/resources/"}).content.decode()
    challenge = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    wrong = client.post("/resources/phone/", {"phone": "13912345678", "challenge": challenge, "code": "000000",
                                              "step": "confirm"}).content.decode()
    assert "验证码不正确或已过期" in wrong
    unknown = verify(client, "13912345679", sms_file).content.decode()
    assert "没有登记为本街道的现住居民或企业员工" in unknown
    assert client.get("/resources/mine/").status_code == 302
    bad = client.post("/resources/phone/", {"phone": "12345"}).content.decode()
    assert "data-error" in bad


@time_machine.travel(NOW, tick=False)
def test_a_family_sharing_one_number_picks_who_books(world, site, client, sms_file):
    from people.services import PersonData, save_person

    shared = phone_of(world.people["张三"])
    child = save_person(None, PersonData(name="张小宝", phone=shared), house=world.houses["A1"][0], relation="child",
                        moved_in=dt.date(2020, 1, 1), accept_warnings=True, source="test")
    page = verify(client, shared, sms_file).content.decode()
    assert "请选择由谁预约" in page and "张*宝" in page and "张*" in page and "张小宝" not in page
    client.post("/resources/phone/choose/", {"person": str(world.people["李四"].pk), "next": "/resources/"})
    assert client.get("/resources/mine/").status_code == 302, "only a person holding the verified number"
    done = client.post("/resources/phone/choose/", {"person": str(child.pk), "next": "/resources/mine/"})
    assert done.status_code == 302 and done["Location"] == "/resources/mine/"
    assert client.get("/resources/mine/").status_code == 200


def test_the_next_address_stays_inside_the_resources_pages(world, client, sms_file):
    html = client.get("/resources/phone/?next=https://evil.example/").content.decode()
    assert 'name="next" value="/resources/"' in html
