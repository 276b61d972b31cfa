"""The import/export engine every app uses: read the sheets people actually keep, write safe ones.

Reading (``read_table``):
  * .xlsx / .xlsm / .xls / .ods through python-calamine (fast, streaming rows), .csv in UTF-8 (with or without
    BOM) or GBK / GB18030 (what Excel on a Chinese Windows writes); the format is told from the content, not
    from the file name;
  * the sheet and its header row are found by scoring the first rows of every sheet against the declared
    columns, so a title row ("XX社区实有人口登记表") above the header, a sheet of instructions before the data
    and two-row headers with merged cells all work;
  * header text is matched after normalisation (full-width → half-width, spaces, ``*`` marks and bracketed
    notes such as "（必填）" removed) against each column's synonyms;
  * merged cells count for every row they span (a compound name merged down forty rows belongs to each).

Writing (``XlsxWriter``): openpyxl in write-only mode, a watermark (who, when) as the first row and in the page
header and footer, and every text cell that a spreadsheet would run as a formula (``= + - @``, tab, CR)
neutralised with a leading apostrophe.

This module knows nothing about people or places: apps declare their ``Column`` lists.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

__all__ = [
    "Column", "FORMULA_PREFIXES", "SheetError", "Table", "XlsxWriter", "cell_text", "decode_csv", "detect_format",
    "looks_like_formula", "neutralise", "normalise_header", "read_table",
]

HEADER_SCAN_ROWS = 20
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class SheetError(Exception):
    """The file as a whole cannot be read (wrong type, no header row, a required column missing)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the canonical Chinese header, shown in messages and written in templates
    synonyms: tuple[str, ...] = ()
    required: bool = False

    def names(self) -> set[str]:
        return {normalise_header(n) for n in (self.label, *self.synonyms)}


@dataclass
class Table:
    format: str
    sheet: str
    header_row: int  # 1-based row number of the header
    headers: list[str]  # the header texts as found (after merged-cell filling)
    columns: dict[str, int]  # column key -> 0-based index
    missing: list[Column]
    unknown: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (1-based row number, cells) after the header, empty rows skipped
    total_rows: int  # data rows after the header, empty ones included (for progress bars)
    width: int = 0
    extra: dict = field(default_factory=dict)

    def value(self, cells: list[Any], key: str) -> Any:
        i = self.columns.get(key)
        if i is None or i >= len(cells):
            return None
        return cells[i]


_BRACKETS = re.compile(r"[（(\[【<《].*?[）)\]】>》]")
_NOISE = re.compile(r"[\s*＊:：、._\-—/\\|]+")


def normalise_header(text: object) -> str:
    """"身份证号码（必填）" → "身份证号码"; full-width → half-width; spaces and marks dropped; lower case."""
    s = unicodedata.normalize("NFKC", str(text or "")).strip()
    s = _BRACKETS.sub("", s) or s
    return _NOISE.sub("", s).lower()


def cell_text(value: Any) -> str:
    """A cell as text: integers without ".0", dates as ISO dates, strings trimmed."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).strip()


def looks_like_formula(text: str) -> bool:
    """A formula typed into a CSV cell, or a formula whose text reached us (``=HYPERLINK(...)``)."""
    return len(text) > 1 and text[0] == "=" and not text[1:].isdigit()


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- reading -----------------------------------------------------------------------------------------------------
def detect_format(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"  # also .xlsm / .ods: calamine tells them apart
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if b"\x00" in head[:4096]:
        raise SheetError(_("无法识别的文件类型：请上传 Excel（.xlsx/.xls）或 CSV 文件"))
    return "csv"


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SheetError(_("CSV 文件的编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV")) from None


def _open_bytes(source: str | Path | bytes | IO[bytes]) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    if hasattr(source, "seek"):
        source.seek(0)
    return source.read()


class _Sheet:
    """Rows of one sheet with merged ranges filled in, as (1-based row number, cells)."""

    def __init__(self, name: str, rows_fn, merged: Sequence[tuple[tuple[int, int], tuple[int, int]]],
                 height: int) -> None:
        self.name = name
        self._rows_fn = rows_fn
        self.height = height
        self._merge_starts: dict[int, list[tuple[int, int, int]]] = {}
        for (r1, c1), (r2, c2) in merged or ():
            self._merge_starts.setdefault(r1, []).append((c1, c2, r2))

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        starts = self._merge_starts
        if not starts:  # no merged cells: the rows as they come
            for r, cells in self._rows_fn():
                yield r + 1, cells
            return
        active: list[tuple[int, int, int, Any]] = []  # (c1, c2, last row, value)
        for r, cells in self._rows_fn():
            if active:
                active = [a for a in active if a[2] >= r]
                for c1, c2, _last, value in active:
                    if len(cells) <= c2:
                        cells = list(cells) + [""] * (c2 + 1 - len(cells))
                    for c in range(c1, c2 + 1):
                        if cells[c] in ("", None):
                            cells[c] = value
            if starts and r in starts:
                for c1, c2, r2 in starts[r]:
                    value = cells[c1] if c1 < len(cells) else ""
                    if len(cells) <= c2:
                        cells = list(cells) + [""] * (c2 + 1 - len(cells))
                    for c in range(c1 + 1, c2 + 1):
                        if cells[c] in ("", None):
                            cells[c] = value
                    if r2 > r:
                        active.append((c1, c2, r2, value))
            yield r + 1, cells


def _excel_sheets(data: bytes) -> list[_Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise SheetError(_("Excel 文件已损坏或无法读取：%(e)s") % {"e": str(exc)[:120]}) from None
    sheets = []
    for name in wb.sheet_names:
        try:
            sh = wb.get_sheet_by_name(name)
        except Exception:  # a chart sheet or an unsupported part: not data
            continue
        start_row, start_col = sh.start or (0, 0)
        height = sh.height

        def rows_fn(sh=sh, start_row=start_row, start_col=start_col):
            pad = [""] * start_col
            for i, cells in enumerate(sh.iter_rows()):
                yield start_row + i, (pad + cells) if start_col else cells

        sheets.append(_Sheet(name, rows_fn, sh.merged_cell_ranges or (), start_row + height))
    return sheets


def _csv_sheet(data: bytes) -> _Sheet:
    text = decode_csv(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    height = text.count("\n") + 1

    def rows_fn():
        yield from enumerate(csv.reader(io.StringIO(text), dialect))

    return _Sheet("CSV", rows_fn, (), height)


def _empty(cells: Iterable[Any]) -> bool:
    for c in cells:  # a loop, not all(<generator>): called once per row, and a filled row ends at its first cell
        if c is None or (isinstance(c, str) and not c.strip()):
            continue
        return False
    return True


def _match(labels: list[str], columns: Sequence[Column]) -> dict[str, int]:
    names = {n: col.key for col in columns for n in col.names()}
    found: dict[str, int] = {}
    for i, label in enumerate(labels):
        key = names.get(normalise_header(label))
        if key and key not in found:
            found[key] = i
    return found


def read_table(source: str | Path | bytes | IO[bytes], columns: Sequence[Column]) -> Table:
    """Open a sheet and find its header. Raises SheetError when the file cannot be read at all.

    Missing required columns are reported in ``Table.missing`` (callers turn them into one clear message).
    """
    data = _open_bytes(source)
    if not data:
        raise SheetError(_("文件是空的"))
    fmt = detect_format(data[:8])
    sheets = _excel_sheets(data) if fmt in {"xlsx", "xls"} else [_csv_sheet(data)]
    best = None  # (score, sheet, header index, labels, head rows)
    for sheet in sheets:
        head: list[tuple[int, list[Any]]] = []
        it = sheet.rows()
        for row in it:
            head.append(row)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        for i, (_n, cells) in enumerate(head):
            above = head[i - 1][1] if i else []
            labels = [cell_text(c) or (cell_text(above[j]) if j < len(above) else "") for j, c in enumerate(cells)]
            score = len(_match(labels, columns))
            if best is None or score > best[0]:
                best = (score, sheet, i, labels, head)
    if best is None or best[0] == 0:
        expected = "、".join(c.label for c in columns if c.required)
        raise SheetError(_("没有找到表头行：前%(n)d行中没有一行包含 %(cols)s 等列名")
                         % {"n": HEADER_SCAN_ROWS, "cols": expected})
    _score, sheet, hi, labels, head = best
    found = _match(labels, columns)
    missing = [c for c in columns if c.required and c.key not in found]
    known = set(found.values())
    unknown = [lab for j, lab in enumerate(labels) if lab and j not in known]
    header_row = head[hi][0]

    def data_rows() -> Iterator[tuple[int, list[Any]]]:
        for n, cells in sheet.rows():
            if n > header_row and not _empty(cells):
                yield n, cells

    return Table(format=fmt, sheet=sheet.name, header_row=header_row, headers=labels, columns=found,
                 missing=missing, unknown=unknown, rows=data_rows(), total_rows=max(sheet.height - header_row, 0),
                 width=len(labels))


# --- writing -----------------------------------------------------------------------------------------------------
class XlsxWriter:
    """A write-only workbook with a watermark: ``with XlsxWriter(fh, title, mark) as w: w.header(..); w.row(..)``.

    Every cell goes through ``neutralise``; the watermark is the first row and the printed header/footer.
    """

    def __init__(self, target: str | Path | IO[bytes], title: str, watermark: str = "") -> None:
        from openpyxl import Workbook

        self.target = target
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet(title=(title or "Sheet")[:31])
        self.rows = 0
        if watermark:
            self.ws.oddHeader.center.text = watermark
            self.ws.oddFooter.center.text = watermark
            self.ws.evenHeader.center.text = watermark
            self.ws.evenFooter.center.text = watermark
            self.ws.append([neutralise(watermark)])

    def header(self, labels: Sequence[str]) -> None:
        self.ws.append([neutralise(x) for x in labels])

    def row(self, values: Sequence[Any]) -> None:
        self.ws.append([neutralise(v) for v in values])
        self.rows += 1

    def close(self) -> None:
        self.wb.save(self.target)

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
