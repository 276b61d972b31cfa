"""Benchmark of the cockpit (issue 5): ``python bench/run.py cockpit [--scale S] [--db sqlite|postgres]``.

* ``full_rollup_s``: a full rebuild of every registered metric (one GROUP BY per metric per level), the first
  thing the bench does; ``rollup_rows`` the rows it wrote.
* ``board_ms_p50`` / ``board_ms_p99``: server time of the street board and of a community board (interleaved,
  ``REQUESTS`` each after a warm-up) through ``django.test.Client``, logged in (``force_login`` with the second
  factor passed) as a command-centre user the bench creates with a street grant; ``street_ms_p50`` and
  ``community_ms_p50`` apart.
* ``rollup_lag_s``: from a change (a bench resident moved out of one house and into another, through
  ``people.services``) until ``cockpit.Rollup`` reflects it, running the incremental refresh at once
  (``refresh_dirty``: the dirty buildings and their ancestors). In production the refresh runs every minute
  (``core.schedule``, ``cockpit.refresh_rollups``, every 30 s), so the bound is ``rollup_lag_bound_s`` = 30 s +
  that time.
* ``first_paint_s``: first-contentful-paint of the wall screen in headless Chromium (Playwright), against a
  ``runserver`` the bench starts on a free port with the same database, median of ``PAINT_RUNS`` fresh pages
  (``performance.getEntriesByType('paint')``).
"""

from __future__ import annotations

import statistics
import time

REQUESTS = 60
PAINT_RUNS = 5
TICK_S = 30
USERNAME = "bench_cockpit_command"


def _command_user():
    from django.contrib.auth import get_user_model

    from core.models import Grant
    from core.roles import ensure_default_roles
    from places.models import Street

    roles = ensure_default_roles()
    street = Street.objects.order_by("pk").first()
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    Grant.objects.get_or_create(user=user, role=roles["command_centre"], level="street", street_id=street.pk)
    return user, street


def _client(user):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
              or TOTPDevice.objects.create(user=user, name="bench", confirmed=True))
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _boards(ctx, client, street) -> dict:
    from django.urls import reverse

    from places.models import Community

    community = Community.objects.filter(street=street).order_by("pk").first()
    urls = {"street": reverse("cockpit:board", args=["street", street.pk]),
            "community": reverse("cockpit:board", args=["community", community.pk])}
    for url in urls.values():
        for _ in range(3):
            assert client.get(url).status_code == 200, url
    samples = {k: [] for k in urls}
    for _ in range(REQUESTS):
        for key, url in urls.items():
            start = time.perf_counter()
            response = client.get(url)
            samples[key].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
    both = samples["street"] + samples["community"]
    return {"board_ms_p50": round(statistics.median(both), 1), "board_ms_p99": round(_p99(both), 1),
            "street_ms_p50": round(statistics.median(samples["street"]), 1),
        "community_ms_p50": round(statistics.median(samples["community"]), 1)}


def _p99(xs):
    from bench.run import percentile

    return percentile(xs, 99)


def _lag(ctx) -> dict:
    from cockpit.board import rollup_values
    from cockpit.rollup import refresh_dirty
    from people.models import Person, Residence
    from people.services import PersonData, move_in, move_out, save_person
    from places.models import House

    person = Person.objects.filter(name="驾驶舱基准住户").first()
    if person is None:
        person = save_person(None, PersonData(name="驾驶舱基准住户"), accept_warnings=True, source="api")
    refresh_dirty()  # start from an empty queue
    current = Residence.objects.filter(person=person, moved_out__isnull=True).first()
    skip = current.house.building_id if current else 0
    target = (House.objects.exclude(building_id=skip).filter(use="owner")
              .order_by("-id").values_list("id", "building_id")[int(time.time()) % 50])
    house = House.objects.get(pk=target[0])
    before = sum(rollup_values("building", [house.building_id], ["cockpit.population"])
                 .get(house.building_id, {}).get("cockpit.population", {}).values())
    started = time.perf_counter()
    if current:
        move_out(None, current, reason="基准测试")
    move_in(None, person, house, relation="none", role="other", source="api")
    changed = time.perf_counter()
    result = refresh_dirty()
    done = time.perf_counter()
    after = sum(rollup_values("building", [house.building_id], ["cockpit.population"])
                .get(house.building_id, {}).get("cockpit.population", {}).values())
    assert after == before + 1, (before, after)
    ctx.log(f"cockpit: refresh {result.as_dict()}")
    return {"rollup_lag_s": round(done - started, 3), "rollup_job_s": round(done - changed, 3),
            "rollup_tick_s": TICK_S, "rollup_lag_bound_s": round(TICK_S + done - started, 1),
            "refreshed_places": sum(result.places.values())}


def _first_paint(ctx, client) -> dict:
    from playwright.sync_api import sync_playwright

    from bench.browser import chromium, live_server, logged_in_context

    paints, loads = [], []
    with live_server(ctx) as base, sync_playwright() as p:
        browser = chromium(p)
        warm = logged_in_context(browser, base, client, viewport={"width": 1920, "height": 1080})
        warm.new_page().goto(base + "/cockpit/wall/", wait_until="load")  # the server's first request
        warm.close()
        for _ in range(PAINT_RUNS):
            context = logged_in_context(browser, base, client, viewport={"width": 1920, "height": 1080},
                                        locale="zh-CN")
            page = context.new_page()
            page.goto(base + "/cockpit/wall/", wait_until="load")
            page.wait_for_function("performance.getEntriesByType('paint').some("
                                   "e => e.name === 'first-contentful-paint')")
            fcp = page.evaluate("performance.getEntriesByType('paint')"
                                ".find(e => e.name === 'first-contentful-paint').startTime")
            page.wait_for_selector("#ck-map[data-ready='1']", timeout=60000)
            ready = page.evaluate("performance.now()")
            paints.append(fcp / 1000)
            loads.append(ready / 1000)
            context.close()
        browser.close()
    return {"first_paint_s": round(statistics.median(paints), 3),
            "wall_map_ready_s": round(statistics.median(loads), 3)}


def run(ctx) -> dict:
    from cockpit.rollup import full_rebuild

    user, street = _command_user()
    ctx.log("cockpit: full rollup...")
    with ctx.timer() as t:
        result = full_rebuild()
    if result.errors:
        ctx.log(f"cockpit: metrics that failed: {result.errors}")
    out = {"full_rollup_s": round(t.seconds, 1), "rollup_rows": result.rows}
    client = _client(user)
    ctx.log("cockpit: boards...")
    out.update(_boards(ctx, client, street))
    ctx.log("cockpit: rollup lag...")
    out.update(_lag(ctx))
    ctx.log("cockpit: first paint...")
    out.update(_first_paint(ctx, client))
    return out
