"""The certificate of attendance (结业证书) and the activity brief (活动简报) as Chinese PDFs on core.pdf."""

from __future__ import annotations

import datetime as dt

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, Spacer, Table, TableStyle

from core.pdf import chinese_date, document, esc, paragraphs, render, styles

__all__ = ["brief_pdf", "certificate_pdf"]


def certificate_pdf(*, name: str, activity: str, organiser: str, attended: int, sessions: int, number: str,
                    first: dt.date | None, last: dt.date | None, issued: dt.date) -> bytes:
    st = styles()
    doc, buf = document(f"{activity} 结业证书", author=organiser, pagesize=landscape(A4))
    big = st["title"].clone("big", fontSize=30, leading=40, spaceAfter=18)
    body = st["p"].clone("body", fontSize=16, leading=30, firstLineIndent=32)
    span = f"{chinese_date(first)}至{chinese_date(last)}" if first and last and first != last else chinese_date(first)
    story = [Spacer(1, 18 * mm), Paragraph("结 业 证 书", big),
             Paragraph(f"<b>{esc(name)}</b> 同学/同志：", body.clone("to", firstLineIndent=0)),
             Paragraph(f"于{span}参加{esc(organiser)}举办的“{esc(activity)}”，共{sessions}场，"
                       f"出席{attended}场，表现良好，特发此证。", body),
             Spacer(1, 20 * mm),
             Paragraph(esc(organiser), st["cell"].clone("org", fontSize=15, leading=24, alignment=2)),
             Paragraph(chinese_date(issued), st["cell"].clone("day", fontSize=13, leading=22, alignment=2)),
             Spacer(1, 10 * mm), Paragraph(f"证书编号：{esc(number)}", st["small"])]
    return render(doc, buf, story)


def brief_pdf(*, title: str, organiser: str, period: str, places: str, figures: list[tuple[str, str]],
              by_community: list[tuple[str, int]], summary: str, photos: list[tuple[bytes, str]],
              made: dt.date) -> bytes:
    import io

    st = styles()
    doc, buf = document(f"{title} 活动简报", author=organiser)
    story = [Paragraph("活 动 简 报", st["title"]), Paragraph(esc(title), st["subtitle"]), Spacer(1, 4 * mm),
             Paragraph(f"主办：{esc(organiser)}　　时间：{esc(period)}", st["cell"]),
             Paragraph(f"地点：{esc(places)}", st["cell"]), Paragraph("一、活动概况", st["h"])]
    cells = [[Paragraph(esc(k), st["cell"]), Paragraph(esc(v), st["cell"])] for k, v in figures]
    t = Table(cells, colWidths=[50 * mm, 110 * mm])
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(t)
    if by_community:
        story.append(Paragraph("二、参加人员（按社区）", st["h"]))
        rows = [[Paragraph(esc(n), st["cell"]), Paragraph(str(k), st["cell"])] for n, k in by_community]
        t = Table(rows, colWidths=[80 * mm, 30 * mm])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
        story.append(t)
    story.append(Paragraph("三、活动内容", st["h"]))
    story += paragraphs(summary, st["p"]) or [Paragraph("（未填写）", st["small"])]
    if photos:
        story.append(Paragraph("四、活动照片", st["h"]))
        for data, caption in photos[:6]:
            try:
                img = Image(io.BytesIO(data))
            except Exception:  # noqa: BLE001 - a photo reportlab cannot read is left out of the brief
                continue
            ratio = img.imageHeight / img.imageWidth if img.imageWidth else 0.75
            img.drawWidth, img.drawHeight = 120 * mm, 120 * mm * ratio
            story += [img, Paragraph(esc(caption), st["small"]), Spacer(1, 3 * mm)]
    story += [Spacer(1, 6 * mm), Paragraph(f"{esc(organiser)}　{chinese_date(made)}", st["cell"].clone(
        "sig", alignment=2))]
    return render(doc, buf, story)
