"""Set-based recompute of freshness and data quality: a handful of SQL statements, never a Python loop per house.

Both PostgreSQL and SQLite run the same statements, with small dialect differences (date arithmetic, "is
distinct from"). A run works either on every house (``recompute_all``) or on a set of houses written into the
temporary table ``quality_scope_h`` (``refresh_houses``: the cheap per-house path used after registry writes).

Steps of a run:
1. ``quality_hc``: per house with current residents, the counts the rules need (residents, tenants,
   householders) and the shortest interval of its residents' tags.
2. HouseStatus: insert the missing rows, then update the rows whose place keys, interval, due date, staleness,
   key-group flag or resident count changed (``UPDATE ... FROM``).
3. ID numbers: a bounded batch of persons whose sealed number changed since it was last checked is decrypted and
   checked in Python (python-stdnum through core.validators); the result is cached on PersonStatus.
4. ``quality_found``: one INSERT ... SELECT per rule (quality/rules.py) of (rule, subject, house, person, detail).
5. Issues: insert the new findings (never one that is open or dismissed already), resolve the open ones that
   were not found again, recount each house's open issues.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid

from django.db import connection, transaction
from django.utils import timezone

from core import crypto

__all__ = ["ID_CHECK_BATCH", "count_open_issues", "ensure_statuses", "mark_houses", "recompute_all",
           "recompute_dirty", "refresh_houses", "schedule_refresh_intervals", "stamp_houses", "stamp_persons"]

log = logging.getLogger("renfang.quality")

ID_CHECK_BATCH = 50_000
DEFAULT_INTERVAL = 180
AUTO_RESOLVE_REASON = "复核时已不再出现（自动）"
CHUNK = 900


def _t(model_label: str) -> str:
    from django.apps import apps

    return connection.ops.quote_name(apps.get_model(model_label)._meta.db_table)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _dt(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _d(value: dt.date):
    return connection.ops.adapt_datefield_value(value)


def _add_days(ts: str, days: str) -> str:
    if _pg():
        return f"({ts} + {days} * INTERVAL '1 day')"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {ts}, '+' || {days} || ' days')"  # always run with params


def _ne() -> str:
    return "IS DISTINCT FROM" if _pg() else "IS NOT"


def _text(expr: str) -> str:
    return f"CAST({expr} AS TEXT)"


def _exec(cur, sql: str, params=()) -> int:
    cur.execute(sql, list(params))
    return cur.rowcount


def _chunks(ids: list[int], n: int = CHUNK):
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


# --- scope tables ---------------------------------------------------------------------------------------------------

def _scope_tables(cur, house_ids: list[int] | None, person_ids: list[int] | None = None) -> tuple[str, str]:
    """Fill the temporary scope tables; return the house and person filters (empty strings for a full run)."""
    if house_ids is None:
        return "", ""
    cur.execute("DROP TABLE IF EXISTS quality_scope_h")
    cur.execute("DROP TABLE IF EXISTS quality_scope_p")
    cur.execute("CREATE TEMP TABLE quality_scope_h (house_id bigint PRIMARY KEY)")
    cur.execute("CREATE TEMP TABLE quality_scope_p (person_id bigint PRIMARY KEY)")
    for part in _chunks(sorted(set(house_ids))):
        cur.execute("INSERT INTO quality_scope_h (house_id) VALUES " + ",".join(["(%s)"] * len(part)), part)
    for part in _chunks(sorted(set(person_ids or ()))):
        cur.execute("INSERT INTO quality_scope_p (person_id) VALUES " + ",".join(["(%s)"] * len(part))
                    + " ON CONFLICT DO NOTHING", part)
    res = _t("people.Residence")
    # The residents (current ones) of the houses in scope, and the houses of the persons in scope.
    cur.execute(f"INSERT INTO quality_scope_p (person_id) SELECT DISTINCT r.person_id FROM {res} r "
                f"WHERE r.moved_out IS NULL AND r.house_id IN (SELECT house_id FROM quality_scope_h) "
                f"AND r.person_id NOT IN (SELECT person_id FROM quality_scope_p)")
    cur.execute(f"INSERT INTO quality_scope_h (house_id) SELECT DISTINCT r.house_id FROM {res} r "
                f"WHERE r.person_id IN (SELECT person_id FROM quality_scope_p) "
                f"AND r.house_id NOT IN (SELECT house_id FROM quality_scope_h)")
    return ("AND {h}.id IN (SELECT house_id FROM quality_scope_h)",
            "AND {p}.id IN (SELECT person_id FROM quality_scope_p)")


def _hf(filt: str, alias: str) -> str:
    return filt.replace("{h}", alias) if filt else ""


def _pf(filt: str, alias: str) -> str:
    return filt.replace("{p}", alias) if filt else ""


# --- step 1 and 2: house aggregates and freshness --------------------------------------------------------------------

def _house_counts(cur, hfilt: str, today: dt.date) -> None:
    res = _t("people.Residence")
    tag, ptag, pol = _t("people.Tag"), _t("people.PersonTag"), _t("quality.FreshnessPolicy")
    cur.execute("DROP TABLE IF EXISTS quality_hc")
    scope = "AND r.house_id IN (SELECT house_id FROM quality_scope_h)" if hfilt else ""
    cur.execute(
        f"CREATE TEMP TABLE quality_hc AS "
        f"SELECT r.house_id AS house_id, COUNT(*) AS n, "
        f"SUM(CASE WHEN r.role = 'tenant' THEN 1 ELSE 0 END) AS tenants, "
        f"SUM(CASE WHEN r.relation = 'householder' THEN 1 ELSE 0 END) AS hh, "
        f"MIN(tp.days) AS tag_days, MIN(r.person_id) AS one_person "
        f"FROM {res} r "
        f"LEFT JOIN (SELECT pt.person_id AS person_id, MIN(fp.interval_days) AS days FROM {ptag} pt "
        f"  JOIN {tag} t ON t.id = pt.tag_id JOIN {pol} fp ON fp.tag_code = t.code GROUP BY pt.person_id) tp "
        f"  ON tp.person_id = r.person_id "
        f"WHERE r.moved_out IS NULL {scope} GROUP BY r.house_id")
    if _pg():
        if hfilt:
            cur.execute("ALTER TABLE quality_hc ADD PRIMARY KEY (house_id)")
        cur.execute("ANALYZE quality_hc")  # a full run hash-joins it: no index to build
    else:
        cur.execute("CREATE UNIQUE INDEX quality_hc_pk ON quality_hc (house_id)")


def _computed(hfilt: str) -> str:
    """Per house: place keys, interval (the shortest of the use's policy and the residents' tags' policies),
    key-group flag and resident count."""
    house, pol = _t("places.House"), _t("quality.FreshnessPolicy")
    interval = (f"(CASE WHEN hc.tag_days IS NOT NULL AND (up.interval_days IS NULL OR hc.tag_days < up.interval_days) "
                f"THEN hc.tag_days ELSE COALESCE(up.interval_days, {DEFAULT_INTERVAL}) END)")
    return (f"(SELECT h.id AS house_id, h.street_id, h.community_id, h.grid_id, h.compound_id, h.building_id, "
            f"  {interval} AS interval_days, (hc.tag_days IS NOT NULL) AS key_group, COALESCE(hc.n, 0) AS residents "
            f"  FROM {house} h LEFT JOIN {pol} up ON up.house_use = h.use AND up.house_use <> '' "
            f"  LEFT JOIN quality_hc hc ON hc.house_id = h.id WHERE 1 = 1 {_hf(hfilt, 'h')})")


def _insert_missing_statuses(cur, hfilt: str, now: dt.datetime) -> int:
    """New houses get their row with everything computed (never verified: stale, no due date)."""
    hs, house = _t("quality.HouseStatus"), _t("places.House")
    if not hfilt:
        # A status row goes when its house goes (CASCADE): equal counts mean every house has its row.
        cur.execute(f"SELECT (SELECT COUNT(*) FROM {house}), (SELECT COUNT(*) FROM {hs})")
        houses, statuses = cur.fetchone()
        if houses == statuses:
            return 0
    return _exec(cur,
                 f"INSERT INTO {hs} (house_id, street_id, community_id, grid_id, compound_id, building_id, version, "
                 f"created_at, updated_at, last_verified_method, interval_days, is_stale, key_group, residents, "
                 f"open_issues, needs_recompute, computed_at) "
                 f"SELECT c.house_id, c.street_id, c.community_id, c.grid_id, c.compound_id, c.building_id, 1, %s, %s, "
                 f"'', c.interval_days, TRUE, c.key_group, c.residents, 0, FALSE, %s FROM {_computed(hfilt)} c "
                 f"WHERE NOT EXISTS (SELECT 1 FROM {hs} s WHERE s.house_id = c.house_id)",
                 [_dt(now), _dt(now), _dt(now)])


def _update_freshness(cur, hfilt: str, now: dt.datetime) -> int:
    """Due = last verification + interval; stale when never verified or past due. Only changed rows are written."""
    hs = _t("quality.HouseStatus")
    ne = _ne()
    due = _add_days("s.last_verified_at", "c.interval_days")
    now_p = _dt(now)
    sql = (
        f"UPDATE {hs} AS s SET street_id = c.street_id, community_id = c.community_id, grid_id = c.grid_id, "
        f"compound_id = c.compound_id, building_id = c.building_id, interval_days = c.interval_days, "
        f"key_group = c.key_group, residents = c.residents, due_at = {due}, "
        f"is_stale = (s.last_verified_at IS NULL OR {due} < %s), computed_at = %s, needs_recompute = FALSE "
        f"FROM {_computed(hfilt)} c "
        f"WHERE s.house_id = c.house_id AND (s.interval_days {ne} c.interval_days OR s.key_group {ne} c.key_group "
        f"  OR s.residents {ne} c.residents OR s.grid_id {ne} c.grid_id OR s.building_id {ne} c.building_id "
        f"  OR s.community_id {ne} c.community_id OR s.street_id {ne} c.street_id "
        f"  OR s.compound_id {ne} c.compound_id OR s.needs_recompute "
        f"  OR s.due_at {ne} {due} OR s.is_stale {ne} (s.last_verified_at IS NULL OR {due} < %s))"
    )
    n = _exec(cur, sql, [now_p, now_p, now_p])
    # Homes that went stale just by the passing of time (their figures did not change).
    n += _exec(cur, f"UPDATE {hs} AS s SET is_stale = TRUE WHERE s.is_stale = FALSE AND s.due_at < %s "
                    f"{_hf(hfilt, 's').replace('s.id', 's.house_id')}", [now_p])
    return n


# --- step 3: ID numbers ---------------------------------------------------------------------------------------------

def check_id_numbers(limit: int = ID_CHECK_BATCH, person_ids: list[int] | None = None) -> int:
    """Decrypt and check the resident ID numbers that changed since their last check (at most ``limit``)."""
    from people.models import Person

    per, ps = _t("people.Person"), _t("quality.PersonStatus")
    ne = _ne()
    sql = (f"SELECT p.id, p.id_number_enc, p.id_number_bidx, p.birth_date, p.sex, p.seal_id FROM {per} p "
           f"LEFT JOIN {ps} s ON s.person_id = p.id "
           f"WHERE p.id_type = 'resident_id' AND p.id_number_bidx <> '' AND (s.person_id IS NULL "
           f"OR s.id_checked_bidx {ne} p.id_number_bidx OR s.id_checked_birth {ne} p.birth_date "
           f"OR s.id_checked_sex {ne} p.sex)")
    params: list = []
    if person_ids is not None:
        if not person_ids:
            return 0
        sql += " AND p.id IN (" + ",".join(["%s"] * len(person_ids)) + ")"
        params = list(person_ids)
    sql += f" ORDER BY p.id LIMIT {int(limit)}"
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    if not rows:
        return 0
    today = timezone.localdate()
    tmp = Person()
    out = []
    for pid, enc, bidx, birth, sex, seal_id in rows:
        if isinstance(birth, str):
            birth = dt.date.fromisoformat(birth)
        tmp.id_number_enc = enc
        tmp.seal_id = seal_id if isinstance(seal_id, uuid.UUID) else uuid.UUID(seal_id)  # SQLite: 32 hex digits
        try:
            number = tmp.reveal_id_number() if enc else ""
        except crypto.Unreadable:
            number = ""  # logged by crypto.open; the quality board lists the number as invalid (to be re-entered)
        out.append((pid, "", bidx, _d(birth) if birth else None, sex or "", _id_problem(number, birth, sex, today)))
    batch = 5000 if _pg() else 500  # 30,000 parameters a statement on PostgreSQL; SQLite allows fewer
    with connection.cursor() as cur:
        for i in range(0, len(out), batch):
            part = out[i:i + batch]
            cur.execute(f"INSERT INTO {ps} (person_id, last_verified_method, id_checked_bidx, id_checked_birth, "
                        f"id_checked_sex, id_problem) VALUES " + ",".join(["(%s, %s, %s, %s, %s, %s)"] * len(part))
                        + " ON CONFLICT (person_id) DO UPDATE SET id_checked_bidx = excluded.id_checked_bidx, "
                        "id_checked_birth = excluded.id_checked_birth, id_checked_sex = excluded.id_checked_sex, "
                        "id_problem = excluded.id_problem", [v for row in part for v in row])
    return len(out)


def _id_problem(number: str, birth: dt.date | None, sex: str, today: dt.date) -> str:
    """GB 11643 (python-stdnum cn.ric check digit), a real birth date not in the future nor before 1880,
    and the registered birth date and sex against the number's. Region codes are not judged here (a warning at
    entry, people.services)."""
    from stdnum.cn import ric

    number = (number or "").strip().upper()
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "invalid"
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "invalid"
    if born > today or born.year < 1880 or ric.calc_check_digit(number) != number[17]:
        return "invalid"
    if birth is not None and birth != born:
        return "birth"
    if sex and sex != ("M" if int(number[16]) % 2 else "F"):
        return "sex"
    return ""


# --- step 4: the rules ----------------------------------------------------------------------------------------------

def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _rule_sql(hfilt: str, pfilt: str, today: dt.date) -> list[tuple[str, str, list]]:
    """(rule code, SELECT of (subject, house_id, person_id, detail), params) for every rule.

    Person rules start from the person table (current residents only) and look the home up for the few flagged
    rows only (index on residence(person, moved_out)); house rules start from the houses and ``quality_hc``.
    """
    house, res, per, ps = _t("places.House"), _t("people.Residence"), _t("people.Person"), _t("quality.PersonStatus")
    T = _text
    hh = _hf(hfilt, "h")
    pp = _pf(pfilt, "p")
    home = f"(SELECT MIN(r.house_id) FROM {res} r WHERE r.person_id = p.id AND r.moved_out IS NULL)"
    pers = f"'0:' || {T('p.id')}"
    hsub = f"{T('h.id')} || ':0'"
    cut110 = _d(_years_before(today, 110))
    minor_cut = _d(_years_before(today, 18))
    is_head = (f"EXISTS (SELECT 1 FROM {res} rh WHERE rh.person_id = p.id AND rh.moved_out IS NULL "
               f"AND rh.relation = 'householder')")
    xj = "JOIN" if _pg() else "CROSS JOIN"  # SQLite: keep this join order (the few flagged statuses first)
    scoped_res = "AND person_id IN (SELECT person_id FROM quality_scope_p)" if pfilt else ""
    rules: list[tuple[str, str, list]] = [
        ("missing_fields",
         f"SELECT {pers}, {home}, p.id, "
         f"(CASE WHEN p.id_number_bidx = '' THEN '证件号码 ' ELSE '' END"
         f" || CASE WHEN p.sex = '' THEN '性别 ' ELSE '' END"
         f" || CASE WHEN p.birth_date IS NULL THEN '出生日期 ' ELSE '' END"
         f" || CASE WHEN p.phone_bidx = '' AND {is_head} THEN '户主联系电话' ELSE '' END) "
         f"FROM {per} p WHERE p.is_current AND (p.id_number_bidx = '' OR p.sex = '' OR p.birth_date IS NULL "
         f"OR (p.phone_bidx = '' AND {is_head})) {pp}", []),
        # Raised by an import (quality.signals.import_findings) and found again while the phone is still empty.
        ("import_phone_dropped",
         f"SELECT i.subject, i.house_id, i.person_id, i.detail FROM {_t('quality.QualityIssue')} i "
         f"JOIN {per} p ON p.id = i.person_id WHERE i.rule = 'import_phone_dropped' AND i.status = 'open' "
         f"AND p.phone_bidx = '' AND p.is_current {pp}", []),
        ("house_area_missing",
         f"SELECT {hsub}, h.id, NULL, '' FROM {house} h WHERE h.area IS NULL AND h.use <> 'commercial' {hh}", []),
    ]
    for code, problem in (("id_invalid", "invalid"), ("id_birth_mismatch", "birth"), ("id_sex_mismatch", "sex")):
        rules.append((code,
                      f"SELECT {pers}, {home}, p.id, '' FROM {ps} s {xj} {per} p ON p.id = s.person_id "
                      f"WHERE s.id_problem = '{problem}' AND s.id_problem <> '' AND p.is_current "
                      f"AND s.id_checked_bidx = p.id_number_bidx || '' {pp}", []))
    rules += [
        ("two_homes",
         f"SELECT '0:' || {T('t.person_id')}, t.house_id, t.person_id, '同时现住' || {T('t.homes')} || '处' FROM "
         f"(SELECT person_id, MIN(house_id) AS house_id, COUNT(*) AS homes FROM {res} WHERE moved_out IS NULL "
         f"{scoped_res} GROUP BY person_id HAVING COUNT(*) > 1) t", []),
        ("vacant_with_residents",
         f"SELECT {hsub}, h.id, NULL, '现住' || {T('hc.n')} || '人' FROM {house} h "
         f"JOIN quality_hc hc ON hc.house_id = h.id WHERE h.use = 'vacant' {hh}", []),
        ("rented_no_tenant",
         f"SELECT {hsub}, h.id, NULL, '现住' || {T('COALESCE(hc.n, 0)')} || '人，其中租户0人' FROM {house} h "
         f"LEFT JOIN quality_hc hc ON hc.house_id = h.id WHERE h.use = 'rented' AND COALESCE(hc.tenants, 0) = 0 {hh}",
         []),
        ("overcrowded",
         f"SELECT {hsub}, h.id, NULL, '现住' || {T('hc.n')} || '人，面积' || {T('CAST(h.area AS INTEGER)')} || '㎡' "
         f"FROM quality_hc hc JOIN {house} h ON h.id = hc.house_id "
         f"WHERE hc.n > 2 AND h.area IS NOT NULL AND hc.n > h.area / 8 + 2 {hh}", []),
        ("minor_alone",
         f"SELECT {hsub}, h.id, NULL, '' FROM quality_hc hc JOIN {house} h ON h.id = hc.house_id "
         f"JOIN {per} q ON q.id = hc.one_person WHERE hc.n = 1 AND q.birth_date > %s {hh}", [minor_cut]),
        ("age_over_110",
         f"SELECT {pers}, {home}, p.id, '出生于' || {T('p.birth_date')} FROM {per} p "
         f"WHERE p.is_current AND p.birth_date < %s {pp}", [cut110]),
        ("householder_missing",
         f"SELECT {hsub}, h.id, NULL, '现住' || {T('hc.n')} || '人，无户主' FROM quality_hc hc "
         f"JOIN {house} h ON h.id = hc.house_id WHERE hc.hh = 0 AND h.use IN ('owner', 'rented', 'vacant', 'other')"
         f" {hh}", []),
    ]
    # Same name and birth date in one building: candidates first, the (name, birth date) pairs held by two current
    # residents anywhere (one pass over the person table, no join), then their buildings.
    cand = (f"(SELECT p.id AS id, r.house_id AS house_id, h.building_id AS building_id, p.name AS name, "
            f"p.birth_date AS birth_date FROM (SELECT q.name AS name, q.birth_date AS birth_date FROM {per} q "
            f"WHERE q.is_current AND q.birth_date IS NOT NULL GROUP BY q.name, q.birth_date HAVING COUNT(*) > 1) c "
            f"JOIN {per} p ON p.name = c.name AND p.birth_date = c.birth_date AND p.is_current "
            f"JOIN {res} r ON r.person_id = p.id AND r.moved_out IS NULL JOIN {house} h ON h.id = r.house_id)")
    if pfilt:
        rules += [
            ("duplicate_id",
             f"SELECT {pers}, {home}, p.id, '' FROM {per} p WHERE p.is_current AND p.id_number_bidx <> '' "
             f"AND EXISTS (SELECT 1 FROM {per} q WHERE q.id_number_bidx = p.id_number_bidx AND q.id <> p.id) {pp}",
             []),
            ("duplicate_name_birth",
             f"SELECT {pers}, {home}, p.id, '' FROM {per} p WHERE p.is_current AND p.birth_date IS NOT NULL "
             f"AND EXISTS (SELECT 1 FROM {res} r1 JOIN {house} h1 ON h1.id = r1.house_id "
             f"  JOIN {house} h2 ON h2.building_id = h1.building_id "
             f"  JOIN {res} r2 ON r2.house_id = h2.id AND r2.moved_out IS NULL "
             f"  JOIN {per} q ON q.id = r2.person_id "
             f"  WHERE r1.person_id = p.id AND r1.moved_out IS NULL AND q.name = p.name "
             f"  AND q.birth_date = p.birth_date AND q.id <> p.id) {pp}", []),
        ]
    else:
        rules += [
            # (id_type, id_number_bidx) is unique, so two records sharing an index differ in type: at least one is
            # not a resident ID. Start from those few and probe the index for the others.
            ("duplicate_id",
             f"SELECT {pers}, {home}, p.id, '' FROM {per} p WHERE p.is_current AND p.id_number_bidx IN ("
             f"SELECT q.id_number_bidx FROM {per} q WHERE q.id_type <> 'resident_id' AND q.id_number_bidx <> '' "
             f"AND EXISTS (SELECT 1 FROM {per} o WHERE o.id_number_bidx = q.id_number_bidx AND o.id <> q.id))", []),
            ("duplicate_name_birth",
             f"SELECT '0:' || {T('x.id')}, MIN(x.house_id), x.id, '' FROM {cand} x "
             f"JOIN (SELECT y.building_id, y.name, y.birth_date FROM {cand} y "
             f"GROUP BY y.building_id, y.name, y.birth_date HAVING COUNT(DISTINCT y.id) > 1) d "
             f"ON d.building_id = x.building_id AND d.name = x.name AND d.birth_date = x.birth_date GROUP BY x.id",
             []),
        ]
    return rules


def _find(cur, hfilt: str, pfilt: str, today: dt.date) -> dict[str, int]:
    cur.execute("DROP TABLE IF EXISTS quality_found")
    cur.execute("CREATE TEMP TABLE quality_found (rule varchar(32), subject varchar(40), house_id bigint, "
                "person_id bigint, detail varchar(300))")
    counts = {}
    for code, select, params in _rule_sql(hfilt, pfilt, today):
        select = select.replace("SELECT ", "SELECT %s, ", 1)
        counts[code] = _exec(cur, f"INSERT INTO quality_found (rule, subject, house_id, person_id, detail) {select}",
                             [code, *params])
    cur.execute("CREATE INDEX quality_found_key ON quality_found (rule, subject)")
    if _pg():
        cur.execute("ANALYZE quality_found")
    return counts


# --- step 5: issues -------------------------------------------------------------------------------------------------

def _apply_issues(cur, hfilt: str, pfilt: str, now: dt.datetime) -> tuple[int, int]:
    qi, house = _t("quality.QualityIssue"), _t("places.House")
    now_p = _dt(now)
    opened = _exec(cur,
                   f"INSERT INTO {qi} (rule, subject, house_id, person_id, street_id, community_id, grid_id, "
                   f"building_id, detail, status, found_at, reason, version, created_at, updated_at) "
                   f"SELECT f.rule, f.subject, f.house_id, f.person_id, h.street_id, h.community_id, h.grid_id, "
                   f"h.building_id, COALESCE(f.detail, ''), 'open', %s, '', 1, %s, %s FROM quality_found f "
                   f"LEFT JOIN {house} h ON h.id = f.house_id WHERE NOT EXISTS (SELECT 1 FROM {qi} i "
                   f"WHERE i.rule = f.rule AND i.subject = f.subject AND i.status IN ('open', 'dismissed')) "
                   f"ON CONFLICT DO NOTHING", [now_p, now_p, now_p])
    scope = ""
    if hfilt:
        scope = ("AND (i.house_id IN (SELECT house_id FROM quality_scope_h) "
                 "OR i.person_id IN (SELECT person_id FROM quality_scope_p))")
    resolved = _exec(cur,
                     f"UPDATE {qi} AS i SET status = 'resolved', resolved_at = %s, updated_at = %s, reason = %s, "
                     f"version = i.version + 1 WHERE i.status = 'open' {scope} AND NOT EXISTS (SELECT 1 FROM "
                     f"quality_found f WHERE f.rule = i.rule AND f.subject = i.subject)",
                     [now_p, now_p, AUTO_RESOLVE_REASON])
    return opened, resolved


def _count_open(cur, hfilt: str) -> int:
    qi, hs = _t("quality.QualityIssue"), _t("quality.HouseStatus")
    scope = "AND s.house_id IN (SELECT house_id FROM quality_scope_h)" if hfilt else ""
    n = _exec(cur,
              f"UPDATE {hs} AS s SET open_issues = c.n FROM (SELECT house_id, COUNT(*) AS n FROM {qi} "
              f"WHERE status = 'open' AND house_id IS NOT NULL GROUP BY house_id) c "
              f"WHERE s.house_id = c.house_id AND s.open_issues {_ne()} c.n {scope}")
    n += _exec(cur,
               f"UPDATE {hs} AS s SET open_issues = 0 WHERE s.open_issues > 0 {scope} AND NOT EXISTS "
               f"(SELECT 1 FROM {qi} i WHERE i.house_id = s.house_id AND i.status = 'open')")
    return n


def count_open_issues(house_ids: list[int]) -> None:
    from django.db.models import Count

    from quality.models import HouseStatus, QualityIssue

    counts = dict(QualityIssue.objects.filter(house_id__in=house_ids, status="open").values_list("house_id")
                  .annotate(n=Count("id")).values_list("house_id", "n"))
    for hid in house_ids:
        HouseStatus.objects.filter(pk=hid).update(open_issues=counts.get(hid, 0))


# --- runs -----------------------------------------------------------------------------------------------------------

def _run(house_ids: list[int] | None, person_ids: list[int] | None = None, *, now: dt.datetime | None = None,
         id_limit: int = ID_CHECK_BATCH) -> dict:
    now = now or timezone.now()
    today = timezone.localdate(now)
    t0 = time.perf_counter()
    stats: dict = {}
    with transaction.atomic(), connection.cursor() as cur:
        if _pg() and house_ids is None:
            cur.execute("SET LOCAL work_mem = '256MB'")  # the GROUP BYs of a full run hash in memory
            cur.execute("SET LOCAL jit = off")  # JIT compiling costs ~1 s a statement and saves less here
        hfilt, pfilt = _scope_tables(cur, house_ids, person_ids)
        if hfilt:
            cur.execute("SELECT person_id FROM quality_scope_p")
            scoped_people = [r[0] for r in cur.fetchall()]
            stats["id_checked"] = check_id_numbers(id_limit, scoped_people)
        else:
            stats["id_checked"] = check_id_numbers(id_limit)
        t1 = time.perf_counter()
        _house_counts(cur, hfilt, today)
        stats["inserted"] = _insert_missing_statuses(cur, hfilt, now)
        stats["updated"] = _update_freshness(cur, hfilt, now)
        t2 = time.perf_counter()
        stats["found"] = _find(cur, hfilt, pfilt, today)
        stats["opened"], stats["resolved"] = _apply_issues(cur, hfilt, pfilt, now)
        _count_open(cur, hfilt)
        for table in ("quality_found", "quality_hc", "quality_scope_h", "quality_scope_p"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        t3 = time.perf_counter()
    stats.update(id_s=round(t1 - t0, 3), freshness_s=round(t2 - t1, 3), rules_s=round(t3 - t2, 3),
                 seconds=round(time.perf_counter() - t0, 3))
    return stats


def recompute_all(*, now: dt.datetime | None = None, id_limit: int = ID_CHECK_BATCH) -> dict:
    """Every house: freshness, the ID-check backlog (bounded), every rule, issues and counts."""
    stats = _run(None, now=now, id_limit=id_limit)
    log.info("quality recompute: %s", stats)
    return stats


def refresh_houses(house_ids: list[int], person_ids: list[int] | None = None, *,
                   now: dt.datetime | None = None) -> dict:
    """The cheap per-house path: these houses (and these persons' houses) only."""
    if not house_ids and not person_ids:
        return {}
    return _run(list(house_ids), list(person_ids or ()), now=now)


def recompute_dirty(*, now: dt.datetime | None = None, limit: int = 20_000) -> dict:
    """Houses marked by the registry's signals, and houses that have no status yet."""
    from quality.models import HouseStatus

    ids = list(HouseStatus.objects.filter(needs_recompute=True).values_list("pk", flat=True)[:limit])
    house, hs = _t("places.House"), _t("quality.HouseStatus")
    with connection.cursor() as cur:
        cur.execute(f"SELECT h.id FROM {house} h WHERE NOT EXISTS (SELECT 1 FROM {hs} s WHERE s.house_id = h.id) "
                    f"LIMIT {int(limit)}")
        ids += [r[0] for r in cur.fetchall()]
    if not ids:
        return {"houses": 0}
    stats = refresh_houses(ids, now=now)
    stats["houses"] = len(ids)
    return stats


def ensure_statuses(house_ids: list[int]) -> None:
    """Make sure these houses have a status row (computed, not just inserted)."""
    from quality.models import HouseStatus

    have = set(HouseStatus.objects.filter(pk__in=house_ids).values_list("pk", flat=True))
    missing = [h for h in house_ids if h not in have]
    if missing:
        refresh_houses(missing)


def stamp_houses(house_ids: list[int], at: dt.datetime, method: str, by: int | None) -> int:
    from django.db.models import Q

    from quality.models import HouseStatus

    ensure_statuses(house_ids)
    n = 0
    for part in _chunks(house_ids):
        n += HouseStatus.objects.filter(Q(last_verified_at__isnull=True) | Q(last_verified_at__lte=at),
                                        pk__in=part).update(last_verified_at=at, last_verified_method=method,
                                                            last_verified_by_id=by, updated_at=timezone.now())
    _refresh_due(house_ids)
    return n


def _refresh_due(house_ids: list[int]) -> None:
    """Due date and staleness of these houses from their (unchanged) interval and new stamp."""
    hs = _t("quality.HouseStatus")
    now_p = _dt(timezone.now())
    due = _add_days("last_verified_at", "interval_days")
    with connection.cursor() as cur:
        for part in _chunks(house_ids):
            cur.execute(f"UPDATE {hs} SET due_at = {due}, is_stale = (last_verified_at IS NULL OR {due} < %s) "
                        f"WHERE house_id IN ({','.join(['%s'] * len(part))})", [now_p, *part])


def stamp_persons(person_ids: list[int], at: dt.datetime, method: str, by: int | None) -> int:
    from django.db.models import Q

    from quality.models import PersonStatus

    have = set(PersonStatus.objects.filter(pk__in=person_ids).values_list("pk", flat=True))
    PersonStatus.objects.bulk_create([PersonStatus(person_id=p) for p in person_ids if p not in have],
                                     ignore_conflicts=True)
    n = 0
    for part in _chunks(person_ids):
        n += PersonStatus.objects.filter(Q(last_verified_at__isnull=True) | Q(last_verified_at__lte=at),
                                         pk__in=part).update(last_verified_at=at, last_verified_method=method,
                                                             last_verified_by_id=by)
    return n


# --- marks from the registry's signals -----------------------------------------------------------------------------

_pending = threading.local()


def mark_houses(house_ids: list[int], person_ids: list[int] = ()) -> None:
    """Mark houses for the per-house recompute, run once when the current transaction commits."""
    from quality.models import HouseStatus

    ids = [h for h in house_ids if h]
    if ids:
        HouseStatus.objects.filter(pk__in=ids, needs_recompute=False).update(needs_recompute=True)
    state = getattr(_pending, "state", None)
    if state is None:
        state = _pending.state = {"houses": set(), "persons": set()}
    state["houses"].update(ids)
    state["persons"].update(p for p in person_ids if p)
    # One callback per mark; the first to run refreshes everything pending, the others find nothing left.
    transaction.on_commit(_flush_pending)


def _flush_pending() -> None:
    state = getattr(_pending, "state", None)
    _pending.state = None
    if not state:
        return
    try:
        refresh_houses(sorted(state["houses"]), sorted(state["persons"]))
    except Exception:  # the periodic incremental job picks the marked houses up
        log.exception("quality: per-house refresh failed; left for the periodic job")


def schedule_refresh_intervals() -> None:
    """After a policy change: mark every house so the next incremental run (or the full run) refreshes it."""
    from quality.models import HouseStatus

    HouseStatus.objects.filter(needs_recompute=False).update(needs_recompute=True)
