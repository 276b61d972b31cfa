"""Read the text back out of the agreement PDFs reportlab writes (no PDF library is pinned for that).

reportlab writes page content as ``/ASCII85Decode /FlateDecode`` streams; text shown with the CID font
``STSong-Light`` (encoding UniGB-UCS2-H) is a literal string of UTF-16BE code units.
"""

from __future__ import annotations

import base64
import re
import zlib

__all__ = ["pdf_text"]

_STREAM = re.compile(rb"/Filter \[ /ASCII85Decode /FlateDecode \][^>]*>>\s*stream\r?\n(.*?)endstream", re.S)
_SHOW = re.compile(rb"\((?P<s>(?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\":
            nxt = raw[i + 1:i + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
            continue
        out += c
        i += 1
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    parts = []
    for m in _STREAM.finditer(pdf):
        data = m.group(1).strip()
        if data.endswith(b"~>"):
            data = data[:-2]
        try:
            content = zlib.decompress(base64.a85decode(data))
        except (ValueError, zlib.error):
            continue
        for s in _SHOW.finditer(content):
            raw = _unescape(s.group("s"))
            try:
                parts.append(raw.decode("utf-16-be") if len(raw) % 2 == 0 else raw.decode("latin-1"))
            except UnicodeDecodeError:
                parts.append(raw.decode("latin-1"))
    return "\n".join(parts)
