"""The cockpit's figures, reminders and an offer held over New Year's Eve, a photo without its EXIF in the brief,
the pages in English."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.test import Client

from activities import services
from activities.tests.conftest import at, make_activity

pytestmark = pytest.mark.django_db
NOW = at(dt.date(2027, 6, 1), 9)


def test_the_cockpit_counts_participants_and_the_attendance_rate_per_place(world, fam):
    from activities.cockpit import compute_figures, compute_rate

    a = make_activity(world, sessions=2, communities=(), first=dt.date(2027, 6, 10))
    services.sign_up(a, fam.parent, [fam.ming, fam.hong], now=NOW)
    services.sign_up(a, fam.elderly, [fam.elderly], now=NOW)
    s1, s2 = a.sessions.all()
    ming = a.signups.get(applicant=fam.parent).participants.get(person=fam.ming)
    services.mark(None, s1, ming, "present", now=s1.starts_at)
    services.close_roll(None, s1, now=s1.ends_at)
    later = s2.starts_at - dt.timedelta(hours=1)
    grid = world.grids["A1"].pk
    figures = compute_figures("grid", [grid], now=later)[grid]
    assert figures == {"activities": 1, "confirmed": 3, "waiting": 0, "present": 1, "absent": 2}
    assert compute_rate("grid", [grid], now=later)[grid]["rate"] == pytest.approx(33.3)
    assert compute_figures("grid", [world.grids["B1"].pk], now=later) == {}
    community = world.communities["A"].pk
    assert compute_figures("community", None, now=later)[community]["confirmed"] == 3


def test_an_offer_made_on_new_years_eve_holds_into_the_new_year_and_reminders_go_once(world, fam):
    from django.contrib.auth import get_user_model

    from notify.models import Notification

    eve = at(dt.date(2026, 12, 31), 23, 30)
    a = make_activity(world, capacity=1, communities=(), first=dt.date(2027, 1, 3), hold_hours=24)
    a.signup_opens = at(dt.date(2026, 12, 1), 8)
    a.save()
    user = get_user_model().objects.create_user("mum")
    first = services.sign_up(a, fam.grown, [fam.grown], now=eve)
    second = services.sign_up(a, fam.parent, [fam.parent], user=user, now=eve)
    services.cancel(first, person=fam.grown, now=eve)
    second.refresh_from_db()
    # 24 hours would end at 23:30 on New Year's Day, at night: the hold runs until 09:00 on 2 January
    assert second.state == "offered" and second.hold_until == at(dt.date(2027, 1, 2), 9)
    assert services.expire_offers(now=at(dt.date(2027, 1, 2), 8, 59)) == 0
    services.accept_offer(second, fam.parent, now=at(dt.date(2027, 1, 2), 8, 59))
    with time_machine.travel(at(dt.date(2027, 1, 2), 10), tick=False):  # the session is on 3 January
        assert services.send_reminders() == 1
        assert services.send_reminders() == 0  # once per session
    assert Notification.objects.filter(user=user, title__contains="活动提醒").count() == 1


def test_a_photo_is_stored_without_exif_and_printed_in_the_brief(world, fam):
    from PIL import Image

    from activities.models import ActivityPhoto

    a = make_activity(world, communities=())
    img = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    officer = Client()
    officer.force_login(world.users.officer_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = officer.post(f"/activities/staff/{a.pk}/photos/", {
        "image": SimpleUploadedFile("x.jpg", buf.getvalue(), content_type="image/jpeg"), "caption": "合影"})
    assert r.status_code == 302
    photo = ActivityPhoto.objects.get(activity=a)
    with photo.image.open("rb") as fh:
        stored = Image.open(io.BytesIO(fh.read()))
        assert not stored.getexif()
    bare = services.attendance_figures(a)
    assert bare["participants"] == 0
    pdf = officer.get(f"/activities/staff/{a.pk}/brief/?format=pdf").content
    assert pdf[:4] == b"%PDF" and (b"/Image" in pdf or b"/XObject" in pdf)
    worker = Client()
    worker.force_login(world.users.worker_a1)
    r = worker.post(f"/activities/staff/{a.pk}/photos/", {
        "image": SimpleUploadedFile("x.jpg", buf.getvalue(), content_type="image/jpeg")})
    assert r.status_code == 403 and ActivityPhoto.objects.filter(activity=a).count() == 1


def test_the_pages_read_in_english(world, fam):
    import re

    from django.conf import settings

    from resources.models import BookerLink

    a = make_activity(world, min_age=6, max_age=14, first=dt.date(2027, 7, 1))
    BookerLink.objects.create(user=world.users.resident, person=fam.parent)
    data = {"张三", "张小明", "张小红", "张小宝", "社区A", "社区活动室", "青少年暑期班", "A1网格"}
    with time_machine.travel(NOW, tick=False):
        services.sign_up(a, fam.parent, [fam.ming], now=NOW)
        for user, url in [(world.users.resident, "/activities/"), (world.users.resident, f"/activities/{a.pk}/"),
                          (world.users.resident, "/activities/mine/"),
                          (world.users.officer_a, f"/activities/staff/{a.pk}/"),
                          (world.users.officer_a, "/activities/staff/"),
                          (world.users.worker_a1, f"/activities/staff/sessions/{a.sessions.first().pk}/")]:
            c = Client()
            c.force_login(user)
            c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
            page = c.get(url).content.decode()
            main = page.split("<main", 1)[1].split("</main>", 1)[0]
            text = re.sub(r"<svg.*?</svg>", " ", main, flags=re.S)
            text = re.sub(r"<[^>]+>", " ", text)
            for word in data:
                text = text.replace(word, "")
            text = re.sub(r"[张赵][*][\w]", "", text)
            cjk = re.findall(r"[\u4e00-\u9fff]+", text)
            assert not cjk, (url, cjk[:10])
