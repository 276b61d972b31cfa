"""Benchmark ``import``: the product's people-and-houses import next to a raw load of the same rows.

    python bench/run.py import [--scale S] [--db sqlite|postgres]

Rows: 100,000 × scale for scale ≤ 1 (the 100,000-row sheet of issue 2 at the demo scale), 200,000 above
(a sheet larger than any one community keeps, loaded into a database of scale S). The sheet is an .xlsx
in the shape communities keep (小区 楼栋 单元 房号 姓名 身份证号 联系电话 与户主关系 人口类型 性别 民族 户籍地址
工作单位 房屋用途 面积 入住日期 标签): households of 1-5 people in new compounds of the demo street, valid resident
IDs and mobile numbers, about 30% floating population.

Measured in the same run, on the same database (already holding the demo sub-district at that scale):
  * ``import``: ``people.importer.commit_import`` end to end as a community officer with street scope: read the
    .xlsx, validate every row through ``clean_person_data``, look the natural keys up, encrypt, write, refresh
    counts, check scope, audit, commit;
  * ``raw``: the same rows as pre-computed tuples (encrypted numbers, ids, place keys, values already adapted
    for the database: everything computed beforehand) loaded with the bulk loader the import writes with
    (``core.bulk.BulkLoader.insert_tuples``: COPY on PostgreSQL, executemany on SQLite) into the same indexed
    tables, committed;
  * ``reimport``: the same file again (every row found unchanged, nothing written).
Raw and import alternate twice and the best time of each counts (the 2-core machine is shared); each load's
rows are deleted afterwards (and the tables vacuumed on PostgreSQL) so every load starts from the same tables.

Keys: ``import_rows_per_s``, ``raw_rows_per_s``, ``ratio`` (= import / raw), plus rows, seconds, the file size
and ``reimport_rows_per_s``.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path

NEEDS_DEMO = True
REPEATS = 2  # raw and import alternate; the best of each counts (the machine is shared, its load varies)
BENCH_USER = "bench_importer"
COMPOUND_PREFIX = "导入基准小区"
HEADER = ["小区", "楼栋", "单元", "房号", "姓名", "身份证号", "联系电话", "与户主关系", "人口类型", "性别", "民族",
          "户籍地址", "工作单位", "房屋用途", "面积", "入住日期", "标签"]
OTHER_REGIONS = ["341221", "342401", "410323", "411521", "320826", "321323", "510623", "430524", "362321", "420921"]
WORK = ["苏州元和电子有限公司", "相城区人民医院", "元和街道社区卫生服务中心", "苏州活力物流有限公司", "个体经营",
        "退休",
        "在校学生", "苏州高铁新城建设公司", "相城实验小学", ""]


def rows_for(scale: float) -> int:
    return int(100_000 * scale) if scale <= 1 else 200_000


def setup_user_and_compounds(n_rows: int):
    from django.contrib.auth import get_user_model

    from core.models import Grant
    from core.roles import ensure_default_roles
    from places.models import Compound, Grid, Street

    roles = ensure_default_roles()
    street = Street.objects.order_by("id").first()
    user, created = get_user_model().objects.get_or_create(username=BENCH_USER)
    if created or not Grant.objects.filter(user=user).exists():
        Grant.objects.create(user=user, role=roles["community_officer"], level="street", street_id=street.pk)
    grids = list(Grid.objects.filter(street=street).order_by("id"))
    n_compounds = max(1, n_rows // 1000)
    names = []
    for i in range(n_compounds):
        name = f"{COMPOUND_PREFIX}{i + 1}"
        names.append(name)
        if not Compound.objects.filter(street=street, name=name).exists():
            Compound(grid=grids[i % len(grids)], name=name, kind="residential").save()
    return user, names


def make_rows(n: int, compounds: list[str], seed: int) -> list[list]:
    from demo.identity import NameMaker, local_region, mobile_number, resident_id_number
    from people.models import Person

    rng = random.Random(seed)
    names = NameMaker()
    taken: set[int] = set()
    rows: list[list] = []
    today = dt.date(2026, 1, 1)
    house = 0
    while len(rows) < n:
        compound = compounds[house % len(compounds)]
        k = house // len(compounds)
        building, rest = divmod(k, 72)  # 18 floors × 2 units × 2 rooms a floor
        unit, rest = divmod(rest, 36)
        floor, room = divmod(rest, 2)
        address = [compound, f"{building + 1}幢", f"{unit + 1}单元", f"{floor + 1}{room + 1:02d}室"]
        house += 1
        rented = rng.random() < 0.3
        size = rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5])
        surname = names.surname(rng)
        use = "出租" if rented else "自住"
        area = rng.choice([58, 72, 89, 96, 110, 128, 143])
        for member in range(size):
            age = rng.randint(25, 80) if member < 2 else rng.randint(1, 30)
            birth = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
            sex = rng.choice("MF")
            floating = rented or rng.random() < 0.05
            region = rng.choice(OTHER_REGIONS) if floating else local_region(birth.year)
            number = resident_id_number(rng, region, birth, sex, taken)
            relation = ["户主", "配偶", "子女", "子女", "父母"][member]
            tag = "独居老人" if size == 1 and age >= 70 else ""
            rows.append(address + [
                names.full(rng, sex, birth.year, surname if member != 1 else None), number,
                mobile_number(rng) if age >= 16 else "", relation, "流动人口" if floating else "户籍人口",
                "男" if sex == "M" else "女", "汉族", "" if floating else "江苏省苏州市相城区元和街道",
                rng.choice(WORK), use, area, (today - dt.timedelta(days=rng.randint(30, 4000))).isoformat(), tag,
            ])
            if len(rows) >= n:
                break
    # Numbers that happen to belong to someone already in the demo street would turn creates into moves.
    index = {Person.id_index("resident_id", r[5]): i for i, r in enumerate(rows)}
    keys = list(index)
    clash = set()
    for i in range(0, len(keys), 900):
        clash.update(Person.objects.filter(id_number_bidx__in=keys[i:i + 900]).values_list("id_number_bidx", flat=True))
    drop = {index[k] for k in clash}
    return [r for i, r in enumerate(rows) if i not in drop]


def write_xlsx(rows: list[list], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("实有人口")
    ws.append(["元和街道 实有人口登记表（基准测试）"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)


def cleanup(compound_names: list[str]) -> None:
    """Delete what a run wrote into the bench compounds (raw SQL: the ORM's PROTECT collector is slow)."""
    from django.db import connection, transaction

    from people.models import Person, PersonTag, Residence
    from places.models import Building, Compound, House

    ids = list(Compound.objects.filter(name__in=compound_names).values_list("id", flat=True))
    with transaction.atomic():
        person_ids = list(Residence.objects.filter(house__compound_id__in=ids).values_list("person_id", flat=True)
                          .distinct())
        Residence.objects.filter(house__compound_id__in=ids)._raw_delete(connection.alias)
        for i in range(0, len(person_ids), 900):
            chunk = person_ids[i:i + 900]
            PersonTag.objects.filter(person_id__in=chunk)._raw_delete(connection.alias)
            Person.objects.filter(id__in=chunk, residences__isnull=True)._raw_delete(connection.alias)
        House.objects.filter(compound_id__in=ids)._raw_delete(connection.alias)
        Building.objects.filter(compound_id__in=ids)._raw_delete(connection.alias)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for model in (Residence, Person, House, Building, PersonTag):
                cur.execute(f'VACUUM ANALYZE "{model._meta.db_table}"')
    else:
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run(ctx) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from people import importer

    n = rows_for(ctx.scale)
    user, compounds = setup_user_and_compounds(n)
    cleanup(compounds)
    ctx.log(f"bench import: generating {n} rows...")
    rows = make_rows(n, compounds, ctx.seed)
    tmp = Path(tempfile.mkdtemp(prefix="renfang-bench-"))
    path = tmp / "people.xlsx"
    write_xlsx(rows, path)
    data = path.read_bytes()
    n = len(rows)
    ctx.log(f"bench import: {n} rows, {len(data) / 1e6:.1f} MB; planning the raw tuples...")

    # Raw: the same rows as pre-computed tuples, loaded and committed.
    from core.bulk import BulkLoader
    from people.importer.writer import WRITE_ORDER

    plan = importer.plan_import(data, user, file_name=path.name, precompute=True)
    assert plan.ok, plan.errors[:5]
    loader = BulkLoader()
    with transaction.atomic():
        rows_by_kind = importer.build_rows(plan, timezone.localdate(), timezone.now(), loader)
    tuples = [(model, loader.table(model).tuples(rows_by_kind[key])) for key, model in WRITE_ORDER]
    del plan, rows_by_kind
    raw_times, import_times = [], []
    for attempt in range(REPEATS):
        ctx.log(f"bench import: raw load ({attempt + 1}/{REPEATS})...")
        with ctx.timer() as t:
            with transaction.atomic():
                for model, data_rows in tuples:
                    loader.insert_tuples(model, data_rows)
        raw_times.append(t.seconds)
        cleanup(compounds)
        ctx.log(f"bench import: product import ({attempt + 1}/{REPEATS})...")
        with ctx.timer() as t:
            done = importer.commit_import(data, user, file_name=path.name)
        import_times.append(t.seconds)
        assert done.counts["people_create"] == n, done.counts
        if attempt + 1 < REPEATS:
            cleanup(compounds)
    del tuples

    ctx.log("bench import: re-import (no change)...")
    with ctx.timer() as re_t:
        again = importer.commit_import(data, user, file_name=path.name)
    assert again.counts["people_unchanged"] == n, again.counts
    cleanup(compounds)
    path.unlink()
    tmp.rmdir()

    import_rate = n / min(import_times)
    raw_rate = n / min(raw_times)
    return {
        "rows": n, "file_mb": round(len(data) / 1e6, 1), "houses": done.counts["houses_create"],
        "import_s": round(min(import_times), 2), "raw_s": round(min(raw_times), 2),
        "import_s_each": [round(x, 1) for x in import_times], "raw_s_each": [round(x, 1) for x in raw_times],
        "import_rows_per_s": round(import_rate), "raw_rows_per_s": round(raw_rate),
        "ratio": round(import_rate / raw_rate, 3),
        "reimport_rows_per_s": round(n / re_t.seconds),
    }
