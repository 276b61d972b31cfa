"""Personal numbers at rest: authenticated encryption with key ids, key loading, rotation, and the dump test."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, build_world, verified_login
from core import crypto
from core.models import AuditEvent
from people.models import Enterprise, Person
from people.search import search_people
from people.services import PersonData, reveal, save_person

ID_PATTERN = re.compile(rb"\d{17}[\dXx]")
PHONE_PATTERN = re.compile(rb"1[3-9]\d{9}")
HEX_TOKENS = re.compile(rb"[0-9a-f]{32,}")  # blind indexes, hash-chain digests, TOTP keys, request ids


def clear_numbers_in(blob: bytes) -> list[bytes]:
    """Resident ID or mobile numbers in clear, once the (random-looking) hexadecimal digests are set aside."""
    text = HEX_TOKENS.sub(b" ", blob)
    return ID_PATTERN.findall(text) + PHONE_PATTERN.findall(text)


AT = {"table": "t_test", "column": "number_enc", "row": uuid.UUID(int=1)}  # where the unit tests' values live


def key_json(current: str, **keys: bytes) -> str:
    return json.dumps({"current": current, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()},
                       "index_key": base64.b64encode(b"i" * 32).decode()})


# --- keys -------------------------------------------------------------------------------------------------------------
def test_keys_load_from_the_key_file_and_each_value_names_its_key(settings, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(key_json("k7", k7=b"a" * 32))
    settings.RENFANG_KEY_FILE = str(path)
    crypto.reset_keyring()
    token = crypto.seal("320507198001010019", **AT)
    assert token.startswith("v2:k7:") and "320507198001010019" not in token
    assert crypto.open(token, **AT) == "320507198001010019"
    path.write_text(key_json("k7", k7=b"b" * 32))  # same id, another key: the value no longer opens
    crypto.reset_keyring()
    with pytest.raises(crypto.Unreadable):
        crypto.open(token, **AT)


def test_inline_keys_from_the_environment_take_precedence_over_the_file(settings, tmp_path, monkeypatch):
    settings.RENFANG_KEY_FILE = str(tmp_path / "absent.json")
    monkeypatch.setenv("RENFANG_KEYS", key_json("env1", env1=b"e" * 32))
    crypto.reset_keyring()
    assert crypto.seal("13800138000", **AT).startswith("v2:env1:")
    assert not (tmp_path / "absent.json").exists()


def test_production_refuses_to_start_without_its_key_file(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("RENFANG_KEYS", raising=False)
    settings.PRODUCTION = True
    settings.RENFANG_KEY_FILE = str(tmp_path / "missing.json")
    crypto.reset_keyring()
    with pytest.raises(RuntimeError, match="RENFANG_KEY_FILE"):
        crypto.seal("x", **AT)


def test_the_demo_key_file_is_created_readable_by_its_owner_only(tmp_path):
    path = crypto.ensure_key_file(tmp_path / "new" / "keys.json")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    ring = crypto.KeyRing.from_json(path.read_text())
    assert len(ring.keys[ring.current]) == 32 and len(ring.index_key) == 32


def test_a_tampered_ciphertext_is_refused():
    token = crypto.seal("13800138000", **AT)
    version, kid, body = token.split(":")
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(crypto.Unreadable):
        crypto.open(f"{version}:{kid}:{base64.b64encode(bytes(raw)).decode()}", **AT)
    old = crypto.get_keyring().encrypt("13800138000")  # a v1 token, tampered: refused too
    kid, body = old.split(":")
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        crypto.get_keyring().decrypt(f"{kid}:{base64.b64encode(bytes(raw)).decode()}")


def test_the_blind_index_separates_domains_and_does_not_depend_on_the_encryption_key():
    ring1 = crypto.KeyRing.from_json(key_json("k1", k1=b"1" * 32))
    ring2 = crypto.KeyRing.from_json(key_json("k2", k1=b"1" * 32, k2=b"2" * 32))
    assert ring1.blind_index("13800138000", "phone") == ring2.blind_index("13800138000", "phone")
    assert ring1.blind_index("13800138000", "phone") != ring1.blind_index("13800138000", "id:resident_id")


# --- rotation --------------------------------------------------------------------------------------------------------
def test_rotate_keys_reseals_every_value_keeps_the_indexes_and_every_row_stays_readable(world, settings, tmp_path):
    key_file = tmp_path / "keys.json"
    shutil.copy(settings.RENFANG_KEY_FILE, key_file)
    settings.RENFANG_KEY_FILE = str(key_file)
    crypto.reset_keyring()
    Enterprise.objects.create(name="活力科技", credit_code="91320507MA1XYZ1234", compound=world.compounds["B1"])
    ent = Enterprise.objects.get()
    ent.set_contact_phone("13912340000")
    ent.save()
    before = {p.pk: (p.reveal_id_number(), p.reveal_phone(), p.id_number_bidx, p.phone_bidx)
              for p in Person.objects.all()}
    old_id = crypto.get_keyring().current
    call_command("rotate_keys", batch=5)
    ring = json.loads(key_file.read_text())
    new_id = ring["current"]
    assert new_id != old_id and set(ring["keys"]) == {old_id, new_id}
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    for p in Person.objects.all():
        assert p.id_number_enc.startswith(f"v2:{new_id}:") and p.phone_enc.startswith(f"v2:{new_id}:")
        assert (p.reveal_id_number(), p.reveal_phone(), p.id_number_bidx, p.phone_bidx) == before[p.pk]
    ent.refresh_from_db()
    assert ent.contact_phone_enc.startswith(f"v2:{new_id}:")
    assert ent.open_field("contact_phone_enc") == "13912340000"
    zhang = world.people["张三"]
    assert Person.objects.get(id_number_bidx=Person.id_index("resident_id", before[zhang.pk][0])) == zhang
    ev = AuditEvent.objects.get(action="rotate_keys")
    assert ev.changes["resealed"]["people.person"] == len(before)
    call_command("rotate_keys", reseal_only=True)
    assert AuditEvent.objects.filter(action="rotate_keys").latest("id").changes["resealed"]["people.person"] == 0


def test_rotate_keys_refuses_to_write_inline_keys(db, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv("RENFANG_KEYS", key_json("k1", k1=b"k" * 32))
    crypto.reset_keyring()
    with pytest.raises(CommandError, match="reseal-only"):
        call_command("rotate_keys")


# --- the dump test -----------------------------------------------------------------------------------------
def _sqlite_bytes(tmp_path: Path) -> bytes:
    """The database file and its WAL after a checkpoint; an in-memory test database is copied page by page
    (SQLite's backup API) to a file first."""
    connection.ensure_connection()
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():
        target = tmp_path / "dump.sqlite3"
        dest = sqlite3.connect(target)
        connection.connection.backup(dest)
        dest.close()
        return target.read_bytes()
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_checkpoint(FULL)")
    data = Path(name).read_bytes()
    wal = Path(name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def _pg_dump_bytes() -> bytes:
    s = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": s.get("PASSWORD") or ""}
    cmd = ["/usr/bin/pg_dump", "-h", s.get("HOST") or "127.0.0.1", "-p", str(s.get("PORT") or 5432),
           "-U", s.get("USER") or "postgres", "--no-owner", s["NAME"]]
    return subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=120).stdout


@pytest.mark.django_db(transaction=True)
def test_a_dump_of_the_database_holds_no_clear_id_or_phone_number_and_lookup_still_works(tmp_path):
    world = build_world()
    zhang = world.people["张三"]
    clear_id, clear_phone = zhang.reveal_id_number(), zhang.reveal_phone()
    # Everything that writes rows: a login (session, audit), a reveal, a change of phone, an ID search,
    # an enterprise's contact number, a break-the-glass reason in a session.
    client = Client()
    client.post(reverse("access:login"), {"username": "officer_a", "password": PASSWORD})
    reveal(world.users.officer_a, zhang, "id_number", "核对身份信息")
    save_person(world.users.officer_a, PersonData(name="张三", phone="13912345678"), zhang,
                expected_version=zhang.version)
    from django.test import RequestFactory

    request = RequestFactory().post("/people/search/")
    request.user = world.users.officer_a
    found = search_people(Person.objects.restrict(world.users.officer_a, "view"), clear_id, request=request)
    assert list(found) == [zhang]
    ent = Enterprise(name="活力科技", credit_code="91320507MA1XYZ1234", compound=world.compounds["B1"])
    ent.set_contact_phone("13700001111")
    ent.save()
    command = Client()
    verified_login(command, world.users.command)
    command.post(reverse("access:reason"), {"type": "people.person", "id": zhang.pk, "purpose": "核查走访记录"})

    blob = _pg_dump_bytes() if connection.vendor == "postgresql" else _sqlite_bytes(tmp_path)
    assert b"core_auditevent" in blob or b"auditevent" in blob.lower()
    assert len(blob) > 10_000 and "张三".encode() in blob and zhang.id_number_masked.encode() in blob
    assert clear_numbers_in(blob) == []
    for value in (clear_id, clear_phone, "13912345678", "13700001111"):
        assert value.encode() not in blob
    # Sessions are signed, not encrypted: decode them and look inside too.
    for s in Session.objects.all():
        assert clear_numbers_in(json.dumps(s.get_decoded()).encode()) == []
    # A deliberately planted clear number would be found: the check can fail.
    assert clear_numbers_in(b"x 13912345678 y") and clear_numbers_in(b"x" + clear_id.encode())
    # Lookups through the blind index still work.
    assert Person.objects.get(phone_bidx=Person.phone_index("13912345678")) == zhang
    assert Person.objects.get(id_number_bidx=Person.id_index("resident_id", clear_id)) == zhang
    assert Enterprise.objects.get(contact_phone_bidx=Person.phone_index("13700001111")) == ent
