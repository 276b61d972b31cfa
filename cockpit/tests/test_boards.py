"""Boards: scoped by the user's grants (a grid worker's board shows only their grid; other places 404), small
cells as "<5" for aggregate-only viewers (never the true number), panels from the registry, map GeoJSON,
drill-down URLs that the list views understand, the wall screen and the English labels."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from cockpit import registry
from cockpit.rollup import full_rebuild
from cockpit.tests.conftest import enrich
from conftest import verified_login

pytestmark = pytest.mark.django_db


def board(level, obj):
    return reverse("cockpit:board", args=[level, obj.pk])


@pytest.fixture
def built(world):
    enrich(world)
    full_rebuild()
    return world


def test_a_grid_worker_opens_only_their_grid_and_what_is_under_it(built, client):
    w = built
    client.force_login(w.users.worker_a1)
    assert client.get(reverse("cockpit:home"))["Location"] == board("grid", w.grids["A1"])
    assert client.get(board("grid", w.grids["A1"])).status_code == 200
    assert client.get(board("compound", w.compounds["A1"])).status_code == 200
    assert client.get(board("building", w.buildings["A1"])).status_code == 200
    for level, obj in [("grid", w.grids["A2"]), ("grid", w.grids["B1"]), ("community", w.communities["A"]),
                       ("street", w.street), ("compound", w.compounds["B1"]), ("building", w.buildings["A2"])]:
        assert client.get(board(level, obj)).status_code == 404, (level, obj)
        assert client.get(reverse("cockpit:board_data", args=[level, obj.pk])).status_code == 404
        assert client.get(reverse("cockpit:map_data", args=[level, obj.pk])).status_code == 404
    assert client.get("/cockpit/grid/999999/").status_code == 404


def test_a_grid_workers_board_shows_only_their_grids_figures(built, client):
    client.force_login(built.users.worker_a1)
    data = client.get(reverse("cockpit:board_data", args=["grid", built.grids["A1"].pk])).json()
    figures = {f["key"]: f["text"] for f in data["figures"]}
    assert figures["houses"] == "24" and figures["population"] == "6"  # A1: 4 + 马流动 + 马老太
    names = {r["name"] for r in data["children"]["rows"]}
    assert names == {"A1花园"}
    geo = client.get(reverse("cockpit:map_data", args=["grid", built.grids["A1"].pk])).json()
    assert [f["properties"]["name"] for f in geo["features"]] == ["A1花园"]


def test_the_community_officer_opens_their_community_and_the_command_centre_the_street(built, client):
    client.force_login(built.users.officer_a)
    assert client.get(board("community", built.communities["A"])).status_code == 200
    assert client.get(board("grid", built.grids["A2"])).status_code == 200
    assert client.get(board("community", built.communities["B"])).status_code == 404
    assert client.get(board("street", built.street)).status_code == 404
    verified_login(client, built.users.command)
    assert client.get(reverse("cockpit:home"))["Location"] == board("street", built.street)
    assert client.get(board("street", built.street)).status_code == 200
    assert client.get(board("building", built.buildings["B1"])).status_code == 200


def test_people_without_a_board_grant_are_refused_and_anonymous_users_sent_to_log_in(built, client):
    assert client.get(board("street", built.street)).status_code == 302
    for user in (built.users.resident, built.users.auditor, built.users.nobody):
        client.force_login(user)
        assert client.get(board("street", built.street)).status_code == 403
        assert client.get(reverse("cockpit:home")).status_code == 403


def test_aggregate_only_viewers_see_small_special_group_counts_as_under_five_and_never_the_number(built, client):
    verified_login(client, built.users.command)
    html = client.get(board("community", built.communities["A"])).content.decode()
    data = client.get(reverse("cockpit:board_data", args=["community", built.communities["A"].pk])).json()
    groups = next(p for p in data["panels"] if p["key"] == "cockpit.groups")["series"][0]["items"]
    cells = {i["key"]: (i["value"], i["text"]) for i in groups}
    assert cells["elderly_alone"] == (None, "<5") and cells["disabled"] == (None, "<5")
    assert "&lt;5" in html
    figures = {f["key"]: f["text"] for f in data["figures"]}
    assert figures["groups"] == "5"  # 3 + 2: the total is not a small cell
    payload = html[html.index('id="ck-payload"'):]
    payload = json.loads(payload[payload.index(">") + 1:payload.index("</script>")])
    items = next(p for p in payload["panels"] if p["key"] == "cockpit.groups")["series"][0]["items"]
    assert all(i["value"] is None for i in items if i["key"] in ("elderly_alone", "disabled"))
    # population figures are not small cells: the exact number is shown
    assert figures["population"] == "11"  # A1: 4 + 马流动 + 马老太; A2: 4 + 刘宝宝


def test_officers_with_a_detail_grant_see_the_exact_small_counts(built, client):
    client.force_login(built.users.officer_a)
    data = client.get(reverse("cockpit:board_data", args=["community", built.communities["A"].pk])).json()
    groups = next(p for p in data["panels"] if p["key"] == "cockpit.groups")["series"][0]["items"]
    cells = {i["key"]: (i["value"], i["text"]) for i in groups}
    assert cells["elderly_alone"] == (3, "3") and cells["disabled"] == (2, "2")


def test_a_panel_registered_by_another_app_appears_on_every_board_in_its_order(built, client):
    def compute(level, place_ids=None):
        return {built.grids["A1"].pk: {"open": 7, "overdue": 2}} if level == "grid" else {}

    registry.register_metric("testapp.cases", label="案件", compute=compute, levels=["grid"])
    registry.register_panel("testapp.cases", title="测试案件", metrics=["testapp.cases"], chart="figures", order=1,
                            levels=["grid"])
    try:
        full_rebuild([registry.get_metric("testapp.cases")])
        client.force_login(built.users.worker_a1)
        data = client.get(reverse("cockpit:board_data", args=["grid", built.grids["A1"].pk])).json()
        assert data["panels"][0]["key"] == "testapp.cases"
        assert {i["key"]: i["value"] for i in data["panels"][0]["series"][0]["items"]} == {"open": 7, "overdue": 2}
        html = client.get(board("compound", built.compounds["A1"])).content.decode()
        assert "测试案件" not in html  # a grid-only panel
    finally:
        registry.unregister("testapp.cases")


def test_the_map_draws_children_with_made_up_polygons_where_places_store_only_points(built, client):
    verified_login(client, built.users.command)
    geo = client.get(reverse("cockpit:map_data", args=["street", built.street.pk])).json()
    assert {f["properties"]["name"] for f in geo["features"]} == {"社区A", "社区B"}
    for f in geo["features"]:
        assert f["geometry"]["type"] == "Polygon"  # the bounding box of their compounds' squares
        assert set(f["properties"]["values"]) >= {"cockpit.houses", "cockpit.population"}
        assert f["properties"]["url"] == board("community", type(built.communities["A"])(pk=f["properties"]["id"]))
    keys = [fig["key"] for fig in geo["figures"]]
    assert "cockpit.population" in keys and "cockpit.houses" in keys
    vacancy = {f["properties"]["name"]: f["properties"]["values"]["cockpit.houses"] for f in geo["features"]}
    assert vacancy["社区A"] == pytest.approx(6 / 48)
    building = client.get(reverse("cockpit:map_data", args=["compound", built.compounds["A1"].pk])).json()
    assert building["features"][0]["geometry"]["type"] == "Point"


def test_the_map_shifts_to_gcj02_only_when_the_base_map_is_in_gcj02(built, client, settings):
    verified_login(client, built.users.command)
    url = reverse("cockpit:map_data", args=["compound", built.compounds["A1"].pk])
    plain = client.get(url).json()["features"][0]["geometry"]["coordinates"]
    settings.RENFANG_TILE_URL = "http://tiles.intranet/{z}/{x}/{y}.png"
    settings.RENFANG_TILE_CRS = "gcj02"
    data = client.get(url).json()
    assert data["crs"] == "gcj02"
    shifted = data["features"][0]["geometry"]["coordinates"]
    assert shifted != plain and abs(shifted[0] - plain[0]) < 0.01


def test_every_figure_links_to_the_filtered_list_behind_it_and_the_lists_answer(built, client):
    client.force_login(built.users.officer_a)
    data = client.get(reverse("cockpit:board_data", args=["grid", built.grids["A1"].pk])).json()
    links = {f["key"]: f["url"] for f in data["figures"]}
    gid = built.grids["A1"].pk
    assert links["vacancy"] == f"/places/houses/?grid_id={gid}&use=vacant"
    assert links["floating"] == f"/people/?grid_id={gid}&is_current=true&residency_type=floating"
    houses = next(p for p in data["panels"] if p["key"] == "cockpit.houses")["series"][0]["items"]
    rented = next(i for i in houses if i["key"] == "rented")
    assert rented["url"] == f"/places/houses/?grid_id={gid}&use=rented"
    page = client.get(rented["url"])
    assert page.status_code == 200 and page.content.decode().count('href="/places/houses/') >= 3
    assert client.get(links["floating"]).status_code == 200


def test_the_building_board_draws_every_house_coloured_by_its_state(built, client):
    client.force_login(built.users.worker_a1)
    html = client.get(board("building", built.buildings["A1"])).content.decode()
    assert html.count('class="ck-house"') == 24
    assert html.count('data-state="') == 24 and 'class="ck-house-legend"' in html
    html = client.get(board("building", built.buildings["A1"]) + "?colour=cockpit.occupancy").content.decode()
    assert html.count('data-state="lived"') == 3 and html.count('data-state="empty"') == 21
    assert reverse("places:building", args=[built.buildings["A1"].pk]) in html


def test_the_wall_screen_is_the_same_board_dark_and_refreshing(built, client):
    verified_login(client, built.users.command)
    html = client.get(reverse("cockpit:wall")).content.decode()
    assert "cockpit-wall" in html and 'data-refresh="30"' in html
    normal = client.get(board("street", built.street)).content.decode()
    assert "cockpit-wall" not in normal and 'data-refresh="0"' in normal
    assert "cockpit-wall" in client.get(board("street", built.street) + "?wall=1").content.decode()


def test_the_board_speaks_english_when_switched(built, client):
    client.force_login(built.users.officer_a)
    client.cookies["django_language"] = "en"
    html = client.get(board("community", built.communities["A"])).content.decode()
    assert "Wall screen" in html and "Age structure (population pyramid)" in html and "Vacancy rate" in html
    data = client.get(reverse("cockpit:board_data", args=["community", built.communities["A"].pk])).json()
    uses = {i["key"]: i["label"] for i in next(p for p in data["panels"] if p["key"] == "cockpit.houses")
            ["series"][0]["items"]}
    assert uses["rented"] == "Rented"


def test_a_board_reads_rollups_only_a_few_queries_whatever_the_size(built, client, django_assert_max_num_queries):
    client.force_login(built.users.officer_a)
    url = board("community", built.communities["A"])
    client.get(url)
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200


def test_the_service_facilities_layer_is_listed_unticked_and_the_open_cases_layer_ticked(built, client):
    client.force_login(built.users.worker_a1)
    html = client.get(board("grid", built.grids["A1"])).content.decode()
    facilities = f'data-layer-url="{reverse("circle:facilities_geojson")}"'
    cases = f'data-layer-url="{reverse("cases:geojson")}"'
    assert facilities in html and cases in html
    tag = html[html.index(facilities):html.index(">", html.index(facilities))]
    assert " checked" not in tag
    tag = html[html.index(cases):html.index(">", html.index(cases))]
    assert " checked" in tag
