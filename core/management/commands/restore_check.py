"""``manage.py restore_check BACKUP``: the restore drill. Restores the backup into a new database, then checks it
from a fresh process pointed there (core.backup.probe): the manifest's row counts, the audit chain, sealed numbers
opened with the key file, pages served. Exit code 1 when anything differs. ``--keep`` leaves the restored database
(its URL is printed) for inspection or to serve from."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.backup import manifest_path, restore


def _scratch_url(manifest: dict) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S") + f"{os.getpid()}"
    if manifest["vendor"] == "sqlite":
        folder = Path(settings.VAR_DIR) / "restore-check"
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / f'restore-{stamp}.sqlite3'}"
    cfg = settings.DATABASES["default"]
    user = cfg.get("USER") or "postgres"
    auth = f"{user}:{cfg['PASSWORD']}" if cfg.get("PASSWORD") else user
    return f"postgres://{auth}@{cfg.get('HOST') or '127.0.0.1'}:{cfg.get('PORT') or 5432}/renfang_restore_{stamp}"


def _drop(url: str) -> None:
    import dj_database_url

    cfg = dj_database_url.parse(url)
    if cfg["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            Path(cfg["NAME"] + suffix).unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"] or None,
                         password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')


class Command(BaseCommand):
    help = "恢复演练：把备份恢复到新数据库并核对 / restore drill: restore into a new database and check it"

    def add_arguments(self, parser):
        parser.add_argument("backup", help="备份文件 / the backup file (its .json manifest beside it)")
        parser.add_argument("--keep", action="store_true", help="保留恢复出的数据库 / keep the restored database")
        parser.add_argument("--probe", action="store_true", help=argparse_hidden())

    def handle(self, *args, backup: str, keep: bool = False, probe: bool = False, **options):
        mpath = manifest_path(backup)
        if not mpath.exists():
            raise CommandError(f"找不到备份清单 / no manifest beside the backup: {mpath}")
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        if probe:  # the child: runs in the restored database
            from core.backup import probe as run_probe

            self.stdout.write(json.dumps(run_probe(manifest), ensure_ascii=False))
            return
        url = _scratch_url(manifest)
        quiet = options["verbosity"] == 0
        with tqdm(total=3, desc="恢复演练 / restore drill", unit="step", disable=quiet) as bar:
            bar.set_postfix_str("restore")
            restore(backup, url)
            bar.update(1)
            try:
                bar.set_postfix_str("check")
                env = dict(os.environ, DATABASE_URL=url)
                if not os.environ.get("RENFANG_KEYS"):
                    env["RENFANG_KEY_FILE"] = str(settings.RENFANG_KEY_FILE)
                run = subprocess.run([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "restore_check",
                                      str(backup), "--probe"], env=env, capture_output=True, text=True, timeout=1800)
                bar.update(1)
                if run.returncode:
                    raise CommandError(f"恢复出的数据库无法使用 / the restored database fails: {run.stderr[-1500:]}")
                report = json.loads(run.stdout.strip().splitlines()[-1])
            finally:
                if not keep:
                    _drop(url)
                bar.update(1)
        self.stdout.write(json.dumps(report, ensure_ascii=False))
        if keep:
            self.stdout.write(f"恢复的数据库 / restored database: {url}")
        if not report["ok"]:
            raise CommandError("恢复演练未通过 / the restore drill failed: " + "；".join(report["problems"][:10]))
        self.stdout.write(f"恢复演练通过 / restore drill passed: {report['rows']:,} rows in {report['tables']} tables, "
                          f"audit chain {report['audit_rows']:,} rows, {report['sealed_opened']:,} sealed values "
                          f"opened, pages {report['pages']}")


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS
