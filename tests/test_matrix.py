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
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from access.models import ApiToken
from cases.models import Case, CaseAttachment
from circle.models import Access, Facility
from conftest import build_world, resident_id, verified_login
from core.roles import DEFAULT_ROLES, _extra
from fieldwork.models import ChangeRequest, Visit
from mediation.models import FollowUp, Mediation
from notify.models import Notification
from people.models import Enterprise, Person, Residence
from people.services import PersonData, save_person
from places.models import Building, Community, Compound, Grid, House, Street
from quality.models import QualityIssue
from resources.models import Booking, Resource

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
    # The review actions take the version reviewed (428 without it).
    "fieldwork-api:changerequest-approve": {"kind": "api_action", "perm": "review", "body": {"version": 1}},
    "fieldwork-api:changerequest-reject": {"kind": "api_action", "perm": "review",
                                           "body": {"version": 1, "reason": "矩阵测试核对"}},
}
# API DELETE that is another action by design: a facility is closed (kept for history), circle/api/views.py.
DELETE_AS = {Facility: "change"}
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
    build_apps(m)
    return m


def build_apps(m: Matrix) -> None:
    """One object of every later app's models on side A1 and on side B1 (grid B1, community B), made through
    the apps' service functions as their own tests make them (cases/tests/conftest.py, resources/tests/...)."""
    import uuid

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from cases import deadlines
    from cases import services as cases_services
    from cases.models import CaseAttachment, CaseCategory, CaseParty, Holiday
    from cases.seed import seed
    from circle import services as circle_services
    from circle.models import Category
    from fieldwork import services as fw_services
    from mediation import services as med_services
    from notify.services import notify
    from open311.models import RequestToken
    from quality.models import QualityIssue
    from quality.services import recompute
    from resources import services as res_services
    from resources.models import BookerLink, Draw, Resource

    w = m.world
    users = {u.username: u for u in get_user_model().objects.all()}
    seed(CaseCategory, Holiday)
    deadlines.invalidate()
    # A house without its area on each side (as quality's own tests craft data the rules must find), then every
    # house's freshness and the rules' issues.
    House.objects.filter(pk__in=[w.houses[s][6].pk for s in ("A1", "B1")]).update(area=None)
    recompute()
    cat = Category.objects.filter(parent__isnull=False).order_by("id").first() or Category.objects.create(
        code="matrix-shop", name="便利店")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    actor = {"A1": users["officer_a"], "B1": users["worker_b1"]}
    for side in ("A1", "B1"):
        house = w.houses[side][0]
        person = m.objects[(Person, side)]
        case = cases_services.report(
            None, channel="walk_in", category="neighbour-leak", title=f"{side}楼上漏水",
            description="楼上卫生间漏水", place=house,
            parties=[cases_services.Party(name=person.name, role=CaseParty.Role.APPLICANT, person=person,
                                          house=house)])
        m.objects[(Case, side)] = case
        m.objects[(CaseAttachment, side)] = CaseAttachment.objects.create(
            case=case, file=ContentFile(b"%PDF-1.4 matrix", name="matrix.pdf"), name="matrix.pdf",
            content_type="application/pdf", size=15, stage="report")
        dispute = cases_services.report(None, channel="walk_in", category="neighbour-leak", title=f"{side}纠纷",
                                        description="双方就赔偿争执", place=house)
        med = med_services.open_mediation(actor[side], dispute)
        m.objects[(Mediation, side)] = med
        m.objects[(FollowUp, side)] = FollowUp.objects.create(mediation=med, due_on=tomorrow)
        visit = fw_services.submit_visit(users[f"worker_{side.lower()}"], w.houses[side][1],
                                         client_id=str(uuid.uuid4()), items=[{"kind": "unchanged"}])
        m.objects[(Visit, side)] = visit
        m.objects[(ChangeRequest, side)] = fw_services.create_change_request(
            house=w.houses[side][3], kind="change_use", source="feedback", payload={"use": "rented"})
        issue = QualityIssue.objects.filter(grid_id=w.grids[side].pk).order_by("id").first()
        if issue is None:
            raise AssertionError(f"quality.recompute found no issue in grid {side}: the matrix needs one")
        m.objects[(QualityIssue, side)] = issue
        m.objects[(Facility, side)] = circle_services.save_facility(None, circle_services.FacilityData(
            name=f"{side}便利店", category=cat, grid=w.grids[side], lat=31.38, lng=120.63), recompute=False)
        room = Resource.objects.create(
            kind="space", mode="exclusive", name=f"{side}活动室", compound=w.compounds[side], opens_at=dt.time(8),
            closes_at=dt.time(21), raster_minutes=30, min_minutes=60, max_minutes=240, horizon_days=14,
            needs_approval=True)
        m.objects[(Resource, side)] = room
        start = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time(14)))
        m.objects[(Booking, side)] = res_services.book(person, room, start, start + dt.timedelta(hours=2))
        m.objects[(Notification, side)] = notify([users[f"worker_{side.lower()}"]], title=f"{side}通知")[0]
        pool = Resource.objects.create(kind="parking_pool", mode="group", name=f"{side}停车场",
                                       compound=w.compounds[side], opens_at=dt.time(0), closes_at=dt.time(0))
        m.objects[("draw", side)] = Draw.objects.create(
            resource=pool, title=f"{side}夜间车位摇号", starts_at=start.replace(hour=19),
            ends_at=start.replace(hour=19) + dt.timedelta(hours=13), places=1)
        m.objects[("follow_up", med.pk)] = m.objects[(FollowUp, side)].pk
    circle_services.recompute()  # each compound's nearest facility per category (straight lines: no network)
    for side in ("A1", "B1"):
        m.objects[(Access, side)] = Access.objects.filter(compound=w.compounds[side]).order_by("id").first()
    # The resident books as the person of side A1: that booking is theirs, the one of side B1 someone else's.
    m.objects["booker_link"] = BookerLink.objects.create(user=users["resident"], person=m.objects[(Person, "A1")])
    # Open311: a key and one request posted through the GeoReport endpoint, whose token the tracking URL reads.
    from django.test import Client as _Client

    from cases.public_views import compound_token
    from circle.services import building_token
    from core.models import Grant
    from feedback.tokens import house_token
    from open311.admin_views import create_key

    key, raw = create_key(None, name="矩阵测试App")
    m.objects["api_key"] = key.pk
    _Client().post("/open311/v2/requests.json", {
        "api_key": raw, "service_code": "sanitation-rubbish", "lat": "31.38", "long": "120.63",
        "address_string": "A1花园1幢楼下", "description": "垃圾桶满了三天没人清运"})
    token = RequestToken.objects.order_by("-id").first()
    m.objects["open311_token"] = token.token if token else ""
    m.objects["user"] = users["worker_a2"].pk
    m.objects["grant"] = Grant.objects.filter(user=users["worker_a2"]).values_list("pk", flat=True).first()
    m.objects["category"] = cat.pk
    m.objects["category_code"] = cat.code
    m.objects["feedback_token"] = house_token(w.houses["A1"][0])
    m.objects["case_token"] = compound_token(w.compounds["A1"])
    m.objects["enterprise_token"] = compound_token(w.compounds["A1"])
    m.objects["near_token"] = building_token(w.buildings["A1"])
    # API tokens: one of worker_a1 (side A1) and one of worker_b1 (side B1), each revocable by its owner only.
    from access.tokens import mint

    for side in ("A1", "B1"):
        mint(users[f"worker_{side.lower()}"], name=f"{side}对接")
        m.objects[(ApiToken, side)] = ApiToken.objects.order_by("-id").first()
    for app in MATRIX_APPS:
        _app_matrix(app).build(m, sys.modules[__name__])


@pytest.fixture
def matrix(db, request) -> Matrix:
    """Built once per module through the services, restored for each test (conftest.py's Snapshot)."""
    from conftest import Snapshot

    return Snapshot.build_or_restore(("matrix", request.module.__name__), build_matrix)


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


def discover(everything: bool = False) -> list[Endpoint]:
    found: list[Endpoint] = []

    def walk(patterns, ns: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or ns)
            elif isinstance(p, URLPattern) and (everything or ns in NAMESPACES) and p.name:
                kwargs = set(p.pattern.regex.groupindex)
                if "format" in kwargs:
                    continue  # DRF's format-suffix twin of a route already listed
                found.append(Endpoint(f"{ns}:{p.name}" if ns else p.name, kwargs, p.callback))

    walk(get_resolver().url_patterns, None)
    return [classify(e) for e in found]


def discover_all() -> list[Endpoint]:
    """Every named URL of the resolver, in every namespace (and none)."""
    return discover(everything=True)


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

    sides = [side for side in SIDES if (model, side) in m.objects]  # the registry's on all three, apps' on two

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
            for side in sides:
                obj = m.objects[(model, side)]
                if obj.pk in ids and not vis(side):
                    bad(side, "listed", "hidden")
            if len(ids) < 50:
                for side in sides:
                    if vis(side) and m.objects[(model, side)].pk not in ids:
                        bad(side, "missing", "listed")
        elif model in links:
            body = r.content.decode()
            for side in sides:
                link = reverse(links[model], args=[m.objects[(model, side)].pk])
                if f'"{link}"' in body and not vis(side):
                    bad(side, "linked", "hidden")
        return wrong

    for side in sides:
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
            if not anonymous and not expected(persona, model, DELETE_AS.get(model, "delete"), side):
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


# --- 3. every other app: the whole resolver ---------------------------------------------------------------------------
# Each named URL outside the registry's namespaces is either read by ``classify`` (a RegistryViewSet on a scoped model,
# core's base views) or listed here with its kind:
#   scoped   an object on side A1 / B1: anonymous → login, the page's permission held nowhere → 403, the object out
#            of the persona's places → 404, in them without the action's permission → 403, else ``ok``
#   perm     a page behind one permission held anywhere (403 otherwise); ``lists``: the side objects of that model
#            appear on it exactly when the persona may view them
#   owned    an object of one persona (``owner``): theirs → ``ok``, someone else's → 404, to anyone else never ``ok``
#   public   no login: anonymous and every persona get ``ok`` (a QR page, Open311, the login page itself)
#   login    any logged-in user, no personal data (home, notifications' badge, the OTP pages); anonymous → login
#   skip     not generated, with the reason
@dataclass
class Spec:
    kind: str
    model: type | None = None  # the model whose policy decides (the object's own, or the one it belongs to)
    page: str = ""  # the permission the page needs somewhere ("app.codename")
    action: str = "view"  # the action on the object (scoped)
    method: str = "get"
    data: dict = field(default_factory=dict)
    ok: tuple = (200,)
    kw: object = None  # (matrix, object) → URL kwargs
    obj: object = None  # the key of the object in matrix.objects: a model (with the side) or a string
    owner: str = ""
    lists: type | None = None
    reason: str = ""
    api: bool = False
    need: str = ""  # scoped: a permission of another model held on the object's place ("feedback.print_sheet")
    query: object = None  # (matrix, object) → the GET parameters
    reason_first: bool = False  # an aggregate-only role states a reason before the record (core.audit)
    denied: tuple = (403,)  # perm: the answer without the permission
    row_key: tuple = ()  # perm with lists, an API: (a row's field, the listed object's attribute) that match


def scoped(model, page: str | None = "", action="view", **kw) -> Spec:
    """``page=None``: no permission checked before the object's lookup (the restricted queryset decides alone)."""
    if page == "":
        page = f"{model._meta.app_label}.view_{model._meta.model_name}"
    return Spec("scoped", model=model, page=page or "", action=action, **kw)


def perm(page, **kw) -> Spec:
    return Spec("perm", page=page, **kw)


def public(**kw) -> Spec:
    return Spec("public", **kw)


def login(**kw) -> Spec:
    return Spec("login", **kw)


def owned(obj, owner, **kw) -> Spec:
    return Spec("owned", obj=obj, owner=owner, **kw)


def skip(reason) -> Spec:
    return Spec("skip", reason=reason)


def _pk(m, o):
    return {"pk": o.pk}


POSTED = {"method": "post", "ok": (200, 302, 400)}  # a form sent empty: refused or accepted, never out of scope
J = {"fmt": "json"}
APP_TABLE: dict[str, Spec] = {
    # the project's own
    "home": login(),
    "healthz": public(),
    "set_language": public(method="post", data={"language": "zh-hans"}, ok=(302,)),
    "api-schema": public(),  # the API's description: no data
    "api-docs": public(),
    # access: the three duties' pages; login, second factor, password, the break-the-glass reason
    "access:login": public(),
    "access:logout": public(method="post", ok=(302,)),
    "access:otp": login(ok=(200, 302)),
    "access:otp_qr": public(ok=(200, 302, 404)),  # the QR of the signed-in user's own new device, or nothing
    "access:otp_setup": login(ok=(200, 302)),
    "access:password_change": login(),
    "access:reason": login(ok=(200, 302, 404)),  # the form for a record named in its parameters (none here)
    "access:user_list": perm("auth.view_user"),
    "access:user_create": perm("auth.add_user"),
    "access:user_edit": perm("auth.change_user", kw=lambda m, o: {"pk": m.objects["user"]}),
    "access:role_list": perm("core.view_role"),
    "access:role_create": perm("core.add_role"),
    "access:role_edit": perm("core.change_role", kw=lambda m, o: {"pk": m.world.roles["resident"].pk}),
    "access:grant_list": perm("core.view_grant"),
    "access:grant_create": perm("core.add_grant"),
    "access:grant_edit": perm("core.change_grant", kw=lambda m, o: {"pk": m.objects["grant"]}),
    "access:grant_delete": perm("core.delete_grant", kw=lambda m, o: {"pk": m.objects["grant"]}, **POSTED),
    "access:audit_list": perm("core.view_auditevent"),
    "access:tokens": login(),
    "access:token_revoke": owned(ApiToken, "worker_a1", method="post", ok=(302,)),
    # quality
    "quality:overview": perm("quality.view_housestatus"),
    "quality:stale": perm("quality.view_housestatus"),
    "quality:issues": perm("quality.view_qualityissue"),
    "quality:policies": perm("quality.view_freshnesspolicy"),
    "quality:issue_close": scoped(QualityIssue, action="resolve", method="post", ok=(200, 302),
                                  data={"action": "resolve", "reason": "矩阵测试核对"}),
    # fieldwork
    "fieldwork:today": perm("fieldwork.submit_visit"),
    "fieldwork:house": scoped(House, page="fieldwork.submit_visit"),
    "fieldwork:house_history": scoped(House, page="fieldwork.view_changerequest"),
    "fieldwork:person_history": scoped(Person, page="fieldwork.view_changerequest"),
    "fieldwork:visit": scoped(Visit),
    "fieldwork:visit_photo": scoped(Visit, ok=(404,)),  # the visit has no photo: 404 for all, after the checks
    "fieldwork:review": perm("fieldwork.review_changerequest", lists=ChangeRequest),
    "fieldwork:change": scoped(ChangeRequest),
    "fieldwork:approve": scoped(ChangeRequest, page="fieldwork.review_changerequest", action="review", **POSTED),
    "fieldwork:reject": scoped(ChangeRequest, page="fieldwork.review_changerequest", action="review", **POSTED),
    "fieldwork:review_bulk": perm("fieldwork.review_changerequest", method="post", ok=(200, 302, 400)),
    "fieldwork:workload": perm("fieldwork.workload_visit"),
    "fieldwork:policy": perm("fieldwork.view_changepolicy"),
    # the offline round: the pages a round keeps (the worker's own list), the page for what was not kept, the
    # service worker and the manifest (no personal data: open to anyone)
    "fieldwork:round": perm("fieldwork.submit_visit"),
    "fieldwork:offline": public(),
    "service_worker": public(),
    "webmanifest": public(),
    # notify: one's own notifications
    "notify:inbox": login(),
    "notify:badge": public(ok=(200, 204)),  # a count of one's own unread, empty for anonymous
    "notify:mark_read": login(method="post", ok=(200, 302)),
    "notify:open": owned(Notification, "worker_a1", method="post", ok=(302,)),
    # feedback: the printed sheets (community officers), the residents' public page behind the QR code
    "feedback:index": perm("feedback.print_sheet"),
    "feedback:sheet": scoped(Compound, page=None, need="feedback.print_sheet"),
    "feedback:report": public(kw=lambda m, o: {"token": m.objects["feedback_token"]}),
    # cockpit: boards per place, aggregates only (the command centre needs no reason)
    "cockpit:home": perm("cockpit.view_board", ok=(200, 302)),
    "cockpit:wall": perm("cockpit.view_board"),
    "cockpit:board": scoped(Grid, page="cockpit.view_board", kw=lambda m, o: {"level": "grid", "pk": o.pk}),
    "cockpit:board_data": scoped(Grid, page="cockpit.view_board", kw=lambda m, o: {"level": "grid", "pk": o.pk}),
    "cockpit:map_data": scoped(Grid, page="cockpit.view_board", kw=lambda m, o: {"level": "grid", "pk": o.pk}),
    # cases
    "cases:home": perm("cases.view_case", ok=(200, 302)),
    "cases:queue": perm("cases.view_case", lists=Case),
    "cases:inbox": perm("cases.view_case"),
    "cases:map": perm("cases.view_case"),
    "cases:geojson": perm("cases.view_case", lists=Case),
    "cases:figures": perm("cases.view_case"),
    "cases:report": perm("cases.add_case"),
    "cases:place_options": perm("cases.add_case"),
    "cases:holidays": perm("cases.view_holiday"),
    "cases:detail": scoped(Case),
    "cases:act": scoped(Case, action="accept", method="post", ok=(302,),
                        kw=lambda m, o: {"pk": o.pk, "action": "accept"}),
    "cases:reveal_text": scoped(Case, need="people.reveal_person", method="post",
                                data=lambda m, o: {"target": f"case:{o.pk}:description", "purpose": "矩阵测试核对"}),
    "cases:attachment": scoped(Case, obj=CaseAttachment),
    "cases:dedup_suggest": skip("answers a typed title with similar cases; its scope is cases/tests/test_dedup.py's"),
    "cases:dedup_link": skip("links two cases named by ids in the POST body (no URL object to place on a side); "
                             "cases/tests/test_dedup.py links across communities"),
    "cases:hotline_import": perm("cases.add_case+cases.accept_case"),
    "cases:hotline_template": perm("cases.add_case+cases.accept_case"),
    "cases:hotline_job": skip("a hotline import job exists only after an upload; cases/tests/test_hotline.py"),
    "cases:hotline_progress": skip("a hotline import job exists only after an upload; cases/tests/test_hotline.py"),
    "cases:hotline_commit": skip("a hotline import job exists only after an upload; cases/tests/test_hotline.py"),
    "cases:public_pick": public(),
    "cases:public_report": public(kw=lambda m, o: {"token": m.objects["case_token"]}),
    "cases:public_enterprise": public(kw=lambda m, o: {"token": m.objects["enterprise_token"]}),
    "cases:public_code": public(method="post", ok=(200, 400, 429),
                                data={"purpose": "case_report", "phone": "13912345678"}),
    "cases:public_track": public(),
    # a case number alone shows nothing: the tracking page asks for the reporter's phone code first
    "cases:public_case": public(kw=lambda m, o: {"number": m.objects[(Case, "A1")].number}, ok=(302, 404)),
    # the QR code of a compound's public report page: whoever sees the compound
    "cases:public_qr": scoped(Compound, page=None),
    "cases:public_qr_kind": scoped(Compound, page=None, kw=lambda m, o: {"pk": o.pk, "kind": "enterprise"}),
    # mediation
    "mediation:list": perm("mediation.view_mediation", lists=Mediation),
    "mediation:new": scoped(Case, page="mediation.add_mediation", kw=lambda m, o: {},
                            query=lambda m, o: {"case": o.pk}),
    "mediation:detail": scoped(Mediation, reason_first=True),
    "mediation:reveal_text": scoped(Mediation, need="people.reveal_person", method="post", reason_first=True,
                                    data=lambda m, o: {"target": f"mediation:{o.pk}:facts",
                                                       "purpose": "矩阵测试核对"}),
    "mediation:party_add": scoped(Mediation, page="mediation.change_mediation", action="change", **POSTED),
    "mediation:mediator_add": scoped(Mediation, page="mediation.change_mediation", action="change", **POSTED),
    "mediation:session_add": scoped(Mediation, page="mediation.change_mediation", action="change", **POSTED),
    "mediation:close": scoped(Mediation, page="mediation.close_mediation", action="close", **POSTED),
    "mediation:follow_up": scoped(Mediation, page="mediation.change_mediation", action="change", **POSTED,
                                  kw=lambda m, o: {"pk": o.pk, "fid": m.objects[("follow_up", o.pk)]}),
    # not closed with an agreement yet: back to the record, after the checks
    "mediation:agreement": scoped(Mediation, page="mediation.agreement_mediation", action="agreement",
                                  ok=(302,), reason_first=True),
    # open311: GeoReport v2 is public; the keys are the system admin's
    "open311:discovery": public(kw=lambda m, o: J),
    "open311:services": public(kw=lambda m, o: J),
    "open311:service_definition": public(kw=lambda m, o: {"code": "sanitation-rubbish", **J}, ok=(200, 404)),
    "open311:requests": public(kw=lambda m, o: J),
    "open311:request_detail": public(kw=lambda m, o: {"number": m.objects[(Case, "A1")].number, **J},
                                     ok=(200, 404)),
    "open311:token": public(kw=lambda m, o: {"token": m.objects["open311_token"] or "none", **J}, ok=(200, 404)),
    "open311:key_list": perm("open311.view_apikey"),
    "open311:key_deactivate": perm("open311.change_apikey", kw=lambda m, o: {"pk": m.objects["api_key"]},
                                   **POSTED),
    # circle
    "circle:matrix": perm("circle.view_access"),
    "circle:coverage": perm("circle.view_access"),
    "circle:map": perm("circle.view_access"),
    "circle:map_data": perm("circle.view_access", ok=(200, 404)),
    "circle:network": perm("circle.view_access"),
    "circle:basemap": public(ok=(200, 404)),  # the streets' lines of the base map (OSM data, no people)
    "circle:facilities_geojson": perm("circle.view_facility", lists=Facility),
    "circle:facility_list": perm("circle.view_facility", lists=Facility),
    "circle:facility_new": perm("circle.add_facility"),
    "circle:facility_import": perm("circle.import_facility"),
    "circle:facility_edit": scoped(Facility, action="change"),
    "circle:facility_close": scoped(Facility, action="change", **POSTED),
    "circle:facility_photo": scoped(Facility, ok=(404,)),  # no photo: 404 for all, after the checks
    "circle:categories": perm("circle.view_category"),
    "circle:category_new": perm("circle.add_category"),
    "circle:category_edit": perm("circle.change_category", kw=lambda m, o: {"pk": m.objects["category"]}),
    "circle:plan": perm("circle.plan_facility"),
    "circle:site_add": perm("circle.add_candidatesite", **POSTED),
    "circle:building_qr": scoped(Building, page="circle.view_access", obj=Building),
    "circle:near": public(kw=lambda m, o: {"token": m.objects["near_token"]}),
    "circle:near_data": public(kw=lambda m, o: {"token": m.objects["near_token"]}),
    # reference data: without the permission the list is empty and an entry not found
    "circle-api:category-list": perm("circle.view_category", api=True, denied=(200,)),
    "circle-api:category-detail": perm("circle.view_category", api=True, denied=(404,),
                                       kw=lambda m, o: {"pk": m.objects["category"]}),
    # each compound's nearest facility per category: the rows of the persona's places only (empty without it)
    "circle-api:access-list": perm("circle.view_access", api=True, denied=(200,), lists=Access,
                                   row_key=("compound", "compound_id")),
    "circle-api:coverage": perm("circle.view_access", api=True, denied=(403, 404),
                                query=lambda m, o: {"category": m.objects["category_code"]}),
    # resources: a resident books as their registry person (BookerLink); staff see their places' resources
    "resources:browse": owned("booker_link", "resident", kw=lambda m, o: {}),
    "resources:mine": owned("booker_link", "resident", kw=lambda m, o: {}),
    "resources:day": owned("booker_link", "resident", kw=lambda m, o: {"pk": m.objects[(Resource, "A1")].pk}),
    "resources:book": owned("booker_link", "resident", kw=lambda m, o: {"pk": m.objects[(Resource, "A1")].pk},
                            method="post", ok=(200, 302, 400)),
    "resources:cancel": owned(Booking, "resident", method="post", ok=(302,)),
    "resources:series": owned("booker_link", "resident", method="post", ok=(302,),
                              kw=lambda m, o: {"pk": m.objects[(Resource, "A1")].pk}),
    "resources:checkin": owned("booker_link", "resident",
                               kw=lambda m, o: {"token": m.objects[(Resource, "A1")].qr_token}),
    # the phone-code check (a login for residents without an account): a form, no one's data before the code
    "resources:phone": public(),
    "resources:phone_choose": public(method="post", ok=(302,)),
    "resources:ical_booker": public(kw=lambda m, o: {"token": m.objects["booker_link"].ical_token}),
    "resources:ical_resource": public(kw=lambda m, o: {"token": m.objects[(Resource, "A1")].ical_token}),
    "resources:resource": scoped(Resource),
    "resources:sheet": scoped(Resource),
    "resources:pending": perm("resources.approve_resource", lists=Booking),
    "resources:decide": scoped(Booking, page="resources.approve_resource", action="view", method="post",
                               ok=(302,), kw=lambda m, o: {"pk": o.pk, "decision": "approve"}),
    # approver groups: one page (list, create, members) for those holding the permission; the scope is in the page
    "resources:groups": perm("resources.view_approvergroup"),
    "resources:plate": perm("resources.checkin_resource"),
    "resources:export": perm("resources.export_resource", ok=(200,)),
    "resources:geojson": perm("resources.view_resource", lists=Resource),
    # the lottery: staff open and draw the pools of their places; the published page is every logged-in user's
    # (names masked); a linked resident applies
    "resources:draws": perm("resources.draw_resource"),
    "resources:draw_run": scoped(Resource, obj="draw", page="resources.draw_resource", action="draw",
                                 method="post", ok=(302,)),
    "resources:draw": login(kw=lambda m, o: {"pk": m.objects[("draw", "A1")].pk}),
    "resources:draw_apply": owned("booker_link", "resident", method="post", ok=(302,),
                                  kw=lambda m, o: {"pk": m.objects[("draw", "A1")].pk}),
    "resources:staff": perm("resources.view_resource", lists=Resource),
    # keeping the resources: a new one needs add held somewhere; a change or a blackout, change on its place
    "resources:new": perm("resources.add_resource"),
    "resources:edit": scoped(Resource, action="change"),
    "resources:rules": scoped(Resource, action="change"),
    "resources:blackout": scoped(Resource, action="change", method="post", ok=(302,),
                                 data={"starts_at": "2030-01-01T08:00", "ends_at": "2030-01-01T09:00",
                                       "reason": "矩阵测试"}),
    # 代预约 at the desk: add_booking on the resource's place; a number not found goes back to the week page
    "resources:desk": scoped(Resource, page="resources.add_booking", method="post", ok=(302,),
                             data={"number": "", "day": "2030-01-07", "starts": "09:00", "ends": "10:00"}),
    "resources-api:resource-availability": scoped(Resource, page=None, api=True, ok=(200, 400)),
    # check-in is the resource's (resources.checkin_resource on its place); a booking not due answers 400
    "resources-api:booking-check-in": scoped(Booking, page=None, api=True, need="resources.checkin_resource",
                                             method="post", ok=(200, 400)),
    "resources-api:my-booking-list": owned("booker_link", "resident", api=True, kw=lambda m, o: {}),
    "resources-api:my-booking-detail": owned(Booking, "resident", api=True),
    "resources-api:my-booking-cancel": owned(Booking, "resident", api=True, method="post", ok=(200,)),
}
# The later modules keep their rows beside their code: <app>/tests/matrix.py (rows, build, MARKERS).
MATRIX_APPS = ("activities", "volunteers", "meetings")


def _app_matrix(app: str):
    import importlib

    return importlib.import_module(f"{app}.tests.matrix")


for _app in MATRIX_APPS:
    APP_TABLE.update(_app_matrix(_app).rows(sys.modules[__name__]))
APP_SIDES = ["A1", "B1"]
FEW = ["anonymous", "worker_a1", "resident"]
MARKERS = {Case: "number", Mediation: "number", Facility: "name", Resource: "name", ChangeRequest: "pk",
           Booking: "pk"}
for _app in MATRIX_APPS:
    MARKERS.update(_app_matrix(_app).MARKERS)


def app_endpoints() -> list[Endpoint]:
    """Every endpoint outside the registry's namespaces, with its TABLE spec when it has one."""
    out = []
    for e in discover_all():
        if e.name.split(":")[0] in NAMESPACES:
            continue
        e.spec = APP_TABLE.get(e.name)
        out.append(e)
    return out


def auto_checked(e: Endpoint) -> bool:
    """A RegistryViewSet route (or core base view) on a scoped model with objects on both sides: the registry's
    checks (check_endpoint) apply unchanged."""
    return e.kind in ("api_list", "api_detail", "api_action", "ui_list", "ui_detail", "ui_action") and \
        e.model is not None and hasattr(e.model, "scope_fields") and (not e.kind == "api_action" or e.perm)


def test_every_url_of_every_app_is_classified_by_the_matrix():
    """Any named URL — a page, an API route, a public page, in any app — that neither ``classify`` reads nor
    APP_TABLE lists fails here, so a new view touching personal data (a person, house, case, booking, visit...)
    cannot land without its row in the matrix."""
    endpoints = app_endpoints()
    names = {e.name for e in endpoints}
    for ns in ("quality", "fieldwork", "fieldwork-api", "feedback", "notify", "cockpit", "cases", "cases-api",
               "mediation", "mediation-api", "open311", "circle", "circle-api", "access", "resources",
               "resources-api"):
        assert any(n.startswith(ns + ":") for n in names), f"the resolver walk found nothing in {ns}"
    uncovered = [e.name for e in endpoints if e.spec is None and not auto_checked(e)
                 and not e.name.endswith("api-root")]
    assert uncovered == [], "add these endpoints to APP_TABLE in tests/test_matrix.py"
    stale = sorted(set(APP_TABLE) - names)
    assert stale == [], "APP_TABLE names URLs the resolver no longer has"


def _app_ids() -> list[str]:
    return sorted(e.name for e in app_endpoints() if not e.name.endswith("api-root"))


def role_perms(persona: str) -> set[str]:
    role = PERSONAS.get(persona, (None,))[0]
    if role is None:
        return set()
    return set(DEFAULT_ROLES[role]["perms"]) | set(_extra.get(role, []))


def has(persona: str, code: str) -> bool:
    """The persona's role holds ``code`` (``a+b``: both) on a place (the resident's grant is on themselves)."""
    return persona != "anonymous" and PERSONAS[persona][1] not in (None, "self") and \
        all(c in role_perms(persona) for c in code.split("+"))


def _login_redirect(r) -> bool:
    """To the login page, or (a booker's pages of shared resources) to the phone-code check that stands in for a
    login for residents without an account."""
    where = r.get("Location", "")
    return r.status_code == 302 and ("/access/login/" in where or where.startswith("/resources/phone/?next="))


def _send(client, spec: Spec, url: str, m: Matrix = None, obj=None):
    data = spec.data(m, obj) if callable(spec.data) else spec.data
    if spec.method == "post":
        if spec.api:
            return client.post(url, data=data, content_type="application/json")
        return client.post(url, data)
    return client.get(url, spec.query(m, obj) if spec.query else {})


# How a listed object shows on a list page or in its data: its detail link, or its number / name in the JSON.
LIST_LINKS = {Case: "cases:detail", Mediation: "mediation:detail", ChangeRequest: "fieldwork:change",
              Facility: "circle:facility_edit", Resource: "resources:resource"}


def shown_in(text: str, obj) -> bool:
    model = type(obj)
    if model is Booking:
        return reverse("resources:decide", args=[obj.pk, "approve"]) in text
    if reverse(LIST_LINKS[model], args=[obj.pk]) in text:
        return True
    marker = str(getattr(obj, MARKERS[model]))
    return model is not ChangeRequest and (f">{marker}<" in text or f'"{marker}"' in text)


def check_app(m: Matrix, e: Endpoint, persona: str, client: Client) -> list:
    spec: Spec = e.spec
    wrong = []
    anonymous = persona == "anonymous"
    ok = spec.ok

    def bad(side, got, want):
        wrong.append((e.name, persona, side, got, want))

    def anon_ok(r) -> bool:
        return r.status_code in (401, 403) if spec.api else _login_redirect(r)

    if spec.kind == "public":
        r = _send(client, spec, reverse(e.name, kwargs=(spec.kw or (lambda m, o: {}))(m, None)), m)
        if r.status_code not in ok:
            bad("-", r.status_code, ok)
        return wrong
    if spec.kind == "login":
        r = _send(client, spec, reverse(e.name, kwargs=(spec.kw or (lambda m, o: {}))(m, None)), m)
        if anonymous and not anon_ok(r):
            bad("-", r.status_code, "login")
        elif not anonymous and r.status_code not in ok:
            bad("-", r.status_code, ok)
        return wrong
    if spec.kind == "perm":
        r = _send(client, spec, reverse(e.name, kwargs=(spec.kw or (lambda m, o: {}))(m, None)), m)
        want = "login" if anonymous else (ok if has(persona, spec.page) else spec.denied)
        if anonymous:
            if not anon_ok(r):
                bad("-", r.status_code, want)
            return wrong
        if r.status_code not in want:
            bad("-", r.status_code, want)
        if spec.lists and spec.row_key and r.status_code == 200:
            data = r.json()
            rows = data["results"] if isinstance(data, dict) and "results" in data else data
            field_, attr = spec.row_key
            listed = {row[field_] for row in rows}
            for side in APP_SIDES:
                value = getattr(m.objects[(spec.lists, side)], attr)
                want = expected(persona, spec.lists, "view", side)
                if value in listed and not want:
                    bad(side, "listed", "hidden")
                if want and value not in listed and not (isinstance(data, dict) and data.get("next")):
                    bad(side, "missing", "listed")  # (a later page may hold it)
        elif spec.lists and r.status_code == 200:
            text = r.content.decode()
            for side in APP_SIDES:
                obj = m.objects[(spec.lists, side)]
                if shown_in(text, obj) and not expected(persona, spec.lists, "view", side):
                    bad(side, "listed", "hidden")
        return wrong
    if spec.kind == "owned":
        own_key = spec.obj if isinstance(spec.obj, str) else (spec.obj, "A1")
        cases_ = [("own", m.objects[own_key])]
        if not isinstance(spec.obj, str):
            cases_.append(("foreign", m.objects[(spec.obj, "B1")]))
        if persona != spec.owner:
            cases_ = cases_[:1]  # the owner's object (the other one may be this persona's own)
        for label, obj in cases_:
            r = _send(client, spec, reverse(e.name, kwargs=(spec.kw or _pk)(m, obj)), m, obj)
            if anonymous:
                if not anon_ok(r):
                    bad(label, r.status_code, "login")
            elif persona == spec.owner:
                want = ok if label == "own" else (404,)
                if r.status_code not in want:
                    bad(label, r.status_code, want)
            elif r.status_code in ok or r.status_code >= 500:
                bad(label, r.status_code, "not theirs: refused")
        return wrong
    assert spec.kind == "scoped"
    for side in APP_SIDES:
        key = spec.obj or spec.model
        obj = m.objects[(key, side)]
        r = _send(client, spec, reverse(e.name, kwargs=(spec.kw or _pk)(m, obj)), m, obj)
        if anonymous:
            if not anon_ok(r):
                bad(side, r.status_code, "login")
            continue
        if spec.page and not has(persona, spec.page):
            want = (403,)
        elif not expected(persona, spec.model, "view", side):
            want = (404,)
        elif spec.reason_first and persona in AGGREGATE_ONLY:
            want = (302,)  # break the glass: the reason form first
            if "/access/reason/" not in r.get("Location", ""):
                bad(side, r.status_code, "302 to the reason form")
        elif not expected(persona, spec.model, spec.action, side) or (
                spec.need and not (has(persona, spec.need) and reaches(persona, spec.model, side))):
            want = (403,)
        else:
            want = ok
        if r.status_code not in want:
            bad(side, r.status_code, want)
    return wrong


@pytest.mark.parametrize("name", _app_ids())
def test_every_app_endpoint_answers_as_the_matrix_says(matrix, name):
    from django.db import transaction

    e = next(x for x in app_endpoints() if x.name == name)
    if e.spec is not None and e.spec.kind == "skip":
        pytest.skip(e.spec.reason)
    if e.spec is None:
        missing = [s for s in APP_SIDES if (e.model, s) not in matrix.objects]
        if missing:
            pytest.skip(f"the matrix's world has no {e.model.__name__} on side {missing}")
    wrong = []
    # A page that shows no one's data answers alike for every role: anonymous, one staff member and a resident.
    personas = FEW if e.spec is not None and e.spec.kind in ("public", "login") else PERSONA_NAMES
    for persona in personas:
        with transaction.atomic():  # each persona sees the world as built: a POST that went through is undone
            client = client_for(persona)
            if e.spec is None:
                wrong += check_endpoint(matrix, e, persona, client, {})
            else:
                wrong += check_app(matrix, e, persona, client)
            transaction.set_rollback(True)
    assert wrong == [], "\n".join(map(str, wrong))
