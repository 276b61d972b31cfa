"""The cockpit's own metrics: houses by use, population by residency type, the age pyramid, special groups and
households by size. Each is computed set-based from the registry: ONE ``GROUP BY`` per level over
``places.House`` (and, through its reverse relations, the current residences and their people), restricted to
``place_ids`` when the incremental refresh asks for a few places. The cockpit imports only core and places: the
people tables are reached through House's relations, and the tag names through the app registry.

Definitions (the tests count the same things directly, place by place):

* houses by use: every house of the place, by ``House.use``;
* population: the open residences (``moved_out`` empty) of the houses of the place — the people living there,
  as ``House.resident_count`` counts them — by ``Person.residency_type`` (someone registered as living in two
  homes counts in each; the demo has nobody like that);
* age pyramid: the same residents by sex ("m" / "f", "?" when unknown) and 5-year band of their age today
  ("0-4" … "80-84", "85+", "?" without a birth date); subkey "m:20-24";
* special groups: the same residents by tag code (a person with two tags counts in both); small cells;
* households by size: occupied houses by ``resident_count`` ("1" … "5", "6+").

Every one of them is additive (a place's value is the sum of its buildings'), so they are registered with
``additive=True``: the incremental refresh recomputes the dirty buildings and moves their ancestors by the
difference, without scanning a street.
"""

from __future__ import annotations

import datetime as dt
import time

from django.apps import apps
from django.db.models import Case, CharField, Count, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from places.choices import HouseUse
from places.models import House

__all__ = ["AGE_BANDS", "HOUSEHOLD_SIZES", "RESIDENCY_LABELS", "age_band", "register_core"]

BAND_YEARS = 5
TOP_BAND = 85
AGE_BANDS = [f"{a}-{a + BAND_YEARS - 1}" for a in range(0, TOP_BAND, BAND_YEARS)] + [f"{TOP_BAND}+"]
HOUSEHOLD_SIZES = ["1", "2", "3", "4", "5", "6+"]
# People's choices, named here (the cockpit does not import people); the values are people.choices'.
RESIDENCY_LABELS = {"registered": _("户籍人口"), "floating": _("流动人口"), "foreign": _("境外人员"),
                    "other": _("其他")}
SEX_KEYS = {"M": "m", "F": "f"}


def _filtered(qs, level: str, place_ids):
    field = f"{level}_id"
    if place_ids is not None:
        qs = qs.filter(**{f"{field}__in": list(place_ids)})
    return qs, field


def _collect(rows, field: str, key_of) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for r in rows:
        if r[field] is None:
            continue
        place = out.setdefault(r[field], {})
        key = key_of(r)
        place[key] = place.get(key, 0) + r["n"]
    return out


def _current_residents(**more):
    """Houses joined to their open residences (one row per resident): the base of the people metrics.

    Every condition on the residence (or on its person) goes into this ONE ``filter()`` call: a second call
    on a multi-valued relation would join the residences a second time (and count moved-out people)."""
    return House.objects.filter(residences__moved_out__isnull=True, **more)


def houses_by_use(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    qs, field = _filtered(House.objects.all(), level, place_ids)
    rows = qs.order_by().values(field, "use").annotate(n=Count("id"))
    return _collect(rows, field, lambda r: r["use"])


def population(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    qs, field = _filtered(_current_residents(), level, place_ids)
    rows = (qs.order_by().values(field, "residences__person__residency_type")
            .annotate(n=Count("residences__id")))
    return _collect(rows, field, lambda r: r["residences__person__residency_type"] or "other")


def age_band(birth: dt.date | None, today: dt.date) -> str:
    """The 5-year band of someone born on ``birth`` (their age today), as the SQL of :func:`age_pyramid` puts it."""
    if birth is None:
        return "?"
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age >= TOP_BAND:
        return AGE_BANDS[-1]
    return AGE_BANDS[max(age, 0) // BAND_YEARS]


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _band_expression(field: str, today: dt.date):
    """SQL CASE giving the band of ``field`` (a birth date): older than ``a`` years ⇔ born on or before today−a."""
    whens = [When(**{f"{field}__isnull": True}, then=Value("?"))]
    for a in range(TOP_BAND, 0, -BAND_YEARS):
        label = AGE_BANDS[-1] if a == TOP_BAND else AGE_BANDS[a // BAND_YEARS]
        whens.append(When(**{f"{field}__lte": _years_before(today, a)}, then=Value(label)))
    return Case(*whens, default=Value(AGE_BANDS[0]), output_field=CharField())


def age_pyramid(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    today = timezone.localdate()
    qs, field = _filtered(_current_residents(), level, place_ids)
    rows = (qs.order_by().annotate(band=_band_expression("residences__person__birth_date", today))
            .values(field, "residences__person__sex", "band")
            .annotate(n=Count("residences__id")))
    return _collect(rows, field,
                    lambda r: f"{SEX_KEYS.get(r['residences__person__sex'], '?')}:{r['band']}")


def special_groups(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    qs, field = _filtered(_current_residents(residences__person__person_tags__isnull=False), level, place_ids)
    code = "residences__person__person_tags__tag__code"
    rows = qs.order_by().values(field, code).annotate(n=Count("residences__id"))
    return _collect(rows, field, lambda r: r[code])


def _size_expression():
    whens = [When(resident_count=int(k), then=Value(k)) for k in HOUSEHOLD_SIZES[:-1]]
    return Case(*whens, default=Value(HOUSEHOLD_SIZES[-1]), output_field=CharField())


def households_by_size(level: str, place_ids=None) -> dict[int, dict[str, float]]:
    qs, field = _filtered(House.objects.filter(resident_count__gt=0), level, place_ids)
    rows = qs.order_by().annotate(size=_size_expression()).values(field, "size").annotate(n=Count("id"))
    return _collect(rows, field, lambda r: r["size"])


# --- labels and map values ---------------------------------------------------------------------------------------
_TAGS: dict = {"at": 0.0, "rows": []}
TAG_CACHE_S = 60


def tag_labels() -> dict[str, str]:
    """Tag names in the active language (people.Tag through the app registry; no import of people), read at
    most once a minute per process (a board should not pay a query for reference data)."""
    if time.monotonic() - _TAGS["at"] > TAG_CACHE_S:
        Tag = apps.get_model("people", "Tag")
        _TAGS["rows"] = list(Tag.objects.values_list("code", "name", "name_en"))
        _TAGS["at"] = time.monotonic()
    english = (translation.get_language() or "").startswith("en")
    return {code: (name_en if english and name_en else name) for code, name, name_en in _TAGS["rows"]}


def pyramid_labels() -> dict[str, str]:
    return {b: b for b in AGE_BANDS}


def household_labels() -> dict[str, str]:
    return {k: gettext("%(n)s人户") % {"n": k} for k in HOUSEHOLD_SIZES}


def vacancy(values: dict[str, float]) -> float | None:
    total = sum(values.values())
    return (values.get(HouseUse.VACANT, 0) / total) if total else None


def total(values: dict[str, float]) -> float:
    return sum(values.values())


def register_core() -> None:
    """Register the cockpit's own metrics and panels (called from CockpitConfig.ready)."""
    from cockpit import drill
    from cockpit.registry import register_metric, register_panel

    register_metric("cockpit.houses", additive=True, label=_("房屋用途"), compute=houses_by_use,
                    subkey_labels=lambda: dict(HouseUse.choices), map_value=vacancy, map_label=_("空置率"),
                    map_percent=True)
    register_metric("cockpit.population", additive=True, label=_("人口类型"), compute=population,
                    subkey_labels=RESIDENCY_LABELS, map_value=total, map_label=_("现住人口"))
    register_metric("cockpit.age", additive=True, label=_("年龄结构"), compute=age_pyramid,
                    subkey_labels=pyramid_labels)
    register_metric("cockpit.groups", additive=True, label=_("特殊人群"), compute=special_groups, small_cells=True,
                    subkey_labels=tag_labels)
    register_metric("cockpit.households", additive=True, label=_("户规模"), compute=households_by_size,
                    subkey_labels=household_labels)

    register_panel("cockpit.houses", title=_("房屋用途"), metrics=["cockpit.houses"], chart="pie", order=10,
                   drill=drill.houses)
    register_panel("cockpit.population", title=_("人口类型"), metrics=["cockpit.population"], chart="bar",
                   order=20, drill=drill.people)
    register_panel("cockpit.age", title=_("年龄结构（人口金字塔）"), metrics=["cockpit.age"], chart="pyramid",
                   order=30)
    register_panel("cockpit.groups", title=_("特殊人群"), metrics=["cockpit.groups"], chart="bar", order=40,
                   drill=drill.people_tag)
    register_panel("cockpit.households", title=_("户规模"), metrics=["cockpit.households"], chart="bar",
                   order=50, drill=drill.households)


__all__ += ["age_pyramid", "houses_by_use", "households_by_size", "population", "special_groups", "tag_labels"]
