"""The building view (楼栋图): every house of the building by unit and floor, coloured by use and occupancy."""

import re

from django.urls import reverse

from people.services import PersonData, save_person
from places.models import House


def cells(page: str) -> dict[int, str]:
    """{house id: the cell's CSS classes}."""
    found = re.findall(r'<a class="(cell [^"]*)" href="[^"]*"[^>]*data-house="(\d+)"', page)
    return {int(pk): css for css, pk in found}


def test_building_view_shows_every_house_of_the_building(client, world):
    client.force_login(world.users.worker_a1)
    building = world.buildings["A1"]
    page = client.get(reverse("places:building", args=[building.pk])).content.decode()
    shown = cells(page)
    assert set(shown) == {h.pk for h in House.objects.filter(building=building)}
    for house in world.houses["A1"]:
        assert reverse("places:house", args=[house.pk]) in page


def test_cells_are_coloured_by_use_and_occupancy(client, world):
    houses = world.houses["A1"]
    House.objects.filter(pk=houses[0].pk).update(use="owner")       # 2 residents (fixture)
    House.objects.filter(pk=houses[1].pk).update(use="vacant")      # 2 residents: registered vacant, yet lived in
    House.objects.filter(pk=houses[2].pk).update(use="rented")      # nobody
    House.objects.filter(pk=houses[3].pk).update(use="commercial")  # nobody
    House.objects.filter(pk=houses[4].pk).update(use="vacant")      # nobody
    client.force_login(world.users.worker_a1)
    page = client.get(reverse("places:building", args=[world.buildings["A1"].pk])).content.decode()
    shown = cells(page)
    assert shown[houses[0].pk] == "cell use-owner occ-lived"
    assert shown[houses[1].pk] == "cell use-vacant occ-mismatch"
    assert shown[houses[2].pk] == "cell use-rented occ-empty"
    assert shown[houses[3].pk] == "cell use-commercial occ-empty"
    assert shown[houses[4].pk] == "cell use-vacant occ-empty"
    for label in ("自住", "出租", "空置", "商用"):
        assert label in page  # the legend


def test_cells_show_the_resident_count(client, world):
    house = world.houses["A1"][0]
    save_person(None, PersonData(name="新住户"), house=house, relation="", source="test")
    client.force_login(world.users.worker_a1)
    page = client.get(reverse("places:building", args=[world.buildings["A1"].pk])).content.decode()
    cell = re.search(rf'data-house="{house.pk}">(.*?)</a>', page, re.S).group(1)
    assert "3人" in cell and house.room in cell


def test_top_floor_is_at_the_top_and_units_are_columns(client, world):
    client.force_login(world.users.worker_a1)
    page = client.get(reverse("places:building", args=[world.buildings["A1"].pk])).content.decode()
    unit1 = page.split("1单元</h3>")[1].split("2单元</h3>")[0]
    assert unit1.index("6层") < unit1.index("5层") < unit1.index("1层")
    assert unit1.index("601") < unit1.index("101")
    assert "2单元</h3>" in page


def test_building_view_of_another_grid_is_a_404(client, world):
    client.force_login(world.users.worker_a1)
    assert client.get(reverse("places:building", args=[world.buildings["B1"].pk])).status_code == 404


def test_building_view_takes_the_same_queries_for_a_tall_building(client, world, django_assert_max_num_queries):
    building = world.buildings["A1"]
    building.floors = 30
    building.save(update_fields=["floors"])
    House.objects.bulk_create([
        House(building=building, compound=building.compound, grid=building.grid, community=building.community,
              street=building.street, unit=u, floor=f, room=f"{f}0{r}", use="rented")
        for u in ("1", "2", "3") for f in range(7, 31) for r in (1, 2, 3)])
    client.force_login(world.users.worker_a1)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("places:building", args=[building.pk]))
    assert len(cells(response.content.decode())) == House.objects.filter(building=building).count()


def test_building_view_works_at_phone_width(client, world):
    """The layout is one column of units that scroll sideways (CSS), with the viewport meta for phones."""
    client.force_login(world.users.worker_a1)
    page = client.get(reverse("places:building", args=[world.buildings["A1"].pk])).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert page.count('class="bv-scroll"') == 2


def test_buildings_sort_in_natural_order_1_2_10_not_1_10_2(world):
    from core.querysets import natural
    from places.models import Building

    comp = world.compounds["A1"]
    for n in ("10", "2", "11"):
        Building.objects.create(compound=comp, number=n, floors=3, units=1)
    numbers = list(Building.objects.filter(compound=comp).order_by(*natural("number"))
                   .values_list("number", flat=True))
    assert numbers == ["1", "2", "10", "11"]
