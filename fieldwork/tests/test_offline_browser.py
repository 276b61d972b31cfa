"""The round without signal (issue 18), in Chromium at 390×844 with the real service worker: today's list kept on
the phone, five houses in two buildings visited offline (a move-out, a new tenant with a photo, a case report),
the page closed and opened again, the queue sent once when the connection returns, a conflict with another
worker's change coming back to the phone with both versions; logout and another login leave nothing behind."""

from __future__ import annotations

import io

import pytest

from conftest import PASSWORD, login, resident_id
from fieldwork.tests.test_browser import PHONE, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TENANT_ID = resident_id("11010119960606123")
STORAGE = """async () => ({caches: (await caches.keys()).filter(k => k.startsWith('renfang-pages')),
  dbs: (await indexedDB.databases()).map(d => d.name).filter(n => n === 'renfang-fieldwork'),
  drafts: Object.keys(localStorage).filter(k => k.startsWith('renfang.fieldwork.'))})"""


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), "#3a7").save(out, "PNG")
    return out.getvalue()


def second_building(world):
    """A second building of grid A1 with four homes, all due (today's list then spans two buildings)."""
    from places.models import Building, House
    from quality.services import recompute

    compound = world.compounds["A1"]
    b = Building.objects.create(compound=compound, number="2", floors=2, units=1)
    grid = compound.grid
    House.objects.bulk_create(
        [
            House(
                building=b,
                compound=compound,
                grid=grid,
                community=grid.community,
                street=world.street,
                unit="1",
                floor=f,
                room=f"{f}0{r}",
                area=80,
                use="owner",
            )
            for f in (1, 2)
            for r in (1, 2)
        ]
    )
    recompute()
    return list(House.objects.filter(building=b).order_by("floor", "room"))


def open_round(page):
    page.goto(page.base_url + "/fieldwork/today/")
    page.wait_for_selector("[data-offline-round][data-kept-ready='1']")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def queued(page, n):
    page.wait_for_selector(f"[data-offline-round][data-waiting='{n}']")


def test_a_round_offline_in_two_buildings_is_sent_once_and_a_conflict_comes_back_with_both_versions(page, fw):
    from cases.models import Case, CaseCategory
    from fieldwork import services
    from fieldwork.models import ChangeRequest, Visit
    from fieldwork.tests.conftest import fresh, new_id
    from people.models import Residence

    world = fw
    CaseCategory.objects.get_or_create(code="fw-lamp", defaults={"name": "公共设施损坏"})
    page.set_viewport_size(PHONE)
    h0, h1, h2 = world.houses["A1"][:3]
    h3, h4 = second_building(world)[:2]
    leaving = Residence.objects.get(house=h0, moved_out__isnull=True, relation="spouse").person
    login(page, "worker_a1")
    open_round(page)
    assert page.locator(".fw-building").count() == 2
    shot(page, "round-today")

    page.context.set_offline(True)
    page.goto(page.base_url + "/fieldwork/workload/")  # a page the round did not keep
    assert page.locator("[data-testid=offline-page]").is_visible()

    page.goto(page.base_url + f"/fieldwork/houses/{h0.pk}/")  # from the phone's copy
    page.click("summary:has-text('迁出')")
    page.check(f"input[name=move_out][value='{leaving.pk}']")
    page.fill("input[name=move_out_reason]", "租约到期")
    page.click("[data-testid=submit-visit]")
    queued(page, 1)

    page.goto(page.base_url + f"/fieldwork/houses/{h1.pk}/")
    page.click("summary:has-text('用途')")
    page.select_option("select[name=new_use]", "rented")
    page.click("[data-testid=submit-visit]")
    queued(page, 2)
    # Meanwhile another worker records a move-out in that house: the phone's change of use will conflict.
    other = Residence.objects.filter(house=h1, moved_out__isnull=True).first().person
    h1.refresh_from_db()
    services.submit_visit(
        fresh(world.users.officer_a),
        h1,
        client_id=new_id(),
        house_version=h1.version,
        items=[services.VisitItem("move_out", other.pk, {"reason": "搬走"})],
    )

    page.goto(page.base_url + f"/fieldwork/houses/{h2.pk}/")
    page.click("summary:has-text('入住')")
    page.check("input[name=add_person]")
    page.fill("input[name='new-name']", "薛宝琴")
    page.fill("input[name='new-id_number']", TENANT_ID[:-1] + ("0" if TENANT_ID[-1] != "0" else "1"))
    page.select_option("select[name='new-residency_type']", "floating")
    page.select_option("select[name='new-role']", "tenant")
    page.set_input_files("input[name=photo]", files=[{"name": "door.png", "mimeType": "image/png", "buffer": png()}])
    page.click("[data-testid=submit-visit]")  # the same check as the server: a wrong check digit is refused here
    page.wait_for_selector(".errorlist.fw-client:has-text('校验位')")
    shot(page, "round-id-error")
    page.fill("input[name='new-id_number']", TENANT_ID)
    page.click("[data-testid=submit-visit]")
    queued(page, 3)
    shot(page, "round-queued")

    page.goto(page.base_url + f"/fieldwork/houses/{h3.pk}/")
    page.click("[data-testid=unchanged]")
    queued(page, 4)
    page.click("summary:has-text('上报事件')")
    page.select_option("select[name=category]", "fw-lamp")
    page.fill("input[name=title]", "2幢楼道灯坏了")
    page.set_input_files("input[name=photos]", files=[{"name": "lamp.png", "mimeType": "image/png", "buffer": png()}])
    page.click("[data-testid=submit-case]")
    queued(page, 5)

    page.goto(page.base_url + f"/fieldwork/houses/{h4.pk}/")
    page.click("[data-testid=unchanged]")
    queued(page, 6)
    assert Visit.objects.filter(worker=world.users.worker_a1).count() == 0 and Case.objects.count() == 0

    # The browser is closed and opened again, still without signal: the queue is still there.
    context, base, errors = page.context, page.base_url, page.console_errors
    page.close()
    page = context.new_page()
    page.set_viewport_size(PHONE)
    page.base_url, page.console_errors = base, errors
    page.set_default_timeout(15000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/fieldwork/today/")
    queued(page, 6)
    assert page.locator("[data-queued-badge]:visible").count() == 5
    shot(page, "round-reopened-offline")

    context.set_offline(False)
    page.wait_for_selector("[data-offline-round][data-waiting='0'][data-problems='1']", timeout=30000)
    assert page.locator("[data-sync-problems] li[data-entry-state=conflict]").count() == 1
    shot(page, "round-synced-conflict")

    mine = Visit.objects.filter(worker=world.users.worker_a1)
    assert sorted(mine.values_list("house_id", flat=True)) == sorted([h0.pk, h2.pk, h3.pk, h4.pk])
    assert not Residence.objects.filter(person=leaving, house=h0, moved_out__isnull=True).exists()
    tenant_visit = mine.get(house=h2)
    assert tenant_visit.photo and ChangeRequest.objects.filter(visit=tenant_visit, kind="new_person").count() == 1
    case = Case.objects.get()
    assert case.title == "2幢楼道灯坏了" and case.attachments.count() == 1
    h1.refresh_from_db()
    assert h1.use == "owner"  # nothing of the conflicting submission was saved

    # The worker opens the conflict: both versions side by side, the record back in the form; resubmitted.
    page.click("[data-sync-problems] li[data-entry-state=conflict] [data-fix]")
    page.wait_for_selector("[data-entry][data-state=conflict]")
    text = page.inner_text("[data-entry]")
    assert "出租" in text and "officer_a" in text
    assert page.input_value("select[name=new_use]") == "rented"
    shot(page, "round-conflict")
    page.click("[data-testid=submit-visit]")
    page.wait_for_url("**/fieldwork/visits/*/")
    assert mine.count() == 5 and mine.filter(house=h1).count() == 1

    # A second sync sends nothing again; the officer's queue holds exactly what needs approval.
    page.goto(page.base_url + "/fieldwork/today/")
    page.wait_for_selector("[data-offline-round][data-state=synced]")
    assert mine.count() == 5 and Case.objects.count() == 1
    pending = ChangeRequest.objects.restrict(fresh(world.users.officer_a), "review").filter(status="pending")
    assert sorted(pending.values_list("kind", "house_id")) == sorted([("new_person", h2.pk), ("change_use", h1.pk)])
    # Offline, htmx's own requests (the inbox badge) fail and say so; nothing else may.
    assert not [
        e
        for e in page.console_errors
        if not e.startswith("htmx:") and "ERR_INTERNET_DISCONNECTED" not in e and "Failed to load resource" not in e
    ], set(page.console_errors)


def test_logout_and_another_login_leave_nothing_of_the_round_on_the_phone(page, fw):
    page.set_viewport_size(PHONE)
    login(page, "worker_a1")
    open_round(page)
    kept = page.evaluate(STORAGE)
    assert kept["caches"] == ["renfang-pages"] and kept["dbs"] == ["renfang-fieldwork"]
    page.click(".usermenu summary")
    page.click(".usermenu button.link-button")
    page.wait_for_selector("html[data-offline-cleared='1']")
    assert page.evaluate(STORAGE) == {"caches": [], "dbs": [], "drafts": []}
    shot(page, "round-logged-out")

    login(page, "worker_a1")
    open_round(page)
    page.context.clear_cookies()  # the phone handed over without logging out: another worker logs in
    login(page, "worker_a2")
    page.wait_for_function("caches.keys().then(k => !k.includes('renfang-pages'))")
    house = fw.houses["A1"][0]
    page.context.set_offline(True)
    page.goto(page.base_url + f"/fieldwork/houses/{house.pk}/")
    assert page.locator("[data-testid=offline-page]").is_visible()
    assert "张三" not in page.content()


def wait_for(page, condition, what):
    """Let the page run (route handlers are called meanwhile) until ``condition()`` holds; fails after 15 s."""
    for _ in range(300):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(what)


def test_a_weak_signal_a_lapsed_login_and_a_handed_over_phone_neither_lose_nor_duplicate_a_record(page, fw):
    """Every submission goes through the queue. The phone says it is online while the visit's POST fails, answers
    503, hangs past the 15 s timeout, reaches the server but loses its answer: the record stays queued and is saved
    once. The login lapses during an offline stretch: the badge asks to log in, the same worker logs in and the
    queue is sent. Another worker logs in on the phone: the first one's queue is deleted unsent, and said so."""
    from django.contrib.sessions.models import Session

    from fieldwork.models import Visit

    world = fw
    page.set_viewport_size(PHONE)
    page.clock.install()  # the page's timers (the 15 s timeout, the retry backoff) run on a clock moved here
    h0, h1, h2 = world.houses["A1"][:3]
    mine = Visit.objects.filter(worker=world.users.worker_a1)
    login(page, "worker_a1")
    open_round(page)

    mode, posts, hung = {"v": "abort"}, [], []

    def flaky(route):
        if route.request.method != "POST":
            return route.continue_()
        posts.append(mode["v"])
        if mode["v"] == "abort":
            return route.abort("failed")
        if mode["v"] == "busy":
            return route.fulfill(status=503, headers={"Retry-After": "5"}, body="busy")
        if mode["v"] == "hang":
            return hung.append(route)
        if mode["v"] == "lost":  # the server saves it, the phone never hears back
            route.fetch()
            return route.abort("failed")
        return route.continue_()

    page.route(f"**/fieldwork/houses/{h0.pk}/", flaky)
    page.goto(page.base_url + f"/fieldwork/houses/{h0.pk}/")
    page.fill("textarea[name=note]", "楼道里信号时有时无")
    page.click("[data-testid=submit-visit]")
    page.wait_for_selector("[data-draft-status][data-state=weak]")
    queued(page, 1)
    assert "信号不好" in page.inner_text("[data-sync-last]")
    shot(page, "round-weak-signal")

    mode["v"] = "busy"
    page.clock.fast_forward(5000)  # the first retry (5 s)
    page.wait_for_selector("[data-offline-round][data-retries='2']")
    assert "服务器暂时无法处理" in page.inner_text("[data-sync-last]")
    mode["v"] = "hang"
    page.clock.fast_forward(15000)  # the second retry (15 s): no answer …
    wait_for(page, lambda: hung, "the retry was not sent")
    page.clock.fast_forward(15000)  # … abandoned after 15 s
    page.wait_for_selector("[data-offline-round][data-retries='3']")
    assert mine.count() == 0
    mode["v"] = "lost"
    page.clock.fast_forward(30000)
    page.wait_for_selector("[data-offline-round][data-retries='4']")
    queued(page, 1)
    assert mine.count() == 1  # saved on the server; the phone still holds it
    mode["v"] = "pass"
    page.clock.fast_forward(60000)
    page.wait_for_url("**/fieldwork/visits/*/")
    assert posts == ["abort", "busy", "hang", "lost", "pass"]
    assert mine.count() == 1 and mine.get().note == "楼道里信号时有时无"
    for route in hung:
        try:
            route.abort()
        except Exception:  # the page abandoned the request long ago
            pass
    page.unroute(f"**/fieldwork/houses/{h0.pk}/")

    # The login lapses (30 idle minutes: the server deletes the session) during an offline stretch.
    page.context.set_offline(True)
    page.goto(page.base_url + f"/fieldwork/houses/{h1.pk}/")
    page.click("[data-testid=unchanged]")
    queued(page, 1)
    Session.objects.all().delete()
    page.context.set_offline(False)
    page.wait_for_selector("[data-offline-round][data-state=login] [data-sync-login]:visible")
    assert "请重新登录" in page.inner_text("[data-offline-round]")
    shot(page, "round-login-again")
    assert page.evaluate("RenfangOffline.entries().then(e => e.length)") == 1 and mine.count() == 1
    page.click("[data-sync-login]")
    page.fill("input[name=username]", "worker_a1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/fieldwork/visits/*/")  # back on the house page, the queue was sent under the new login
    assert sorted(mine.values_list("house_id", flat=True)) == sorted([h0.pk, h1.pk])

    # The phone is handed over without logging out: the next worker's login does not send the first one's queue.
    page.context.set_offline(True)
    page.goto(page.base_url + f"/fieldwork/houses/{h2.pk}/")
    page.click("[data-testid=unchanged]")
    queued(page, 1)
    page.context.clear_cookies()
    page.context.set_offline(False)
    page.wait_for_selector("[data-offline-round][data-state=login]")  # logged out: the queue waits, nothing sent
    login(page, "worker_a2")
    page.wait_for_function("caches.keys().then(k => !k.includes('renfang-pages'))")
    page.goto(page.base_url + "/fieldwork/today/")
    page.wait_for_selector("[data-offline-round][data-ready='1']")
    assert "本机上一位登录用户的 1 条未提交记录已删除" in page.inner_text("[data-sync-notes]")
    shot(page, "round-previous-user-discarded")
    assert not Visit.objects.filter(house=h2).exists() and mine.count() == 2


def test_a_login_twelve_hours_old_takes_the_round_off_the_phone_and_the_worker_is_told_before_and_when(page, fw):
    page.set_viewport_size(PHONE)
    page.clock.install()
    login(page, "worker_a1")
    open_round(page)
    house = fw.houses["A1"][0]
    page.context.set_offline(True)
    page.goto(page.base_url + f"/fieldwork/houses/{house.pk}/")
    page.click("[data-testid=unchanged]")
    queued(page, 1)
    page.goto(page.base_url + "/fieldwork/today/")  # the phone's copy
    queued(page, 1)
    assert not page.locator("[data-sync-notes]").is_visible()

    page.clock.fast_forward("10:30:00")  # 10 h after the login: the warning
    page.wait_for_selector("[data-offline-round][data-warn='1'] [data-sync-notes]:visible")
    warning = page.inner_text("[data-sync-notes]")
    assert "登录满12小时" in warning and "1 条未提交" in warning
    shot(page, "round-expiry-warning")

    page.clock.fast_forward("02:00:00")  # past 12 h: everything kept is deleted, the page says what was lost
    page.wait_for_selector("[data-offline-round][data-expired='1']")
    notes = page.inner_text("[data-sync-notes]")
    assert "本机保存的走访数据已全部删除" in notes and "1 条未提交" in notes
    assert page.locator(".fw-building").count() and not page.locator(".fw-building").first.is_visible()
    assert page.locator("[data-sync-login]").is_visible()
    shot(page, "round-expired")
    kept = page.evaluate(STORAGE)
    assert kept["caches"] == [] and kept["dbs"] == []
    assert not [k for k in kept["drafts"] if k.startswith("renfang.fieldwork.draft.")]
    page.reload()  # opened again without signal: nothing of the round is served any more
    assert page.locator("[data-testid=offline-page]").is_visible()
