"""Each list's real filter form, submitted with its defaults (dropdowns at 全部, an empty search box) and one filter
chosen, lists the same rows as the address holding only that filter: an empty parameter is no filter (UI, API and
export alike), and a value beyond range is answered with a message, never a server error."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.http import QueryDict


class FormFields(HTMLParser):
    """The named fields of the first ``<form method="get">`` of a page and the values a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.options: dict[str, list[str]] = {}
        self._in_form = self._done = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._first: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and (a.get("method") or "").lower() == "get":
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "checkbox", "radio"):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select, self._select_value, self._first = a["name"], None, None
            self.options[a["name"]] = []
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            self.options[self._select].append(value)
            if self._first is None:
                self._first = value
            if "selected" in a:
                self._select_value = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            self.fields.append((self._select, self._select_value if self._select_value is not None else
                                self._first or ""))
            self._select = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_of(client, url: str) -> FormFields:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = FormFields()
    parser.feed(response.content.decode())
    assert parser.fields, f"{url}: no filter form"
    return parser


def rows(client, url: str, query: str) -> list[str]:
    response = client.get(f"{url}?{query}")
    assert response.status_code == 200, (url, query, response.status_code)
    html = response.content.decode()
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr[ >].*?</tr>", body, flags=re.S)


def submit_defaults_with(client, url: str, name: str, value: str | None = None) -> tuple[list[str], list[str]]:
    """The list's form as rendered, every field at its default, ``name`` set (to its first real option if no
    ``value``); returns the rows it lists and the rows of ``?name=value`` alone."""
    form = form_of(client, url)
    names = [n for n, _ in form.fields]
    assert name in names, (url, names)
    if value is None:
        value = next(v for v in form.options[name] if v)
    assert any(v == "" for n, v in form.fields if n != name), f"{url}: the form has no empty default to test"
    submitted = [(n, value if n == name else v) for n, v in form.fields]
    return rows(client, url, urlencode(submitted)), rows(client, url, urlencode({name: value}))


@pytest.fixture
def officer(client, world):
    client.force_login(world.users.officer_a)
    return client


@pytest.mark.parametrize(("url", "name"), [
    ("/places/grids/", "community_id"),
    ("/places/compounds/", "grid_id"),
    ("/places/buildings/", "grid_id"),
    ("/places/houses/", "use"),
    ("/places/houses/", "grid_id"),
    ("/people/", "grid_id"),
    ("/people/", "residency_type"),
])
def test_a_list_form_submitted_with_its_defaults_and_one_filter_lists_that_filters_rows(officer, world, url, name):
    value = None
    if url == "/people/" and name == "residency_type":
        value = "registered"
    submitted, alone = submit_defaults_with(officer, url, name, value)
    assert submitted, f"{url} with {name} and the form's defaults lists nothing"
    assert submitted == alone


def test_the_people_list_with_empty_parameters_lists_what_the_filled_ones_alone_list(officer, world):
    grid = world.grids["A1"].pk
    submitted = rows(officer, "/people/", f"q=&grid_id={grid}&residency_type=&tag=&is_current=")
    assert len(submitted) == 4
    assert submitted == rows(officer, "/people/", f"grid_id={grid}")


def test_the_houses_list_with_empty_parameters_lists_what_the_filled_ones_alone_list(officer, world):
    submitted = rows(officer, "/places/houses/", "q=&use=owner&compound_id=&building_id=")
    assert submitted and submitted == rows(officer, "/places/houses/", "use=owner")


def test_the_enterprise_list_form_with_its_defaults_lists_the_enterprise_searched(officer, world):
    from people.models import Enterprise

    Enterprise.objects.create(name="元和便利店", street=world.street, community=world.communities["A"],
                              grid=world.grids["A1"], compound=world.compounds["A1"])
    submitted, alone = submit_defaults_with(officer, "/people/enterprises/", "q", "便利店")
    assert len(submitted) == 1 and submitted == alone


def test_the_case_queue_form_with_its_defaults_and_one_filter_lists_the_case(client, world, settings):
    from cases import services
    from cases.tests.conftest import build_cases

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    cw = build_cases(world)
    for priority in ("urgent", "normal"):
        services.report(world.users.worker_a1, channel="worker", category=cw.category, title=f"楼道灯坏了 {priority}",
                        place=world.houses["A1"][0], priority=priority)
    client.force_login(world.users.officer_a)
    submitted, alone = submit_defaults_with(client, "/cases/queue/", "priority", "urgent")
    assert len(submitted) == 1 and submitted == alone


@pytest.mark.parametrize("path", ["/people/", "/places/houses/", "/cases/"])
def test_a_nul_character_in_a_parameter_is_a_chinese_400_page_naming_it_before_any_query(officer, world, path):
    """NUL cannot be stored or compared in PostgreSQL text: answered by core.middleware.BadInputMiddleware with
    the standalone 400 page (no user or database needed), on every page alike."""
    response = officer.get(f"{path}?tag=%00&q=x")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error="400"' in html and "请求有误" in html and "参数 tag 含有不允许的空字符" in html


def test_the_api_and_the_export_take_an_empty_parameter_as_no_filter(officer, world):
    from people.exporter import export_queryset

    grid = world.grids["A1"].pk
    api = officer.get(f"/api/people/persons/?grid_id={grid}&tag=&residency_type=&is_current=&q=")
    assert api.status_code == 200
    assert api.json()["count"] == 4
    rows_ = export_queryset(world.users.officer_a, "person", QueryDict(f"grid_id={grid}&tag=&residency_type="))
    assert rows_.count() == 4


@pytest.mark.parametrize("query", ["age_max=4.13e16", "age_min=-1", "grid_id=99999999999999999999",
                                   "grid_id=1e19"])
def test_a_value_out_of_range_on_the_people_list_is_said_on_the_page_not_a_server_error(officer, world, query):
    response = officer.get(f"/people/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist filter-errors"' in html
    label = {"age": "年龄", "grid": "网格", "tag": "人群标签"}[re.match(r"[a-z]+", query)[0]]
    assert label in html.split('class="errorlist filter-errors"', 1)[1].split("</ul>", 1)[0]
