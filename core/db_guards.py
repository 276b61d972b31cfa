"""Database triggers that make the audit table append-only, and the one controlled way around them.

PostgreSQL: a row trigger refuses UPDATE and DELETE, a statement trigger refuses TRUNCATE, unless the
transaction set ``renfang.audit_purge = 'on'`` (``SET LOCAL``), which only ``core.audit.purge`` does, and
which never allows an UPDATE. SQLite: two triggers raise on UPDATE and DELETE; the purge drops the DELETE
trigger and creates it again inside its own transaction (SQLite DDL is transactional).

The migration ``core/0002_audit_append_only`` installs them; tests check they are present and bite.
"""

from __future__ import annotations

__all__ = ["PG_INSTALL", "PG_REMOVE", "SQLITE_DELETE_TRIGGER", "SQLITE_INSTALL", "SQLITE_REMOVE", "install",
           "purge_bypass_statements", "remove", "wrap_flush"]

TABLE = "core_auditevent"

PG_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION renfang_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('renfang.audit_purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
          RETURN OLD;
        END IF;
        RETURN NULL;
      END IF;
      RAISE EXCEPTION 'core_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION renfang_audit_guard()",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION renfang_audit_guard()",
]
PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS renfang_audit_guard()",
]

SQLITE_UPDATE_TRIGGER = (f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
                         "BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only: UPDATE refused'); END")
SQLITE_DELETE_TRIGGER = (f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
                         "BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only: DELETE refused'); END")
SQLITE_INSTALL = [SQLITE_UPDATE_TRIGGER, SQLITE_DELETE_TRIGGER]
SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"]


def install(connection) -> None:
    statements = {"postgresql": PG_INSTALL, "sqlite": SQLITE_INSTALL}.get(connection.vendor, [])
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def remove(connection) -> None:
    statements = {"postgresql": PG_REMOVE, "sqlite": SQLITE_REMOVE}.get(connection.vendor, [])
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def purge_bypass_statements(vendor: str) -> tuple[list[str], list[str]]:
    """(before, after): statements that open and close the purge's bypass inside one transaction."""
    if vendor == "postgresql":
        return ["SET LOCAL renfang.audit_purge = 'on'"], ["SET LOCAL renfang.audit_purge = 'off'"]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"], [SQLITE_DELETE_TRIGGER]
    return [], []


def wrap_flush(vendor: str, statements: list[str]) -> list[str]:
    """Test databases are emptied between transactional tests (``flush``): the same bypass, in its transaction."""
    if not any(TABLE in s for s in statements):
        return statements
    before, after = purge_bypass_statements(vendor)
    return before + list(statements) + after
