"""The OpenAPI 3 schema: generated without warnings, and every operation fuzzed by schemathesis without a server
error or a response the schema does not describe."""

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from access.tokens import mint

# Bounded: 10 cases per operation (each twice on a detail path) is about 1,400 requests, 20–35 s on 2 cores.
EXAMPLES_PER_OPERATION = 10


def test_the_registry_schema_generates_without_warnings(tmp_path, db):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--urlconf", "tests.registry_api_urls",
                 "--file", str(out))
    text = out.read_text(encoding="utf-8")
    for path in ("/api/places/houses/{id}/", "/api/people/persons/{id}/move-in/",
                 "/api/people/residences/{id}/move-out/", "/api/people/persons/{id}/reveal/"):
        assert path in text
    assert "If-Match" in text and "Idempotency-Key" in text


def test_the_whole_api_schema_generates_without_warnings(tmp_path, db):
    """`manage.py spectacular --fail-on-warn` over every app's endpoints (/api/schema/)."""
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_the_schema_endpoint_serves_openapi_3(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


@pytest.fixture
def wsgi_app():
    """The real WSGI application, keeping the test's connection open between requests (as Django's test
    client does): closing it would end the test transaction on PostgreSQL."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# Who fuzzes each area: the role that works there (the longest matching prefix wins; worker_a1 elsewhere).
FUZZ_USERS = {
    "/api/": "worker_a1",
    "/api/places/compounds/": "officer_a",
    "/api/places/buildings/": "officer_a",
    "/api/people/enterprises/": "officer_a",
    "/api/fieldwork/changes/": "officer_a",
    "/api/circle/": "officer_a",
    "/api/circle/categories/": "sysadmin",
    "/api/cases/": "officer_a",
    "/api/mediation/": "officer_a",
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def fuzz_user(world, path: str):
    prefix = max((p for p in FUZZ_USERS if path.startswith(p)), key=len)
    return getattr(world.users, FUZZ_USERS[prefix])


def fuzz_objects(world) -> dict[str, int]:
    """One real object per detail path, so that the fuzzer also reads and writes existing records (a random id
    is only ever a 404): {path prefix: id}."""
    import uuid

    from cases.services import report
    from circle.models import Category
    from circle.services import FacilityData, save_facility
    from fieldwork.services import create_change_request, submit_visit
    from mediation.services import open_mediation
    from people.models import Residence
    from people.services import save_enterprise, save_tag
    from tests.test_generated_api import credit_code

    a1, officer = world.grids["A1"], world.users.officer_a
    person = world.people["张三"]
    case = report(None, channel="walk_in", category="neighbour-leak", title="楼上漏水纠纷",
                  description="楼上卫生间漏水", place=world.houses["A1"][0])
    category = Category.objects.get(code="canteen")
    facility = save_facility(officer, FacilityData(name="长者食堂", category=category, grid=a1, lat=31.38,
                                                   lng=120.63), recompute=False)
    return {
        "/api/places/streets/": world.street.pk,
        "/api/places/communities/": world.communities["A"].pk,
        "/api/places/grids/": a1.pk,
        "/api/places/compounds/": world.compounds["A1"].pk,
        "/api/places/buildings/": world.buildings["A1"].pk,
        "/api/places/houses/": world.houses["A1"][0].pk,
        "/api/people/persons/": person.pk,
        "/api/people/residences/": Residence.objects.filter(person=person).first().pk,
        "/api/people/enterprises/": save_enterprise(None, {
            "name": "活力科技", "credit_code": credit_code("91320507MA1WXY123"), "compound": world.compounds["A1"],
            "floor": 5, "room": "501"}).pk,
        "/api/people/tags/": save_tag(None, {"code": "elderly-alone", "name": "独居老人"}).pk,
        "/api/fieldwork/visits/": submit_visit(world.users.worker_a1, world.houses["A1"][0], client_id=uuid.uuid4(),
                                               items=[{"kind": "unchanged"}]).pk,
        "/api/fieldwork/changes/": create_change_request(house=world.houses["A1"][3], kind="change_use",
                                                         source="feedback", payload={"use": "rented"}).pk,
        "/api/circle/facilities/": facility.pk,
        "/api/circle/categories/": category.pk,
        "/api/cases/cases/": case.pk,
        "/api/mediation/mediations/": open_mediation(officer, case).pk,
    }


def describe(case, response, exc: BaseException) -> list[str]:
    """One line per failed check: the request, the status and the check's own title and first line."""
    failures = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    out = []
    for failure in failures:
        title = getattr(failure, "title", None) or type(failure).__name__
        message = (getattr(failure, "message", None) or str(failure)).strip().splitlines()
        out.append(f"{case.method} {case.operation.path} [{response.status_code}] {title}: "
                   f"{message[0] if message else ''}")
    return out


@pytest.fixture
def fuzz_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class Fuzzer:
    """Runs one operation's cases, each as generated and, for a detail path, again on a real object (with its
    current ETag as If-Match, so that a write gets past the version check), and records what every check said."""

    def __init__(self, wsgi_app, objects: dict[str, int]) -> None:
        from werkzeug.test import Client

        # Through the same WSGI application (Django's test client would reconnect close_old_connections).
        self.client = Client(wsgi_app)
        self.objects = objects
        self.failures: list[str] = []
        self.statuses: dict[str, set[int]] = {}  # printed with -s: what the run reached
        self.requests = 0
        self.keys: dict[int, str] = {}

    def run(self, operation, user) -> None:
        key = self.keys.get(user.pk) or self.keys.setdefault(user.pk, mint(user))
        headers = {"Authorization": f"Token {key}"}
        real_id = next((pk for prefix, pk in self.objects.items() if operation.path.startswith(prefix + "{id}")),
                       None)

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE))
        def each(case):
            self.call(case, headers)
            if real_id is not None and "id" in (case.path_parameters or {}):
                case.path_parameters = {**case.path_parameters, "id": real_id}
                if case.headers and "If-Match" in case.headers:
                    detail = operation.path.split("{id}")[0] + f"{real_id}/"
                    etag = self.client.get(detail, headers=headers).headers.get("ETag", "")
                    case.headers = {**case.headers, "If-Match": etag}
                self.call(case, headers)

        each()

    def call(self, case, headers: dict[str, str]) -> None:
        response = case.call(headers=headers)
        self.requests += 1
        self.statuses.setdefault(f"{case.method} {case.operation.path}", set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # collect: one run reports every failing operation
            self.failures.extend(describe(case, response, exc))


@pytest.mark.filterwarnings("ignore")
def test_fuzzing_every_operation_finds_no_server_error_and_no_schema_violation(world, wsgi_app, fuzz_settings):
    """schemathesis over every operation of /api/schema/, valid and invalid inputs, EXAMPLES_PER_OPERATION cases
    each, derandomized (the same cases every run). Each operation runs as the role that works in its area, once
    with the generated id and once with a real object's, and every response must be no 5xx, a documented status
    code, the documented content type and a body matching the documented schema."""
    import time

    started = time.monotonic()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    fuzzer = Fuzzer(wsgi_app, fuzz_objects(world))
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        fuzzer.run(operation, fuzz_user(world, operation.path))
        operations += 1
    print(f"schemathesis: {operations} operations, {fuzzer.requests} requests, {time.monotonic() - started:.1f} s")
    for key, codes in sorted(fuzzer.statuses.items()):
        print(f"  {key}: {sorted(codes)}")
    assert operations >= 85
    failures = sorted(set(fuzzer.failures))
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


def test_the_api_docs_page_loads_everything_from_our_own_server(client, db):
    import re

    from django.contrib.staticfiles import finders

    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources  # no CDN
    assert "<script>" not in html  # no inline script: the CSP allows none
    assert "'unsafe-inline'" not in page["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    for src in sources:
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/")), f"{src}: run `make assets`"
    script = next(s for s in sources if "script" in s and not s.startswith("/static/"))
    started = client.get(script.replace("&amp;", "&"))
    assert started.status_code == 200 and "SwaggerUIBundle" in started.content.decode()


# --- What the fuzzer found, each pinned by a test that failed before its fix -------------------
def whole_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_versioned_write_documents_if_match_as_required_and_its_412_and_428(db):
    """PUT/PATCH of a versioned record and the review actions need the version edited: If-Match is required (the
    `version` body field stays accepted for forms that cannot set a header), 412 and 428 are documented."""
    paths = whole_schema()["paths"]
    checked = 0
    for path, ops in paths.items():
        for method, op in ops.items():
            if not (method in ("put", "patch") or path.endswith(("/approve/", "/reject/"))):
                continue
            if_match = [p for p in op.get("parameters", []) if p["name"] == "If-Match"]
            if path.startswith("/api/people/tags/"):  # tags carry no version
                assert not if_match, path
                continue
            checked += 1
            assert if_match and if_match[0]["required"] is True, f"{method} {path}"
            assert {"412", "428"} <= set(op["responses"]), f"{method} {path}: {sorted(op['responses'])}"
    assert checked >= 20


def test_every_idempotent_post_documents_its_422_and_every_list_its_400(db):
    paths = whole_schema()["paths"]
    for path, ops in paths.items():
        for method, op in ops.items():
            names = {p["name"] for p in op.get("parameters", [])}
            if "Idempotency-Key" in names:
                assert "422" in op["responses"], f"{method} {path}"
            if method == "get" and "page" in names:
                assert "400" in op["responses"], f"{method} {path}"


def test_if_match_and_a_body_version_that_disagree_are_refused(world):
    """`If-Match: "2"` with `version: 1` in the body: the client does not know which version it edited."""
    from core.testing import api_client
    from places.models import House

    house = world.houses["A1"][5]
    House.objects.filter(pk=house.pk).update(version=2)
    client = api_client(world.users.worker_a1)
    url = f"/api/places/houses/{house.pk}/"
    response = client.patch(url, {"version": 1, "area": 77}, format="json", HTTP_IF_MATCH='"2"')
    assert response.status_code == 412, response.content
    assert "不一致" in response.json()["version"][0] and response.json()["current_version"] == 2
    house.refresh_from_db()
    assert house.area != 77 and house.version == 2
    assert client.patch(url, {"version": 2, "area": 77}, format="json", HTTP_IF_MATCH='"2"').status_code == 200


def test_a_change_review_with_if_match_and_a_disagreeing_version_is_refused(world, fuzz_settings):
    from core.testing import api_client
    from fieldwork.services import create_change_request

    cr = create_change_request(house=world.houses["A1"][3], kind="change_use", source="feedback",
                               payload={"use": "rented"})
    client = api_client(world.users.officer_a)
    response = client.post(f"/api/fieldwork/changes/{cr.pk}/approve/", {"version": cr.version + 1}, format="json",
                           HTTP_IF_MATCH=f'"{cr.version}"')
    assert response.status_code == 412 and "不一致" in response.json()["version"][0]


def test_unset_satisfaction_and_outcome_are_null_as_the_schema_says(world, fuzz_settings):
    from cases.services import report
    from core.testing import api_client
    from mediation.services import open_mediation

    officer = world.users.officer_a
    case = report(None, channel="walk_in", category="neighbour-leak", title="漏水", place=world.houses["A1"][0])
    mediation = open_mediation(officer, case)
    client = api_client(officer)
    assert client.get(f"/api/cases/cases/{case.pk}/").json()["satisfaction"] is None
    assert client.get("/api/cases/cases/").json()["results"][0]["satisfaction"] is None
    assert client.get(f"/api/mediation/mediations/{mediation.pk}/").json()["outcome"] is None
    schemas = whole_schema()["components"]["schemas"]
    assert schemas["Case"]["properties"]["satisfaction"]["nullable"] is True
    assert schemas["Mediation"]["properties"]["outcome"]["nullable"] is True


@pytest.mark.parametrize("query, parameter", [
    ("page=", "page"), ("page=abc", "page"), ("page=0", "page"), ("page=-1", "page"),
    ("page_size=", "page_size"), ("page_size=abc", "page_size"), ("page_size=0", "page_size"),
])
def test_an_empty_or_bad_page_or_page_size_is_a_400_naming_it(world, query, parameter):
    from core.testing import api_client

    response = api_client(world.users.worker_a1).get(f"/api/places/houses/?{query}")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [parameter]


def test_an_empty_filter_is_no_filter_but_pages_are_strict(world):
    """An empty filter parameter is "no filter" in every FilterSet (a list form submitted with
    its dropdowns at 全部 sends `status=`), so `?status=` lists what no parameter lists; `page` and `page_size` are
    not filters and are strict (above). A page past the end is a 404; a page size above 500 is cut to 500."""
    from core.testing import api_client

    client = api_client(world.users.officer_a)
    everything = client.get("/api/fieldwork/changes/").json()
    assert client.get("/api/fieldwork/changes/?status=").json() == everything
    houses = client.get("/api/places/houses/?page_size=501").json()
    assert len(houses["results"]) == houses["count"]
    assert client.get("/api/places/houses/?page=last&page_size=10").status_code == 200
    assert client.get("/api/places/houses/?page=999").status_code == 404


@pytest.mark.parametrize("path", [
    "/api/places/houses/abc/", "/api/cases/cases/1.5/", "/api/circle/categories/x/", "/api/circle/access/x/",
    "/api/mediation/mediations/%E4%B8%80/", "/api/people/persons/a.b/", "/api/fieldwork/changes/-/approve/",
])
def test_a_non_integer_id_is_a_json_404(world, path):
    from core.testing import api_client

    response = api_client(world.users.officer_a).get(path) if not path.endswith("approve/") else \
        api_client(world.users.officer_a).post(path, {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    assert response.json()["detail"]


@pytest.mark.parametrize("value", ["sq\x00uare", "x" * 500])
def test_a_slug_no_category_can_have_is_a_validation_error_not_a_database_error(world, value):
    """Found on PostgreSQL (NUL cannot be compared with text): PUT /api/circle/facilities/{id}/ with such a
    category answered 500."""
    from circle.api.serializers import FacilitySerializer
    from people.api.serializers import PersonSerializer

    for serializer in (FacilitySerializer(data={"category": value}), PersonSerializer(data={"tags": [value]})):
        assert not serializer.is_valid()
        assert set(serializer.errors) & {"category", "tags"}
