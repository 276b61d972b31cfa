"""The mediation agreement (人民调解协议书) as a PDF in Chinese for signature, drawn with reportlab.

The font is reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1): no font file is embedded, every PDF
reader ships it. ``agreement_pdf(data)`` takes plain values (``AgreementData``) so that it can be tested and
previewed without a database; ``mediation.services.agreement_pdf(user, mediation)`` fills it from the records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from core.pdf import chinese_date, document, render
from core.pdf import esc as _esc
from core.pdf import paragraphs as _paragraphs
from core.pdf import styles as _core_styles

__all__ = ["AgreementData", "PartyLine", "agreement_pdf"]

@dataclass
class PartyLine:
    role: str  # 申请人 / 被申请人 / 第三人
    name: str
    address: str = ""
    phone_masked: str = ""


@dataclass
class AgreementData:
    number: str
    title: str
    committee: str  # the mediation committee: "XX社区人民调解委员会"
    parties: list[PartyLine] = field(default_factory=list)
    facts: str = ""  # 纠纷主要事实、争议事项
    terms: list[str] = field(default_factory=list)  # 达成协议的内容
    performance: str = ""  # 履行方式、时限
    mediators: list[str] = field(default_factory=list)
    signed_on: dt.date | None = None
    copies: int = 3


def _styles() -> dict:
    st = _core_styles()
    st["number"] = st["subtitle"]
    return st


def agreement_pdf(data: AgreementData) -> bytes:
    """The agreement as PDF bytes (A4, one or more pages), with signature lines for every party and mediator."""
    st = _styles()
    doc, buf = document(f"人民调解协议书 {data.number}", author=data.committee, subject=data.title)
    story: list = [Paragraph("人民调解协议书", st["title"]),
                   Paragraph(f"编号：{_esc(data.number)}", st["number"]), Spacer(1, 8)]
    rows = [[Paragraph("当事人", st["cell"]), Paragraph("姓名", st["cell"]), Paragraph("住址", st["cell"]),
             Paragraph("联系电话", st["cell"])]]
    for p in data.parties:
        rows.append([Paragraph(_esc(p.role), st["cell"]), Paragraph(_esc(p.name), st["cell"]),
                     Paragraph(_esc(p.address), st["cell"]), Paragraph(_esc(p.phone_masked), st["cell"])])
    table = Table(rows, colWidths=[24 * mm, 32 * mm, 76 * mm, 34 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#333333")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story += [table, Paragraph("纠纷主要事实、争议事项", st["h"])]
    story += _paragraphs(data.facts, st["p"]) or [Paragraph("（无）", st["p"])]
    story.append(Paragraph("经调解，自愿达成如下协议", st["h"]))
    for i, term in enumerate(t for t in data.terms if t.strip()):
        story.append(Paragraph(f"{i + 1}. {_esc(term.strip())}", st["p"]))
    if data.performance.strip():
        story.append(Paragraph("履行方式、时限", st["h"]))
        story += _paragraphs(data.performance, st["p"])
    story.append(Paragraph(
        f"本协议自各方当事人签名（盖章或按指印）、人民调解员签名并加盖人民调解委员会印章之日起生效。"
        f"本协议一式{data.copies}份，当事人各执一份，{_esc(data.committee)}留存一份。", st["p"]))
    story.append(Spacer(1, 14))
    sign_rows = [[Paragraph(f"{_esc(p.role)}（签名）：", st["cell"]), Paragraph(_esc(p.name), st["small"]),
                  Paragraph("日期：", st["cell"])] for p in data.parties]
    sign_rows += [[Paragraph("人民调解员（签名）：", st["cell"]), Paragraph(_esc(m), st["small"]),
                   Paragraph("日期：", st["cell"])] for m in data.mediators]
    sign = Table(sign_rows, colWidths=[52 * mm, 66 * mm, 48 * mm], rowHeights=[13 * mm] * len(sign_rows))
    sign.setStyle(TableStyle([("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black),
                              ("LINEBELOW", (2, 0), (2, -1), 0.6, colors.black),
                              ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    signed = chinese_date(data.signed_on)
    story.append(KeepTogether([sign, Spacer(1, 12),
                               Paragraph(f"{_esc(data.committee)}（印章）", st["cell"]),
                               Paragraph(signed, st["cell"])]))
    return render(doc, buf, story)
