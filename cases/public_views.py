"""The residents' and enterprises' own pages, without an account (mobile-first).

* ``cases:public_report`` (``/cases/r/<token>/``, the link or QR code of a compound; ``/cases/r/`` picks the
  compound): category, description, a point on the map or the compound, a photo, and the phone verified by a
  one-time code (``notify.sms``). Nothing is written without the right code for that phone.
* ``cases:public_enterprise`` (``/cases/e/<token>/``): an enterprise of that office tower, proved by its
  credit code and the contact phone the registry holds for it (verified by a code).
* ``cases:public_track`` → ``cases:public_case``: the case number and a code sent to the phone that reported
  it open the case's status and timeline, for this browser session only. No name, phone, address to the room,
  handler or note is shown. When the case is handled, the resident answers the satisfaction question; a
  dissatisfied answer reopens the case (``cases.services.transition(None, case, "satisfaction")``).
* ``cases:public_qr`` (staff): the QR code of a compound's report link.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from cases import services
from cases.models import Case, CaseCategory, CaseEvent, Satisfaction, Status
from core.querysets import natural
from core.services import ConflictError

__all__ = ["PublicCaseView", "PublicCodeView", "PublicEnterpriseView", "PublicQrView", "PublicReportView",
           "PublicTrackView", "compound_token", "read_compound_token"]

TOKEN_SALT = "cases.public.compound"
SESSION_KEY = "cases_public_verified"  # case ids this browser session proved it may follow
PURPOSE_REPORT = "case_report"
PURPOSE_TRACK = "case_track"
PUBLIC_EVENTS = {"report": gettext_lazy("已收到您的反映"), "accept": gettext_lazy("已受理"),
                 "reject": gettext_lazy("不予受理"), "dispatch": gettext_lazy("已派给处置单位"),
                 "start": gettext_lazy("开始处置"), "pause": gettext_lazy("等待补充情况，暂停计时"),
                 "resume": gettext_lazy("恢复办理"), "handle": gettext_lazy("处置完毕"),
                 "verify": gettext_lazy("核查通过"), "close": gettext_lazy("已办结"),
                 "satisfaction": gettext_lazy("满意度回访"), "escalate": gettext_lazy("已督办")}


def compound_token(compound) -> str:
    return signing.Signer(salt=TOKEN_SALT).sign_object({"c": compound.pk})


def read_compound_token(token: str):
    from places.models import Compound

    try:
        data = signing.Signer(salt=TOKEN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    return Compound._base_manager.filter(pk=data["c"]).first()


def _verified(request) -> list[int]:
    return list(request.session.get(SESSION_KEY) or [])


def _remember(request, case: Case) -> None:
    ids = _verified(request)
    if case.pk not in ids:
        request.session[SESSION_KEY] = (ids + [case.pk])[-20:]


def _categories(family: str | None = None) -> list[tuple[str, list[tuple[int, str]]]]:
    cats = list(CaseCategory.objects.filter(is_active=True).select_related("parent").order_by("order", "code"))
    groups: dict[int, tuple[str, list]] = {}
    for c in cats:
        if c.parent_id is None:
            groups.setdefault(c.pk, (c.label, []))
    for c in cats:
        if c.parent_id is not None and c.parent_id in groups:
            groups[c.parent_id][1].append((c.pk, c.label))
    out = []
    for pk, (label, children) in groups.items():
        parent = next(c for c in cats if c.pk == pk)
        if family is not None and parent.code != family:
            continue
        out.append((label, children or [(pk, label)]))
    return out


class ReportForm(forms.Form):
    category = forms.TypedChoiceField(label=gettext_lazy("问题类型"), coerce=int,
                                      error_messages={"required": gettext_lazy("问题类型：请选择")})
    description = forms.CharField(label=gettext_lazy("问题描述"), max_length=2000, min_length=5,
                                  widget=forms.Textarea(attrs={"rows": 4, "placeholder": gettext_lazy(
                                      "发生了什么、在哪里（楼栋、单元）、持续多久")}),
                                  error_messages={"required": gettext_lazy("问题描述：请写清发生了什么"),
                                                  "min_length": gettext_lazy("问题描述：至少写5个字")})
    compound = forms.TypedChoiceField(label=gettext_lazy("小区"), coerce=int, required=False, empty_value=None)
    building = forms.TypedChoiceField(label=gettext_lazy("楼栋"), coerce=int, required=False, empty_value=None)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    photo = forms.FileField(label=gettext_lazy("照片（可选）"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png",
                                                                   "capture": "environment"}))
    phone = forms.CharField(label=gettext_lazy("手机号"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
                            error_messages={"required": gettext_lazy("手机号：请填写，用于接收验证码和查询进度")})
    challenge = forms.CharField(widget=forms.HiddenInput, required=False)
    code = forms.CharField(label=gettext_lazy("验证码"), max_length=8,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
                           error_messages={"required": gettext_lazy("验证码：请先获取并填写短信验证码")})

    def __init__(self, *args, categories=(), compounds=(), buildings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [(g, list(ch)) for g, ch in categories]
        self.fields["compound"].choices = [("", "—")] + [(c.pk, c.name) for c in compounds]
        self.fields["building"].choices = [("", "—")] + [(b.pk, f"{b.number}幢") for b in buildings]


class EnterpriseForm(ReportForm):
    enterprise = forms.TypedChoiceField(label=gettext_lazy("企业"), coerce=int,
                                        error_messages={"required": gettext_lazy("企业：请选择贵单位")})
    credit_code = forms.CharField(label=gettext_lazy("统一社会信用代码"), max_length=18,
                                  error_messages={"required": gettext_lazy("统一社会信用代码：请填写")})

    def __init__(self, *args, enterprises=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].choices = [("", "—")] + [(e.pk, e.name) for e in enterprises]


def _check_code(form, purpose: str) -> str | None:
    """The verified phone, or None with the error put on the form."""
    from notify.sms import normalise_phone, verify_code

    d = form.cleaned_data
    try:
        phone = normalise_phone(d["phone"])
    except ValidationError as exc:
        form.add_error("phone", _("手机号：%(m)s") % {"m": " ".join(exc.messages)})
        return None
    if not d.get("challenge") or not verify_code(d["challenge"], d["code"], phone=phone, purpose=purpose):
        form.add_error("code", _("验证码不正确或已过期：请核对短信，或重新获取"))
        return None
    return phone


class PublicCodeView(View):
    """htmx: send a one-time code to the phone typed in the form; answers the challenge id in a hidden input."""

    def post(self, request):
        from notify.sms import RateLimited, send_code

        purpose = request.POST.get("purpose")
        if purpose not in (PURPOSE_REPORT, PURPOSE_TRACK):
            raise Http404
        phone = (request.POST.get("phone") or "").strip()
        ctx: dict = {}
        try:
            ctx["challenge"] = send_code(phone, purpose, request=request)
            from core.validators import mask_phone
            from notify.sms import normalise_phone

            ctx["message"] = _("验证码已发送至 %(p)s，10分钟内有效") % {"p": mask_phone(normalise_phone(phone))}
        except ValidationError as exc:
            ctx["error"] = _("手机号：%(m)s") % {"m": " ".join(exc.messages)}
        except RateLimited as exc:
            ctx["error"] = exc.message
        return render(request, "cases/public_code.html", ctx)


class PublicReportView(View):
    template = "cases/public_report.html"
    family: str | None = None

    def place(self, token: str | None):
        from places.models import Compound

        if token is None:
            return None, list(Compound._base_manager.only("pk", "name").order_by("name")[:2000])
        compound = read_compound_token(token)
        if compound is None:
            raise Http404
        return compound, [compound]

    def make_form(self, request, compound, compounds, data=None, files=None):
        from places.models import Building

        buildings = (list(Building._base_manager.filter(compound=compound).order_by(*natural("number")))
                     if compound else [])
        return ReportForm(data, files, categories=_categories(self.family), compounds=compounds, buildings=buildings,
                          initial={"compound": compound.pk} if compound else None)

    def render_page(self, request, form, compound, status=200, **extra):
        ctx = {"title": _("我要反映"), "form": form, "compound": compound, "purpose": PURPOSE_REPORT,
               "tile_url": getattr(settings, "RENFANG_TILE_URL", "")}
        ctx.update(extra)
        return render(request, self.template, ctx, status=status)

    def get(self, request, token: str | None = None):
        from cases.dedup import warm_up

        warm_up()  # the duplicate check's dictionary loads while the resident writes, not on submit
        compound, compounds = self.place(token)
        return self.render_page(request, self.make_form(request, compound, compounds), compound)

    def post(self, request, token: str | None = None):
        compound, compounds = self.place(token)
        form = self.make_form(request, compound, compounds, request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(request, form, compound, 400)
        place = self.resolve_place(form, compound)
        if place is None and not form.errors:
            form.add_error("compound", _("小区：请选择问题发生的小区，或在地图上点出位置"))
        if form.errors:
            return self.render_page(request, form, compound, 400)
        phone = _check_code(form, PURPOSE_REPORT)
        if phone is None:
            return self.render_page(request, form, compound, 400)
        return self.submit(request, form, place, phone, compound)

    def resolve_place(self, form, compound):
        from places.models import Building, Compound

        d = form.cleaned_data
        comp = compound or (Compound._base_manager.filter(pk=d["compound"]).first() if d["compound"] else None)
        if comp is not None and d.get("building"):
            b = Building._base_manager.filter(pk=d["building"], compound=comp).first()
            if b is not None:
                return b
        if comp is not None:
            return comp
        if d.get("lat") is not None and d.get("lng") is not None:
            return services.locate(d["lat"], d["lng"])
        return None

    def submit(self, request, form, place, phone, compound, *, channel="resident", reporter_name="", prefix=""):
        d = form.cleaned_data
        category = CaseCategory.objects.filter(pk=d["category"], is_active=True).first()
        text = d["description"].strip()
        try:
            case = services.report(None, channel=channel, category=category,
                                   title=(prefix + text.splitlines()[0])[:40], description=text, place=place,
                                   lat=d.get("lat"), lng=d.get("lng"), reporter_phone=phone,
                                   reporter_name=reporter_name, attachments=[d["photo"]] if d.get("photo") else [],
                                   reporter_account=request.user if request.user.is_authenticated else None)
        except ValidationError as exc:
            for key, msgs in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
                form.add_error("photo" if key == "attachments" else None, " ".join(msgs))
            return self.render_page(request, form, compound, 400)
        _remember(request, case)
        return redirect("cases:public_case", number=case.number)


class PublicEnterpriseView(PublicReportView):
    template = "cases/public_enterprise.html"
    family = "enterprise"

    def make_form(self, request, compound, compounds, data=None, files=None):
        from people.models import Enterprise
        from places.models import Building

        buildings = (list(Building._base_manager.filter(compound=compound).order_by(*natural("number")))
                     if compound else [])
        enterprises = list(Enterprise._base_manager.filter(compound=compound).order_by("name")) if compound else []
        return EnterpriseForm(data, files, categories=_categories(self.family), compounds=compounds,
                              buildings=buildings, enterprises=enterprises,
                              initial={"compound": compound.pk} if compound else None)

    def place(self, token: str | None):
        if token is None:
            raise Http404
        return super().place(token)

    def render_page(self, request, form, compound, status=200, **extra):
        return super().render_page(request, form, compound, status, title=_("企业诉求"), **extra)

    def submit(self, request, form, place, phone, compound, **kwargs):
        from core.crypto import blind_index
        from people.models import Enterprise

        d = form.cleaned_data
        ent = Enterprise._base_manager.filter(pk=d["enterprise"], compound=compound).first()
        code = (d["credit_code"] or "").strip().upper()
        if ent is None or ent.credit_code != code or not ent.contact_phone_bidx \
                or ent.contact_phone_bidx != blind_index(phone, "phone"):
            form.add_error("credit_code", _("统一社会信用代码或手机号与企业登记信息不符"
                                            "（手机号须为登记的企业联系人电话）"))
            return self.render_page(request, form, compound, 400)
        if ent.building_id:
            place = ent.building
        return super().submit(request, form, place, phone, compound, channel="enterprise",
                              reporter_name=ent.contact_name, prefix=f"[{ent.name}] ")


class TrackForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("案件编号"), max_length=20,
                             widget=forms.TextInput(attrs={"placeholder": "RF-2026-000123"}),
                             error_messages={"required": gettext_lazy("案件编号：请填写反映时得到的编号")})
    phone = forms.CharField(label=gettext_lazy("反映时的手机号"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}),
                            error_messages={"required": gettext_lazy("手机号：请填写")})
    challenge = forms.CharField(widget=forms.HiddenInput, required=False)
    code = forms.CharField(label=gettext_lazy("验证码"), max_length=8,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
                           error_messages={"required": gettext_lazy("验证码：请先获取并填写短信验证码")})


class PublicTrackView(View):
    def render_page(self, request, form, status=200):
        return render(request, "cases/public_track.html", {"title": _("查询办理进度"), "form": form,
                                                           "purpose": PURPOSE_TRACK}, status=status)

    def get(self, request):
        return self.render_page(request, TrackForm(initial={"number": request.GET.get("number", "")}))

    def post(self, request):
        form = TrackForm(request.POST)
        if not form.is_valid():
            return self.render_page(request, form, 400)
        phone = _check_code(form, PURPOSE_TRACK)
        if phone is None:
            return self.render_page(request, form, 400)
        case = Case._base_manager.filter(number=form.cleaned_data["number"].strip().upper(),
                                         reporter_phone_bidx=Case.phone_index(phone)).first()
        if case is None:
            form.add_error("number", _("没有找到该手机号反映的这个编号的案件，请核对编号"))
            return self.render_page(request, form, 400)
        _remember(request, case)
        return redirect("cases:public_case", number=case.number)


class PublicCaseView(View):
    def case(self, request, number: str) -> Case:
        case = Case._base_manager.select_related("category", "compound", "lead_unit").filter(number=number).first()
        if case is None or case.pk not in _verified(request):
            raise Http404
        return case

    def get(self, request, number: str, error: str = "", status: int = 200):
        case = self.case(request, number)
        events = [(e.at, PUBLIC_EVENTS.get(e.action, e.action), e.to_status)
                  for e in CaseEvent.objects.filter(case=case).order_by("at", "id")]
        ask = case.status in (Status.VERIFIED, Status.CLOSED) and not case.satisfaction
        resp = render(request, "cases/public_case.html", {
            "title": _("办理进度"), "case": case, "events": events, "ask": ask, "error": error,
            "answers": Satisfaction.choices}, status=status)
        resp["Cache-Control"] = "no-store"
        return resp

    def post(self, request, number: str):
        case = self.case(request, number)
        answer = request.POST.get("answer")
        try:
            services.transition(None, case, "satisfaction", answer=answer,
                                note=(request.POST.get("note") or "").strip()[:500])
        except (ValidationError, ConflictError) as exc:
            return self.get(request, number, error=" ".join(getattr(exc, "messages", [str(exc)])), status=400)
        return redirect("cases:public_case", number=case.number)


class PublicQrView(LoginRequiredMixin, View):
    """The QR code (SVG) of a compound's public report page, for a notice board; staff who see the compound."""

    def get(self, request, pk: int, kind: str = "r"):
        import io

        import segno

        from places.models import Compound

        compound = get_object_or_404(Compound.objects.restrict(request.user, "view"), pk=pk)
        name = "cases:public_enterprise" if kind == "e" else "cases:public_report"
        url = request.build_absolute_uri(reverse(name, args=[compound_token(compound)]))
        buf = io.BytesIO()
        segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2)
        return HttpResponse(buf.getvalue(), content_type="image/svg+xml")
