"""On the demo street (manage.py demo): the public flow shows no resident's name, ID number or phone."""
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from feedback.forms import room_key
from feedback.tokens import building_token


@pytest.fixture
def demo_street(db, settings, tmp_path):
    settings.RENFANG_SMS_BACKEND = "notify.sms.FileBackend"
    settings.RENFANG_SMS_FILE = str(tmp_path / "sms.log")
    call_command("demo", scale=0.02, seed=7, no_progress=True, stdout=StringIO())
    return tmp_path / "sms.log"


def test_no_resident_data_of_the_demo_street_appears_in_the_public_flow(client, demo_street):
    from people.models import Person, Residence
    from places.models import Building

    building = (Building.objects.filter(houses__residences__moved_out__isnull=True).order_by("id").first())
    residences = list(Residence.objects.filter(house__building=building, moved_out__isnull=True)
                      .select_related("person", "house"))
    assert len(residences) >= 3
    typed = residences[0]
    url = reverse("feedback:report", args=[building_token(building)])
    data = {"room": room_key(typed.house), "kind": "move_out", "out_name": typed.person.name,
            "phone": "13912345670", "step": "send"}
    bodies = [client.get(url).content.decode()]
    r = client.post(url, data)
    bodies.append(r.content.decode())
    cid = re.search(r'name="challenge" value="([^"]+)"', bodies[-1]).group(1)
    code = re.findall(r"验证码 (\d{6})", demo_street.read_text(encoding="utf-8"))[-1]
    bodies.append(client.post(url, {**data, "step": "confirm", "challenge": cid, "code": code}).content.decode())
    assert "已提交" in bodies[-1]

    names = {r.person.name for r in residences} - {typed.person.name}  # the resident's own words may come back
    numbers = set()
    for p in Person.objects.exclude(id_number_enc="").only("id_number_enc", "phone_enc", "id_number_masked",
                                                           "phone_masked"):
        numbers |= {p.reveal_id_number(), p.reveal_phone(), p.id_number_masked, p.phone_masked}
    numbers.discard("")
    assert len(numbers) > 100
    for body in bodies:
        assert not [n for n in names if n in body]
        assert not [n for n in numbers if n in body]
