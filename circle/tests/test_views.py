"""The pages: scoping (404/403), the public services-near-me page, the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from circle import services
from circle.models import Facility
from circle.tests.conftest import at

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    """A logged-in client; roles that need the second factor get a confirmed TOTP device and a verified session."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    c = Client()
    c.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(user=user, name="t",
                                                                                       confirmed=True)
    session = c.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return c


@pytest.fixture
def facilities(circle_world, categories, django_capture_on_commit_callbacks):
    w = circle_world
    made = {}
    with django_capture_on_commit_callbacks(execute=True):
        for key, x in (("A1", 100), ("B1", 1500)):
            lat, lng = at(x, 0)
            made[key] = services.save_facility(None, services.FacilityData(
                name=f"{key}社区食堂", category=categories.canteen, grid=w.grids[key], lat=lat, lng=lng,
                opening_hours="7:00-19:00", phone="0512-6000000"))
    return made


def test_the_matrix_shows_only_compounds_in_scope_with_minutes_and_the_straight_line_flag(circle_world, facilities):
    w = circle_world
    html = client_for(w.users.worker_a1).get(reverse("circle:matrix")).content.decode()
    assert "A1花园" in html and "B1花园" not in html and "A2花园" not in html
    assert "直线距离" in html and "1.3" in html
    # A1 → its canteen 130 m at 1.2 m/s ≈ 2 minutes, inside the 5-minute circle
    assert 'class="m ok5">2′' in html


def test_circle_pages_need_login_and_the_permission(circle_world, facilities):
    w = circle_world
    assert Client().get(reverse("circle:matrix")).status_code == 302
    assert client_for(w.users.nobody).get(reverse("circle:matrix")).status_code == 403
    assert client_for(w.users.resident).get(reverse("circle:map")).status_code == 403
    assert client_for(w.users.worker_a1).get(reverse("circle:plan")).status_code == 403
    assert client_for(w.users.officer_a).get(reverse("circle:plan")).status_code == 200


def test_editing_a_facility_out_of_scope_is_404_and_in_scope_without_permission_is_403(circle_world, facilities):
    w = circle_world
    b1 = facilities["B1"]
    a1 = facilities["A1"]
    assert client_for(w.users.officer_a).get(reverse("circle:facility_edit", args=[b1.pk])).status_code == 404
    assert client_for(w.users.worker_a1).get(reverse("circle:facility_edit", args=[a1.pk])).status_code == 403
    assert client_for(w.users.worker_a1).post(reverse("circle:facility_close", args=[a1.pk])).status_code == 403
    assert client_for(w.users.officer_a).get(reverse("circle:facility_edit", args=[a1.pk])).status_code == 200


def test_an_officer_adds_a_facility_through_the_form(circle_world, categories, django_capture_on_commit_callbacks):
    w = circle_world
    lat, lng = at(600, 50)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client_for(w.users.officer_a).post(reverse("circle:facility_new"), {
            "name": "A2日间照料", "category": categories.kindergarten.pk, "grid": w.grids["A2"].pk, "lat": lat,
            "lng": lng, "status": "open"})
    assert resp.status_code == 302
    assert Facility.objects.get(name="A2日间照料").grid == w.grids["A2"]
    bad = client_for(w.users.officer_a).post(reverse("circle:facility_new"), {
        "name": "外网格", "category": categories.kindergarten.pk, "grid": w.grids["B1"].pk, "lat": lat, "lng": lng,
        "status": "open"})
    assert bad.status_code == 400 and not Facility.objects.filter(name="外网格").exists()


def test_the_gap_map_data_sizes_gaps_by_affected_residents_within_scope(circle_world, facilities):
    w = circle_world
    data = client_for(w.users.officer_a).get(reverse("circle:map_data") + "?category=canteen").json()
    comps = {f["properties"]["name"]: f["properties"] for f in data["compounds"]["features"]}
    assert set(comps) == {"A1花园", "A2花园"}
    assert comps["A1花园"]["served"] is True and comps["A1花园"]["affected"] == 0
    assert comps["A2花园"]["served"] is False and comps["A2花园"]["affected"] == 4
    assert [f["properties"]["name"] for f in data["facilities"]["features"]] == ["A1社区食堂"]
    assert data["method"] == "straight"


def test_the_command_centre_sees_small_counts_as_less_than_five(circle_world, facilities, categories):
    w = circle_world
    data = client_for(w.users.command).get(reverse("circle:map_data") + "?category=kindergarten").json()
    labels = {f["properties"]["name"]: f["properties"]["affected_label"] for f in data["compounds"]["features"]}
    assert labels["A1花园"] == "<5"


def test_the_services_near_me_page_needs_no_login_and_shows_no_personal_data(circle_world, facilities):
    w = circle_world
    token = services.building_token(w.buildings["A1"])
    resp = Client().get(reverse("circle:near", args=[token]))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "A1社区食堂" in html and "7:00-19:00" in html and "步行 2 分钟" in html
    assert "B1社区食堂" not in html  # 1,400 m × 1.3 is beyond 15 minutes at 1.2 m/s
    for person in w.people.values():
        assert person.name not in html
        assert person.id_number_masked not in html and person.phone_masked not in html
    assert "<script>" not in html  # CSP: no inline scripts
    data = Client().get(reverse("circle:near_data", args=[token])).json()
    assert [f["properties"]["name"] for f in data["facilities"]["features"]] == ["A1社区食堂"]
    assert Client().get(reverse("circle:near", args=["not-a-token"])).status_code == 404


def test_the_building_qr_code_points_at_the_public_page(circle_world):
    w = circle_world
    resp = client_for(w.users.worker_a1).get(reverse("circle:building_qr", args=[w.buildings["A1"].pk]))
    assert resp.status_code == 200 and resp["Content-Type"] == "image/svg+xml"
    assert client_for(w.users.worker_a1).get(reverse("circle:building_qr", args=[w.buildings["B1"].pk])
                                            ).status_code == 404


def test_coverage_and_plan_pages_render_figures(circle_world, facilities):
    w = circle_world
    html = client_for(w.users.officer_a).get(reverse("circle:coverage") + "?level=grid").content.decode()
    assert "A1网格" in html and "100%" in html and "B1网格" not in html
    html = client_for(w.users.officer_a).get(reverse("circle:plan") + "?run=1&category=canteen&k=2").content.decode()
    assert "+4" in html  # A2's four residents come into reach with one new canteen


def test_the_api_lists_facilities_in_scope_and_closes_on_delete(circle_world, facilities, categories):
    w = circle_world
    c = client_for(w.users.officer_a)
    data = c.get("/api/circle/facilities/").json()
    assert [f["name"] for f in data["results"]] == ["A1社区食堂"]
    assert c.get(f"/api/circle/facilities/{facilities['B1'].pk}/").status_code == 404
    lat, lng = at(600, 0)
    resp = c.post("/api/circle/facilities/", data=json.dumps({
        "name": "A2食堂", "category": "canteen", "grid": w.grids["A2"].pk, "lat": lat, "lng": lng}),
        content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert c.delete(f"/api/circle/facilities/{resp.json()['id']}/").status_code == 204
    assert Facility.objects.get(name="A2食堂").status == "closed"
    cov = c.get("/api/circle/coverage/?category=canteen&level=community").json()
    assert cov["rows"][0]["name"] == "社区A" and cov["rows"][0]["population"] == 8


def test_an_officer_registers_a_candidate_site_and_plans_with_it(circle_world, facilities):
    w = circle_world
    c = client_for(w.users.officer_a)
    lat, lng = at(600, 20)
    resp = c.post(reverse("circle:site_add"), {"name": "A2空地", "grid": w.grids["A2"].pk, "lat": lat, "lng": lng})
    assert resp.status_code == 302
    bad = c.post(reverse("circle:site_add"), {"name": "B1空地", "grid": w.grids["B1"].pk, "lat": lat, "lng": lng})
    assert bad.status_code == 302  # refused with a message: B1 is not in the officer's grids
    from circle.models import CandidateSite

    assert list(CandidateSite.objects.values_list("name", flat=True)) == ["A2空地"]
    html = c.get(reverse("circle:plan") + "?run=1&category=canteen&k=1&source=sites").content.decode()
    assert "A2空地" in html and "+4" in html
    assert client_for(w.users.worker_a1).post(reverse("circle:site_add"), {"name": "x"}).status_code == 403


def test_the_system_admin_edits_a_categorys_radius_and_others_may_not(circle_world, categories):
    w = circle_world
    url = reverse("circle:category_edit", args=[categories.canteen.pk])
    assert client_for(w.users.officer_a).get(url).status_code == 403
    c = client_for(w.users.sysadmin)
    form = {"code": "canteen", "name": "社区食堂", "name_en": "community canteen",
            "parent": categories.canteen.parent_id, "tier": 5, "radius_m": 400, "kind": "basic", "group": "all",
            "confirmed": "", "source": "GB 50180-2018", "order": 302, "is_active": "on"}
    assert c.post(url, form).status_code == 302
    categories.canteen.refresh_from_db()
    assert categories.canteen.radius_m == 400 and categories.canteen.threshold_m(1.2) == 400
    new = dict(form, code="night-school", name="夜校", radius_m=1000, order=600)
    assert c.post(reverse("circle:category_new"), new).status_code == 302
    assert "夜校" in c.get(reverse("circle:categories")).content.decode()


def test_the_cockpit_geojson_lists_open_facilities_in_scope(circle_world, facilities):
    w = circle_world
    data = client_for(w.users.worker_a1).get(reverse("circle:facilities_geojson")).json()
    assert [f["properties"]["name"] for f in data["features"]] == ["A1社区食堂"]
    assert data["features"][0]["geometry"]["type"] == "Point"
