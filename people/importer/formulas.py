"""Formula cells of an .xlsx sheet, which the cell reader (python-calamine) hides behind their cached values.

A sheet a program wrote (or one saved without recalculating) holds a formula with no computed value: read as
an empty cell, a phone or an ID would silently be imported empty. ``formula_cells`` reads the sheet's XML once
and returns the cells that hold a formula, with whether a computed value was saved beside it, so the parser can
refuse the row (no value) or use the value with a warning. No database, no Django.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree as ET

__all__ = ["formula_cells"]

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]+)</(?:\w+:)?v>")


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _sheet_path(z: zipfile.ZipFile, sheet: str) -> str | None:
    try:
        wb = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return None
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    for s in wb.iter(f"{_NS_MAIN}sheet"):
        if s.get("name") == sheet:
            target = targets.get(s.get(f"{_NS_REL}id"), "")
            if not target:
                return None
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return None


def _may_hold_formulas(z: zipfile.ZipFile, path: str, chunk: int = 1 << 20) -> bool:
    """False when the sheet's XML holds no ``<f`` and no ``:f`` (a formula element, with or without a namespace
    prefix), read in pieces: most sheets have no formula, and a byte search is a fraction of the regex's cost."""
    tail = b""
    with z.open(path) as fh:
        while piece := fh.read(chunk):
            window = tail + piece
            if b"<f" in window or b":f" in window:
                return True
            tail = window[-1:]
    return False


def formula_cells(data: bytes, sheet: str) -> dict[tuple[int, int], bool]:
    """``{(1-based row, 0-based column): has a saved value}`` for every formula cell of ``sheet``; {} if none
    (or the file is not an .xlsx)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            path = _sheet_path(z, sheet)
            if path is None or not _may_hold_formulas(z, path):
                return {}
            xml = z.read(path)
    except (zipfile.BadZipFile, KeyError, OSError):
        return {}
    if not _FORMULA.search(xml):
        return {}
    out: dict[tuple[int, int], bool] = {}
    for m in _CELL.finditer(xml):
        inner = m.group(2)
        if not inner or not _FORMULA.search(inner):
            continue
        ref = _REF.search(m.group(1))
        if ref is None:
            continue
        value = _VALUE.search(inner)
        out[(int(ref.group(2)), _col_index(ref.group(1)))] = bool(value and value.group(1).strip())
    return out
