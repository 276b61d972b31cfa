"""Several streets, one instance (a district runs many streets on one database): a user granted several streets
sees them all, and the district's command centre has a board above the streets that adds them up."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from cockpit.rollup import full_rebuild
from conftest import make_user, resident_id, verified_login
from core.models import Grant
from core.roles import ensure_default_roles
from people.models import Person
from people.services import PersonData, save_person
from places.models import Building, Community, Compound, Grid, House, Street

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_streets(world):
    """A second street beside the world's (a community, a grid, a compound, 6 houses, 3 residents)."""
    street = Street.objects.create(name="越溪街道", code="320506004", lat=31.25, lng=120.58)
    community = Community.objects.create(street=street, name="吴山社区", code="320506004001")
    grid = Grid.objects.create(community=community, name="吴山1网格", code="G1")
    compound = Compound.objects.create(grid=grid, name="吴山花园", lat=31.25, lng=120.58)
    building = Building.objects.create(compound=compound, number="1", floors=3, units=1)
    houses = [House.objects.create(building=building, unit="1", floor=f, room=f"{f}0{i}", area=80, use="owner")
              for f in (1, 2, 3) for i in (1, 2)]
    for i, house in enumerate(houses[:3]):
        save_person(None, PersonData(name=f"越溪居民{i}", id_number=resident_id(f"32050619800101{i:03d}")),
                    house=house, relation="householder", accept_warnings=True, source="test")
    full_rebuild()
    roles = ensure_default_roles()
    both = make_user("district_cc", "command_centre", "street", street=world.street, roles=roles)
    Grant.objects.create(user=both, role=roles["command_centre"], level="street", street_id=street.pk)
    officer = make_user("two_street_officer", "community_officer", "street", street=world.street, roles=roles)
    Grant.objects.create(user=officer, role=roles["community_officer"], level="street", street_id=street.pk)
    return world, street, both, officer


def _payload(html: str) -> dict:
    return json.loads(re.search(r'<script id="ck-payload" type="application/json">(.*?)</script>', html, re.S)
                      .group(1))


def test_the_district_board_adds_up_the_streets_and_links_each(two_streets):
    world, street, both, _officer = two_streets
    c = Client()
    verified_login(c, both)
    home = c.get("/cockpit/")
    assert home.status_code == 302 and home["Location"] == "/cockpit/district/0/"
    page = c.get("/cockpit/district/0/")
    assert page.status_code == 200
    data = c.get("/cockpit/district/0/data.json").json()
    figures = {f["key"]: f["text"] for f in data["figures"]}
    assert figures["houses"] == f"{House.objects.count():,}"
    current = Person.objects.filter(is_current=True).count()
    assert figures["population"] == f"{current:,}"
    rows = {r["name"]: r for r in data["children"]["rows"]}
    assert set(rows) == {world.street.name, "越溪街道"} and data["children"]["level"] == "street"
    assert rows["越溪街道"]["url"] == f"/cockpit/street/{street.pk}/" and rows["越溪街道"]["houses"] == "6"
    assert all(p["key"] not in ("quality.freshness", "cases.satisfaction") for p in data["panels"]), \
        "rates are read street by street, never added up"
    assert any(p["key"] == "cockpit.population" for p in data["panels"])
    assert c.get("/cockpit/district/0/map.json").status_code == 200
    street_page = c.get(f"/cockpit/street/{street.pk}/").content.decode()
    assert 'href="/cockpit/district/0/"' in street_page, "a street board leads back up to the district"


def test_one_street_has_no_district_board_and_its_home_is_the_street(world):
    c = Client()
    verified_login(c, world.users.command)
    assert c.get("/cockpit/")["Location"] == f"/cockpit/street/{world.street.pk}/"
    assert c.get("/cockpit/district/0/").status_code == 404
    verified_login(c, world.users.worker_a1)
    assert c.get("/cockpit/district/0/").status_code in (403, 404)


def test_a_user_granted_two_streets_lists_and_finds_the_people_of_both(two_streets):
    world, street, _both, officer = two_streets
    c = Client()
    c.force_login(officer)
    listed = c.get("/people/", {"q": "", "street_id": ""}).content.decode()
    assert "越溪居民0" in listed, "the second street's residents are listed with the first's"
    found = c.get("/people/", {"q": "越溪居民2"}).content.decode()
    assert "越溪居民2" in found
    other = Person.objects.exclude(street_id=street.pk).filter(is_current=True).order_by("id").first()
    assert other.name in c.get("/people/", {"q": other.name}).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_district_board_in_chromium_draws_the_streets_and_opens_one(page, two_streets, live_server):
    from cockpit.tests.test_browser import shot, wait_board, watch
    from conftest import PASSWORD, login

    _world, street, _both, officer = two_streets
    errors = watch(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, officer.username, PASSWORD)
    page.goto(f"{page.base_url}/cockpit/")
    wait_board(page)
    assert page.url.endswith("/cockpit/district/0/")
    assert page.locator(".ck-chart canvas").count() >= 3
    assert page.locator("a[data-child=street]").count() == 2
    shot(page, "cockpit-district")
    page.locator("a[data-child=street]", has_text="越溪街道").click()
    wait_board(page)
    assert page.url.endswith(f"/cockpit/street/{street.pk}/")
    assert errors == []
