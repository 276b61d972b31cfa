"""The one scaffolding for Chinese PDFs (certificates, briefs, minutes, agreements), drawn with reportlab.

The font is reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1): no font file is embedded, every PDF
reader ships it. ``document(title, ...)`` gives an A4 ``SimpleDocTemplate`` writing into a buffer,
``styles()`` the paragraph styles every document shares, ``esc`` and ``paragraphs`` the safe way to put typed
text into a ``Paragraph``, ``chinese_date`` a date as 2026年12月6日. A module builds its story and calls
``render(doc, buf, story)``.
"""

from __future__ import annotations

import datetime as dt
import io

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate

__all__ = ["FONT", "chinese_date", "document", "esc", "paragraphs", "render", "styles"]

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=11.5, leading=19, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", parent=base, alignment=TA_CENTER,
                                   textColor=colors.HexColor("#444444")),
        "h": ParagraphStyle("h", parent=base, fontSize=12.5, leading=21, spaceBefore=10, spaceAfter=3),
        "p": ParagraphStyle("p", parent=base, firstLineIndent=23),
        "cell": base,
        "small": ParagraphStyle("small", parent=base, fontSize=9.5, leading=14,
                                textColor=colors.HexColor("#555555")),
    }


def esc(text: object) -> str:
    """Typed text made safe for reportlab's mini-markup."""
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def paragraphs(text: str, style) -> list:
    return [Paragraph(esc(line), style) for line in (text or "").splitlines() if line.strip()]


def chinese_date(day: dt.date | None) -> str:
    if day is None:
        return "    年  月  日"
    return f"{day.year}年{day.month}月{day.day}日"


def document(title: str, *, author: str = "", subject: str = "", pagesize=A4) -> tuple[SimpleDocTemplate, io.BytesIO]:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=pagesize, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=title, author=author, subject=subject, creator="Renfang")
    return doc, buf


def render(doc: SimpleDocTemplate, buf: io.BytesIO, story: list) -> bytes:
    doc.build(story)
    return buf.getvalue()
