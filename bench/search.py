"""Person search and page server times: ``python bench/run.py search [--scale S] [--db sqlite|postgres]``.

Measured for a user who sees the whole street (the widest scope, so the slowest case):

* exact search by resident ID and by mobile number (blind-index lookups): the person list's query, i.e. the
  first page of 50 rows plus the count, through ``PersonFilterSet`` exactly as the list page runs it
  (``id_query_*``: the same without the FilterSet's form machinery, i.e. ``people.search.search_people``);
* pinyin / name search: initials ("zs"), longer initials, full pinyin, a name in characters;
* page server time through Django's test client (all middleware, templates, audit writes): the building view
  of the largest building, a house page, the person list, a pinyin search, a search by ID (POST).

Figures: ``id_p50_ms``/``id_p99_ms``, ``phone_p50_ms``/``phone_p99_ms``, ``pinyin_p50_ms``/``pinyin_p99_ms``,
``page_ms`` (each page's median), ``page_ms_max`` (the slowest page's median) and ``page_ms_worst`` (the single
slowest request). On PostgreSQL the plans of the ID and pinyin queries are checked for sequential scans of
the person table (``seq_scan``).
"""

from __future__ import annotations

import random
import statistics

__all__ = ["NEEDS_DEMO", "run"]

NEEDS_DEMO = True
SAMPLES = 300
PAGE_RUNS = 10


def bench_user():
    from django.contrib.auth import get_user_model

    from core.models import Grant
    from core.roles import ensure_default_roles
    from places.models import Street

    roles = ensure_default_roles()
    user, created = get_user_model().objects.get_or_create(username="bench_search")
    if created or not Grant.objects.filter(user=user).exists():
        street = Street.objects.order_by("pk").first()
        Grant.objects.create(user=user, role=roles["community_officer"], level="street", street_id=street.pk,
                             reason="bench")
    return user


def list_page(qs) -> tuple[list, int]:
    """What the person list does with a search: one page of rows and the count, capped as the list caps it."""
    from core.views import ObjectListView

    cap = ObjectListView.search_count_cap
    return list(qs[:50]), qs[: cap + 1].count()


def run(ctx) -> dict:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from people.filtersets import PersonFilterSet
    from people.models import Person
    from people.pinyin import name_pinyin
    from people.search import search_people
    from places.models import Building, House

    rng = random.Random(ctx.seed)
    # Without statistics both databases read every person through the street_id index (one street: all rows)
    # and PostgreSQL here runs without autovacuum. The demo generator and the importer should leave
    # statistics behind after a bulk load; this makes sure, and says so.
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            has_stats = cur.fetchone()[0] and cur.execute(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'people_person'").fetchone()[0]
        else:
            cur.execute("SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL FROM pg_stat_user_tables "
                        "WHERE relname = 'people_person'")
            row = cur.fetchone()
            has_stats = bool(row and row[0])
        if not has_stats:
            ctx.log("search: the database has no planner statistics for people_person; running ANALYZE")
            cur.execute("ANALYZE")
    figures_extra = {"analyzed_first": not has_stats}
    user = bench_user()
    total = Person.objects.count()
    ctx.log(f"search: {total} people")
    max_id = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    sample_ids = sorted({rng.randint(1, max_id) for _ in range(SAMPLES * 2)})
    sample = list(Person.objects.filter(pk__in=sample_ids).exclude(id_number_enc="")
                  .only("id", "name", "id_number_enc", "phone_enc", "id_type", "seal_id")[:SAMPLES])
    ids = [p.reveal_id_number() for p in sample if p.id_type == "resident_id"]
    phones = [p.reveal_phone() for p in sample if p.phone_enc]
    names = [p.name for p in sample]

    def search(q: str):
        visible = Person.objects.restrict(user, "view")
        fs = PersonFilterSet({"q": q}, queryset=visible, request=None)
        return list_page(fs.qs)

    def search_query(q: str):
        return list_page(search_people(Person.objects.restrict(user, "view"), q))

    for q in ids[:5] + names[:5]:  # warm caches and connections
        search(q)
    id_ms = [ctx.time_ms(search, q) for q in ids]
    id_query_ms = [ctx.time_ms(search_query, q) for q in ids]
    missed = sum(1 for q in ids[:50] if not search(q)[0])
    phone_ms = [ctx.time_ms(search, q) for q in phones]
    queries = []
    for name in names:
        full, initials = name_pinyin(name)
        queries += [initials[:2], initials, full, name]
    rng.shuffle(queries)
    pinyin_ms = [ctx.time_ms(search, q) for q in queries]

    figures = {
        "people": total,
        **ctx.percentiles(id_ms, "id"),
        **ctx.percentiles(id_query_ms, "id_query"),
        **ctx.percentiles(phone_ms, "phone"),
        **ctx.percentiles(pinyin_ms, "pinyin"),
        "id_missed": missed,
        **figures_extra,
    }

    if connection.vendor == "postgresql":
        plans = {}
        for label, q in (("id", ids[0]), ("pinyin", queries[0]), ("initials", "zs")):
            fs = PersonFilterSet({"q": q}, queryset=Person.objects.restrict(user, "view"), request=None)
            sql, params = fs.qs[:50].query.sql_with_params()
            with connection.cursor() as cur:
                cur.execute("EXPLAIN " + sql, params)
                plan = "\n".join(r[0] for r in cur.fetchall())
            plans[label] = plan
            ctx.log(f"--- EXPLAIN {label} ---\n{plan}")
        figures["seq_scan"] = any("Seq Scan on people_person" in p for p in plans.values())

    # Page server times through the whole stack.
    client = Client()
    client.force_login(user)
    building = (Building.objects.order_by("-floors", "-units", "pk").first())
    busiest = (House.objects.filter(building=building).order_by("-resident_count", "pk").first()
               or House.objects.order_by("-resident_count").first())
    pages = {
        "building_view": ("get", reverse("places:building", args=[building.pk]), None),
        "house": ("get", reverse("places:house", args=[busiest.pk]), None),
        "person_list": ("get", reverse("people:person_list"), None),
        "person_search_pinyin": ("get", reverse("people:person_list") + "?q=" + queries[0], None),
        "search_by_id": ("post", reverse("people:search"), {"q": ids[1]}),
        "house_list": ("get", reverse("places:house_list"), None),
    }
    page_ms: dict[str, float] = {}
    worst = 0.0
    for label, (method, url, data) in pages.items():
        def fetch(method=method, url=url, data=data):
            response = client.post(url, data) if method == "post" else client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        fetch()
        runs = [ctx.time_ms(fetch) for _ in range(PAGE_RUNS)]
        page_ms[label] = round(statistics.median(runs), 1)
        worst = max(worst, max(runs))
    figures.update({"page_ms": page_ms, "page_ms_max": max(page_ms.values()), "page_ms_worst": round(worst, 1),
                    "building_houses": House.objects.filter(building=building).count()})
    return figures
