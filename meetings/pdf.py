"""A meeting's minutes and resolutions (联席会议纪要) as a Chinese PDF, on core.pdf's scaffolding."""

from __future__ import annotations

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from core.pdf import chinese_date, document, esc, paragraphs, render, styles

__all__ = ["minutes_pdf"]


def minutes_pdf(meeting) -> bytes:
    from meetings.models import AgendaItem, Invitation, Minutes, Resolution

    st = styles()
    series = meeting.series
    convener = series.convener.name if series.convener_id else ""
    start = timezone.localtime(meeting.starts_at)
    doc, buf = document(f"{series.name} 第{meeting.number}次会议纪要", author=convener, subject=meeting.title)
    story: list = [Paragraph(esc(f"{series.name}"), st["title"]),
                   Paragraph(esc(f"第{meeting.number}次会议纪要"), st["subtitle"]), Spacer(1, 8)]
    story.append(Paragraph(esc(f"时间：{chinese_date(start.date())} {start:%H:%M}—"
                               f"{timezone.localtime(meeting.ends_at):%H:%M}"), st["cell"]))
    story.append(Paragraph(esc(f"地点：{meeting.location or '—'}"), st["cell"]))
    if convener:
        story.append(Paragraph(esc(f"召集单位：{convener}"), st["cell"]))
    story.append(Paragraph(esc(f"议题：{meeting.title}"), st["cell"]))
    invs = list(Invitation.objects.filter(meeting=meeting).select_related("organisation"))
    came = [i for i in invs if i.attended]
    absent = [i for i in invs if i.attended is False]
    story.append(Paragraph("出席单位", st["h"]))
    story.append(Paragraph(esc("；".join(f"{i.organisation.name}（{i.attendees}）" if i.attendees
                                        else i.organisation.name for i in came) or "—"), st["p"]))
    if absent:
        story.append(Paragraph(esc("缺席：" + "、".join(i.organisation.name for i in absent)), st["small"]))
    items = list(AgendaItem.objects.filter(meeting=meeting).select_related("proposing_org", "case")
                 .order_by("carried_from_id", "order"))
    story.append(Paragraph("会议议程", st["h"]))
    for n, a in enumerate(items[:300], start=1):
        who = f"（{a.proposing_org.name}提出）" if a.proposing_org_id else ""
        case = f" 关联案件{a.case.number}" if a.case_id else ""
        story.append(Paragraph(esc(f"{n}. {a.title}{who}{case}"), st["cell"]))
    if len(items) > 300:
        story.append(Paragraph(esc(f"……另有{len(items) - 300}项上次未办结事项，见决议督办台账"), st["small"]))
    minutes = Minutes.objects.filter(meeting=meeting).first()
    story.append(Paragraph("会议纪要", st["h"]))
    story += paragraphs(minutes.text if minutes else "", st["p"]) or [Paragraph("—", st["p"])]
    story.append(Paragraph("会议决议", st["h"]))
    rows = [[Paragraph(h, st["cell"]) for h in ("编号", "决议事项", "责任单位", "办理期限", "状态")]]
    for r in Resolution.objects.filter(meeting=meeting).select_related("owner").order_by("id"):
        rows.append([Paragraph(esc(r.number), st["small"]), Paragraph(esc(r.title), st["cell"]),
                     Paragraph(esc(r.owner.name if r.owner_id else "待交办"), st["cell"]),
                     Paragraph(esc(chinese_date(timezone.localtime(r.deadline_at).date()) if r.deadline_at else "—"),
                               st["small"]),
                     Paragraph(esc(r.get_state_display()), st["small"])])
    if len(rows) == 1:
        story.append(Paragraph("本次会议未形成决议。", st["p"]))
    else:
        table = Table(rows, colWidths=[28 * mm, 62 * mm, 34 * mm, 24 * mm, 18 * mm], repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    story += [Spacer(1, 16), Paragraph(esc(f"记录人：＿＿＿＿　　　　　　　　{convener}（盖章）"), st["cell"]),
              Paragraph(esc(chinese_date(start.date())), st["cell"])]
    return render(doc, buf, story)
