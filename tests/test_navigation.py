"""The menu shows what the user's grants open, and nothing else."""

from conftest import verified_login


def nav_links(client) -> set[str]:
    html = client.get("/").content.decode()
    nav = html[html.index('class="mainnav"'):html.index("</nav>")]
    return {href for href in ("/circle/", "/people/import/", "/access/users/", "/access/roles/", "/access/grants/",
                              "/access/audit/") if f'href="{href}"' in nav}


def test_grid_worker_menu_has_the_service_circle_but_no_import_or_access_pages(world, client):
    client.force_login(world.users.worker_a1)
    assert nav_links(client) == {"/circle/"}


def test_community_officer_menu_adds_import(world, client):
    client.force_login(world.users.officer_a)
    assert nav_links(client) == {"/circle/", "/people/import/"}


def test_each_of_the_three_duties_sees_only_its_own_pages(world, client):
    client.force_login(world.users.auditor)
    assert nav_links(client) == {"/access/audit/"}
    verified_login(client, world.users.secadmin)
    assert {"/access/roles/", "/access/grants/"} <= nav_links(client)
    assert "/access/audit/" not in nav_links(client)
    verified_login(client, world.users.sysadmin)
    assert "/access/users/" in nav_links(client) and "/access/audit/" not in nav_links(client)


def test_the_menu_speaks_english(world, client):
    client.force_login(world.users.officer_a)
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert ">Service circle<" in html and ">Import<" in html


def _own_links(client) -> set[str]:
    html = client.get("/").content.decode()
    nav = html[html.index('class="mainnav"'):html.index("</nav>")]
    return {href for href in ("/activities/", "/resources/", "/meetings/org/", "/volunteers/me/",
                              "/activities/staff/", "/resources/staff/", "/meetings/") if f'href="{href}"' in nav}


def test_a_resident_finds_the_activities_and_the_bookable_rooms_in_the_menu(world, client):
    client.force_login(world.users.resident)
    assert _own_links(client) == {"/activities/", "/resources/"}


def test_an_organisations_member_finds_their_organisations_work_and_a_volunteer_their_page(world, client):
    from django.contrib.auth import get_user_model

    from meetings.models import Organisation, OrgMember
    from volunteers.models import Volunteer

    member = get_user_model().objects.create_user("org_member")
    org = Organisation.objects.create(kind="enterprise", name="苏州示范科技有限公司", street=world.street,
                                      community=world.communities["A"])
    OrgMember.objects.create(user=member, organisation=org)
    client.force_login(member)
    assert _own_links(client) == {"/activities/", "/resources/", "/meetings/org/"}
    person = world.people["张三"]
    Volunteer.objects.create(person=person, user=member, number="V0001", joined_on="2026-01-01", street=world.street,
                             community=world.communities["A"])
    assert _own_links(client) == {"/activities/", "/resources/", "/meetings/org/", "/volunteers/me/"}
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert ">Book a room<" in html and ">My organisation<" in html


def test_staff_menus_keep_their_staff_pages_and_not_the_residents_links(world, client):
    client.force_login(world.users.worker_a1)
    links = _own_links(client)
    assert "/activities/" not in links and "/resources/" not in links and "/meetings/org/" not in links
