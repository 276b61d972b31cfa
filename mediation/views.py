"""Pages of mediation: the list, opening a mediation from a case, the record (parties, mediators, sessions,
outcome, follow-ups) with its forms, and the agreement PDF.

Reads go through ``Mediation.objects.restrict(user, "view")`` (out of scope → 404); writes through
``mediation.services`` (not allowed → 403, stale version → 409). The command centre (aggregate-only) states a
reason before a record's detail (``core.audit.require_reason``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.scope import scope_for
from core.services import ConflictError
from core.views import PermissionView, apply_errors
from mediation import services
from mediation.models import FollowUp, Mediation, Outcome, Party, PartyRole, Session, State

__all__ = ["AgreementView", "CloseView", "DetailView", "FollowUpView", "ListView", "MediatorAddView", "NewView",
           "PartyAddView", "RevealTextView", "SessionAddView"]



class MediationView(PermissionView):
    perm = "mediation.view_mediation"

    def obj(self, request, pk: int, action: str = "view") -> Mediation:
        m = get_object_or_404(Mediation.objects.restrict(request.user, "view").select_related("case"), pk=pk)
        if action != "view" and not Mediation.objects.restrict(request.user, action).filter(pk=m.pk).exists():
            raise PermissionDenied(_("您没有对该调解记录进行此项操作的权限"))
        return m


class ListView(MediationView):
    def get(self, request):
        qs = Mediation.objects.restrict(request.user, "view").select_related("case")
        state = request.GET.get("state")
        if state in State.values:
            qs = qs.filter(state=state)
        due = FollowUp.objects.filter(mediation__in=qs, done_at__isnull=True,
                                      due_on__lte=timezone.localdate()).count()
        return render(request, "mediation/list.html", {
            "title": _("矛盾纠纷调解"), "rows": qs[:200], "state": state, "states": State.choices, "due": due,
            "aggregate": bool(getattr(scope_for(request.user).places_for("mediation.view_mediation"),
                                      "aggregate_only", False))})


class NewForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("纠纷名称"), max_length=100, required=False)
    facts = forms.CharField(label=gettext_lazy("纠纷事实与争议"), widget=forms.Textarea(attrs={"rows": 4}),
                            required=False)
    committee = forms.CharField(label=gettext_lazy("调解组织"), max_length=100, required=False)


class NewView(MediationView):
    perm = "mediation.add_mediation"

    def case(self, request):
        from cases.models import Case

        visible = Case.objects.restrict(request.user, "view")
        number = (request.GET.get("number") or "").strip().upper()
        if number:
            return get_object_or_404(visible, number=number)
        try:
            pk = int(request.GET.get("case") or request.POST.get("case") or 0)
        except ValueError:
            pk = 0
        return get_object_or_404(visible, pk=pk)

    def get(self, request):
        case = self.case(request)
        if hasattr(case, "mediation"):
            return redirect("mediation:detail", pk=case.mediation.pk)
        form = NewForm(initial={"title": case.title, "facts": case.description})
        return render(request, "mediation/new.html", {"title": _("登记调解"), "form": form, "case": case})

    def post(self, request):
        case = self.case(request)
        form = NewForm(request.POST)
        if form.is_valid():
            try:
                m = services.open_mediation(request.user, case, **form.cleaned_data)
                return redirect("mediation:detail", pk=m.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
        return render(request, "mediation/new.html", {"title": _("登记调解"), "form": form, "case": case},
                      status=400)


class PartyForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("身份"), choices=PartyRole.choices)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=64,
                           error_messages={"required": gettext_lazy("当事人姓名：请填写")})
    house = forms.TypedChoiceField(label=gettext_lazy("房屋（户）"), coerce=int, required=False, empty_value=None)
    address = forms.CharField(label=gettext_lazy("住址"), max_length=200, required=False)
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=20, required=False)

    def __init__(self, *args, houses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["house"].choices = [("", "—")] + [(h.pk, h.address) for h in houses]


class SessionForm(forms.Form):
    held_at = forms.DateTimeField(label=gettext_lazy("调解时间"),
                                  error_messages={"required": gettext_lazy("调解时间：请填写"),
                                                  "invalid": gettext_lazy("调解时间：格式应为 2026-11-20 10:00")},
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=gettext_lazy("地点"), max_length=100,
                            error_messages={"required": gettext_lazy("地点：请填写调解地点")})
    attendees = forms.CharField(label=gettext_lazy("参加人员"), max_length=300, required=False)
    notes = forms.CharField(label=gettext_lazy("调解记录"), widget=forms.Textarea(attrs={"rows": 4}),
                            error_messages={"required": gettext_lazy("调解记录：请填写调解经过")})


class MediatorForm(forms.Form):
    mediator_user = forms.TypedChoiceField(label=gettext_lazy("平台用户"), coerce=int, required=False,
                                           empty_value=None)
    name = forms.CharField(label=gettext_lazy("志愿者姓名"), max_length=64, required=False)
    is_lead = forms.BooleanField(label=gettext_lazy("主调解员"), required=False)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediator_user"].choices = [("", "—")] + [(u.pk, u.get_username()) for u in users]


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("调解结果"), choices=Outcome.choices)
    terms = forms.CharField(label=gettext_lazy("协议条款（每行一条）"), widget=forms.Textarea(attrs={"rows": 4}),
                            required=False)
    performance = forms.CharField(label=gettext_lazy("履行方式、时限"), widget=forms.Textarea(attrs={"rows": 2}),
                                  required=False)
    referred_to = forms.CharField(label=gettext_lazy("转交单位"), max_length=100, required=False)
    outcome_note = forms.CharField(label=gettext_lazy("结果说明"), widget=forms.Textarea(attrs={"rows": 2}),
                                   required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


HONOURED = [("", gettext_lazy("不适用")), ("1", gettext_lazy("已履行")), ("0", gettext_lazy("未履行"))]


class FollowUpForm(forms.Form):
    honoured = forms.TypedChoiceField(label=gettext_lazy("协议履行情况"), choices=HONOURED, required=False,
                                      coerce=lambda v: {"1": True, "0": False}.get(v), empty_value=None)
    note = forms.CharField(label=gettext_lazy("回访情况"), widget=forms.Textarea(attrs={"rows": 2}))


def _houses(user, m: Mediation):
    from places.models import House

    case = m.case
    qs = House.objects.restrict(user, "view").select_related("building__compound")
    if case.building_id:
        return list(qs.filter(building_id=case.building_id)[:300])
    if case.compound_id:
        return list(qs.filter(compound_id=case.compound_id)[:300])
    return []


def _mediator_users(user, m: Mediation):
    from django.contrib.auth import get_user_model

    from core.models import Grant

    grants = Grant.objects.filter(street_id=m.street_id)
    ids = set(grants.filter(level="street").values_list("user_id", flat=True))
    if m.community_id:
        ids |= set(grants.filter(level="community", community_id=m.community_id).values_list("user_id", flat=True))
    if m.grid_id:
        ids |= set(grants.filter(level="grid", grid_id=m.grid_id).values_list("user_id", flat=True))
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username")[:200])


class DetailView(MediationView):
    def get(self, request, pk: int, forms_: dict | None = None, status: int = 200, revealed=None,
            reveal_form=None, m: Mediation | None = None):
        from core.sealed_views import reveal_context

        m = m or self.obj(request, pk)
        need = audit.require_reason(request, m)
        if need is not None:
            return need
        audit.record_view(request, m, fields=["parties"])
        may = {a: Mediation.objects.restrict(request.user, a).filter(pk=m.pk).exists()
               for a in ("change", "close", "agreement")}
        forms_ = forms_ or {}
        ctx = {
            "title": m.title, "m": m, "may": may, "today": timezone.localdate(),
            "parties": m.parties.select_related("house"), "mediators": m.mediators.select_related("user"),
            "sessions": m.sessions.select_related("recorded_by"), "follow_ups": m.follow_ups.all(),
            "party_form": forms_.get("party") or PartyForm(houses=_houses(request.user, m) if may["change"] else ()),
            "session_form": forms_.get("session") or SessionForm(initial={"held_at": timezone.localtime().replace(
                second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")}),
            "mediator_form": forms_.get("mediator") or MediatorForm(
                users=_mediator_users(request.user, m) if may["change"] else ()),
            "close_form": forms_.get("close") or CloseForm(initial={"version": m.version}),
            "follow_form": FollowUpForm(),
            "sealed_reveal": reveal_context(request, m, reverse("mediation:reveal_text", args=[m.pk]), revealed,
                                            reveal_form),
        }
        return render(request, "mediation/detail.html", ctx, status=status)


REVEAL_TARGETS = {"mediation": (Mediation, None), "party": (Party, "mediation"), "session": (Session, "mediation"),
                  "followup": (FollowUp, "mediation")}


class RevealTextView(MediationView):
    """POST: the clear text of one of the record's sealed texts, once, in this response only (core.sealed_views;
    out of scope → 404, no reveal permission → 403, no reason → 400; audited as ``reveal``)."""

    def get(self, request, pk: int):
        return redirect("mediation:detail", pk=pk)

    def post(self, request, pk: int):
        from core.sealed_views import handle_reveal

        m = self.obj(request, pk)
        need = audit.require_reason(request, m)
        if need is not None:
            return need
        revealed, form, status = handle_reveal(request, m, REVEAL_TARGETS)
        detail = DetailView()
        detail.request = request
        return detail.get(request, pk, status=status, revealed=revealed, reveal_form=form, m=m)


class _Action(MediationView):
    action = "change"
    form_key = ""

    def handle(self, request, m: Mediation, form):
        raise NotImplementedError

    def make_form(self, request, m: Mediation):
        raise NotImplementedError

    def post(self, request, pk: int):
        m = self.obj(request, pk, self.action)
        form = self.make_form(request, m)
        if form.is_valid():
            try:
                self.handle(request, m, form)
                return redirect("mediation:detail", pk=m.pk)
            except ConflictError as exc:
                messages.error(request, str(exc))
                return redirect("mediation:detail", pk=m.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
        detail = DetailView()
        detail.request = request
        return detail.get(request, pk, forms_={self.form_key: form}, status=400)


class PartyAddView(_Action):
    perm = "mediation.change_mediation"
    form_key = "party"

    def make_form(self, request, m):
        return PartyForm(request.POST, houses=_houses(request.user, m))

    def handle(self, request, m, form):
        from places.models import House

        d = form.cleaned_data
        house = House.objects.restrict(request.user, "view").filter(pk=d["house"]).first() if d["house"] else None
        person = None
        if house is not None:
            # The party is linked to the registry when a current resident of that house has this name.
            from people.models import Person

            person = (Person.objects.restrict(request.user, "view")
                      .filter(residences__house=house, residences__moved_out__isnull=True, name=d["name"].strip())
                      .first())
        services.add_party(request.user, m, services.PartyData(
            name=d["name"], role=d["role"], house=house, person=person, address=d["address"], phone=d["phone"]))


class MediatorAddView(_Action):
    perm = "mediation.change_mediation"
    form_key = "mediator"

    def make_form(self, request, m):
        return MediatorForm(request.POST, users=_mediator_users(request.user, m))

    def handle(self, request, m, form):
        from django.contrib.auth import get_user_model

        d = form.cleaned_data
        u = get_user_model().objects.filter(pk=d["mediator_user"]).first() if d["mediator_user"] else None
        services.add_mediator(request.user, m, mediator_user=u, name=d["name"], is_lead=d["is_lead"])


class SessionAddView(_Action):
    perm = "mediation.change_mediation"
    form_key = "session"

    def make_form(self, request, m):
        return SessionForm(request.POST)

    def handle(self, request, m, form):
        d = form.cleaned_data
        services.record_session(request.user, m, held_at=d["held_at"], place=d["place"], notes=d["notes"],
                                attendees=d["attendees"])


class CloseView(_Action):
    perm = "mediation.close_mediation"
    action = "close"
    form_key = "close"

    def make_form(self, request, m):
        return CloseForm(request.POST)

    def handle(self, request, m, form):
        d = dict(form.cleaned_data)
        version = d.pop("version")
        services.close(request.user, m, expected_version=version, **d)


class FollowUpView(MediationView):
    perm = "mediation.change_mediation"

    def post(self, request, pk: int, fid: int):
        m = self.obj(request, pk, "change")
        f = get_object_or_404(FollowUp, pk=fid, mediation=m)
        form = FollowUpForm(request.POST)
        if form.is_valid():
            try:
                services.record_follow_up(request.user, f, honoured=form.cleaned_data["honoured"],
                                          note=form.cleaned_data["note"])
                messages.success(request, _("已记录回访"))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        else:
            messages.error(request, _("回访情况：请填写回访了谁、结果如何"))
        return redirect("mediation:detail", pk=m.pk)


class AgreementView(MediationView):
    perm = "mediation.agreement_mediation"

    def get(self, request, pk: int):
        m = self.obj(request, pk, "agreement")
        try:
            pdf = services.agreement_pdf(request.user, m)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("mediation:detail", pk=m.pk)
        resp = HttpResponse(pdf, content_type="application/pdf")
        resp["Content-Disposition"] = f'inline; filename="agreement-{m.number}.pdf"'
        resp["Cache-Control"] = "no-store"
        return resp
