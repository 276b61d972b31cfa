"""The one write path for the service circle, and the computations the pages show.

* facilities: ``save_facility`` / ``close_facility`` / ``import_facilities`` validate, write, check scope and
  audit in one transaction, then queue the recompute (``circle.tasks.recompute_access``) after commit;
* network: ``import_network`` reads an OSM extract into arrays under ``VAR_DIR/circle/`` and activates it;
  ``active_graph`` loads it once per process;
* figures: ``recompute`` stores the nearest open facility of every category for every compound (network
  distance, or straight line × 1.3 when no network has been imported: ``Access.method`` says which);
  ``coverage`` turns them into population-weighted shares; ``plan`` chooses sites; ``near`` serves the
  public page.

Population counts come from the registry's current residences (system aggregate: no names, no numbers leave
this module, only counts per compound).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circle import engine
from circle.models import Access, CandidateSite, Category, Facility, Group, Network
from core import audit, uploads
from core.scope import scope_for
from core.services import assert_in_scope, bump_version, diff, snapshot

__all__ = [
    "DEFAULT_SPEED", "SPEEDS", "FacilityData", "active_graph", "add_candidate_site", "building_token",
    "candidate_sites", "close_facility", "coverage", "import_facilities", "import_network", "near", "plan",
    "populations", "read_building_token", "recompute", "save_facility",
]

SPEEDS = (1.2, 1.4)
DEFAULT_SPEED = 1.2
LIMIT_M = 2400.0  # distances are stored up to this (about 30 minutes' walk); beyond it "out of reach"
NEAR_MINUTES = 15
FACILITY_FIELDS = ["name", "category", "grid", "address", "lat", "lng", "opening_hours", "capacity", "operator",
                   "phone", "status", "note"]
TOKEN_SALT = "circle.near"


def _schedule_recompute() -> None:
    """Queue one recompute after commit. A job finding the figures computed after it was queued does nothing,
    so a burst of edits costs one recompute, not one per edit."""
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(getattr(item[1], "circle_recompute", False) and not item[1].done
                                    for item in conn.run_on_commit):
        return  # already queued for this transaction: an import of 1,000 rows queues one job

    def go():
        from circle.tasks import recompute_access

        go.done = True
        recompute_access.enqueue(timezone.now().isoformat())

    go.circle_recompute = True
    go.done = False
    transaction.on_commit(go)


# --- facilities -----------------------------------------------------------------------------------------------
@dataclass
class FacilityData:
    name: str
    category: Category | None
    grid: object | None
    lat: float | None
    lng: float | None
    address: str = ""
    opening_hours: str = ""
    capacity: int | None = None
    operator: str = ""
    phone: str = ""
    status: str = Facility.Status.OPEN
    note: str = ""
    photo: object | None = None  # an uploaded file to store; None keeps the current photo


PHOTO_MAX_BYTES = 5 * 1024 * 1024


def check_photo(upload) -> uploads.CheckedUpload:
    """The photo checked by its content (core.uploads): JPEG, PNG or WebP, decoded and re-encoded without EXIF,
    at most 5 MB; ValidationError on ``photo`` otherwise."""
    return uploads.check_upload(upload, field="photo", max_bytes=PHOTO_MAX_BYTES, kinds=uploads.IMAGES)


def clean_facility(data: FacilityData) -> None:
    errors: dict[str, list[str]] = {}
    data.name = (data.name or "").strip()
    if not data.name:
        errors["name"] = [_("名称不能为空")]
    elif len(data.name) > 100:
        errors["name"] = [_("名称太长（最多100个字）")]
    if data.category is None:
        errors["category"] = [_("请选择设施类别")]
    if data.grid is None:
        errors["grid"] = [_("请选择所在网格")]
    if data.lat is None or not (-90 <= data.lat <= 90):
        errors["lat"] = [_("纬度应在 -90 到 90 之间")]
    if data.lng is None or not (-180 <= data.lng <= 180):
        errors["lng"] = [_("经度应在 -180 到 180 之间")]
    if data.capacity is not None and data.capacity < 0:
        errors["capacity"] = [_("容量不能为负数")]
    if data.status not in Facility.Status.values:
        errors["status"] = [_("状态只能是：运营中、规划中、已关闭")]
    if errors:
        raise ValidationError(errors)


def _can_place(user, grid, action: str) -> bool:
    """May ``user`` ``action`` a facility in ``grid``? (the same rule restrict() applies after the write)."""
    if user is None:
        return True
    places = scope_for(user).places_for(f"circle.{action}_facility")
    if places is None:
        return False
    return grid.pk in places.grids or grid.community_id in places.communities or grid.street_id in places.streets


@transaction.atomic
def save_facility(user, data: FacilityData, instance: Facility | None = None,
                  expected_version: int | None = None, recompute: bool = True) -> Facility:
    """Create or change a facility; recompute the figures after commit. Raises ValidationError / PermissionDenied."""
    clean_facility(data)
    photo = check_photo(data.photo) if data.photo else None
    action = "change" if instance is not None else "add"
    if not _can_place(user, data.grid, action):
        raise PermissionDenied(_("您无权在该网格登记服务设施"))
    fac = instance or Facility()
    before = snapshot(fac, FACILITY_FIELDS) if instance is not None else {}
    if instance is not None:
        bump_version(fac, expected_version)
    for name in FACILITY_FIELDS:
        setattr(fac, name, getattr(data, name))
    fac.save()
    changes = diff(before, snapshot(fac, FACILITY_FIELDS))
    if photo:
        # Stored under MEDIA_ROOT (outside the web root) with a random name; served by circle:facility_photo.
        fac.photo.save(f"{uuid.uuid4().hex}.{photo.ext}", photo.content(), save=False)
        fac.save(update_fields=["photo"])
        changes["photo"] = ["", "new"]
    assert_in_scope(user, fac, action)
    audit.record("create" if action == "add" else "update", fac, user=user, changes=changes)
    if recompute:
        _schedule_recompute()
    return fac


@transaction.atomic
def close_facility(user, facility: Facility, expected_version: int | None = None) -> Facility:
    if not _can_place(user, facility.grid, "change"):
        raise PermissionDenied(_("您无权修改该服务设施"))
    bump_version(facility, expected_version)
    facility.status = Facility.Status.CLOSED
    facility.save()
    audit.record("update", facility, user=user, changes={"status": ["open", "closed"]})
    _schedule_recompute()
    return facility


IMPORT_COLUMNS = {
    "名称": "name", "类别": "category", "网格": "grid", "地址": "address", "纬度": "lat", "经度": "lng",
    "开放时间": "opening_hours", "容量": "capacity", "运营方": "operator", "服务电话": "phone",
    "name": "name", "category": "category", "grid": "grid", "address": "address", "lat": "lat", "lng": "lng",
    "opening_hours": "opening_hours", "capacity": "capacity", "operator": "operator", "phone": "phone",
}


def _column(key: str) -> str:
    """The column's name as the reader knows it (the field's label in the active language), for messages."""
    return str(Facility._meta.get_field(key).verbose_name)


def _read_sheet(path_or_file) -> list[list]:
    from python_calamine import CalamineWorkbook

    if hasattr(path_or_file, "read"):
        wb = CalamineWorkbook.from_filelike(path_or_file)
    else:
        wb = CalamineWorkbook.from_path(str(path_or_file))
    return wb.get_sheet_by_index(0).to_python(skip_empty_area=True)


def _lookup(cats: dict, value) -> Category | None:
    """A category by its code, Chinese name or English name (any case)."""
    v = str(value or "").strip()
    return cats.get(v) or cats.get(v.casefold())


def import_facilities(user, file) -> list[Facility]:
    """Import an .xlsx sheet (first row: column names in Chinese or English). All rows or none.

    Category by its code, name or English name, grid by its code or name. Raises ValidationError listing every
    bad row as "第N行 字段：原因" (in the active language).
    """
    from places.models import Grid

    if user is not None and not scope_for(user).has("circle.import_facility"):
        raise PermissionDenied(_("您没有导入服务设施的权限"))
    try:
        rows = _read_sheet(file)
    except Exception as exc:  # calamine raises its own error types for broken files
        raise ValidationError({"file": [_("无法读取该文件，请上传 .xlsx 表格（%(e)s）") % {"e": exc}]}) from exc
    if not rows:
        raise ValidationError({"file": [_("表格是空的")]})
    header = [IMPORT_COLUMNS.get(str(h).strip()) for h in rows[0]]
    missing = [c for c in ("name", "category", "grid", "lat", "lng") if c not in header]
    if missing:
        # Translators: the separator between column names in a list
        raise ValidationError({"file": [_("缺少列：%(c)s") % {"c": _("、").join(_column(c) for c in missing)}]})
    cats = {}
    for c in Category.objects.all():
        cats[c.code] = cats[c.name] = c
        if c.name_en:
            cats[c.name_en.casefold()] = c
    grids = {}
    grid_qs = Grid.objects.restrict(user, "view") if user is not None else Grid.objects.all()
    for g in grid_qs:
        grids[g.name] = g
        if g.code:
            grids[g.code] = g
    problems: list[str] = []
    datas: list[FacilityData] = []
    for n, raw in enumerate(rows[1:], start=2):
        rec = {k: v for k, v in zip(header, raw, strict=False) if k}
        if not any(str(v).strip() for v in rec.values()):
            continue

        def num(key, conv=float, rec=rec, n=n):
            v = rec.get(key)
            if v in (None, ""):
                return None
            try:
                return conv(v)
            except (TypeError, ValueError):
                problems.append(_("第%(n)d行 %(f)s：不是数字") % {"n": n, "f": _column(key)})
                return None

        d = FacilityData(
            name=str(rec.get("name") or ""), category=_lookup(cats, rec.get("category")),
            grid=grids.get(str(rec.get("grid") or "").strip()), lat=num("lat"), lng=num("lng"),
            address=str(rec.get("address") or ""), opening_hours=str(rec.get("opening_hours") or ""),
            capacity=num("capacity", lambda v: int(float(v))), operator=str(rec.get("operator") or ""),
            phone=str(rec.get("phone") or ""))
        if d.category is None:
            problems.append(_("第%(n)d行 类别：找不到“%(v)s”") % {"n": n, "v": rec.get("category")})
        if d.grid is None:
            problems.append(_("第%(n)d行 网格：找不到“%(v)s”或不在您的管辖范围内") % {"n": n, "v": rec.get("grid")})
        if d.category is not None and d.grid is not None:
            try:
                clean_facility(d)
            except ValidationError as exc:
                for f, msgs in exc.message_dict.items():
                    problems.extend(_("第%(n)d行 %(f)s：%(m)s") % {"n": n, "f": _column(f), "m": m} for m in msgs)
        datas.append(d)
    if problems:
        raise ValidationError({"file": problems})
    with transaction.atomic():
        made = [save_facility(user, d, recompute=False) for d in datas]
        _schedule_recompute()
    return made


# --- network --------------------------------------------------------------------------------------------------
_cache_lock = threading.Lock()
_cache: dict[tuple[int, str], engine.Graph] = {}


def network_dir() -> Path:
    d = Path(settings.VAR_DIR) / "circle"
    d.mkdir(parents=True, exist_ok=True)
    return d


def save_graph_arrays(path: Path, lat, lon, u, v, w, osm_id=None) -> None:
    np.savez_compressed(path, lat=lat, lon=lon, u=np.asarray(u, dtype=np.int32), v=np.asarray(v, dtype=np.int32),
                        w=np.asarray(w, dtype=np.float64),
                        osm_id=np.asarray(osm_id if osm_id is not None else [], dtype=np.int64))


def load_graph_file(path: Path) -> engine.Graph:
    with np.load(path) as z:
        return engine.Graph.from_edges(z["lat"], z["lon"], z["u"], z["v"], z["w"])


def import_network(path, name: str = "", user=None) -> Network:
    """Read an OSM extract's walking network, store its arrays, make it the active network, recompute."""
    from circle.osm import read_walking_network

    net = read_walking_network(str(path))
    if len(net.u) == 0:
        raise ValidationError({"file": [_("该文件中没有可步行的道路")]})
    a, b, w = engine.dedupe_edges(net.u, net.v, net.w)
    fname = f"network-{timezone.now():%Y%m%d%H%M%S}-{int(time.time() * 1000) % 1000:03d}.npz"
    save_graph_arrays(network_dir() / fname, net.lat, net.lon, a, b, w, net.osm_id)
    with transaction.atomic():
        Network.objects.filter(is_active=True).update(is_active=False)
        nw = Network.objects.create(name=name or Path(path).name, source_name=Path(path).name, file=fname,
                                    node_count=len(net.lat), edge_count=len(a), clipped_ways=net.clipped_ways,
                                    imported_by=user if user is not None and user.is_authenticated else None)
        audit.record("import", nw, user=user, changes={"nodes": nw.node_count, "edges": nw.edge_count})
        _schedule_recompute()
    return nw


def active_network() -> Network | None:
    return Network.objects.filter(is_active=True).order_by("-created_at").first()


def active_graph() -> engine.Graph | None:
    """The active network's graph, loaded once per process (keyed by row and file)."""
    nw = active_network()
    if nw is None:
        return None
    key = (nw.pk, nw.file)
    with _cache_lock:
        g = _cache.get(key)
        if g is None:
            path = network_dir() / nw.file
            if not path.exists():
                return None
            _cache.clear()
            g = _cache[key] = load_graph_file(path)
        return g


# --- figures --------------------------------------------------------------------------------------------------
def _age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def populations(on: dt.date | None = None) -> dict[int, dict[str, int]]:
    """Current residents per compound, in total ("all") and per age group code. Counts only, one SQL query.

    Age in whole years on ``on``: age ≥ a ⇔ born on or before ``on`` minus a years; age ≤ b ⇔ born after
    ``on`` minus (b + 1) years.
    """
    from django.db.models import Count, Q

    from people.models import Residence

    on = on or timezone.localdate()
    aggs = {"all": Count("person_id", distinct=True)}
    for code in Group.values:
        if code == "all":
            continue
        lo, hi = Group.age_range(code)
        q = Q()
        if lo is not None:
            q &= Q(person__birth_date__lte=_years_before(on, lo))
        if hi is not None:
            q &= Q(person__birth_date__gt=_years_before(on, hi + 1))
        aggs["g" + code.replace("+", "p").replace("-", "_")] = Count("person_id", distinct=True, filter=q)
    rows = (Residence._base_manager.filter(moved_out__isnull=True).values("house__compound_id")
            .annotate(**aggs).order_by())
    out: dict[int, dict[str, int]] = {}
    for r in rows:
        out[r["house__compound_id"]] = {
            code: r["all" if code == "all" else "g" + code.replace("+", "p").replace("-", "_")]
            for code in Group.values}
    return out


def _compounds():
    from places.models import Compound

    return list(Compound._base_manager.filter(lat__isnull=False, lng__isnull=False)
                .values_list("id", "lat", "lng"))


def recompute(limit_m: float = LIMIT_M) -> dict:
    """Store, for every compound and active category, the nearest open facility and its walking distance."""
    started = time.perf_counter()
    now = timezone.now()  # before anything is read: a change after this moment queues a job that will run
    cats = list(Category.objects.filter(is_active=True, parent__isnull=False))
    comps = _compounds()
    pops = populations()
    graph = active_graph()
    facs = list(Facility._base_manager.filter(status=Facility.Status.OPEN)
                .values_list("id", "category_id", "lat", "lng"))
    rows: list[Access] = []
    if comps and cats:
        c_ids = np.array([c[0] for c in comps])
        c_lat = np.array([c[1] for c in comps], dtype=np.float64)
        c_lon = np.array([c[2] for c in comps], dtype=np.float64)
        by_cat = {c.pk: [f for f in facs if f[1] == c.pk] for c in cats}
        if graph is not None:
            method = Access.Method.NETWORK
            c_node, c_off = graph.snap(c_lat, c_lon)
            cat_pos = {c.pk: i for i, c in enumerate(cats)}
            facs = [f for f in facs if f[1] in cat_pos]
            f_lat = np.array([f[2] for f in facs], dtype=np.float64)
            f_lon = np.array([f[3] for f in facs], dtype=np.float64)
            f_cat = np.array([cat_pos[f[1]] for f in facs], dtype=np.int64)
            dist, which, f_off = engine.nearest_facilities(graph, f_lat, f_lon, f_cat, len(cats), limit_m)
            for ci, c in enumerate(cats):
                w = which[ci][c_node]
                d = dist[ci][c_node] + c_off + np.where(w >= 0, f_off[np.maximum(w, 0)] if len(f_off) else 0, 0)
                for k, comp_id in enumerate(c_ids):
                    ok = np.isfinite(d[k]) and d[k] <= limit_m
                    rows.append(_access(comp_id, c, facs[w[k]][0] if ok else None,
                                        float(d[k]) if ok else None, method, pops, now))
        else:
            method = Access.Method.STRAIGHT
            for c in cats:
                fl = by_cat[c.pk]
                d, idx = engine.straight_line_nearest(c_lat, c_lon, [f[2] for f in fl], [f[3] for f in fl])
                for k, comp_id in enumerate(c_ids):
                    ok = np.isfinite(d[k]) and d[k] <= limit_m
                    rows.append(_access(comp_id, c, fl[idx[k]][0] if ok else None, float(d[k]) if ok else None,
                                        method, pops, now))
    with transaction.atomic():
        Access._base_manager.all().delete()
        Access._base_manager.bulk_create(rows, batch_size=2000)
    return {"rows": len(rows), "network": graph is not None, "seconds": round(time.perf_counter() - started, 3)}


def _access(comp_id, cat: Category, fac_id, dist, method, pops, now) -> Access:
    p = pops.get(int(comp_id), {})
    return Access(compound_id=int(comp_id), category=cat, facility_id=fac_id, distance_m=dist, method=method,
                  population=p.get("all", 0), group_population=p.get(cat.group, 0), computed_at=now)


def minutes(distance_m: float | None, speed: float) -> float | None:
    return None if distance_m is None else distance_m / speed / 60.0


def circle_class(distance_m: float | None, speed: float) -> int:
    """5, 10 or 15 for the smallest circle the walk fits in; 0 beyond 15 minutes."""
    m = minutes(distance_m, speed)
    if m is None:
        return 0
    for c in (5, 10, 15):
        if m <= c + 1e-9:
            return c
    return 0


@dataclass
class CoverageRow:
    key: int | None
    name: str
    population: int = 0
    covered: int = 0
    group_population: int = 0
    group_covered: int = 0

    @property
    def share(self) -> float | None:
        return self.covered / self.population if self.population else None

    @property
    def group_share(self) -> float | None:
        return self.group_covered / self.group_population if self.group_population else None


def coverage(access_rows, category: Category, speed: float, level: str = "grid") -> list[CoverageRow]:
    """Population-weighted coverage of ``category`` by grid / community / street over the given Access rows.

    A compound counts as served when its nearest open facility is within the category's threshold
    (``Category.threshold_m(speed)``). ``access_rows`` is already restricted to the user's scope.
    """
    from places.models import Community, Grid, Street

    limit = category.threshold_m(speed)
    key_field = {"grid": "compound__grid_id", "community": "compound__community_id",
                 "street": "compound__street_id"}[level]
    rows: dict[int, CoverageRow] = {}
    for key, dist, pop, gpop in access_rows.filter(category=category).values_list(
            key_field, "distance_m", "population", "group_population"):
        r = rows.setdefault(key, CoverageRow(key=key, name=""))
        served = dist is not None and dist <= limit
        r.population += pop
        r.group_population += gpop
        if served:
            r.covered += pop
            r.group_covered += gpop
    model = {"grid": Grid, "community": Community, "street": Street}[level]
    names = dict(model._base_manager.filter(pk__in=list(rows)).values_list("id", "name"))
    for r in rows.values():
        r.name = names.get(r.key, "")
    return sorted(rows.values(), key=lambda r: r.name)


# --- planning -------------------------------------------------------------------------------------------------
@dataclass
class PlanResult:
    category: Category
    speed: float
    threshold_m: float
    method: str
    steps: list[dict] = field(default_factory=list)
    total: int = 0
    before: int = 0
    after: int = 0
    candidates: int = 0

    @property
    def before_share(self) -> float | None:
        return self.before / self.total if self.total else None

    @property
    def after_share(self) -> float | None:
        return self.after / self.total if self.total else None


def plan(category: Category, access_rows, candidates: list[tuple[str, float, float]], k: int,
         speed: float = DEFAULT_SPEED) -> PlanResult:
    """Greedy best-k new sites for ``category`` over the compounds in ``access_rows`` (the user's scope).

    Demand: each compound weighted by the category's group population; already served compounds count in
    ``before``. Candidates: (name, lat, lng). Every step shows the residents it newly brings in reach.
    """
    from places.models import Compound

    graph = active_graph()
    threshold = category.threshold_m(speed)
    rows = list(access_rows.filter(category=category).values_list("compound_id", "distance_m", "group_population"))
    coords = dict((cid, (lat, lng)) for cid, lat, lng in Compound._base_manager.filter(
        pk__in=[r[0] for r in rows], lat__isnull=False).values_list("id", "lat", "lng"))
    rows = [r for r in rows if r[0] in coords]
    weights = np.array([r[2] for r in rows], dtype=np.float64)
    covered = np.array([r[1] is not None and r[1] <= threshold for r in rows], dtype=bool)
    result = PlanResult(category=category, speed=speed, threshold_m=threshold,
                        method=Access.Method.NETWORK if graph is not None else Access.Method.STRAIGHT,
                        total=int(weights.sum()), before=int(weights[covered].sum()), candidates=len(candidates))
    result.after = result.before
    if not rows or not candidates:
        return result
    cover = engine.coverage_matrix(graph, [c[1] for c in candidates], [c[2] for c in candidates],
                                   [coords[r[0]][0] for r in rows], [coords[r[0]][1] for r in rows], threshold)
    for step in engine.greedy_max_coverage(cover, weights, k, covered=covered):
        name, lat, lng = candidates[step.candidate]
        result.steps.append({"name": name, "lat": lat, "lng": lng, "gain": int(round(step.gain)),
                             "covered_after": int(round(step.covered_after))})
    if result.steps:
        result.after = result.steps[-1]["covered_after"]
    return result


@transaction.atomic
def add_candidate_site(user, name: str, grid, lat: float | None, lng: float | None, note: str = "") -> CandidateSite:
    """Register a possible site for a new facility (typed in or picked on the plan page's map)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("名称不能为空")]
    if grid is None:
        errors["grid"] = [_("请选择所在网格")]
    if lat is None or not (-90 <= lat <= 90):
        errors["lat"] = [_("纬度应在 -90 到 90 之间")]
    if lng is None or not (-180 <= lng <= 180):
        errors["lng"] = [_("经度应在 -180 到 180 之间")]
    if errors:
        raise ValidationError(errors)
    places = scope_for(user).places_for("circle.add_candidatesite") if user is not None else None
    if user is not None and (places is None or not (grid.pk in places.grids or grid.community_id in places.communities
                                                    or grid.street_id in places.streets)):
        raise PermissionDenied(_("您无权在该网格登记候选选址"))
    site = CandidateSite(name=name, grid=grid, lat=lat, lng=lng, note=note)
    site.save()
    assert_in_scope(user, site, "add")
    audit.record("create", site, user=user)
    return site


def candidate_sites(user, source: str) -> list[tuple[str, float, float]]:
    from places.models import Compound

    if source == "sites":
        qs = CandidateSite.objects.restrict(user, "view")
    else:
        qs = Compound.objects.restrict(user, "view").filter(lat__isnull=False, lng__isnull=False)
    return [(o.name, o.lat, o.lng) for o in qs.order_by("name")]


# --- services near me (public) ----------------------------------------------------------------------------------
def building_token(building) -> str:
    return signing.Signer(salt=TOKEN_SALT).sign_object({"b": building.pk})


def read_building_token(token: str):
    """The building a QR token names, or None when the token is not ours."""
    from places.models import Building

    try:
        data = signing.Signer(salt=TOKEN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("b"), int):
        return None
    return Building._base_manager.select_related("compound").filter(pk=data["b"]).first()


def near(building, speed: float = DEFAULT_SPEED, minutes_max: int = NEAR_MINUTES) -> dict:
    """Open facilities within ``minutes_max`` of the building, by category, nearest first. Public data only."""
    lat = building.lat if building.lat is not None else building.compound.lat
    lng = building.lng if building.lng is not None else building.compound.lng
    out = {"lat": lat, "lng": lng, "method": Access.Method.STRAIGHT, "categories": []}
    if lat is None or lng is None:
        return out
    limit = minutes_max * 60 * speed
    facs = list(Facility._base_manager.filter(status=Facility.Status.OPEN, category__is_active=True)
                .select_related("category"))
    if not facs:
        return out
    f_lat = np.array([f.lat for f in facs])
    f_lng = np.array([f.lng for f in facs])
    graph = active_graph()
    if graph is not None:
        from scipy.sparse.csgraph import dijkstra

        out["method"] = Access.Method.NETWORK
        node, off = graph.snap(lat, lng)
        d_all = dijkstra(graph.csr, directed=True, indices=int(node[0]), limit=limit)
        f_node, f_off = graph.snap(f_lat, f_lng)
        d = d_all[f_node] + f_off + off[0]
    else:
        d = engine.haversine_m(lat, lng, f_lat, f_lng) * engine.DETOUR_FACTOR
    by_cat: dict[int, dict] = {}
    for f, dist in zip(facs, d, strict=True):
        if not np.isfinite(dist) or dist > limit:
            continue
        entry = by_cat.setdefault(f.category_id, {"category": f.category, "items": []})
        entry["items"].append({"name": f.name, "address": f.address, "opening_hours": f.opening_hours,
                               "phone": f.phone, "lat": f.lat, "lng": f.lng, "distance_m": float(dist),
                               "minutes": max(1, round(float(dist) / speed / 60))})
    for entry in by_cat.values():
        entry["items"].sort(key=lambda i: i["distance_m"])
    out["categories"] = sorted(by_cat.values(), key=lambda e: (e["category"].order, e["category"].code))
    return out
