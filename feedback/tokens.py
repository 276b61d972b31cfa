"""The token printed in a QR code: signed (django.core.signing, one salt per purpose) and opaque.

The signed value is one AES block (a key derived from SECRET_KEY) holding a tag, the building id and, for a
house's code, the house id: a reader of the URL learns no database id, and a forged or altered token fails the
signature before anything is read. Changing SECRET_KEY voids the printed sheets (print them again).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core import signing

SALTS = {"b": "renfang.feedback.building", "h": "renfang.feedback.house"}
_MAGIC = b"RFB"


def _key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"renfang.feedback.token-key", hashlib.sha256).digest()


def _block(kind: str, building_id: int, house_id: int) -> str:
    raw = _MAGIC + kind.encode() + struct.pack(">QI", building_id, house_id)  # 3 + 1 + 8 + 4 = 16 bytes
    enc = Cipher(algorithms.AES(_key()), modes.ECB()).encryptor()  # one block: a keyed permutation of the ids
    return base64.urlsafe_b64encode(enc.update(raw) + enc.finalize()).decode().rstrip("=")


def _unblock(text: str) -> tuple[str, int, int] | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) != 16:
        return None
    dec = Cipher(algorithms.AES(_key()), modes.ECB()).decryptor()
    plain = dec.update(raw) + dec.finalize()
    if plain[:3] != _MAGIC:
        return None
    building_id, house_id = struct.unpack(">QI", plain[4:])
    return plain[3:4].decode("latin-1"), building_id, house_id


def building_token(building) -> str:
    return signing.Signer(salt=SALTS["b"]).sign(_block("b", building.pk, 0))


def house_token(house) -> str:
    return signing.Signer(salt=SALTS["h"]).sign(_block("h", house.building_id, house.pk))


def parse_token(token: str) -> tuple[int, int | None] | None:
    """``(building_id, house_id or None)`` for a genuine token, else None."""
    token = str(token or "")
    for kind, salt in SALTS.items():
        try:
            value = signing.Signer(salt=salt).unsign(token)
        except signing.BadSignature:
            continue
        parsed = _unblock(value)
        if parsed is None or parsed[0] != kind:
            return None
        _, building_id, house_id = parsed
        return building_id, (house_id if kind == "h" else None)
    return None
