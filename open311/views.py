"""Open311 GeoReport v2 endpoints (wiki.open311.org/GeoReport_v2) over the cases app.

    GET  /open311/v2/services.{json,xml}                 the categories (service_code = category code)
    GET  /open311/v2/services/{service_code}.{json,xml}  a service definition (no extra attributes)
    POST /open311/v2/requests.{json,xml}                 a new request (needs api_key) → cases.services.report
    GET  /open311/v2/requests.{json,xml}                 requests, filtered as the spec says
    GET  /open311/v2/requests/{service_request_id}.{json,xml}
    GET  /open311/v2/tokens/{token}.{json,xml}
    GET  /open311/discovery.{json,xml}                   the service discovery document

``service_request_id`` is the case number (RF-2026-000123). Only cases submitted through Open311 are listed
(``settings.OPEN311_PUBLIC_CHANNELS``), and a resident's name, phone and e-mail are never part of a response:
the case keeps name and phone sealed, the e-mail is not stored, and phone or ID numbers typed into the
description are masked on the way out.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from open311.georeport import error_response, render
from open311.models import APIKey, RequestToken

__all__ = ["discovery", "request_detail", "requests_view", "service_definition", "services", "token_view"]

MAX_RESULTS = 1000
DEFAULT_WINDOW = dt.timedelta(days=90)
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")


def _public_channels() -> tuple[str, ...]:
    return tuple(getattr(settings, "OPEN311_PUBLIC_CHANNELS", ("open311",)))


def _jurisdiction(request, fmt: str):
    """(street ids or None for all, error response or None) from ``jurisdiction_id``."""
    from places.models import Street

    jid = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    if not jid or jid == getattr(settings, "OPEN311_JURISDICTION_ID", "renfang"):
        return None, None
    ids = list(Street.objects.filter(code=jid).values_list("pk", flat=True))
    if not ids:
        return None, error_response(fmt, 404, _("jurisdiction_id “%(j)s” 不是本平台服务的辖区") % {"j": jid[:40]})
    return ids, None


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _scrub(text: str) -> str:
    text = _ID.sub(lambda m: m.group(1) + "********" + m.group(2), text or "")
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def _categories():
    from cases.models import CaseCategory

    return list(CaseCategory.objects.filter(is_active=True).select_related("parent").order_by("order", "code"))


def _service(cat) -> dict:
    return {"service_code": cat.code, "service_name": cat.label, "description": cat.label,
            "metadata": False, "type": "realtime", "keywords": cat.name if cat.name_en else "",
            "group": cat.parent.label if cat.parent_id else cat.label}


@require_http_methods(["GET"])
def services(request, fmt: str):
    _streets, err = _jurisdiction(request, fmt)
    if err:
        return err
    return render(fmt, "services", [_service(c) for c in _categories()])


@require_http_methods(["GET"])
def service_definition(request, code: str, fmt: str):
    from cases.models import CaseCategory

    _streets, err = _jurisdiction(request, fmt)
    if err:
        return err
    if not CaseCategory.objects.filter(code=code, is_active=True).exists():
        return error_response(fmt, 404, _("service_code “%(c)s” 不存在") % {"c": code[:40]})
    return render(fmt, "service_definition", {"service_code": code, "attributes": []})


def _request_row(case, token: RequestToken | None) -> dict:
    from cases.models import OPEN_STATUSES, Status

    is_open = case.status in OPEN_STATUSES
    if case.status == Status.REJECTED:
        notes = _("不予受理：%(r)s") % {"r": case.reject_reason}
    else:
        notes = Status(case.status).label
    return {
        "service_request_id": case.number,
        "status": "open" if is_open else "closed",
        "status_notes": str(notes),
        "service_name": case.category.label,
        "service_code": case.category.code,
        "description": _scrub(case.description or case.title),
        "agency_responsible": case.lead_unit.name if case.lead_unit_id else None,
        "service_notice": None,
        "requested_datetime": _iso(case.created_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.deadline_at),
        "address": case.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lng,
        "media_url": (token.media_url or None) if token else None,
    }


def _public_cases(streets):
    from cases.models import Case

    qs = Case._base_manager.filter(channel__in=_public_channels()).select_related("category", "lead_unit",
                                                                                 "open311_token")
    if streets is not None:
        qs = qs.filter(street_id__in=streets)
    return qs


def _parse_date(value: str, name: str) -> dt.datetime:
    """An ISO 8601 time the database can compare with, and ``DEFAULT_WINDOW`` either side of it."""
    bad = _("%(n)s 应为 ISO 8601 时间（例如 2026-11-29T08:00:00+08:00）") % {"n": name}
    try:
        parsed = parse_datetime(value.strip().replace(" ", "+")) if value else None
    except ValueError:  # well-formed but not a date ("2026-02-30")
        parsed = None
    if parsed is None:
        raise ValidationError(bad)
    try:
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        parsed.astimezone(dt.UTC)
        parsed - DEFAULT_WINDOW, parsed + DEFAULT_WINDOW  # noqa: B018 (the window around it must exist too)
    except (OverflowError, ValueError):
        raise ValidationError(_("%(n)s 超出可以查询的时间范围（公元 1 年至 9999 年）") % {"n": name}) from None
    return parsed


def _list_requests(request, fmt: str):
    from cases.models import OPEN_STATUSES as OPEN

    streets, err = _jurisdiction(request, fmt)
    if err:
        return err
    qs = _public_cases(streets)
    ids = [i.strip() for i in (request.GET.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        qs = qs.filter(number__in=ids[:MAX_RESULTS])  # the spec: other parameters are then ignored
    else:
        codes = [c.strip() for c in (request.GET.get("service_code") or "").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category__code__in=codes)
        try:
            start = _parse_date(request.GET["start_date"], "start_date") if request.GET.get("start_date") else None
            end = _parse_date(request.GET["end_date"], "end_date") if request.GET.get("end_date") else None
        except ValidationError as exc:
            return error_response(fmt, 400, exc.messages[0])
        if start is None and end is None:
            start = timezone.now() - DEFAULT_WINDOW
        elif start is None:
            start = end - DEFAULT_WINDOW
        if start:
            qs = qs.filter(created_at__gte=start)
        if end:
            qs = qs.filter(created_at__lte=end)
        statuses = {s.strip().lower() for s in (request.GET.get("status") or "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            return error_response(fmt, 400, _("status 只能是 open 或 closed（可用逗号分隔）"))
        if statuses == {"open"}:
            qs = qs.filter(status__in=OPEN)
        elif statuses == {"closed"}:
            qs = qs.exclude(status__in=OPEN)
    rows = [_request_row(c, getattr(c, "open311_token", None)) for c in qs.order_by("-created_at")[:MAX_RESULTS]]
    return render(fmt, "service_requests", rows)


def _key(request) -> APIKey | None:
    raw = (request.POST.get("api_key") or "").strip()
    if not raw:
        return None
    return APIKey.objects.filter(key_hash=APIKey.digest(raw), is_active=True).first()


def _create_request(request, fmt: str):
    from cases.models import CaseCategory
    from cases.services import report

    key = _key(request)
    if key is None:
        return error_response(fmt, 403, _("api_key 无效或缺失：提交诉求需要系统管理员发放的密钥"))
    streets, err = _jurisdiction(request, fmt)
    if err:
        return err
    p = request.POST
    code = (p.get("service_code") or "").strip()
    if not code:
        return error_response(fmt, 400, _("缺少 service_code（诉求类别代码，见 services 接口）"))
    category = CaseCategory.objects.filter(code=code, is_active=True).first()
    if category is None:
        return error_response(fmt, 404, _("service_code “%(c)s” 不存在") % {"c": code[:40]})
    lat = lng = None
    if p.get("lat") or p.get("long"):
        try:
            lat, lng = float(p.get("lat", "")), float(p.get("long", ""))
        except ValueError:
            return error_response(fmt, 400, _("lat 和 long 应为 WGS-84 经纬度数字"))
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            return error_response(fmt, 400, _("lat/long 超出经纬度范围"))
        if _near_compound(lat, lng, streets) is None:
            return error_response(fmt, 400, OUTSIDE_TEXT % {"lat": f"{lat:.6f}", "long": f"{lng:.6f}"})
    address = (p.get("address_string") or "").strip()[:200]
    place = _place_for(address, streets) if lat is None else None
    if lat is None and place is None:
        return error_response(fmt, 400, _("需要位置：请提供 lat 和 long，或能对应到本辖区小区名称的 address_string"))
    description = (p.get("description") or "").strip()[:4000]
    title = (description.splitlines()[0][:40] if description else category.name) or category.name
    name = " ".join(x for x in ((p.get("last_name") or "").strip(), (p.get("first_name") or "").strip()) if x)
    attributes = {k[10:-1]: v for k, v in p.items() if k.startswith("attribute[") and k.endswith("]")}
    media_url = (p.get("media_url") or "").strip()[:500]
    if media_url and not media_url.lower().startswith(("https://", "http://")):
        return error_response(fmt, 400, _("media_url 应为 http(s) 链接"))
    try:
        with transaction.atomic():
            case = report(None, channel="open311", category=category, title=title, description=description,
                          place=place, lat=lat, lng=lng, address=address, reporter_name=name[:64],
                          reporter_phone=(p.get("phone") or "").strip(), service_code=code,
                          external_id=(p.get("device_id") or "")[:64])
            if streets is not None and case.street_id not in streets:
                raise ValidationError({"jurisdiction_id": [_("位置不在 jurisdiction_id 所指的辖区内")]})
            token = RequestToken.objects.create(
                token=secrets.token_hex(16), case=case, api_key=key, media_url=media_url,
                device_id=(p.get("device_id") or "")[:100], account_id=(p.get("account_id") or "")[:100],
                attributes=attributes)
            APIKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now(),
                                                    requests_count=F("requests_count") + 1)
    except ValidationError as exc:
        return error_response(fmt, 400, _validation_text(exc))
    return render(fmt, "service_requests", [{
        "service_request_id": case.number, "token": token.token,
        "service_notice": _("已受理登记，编号 %(n)s；处理进度可按编号查询") % {"n": case.number},
        "account_id": None}])


# The public report page answers a point it cannot place with "请选择问题发生的小区"; an API client has no
# dropdown to choose from, so it is told the point lies outside the area served.
OUTSIDE_TEXT = _lazy("lat/long（%(lat)s, %(long)s）不在本平台服务的辖区内：附近 2 公里内没有登记的小区。"
                     "请确认坐标为 WGS-84 经纬度，或向所在地的街道反映")


def _near_compound(lat: float, lng: float, streets):
    """The compound nearest the point (cases.services.locate), if it is within the jurisdiction asked."""
    from cases.services import locate

    place = locate(lat, lng)
    if place is not None and streets is not None and place.street_id not in streets:
        return None
    return place


_FIELD_NAMES = {"reporter_phone": "phone", "place": "lat/long", "title": "description", "category": "service_code"}


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "；".join(f"{_FIELD_NAMES.get(k, k)}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _place_for(address: str, streets):
    """The compound whose name appears in the address (the longest such name), within the jurisdiction."""
    from places.models import Compound

    if not address:
        return None
    qs = Compound.objects.all()
    if streets is not None:
        qs = qs.filter(street_id__in=streets)
    best = None
    for comp in qs.only("pk", "name", "grid_id", "community_id", "street_id", "lat", "lng").iterator():
        if comp.name and comp.name in address and (best is None or len(comp.name) > len(best.name)):
            best = comp
    return best


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_view(request, fmt: str):
    if request.method == "POST":
        return _create_request(request, fmt)
    return _list_requests(request, fmt)


@require_http_methods(["GET"])
def request_detail(request, number: str, fmt: str):
    streets, err = _jurisdiction(request, fmt)
    if err:
        return err
    case = _public_cases(streets).filter(number=number).first()
    if case is None:
        return error_response(fmt, 404, _("service_request_id “%(n)s” 不存在") % {"n": number[:40]})
    return render(fmt, "service_requests", [_request_row(case, getattr(case, "open311_token", None))])


@require_http_methods(["GET"])
def token_view(request, token: str, fmt: str):
    row = RequestToken.objects.filter(token=token).select_related("case").first()
    if row is None:
        return error_response(fmt, 404, _("token “%(t)s” 不存在") % {"t": token[:40]})
    return render(fmt, "service_requests", [{"service_request_id": row.case.number, "token": row.token}])


@require_http_methods(["GET"])
def discovery(request, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2/")
    payload = {
        "changeset": "2026-11-29T00:00:00+08:00",
        "contact": getattr(settings, "OPEN311_CONTACT", ""),
        "key_service": _("向街道系统管理员申请 api_key"),
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                       "changeset": "2026-11-29T00:00:00+08:00", "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    }
    if fmt == "xml":
        from open311.georeport import _xml_node

        body = ('<?xml version="1.0" encoding="utf-8"?>\n<discovery>'
                + "".join(_xml_node(k, v) for k, v in payload.items() if k != "endpoints")
                + "<endpoints>" + "".join(
                    "<endpoint>" + "".join(_xml_node(k, v) for k, v in ep.items() if k != "formats")
                    + "<formats>" + "".join(f"<format>{f}</format>" for f in ep["formats"]) + "</formats></endpoint>"
                    for ep in payload["endpoints"]) + "</endpoints></discovery>")
        return HttpResponse(body, content_type="text/xml; charset=utf-8")
    return render(fmt, "discovery", payload)
