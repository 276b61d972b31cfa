"""Field encryption and blind indexes for personal numbers (resident ID, phone).

Values are sealed with AES-256-GCM (authenticated encryption). Two token forms exist:

* v2 (every value written now): ``v2:<key id>:<base64(nonce | ciphertext | tag)>`` whose associated data binds
  the value to where it is stored: ``renfang/v2|<db table>|<column>|<row's seal_id>`` (``aad``). A token copied
  to another row, column or table does not open there (``Unreadable``). Callers never build the associated data:
  ``seal(value, table=, column=, row=)`` / ``open(token, table=, column=, row=)``, or a model's
  ``seal_field`` / ``open_field`` (``core.sealed.SealedRow``).
* v1 (written before): ``<key id>:<base64(...)>`` with the fixed associated data ``b"renfang"``; still opened
  wherever it is found, until ``manage.py rotate_keys`` re-seals it to v2 under the current key.

The two are told apart by their colons (a key id never holds one; base64 never does).

Exact lookup and uniqueness use an HMAC-SHA256 "blind index" under a separate key; the index never
changes when the encryption key rotates.

Keys live outside the database: ``RENFANG_KEYS`` (inline JSON) or the file named by
``RENFANG_KEY_FILE``. The JSON is ``{"current": "k1", "keys": {"k1": "<base64 32 bytes>"},
"index_key": "<base64 32 bytes>"}``. The cipher is swappable (``Cipher`` protocol): a level-3
assessment may require SM4; a deployment replaces ``get_cipher``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

__all__ = ["KeyRing", "Unreadable", "aad", "blind_index", "ensure_key_file", "get_keyring", "is_current", "open",
           "reset_keyring", "seal", "token_version"]

log = logging.getLogger("renfang.crypto")

V1_AAD = b"renfang"
V2 = "v2"


class Unreadable(ValueError):  # noqa: N818 (a state of a value, not a programming error)
    """A sealed value that does not open where it is read: copied from another row, column or table, tampered
    with, or sealed under a key the key ring does not hold. Never carries the value."""


def aad(table: str, column: str, row) -> bytes:
    """The associated data of a v2 token stored in ``table``.``column`` of the row whose seal id is ``row``."""
    if not table or not column or row in (None, ""):
        raise ValueError("a sealed value is bound to a table, a column and a row")
    row = getattr(row, "hex", row)  # a uuid.UUID: its 32 hex digits, the same on every database
    return f"renfang/{V2}|{table}|{column}|{row}".encode()


def token_version(token: str) -> int:
    """1 or 2 (``ValueError`` for text that is not a token)."""
    parts = token.split(":")
    if len(parts) == 2 and parts[0]:
        return 1
    if len(parts) == 3 and parts[0] == V2 and parts[1]:
        return 2
    raise ValueError("not a sealed value")


class KeyRing:
    def __init__(self, current: str, keys: dict[str, bytes], index_key: bytes) -> None:
        if current not in keys:
            raise ValueError(f"current key {current!r} is not in the key ring")
        self.current = current
        self.keys = keys
        self.index_key = index_key
        self._aead = {kid: AESGCM(k) for kid, k in keys.items()}
        self._index_mac = hmac.new(index_key, digestmod=hashlib.sha256)  # keyed once, copied per value

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        data = json.loads(text)
        keys = {kid: base64.b64decode(v) for kid, v in data["keys"].items()}
        return cls(data["current"], keys, base64.b64decode(data["index_key"]))

    def encrypt(self, plaintext: str, aad: bytes = V1_AAD) -> str:
        """A v1 token (unbound): kept for reading old data and for tests; new values are ``seal``-ed."""
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{self.current}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str, aad: bytes = V1_AAD) -> str:
        kid, _, body = token.partition(":")
        raw = base64.b64decode(body)
        return self._aead[kid].decrypt(raw[:12], raw[12:], aad).decode("utf-8")

    def seal(self, plaintext: str, bound: bytes) -> str:
        """A v2 token under the current key, bound to ``bound`` (``aad(table, column, row)``)."""
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode("utf-8"), bound)
        return f"{V2}:{self.current}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def open(self, token: str, bound: bytes) -> str:
        """The clear value of a v2 token bound to ``bound``, or of a v1 token (wherever it is); ``Unreadable``
        otherwise (another place's token, tampered, unknown key, not a token)."""
        try:
            version = token_version(token)
            if version == 1:
                return self.decrypt(token)
            _v, kid, body = token.split(":")
            raw = base64.b64decode(body, validate=True)
            return self._aead[kid].decrypt(raw[:12], raw[12:], bound).decode("utf-8")
        except Exception as exc:  # InvalidTag, KeyError (unknown key id), binascii.Error, ValueError
            raise Unreadable(type(exc).__name__) from None

    def key_id(self, token: str) -> str:
        parts = token.split(":")
        return parts[1] if len(parts) == 3 else parts[0]

    def is_current(self, token: str) -> bool:
        """A v2 token under the current key: what ``rotate_keys`` leaves behind."""
        return token.startswith(f"{V2}:{self.current}:")

    def blind_index(self, value: str, domain: str) -> str:
        mac = self._index_mac.copy()  # the same HMAC as hmac.new(index_key, msg, sha256), without re-keying
        mac.update(f"{domain}\x00{value}".encode())
        return mac.hexdigest()[:32]


def new_key_json(current: str = "k1") -> str:
    return json.dumps({
        "current": current,
        "keys": {current: base64.b64encode(secrets.token_bytes(32)).decode()},
        "index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }, indent=2)


def ensure_key_file(path: str | Path | None = None) -> Path:
    """Create the key file for the embedded demo if it does not exist (mode 0600)."""
    p = Path(path or settings.RENFANG_KEY_FILE)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new_key_json())
    return p


@lru_cache(maxsize=1)
def get_keyring() -> KeyRing:
    inline = os.environ.get("RENFANG_KEYS")
    if inline:
        return KeyRing.from_json(inline)
    if settings.PRODUCTION and not Path(settings.RENFANG_KEY_FILE).exists():
        raise RuntimeError("RENFANG_KEY_FILE does not exist: production needs its encryption keys")
    return KeyRing.from_json(ensure_key_file().read_text(encoding="utf-8"))


def reset_keyring() -> None:
    get_keyring.cache_clear()


def seal(value: str, *, table: str, column: str, row) -> str:
    """``value`` sealed for ``table``.``column`` of the row whose seal id is ``row`` (a v2 token)."""
    return get_keyring().seal(value, aad(table, column, row))


def open(token: str, *, table: str, column: str, row) -> str:  # noqa: A001 (the counterpart of seal)
    """The clear value of ``token`` read from ``table``.``column`` of row ``row``; raises ``Unreadable`` (and
    logs which place, never the value) when it was sealed for another place or does not open."""
    try:
        return get_keyring().open(token, aad(table, column, row))
    except Unreadable as exc:
        log.error("sealed value does not open at %s.%s row %s (%s)", table, column, getattr(row, "hex", row), exc)
        raise


def is_current(token: str) -> bool:
    return get_keyring().is_current(token)


def blind_index(value: str, domain: str) -> str:
    return get_keyring().blind_index(value, domain)
