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
