"""A volunteer's certificate of service (志愿服务证明) as a PDF in Chinese, drawn on core.pdf: the volunteer, their
verified hours in total and by year, the star rating, the latest verified services, the issuing community."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from reportlab.lib import colors
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from core.pdf import chinese_date, document, esc, render, styles

__all__ = ["certificate_pdf"]


def _num(value) -> str:
    value = Decimal(value or 0)
    return f"{value.quantize(Decimal('0.01')).normalize():f}"


def certificate_pdf(volunteer, *, today=None) -> bytes:
    from volunteers import services
    from volunteers.models import Movement, Signup

    today = today or timezone.localdate()
    st = styles()
    person = volunteer.person
    community = volunteer.community.name if volunteer.community_id else ""
    per_year: dict[int, Decimal] = {}
    for m in Movement.objects.filter(account__volunteer=volunteer, account__kind="volunteer", unit="hours") \
            .select_related("transfer"):
        per_year[m.transfer.occurred_on.year] = per_year.get(m.transfer.occurred_on.year, Decimal(0)) + m.amount
    total = sum(per_year.values(), Decimal(0))
    star = services.star_level(total)
    doc, buf = document(f"志愿服务证明 {volunteer.number}", author=f"{community}志愿服务站", subject="志愿服务证明")
    story: list = [Paragraph("志愿服务证明", st["title"]),
                   Paragraph(f"编号：{esc(volunteer.number)}-{today:%Y%m%d}", st["subtitle"]), Spacer(1, 12)]
    text = (f"兹证明 <b>{esc(person.name)}</b>（志愿者编号 {esc(volunteer.number)}）自"
            f"{chinese_date(volunteer.joined_on)}起在{esc(community)}参加志愿服务，截至{chinese_date(today)}，"
            f"经组织者核定的志愿服务时长累计 <b>{_num(total)}</b> 小时。")
    if star:
        text += f"按志愿服务时长，为{esc(star)}。"
    story.append(Paragraph(text, st["p"]))
    story.append(Spacer(1, 8))
    if per_year:
        rows = [[Paragraph("年度", st["cell"]), Paragraph("核定时长（小时）", st["cell"])]]
        rows += [[Paragraph(f"{y}年", st["cell"]), Paragraph(_num(h), st["cell"])]
                 for y, h in sorted(per_year.items(), reverse=True)]
        story.append(_table(rows, [60, 120]))
        story.append(Spacer(1, 8))
    recent = (Signup.objects.filter(volunteer=volunteer, verified_at__isnull=False, verified_hours__isnull=False)
              .select_related("shift__task").order_by("-shift__starts_at")[:12])
    lines = [[Paragraph("日期", st["cell"]), Paragraph("服务内容", st["cell"]), Paragraph("时长", st["cell"])]]
    for s in recent:
        day = timezone.localtime(s.shift.starts_at).date()
        lines.append([Paragraph(chinese_date(day), st["cell"]), Paragraph(esc(s.shift.task.title), st["cell"]),
                      Paragraph(_num(s.verified_hours), st["cell"])])
    if len(lines) > 1:
        story.append(Paragraph("近期服务记录", st["h"]))
        story.append(_table(lines, [90, 240, 50]))
    story += [Spacer(1, 28), Paragraph(f"{esc(community)}志愿服务站（盖章）", st["cell"]),
              Paragraph(chinese_date(today), st["cell"]), Spacer(1, 10),
              Paragraph("本证明所列时长均经活动组织者核定，记入人房平台志愿服务时长账本，可凭编号向社区核实。",
                        st["small"])]
    return render(doc, buf, story)


def _table(rows, widths) -> Table:
    from reportlab.lib.units import mm

    t = Table(rows, colWidths=[w * mm / 2.2 for w in widths])
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                           ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return t
