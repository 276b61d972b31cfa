"""Turn a verified resident report into change requests in fieldwork's review queue; never touch the registry.

The answer to the resident is the same whatever the registry holds: when fieldwork refuses a move-in or a
move-out because of what is registered (the named person does not live there, the person already lives there),
the report is filed as a correction with the facts as the resident gave them, for the reviewer to resolve.
So the page cannot be used to learn whether someone lives in a home.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import crypto, ratelimit
from core.audit import client_ip, record
from core.ratelimit import RateLimited, Window
from core.validators import mask_id
from feedback.models import Submission

IP_PER_HOUR = 10
PHONE_PER_DAY = 5
IP_HOUR = Window(IP_PER_HOUR, timedelta(hours=1), gettext_lazy("本网络提交的反馈太多（每小时最多%(n)d次），请稍后再试"))
PHONE_DAY = Window(PHONE_PER_DAY, timedelta(days=1), gettext_lazy("同一手机号每天最多提交%(n)d次反馈，请明天再试"))

TooMany = RateLimited  # a limit on reports was reached; ``str(exc)`` is the reason in Chinese


def check_limits(phone: str, request) -> None:
    """core.ratelimit over the reports already made: per client address (an hour), per phone (a day)."""
    now = timezone.now()
    ip = client_ip(request) if request is not None else None
    if ip:
        ratelimit.check(Submission.objects.filter(ip=ip), "created_at", IP_HOUR, now=now)
    bidx = crypto.blind_index(phone, "phone")
    ratelimit.check(Submission.objects.filter(phone_bidx=bidx), "created_at", PHONE_DAY, now=now)


def _correction_text(kind: str, data: dict) -> str:
    if kind == "move_in":
        who = "、".join(f"{p['name']}（{mask_id(p['id_number'])}）" for p in data["people"])
        return _("居民反馈：有人搬入：%(who)s") % {"who": who}
    when = data.get("moved_out").isoformat() if data.get("moved_out") else ""
    return _("居民反馈：%(name)s 已搬走 %(when)s") % {"name": data["out_name"].strip(), "when": when}


def _create(create_change_request, house, kind, payload, phone):
    return create_change_request(house=house, kind=kind, payload=payload, source="feedback", contact=phone)


def submit(*, house, kind: str, data: dict, phone: str, request=None) -> Submission:
    """Create the change requests of one verified report (all or nothing) and count it for the limits. Texts
    that are stored (a correction's wording, the officers' notification) are in the site's language, whatever
    language the resident reads the page in."""
    with translation.override(settings.LANGUAGE_CODE):
        return _submit(house=house, kind=kind, data=data, phone=phone, request=request)


@transaction.atomic
def _submit(*, house, kind: str, data: dict, phone: str, request=None) -> Submission:
    from fieldwork.services import create_change_request

    note = (data.get("text") or "").strip()
    created = []
    if kind == "move_in":
        for p in data["people"]:
            payload = {"name": p["name"], "id_type": p["id_type"], "id_number": p["id_number"],
                       "moved_in": data["moved_in"].isoformat() if data.get("moved_in") else "", "note": note}
            try:
                with transaction.atomic():
                    created.append(_create(create_change_request, house, "move_in", payload, phone))
            except ValidationError:
                one = {"people": [p]}
                created.append(_create(create_change_request, house, "correction",
                                       {"text": _correction_text(kind, one)}, phone))
    elif kind == "move_out":
        payload = {"name": data["out_name"].strip(),
                   "moved_out": data["moved_out"].isoformat() if data.get("moved_out") else "", "reason": note}
        try:
            with transaction.atomic():
                created.append(_create(create_change_request, house, "move_out", payload, phone))
        except ValidationError:
            text = _correction_text(kind, data) + (f"；{note}" if note else "")
            created.append(_create(create_change_request, house, "correction", {"text": text[:500]}, phone))
    else:
        created.append(_create(create_change_request, house, "correction", {"text": note}, phone))
    sub = Submission.objects.create(building_id=house.building_id, kind=kind, requests=len(created),
                                    phone_bidx=crypto.blind_index(phone, "phone"),
                                    ip=client_ip(request) if request is not None else None)
    record("feedback", house, changes={"kind": kind, "requests": len(created)}, request=request)
    transaction.on_commit(lambda: _tell_the_office_in(settings.LANGUAGE_CODE, house, kind, sub.pk))
    return sub


def _tell_the_office_in(language: str, house, kind: str, submission_id: int) -> None:
    with translation.override(language):
        _tell_the_office(house, kind, submission_id)


def _tell_the_office(house, kind: str, submission_id: int) -> None:
    """An inbox entry for the community officers of the house's community (no personal data in it)."""
    from django.db.models import Q
    from django.urls import NoReverseMatch, reverse

    from core.models import Grant
    from notify.services import notify

    now = timezone.now()
    user_ids = set(Grant.objects.filter(role__code="community_officer", community_id=house.community_id)
                   .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
                   .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).values_list("user_id", flat=True))
    if not user_ids:
        return
    from django.contrib.auth import get_user_model

    try:
        url = reverse("fieldwork:review")
    except NoReverseMatch:
        url = ""
    labels = {"move_in": _("有人搬入"), "move_out": _("有人搬走"), "correction": _("信息更正")}
    notify(list(get_user_model().objects.filter(pk__in=user_ids, is_active=True)),
           title=_("居民扫码反馈：%(place)s %(what)s") % {"place": house.address, "what": labels.get(kind, kind)},
           body=_("请在变更审核中核实。"), url=url, kind="review", dedupe_key=f"feedback:{submission_id}")
