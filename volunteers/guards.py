"""Triggers that make the ledger append-only in the database (not only in Python): UPDATE and DELETE of a transfer
or a movement are refused on PostgreSQL (a row trigger) and on SQLite (BEFORE triggers raising ABORT). A correction
is a new reversing transfer. Installed by migration 0001; the tests check they bite at the SQL level.

Test databases are emptied between transactional tests: on PostgreSQL by TRUNCATE (no row trigger fires), on
SQLite by DELETE, which the test conftest lets through by dropping and re-creating the triggers inside the flush's
own transaction (``flush_bypass``)."""

from __future__ import annotations

__all__ = ["TABLES", "flush_bypass", "install", "install_balance", "remove", "remove_balance"]

TABLES = ("volunteers_transfer", "volunteers_movement")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION volunteers_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused (a correction is a new reversing transfer)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _pg_install() -> list[str]:
    out = [PG_FUNCTION]
    for t in TABLES:
        out += [f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}",
                f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION volunteers_ledger_guard()"]
    return out


def _pg_remove() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in TABLES] + [
        "DROP FUNCTION IF EXISTS volunteers_ledger_guard()"]


def _sqlite_install() -> list[str]:
    out = []
    for t in TABLES:
        for op in ("UPDATE", "DELETE"):
            out.append(f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
                       f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: {op} refused'); END")
    return out


def _sqlite_remove() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in TABLES for op in ("update", "delete")]


def install(connection) -> None:
    statements = {"postgresql": _pg_install, "sqlite": _sqlite_install}.get(connection.vendor, list)()
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def remove(connection) -> None:
    statements = {"postgresql": _pg_remove, "sqlite": _sqlite_remove}.get(connection.vendor, list)()
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


# PostgreSQL also checks, at commit, that every transfer touched has two movements or more summing to zero in each
# unit (a deferred constraint trigger; SQLite has none: there ``volunteers.ledger.post`` is the check).
PG_BALANCE = [
    """
    CREATE OR REPLACE FUNCTION volunteers_transfer_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT COUNT(*) FROM volunteers_movement WHERE transfer_id = NEW.transfer_id) < 2
         OR EXISTS (SELECT 1 FROM volunteers_movement WHERE transfer_id = NEW.transfer_id
                    GROUP BY unit HAVING SUM(amount) <> 0) THEN
        RAISE EXCEPTION 'volunteers_transfer % does not balance: two movements or more summing to zero per unit',
          NEW.transfer_id USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS volunteers_movement_balanced ON volunteers_movement",
    "CREATE CONSTRAINT TRIGGER volunteers_movement_balanced AFTER INSERT ON volunteers_movement "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION volunteers_transfer_balanced()",
]
PG_BALANCE_REMOVE = ["DROP TRIGGER IF EXISTS volunteers_movement_balanced ON volunteers_movement",
                     "DROP FUNCTION IF EXISTS volunteers_transfer_balanced()"]


def install_balance(connection) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for sql in PG_BALANCE:
                cur.execute(sql)


def remove_balance(connection) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for sql in PG_BALANCE_REMOVE:
                cur.execute(sql)


def flush_bypass(vendor: str, statements: list[str]) -> list[str]:
    """A test flush's statements with the SQLite DELETE triggers dropped before and re-created after (PostgreSQL
    truncates, which no row trigger sees)."""
    if vendor != "sqlite" or not any(t in s for s in statements for t in TABLES):
        return statements
    delete_triggers = [s for s in _sqlite_install() if "BEFORE DELETE" in s]
    return [f"DROP TRIGGER IF EXISTS {t}_no_delete" for t in TABLES] + list(statements) + delete_triggers
