"""``manage.py backup [PATH]``: a consistent backup of the database, its manifest and the uploaded files
(core/backup.py). Default path: ``$RENFANG_VAR_DIR/backups/renfang-<date>-<time>.{dump,sqlite3}``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from tqdm import tqdm

from core.backup import backup


class Command(BaseCommand):
    help = "备份数据库与上传文件（附清单）/ back up the database and the uploaded files, with a manifest"

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="备份文件路径 / where to write the backup")

    def handle(self, *args, path: str | None = None, **options):
        if not path:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            ext = "dump" if connection.vendor == "postgresql" else "sqlite3"
            path = str(Path(settings.VAR_DIR) / "backups" / f"renfang-{stamp}.{ext}")
        steps = ["pg_dump" if connection.vendor == "postgresql" else "VACUUM INTO", "counting rows", "media files"]
        with tqdm(total=len(steps), desc="备份 / backup", unit="step", disable=options["verbosity"] == 0) as bar:
            def progress(step: str) -> None:
                bar.set_postfix_str(step)
                bar.update(1)

            manifest = backup(path, progress)
            bar.n = bar.total
            bar.refresh()
        self.stdout.write(f"备份完成 / backup written: {path} ({manifest['bytes']:,} bytes, {manifest['rows']:,} rows "
                          f"in {len(manifest['counts'])} tables); manifest {path}.json")
        self.stdout.write("密钥文件不在备份中，请另行备份 / the key file is not in the backup: keep it apart")
