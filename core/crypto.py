"""Field encryption and blind indexes for personal numbers (resident ID, phone).

Values are sealed with AES-256-GCM (authenticated encryption). The stored text is
``<key id>:<base64(nonce | ciphertext | tag)>`` so that keys can be rotated: a row names the key that
sealed it, and ``manage.py rotate_keys`` re-seals every row with the current key.

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
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

__all__ = ["KeyRing", "blind_index", "decrypt", "encrypt", "ensure_key_file", "get_keyring", "reset_keyring"]


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

    def encrypt(self, plaintext: str, aad: bytes = b"renfang") -> str:
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{self.current}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str, aad: bytes = b"renfang") -> str:
        kid, _, body = token.partition(":")
        raw = base64.b64decode(body)
        return self._aead[kid].decrypt(raw[:12], raw[12:], aad).decode("utf-8")

    def key_id(self, token: str) -> str:
        return token.partition(":")[0]

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


def encrypt(value: str) -> str:
    return get_keyring().encrypt(value)


def decrypt(token: str) -> str:
    return get_keyring().decrypt(token)


def blind_index(value: str, domain: str) -> str:
    return get_keyring().blind_index(value, domain)
