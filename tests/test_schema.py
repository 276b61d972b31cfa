"""The OpenAPI 3 schema: generated without warnings, and fuzzed by schemathesis without a server error."""

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

# Bounded: a few examples per operation keeps the run well under a minute on 2 cores.
EXAMPLES_PER_OPERATION = 3


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


@pytest.mark.filterwarnings("ignore")
def test_fuzzing_every_operation_as_a_grid_worker_never_gives_a_server_error(world, wsgi_app):
    app = wsgi_app
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    token = Token.objects.create(user=world.users.worker_a1).key
    headers = {"Authorization": f"Token {token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(("/api/places/", "/api/people/")):
            continue
        operations += 1

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE))
        def run(case):
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=[not_a_server_error], headers=headers)
            except (Exception, BaseExceptionGroup) as exc:  # collect: one run reports every failing operation
                failures.append(f"{case.method} {case.formatted_path}: {str(exc).splitlines()[0]}")

        run()
    assert operations >= 40
    assert not failures, "\n".join(sorted(set(failures)))


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
