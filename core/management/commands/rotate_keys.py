"""``manage.py rotate_keys``: add a new encryption key as current, then re-seal every sealed value with it, in the
bound form (v2: associated data naming the table, the column and the row's ``seal_id``, core/crypto.py).

Sealed values are found, not listed: every model that is a ``core.sealed.SealedRow`` (``sealed_models``), and in
each its ``*_enc`` text columns, the ``*_enc`` keys of its ``sealed_json`` fields (a change request's payload) and,
for a ``SealedTextModel``, the entries of ``sealed_numbers`` (numbers typed into free text). A value is re-sealed
unless it is already a v2 token under the current key, so a v1 token (fixed associated data) is re-sealed even
with ``--reseal-only`` and the same key; a re-run continues where an interrupted one stopped and re-seals nothing
twice. Rows go in batches of ``--batch`` by primary key, each batch its own transaction (rows locked on
PostgreSQL), with a progress bar on stderr. A value that does not open (copied from another row, tampered with) is
left as it is, counted as ``unreadable`` and logged with its place. Blind indexes use their own key and do not
change. Old keys stay in the key ring so that a backup taken before still opens.

``--check`` changes nothing: it counts the tokens by form (``v1``, ``v2`` under an old key, ``current``,
``unreadable``). With keys from ``RENFANG_KEYS`` (inline, not writable here): add the new key there, make it
current, restart, and run ``rotate_keys --reseal-only``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Q
from tqdm import tqdm

from core import audit, crypto
from core.sealed import SealedRow, SealedTextModel, sealed_models

log = logging.getLogger("renfang.crypto")


def sealed_places(model: type[SealedRow]) -> tuple[list[str], list[str], bool]:
    """(``*_enc`` columns, JSON fields with ``*_enc`` keys, whether ``sealed_numbers`` holds entries)."""
    return model.enc_fields(), list(model.sealed_json), issubclass(model, SealedTextModel)


def tokens_of(row: SealedRow, model: type[SealedRow]):
    """Every sealed value of ``row`` as (column as bound, token, setter) — the setter writes a new token back."""
    encs, jsons, text = sealed_places(model)
    for name in encs:
        token = getattr(row, name)
        if token:
            yield name, token, (lambda new, name=name: setattr(row, name, new))
    for name in jsons:
        data = getattr(row, name)
        if not isinstance(data, dict):
            continue
        for key, token in list(data.items()):
            if key.endswith("_enc") and isinstance(token, str) and token:
                yield f"{name}.{key}", token, (lambda new, data=data, key=key: data.__setitem__(key, new))
    if text:
        for path, entries in (row.sealed_numbers or {}).items():
            for entry in entries or ():
                if len(entry) == 3 and entry[2]:
                    yield (f"sealed_numbers.{path}#{entry[1]}", entry[2],
                           (lambda new, entry=entry: entry.__setitem__(2, new)))


def census(ring: crypto.KeyRing | None = None) -> dict[str, int]:
    """How many sealed values of each form the database holds (reads everything; changes nothing)."""
    ring = ring or crypto.get_keyring()
    out = {"v1": 0, "v2_old_key": 0, "current": 0, "unreadable": 0}
    for model in sealed_models():
        table = model._meta.db_table
        for row in _rows(model).iterator(chunk_size=2000):
            for column, token, _set in tokens_of(row, model):
                try:
                    ring.open(token, crypto.aad(table, column, row.seal_id))
                except crypto.Unreadable:
                    out["unreadable"] += 1
                    continue
                if ring.is_current(token):
                    out["current"] += 1
                elif crypto.token_version(token) == 1:
                    out["v1"] += 1
                else:
                    out["v2_old_key"] += 1
    return out


def _rows(model: type[SealedRow]):
    """The rows of ``model`` that may hold a sealed value, with only the columns needed."""
    encs, jsons, text = sealed_places(model)
    maybe = Q()
    for name in encs:
        maybe |= ~Q(**{name: ""})
    if text:
        maybe |= ~Q(sealed_numbers={})
    qs = model._base_manager.order_by("pk").only("pk", "seal_id", *encs, *jsons, *(["sealed_numbers"] if text else []))
    return qs if jsons else qs.filter(maybe)


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
    help = "Add a new current encryption key and re-seal every sealed value with it, bound to its row."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--key-id", help="id of the new key (default: the next kN)")
        parser.add_argument("--batch", type=int, default=1000)
        parser.add_argument("--reseal-only", action="store_true",
                            help="do not add a key; re-seal what is not yet bound and under the current key")
        parser.add_argument("--check", action="store_true", help="count the sealed values by form; change nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, key_id: str | None = None, batch: int = 1000, reseal_only: bool = False,
               check: bool = False, no_progress: bool = False, **options) -> None:
        if check:
            crypto.reset_keyring()
            self.stdout.write(json.dumps(census(), sort_keys=True))
            return
        if not reseal_only:
            self.add_key(key_id)
        crypto.reset_keyring()
        ring = crypto.get_keyring()
        started = time.monotonic()
        rows, values, unreadable = {}, {}, {}
        for model in sealed_models():
            label = model._meta.label_lower
            rows[label], values[label], unreadable[label] = self.reseal(ring, model, max(batch, 1), no_progress)
        seconds = round(time.monotonic() - started, 2)
        summary = {"resealed": rows, "values": values, "unreadable": {k: v for k, v in unreadable.items() if v},
                   "seconds": seconds}
        audit.record("rotate_keys", object_type="core.keyring", object_id=ring.current, username="system",
                     changes=summary)
        self.stdout.write(f"current key {ring.current}; re-sealed {sum(values.values())} values in "
                          f"{sum(rows.values())} rows in {seconds}s; unreadable {sum(unreadable.values())}; "
                          f"per model {json.dumps(rows, sort_keys=True)}")

    def add_key(self, key_id: str | None) -> None:
        if os.environ.get("RENFANG_KEYS"):
            raise CommandError("keys come from RENFANG_KEYS: add the new key there, make it current, restart, "
                               "then run `manage.py rotate_keys --reseal-only`")
        path = Path(settings.RENFANG_KEY_FILE)
        if not path.exists():
            raise CommandError(f"key file {path} does not exist")
        data = json.loads(path.read_text(encoding="utf-8"))
        key_id = key_id or next_key_id(data["keys"])
        if key_id in data["keys"] or ":" in key_id or not key_id:
            raise CommandError(f"key id {key_id!r} is already in the key ring or not valid")
        data["keys"][key_id] = base64.b64encode(secrets.token_bytes(32)).decode()
        data["current"] = key_id
        write_key_file(path, data)
        self.stderr.write(f"added key {key_id} to {path} as current")

    def reseal(self, ring: crypto.KeyRing, model: type[SealedRow], batch: int, quiet: bool) -> tuple[int, int, int]:
        """(rows changed, values re-sealed, values that do not open) for ``model``."""
        table, label = model._meta.db_table, model._meta.label_lower
        encs, jsons, text = sealed_places(model)
        fields = [*encs, *jsons, *(["sealed_numbers"] if text else [])]
        base = _rows(model)
        total = base.count()
        changed_rows = resealed = bad = 0
        last = None
        bar = tqdm(total=total, desc=label, unit="row", disable=quiet or not total, file=self.stderr._out,
                   leave=False)
        try:
            while True:
                with transaction.atomic():
                    qs = base if last is None else base.filter(pk__gt=last)
                    if connection.features.has_select_for_update:
                        qs = qs.select_for_update()
                    chunk = list(qs[:batch])
                    if not chunk:
                        break
                    dirty = []
                    for row in chunk:
                        touched = False
                        for column, token, put in list(tokens_of(row, model)):
                            if ring.is_current(token):
                                continue
                            bound = crypto.aad(table, column, row.seal_id)
                            try:
                                clear = ring.open(token, bound)
                            except crypto.Unreadable as exc:
                                bad += 1
                                log.error("rotate_keys: a sealed value does not open at %s.%s row %s (%s)",
                                          table, column, row.seal_id.hex, exc)
                                continue
                            put(ring.seal(clear, bound))
                            resealed += 1
                            touched = True
                        if touched:
                            dirty.append(row)
                    if dirty:
                        model._base_manager.bulk_update(dirty, fields)
                        changed_rows += len(dirty)
                last = chunk[-1].pk
                bar.update(len(chunk))
        finally:
            bar.close()
        if total and quiet:
            self.stderr.write(f"{label}: {changed_rows} rows re-sealed of {total}")
        return changed_rows, resealed, bad
