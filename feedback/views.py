"""The QR sheet of a compound (community office) and the public report page a QR code opens (no account)."""
from __future__ import annotations

import segno
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from core.querysets import natural, scope_q
from core.scope import scope_for
from feedback import services
from feedback.forms import ReportForm, room_key, room_label
from feedback.tokens import building_token, house_token, parse_token
from notify import sms
from places.models import Building, Compound, House

PURPOSE = "feedback"


def _qr_svg(url: str) -> str:
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=4, border=2, dark="#000", light="#fff", omitsize=True)


@require_GET
def index(request):
    """The compounds whose QR sheets this user may print (their community's), with the number of buildings."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    places = scope_for(request.user).places_for("feedback.print_sheet")
    if places is None:
        raise PermissionDenied(_("只有社区工作人员可以打印反馈二维码"))
    from django.db.models import Count

    compounds = (Compound.objects.restrict(request.user, "view").filter(scope_q(Compound, places, request.user.pk))
                 .annotate(n_buildings=Count("buildings")).order_by("name_pinyin", "id"))
    return render(request, "feedback/index.html", {"title": _("居民反馈二维码"), "compounds": compounds})


@require_GET
def sheet(request, pk: int):
    """One QR code per building of the compound (``?per=house``: one per home), on A4, for printing."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    compound = Compound.objects.restrict(request.user, "view").filter(pk=pk).first()
    if compound is None:
        raise Http404
    places = scope_for(request.user).places_for("feedback.print_sheet")
    if places is None or not Compound.objects.filter(pk=pk).filter(scope_q(Compound, places, request.user.pk)).exists():
        raise PermissionDenied(_("只有本社区的社区工作人员可以打印反馈二维码"))
    per_house = request.GET.get("per") == "house"
    buildings = list(Building.objects.filter(compound=compound).order_by(*natural("number"), "id"))
    cards = []
    base = request.build_absolute_uri("/")[:-1]
    if per_house:
        houses = House.objects.filter(compound=compound).select_related("building").order_by(
            *natural("building__number"), "unit", "floor", *natural("room"))
        for h in houses:
            url = base + reverse("feedback:report", args=[house_token(h)])
            cards.append({"title": _("%(b)s幢 %(r)s") % {"b": h.building.number, "r": room_label(h)}, "url": url,
                          "svg": mark_safe(_qr_svg(url))})
    else:
        for b in buildings:
            url = base + reverse("feedback:report", args=[building_token(b)])
            cards.append({"title": _("%(b)s幢") % {"b": b.number}, "url": url, "svg": mark_safe(_qr_svg(url))})
    return render(request, "feedback/sheet.html", {
        "title": _("%(c)s 居民反馈二维码") % {"c": compound.name}, "compound": compound, "cards": cards,
        "near_cards": [] if per_house else _near_cards(base, buildings), "per_house": per_house})


def _near_cards(base: str, buildings) -> list[dict]:
    """The residents' "services near me" codes of the same buildings, when the 15-minute circle is installed."""
    from django.apps import apps

    if not apps.is_installed("circle"):
        return []
    from circle.services import building_token as near_token

    cards = []
    for b in buildings:
        url = base + reverse("circle:near", args=[near_token(b)])
        cards.append({"title": _("%(b)s幢") % {"b": b.number}, "url": url, "svg": mark_safe(_qr_svg(url))})
    return cards


def _building_from(token: str):
    parsed = parse_token(token)
    if parsed is None:
        raise Http404
    building_id, house_id = parsed
    building = Building.objects.select_related("compound").filter(pk=building_id).first()
    if building is None:
        raise Http404
    houses = list(House.objects.filter(building=building).order_by("unit", "floor", "room"))
    fixed = None
    if house_id is not None:
        fixed = next((h for h in houses if h.pk == house_id), None)
        if fixed is None:
            raise Http404
    return building, houses, fixed


def _public(request, template: str, ctx: dict, status: int = 200):
    response = render(request, template, ctx, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_protect
@require_http_methods(["GET", "POST"])
def report(request, token: str):
    building, houses, fixed = _building_from(token)
    choices = [(room_key(h), room_label(h)) for h in ([fixed] if fixed else houses)]
    by_key = {room_key(h): h for h in houses}
    ctx = {"title": _("住户信息反馈"), "building_name": str(building), "token": token, "fixed": fixed}
    if request.method == "GET":
        initial = {"room": room_key(fixed)} if fixed else {}
        ctx["form"] = ReportForm(rooms=choices, initial=initial)
        return _public(request, "feedback/report.html", ctx)

    form = ReportForm(request.POST, rooms=choices)
    ctx["form"] = form
    step = request.POST.get("step", "send")
    if request.POST.get("website"):
        # A bot filled the hidden field: answer as if the code went out, send nothing, keep nothing.
        ctx["masked"] = ""
        return _public(request, "feedback/confirm.html", ctx)
    if not form.is_valid():
        return _public(request, "feedback/report.html", ctx)
    data = form.cleaned_data
    phone = data["phone"]
    house = by_key[data["room"]]
    try:
        services.check_limits(phone, request)
    except services.TooMany as exc:
        form.add_error("phone", str(exc))
        return _public(request, "feedback/report.html", ctx, status=429)
    if step == "send" or not request.POST.get("challenge"):
        try:
            ctx["challenge"] = sms.send_code(phone, PURPOSE, request=request)
        except sms.RateLimited as exc:
            form.add_error("phone", exc.message)
            return _public(request, "feedback/report.html", ctx, status=429)
        except ValidationError as exc:
            form.add_error("phone", exc.messages[0])
            return _public(request, "feedback/report.html", ctx)
        ctx.update(masked=phone[:3] + "****" + phone[-4:], house_label=room_label(house))
        return _public(request, "feedback/confirm.html", ctx)
    # step == "confirm"
    challenge = request.POST.get("challenge", "")
    ctx.update(challenge=challenge, masked=phone[:3] + "****" + phone[-4:], house_label=room_label(house))
    code = (request.POST.get("code") or "").strip()
    if not code:
        ctx["code_error"] = _("验证码：请填写短信中的6位数字")
        return _public(request, "feedback/confirm.html", ctx)
    if not sms.verify_code(challenge, code, phone=phone, purpose=PURPOSE):
        ctx["code_error"] = _("验证码：不正确或已过期（每个验证码最多试5次，10分钟内有效），可重新获取")
        return _public(request, "feedback/confirm.html", ctx)
    services.submit(house=house, kind=data["kind"], data=data, phone=phone, request=request)
    return _public(request, "feedback/done.html", ctx)
