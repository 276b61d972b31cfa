"""Facilities, recomputation, coverage and planning through the service functions, on the ``world`` fixture."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook

from circle import services
from circle.models import Access, Category, Facility
from circle.tests.conftest import at, write_street_network
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def facility(world, cat, grid_key, x, y=0.0, name=None, user=None, **kw) -> Facility:
    lat, lng = at(x, y)
    data = services.FacilityData(name=name or f"{cat.name}{x}", category=cat, grid=world.grids[grid_key], lat=lat,
                                 lng=lng, **kw)
    return services.save_facility(user, data)


def access(compound, cat) -> Access:
    return Access._base_manager.get(compound=compound, category=cat)


def test_the_category_tree_is_seeded_from_the_life_circle_table():
    kg = Category.objects.get(code="kindergarten")
    assert (kg.tier, kg.radius_m, kg.group, kg.parent.code, kg.confirmed) == (5, 300, "3-6", "tier5", False)
    assert Category.objects.get(code="tier10").confirmed is True
    assert Category.objects.get(code="rider-station").name == "暖蜂驿站"
    assert Category.objects.filter(parent__isnull=False).count() >= 25


def test_a_category_without_a_radius_serves_its_tiers_minutes_at_the_chosen_speed(categories):
    assert categories.canteen.threshold_m(1.2) == pytest.approx(360)
    assert categories.canteen.threshold_m(1.4) == pytest.approx(420)
    assert categories.kindergarten.threshold_m(1.4) == 300


def test_without_a_network_distances_are_straight_line_times_1_3_and_flagged(circle_world, categories,
                                                                            django_capture_on_commit_callbacks):
    w = circle_world
    with django_capture_on_commit_callbacks(execute=True):
        facility(w, categories.canteen, "A1", 100, 0)
    a1, b1 = access(w.compounds["A1"], categories.canteen), access(w.compounds["B1"], categories.canteen)
    assert a1.method == Access.Method.STRAIGHT
    assert a1.distance_m == pytest.approx(130, abs=0.5)
    assert b1.distance_m == pytest.approx(1400 * 1.3, abs=1)
    assert a1.population == 4 and a1.facility.name.startswith("社区食堂")


def test_a_walking_network_gives_network_distances_including_the_snap_offsets(circle_world, categories, tmp_path,
                                                                             django_capture_on_commit_callbacks):
    w = circle_world
    osm = tmp_path / "street.osm"
    write_street_network(osm)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_network(osm, name="test street")
        facility(w, categories.canteen, "A2", 650, 30)  # 30 m off the street, nearest node at x=700
    a2 = access(w.compounds["A2"], categories.canteen)
    assert a2.method == Access.Method.NETWORK
    # A2 at x=600 (on a node) → node 700 is 100 m, then the facility's offset sqrt(50²+30²)
    assert a2.distance_m == pytest.approx(100 + (50**2 + 30**2) ** 0.5, abs=0.5)
    a1 = access(w.compounds["A1"], categories.canteen)
    assert a1.distance_m == pytest.approx(700 + (50**2 + 30**2) ** 0.5, abs=0.5)
    # B1 is 800 m from node 700: stored (below the 2,400 m limit)
    assert access(w.compounds["B1"], categories.canteen).distance_m == pytest.approx(800 + 58.31, abs=0.5)


def test_closing_or_moving_a_facility_recomputes_the_figures(circle_world, categories,
                                                             django_capture_on_commit_callbacks):
    w = circle_world
    with django_capture_on_commit_callbacks(execute=True):
        near = facility(w, categories.canteen, "A1", 0, 50, name="近处食堂")
        facility(w, categories.canteen, "B1", 1500, 0, name="远处食堂")
    assert access(w.compounds["A1"], categories.canteen).facility == near
    with django_capture_on_commit_callbacks(execute=True):
        services.close_facility(None, near)
    a1 = access(w.compounds["A1"], categories.canteen)
    assert a1.facility.name == "远处食堂" and a1.distance_m == pytest.approx(1500 * 1.3, abs=1)
    far = Facility.objects.get(name="远处食堂")
    data = services.FacilityData(**{f: getattr(far, f) for f in services.FACILITY_FIELDS})
    data.lat, data.lng = at(0, 10)
    with django_capture_on_commit_callbacks(execute=True):
        services.save_facility(None, data, instance=far, expected_version=far.version)
    assert access(w.compounds["A1"], categories.canteen).distance_m == pytest.approx(13, abs=0.5)


def test_coverage_equals_a_direct_count_of_residents_within_the_threshold(circle_world, categories,
                                                                          django_capture_on_commit_callbacks):
    from people.models import Residence

    w = circle_world
    with django_capture_on_commit_callbacks(execute=True):
        facility(w, categories.kindergarten, "A1", 0, 200)  # 260 m (×1.3) from A1: inside 300 m; A2, B1 outside
    rows = {r.name: r for r in services.coverage(Access._base_manager.all(), categories.kindergarten, 1.2, "grid")}
    direct_all = {}
    direct_child = {}
    for res in Residence._base_manager.filter(moved_out__isnull=True).select_related("house__grid", "person"):
        served = res.house.compound_id == w.compounds["A1"].pk
        g = res.house.grid.name
        direct_all.setdefault(g, [0, 0])
        direct_all[g][0] += 1
        direct_all[g][1] += served
        age = res.person.age()
        if age is not None and 3 <= age <= 6:
            direct_child.setdefault(g, [0, 0])
            direct_child[g][0] += 1
            direct_child[g][1] += served
    assert {g: [r.population, r.covered] for g, r in rows.items()} == direct_all
    assert rows["A1网格"].group_population == direct_child["A1网格"][0] == 1
    assert rows["A1网格"].group_covered == 1 and rows["A2网格"].group_population == 0
    street = services.coverage(Access._base_manager.all(), categories.kindergarten, 1.2, "street")
    assert len(street) == 1 and street[0].population == 12 and street[0].covered == 4


def test_planning_picks_the_site_that_brings_the_most_residents_in_reach(circle_world, categories):
    services.recompute()  # no facility at all: nobody is served
    cands = [("西", *at(-300, 0)), ("A2旁", *at(620, 0)), ("B1旁", *at(1480, 0)), ("A1旁", *at(10, 0))]
    result = services.plan(categories.canteen, Access._base_manager.all(), cands, k=5)
    assert result.before == 0 and result.total == 12
    # each compound has 4 residents; the canteen serves 360 m at 1.2 m/s: one site per compound
    assert [s["gain"] for s in result.steps] == [4, 4, 4]
    assert {s["name"] for s in result.steps} == {"A2旁", "B1旁", "A1旁"}
    assert result.after == 12 and result.after_share == 1.0


def test_a_grid_worker_cannot_register_a_facility_in_another_grid(circle_world, categories):
    w = circle_world
    with pytest.raises(PermissionDenied):
        facility(w, categories.canteen, "B1", 0, user=w.users.officer_a)
    with pytest.raises(PermissionDenied):  # grid workers view facilities but do not add them
        facility(w, categories.canteen, "A1", 0, user=w.users.worker_a1)
    fac = facility(w, categories.canteen, "A2", 0, user=w.users.officer_a)
    assert AuditEvent.objects.filter(object_type="circle.facility", object_id=str(fac.pk), action="create").exists()


def test_facilities_are_scoped_by_their_grid(circle_world, categories):
    w = circle_world
    fa1 = facility(w, categories.canteen, "A1", 0)
    fb1 = facility(w, categories.canteen, "B1", 0)
    assert list(Facility.objects.restrict(w.users.worker_a1, "view")) == [fa1]
    assert set(Facility.objects.restrict(w.users.officer_a, "view")) == {fa1}
    assert set(Facility.objects.restrict(w.users.command, "view")) == {fa1, fb1}
    assert not Facility.objects.restrict(w.users.resident, "view").exists()
    assert not Facility.objects.restrict(w.users.worker_a1, "change").exists()
    assert Facility.objects.restrict(w.users.officer_a, "change").get() == fa1


def test_invalid_facility_data_names_the_field_and_saves_nothing(circle_world, categories):
    w = circle_world
    bad = services.FacilityData(name="", category=categories.canteen, grid=w.grids["A1"], lat=95, lng=120)
    with pytest.raises(ValidationError) as exc:
        services.save_facility(None, bad)
    assert set(exc.value.message_dict) == {"name", "lat"}
    assert not Facility.objects.exists()


def xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def test_facilities_import_from_xlsx_all_or_nothing(circle_world):
    w = circle_world
    head = ["名称", "类别", "网格", "纬度", "经度", "开放时间", "容量", "运营方"]
    good = xlsx([head, ["A1食堂", "canteen", "A1", 31.3, 120.6, "7:00-19:00", 80, "街道"],
                 ["A2日照", "老年人日间照料中心", "A2网格", 31.301, 120.601, "", "", ""]])
    made = services.import_facilities(w.users.officer_a, good)
    assert [(f.name, f.category.code, f.grid.code, f.capacity) for f in made] == [
        ("A1食堂", "canteen", "A1", 80), ("A2日照", "elderly-daycare", "A2", None)]
    bad = xlsx([head, ["好的", "canteen", "A1", 31.3, 120.6], ["坏的", "nosuch", "B1", "北纬", 120.6]])
    with pytest.raises(ValidationError) as exc:
        services.import_facilities(w.users.officer_a, bad)
    msgs = exc.value.message_dict["file"]
    assert any("第3行 类别" in m for m in msgs) and any("第3行 网格" in m for m in msgs)
    assert any("第3行 纬度：不是数字" in m for m in msgs)
    assert Facility.objects.count() == 2  # nothing of the bad sheet was saved


def test_a_building_token_round_trips_and_a_forged_one_is_refused(circle_world):
    b = circle_world.buildings["A1"]
    token = services.building_token(b)
    assert services.read_building_token(token) == b
    assert services.read_building_token(token[:-2] + "xx") is None
    assert services.read_building_token("garbage") is None


def test_the_import_command_stores_the_helsinki_network_and_recomputes(circle_world, categories,
                                                                       django_capture_on_commit_callbacks):
    from django.core.management import call_command

    from circle.models import Network
    from circle.tests.osmdata import helsinki_pbf

    with django_capture_on_commit_callbacks(execute=True):
        call_command("circle_import_osm", str(helsinki_pbf()), name="Helsinki")
    nw = Network.objects.get(is_active=True)
    assert 5000 <= nw.node_count <= 6000 and nw.clipped_ways > 0
    g = services.active_graph()
    assert g is not None and g.n_nodes == nw.node_count
    # the world's compounds are in Suzhou, far from Helsinki: nothing within 2.4 km, figures say "network"
    assert Access._base_manager.filter(method="network").count() == Access._base_manager.count() > 0


def test_the_demo_command_places_facilities_and_a_synthetic_network(circle_world):
    from django.core.management import call_command

    from circle.models import Network

    call_command("circle_demo", "--network", stdout=io.StringIO())
    assert Facility.objects.count() > 10
    assert Network.objects.get(is_active=True).name.startswith("演示路网")
    assert Access._base_manager.filter(method="network", distance_m__isnull=False).exists()
    facilities, networks = Facility._base_manager.count(), Network.objects.count()
    call_command("circle_demo", "--network", stdout=io.StringIO())  # make demo run twice changes nothing
    assert (Facility._base_manager.count(), Network.objects.count()) == (facilities, networks)


def test_group_populations_count_ages_in_whole_years_at_both_ends(circle_world):
    import datetime as dt

    from people.models import Person

    w = circle_world
    today = dt.date(2026, 6, 15)
    a1 = [p for p in w.people.values() if p.grid_id == w.grids["A1"].pk]
    births = [dt.date(1961, 6, 15), dt.date(1961, 6, 16), dt.date(2019, 6, 16), dt.date(2023, 6, 15)]
    for person, born in zip(a1, births, strict=True):  # 65 today, 64, 6 (7 tomorrow), 3 today
        Person.objects.filter(pk=person.pk).update(birth_date=born)
    pops = services.populations(on=today)[w.compounds["A1"].pk]
    assert pops == {"all": 4, "65+": 1, "3-6": 2, "6-12": 1, "12-15": 0}


def test_a_queued_recompute_is_skipped_when_the_figures_are_newer_than_the_request(circle_world):
    import datetime as dt

    from django.utils import timezone

    from circle.tasks import recompute_access

    before = timezone.now() - dt.timedelta(seconds=5)
    services.recompute()
    assert recompute_access.call(before.isoformat()) == {"skipped": True}
    assert recompute_access.call(timezone.now().isoformat())["rows"] > 0


def test_moving_a_compound_or_a_resident_moving_in_recomputes(circle_world, categories,
                                                              django_capture_on_commit_callbacks):
    import datetime as dt

    from people.services import PersonData, save_person

    w = circle_world
    with django_capture_on_commit_callbacks(execute=True):
        facility(w, categories.canteen, "B1", 1500, 0)
    assert access(w.compounds["A2"], categories.canteen).distance_m == pytest.approx(900 * 1.3, abs=1)
    comp = w.compounds["A2"]
    comp.lat, comp.lng = at(1400, 0)
    with django_capture_on_commit_callbacks(execute=True):
        comp.save()
    assert access(comp, categories.canteen).distance_m == pytest.approx(100 * 1.3, abs=1)
    house = w.houses["A2"][5]
    with django_capture_on_commit_callbacks(execute=True):
        save_person(None, PersonData(name="新住户"), house=house, relation="householder", moved_in=dt.date(2026, 1, 1),
                    accept_warnings=True, source="test")
    assert access(comp, categories.canteen).population == 5


def test_many_changes_in_one_transaction_queue_one_recompute(circle_world, categories,
                                                             django_capture_on_commit_callbacks):
    from django.db import transaction

    w = circle_world
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            for x in (0, 100, 200):
                facility(w, categories.canteen, "A1", x)
            w.compounds["A1"].save()
    assert len([c for c in callbacks if getattr(c, "circle_recompute", False)]) == 1
