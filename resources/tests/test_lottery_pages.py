"""The lottery's pages: an officer opens a draw with the form as the page sends it (its defaults), residents apply
(the rule over the registry says who may), the officer draws, and everyone logged in sees the published result
with its seed, the recomputed check and their own line."""

from __future__ import annotations

import re

import time_machine

from resources.models import Application, BookerLink, Booking, Draw

NOW = "2026-03-09 10:00 +0800"


def form_fields(html: str, marker: str) -> dict[str, str]:
    """The named inputs and selects of the form carrying ``marker``, with the values the page put in them."""
    form = html[html.index(marker):]
    form = form[:form.index("</form>")]
    data = {m.group(1): m.group(2) for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)}
    for m in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', m.group(2)) or \
            re.search(r'<option value="([^"]*)"', m.group(2))
        data[m.group(1)] = chosen.group(1) if chosen else ""
    return data


@time_machine.travel(NOW, tick=False)
def test_an_officer_opens_a_draw_residents_apply_and_the_result_is_published(world, site, client):
    client.force_login(world.users.officer_a)
    page = client.get("/resources/staff/draws/").content.decode()
    data = form_fields(page, "data-new-draw")
    assert data["starts"] == "19:00" and data["ends"] == "08:00" and data["first"] == "2026-04-01"
    data["pool"] = str(site.garage.pk)
    data["places"] = "1"
    response = client.post("/resources/staff/draws/", data)
    draw = Draw.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/resources/draws/{draw.pk}/"
    assert draw.last_date.isoformat() == "2026-04-30" and draw.places == 1
    assert (draw.ends_at - draw.starts_at).total_seconds() == 13 * 3600

    # two residents of A1花园 apply; one of B1花园 is told why not
    for name in ("张三", "李四"):
        BookerLink.objects.filter(user=world.users.resident).delete()
        BookerLink.objects.create(user=world.users.resident, person=world.people[name])
        client.force_login(world.users.resident)
        follow = client.post(f"/resources/draws/{draw.pk}/apply/", follow=True).content.decode()
        assert "已报名摇号" in follow and "data-applied" in follow
    again = client.post(f"/resources/draws/{draw.pk}/apply/", follow=True).content.decode()
    assert "您已报名本次摇号" in again
    BookerLink.objects.filter(user=world.users.resident).delete()
    BookerLink.objects.create(user=world.users.resident, person=world.people["孙二娘"])
    refused = client.post(f"/resources/draws/{draw.pk}/apply/", follow=True).content.decode()
    assert "仅限A1花园、A2花园的现住居民" in refused
    assert Application.objects.filter(draw=draw).count() == 2

    # a grid worker of another community cannot draw it; the officer does
    client.force_login(world.users.worker_b1)
    assert client.post(f"/resources/staff/draws/{draw.pk}/run/").status_code == 403
    client.force_login(world.users.officer_a)
    result = client.post(f"/resources/staff/draws/{draw.pk}/run/", follow=True).content.decode()
    draw.refresh_from_db()
    assert "已摇号：1 人中签" in result and draw.seed in result and draw.digest in result
    assert "顺序与摘要一致" in result
    winner = Application.objects.get(draw=draw, won=True)
    assert Booking.objects.filter(person=winner.person, resource__parent=site.garage).count() == 30  # every night
    assert client.post(f"/resources/staff/draws/{draw.pk}/run/", follow=True).content.decode().count("该摇号已经开奖")

    # the loser sees their line, and applies with priority next time
    loser = Application.objects.get(draw=draw, won=False)
    BookerLink.objects.filter(user=world.users.resident).delete()
    BookerLink.objects.create(user=world.users.resident, person=loser.person)
    client.force_login(world.users.resident)
    mine = client.get(f"/resources/draws/{draw.pk}/").content.decode()
    assert "很遗憾未中签（第 2 位）" in mine and 'class="rs-mine"' in mine
    assert loser.person.name not in mine, "names are masked on the published result"


@time_machine.travel(NOW, tick=False)
def test_a_tampered_result_is_reported_on_the_page(world, site, client):
    from resources import lottery

    draw = Draw.objects.create(resource=site.garage, title="测试摇号", starts_at=site.garage.created_at,
                               ends_at=site.garage.created_at.replace(year=2027), places=0)
    for name in ("张三", "李四", "王芳"):
        Application.objects.create(draw=draw, person=world.people[name])
    lottery.run_draw(draw, seed="fixed", book=False)
    first, second = Application.objects.filter(draw=draw).order_by("rank")[:2]
    Application.objects.filter(pk=first.pk).update(rank=second.rank)
    Application.objects.filter(pk=second.pk).update(rank=first.rank)
    client.force_login(world.users.officer_a)
    html = client.get(f"/resources/draws/{draw.pk}/").content.decode()
    assert "重新计算与公布结果不一致" in html


def test_the_draw_pages_need_a_login_and_the_staff_pages_the_permission(world, site, client):
    draw = Draw.objects.create(resource=site.garage, title="测试摇号", starts_at=site.garage.created_at,
                               ends_at=site.garage.created_at.replace(year=2027), places=1)
    assert client.get(f"/resources/draws/{draw.pk}/").status_code == 302
    client.force_login(world.users.worker_a1)
    assert client.get("/resources/staff/draws/").status_code == 403
    assert client.get(f"/resources/draws/{draw.pk}/").status_code == 200
