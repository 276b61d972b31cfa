"""One search box for people: name, pinyin initials, full pinyin, ID / passport, phone, address.

``parse`` decides what the text is; ``search_people`` turns it into one indexed filter:

* an identity document number → the blind index ``Person.id_number_bidx`` (exact, never the clear value);
* a mobile number → ``Person.phone_bidx`` (exact);
* letters → both ways, merged by rank: exact full pinyin or initials, then a prefix of ``name_initials``
  ("zs" finds 张三, "aj" finds 艾建), then a prefix of ``name_pinyin`` ("aj" finds 阿晶, "zhangs");
* an address ("3幢301", "A1花园3栋1单元301室") → the current residents of the matching houses;
* Chinese text → name prefix through the pinyin index (surnames read as surnames, as at write time),
  plus the residents of compounds whose name contains the text; one or two characters found at the start
  of no name are looked for anywhere in names ("小明" finds 王小明), inside the user's scope.

Prefix matches are written as ranges (``>= 'zs' AND < 'zt'``) on SQLite, where ``LIKE`` cannot use a binary
index, and as ``LIKE 'zs%'`` on PostgreSQL, where Django adds a ``varchar_pattern_ops`` index to
every indexed CharField. A search by ID or phone is audited (action ``search``) without the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import BooleanField, Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from core import audit
from core.validators import normalise_text, validate_mobile, validate_resident_id
from people.choices import IdType
from people.models import Person, Residence
from people.pinyin import name_pinyin, search_key
from places.filtersets import Address, house_address_q, parse_address, starts_with
from places.models import Compound, House

__all__ = ["Parsed", "address_q", "is_sensitive", "parse", "pinyin_search", "ranked", "search_people", "suggest"]

ID_RE = re.compile(r"\d{17}[\dX]")
PHONE_RE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
DOC_RE = re.compile(r"(?=.*\d)[A-Z0-9]{5,17}")


@dataclass
class Parsed:
    kind: str  # "empty", "id", "doc", "phone", "pinyin", "address", "name"
    text: str
    value: str = ""
    address: Address | None = None


def parse(raw: str) -> Parsed:
    text = normalise_text(raw or "")
    upper = text.upper()
    if not text:
        return Parsed("empty", "")
    if ID_RE.fullmatch(upper):
        try:
            return Parsed("id", text, validate_resident_id(upper).value)
        except ValidationError:
            return Parsed("id", text, upper)
    if PHONE_RE.fullmatch(text):
        try:
            return Parsed("phone", text, validate_mobile(text).value)
        except ValidationError:
            return Parsed("phone", text, text[-11:])
    if text.isascii() and text.isalpha():
        return Parsed("pinyin", text, search_key(text))
    if text.isascii() and DOC_RE.fullmatch(upper) and not text.isdigit():
        return Parsed("doc", text, upper)
    addr = parse_address(text)
    if addr is not None:
        return Parsed("address", text, address=addr)
    return Parsed("name", text, text)


def is_sensitive(raw: str) -> bool:
    """Personal numbers must not travel in a URL: the UI sends these searches in a POST body."""
    return parse(raw).kind in {"id", "phone", "doc"}


def address_q(addr: Address, limit: int = 5000) -> Q:
    """People who live now in a house at the address. The houses are found first (building number and room
    through the (building, unit, room) index), then their current residents."""
    house_ids = list(House.objects.filter(house_address_q(addr)).values_list("pk", flat=True)[:limit])
    residents = Residence.objects.filter(house_id__in=house_ids, moved_out__isnull=True).values("person_id")
    return Q(pk__in=residents)


BRANCH_LIMIT = 1_001  # rows read from each index branch: the person list counts at most 1,000 search matches


def _ids(qs: QuerySet, q: Q, order: str, limit: int = BRANCH_LIMIT) -> list[int]:
    """The first ``limit`` ids of one index range, read in the index's order (it stops after ``limit`` rows)."""
    return list(qs.filter(q).order_by(order).values_list("pk", flat=True)[:limit])


def ranked(qs: QuerySet, branches: list[list[int]]) -> QuerySet:
    """``qs`` limited to the ids of the branches, the rows of an earlier branch first (a person found by two
    branches takes the better rank), each branch in its own index order. Each branch is a bounded index read,
    so the whole costs a few thousand index entries whatever the number of matches."""
    order: dict[int, int] = {}
    for rank, ids in enumerate(branches):
        for pos, pk in enumerate(ids):
            order.setdefault(pk, rank * BRANCH_LIMIT + pos)
    if not order:
        return qs.none()
    # One CASE per branch (not per row): the position inside a branch is the key of that branch's index.
    groups: dict[int, list[int]] = {}
    for pk, key in order.items():
        groups.setdefault(key // BRANCH_LIMIT, []).append(pk)
    if connections[qs.db].vendor == "postgresql":
        # Each id list as one array parameter: thousands of ``IN (%s, …)`` placeholders cost more to build and send
        # than the query costs to run (the page and its count are two such queries).
        qn = connections[qs.db].ops.quote_name
        col = f"{qn(qs.model._meta.db_table)}.{qn(qs.model._meta.pk.column)}"
        ranks = sorted(groups.items())
        rank_expr = RawSQL("CASE " + " ".join(f"WHEN {col} = ANY(%s::bigint[]) THEN {rank}" for rank, _ in ranks)
                           + f" ELSE {len(branches)} END", [ids for _, ids in ranks], output_field=IntegerField())
        found = RawSQL(f"{col} = ANY(%s::bigint[])", [list(order)], output_field=BooleanField())
        return qs.filter(found).annotate(search_rank=rank_expr).order_by("search_rank", "name_pinyin", "id")
    rank_expr = Case(*[When(pk__in=ids, then=Value(rank)) for rank, ids in sorted(groups.items())],
                     default=Value(len(branches)), output_field=IntegerField())
    return qs.filter(pk__in=list(order)).annotate(search_rank=rank_expr).order_by("search_rank", "name_pinyin", "id")


def pinyin_search(qs: QuerySet, key: str) -> QuerySet:
    """Letters, tried both ways and merged by rank: exact (the whole full pinyin or the whole initials), then
    initials that start with the key ("aj" → 艾建 Ai Jian), then full pinyin that starts with it ("aj" → 阿晶
    Ajing). Each branch is one index range read in index order from its own index (``name_initials``,
    ``name_pinyin``), stopping after ``BRANCH_LIMIT`` rows, so a two-letter key matching 18,000 people at
    2.6 million reads a few thousand index entries, never every match.
    """
    if not key:
        return qs
    exact = _ids(qs, Q(name_pinyin=key), "name_pinyin") + _ids(qs, Q(name_initials=key), "name_initials")
    initials = _ids(qs, starts_with("name_initials", key), "name_initials")
    full = _ids(qs, starts_with("name_pinyin", key), "name_pinyin")
    return ranked(qs, [exact, initials, full])


def search_people(qs: QuerySet, raw: str, *, request=None) -> QuerySet:
    """Filter ``qs`` (already restricted to the user's scope) by what the search box holds."""
    p = parse(raw)
    if p.kind == "empty":
        return qs
    if p.kind in {"id", "phone", "doc"}:
        if p.kind == "phone":
            found = qs.filter(phone_bidx=Person.phone_index(p.value))
        elif p.kind == "id":
            found = qs.filter(id_type=IdType.RESIDENT_ID,
                              id_number_bidx=Person.id_index(IdType.RESIDENT_ID, p.value))
        else:
            found = qs.filter(id_number_bidx__in=[Person.id_index(t, p.value) for t in IdType.values
                                                  if t != IdType.RESIDENT_ID])
        if request is not None:
            # Which kind of number and how many matched; never the number (core.audit.record_search).
            audit.record_search(request, ["phone" if p.kind == "phone" else "id_number"], found.count())
        return found
    if p.kind == "pinyin":
        return pinyin_search(qs, p.value)
    if p.kind == "address":
        return qs.filter(address_q(p.address))
    # Chinese (or mixed) text: a name prefix through the pinyin index, or residents of a compound by that name.
    full, _initials = name_pinyin(p.text)
    q = starts_with("name_pinyin", full) & Q(name__startswith=p.text) if full else Q(name__startswith=p.text)
    compound_ids = list(Compound.objects.filter(name__contains=p.text).values_list("pk", flat=True)[:50])
    if compound_ids:
        q |= Q(Exists(Residence.objects.filter(person_id=OuterRef("pk"), moved_out__isnull=True,
                                               house__compound_id__in=compound_ids)))
    found = qs.filter(q)
    if len(p.text) <= 2 and not found.exists():
        # A given name or part of one ("小明"): no index serves it, so it scans the rows of the user's scope.
        # Longer text not found as a name's beginning is not looked for elsewhere in names.
        return qs.filter(name__contains=p.text)
    return found


def suggest(qs: QuerySet, raw: str, *, request=None, limit: int = 8) -> list[Person]:
    """The first people the search box finds as the user types (autocomplete): names, masked numbers only.
    Fewer than two characters of letters suggest nothing (every "z" is a third of the street)."""
    p = parse(raw)
    if p.kind == "empty" or (p.kind == "pinyin" and len(p.value) < 2):
        return []
    if p.kind in {"id", "phone", "doc"} and request is not None:
        found = search_people(qs, raw, request=request)
    else:
        found = search_people(qs, raw)
    return list(found[:limit])
