"""Every GeoReport v2 endpoint against the shapes and field names of the spec's documented examples
(wiki.open311.org/GeoReport_v2), in JSON and XML, plus API keys and the privacy rule."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from conftest import verified_login
from open311.admin_views import create_key
from open311.models import APIKey, RequestToken

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
PHONE = "13912345678"


@pytest.fixture
def api(world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    _key, raw = create_key(None, name="城市服务App")
    return raw


def post(client, fmt="json", **data):
    return client.post(f"/open311/v2/requests.{fmt}", data)


def a_request(api, **extra):
    data = {"api_key": api, "service_code": "sanitation-rubbish", "lat": "31.38", "long": "120.63",
            "address_string": "A1花园1幢楼下", "description": "垃圾桶满了三天没人清运，气味很大",
            "first_name": "三", "last_name": "张", "phone": PHONE, "email": "zhangsan@example.com",
            "device_id": "dev-1", "media_url": "https://img.example.com/1.jpg"}
    data.update(extra)
    return data


def test_services_json_lists_categories_with_the_spec_fields(api):
    r = Client().get("/open311/v2/services.json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, list) and len(body) > 10
    assert all(list(s) == SERVICE_FIELDS for s in body)
    rubbish = next(s for s in body if s["service_code"] == "sanitation-rubbish")
    assert rubbish["service_name"] == "垃圾堆放" and rubbish["group"] == "环境卫生"
    assert rubbish["metadata"] is False and rubbish["type"] == "realtime"


def test_services_xml_has_the_declaration_and_service_elements(api):
    r = Client().get("/open311/v2/services.xml")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml")
    assert r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(r.content)
    assert root.tag == "services"
    first = root.find("service")
    assert [c.tag for c in first] == SERVICE_FIELDS
    assert first.findtext("metadata") == "false"


def test_service_definition_answers_in_both_formats_and_404_for_an_unknown_code(api):
    c = Client()
    body = c.get("/open311/v2/services/property-lift.json").json()
    assert body == {"service_code": "property-lift", "attributes": []}
    root = ET.fromstring(c.get("/open311/v2/services/property-lift.xml").content)
    assert root.tag == "service_definition" and root.findtext("service_code") == "property-lift"
    assert root.find("attributes") is not None
    r = c.get("/open311/v2/services/nope.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404 and "nope" in r.json()[0]["description"]


def test_post_creates_a_case_through_report_and_answers_with_the_spec_fields(api, world):
    from cases.models import Case

    r = post(Client(), **a_request(api))
    assert r.status_code == 200, r.content
    body = r.json()
    assert list(body[0]) == ["service_request_id", "token", "service_notice", "account_id"]
    case = Case._base_manager.get(number=body[0]["service_request_id"])
    assert case.channel == "open311" and case.category.code == "sanitation-rubbish"
    assert case.compound == world.compounds["A1"]  # the nearest compound to the point
    assert case.reporter_phone_masked == "139****5678" and PHONE not in case.reporter_phone_enc
    assert RequestToken.objects.get(case=case).media_url == "https://img.example.com/1.jpg"
    assert APIKey.objects.get().requests_count == 1


def test_post_in_xml_answers_service_requests_request(api):
    r = post(Client(), "xml", **a_request(api))
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests"
    req = root.find("request")
    assert req.findtext("service_request_id").startswith("RF-") and req.find("account_id") is not None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_a_valid_api_key_is_refused_with_a_spec_error(api, fmt):
    from cases.models import Case

    for key in ("", "wrong-key"):
        r = post(Client(), fmt, **a_request(api, api_key=key))
        assert r.status_code == 403
        if fmt == "json":
            assert r.json()[0]["code"] == 403 and "api_key" in r.json()[0]["description"]
        else:
            root = ET.fromstring(r.content)
            assert root.tag == "errors" and root.find("error").findtext("code") == "403"
    assert Case._base_manager.count() == 0


def test_a_deactivated_key_no_longer_posts(api):
    APIKey.objects.update(is_active=False)
    assert post(Client(), **a_request(api)).status_code == 403


def test_post_errors_name_the_missing_or_bad_parameter(api):
    from cases.models import Case

    c = Client()
    r = post(c, **a_request(api, service_code=""))
    assert r.status_code == 400 and "service_code" in r.json()[0]["description"]
    r = post(c, **a_request(api, service_code="no-such"))
    assert r.status_code == 404
    r = post(c, **a_request(api, lat="", long="", address_string="火星"))
    assert r.status_code == 400 and "lat" in r.json()[0]["description"]
    r = post(c, **a_request(api, phone="12345"))
    assert r.status_code == 400 and "phone" in r.json()[0]["description"]
    assert Case._base_manager.count() == 0


def test_an_address_naming_a_compound_is_enough_without_a_point(api, world):
    from cases.models import Case

    r = post(Client(), **a_request(api, lat="", long="", address_string="B1花园东门口"))
    assert r.status_code == 200
    assert Case._base_manager.get().compound == world.compounds["B1"]


def test_get_requests_never_shows_the_residents_name_phone_or_email(api):
    c = Client()
    post(c, **a_request(api, description=f"联系我 {PHONE}，身份证 320507198001010019，垃圾没人收"))
    for fmt in ("json", "xml"):
        for url in (f"/open311/v2/requests.{fmt}",):
            text = c.get(url).content.decode()
            assert "张" not in text.replace("张贴", "")
            assert PHONE not in text and "zhangsan@example.com" not in text and "320507198001010019" not in text
            assert "139****5678" in text  # the number in the text is masked, not dropped silently


def test_get_requests_json_has_every_spec_field(api):
    c = Client()
    number = post(c, **a_request(api)).json()[0]["service_request_id"]
    body = c.get("/open311/v2/requests.json").json()
    assert [list(r) for r in body] == [REQUEST_FIELDS]
    row = body[0]
    assert row["service_request_id"] == number and row["status"] == "open"
    assert row["requested_datetime"].endswith("+08:00") and row["expected_datetime"]
    assert row["lat"] == 31.38 and row["long"] == 120.63
    assert row["media_url"] == "https://img.example.com/1.jpg"


def test_get_requests_xml_has_every_spec_field(api):
    c = Client()
    post(c, **a_request(api))
    root = ET.fromstring(c.get("/open311/v2/requests.xml").content)
    assert root.tag == "service_requests"
    assert [e.tag for e in root.find("request")] == REQUEST_FIELDS


def test_get_requests_filters_by_id_code_status_and_dates(api):
    from cases.models import Case
    from cases.services import transition

    c = Client()
    first = post(c, **a_request(api)).json()[0]["service_request_id"]
    second = post(c, **a_request(api, service_code="property-lift", description="电梯坏了")).json()[0][
        "service_request_id"]
    ids = lambda q: [r["service_request_id"] for r in c.get(f"/open311/v2/requests.json?{q}").json()]  # noqa: E731
    assert ids(f"service_request_id={first}") == [first]
    assert set(ids(f"service_request_id={first},{second}")) == {first, second}
    assert ids("service_code=property-lift") == [second]
    transition(None, Case._base_manager.get(number=first), "reject", reason="与已有工单重复")
    assert ids("status=closed") == [first]
    assert ids("status=open") == [second]
    assert ids("start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z") == []
    closed = c.get(f"/open311/v2/requests/{first}.json").json()[0]
    assert closed["status"] == "closed" and "重复" in closed["status_notes"]
    r = c.get("/open311/v2/requests.json?start_date=yesterday")
    assert r.status_code == 400 and "start_date" in r.json()[0]["description"]
    assert c.get("/open311/v2/requests.json?status=pending").status_code == 400


def test_get_one_request_and_404_in_both_formats(api):
    c = Client()
    number = post(c, **a_request(api)).json()[0]["service_request_id"]
    assert c.get(f"/open311/v2/requests/{number}.json").json()[0]["service_request_id"] == number
    root = ET.fromstring(c.get(f"/open311/v2/requests/{number}.xml").content)
    assert root.find("request").findtext("service_request_id") == number
    r = c.get("/open311/v2/requests/RF-1999-000001.xml")
    assert r.status_code == 404 and ET.fromstring(r.content).find("error").findtext("code") == "404"


def test_cases_of_other_channels_are_not_listed(api, world):
    from cases.services import report

    case = report(None, channel="resident", category="property-lift", title="电梯坏了", place=world.compounds["A1"],
                  reporter_name="李四", reporter_phone="13800138000")
    c = Client()
    assert c.get("/open311/v2/requests.json").json() == []
    assert c.get(f"/open311/v2/requests/{case.number}.json").status_code == 404


def test_token_leads_to_the_service_request_id(api):
    c = Client()
    body = post(c, **a_request(api)).json()[0]
    got = c.get(f"/open311/v2/tokens/{body['token']}.json").json()
    assert got == [{"service_request_id": body["service_request_id"], "token": body["token"]}]
    root = ET.fromstring(c.get(f"/open311/v2/tokens/{body['token']}.xml").content)
    assert root.find("request").findtext("service_request_id") == body["service_request_id"]
    assert c.get("/open311/v2/tokens/nope.json").status_code == 404


def test_jurisdiction_id_is_accepted_when_known_and_refused_when_not(api, world):
    c = Client()
    assert c.get("/open311/v2/services.json?jurisdiction_id=renfang").status_code == 200
    assert c.get(f"/open311/v2/services.json?jurisdiction_id={world.street.code}").status_code == 200
    r = c.get("/open311/v2/services.json?jurisdiction_id=sf.gov")
    assert r.status_code == 404 and "jurisdiction_id" in r.json()[0]["description"]
    assert post(c, **a_request(api, jurisdiction_id=world.street.code)).status_code == 200


def test_discovery_lists_the_v2_endpoint(api):
    c = Client()
    body = c.get("/open311/discovery.json").json()
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    root = ET.fromstring(c.get("/open311/discovery.xml").content)
    assert root.find("endpoints/endpoint/formats/format").text == "text/xml"


def test_only_the_system_admin_manages_keys_and_sees_the_key_once(world):
    c = Client()
    verified_login(c, world.users.sysadmin)
    r = c.post("/open311/keys/", {"name": "12345热线对接"})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    key = APIKey.objects.get(name="12345热线对接")
    raw = r.context["new_key"]
    assert APIKey.digest(raw) == key.key_hash and raw not in c.get("/open311/keys/").content.decode()
    for persona in ("officer_a", "worker_a1", "command", "resident"):
        other = Client()
        verified_login(other, getattr(world.users, persona))
        assert other.get("/open311/keys/").status_code == 403
        assert other.post(f"/open311/keys/{key.pk}/deactivate/").status_code == 403
    assert Client().get("/open311/keys/").status_code == 302
    assert c.post(f"/open311/keys/{key.pk}/deactivate/").status_code == 302
    assert not APIKey.objects.get(pk=key.pk).is_active


def test_json_posts_of_the_spec_are_form_encoded_and_need_no_csrf_token(api):
    c = Client(enforce_csrf_checks=True)
    assert post(c, **a_request(api)).status_code == 200
    assert json.loads(c.get("/open311/v2/requests.json").content)


@pytest.mark.parametrize("query", ["end_date=9999-12-31T23:59:59-14:00", "start_date=0001-01-01T00:00:00%2B14:00",
                                   "start_date=2026-02-30T08:00:00%2B08:00", "end_date=99999-01-01"])
def test_a_date_at_the_edge_of_the_calendar_is_a_400_naming_it_never_a_server_error(api, query):
    """Anonymous clients reach this endpoint: the window around a date at year 1 or 9999 would overflow."""
    r = Client().get(f"/open311/v2/requests.json?{query}")
    assert r.status_code == 400, r.content[:300]
    assert query.split("=")[0] in r.json()[0]["description"]


def test_a_point_outside_the_jurisdiction_is_told_so_and_nothing_is_saved(api):
    from cases.models import Case

    r = post(Client(), **a_request(api, lat="39.9042", long="116.4074"))  # Beijing, far from the demo street
    assert r.status_code == 400
    text = r.json()[0]["description"]
    assert "不在本平台服务的辖区内" in text and "39.904200" in text
    assert Case._base_manager.count() == 0
