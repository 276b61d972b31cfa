"""The one write path of mediation records. Every function runs in a transaction, checks the permission on the
mediation's place (``Mediation.objects.restrict(user, action)``), bumps the version where the record is edited,
and writes the audit. ``agreement_pdf`` draws the agreement for signature (mediation/pdf.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.scope import scope_for
from core.sealed import reseal_entries
from core.services import ConflictError, assert_in_scope
from core.validators import validate_mobile
from mediation.models import FollowUp, Mediation, Mediator, Outcome, Party, PartyRole, Session, State
from mediation.pdf import AgreementData, PartyLine
from mediation.pdf import agreement_pdf as draw_agreement

__all__ = ["FOLLOW_UP_DAYS", "PartyData", "add_mediator", "add_party", "agreement_data", "agreement_pdf", "close",
           "open_mediation", "record_follow_up", "record_session", "remind_follow_ups"]

FOLLOW_UP_DAYS = (7, 30)  # 回访: a week and a month after the mediation ends (ours)


@dataclass
class PartyData:
    name: str
    role: str = PartyRole.APPLICANT
    person: object | None = None
    house: object | None = None
    address: str = ""
    phone: str = ""


def _check(user, mediation: Mediation, action: str) -> None:
    """404-style visibility is the view's job; here: the action must be allowed on this record's place."""
    if user is None:
        return
    if not Mediation.objects.restrict(user, action).filter(pk=mediation.pk).exists():
        raise PermissionDenied(_("您没有对该调解记录进行此项操作的权限"))


def _bump(mediation: Mediation, expected: int | None, **fields) -> None:
    seen = mediation.version if expected is None else expected
    fields = mediation.sealed_update(**fields)  # numbers typed into the texts sealed (core.sealed)
    updated = Mediation.objects.filter(pk=mediation.pk, version=seen).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields)
    if not updated:
        current = Mediation.objects.filter(pk=mediation.pk).values_list("version", flat=True).first() or seen
        raise ConflictError(mediation, seen, current)
    mediation.refresh_from_db()


def _next_number(year: int) -> str:
    prefix = f"TJ-{year}-"
    last = (Mediation.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    return f"{prefix}{(int(last.rsplit('-', 1)[1]) if last else 0) + 1:04d}"


def _party(mediation: Mediation, p: PartyData) -> Party:
    errors = {}
    name = (p.name or "").strip()
    if not name:
        errors["name"] = [_("当事人姓名：请填写")]
    if p.role not in PartyRole.values:
        errors["role"] = [_("当事人身份只能是申请人、被申请人或第三人")]
    phone = ""
    if p.phone:
        try:
            phone = validate_mobile(p.phone).value
        except ValidationError as exc:
            errors["phone"] = [_("当事人联系电话：%(m)s") % {"m": " ".join(exc.messages)}]
    if errors:
        raise ValidationError(errors)
    address = (p.address or "").strip()
    if not address and p.house is not None:
        address = p.house.address
    party = Party(mediation=mediation, role=p.role, name=name[:64], person=p.person, house=p.house,
                  address=address[:200])
    party.set_phone(phone)
    party.save()
    return party


def open_mediation(user, case, *, title: str = "", facts: str = "", committee: str = "",
                   parties: list[PartyData] | tuple = (), lead_mediator=None) -> Mediation:
    """Start the mediation of a case. Without ``parties`` the case's own parties (with their registry links) are
    copied. ``lead_mediator`` (a user) defaults to ``user``."""
    from cases.models import Case

    if user is not None and not Case.objects.restrict(user, "view").filter(pk=case.pk).exists():
        raise PermissionDenied(_("该案件不在您的管辖范围内"))
    if user is not None and not scope_for(user).has("mediation.add_mediation"):
        raise PermissionDenied(_("您没有登记调解的权限"))
    if Mediation.objects.filter(case_id=case.pk).exists():
        raise ValidationError({"case": [_("案件 %(n)s 已有调解记录") % {"n": case.number}]})
    now = timezone.now()
    with transaction.atomic():
        if committee.strip():
            committee_name = committee.strip()
        elif case.community_id:
            from places.models import Community

            committee_name = f"{Community.objects.get(pk=case.community_id).name}人民调解委员会"
        else:
            committee_name = _("人民调解委员会")
        m = Mediation(
            case=case, number=_next_number(timezone.localtime(now).year), title=(title or case.title)[:100],
            facts=facts or case.description, committee=committee_name[:100], street_id=case.street_id,
            community_id=case.community_id, grid_id=case.grid_id,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        # The case's masked numbers copied into the title and facts keep their values, sealed again for the
        # mediation's row (core.sealed: a token never moves to another row).
        m.sealed_numbers = {k: reseal_entries((case.sealed_numbers or {}).get(src, []), case, src, m, k)
                            for k, src in (("title", "title"), ("facts", "description"))}
        m.save(force_insert=True)
        rows = list(parties)
        if not rows:
            role_map = {"applicant": PartyRole.APPLICANT, "respondent": PartyRole.RESPONDENT,
                        "reporter": PartyRole.APPLICANT}
            rows = [PartyData(name=p.name, role=role_map.get(p.role, PartyRole.THIRD), person=p.person,
                              house=p.house) for p in case.parties.select_related("house__building__compound")]
        for p in rows:
            _party(m, p)
        lead = lead_mediator or user
        if lead is not None and getattr(lead, "is_authenticated", False):
            Mediator.objects.create(mediation=m, user=lead, name=lead.get_full_name() or lead.get_username(),
                                    is_lead=True)
        assert_in_scope(user, m, "add")
        audit.record("create", m, user=user, fields=["title", "parties"], changes={"case": [None, case.number]})
    return m


def add_party(user, mediation: Mediation, data: PartyData, *, expected_version: int | None = None) -> Party:
    _check(user, mediation, "change")
    with transaction.atomic():
        _bump(mediation, expected_version)
        party = _party(mediation, data)
        audit.record("change", mediation, user=user, fields=["parties"], changes={"party": [None, party.pk]})
    return party


def add_mediator(user, mediation: Mediation, *, mediator_user=None, name: str = "", is_volunteer: bool = False,
                 is_lead: bool = False) -> Mediator:
    _check(user, mediation, "change")
    name = (name or "").strip() or (mediator_user.get_full_name() or mediator_user.get_username()
                                    if mediator_user is not None else "")
    if not name:
        raise ValidationError({"name": [_("调解员：请选择用户或填写志愿者姓名")]})
    if mediator_user is not None and mediation.mediators.filter(user=mediator_user).exists():
        raise ValidationError({"mediator_user": [_("该用户已是本案调解员")]})
    with transaction.atomic():
        if is_lead:
            mediation.mediators.update(is_lead=False)
        m = Mediator.objects.create(mediation=mediation, user=mediator_user, name=name[:64],
                                    is_volunteer=is_volunteer or mediator_user is None, is_lead=is_lead)
        audit.record("change", mediation, user=user, fields=["mediators"], changes={"mediator": [None, m.pk]})
    return m


def record_session(user, mediation: Mediation, *, held_at: dt.datetime, place: str, notes: str,
                   attendees: str = "") -> Session:
    _check(user, mediation, "change")
    errors = {}
    if held_at is None:
        errors["held_at"] = [_("调解时间：请填写")]
    elif held_at > timezone.now() + dt.timedelta(minutes=5):
        errors["held_at"] = [_("调解时间不能晚于现在（记录的是已经开过的调解会）")]
    if not (place or "").strip():
        errors["place"] = [_("地点：请填写调解地点")]
    if not (notes or "").strip():
        errors["notes"] = [_("调解记录：请填写调解经过")]
    if mediation.state != State.OPEN:
        errors["state"] = [_("调解已结束，不能再添加调解会")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        s = Session.objects.create(mediation=mediation, held_at=held_at, place=place.strip()[:100],
                                   notes=notes.strip(), attendees=(attendees or "").strip()[:300],
                                   recorded_by=user if getattr(user, "is_authenticated", False) else None)
        audit.record("change", mediation, user=user, fields=["sessions"], changes={"session": [None, s.pk]})
    return s


def close(user, mediation: Mediation, *, outcome: str, outcome_note: str = "", terms: str = "",
          performance: str = "", referred_to: str = "", signed_on: dt.date | None = None,
          expected_version: int | None = None, follow_up_days=FOLLOW_UP_DAYS) -> Mediation:
    """Record the outcome and end the mediation; follow-up visits are scheduled (not after a referral)."""
    _check(user, mediation, "close")
    errors = {}
    if mediation.state != State.OPEN:
        errors["state"] = [_("调解已结束")]
    if outcome not in Outcome.values:
        errors["outcome"] = [_("调解结果：请选择达成协议、部分达成、未达成或转交")]
    if outcome in (Outcome.AGREED, Outcome.PARTLY) and not (terms or "").strip():
        errors["terms"] = [_("协议条款：达成协议时请逐条填写协议内容")]
    if outcome == Outcome.REFERRED and not (referred_to or "").strip():
        errors["referred_to"] = [_("转交单位：请填写转交给哪个单位（如司法所、法院诉前调解）")]
    if not mediation.parties.exists():
        errors["parties"] = [_("请先登记当事人")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        _bump(mediation, expected_version, state=State.CLOSED, outcome=outcome, outcome_note=outcome_note.strip(),
              terms=terms.strip(), performance=performance.strip(), referred_to=referred_to.strip()[:100],
              signed_on=signed_on or (today if outcome in (Outcome.AGREED, Outcome.PARTLY) else None),
              closed_at=now)
        if outcome != Outcome.REFERRED:
            FollowUp.objects.bulk_create([FollowUp(mediation=mediation, due_on=today + dt.timedelta(days=d))
                                          for d in follow_up_days])
        audit.record("close", mediation, user=user, changes={"state": [State.OPEN, State.CLOSED],
                                                             "outcome": [None, outcome]})
    return mediation


def record_follow_up(user, follow_up: FollowUp, *, honoured: bool | None, note: str) -> FollowUp:
    _check(user, follow_up.mediation, "change")
    if not (note or "").strip():
        raise ValidationError({"note": [_("回访情况：请填写回访了谁、结果如何")]})
    with transaction.atomic():
        updated = FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(
            done_at=timezone.now(), done_by=user if getattr(user, "is_authenticated", False) else None,
            honoured=honoured, **follow_up.sealed_update(note=note.strip()))
        if not updated:
            raise ValidationError({"note": [_("这次回访已经记录过了")]})
        audit.record("follow_up", follow_up.mediation, user=user, changes={"follow_up": [None, follow_up.pk]})
    follow_up.refresh_from_db()
    return follow_up


def agreement_data(mediation: Mediation) -> AgreementData:
    parties = [PartyLine(role=p.get_role_display(), name=p.name, address=p.address, phone_masked=p.phone_masked)
               for p in mediation.parties.all()]
    return AgreementData(number=mediation.number, title=mediation.title, committee=mediation.committee,
                         parties=parties, facts=mediation.facts,
                         terms=[t for t in mediation.terms.splitlines() if t.strip()],
                         performance=mediation.performance,
                         mediators=[m.name for m in mediation.mediators.all()], signed_on=mediation.signed_on)


def agreement_pdf(user, mediation: Mediation) -> bytes:
    """The agreement for signature (names and addresses of the parties: an audited export)."""
    _check(user, mediation, "agreement")
    if mediation.outcome not in (Outcome.AGREED, Outcome.PARTLY):
        raise ValidationError({"outcome": [_("只有达成（或部分达成）协议的调解才能生成协议书")]})
    data = draw_agreement(agreement_data(mediation))
    audit.record("export", mediation, user=user, fields=["agreement_pdf"], purpose="mediation_agreement")
    return data


def remind_follow_ups(today: dt.date | None = None) -> int:
    """Remind the mediators (with an account) of the follow-up visits due today or earlier, once each."""
    from django.urls import reverse

    from notify.services import notify

    today = today or timezone.localdate()
    due = list(FollowUp.objects.filter(due_on__lte=today, done_at__isnull=True, reminded_at__isnull=True)
               .select_related("mediation")[:2000])
    for f in due:
        users = [m.user for m in f.mediation.mediators.select_related("user") if m.user_id and m.user.is_active]
        if users:
            notify(users, title=_("回访提醒：%(n)s %(t)s") % {"n": f.mediation.number, "t": f.mediation.title},
                   body=_("应于 %(d)s 回访当事人，了解协议履行情况") % {"d": f.due_on.isoformat()},
                   url=reverse("mediation:detail", args=[f.mediation_id]), kind="warning",
                   dedupe_key=f"mediation-followup:{f.pk}")
        FollowUp.objects.filter(pk=f.pk, reminded_at__isnull=True).update(reminded_at=timezone.now())
    return len(due)
