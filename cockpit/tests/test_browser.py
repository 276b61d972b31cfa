"""End to end in Chromium: the street board draws its map and charts without console errors; a click on a
community of the map opens its board, a bar of its children chart a grid's, then a compound, a building and a
house; the table view and the PNG download work. The wall screen at 1920×1080 is measured: no chart text overlaps
another or is clipped, no map label covers another, no heading is cut off, no controls. Screenshots of the wall
screen and of a grid worker's phone (390×844) are saved in test-artifacts/ for a person to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from cockpit.rollup import full_rebuild
from cockpit.tests.conftest import enrich
from conftest import PASSWORD, login, make_user, verified_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
M_LAT, M_LNG = 1 / 110_574, 1 / 95_000  # degrees per metre near 31° N


def at(x: float, y: float) -> tuple[float, float]:
    return 31.38 + y * M_LAT, 120.63 + x * M_LNG


def watch(page) -> list[str]:
    errors: list[str] = []

    def on_console(msg):
        url = (msg.location or {}).get("url", "")
        if msg.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"{msg.text} @ {url}")

    page.on("console", on_console)
    return errors


@pytest.fixture
def board_world(world):
    return spread_and_enrich(world)


def spread_and_enrich(world):
    """The world with its compounds spread over the street (A1, A2 west, B1 east), enriched, rolled up; and an
    officer holding the whole street (no second factor needed, so the real login form works)."""
    for key, x in (("A1", 0), ("A2", 500), ("B1", 1400)):
        c = world.compounds[key]
        c.lat, c.lng = at(x, 0)
        c.save()
        b = world.buildings[key]
        b.lat, b.lng = at(x + 20, 10)
        b.save()
    enrich(world)
    from quality.engine import stamp_houses
    from quality.scores import take_snapshot
    from quality.services import recompute

    recompute()
    visited = [h.pk for hs in world.houses.values() for h in hs[::3]]  # a third of the houses verified lately
    # the freshness of every house (a rate on the map and the gauge), and a week of its trend
    stamp_houses(visited, timezone.now() - dt.timedelta(days=3), "visit", None)
    take_snapshot()
    full_rebuild()
    world.users.street_officer = make_user("street_officer", "community_officer", "street", street=world.street,
                                           roles=world.roles)
    return world


def shot(page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def wait_board(page) -> None:
    page.wait_for_selector("#ck-map[data-ready='1']")
    page.wait_for_function("document.getElementById('cockpit').dataset.charts > 0")


def test_the_street_board_renders_and_drills_down_to_a_house(page, board_world, live_server):
    w = board_world
    errors = watch(page)
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    login(page, "street_officer", PASSWORD)
    page.goto(f"{page.base_url}/cockpit/street/{w.street.pk}/")
    wait_board(page)
    assert page.locator(".ck-chart canvas").count() >= 4  # ECharts drew the registry's panels
    assert page.locator("#ck-map path.leaflet-interactive").count() == 2  # the two communities
    assert page.locator("#ck-colour option").count() >= 2
    page.select_option("#ck-colour", "cockpit.population")
    assert "–" in page.inner_text("#ck-legend")
    assert page.url.endswith("?map=cockpit.population")  # the view can be shared: the address follows the map
    page.select_option("#ck-colour", "quality.freshness")  # a rate: in percent, never "1 – 1"
    page.wait_for_function("document.getElementById('cockpit').dataset.mapFigure === 'quality.freshness'")
    assert page.locator("#ck-legend").inner_text().count("%") >= 1
    labels = page.locator("#ck-map .rf-maplabel").all_inner_texts()
    assert labels and all("%" in t for t in labels), labels
    page.go_back()
    page.wait_for_function("document.getElementById('ck-colour').value === 'cockpit.population'")
    assert page.locator("#ck-map .rf-maplabel").count() == 2  # both communities named on the map
    # the table view of a chart, and its PNG
    panel = page.locator("#panel-cockpit-houses")
    panel.locator("button[data-act=table]").click()
    assert panel.locator(".ck-table").is_visible() and panel.locator(".ck-table td").count() >= 4
    with page.expect_download() as dl:
        page.locator("#panel-cockpit-population button[data-act=png]").click()
    assert dl.value.suggested_filename.endswith(".png")
    shot(page, "cockpit-street")

    # click a community on the map
    page.locator("#ck-map path.leaflet-interactive").first.click()
    page.wait_for_url("**/cockpit/community/*/?map=cockpit.population")  # the drill-down keeps the colouring
    wait_board(page)
    assert page.locator(".ck-level").inner_text() == "社区"
    assert page.locator("#ck-colour").input_value() == "cockpit.population"
    # a bar of the children chart opens that grid's board (once ECharts' 1 s grow-in animation has ended: a click
    # half-way up a bar still growing on a loaded machine falls beside it)
    page.wait_for_timeout(1500)
    x, y = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('ck-children-chart'));
        const value = chart.getOption().series[0].data[0].value;
        return chart.convertToPixel({seriesIndex: 0}, [0, value / 2]);
    }""")
    page.locator("#ck-children-chart").click(position={"x": x, "y": y})  # scrolled into view first
    page.wait_for_url("**/cockpit/grid/*/")
    page.locator("a[data-child=compound]").first.click()
    page.wait_for_url("**/cockpit/compound/*/")
    wait_board(page)
    page.locator("a[data-child=building]").first.click()
    page.wait_for_url("**/cockpit/building/*/")
    wait_board(page)
    assert page.locator("a.ck-house").count() == 24
    shot(page, "cockpit-building")
    page.locator("a.ck-house").first.click()
    page.wait_for_url("**/places/houses/*/")
    assert page.locator("h1").count() >= 1
    assert errors == []
    assert failed == []


# Every visible text of the page's charts (the wall draws them as SVG), of the map's labels and of the headings
# and figures, with its box on screen: what the layout test measures.
MEASURE_JS = """() => {
  const shown = (el) => {
    for (let n = el; n && n.nodeType === 1; n = n.parentNode) {
      const cs = getComputedStyle(n);
      if (cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) return false;
      for (const a of ['opacity', 'fill-opacity']) {
        const v = n.getAttribute(a);
        if (v !== null && parseFloat(v) === 0) return false;
      }
    }
    return true;
  };
  const box = (r) => ({ l: r.left, t: r.top, r: r.right, b: r.bottom });
  const charts = [...document.querySelectorAll('.ck-chart')].filter((c) => c.getClientRects().length).map((c) => ({
    id: (c.closest('[id^=panel-]') || c).id, box: box(c.getBoundingClientRect()),
    height: c.getBoundingClientRect().height, svg: !!c.querySelector('svg'),
    texts: [...c.querySelectorAll('svg text')].filter((t) => t.textContent.trim() && shown(t))
      .map((t) => Object.assign({ text: t.textContent.trim() }, box(t.getBoundingClientRect())))
      .filter((r) => r.r > r.l && r.b > r.t) }));
  const labels = [...document.querySelectorAll('#ck-map .rf-maplabel')].filter(shown)
    .map((t) => Object.assign({ text: t.textContent.trim() }, box(t.getBoundingClientRect())));
  const cut = [...document.querySelectorAll('.ck-head h1, .ck-panel-head h2, .ck-figure b, .ck-figure span')]
    .filter((e) => e.getClientRects().length)
    .filter((e) => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
    .map((e) => e.textContent.trim());
  const tools = [...document.querySelectorAll('.ck-tools button, .ck-maptools select, .ck-maptools input')]
    .filter((e) => e.getClientRects().length).length;
  return { charts, labels, cut, tools };
}"""


def _overlaps(a: dict, b: dict, slack: float = 1.0) -> bool:
    return min(a["r"], b["r"]) - max(a["l"], b["l"]) > slack and min(a["b"], b["b"]) - max(a["t"], b["t"]) > slack


def layout_faults(measured: dict) -> list[str]:
    """Every text that overlaps another text of its chart or sticks out of the chart, every map label over
    another, every heading or figure cut off — in words, for the assertion message."""
    faults = []
    for c in measured["charts"]:
        texts = c["texts"]
        for i, a in enumerate(texts):
            if a["l"] < c["box"]["l"] - 1 or a["r"] > c["box"]["r"] + 1 or a["t"] < c["box"]["t"] - 1 \
                    or a["b"] > c["box"]["b"] + 1:
                faults.append(f"{c['id']}: “{a['text']}” is clipped by the chart's edge")
            faults += [f"{c['id']}: “{a['text']}” overlaps “{b['text']}”" for b in texts[i + 1:] if _overlaps(a, b)]
    labels = measured["labels"]
    for i, a in enumerate(labels):
        faults += [f"map: “{a['text']}” overlaps “{b['text']}”" for b in labels[i + 1:] if _overlaps(a, b)]
    faults += [f"cut off: “{t}”" for t in measured["cut"]]
    return faults


def test_the_wall_screen_at_1920_by_1080_has_no_overlapping_or_clipped_text_and_no_controls(
        page, board_world, live_server):
    errors = watch(page)
    client = Client()
    verified_login(client, board_world.users.command)  # the command centre: second factor passed
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "url": page.base_url,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value}])
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{page.base_url}/cockpit/wall/")
    wait_board(page)
    page.wait_for_timeout(400)
    size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size[0] <= 1920 and size[1] <= 1080
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(7, 18, 31)"
    assert page.locator(".topbar").is_hidden()
    shot(page, "cockpit-wall-1920x1080", full_page=False)
    measured = page.evaluate(MEASURE_JS)
    charts = [c for c in measured["charts"] if c["texts"]]
    assert len(charts) >= 6 and all(c["svg"] for c in measured["charts"])  # drawn as SVG: measurable text
    assert sum(len(c["texts"]) for c in charts) >= 40
    faults = layout_faults(measured)
    assert faults == [], "\n".join(faults)
    assert min(c["height"] for c in measured["charts"]) >= 180  # charts of real height, not a 20 px strip
    assert measured["tools"] == 0  # no 表格 / 下载图片 / 着色 on the wall
    assert page.locator("#ck-map .rf-maplabel").count() >= 2  # the communities are named on the map
    # the measure itself can fail: two labels drawn on top of each other are reported
    page.evaluate("""() => {
      const d = document.createElement('div'); d.className = 'ck-chart'; d.id = 'probe';
      d.style.cssText = 'position:fixed;left:0;top:0;width:200px;height:60px';
      d.innerHTML = '<svg width="200" height="60"><text x="10" y="30">甲乙丙</text><text x="20" y="30">丁戊</text>' +
        '<text x="170" y="55">超出边界的文字</text></svg>';
      document.body.appendChild(d);
    }""")
    probe = layout_faults(page.evaluate(MEASURE_JS))
    assert "probe: “甲乙丙” overlaps “丁戊”" in probe
    assert "probe: “超出边界的文字” is clipped by the chart's edge" in probe
    # it refreshes itself from the board's JSON
    page.evaluate("document.getElementById('cockpit').dataset.refresh")
    assert page.get_attribute("#cockpit", "data-refresh") == "30"
    assert errors == []


def test_a_grid_worker_reads_their_board_on_a_phone(browser, board_world, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                  device_scale_factor=2, timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.base_url = live_server.url
    page.set_default_timeout(15000)
    errors = watch(page)
    try:
        login(page, "worker_a1", PASSWORD)
        page.goto(f"{page.base_url}/cockpit/")
        page.wait_for_url("**/cockpit/grid/*/")
        wait_board(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        figures = page.locator(".ck-figure").first.bounding_box()
        assert figures["width"] < 200  # two figures a row
        assert page.locator(".ck-chart canvas").count() >= 4
        shot(page, "cockpit-phone-390x844", full_page=False)
        shot(page, "cockpit-phone-390x844-full")
        assert errors == []
    finally:
        context.close()
