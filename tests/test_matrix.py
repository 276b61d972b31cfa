"""The access matrix: personas × models × actions × in/out of scope, for ``.restrict()`` and for every UI view
and API endpoint on a place or personal-data model (security.md, Authorization and scoping).

The expectations do not come from the code under test: which places each persona's grant reaches is written
out below from conftest.py's personas, and which actions a role allows is the role table of core/roles.py
(the policy, as data). The endpoints are discovered from the URL resolver (namespaces ``places``, ``people``
and their ``-api`` twins), so a page that lands later is tested as soon as it exists; the meta-test fails
when an endpoint on one of these models is neither classified automatically (core's base views and the API's
viewsets) nor listed in ``TABLE``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import build_world, resident_id, verified_login
from core.roles import DEFAULT_ROLES, _extra
from people.models import Enterprise, Person, Residence
from people.services import PersonData, save_person
from places.models import Building, Community, Compound, Grid, House, Street

MODELS = [Street, Community, Grid, Compound, Building, House, Person, Residence, Enterprise]
PERSONAL_MODELS = {House, Person, Residence, Enterprise}
ACTIONS = ["view", "add", "change", "delete", "reveal", "export"]
NAMESPACES = {"places", "people", "places-api", "people-api"}
SIDES = ["A1", "B1", "S2"]  # grid A1 (community A), grid B1 (community B), and a second street nobody holds

# persona → (role, the level of its grant, the side its place is on)
PERSONAS = {
    "worker_a1": ("grid_worker", "grid", "A1"),
    "worker_b1": ("grid_worker", "grid", "B1"),
    "officer_a": ("community_officer", "community", "A1"),
    "command": ("command_centre", "street", "street1"),
    "sysadmin": ("system_admin", "street", "street1"),
    "secadmin": ("security_admin", "street", "street1"),
    "auditor": ("auditor", "street", "street1"),
    "resident": ("resident", "self", None),
    "nobody": (None, None, None),
}
AGGREGATE_ONLY = {"command"}

# Endpoints the automatic classification cannot read, by URL name.
TABLE: dict[str, dict] = {
    "people:search": {"model": Person, "kind": "ui_search"},
    # Autocomplete: POSTed as the user types (a number never in a URL); answers like the search, in a fragment.
    "people:suggest": {"model": Person, "kind": "ui_search"},
    "people:person_reveal": {"model": Person, "kind": "ui_reveal"},
    "people-api:person-reveal": {"model": Person, "kind": "api_action", "perm": "reveal",
                                 "body": {"field": "id_number", "purpose": "矩阵测试核对"}},
    "people-api:person-search": {"model": Person, "kind": "api_search"},
    # Import and export: a permission held anywhere opens the page; the rows stay inside the user's places.
    "people:import": {"model": Person, "kind": "ui_model_perm", "perm": "import"},
    "people:import_template": {"model": Person, "kind": "ui_no_data"},
    "people:export": {"model": Person, "kind": "ui_export", "perm": "export"},
    "people:export_requests": {"model": Person, "kind": "ui_model_perm", "perm": "export"},
    "people:export_request": {"model": Person, "kind": "ui_model_perm", "perm": "export"},
    # An import job is its uploader's alone.
    "people:import_job": {"model": Person, "kind": "ui_owned"},
    "people:import_progress": {"model": Person, "kind": "ui_owned"},
    "people:import_errors": {"model": Person, "kind": "ui_owned"},
    "people:import_commit": {"model": Person, "kind": "ui_owned", "method": "post"},
    "people:import_create_places": {"model": Person, "kind": "ui_owned", "method": "post"},
}
OWNER = "officer_a"  # the uploader of the import job the ``ui_owned`` endpoints are tried on


def reaches(persona: str, model, side: str) -> bool:
    """Whether the persona's grant reaches the object of ``model`` on ``side`` (written from the personas)."""
    role, level, place = PERSONAS[persona]
    if role is None or level == "self":
        return False
    if level == "street":
        return side in ("A1", "B1")  # every place of street 1; the second street is nobody's
    if model is Street:
        return side in ("A1", "B1")  # their street is visible to every grant inside it (side A1/B1 share it)
    if level == "community":
        return side == place
    # a grid grant: the grid and what is under it, plus its community's own row
    if model is Community:
        return side == place
    return side == place


def allows(persona: str, model, action: str) -> bool:
    role = PERSONAS[persona][0]
    if role is None:
        return False
    perms = set(DEFAULT_ROLES[role]["perms"]) | set(_extra.get(role, []))
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}" in perms


def expected(persona: str, model, action: str, side: str) -> bool:
    return allows(persona, model, action) and reaches(persona, model, side)


# --- the world: conftest's street, plus a second street that no persona holds ---------------------------------------
@dataclass
class Matrix:
    world: object
    objects: dict = field(default_factory=dict)  # (model, side) → instance
    clear: dict = field(default_factory=dict)  # person pk → clear ID number


def build_matrix() -> Matrix:
    world = build_world()
    s2 = Street.objects.create(name="其他街道", code="320507002")
    c2 = Community.objects.create(street=s2, name="社区C")
    g2 = Grid.objects.create(community=c2, name="C1网格", code="C1")
    comp2 = Compound.objects.create(grid=g2, name="C1花园")
    b2 = Building.objects.create(compound=comp2, number="1", floors=6, units=1)
    h2 = House.objects.create(building=b2, floor=1, room="101", use="owner")
    p2 = save_person(None, PersonData(name="欧阳修", id_number=resident_id("32050719700101009"),
                                      phone="13600136000"), house=h2, relation="householder",
                     moved_in=dt.date(2020, 1, 1), accept_warnings=True, source="test")
    m = Matrix(world)
    comps = {"A1": world.compounds["A1"], "B1": world.compounds["B1"], "S2": comp2}
    for side, comp in comps.items():
        ent = Enterprise(name=f"{side}企业", credit_code=f"91320507MA1{side}XY12Q"[:18].ljust(18, "0"), compound=comp)
        ent.set_contact_phone("13500135000")
        ent.save()
        m.objects[(Enterprise, side)] = ent
    for side in ("A1", "B1"):
        grid = world.grids[side]
        m.objects[(Street, side)] = world.street
        m.objects[(Community, side)] = grid.community
        m.objects[(Grid, side)] = grid
        m.objects[(Compound, side)] = world.compounds[side]
        m.objects[(Building, side)] = world.buildings[side]
        m.objects[(House, side)] = world.houses[side][0]
        person = Person.objects.filter(grid=grid).order_by("id").first()
        m.objects[(Person, side)] = person
        m.objects[(Residence, side)] = Residence.objects.filter(person=person).first()
    for model, obj in [(Street, s2), (Community, c2), (Grid, g2), (Compound, comp2), (Building, b2), (House, h2),
                       (Person, p2), (Residence, Residence.objects.get(person=p2))]:
        m.objects[(model, "S2")] = obj
    for (model, _side), obj in m.objects.items():
        if model is Person:
            m.clear[obj.pk] = obj.reveal_id_number()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from people.iomodels import ImportJob

    sheet = Path(settings.MEDIA_ROOT) / "matrix-import.csv"
    sheet.parent.mkdir(parents=True, exist_ok=True)
    sheet.write_text("小区,楼栋,单元,房号,姓名,身份证号\n", encoding="utf-8")
    m.objects["import_job"] = ImportJob.objects.create(
        user=get_user_model().objects.get(username=OWNER), file_name="matrix.csv", file_path=str(sheet),
        file_sha256="0" * 64, size=sheet.stat().st_size)
    return m


@pytest.fixture
def matrix(db) -> Matrix:
    return build_matrix()


def user_of(m: Matrix, persona: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=persona)


# --- 1. the queryset ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_restrict_matches_the_matrix_for_every_model_action_and_place(matrix, persona):
    user = user_of(matrix, persona)
    wrong = []
    for model in MODELS:
        for action in ACTIONS:
            visible = set(model.objects.restrict(user, action).values_list("pk", flat=True))
            for side in SIDES:
                obj = matrix.objects[(model, side)]
                if (obj.pk in visible) != expected(persona, model, action, side):
                    wrong.append((model.__name__, action, side, obj.pk in visible))
    assert wrong == []


def test_the_matrix_expectations_are_not_trivial():
    cells = [expected(p, m, a, s) for p in PERSONAS for m in MODELS for a in ACTIONS for s in SIDES]
    assert any(cells) and not all(cells)
    assert expected("worker_a1", House, "change", "A1") and not expected("worker_a1", House, "change", "B1")
    assert expected("officer_a", Person, "reveal", "A1") and not expected("worker_a1", Person, "reveal", "A1")
    assert not any(expected(p, m, a, "S2") for p in PERSONAS for m in MODELS for a in ACTIONS)
    assert not any(expected(p, m, a, s) for p in ("sysadmin", "secadmin", "auditor")
                   for m in PERSONAL_MODELS for a in ACTIONS for s in SIDES)


# --- 2. the endpoints -------------------------------------------------------------------------------------------------
@dataclass
class Endpoint:
    name: str
    kwargs: set
    callback: object
    model: type | None = None
    kind: str = ""
    perm: str = ""
    body: dict = field(default_factory=dict)
    view_class: type | None = None
    method: str = "get"


def discover() -> list[Endpoint]:
    found: list[Endpoint] = []

    def walk(patterns, ns: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or ns)
            elif isinstance(p, URLPattern) and ns in NAMESPACES and p.name:
                kwargs = set(p.pattern.regex.groupindex)
                if "format" in kwargs:
                    continue  # DRF's format-suffix twin of a route already listed
                found.append(Endpoint(f"{ns}:{p.name}", kwargs, p.callback))

    walk(get_resolver().url_patterns, None)
    return [classify(e) for e in found]


def classify(e: Endpoint) -> Endpoint:
    from core.views import ObjectActionView, ObjectDetailView, ObjectListView

    spec = TABLE.get(e.name)
    cb = e.callback
    if hasattr(cb, "cls") and getattr(cb, "actions", None):  # a DRF viewset route
        qs = getattr(cb.cls, "queryset", None)
        e.model = qs.model if qs is not None else None
        e.view_class = cb.cls
        actions = set(cb.actions.values())
        if "list" in actions:
            e.kind = "api_list"
        elif "retrieve" in actions:
            e.kind = "api_detail"
        elif len(actions) == 1 and "pk" in e.kwargs:  # an extra action on one object
            action = actions.pop()
            e.kind, e.perm = "api_action", getattr(cb.cls, "action_perms", {}).get(action, "")
    elif hasattr(cb, "view_class"):
        vc = e.view_class = cb.view_class
        e.model = getattr(vc, "model", None)
        if issubclass(vc, ObjectActionView):
            e.kind, e.perm = "ui_action", vc.action
        elif issubclass(vc, ObjectDetailView):
            e.kind = "ui_detail"
        elif issubclass(vc, ObjectListView):
            e.kind = "ui_list"
    if spec:
        e.model = spec.get("model", e.model)
        e.kind = spec["kind"]
        e.perm = spec.get("perm", e.perm)
        e.body = spec.get("body", {})
        e.method = spec.get("method", "get")
    return e


def test_every_endpoint_on_a_place_or_personal_data_model_is_covered_by_the_matrix():
    endpoints = discover()
    assert endpoints, "no URL in the places/people namespaces: the resolver walk is broken"
    known = {"ui_list", "ui_detail", "ui_action", "ui_reveal", "ui_search", "api_list", "api_detail", "api_action",
             "ui_model_perm", "ui_no_data", "ui_export", "ui_owned", "api_search"}
    uncovered = []
    for e in endpoints:
        if e.model is None and e.name.endswith("api-root"):
            continue  # the router's index of endpoints
        if e.model in MODELS or e.model is None:
            kwargs_ok = e.kwargs <= ({"token"} if e.kind == "ui_owned" else {"pk"})
            if e.kind not in known or (e.kind == "api_action" and not e.perm) or not kwargs_ok:
                uncovered.append(e.name)
    assert uncovered == [], "add these endpoints to TABLE in tests/test_matrix.py"


PERSONA_NAMES = list(PERSONAS) + ["anonymous"]


def client_for(persona: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    if persona != "anonymous":
        verified_login(client, get_user_model().objects.get(username=persona))
    return client


def detail_links(endpoints: list[Endpoint]) -> dict:
    return {e.model: e.name for e in endpoints if e.kind == "ui_detail"}


def check_endpoint(m: Matrix, e: Endpoint, persona: str, client: Client, links: dict) -> list:
    """The wrong answers of one endpoint for one persona: [(endpoint, persona, side, status, expected)]."""
    wrong = []
    model = e.model
    anonymous = persona == "anonymous"
    api = e.kind.startswith("api_")

    def bad(side, got, want):
        wrong.append((e.name, persona, side, got, want))

    def vis(side, action="view"):
        return not anonymous and expected(persona, model, action, side)

    if e.kind in ("ui_model_perm", "ui_no_data", "ui_export", "ui_owned"):
        return wrong + check_model_level(m, e, persona, client)

    if e.kind in ("ui_list", "api_list"):
        url = reverse(e.name)
        r = client.get(url)
        if anonymous:
            if r.status_code not in ((401, 403) if api else (302,)):
                bad("-", r.status_code, "login")
            return wrong
        if persona in AGGREGATE_ONLY and getattr(e.view_class, "list_reason", False):
            # Break the glass for a list of named residents: refused first, then shown once a reason is given.
            if api:
                if r.status_code != 403:
                    bad("-", r.status_code, "403 without X-Access-Reason")
                r = client.get(url, HTTP_X_ACCESS_REASON=quote("矩阵测试核对"))
            else:
                if r.status_code != 302 or "/access/reason/" not in r.url:
                    bad("-", r.status_code, "302 to the reason form")
                client.post(r.url, {"purpose": "矩阵测试核对"})
                r = client.get(url)
        if r.status_code != 200:
            bad("-", r.status_code, 200)
            return wrong
        if api:
            data = r.json()
            rows = data["results"] if isinstance(data, dict) and "results" in data else data
            ids = {row["id"] for row in rows}
            for side in SIDES:
                obj = m.objects[(model, side)]
                if obj.pk in ids and not vis(side):
                    bad(side, "listed", "hidden")
            if len(ids) < 50:
                for side in SIDES:
                    if vis(side) and m.objects[(model, side)].pk not in ids:
                        bad(side, "missing", "listed")
        elif model in links:
            body = r.content.decode()
            for side in SIDES:
                link = reverse(links[model], args=[m.objects[(model, side)].pk])
                if f'"{link}"' in body and not vis(side):
                    bad(side, "linked", "hidden")
        return wrong

    for side in SIDES:
        obj = m.objects[(model, side)]
        url = reverse(e.name, kwargs={"pk": obj.pk}) if "pk" in e.kwargs else reverse(e.name)
        can_view = vis(side)
        if e.kind == "ui_detail":
            r = client.get(url)
            if anonymous:
                want = 302
            elif not can_view:
                want = 404
            elif persona in AGGREGATE_ONLY and getattr(e.view_class, "audit_view", False):
                want = 302  # break the glass: the reason form first
            else:
                want = 200
            if r.status_code != want or (want == 302 and not anonymous and "/access/reason/" not in r.url):
                bad(side, r.status_code, want)
        elif e.kind == "api_detail":
            r = client.get(url)
            if anonymous:
                want = (401, 403)
            elif not can_view:
                want = (404,)
            elif persona in AGGREGATE_ONLY and getattr(e.view_class, "audit_reads", False):
                want = (403,)  # no X-Access-Reason header
            else:
                want = (200,)
            if r.status_code not in want:
                bad(side, r.status_code, want)
            if not anonymous and can_view and r.status_code == 200:
                text = r.content.decode()
                if any(n in text for n in m.clear.values()):
                    bad(side, "clear number in JSON", "masked")
            # PATCH without change permission must be refused before anything is written
            if not anonymous and not expected(persona, model, "change", side):
                r = client.patch(url, data="{}", content_type="application/json", HTTP_IF_MATCH='"1"')
                want = (404, 405) if not can_view else (403, 405)  # 405: no PATCH on this model for anyone
                if r.status_code not in want:
                    bad(side, f"PATCH {r.status_code}", want)
            if not anonymous and not expected(persona, model, "delete", side):
                r = client.delete(url)
                want = (404, 405) if not can_view else (403, 405)
                if r.status_code not in want:
                    bad(side, f"DELETE {r.status_code}", want)
        elif e.kind in ("ui_action", "api_action", "ui_reveal"):
            perm = "reveal" if e.kind == "ui_reveal" else e.perm
            allowed = not anonymous and expected(persona, model, perm, side)
            if e.kind == "ui_action":
                r = client.get(url)
            elif e.kind == "ui_reveal":
                r = client.post(url, {"field": "id_number", "purpose": "矩阵测试核对"})
            else:
                r = client.post(url, data=e.body or {}, content_type="application/json")
            if anonymous:
                want = (302,) if not api else (401, 403)
            elif not can_view:
                want = (404,)
            elif not allowed:
                want = (403,)
            else:
                want = (200,) if e.kind != "api_action" else (200, 201, 400)
            if r.status_code not in want:
                bad(side, r.status_code, want)
            if e.kind == "ui_reveal" and model is Person:
                shown = m.clear[obj.pk] in r.content.decode()
                if shown != (allowed and r.status_code == 200):
                    bad(side, f"clear number shown={shown}", allowed)
        elif e.kind == "api_search":
            reason = {}
            if persona in AGGREGATE_ONLY and getattr(e.view_class, "list_reason", False):
                r = client.post(url, data={"q": obj.name}, content_type="application/json")
                if r.status_code != 403:
                    bad(side, f"search {r.status_code}", "403 without X-Access-Reason")
                reason = {"HTTP_X_ACCESS_REASON": quote("矩阵测试核对")}
            for q in (obj.name, m.clear[obj.pk]):
                r = client.post(url, data={"q": q}, content_type="application/json", **reason)
                if anonymous:
                    if r.status_code not in (401, 403):
                        bad(side, r.status_code, (401, 403))
                    continue
                if r.status_code != 200:
                    bad(side, f"search {r.status_code}", 200)
                    continue
                text = r.content.decode()
                ids = {row["id"] for row in r.json()["results"]}
                if (obj.pk in ids) != can_view:
                    bad(side, f"found={obj.pk in ids}", can_view)
                if any(n in text for n in m.clear.values()):
                    bad(side, "clear number in JSON", "masked")
        elif e.kind == "ui_search":
            link = reverse(links[Person], args=[obj.pk]) if Person in links else f"/{obj.pk}/"
            for q in (obj.name, m.clear[obj.pk]):  # by name (redirected to the list) and by ID (kept in the POST)
                r = client.post(url, {"q": q}, follow=True)
                if anonymous:
                    if "/access/login/" not in r.redirect_chain[-1][0] if r.redirect_chain else True:
                        bad(side, r.status_code, "login")
                    continue
                landed = r.redirect_chain[-1][0] if r.redirect_chain else url
                if r.status_code != 200 and not (r.status_code == 302 and "/access/reason/" in landed):
                    bad(side, f"search {r.status_code}", 200)
                elif not can_view and (f'"{link}"' in r.content.decode() or landed.startswith(link)):
                    bad(side, "hidden person found", "not found")
                elif can_view and not (f'"{link}"' in r.content.decode() or landed.startswith(link)
                                       or "/access/reason/" in landed):
                    bad(side, "visible person not found", "found")
    return wrong


def holds(persona: str, perm: str) -> bool:
    """The persona holds ``people.<perm>_person`` somewhere."""
    return persona != "anonymous" and any(expected(persona, Person, perm, side) for side in SIDES)


def xlsx_text(response) -> str:
    import io

    from openpyxl import load_workbook

    data = b"".join(response.streaming_content) if response.streaming else response.content
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return " ".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)


def check_model_level(m: Matrix, e: Endpoint, persona: str, client: Client) -> list:
    wrong = []
    anonymous = persona == "anonymous"
    if e.kind == "ui_owned":
        job = m.objects["import_job"]
        url = reverse(e.name, kwargs={"token": job.token})
        r = client.post(url) if e.method == "post" else client.get(url)
        want = (302,) if anonymous else ((200, 302) if persona == OWNER else (404,))
        if r.status_code not in want:
            wrong.append((e.name, persona, "-", r.status_code, want))
        return wrong
    url = reverse(e.name, kwargs={"pk": 1}) if "pk" in e.kwargs else reverse(e.name)
    r = client.get(url, {"kind": "person"} if e.kind == "ui_export" else {})
    if anonymous:
        want = (302,)
    elif e.kind == "ui_no_data":
        want = (200,)
    else:
        want = (200,) if holds(persona, e.perm) else (403,)
    if r.status_code not in want:
        wrong.append((e.name, persona, "-", r.status_code, want))
    if e.kind == "ui_export" and r.status_code == 200:
        text = xlsx_text(r)
        for side in SIDES:
            person = m.objects[(Person, side)]
            if (person.name in text) != expected(persona, Person, "export", side):
                wrong.append((e.name, persona, side, f"exported={person.name in text}", "its places only"))
        if any(n in text for n in m.clear.values()):
            wrong.append((e.name, persona, "-", "clear number in export", "masked"))
    return wrong


@pytest.mark.parametrize("persona", PERSONA_NAMES)
def test_every_view_and_endpoint_answers_as_the_matrix_says(matrix, persona):
    endpoints = [e for e in discover() if e.model in MODELS and e.kind]
    assert len(endpoints) >= 30, "the resolver no longer finds the registry's views and endpoints"
    client = client_for(persona)
    links = detail_links(endpoints)
    wrong = []
    for e in endpoints:
        wrong += check_endpoint(matrix, e, persona, client, links)
    assert wrong == []


def test_the_matrix_would_notice_a_view_that_forgets_the_scope(matrix, monkeypatch):
    """Mutation check: with ``restrict`` turned into ``all()``, the matrix reports wrong answers."""
    from core.querysets import RestrictedQuerySet

    endpoints = [e for e in discover() if e.model in (House, Person) and e.kind in ("ui_detail", "api_detail")]
    assert len(endpoints) == 4, "UI and API detail of House and Person"
    monkeypatch.setattr(RestrictedQuerySet, "restrict", lambda self, user, action="view": self.all())
    client = client_for("worker_a1")
    wrong = []
    for e in endpoints:
        wrong += check_endpoint(matrix, e, "worker_a1", client, detail_links(discover()))
    assert wrong, "a scope-less view went unnoticed"


def test_the_discovery_finds_every_registry_page_and_endpoint_that_exists():
    from django.urls import NoReverseMatch

    names = {e.name for e in discover()}
    for name in ("places:house", "people:person", "people-api:person-detail", "places-api:house-detail"):
        try:
            reverse(name, kwargs={"pk": 1})
        except NoReverseMatch:
            continue
        assert name in names
