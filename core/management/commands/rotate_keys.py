"""``manage.py rotate_keys``: add a new encryption key as current, then re-seal every encrypted value with it.

Encrypted columns are found, not listed: every text field named ``*_enc`` of an installed model (today
``people.Person.id_number_enc`` / ``phone_enc`` and ``people.Enterprise.contact_phone_enc``). Rows are re-sealed
in batches (each its own transaction, rows locked on PostgreSQL), with progress on stderr; a re-run continues
where an interrupted one stopped (rows already under the current key are skipped). Blind indexes use their
own key and do not change. Old keys stay in the key ring so that a backup taken before still opens.

With keys from ``RENFANG_KEYS`` (inline, not writable here): add the new key there, make it current,
restart, and run ``rotate_keys --reseal-only``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models import Q

from core import audit, crypto


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    out = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields
                 if f.name.endswith("_enc") and isinstance(f, models.TextField)]
        if names:
            out.append((model, names))
    return out


def write_key_file(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def next_key_id(keys: dict) -> str:
    numbers = [int(m.group(1)) for k in keys if (m := re.fullmatch(r"k(\d+)", k))]
    return f"k{max(numbers, default=0) + 1}"


class Command(BaseCommand):
    help = "Add a new current encryption key and re-seal every encrypted value with it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--key-id", help="id of the new key (default: the next kN)")
        parser.add_argument("--batch", type=int, default=1000)
        parser.add_argument("--reseal-only", action="store_true",
                            help="do not add a key; re-seal what is not yet under the current key")

    def handle(self, *args, key_id: str | None = None, batch: int = 1000, reseal_only: bool = False,
               **options) -> None:
        if not reseal_only:
            self.add_key(key_id)
        crypto.reset_keyring()
        ring = crypto.get_keyring()
        counts = {}
        for model, fields in encrypted_fields():
            counts[model._meta.label_lower] = self.reseal(ring, model, fields, batch)
        audit.record("rotate_keys", object_type="core.keyring", object_id=ring.current, username="system",
                     changes={"resealed": counts})
        self.stdout.write(f"current key {ring.current}; re-sealed {counts}")

    def add_key(self, key_id: str | None) -> None:
        if os.environ.get("RENFANG_KEYS"):
            raise CommandError("keys come from RENFANG_KEYS: add the new key there, make it current, restart, "
                               "then run `manage.py rotate_keys --reseal-only`")
        path = Path(settings.RENFANG_KEY_FILE)
        if not path.exists():
            raise CommandError(f"key file {path} does not exist")
        data = json.loads(path.read_text(encoding="utf-8"))
        key_id = key_id or next_key_id(data["keys"])
        if key_id in data["keys"] or ":" in key_id:
            raise CommandError(f"key id {key_id!r} is already in the key ring or not valid")
        data["keys"][key_id] = base64.b64encode(secrets.token_bytes(32)).decode()
        data["current"] = key_id
        write_key_file(path, data)
        self.stderr.write(f"added key {key_id} to {path} as current")

    def reseal(self, ring: crypto.KeyRing, model, fields: list[str], batch: int) -> int:
        prefix = f"{ring.current}:"
        stale = Q()
        for f in fields:
            stale |= ~Q(**{f: ""}) & ~Q(**{f"{f}__startswith": prefix})
        manager = model._base_manager
        total = manager.filter(stale).count()
        done, last = 0, 0
        label = model._meta.label_lower
        while True:
            with transaction.atomic():
                rows = list(manager.filter(stale, pk__gt=last).order_by("pk").only("pk", *fields)
                            .select_for_update()[:batch])
                if not rows:
                    break
                for row in rows:
                    for f in fields:
                        value = getattr(row, f)
                        if value and not value.startswith(prefix):
                            setattr(row, f, ring.encrypt(ring.decrypt(value)))
                manager.bulk_update(rows, fields)
            last = rows[-1].pk
            done += len(rows)
            self.stderr.write(f"{label}: {done}/{total}")
        return done
