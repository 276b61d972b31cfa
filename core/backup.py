"""Backups that restore: one consistent copy of the database with a manifest, and a drill that proves it.

``backup(path)`` writes the database (PostgreSQL: ``pg_dump -Fc`` of a snapshot exported by the same transaction
that counts the rows; SQLite: ``VACUUM INTO``, counted in the copy itself), the uploaded files beside it
(``<name>.media.tar.gz``) and a manifest (``<name>.json``: every table's row count, the audit chain's last id,
the key ids the sealed values use). The key file is never in a backup: it is backed up apart (docs/operations.md).

``restore(path, url)`` restores a backup into a new database; ``probe(manifest)`` runs *in* a restored database
(``manage.py restore_check`` starts it in a fresh process pointed there) and checks what a restore must give: the
row counts of the manifest, an unbroken audit chain, sealed numbers that open with the key file, pages served.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction

__all__ = ["backup", "model_tables", "probe", "restore", "sealed_fields"]

Progress = Callable[[str], None]


def model_tables() -> list[str]:
    """Every table Django manages, sorted (the audit's, the registry's, the apps', django's own)."""
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)
              if m._meta.managed and not m._meta.proxy}
    return sorted(tables & set(connection.introspection.table_names()))


def sealed_fields() -> list[tuple[type[models.Model], str]]:
    """(model, field) of every encrypted column: the ``*_enc`` text fields (core/crypto.py tokens)."""
    out = []
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if f.name.endswith("_enc") and isinstance(f, models.TextField):
                out.append((model, f.name))
    return out


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    qn = connection.ops.quote_name
    out = {}
    for t in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {qn(t)}")
        out[t] = cursor.fetchone()[0]
    return out


def _pg_env() -> tuple[list[str], dict]:
    cfg = settings.DATABASES["default"]
    env = dict(os.environ)
    if cfg.get("PASSWORD"):
        env["PGPASSWORD"] = cfg["PASSWORD"]
    args = ["-h", cfg.get("HOST") or "127.0.0.1", "-p", str(cfg.get("PORT") or 5432)]
    if cfg.get("USER"):
        args += ["-U", cfg["USER"]]
    return args, env


def _audit_head() -> int | None:
    from core.models import AuditEvent

    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()


def _key_ids() -> list[str]:
    ids: set[str] = set()
    for model, name in sealed_fields():
        for token in model._base_manager.exclude(**{name: ""}).values_list(name, flat=True)[:200]:
            ids.add(token.partition(":")[0])
    return sorted(ids)


def backup(path: str | Path, progress: Progress | None = None) -> dict:
    """Write the backup at ``path`` (and its manifest and media archive beside it). Returns the manifest."""
    say = progress or (lambda _m: None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise FileExistsError(f"{path} exists: a backup never overwrites another")
    tables = model_tables()
    vendor = connection.vendor
    if vendor == "postgresql":
        args, env = _pg_env()
        # One snapshot for the dump and the counts: the manifest describes exactly what the dump holds.
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            say("pg_dump")
            run = subprocess.run(["pg_dump", *args, "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(path),
                                  settings.DATABASES["default"]["NAME"]], env=env, capture_output=True, text=True)
            if run.returncode:
                path.unlink(missing_ok=True)
                raise RuntimeError(f"pg_dump failed: {run.stderr.strip()[-500:]}")
            say("counting rows")
            counts = _counts(cur, tables)
            head = _audit_head()
    elif vendor == "sqlite":
        say("VACUUM INTO")
        with connection.cursor() as cur:
            cur.execute("VACUUM INTO %s", [str(path)])
        say("counting rows")
        copy = sqlite3.connect(path)
        try:
            counts = {t: copy.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
            row = copy.execute('SELECT MAX(id) FROM "core_auditevent"').fetchone()
            head = row[0] if row else None
        finally:
            copy.close()
    else:  # pragma: no cover - the two databases Renfang supports
        raise RuntimeError(f"no backup for {vendor}")
    media = Path(settings.MEDIA_ROOT)
    media_archive = ""
    if media.exists() and any(media.iterdir()):
        say("media files")
        media_archive = path.name + ".media.tar.gz"
        with tarfile.open(path.parent / media_archive, "w:gz") as tar:
            tar.add(media, arcname="media")
    manifest = {
        "format": 1, "vendor": vendor, "file": path.name, "media": media_archive,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "counts": counts, "rows": sum(counts.values()), "audit_last_id": head, "key_ids": _key_ids(),
        "bytes": path.stat().st_size,
    }
    manifest_path(path).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def manifest_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".json")


def restore(path: str | Path, url: str, progress: Progress | None = None) -> None:
    """Restore the backup at ``path`` into the NEW database ``url`` (created here; an existing one is refused)."""
    import dj_database_url

    say = progress or (lambda _m: None)
    manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    cfg = dj_database_url.parse(url)
    if manifest["vendor"] == "sqlite":
        target = Path(cfg["NAME"])
        if target.exists():
            raise FileExistsError(f"{target} exists: restore into a new database")
        say("copy")
        shutil.copyfile(path, target)
        return
    import psycopg

    conn_args = dict(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"] or None,
                     password=cfg["PASSWORD"] or None)
    with psycopg.connect(dbname="postgres", autocommit=True, **conn_args) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            raise FileExistsError(f"database {cfg['NAME']} exists: restore into a new database")
        conn.execute(f'CREATE DATABASE "{cfg["NAME"]}" ENCODING \'UTF8\' TEMPLATE template0')
    say("pg_restore")
    env = dict(os.environ, **({"PGPASSWORD": cfg["PASSWORD"]} if cfg["PASSWORD"] else {}))
    args = ["-h", conn_args["host"], "-p", str(conn_args["port"])] + (["-U", cfg["USER"]] if cfg["USER"] else [])
    run = subprocess.run(["pg_restore", *args, "--no-owner", "--exit-on-error", "-d", cfg["NAME"], str(path)],
                         env=env, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"pg_restore failed: {run.stderr.strip()[-500:]}")


def probe(manifest: dict, *, sample: int = 500) -> dict:
    """Run in the restored database: what differs from the manifest, the audit chain, sealed values, pages."""
    from django.test import Client

    from core import crypto
    from core.audit import verify_chain

    problems: list[str] = []
    with connection.cursor() as cur:
        counts = _counts(cur, sorted(manifest["counts"]))
    for table, n in manifest["counts"].items():
        if counts.get(table) != n:
            problems.append(f"{table}: {counts.get(table)} rows, the backup holds {n}")
    ok, bad_id, checked = verify_chain()
    if not ok:
        problems.append(f"audit chain broken at id {bad_id}")
    opened = 0
    for model, name in sealed_fields():
        for token, seal_id in model._base_manager.exclude(**{name: ""}).values_list(name, "seal_id")[:sample]:
            try:
                crypto.open(token, table=model._meta.db_table, column=name, row=seal_id)
                opened += 1
            except Exception as exc:  # noqa: BLE001 - each failure is reported, the drill goes on
                problems.append(f"{model._meta.label}.{name}: a sealed value does not open ({type(exc).__name__})")
                break
    client = Client(SERVER_NAME=(settings.ALLOWED_HOSTS or ["testserver"])[0], secure=settings.PRODUCTION)
    pages = {"/access/login/": client.get("/access/login/").status_code}
    from core.models import Grant
    from core.scope import OTP_REQUIRED_ROLES

    grant = (Grant.objects.filter(role__permissions__codename="view_person", user__is_active=True)
             .exclude(role__code__in=OTP_REQUIRED_ROLES).select_related("user").order_by("id").first())
    if grant is not None:  # a registry user's pages: the restored rows are read and shown
        client.force_login(grant.user)
        for url in ("/people/", "/places/streets/"):
            pages[url] = client.get(url).status_code
    problems += [f"{url} answered {code}" for url, code in pages.items() if code != 200]
    return {"ok": not problems, "problems": problems, "rows": sum(counts.values()), "tables": len(counts),
            "audit_rows": checked, "sealed_opened": opened, "pages": pages}
