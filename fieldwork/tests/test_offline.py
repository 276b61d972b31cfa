"""The installable workbench on the server side (issue 18): the manifest, the service worker, the round the phone
keeps, the 409 a queued visit gets with both versions, and the logout that tells the phone to forget."""

from __future__ import annotations

import json
import re

from django.contrib.staticfiles import finders
from django.urls import reverse

from fieldwork import services
from fieldwork.pwa import ROUND_LIMIT, SHELL
from fieldwork.tests.conftest import fresh, new_id
from people.models import Residence


def test_the_manifest_names_the_workbench_in_chinese_with_icons_that_exist(client, fw):
    client.force_login(fw.users.worker_a1)
    response = client.get(reverse("webmanifest"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] == "人房·网格员" and data["start_url"] == "/fieldwork/today/" and data["scope"] == "/"
    assert data["display"] == "standalone" and data["theme_color"].startswith("#")
    assert {i["sizes"] for i in data["icons"]} == {"192x192", "512x512"}
    for icon in data["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]
    english = client.get(reverse("webmanifest"), HTTP_ACCEPT_LANGUAGE="en")
    assert json.loads(english.content)["name"] == "Renfang · Grid worker"


def test_the_service_worker_covers_the_site_is_revalidated_and_precaches_only_existing_static_files(client, fw):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    config = json.loads(re.search(r"var CONFIG = (\{.*\});", response.content.decode()).group(1))
    assert config["shell"] and len(config["shell"]) == len(SHELL)
    for url in config["shell"]:
        assert url.startswith("/static/") and finders.find(url.removeprefix("/static/")), url
    assert config["today"] == "/fieldwork/today/" and config["house"] == "/fieldwork/houses/"
    assert client.get(config["offline"]).status_code == 200  # precached without cookies: open to anyone
    assert "http://" not in response.content.decode() and "https://" not in response.content.decode()  # no CDN


def test_the_workbench_pages_link_the_manifest_and_name_the_owner_of_the_phones_data(client, fw):
    client.force_login(fw.users.worker_a1)
    page = client.get("/fieldwork/today/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert f'data-user="{fw.users.worker_a1.pk}"' in page and 'data-max-age="43200000"' in page
    assert re.search(r'data-start="\d{13}"', page)


def test_the_round_names_todays_list_and_its_house_pages_and_nothing_else(client, fw):
    from quality.services import worklist

    client.force_login(fw.users.worker_a1)
    data = client.get(reverse("fieldwork:round")).json()
    items = worklist(fresh(fw.users.worker_a1), mine_or_unassigned=fresh(fw.users.worker_a1), limit=ROUND_LIMIT)
    assert data["houses"] == [f"/fieldwork/houses/{i.house_id}/" for i in items]
    assert data["pages"][0] == "/fieldwork/today/"
    assert data["owner"]["user"] == fw.users.worker_a1.pk and data["csrf"]
    other_grid = {h.pk for h in fw.houses["A2"]} | {h.pk for h in fw.houses["B1"]}
    assert not {int(u.split("/")[-2]) for u in data["houses"]} & other_grid
    # Every house page named is masked: no full resident ID or mobile number in it.
    for url in data["houses"][:4]:
        html = client.get(url).content.decode()
        assert not re.search(r"(?<![\d-])(\d{17}[\dXx]|1[3-9]\d{9})(?![\d-])", html)


def test_a_queued_visit_in_conflict_gets_both_versions_and_nothing_of_it_is_saved(client, fw):
    house = fw.houses["A1"][0]
    spouse = Residence.objects.get(house=house, moved_out__isnull=True, relation="spouse").person
    client.force_login(fw.users.worker_a1)
    version = house.version
    services.submit_visit(
        fresh(fw.users.officer_a),
        house,
        client_id=new_id(),
        house_version=version,
        items=[services.VisitItem("move_out", spouse.pk, {"reason": "搬家"})],
    )
    response = client.post(
        f"/fieldwork/houses/{house.pk}/",
        {"client_id": new_id(), "house_version": version, "new_use": "rented"},
        HTTP_X_FIELDWORK_DRAFT="1",
    )
    assert response.status_code == 409
    data = response.json()
    assert data["ok"] is False and data["conflict"]
    assert any("出租" in m for m in data["mine"])
    assert any("officer_a" in t for t in data["theirs"]) and any("现住人员" in t for t in data["theirs"])
    assert spouse.name not in " ".join(data["theirs"])
    house.refresh_from_db()
    assert house.use == "owner"


def test_logout_tells_the_browser_to_clear_caches_and_storage(client, fw):
    client.force_login(fw.users.worker_a1)
    response = client.post(reverse("access:logout"))
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert response["Location"].endswith("?signed_out=1")
    login = client.get(response["Location"]).content.decode()
    assert '<meta name="renfang-clear-offline" content="1">' in login
