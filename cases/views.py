"""Pages of cases: the report page (phone-sized), the command centre's queue, a unit's inbox, the case detail with
its timeline and the actions the user may take (htmx forms), the map with hotspots, the figures.

Every read goes through ``Case.objects.restrict(user, action)`` (out of scope → 404); every write through
``cases.services`` (not allowed → 403, a stale status or version → 409 with the Chinese message).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Floor
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import services
from cases.filtersets import NEAR_HOURS, CaseFilterSet
from cases.models import (
    CLOCK_STATUSES,
    OPEN_STATUSES,
    Case,
    CaseAttachment,
    CaseCategory,
    CaseEvent,
    CaseParty,
    Channel,
    Escalation,
    Priority,
    Satisfaction,
    Status,
    Unit,
)
from core.querysets import natural, scope_q
from core.scope import scope_for
from core.services import ConflictError
from core.views import PermissionView, apply_errors, is_htmx, parse_bbox

PER_PAGE = 50
STAFF_CHANNELS = [Channel.WORKER, Channel.WALK_IN, Channel.ENTERPRISE, Channel.HOTLINE]



class CasesView(PermissionView):
    perm = "cases.view_case"


def my_units(user) -> list[Unit]:
    return list(Unit.objects.filter(members=user.pk, is_active=True))


def unit_only(user) -> bool:
    """The user reaches cases only through their units (no grant on a place)."""
    ps = scope_for(user).places_for("cases.view_case")
    return bool(ps and not (ps.streets or ps.communities or ps.grids))


class HomeView(CasesView):
    def get(self, request):
        return redirect("cases:inbox" if unit_only(request.user) else "cases:queue")


# --- report -----------------------------------------------------------------------------------------------------
def category_choices() -> list:
    cats = list(CaseCategory.objects.filter(is_active=True).order_by("order", "code"))
    children: dict[int, list] = {}
    for c in cats:
        if c.parent_id:
            children.setdefault(c.parent_id, []).append(c)
    out: list = [("", _("请选择类别"))]
    for c in cats:
        if c.parent_id is None:
            subs = children.get(c.pk, [])
            out.append((c.label, [(c.code, _("%(c)s（其他）") % {"c": c.label})] + [(s.code, s.label) for s in subs]))
    return out


class ReportForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("来源"), choices=[(c.value, c.label) for c in STAFF_CHANNELS])
    category = forms.ChoiceField(label=gettext_lazy("类别"))
    priority = forms.ChoiceField(label=gettext_lazy("紧急程度"), choices=Priority.choices, initial=Priority.NORMAL,
                                 widget=forms.RadioSelect)
    title = forms.CharField(label=gettext_lazy("标题"), max_length=100,
                            widget=forms.TextInput(attrs={"placeholder": gettext_lazy("一句话说明发生了什么")}))
    description = forms.CharField(label=gettext_lazy("描述"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    compound = forms.TypedChoiceField(label=gettext_lazy("小区"), coerce=int, required=False, empty_value=None)
    building = forms.TypedChoiceField(label=gettext_lazy("楼栋"), coerce=int, required=False, empty_value=None)
    house = forms.TypedChoiceField(label=gettext_lazy("房屋"), coerce=int, required=False, empty_value=None)
    reporter_name = forms.CharField(label=gettext_lazy("反映人姓名"), max_length=32, required=False)
    reporter_phone = forms.CharField(label=gettext_lazy("反映人电话"), max_length=20, required=False,
                                     widget=forms.TextInput(attrs={"inputmode": "tel"}))
    parties = forms.CharField(
        label=gettext_lazy("当事人"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": gettext_lazy("每行一人：姓名 身份，如“王五 被申请人”")}),
        help_text=gettext_lazy("身份可写申请人、被申请人、反映人或相关人（不写为相关人）；"
                               "所选房屋或楼栋的现住人员会自动关联到人房库"))

    def clean_parties(self) -> list[tuple[str, str]]:
        from django.utils import translation

        roles = {value: value for value, _label in CaseParty.Role.choices}  # applicant, respondent, ...
        roles.update({str(label).lower(): value for value, label in CaseParty.Role.choices})
        with translation.override("zh-hans"):
            roles.update({str(label): value for value, label in CaseParty.Role.choices})
        out = []
        for n, line in enumerate((self.cleaned_data.get("parties") or "").splitlines(), start=1):
            words = line.replace("，", " ").replace(",", " ").split()
            if not words:
                continue
            if len(words) == 2:
                words[1] = roles.get(words[1], roles.get(words[1].lower(), ""))
            if len(words) > 2 or len(words[0]) > 64 or (len(words) == 2 and not words[1]):
                raise forms.ValidationError(
                    _("第%(n)d行“%(line)s”：请写成“姓名 身份”，身份为申请人、被申请人、反映人或相关人")
                    % {"n": n, "line": line.strip()})
            out.append((words[0], words[1] if len(words) == 2 else CaseParty.Role.RELATED))
        return out

    def __init__(self, *args, compounds=(), buildings=(), houses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()
        empty = [("", "—")]
        self.fields["compound"].choices = empty + list(compounds)
        self.fields["building"].choices = empty + list(buildings)
        self.fields["house"].choices = empty + list(houses)


def _add_places(user):
    ps = scope_for(user).places_for("cases.add_case")
    return ps


def _compounds(user, only: int | None = None) -> list[tuple[int, str]]:
    """The compounds the user may report in (``only``: just that one, to check a posted form)."""
    from places.models import Compound

    ps = _add_places(user)
    if ps is None:
        return []
    qs = Compound.objects.filter(scope_q(Compound, ps))
    if only is not None:
        qs = qs.filter(pk=only)
    return list(qs.order_by("name").values_list("pk", "name")[:3000])


def _buildings(user, compound_id) -> list[tuple[int, str]]:
    from places.models import Building

    if not compound_id:
        return []
    ps = _add_places(user)
    qs = Building.objects.filter(scope_q(Building, ps), compound_id=compound_id).order_by(*natural("number"))
    return [(pk, _("%(n)s幢") % {"n": n}) for pk, n in qs.values_list("pk", "number")]


def _houses(user, building_id) -> list[tuple[int, str]]:
    from places.models import House

    if not building_id:
        return []
    ps = _add_places(user)
    qs = House.objects.filter(scope_q(House, ps), building_id=building_id).order_by("unit", "floor", "room")
    return [(pk, _("%(u)s单元%(r)s") % {"u": u, "r": r}) for pk, u, r in qs.values_list("pk", "unit", "room")]


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ReportView(CasesView):
    perm = "cases.add_case"

    def form_for(self, request, data=None, initial=None, full: bool = True):
        src = data or initial or {}
        compound, building = _int(src.get("compound")), _int(src.get("building"))
        compounds = _compounds(request.user) if full or compound is None else _compounds(request.user, compound)
        return ReportForm(data, initial=initial, compounds=compounds,
                          buildings=_buildings(request.user, compound), houses=_houses(request.user, building))

    def render_form(self, request, form, status=200):
        if getattr(form, "limited", False):  # shown again: with every compound to choose from, and its errors
            full = self.form_for(request, data=form.data)
            full._errors = form.errors
            form = full
        return render(request, "cases/report.html", {"title": _("上报案件"), "form": form}, status=status)

    def get(self, request):
        from cases.dedup import warm_up

        warm_up()  # the duplicate check's dictionary loads while the form is filled in, not on submit
        initial = {"channel": Channel.WORKER, "priority": Priority.NORMAL}
        house_id = _int(request.GET.get("house"))
        if request.GET.get("house") is not None:
            from places.models import House

            ps = _add_places(request.user)
            house = House.objects.filter(scope_q(House, ps), pk=house_id).first() if house_id else None
            if house is None:
                raise Http404
            initial.update(compound=house.compound_id, building=house.building_id, house=house.pk)
        return self.render_form(request, self.form_for(request, initial=initial))

    def post(self, request):
        from places.models import Building, Compound, House

        # The posted compound alone is looked up; the full list is built only to show the form again.
        form = self.form_for(request, data=request.POST, full=False)
        form.limited = True
        if not form.is_valid():
            return self.render_form(request, form, 400)
        d = form.cleaned_data
        ps = _add_places(request.user)
        place = None
        for model, key in ((House, "house"), (Building, "building"), (Compound, "compound")):
            if d.get(key):
                place = model.objects.filter(scope_q(model, ps), pk=d[key]).first()
                if place is None:
                    form.add_error(key, _("所选地点不在您的管辖范围内"))
                    return self.render_form(request, form, 400)
                break
        try:
            case = services.report(request.user, channel=d["channel"], category=d["category"], title=d["title"],
                                   description=d["description"], place=place, priority=d["priority"],
                                   reporter_name=d["reporter_name"], reporter_phone=d["reporter_phone"],
                                   attachments=request.FILES.getlist("photos"),
                                   parties=_parties(request.user, d["parties"], place))
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "attachments" in exc.error_dict:
                form.add_error(None, exc.error_dict.pop("attachments"))
            if not hasattr(exc, "error_dict") or exc.error_dict:
                apply_errors(form, exc)
            return self.render_form(request, form, 400)
        return redirect("cases:detail", pk=case.pk)


def _parties(user, rows: list[tuple[str, str]], place) -> list[services.Party]:
    """The people involved; a name that is exactly one current resident of the chosen house (or building) that
    the user may see is linked to that registry person and their house."""
    from people.models import Residence
    from places.models import Building, House

    found: dict[str, list[Residence]] = {}
    names = {name for name, _role in rows}
    if names and isinstance(place, (House, Building)):
        where = {"house_id": place.pk} if isinstance(place, House) else {"house__building_id": place.pk}
        for r in (Residence.objects.restrict(user, "view").filter(moved_out__isnull=True, person__name__in=names,
                                                                   **where).select_related("person")):
            found.setdefault(r.person.name, []).append(r)
    out = []
    for name, role in rows:
        match = found.get(name, [])
        one = match[0] if len(match) == 1 else None
        out.append(services.Party(name=name, role=role, person=one.person if one else None,
                                  house=one.house if one else (place if isinstance(place, House) else None)))
    return out


class PlaceOptionsView(CasesView):
    """The <option>s of the buildings of a compound or the houses of a building (htmx, on the report page)."""

    perm = "cases.add_case"

    def get(self, request):
        if "building" in request.GET and request.GET.get("building"):
            rows = _houses(request.user, _int(request.GET.get("building")))
            target = "house"
        else:
            rows = _buildings(request.user, _int(request.GET.get("compound")))
            target = "building"
        return render(request, "cases/_options.html", {"rows": rows, "target": target})


# --- lists ------------------------------------------------------------------------------------------------------
def _page(request, qs, order: tuple[str, ...]):
    """One page without COUNT(*): PER_PAGE + 1 rows tell whether there is a next page."""
    page = max(_int(request.GET.get("page")) or 1, 1)
    start = (page - 1) * PER_PAGE
    # Ids first, without joins (an index scan, at most PER_PAGE + 1 rows), then those rows with their joins.
    ids = list(qs.order_by(*order).values_list("pk", flat=True)[start:start + PER_PAGE + 1])
    by_id = qs.model._base_manager.select_related("category", "grid", "lead_unit").in_bulk(ids)
    rows = [by_id[pk] for pk in ids if pk in by_id]
    has_next = len(rows) > PER_PAGE
    query = request.GET.copy()
    query.pop("page", None)
    base = query.urlencode()
    return rows[:PER_PAGE], {"number": page, "has_next": has_next, "has_previous": page > 1,
                             "next": f"?{base}&page={page + 1}" if has_next else "",
                             "previous": f"?{base}&page={page - 1}" if page > 1 else ""}


def _order(params) -> tuple[str, ...]:
    if params.get("order") == "new":
        return ("-id",)
    if params.get("order") == "old":
        return ("id",)
    if params.get("state") in ("open", "overdue", "near"):
        return ("deadline_at", "id")
    return ("-id",)


def decorate(rows: list[Case]) -> list[Case]:
    now = timezone.now()
    near = now + dt.timedelta(hours=NEAR_HOURS)
    for c in rows:
        running = c.status in CLOCK_STATUSES and c.deadline_at is not None and c.paused_at is None
        c.overdue = running and c.deadline_at < now
        c.near = running and now <= c.deadline_at < near
    return rows


def rows_html(rows: list[Case]):
    """The table's rows in one pass (format_html per row): 50 rows through the template language cost ~5 ms each
    on a busy machine."""
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    detail = reverse("cases:detail", args=[0]).replace("/0/", "/{}/")
    statuses = {k: str(v) for k, v in Status.choices}
    levels = {0: ""} | {k: str(v) for k, v in Escalation.choices if k}
    urgent = format_html(' <span class="tag case-urgent">{}</span>', _("紧急"))
    paused = format_html(' <span class="tag">{}</span>', _("暂停计时"))
    late, soon = format_html(' <strong class="case-flag">{}</strong>', _("超期")), \
        format_html(' <strong class="case-flag">{}</strong>', _("将到期"))
    out = []
    for c in rows:
        css = "case-overdue" if c.overdue else "case-near" if c.near else ""
        deadline = timezone.localtime(c.deadline_at).strftime("%Y-%m-%d %H:%M") if c.deadline_at else ""
        out.append(format_html(
            '<tr class="{}"><td><a href="{}">{}</a></td><td>{}{}</td><td>{}</td><td>{} {}</td>'
            '<td><span class="case-status st-{}">{}</span>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>',
            css, detail.format(c.pk), c.number, c.title, urgent if c.priority == Priority.URGENT else "",
            c.category.label, c.grid.name if c.grid_id else "", c.address, c.status, statuses.get(c.status, c.status),
            paused if c.paused_at else "", c.lead_unit.name if c.lead_unit_id else "", deadline,
            late if c.overdue else soon if c.near else "", levels.get(c.escalation_level, "")))
    return mark_safe("".join(out))


class QueueView(CasesView):
    template = "cases/queue.html"

    def base_queryset(self, request):
        return Case.objects.restrict(request.user, "view")

    def get(self, request):
        params = request.GET.copy()
        if not params:
            params["state"] = "open"
        fs = CaseFilterSet(params, queryset=self.base_queryset(request))
        rows, pager = _page(request, fs.qs, _order(params))
        ctx = {"title": self.title(), "selects": self.selects(params), "rows": rows_html(decorate(rows)),
               "pager": pager,
               "can_report": scope_for(request.user).has("cases.add_case"), "params": params,
               "inbox": self.inbox}
        if is_htmx(request):
            return render(request, "cases/_table.html", ctx)
        return render(request, self.template, ctx)

    inbox = False

    def title(self) -> str:
        return _("案件队列")

    def selects(self, params) -> list[dict]:
        """The filters' <select>s, drawn by the template itself (Django's widget templates cost ~100 ms here)."""
        base = CaseFilterSet.base_filters
        cats = [(c.code, c.label if c.parent_id is None else f"· {c.label}")
                for c in CaseCategory.objects.filter(is_active=True).order_by("order", "code")]
        out = [{"name": "state", "label": base["state"].label, "empty": _("全部"),
                "choices": base["state"].extra["choices"]},
               {"name": "category", "label": base["category"].label, "empty": _("全部"), "choices": cats}]
        if not self.inbox:
            units = [(str(pk), name) for pk, name in Unit.objects.filter(is_active=True).values_list("pk", "name")]
            out.append({"name": "lead_unit", "label": base["lead_unit"].label, "empty": _("全部"), "choices": units})
        out += [{"name": "priority", "label": base["priority"].label, "empty": _("全部"), "choices": Priority.choices},
                {"name": "channel", "label": base["channel"].label, "empty": _("全部"), "choices": Channel.choices},
                {"name": "order", "label": base["order"].label, "empty": _("按期限"),
                 "choices": base["order"].extra["choices"]}]
        for f in out:
            f["value"] = params.get(f["name"], "")
        return out


class InboxView(QueueView):
    inbox = True

    def base_queryset(self, request):
        units = [u.pk for u in my_units(request.user)]
        co = Case.co_units.through.objects.filter(unit_id__in=units).values("case_id")
        return Case.objects.restrict(request.user, "view").filter(Q(lead_unit_id__in=units) | Q(pk__in=co))

    def title(self) -> str:
        return _("本单位待办")


# --- detail and actions -----------------------------------------------------------------------------------------
ACTION_FORMS = {
    "reject": ["reason", "duplicate_of"], "dispatch": ["lead_unit", "co_units"], "pause": ["note"],
    "resume": [], "handle": ["note", "attachments"], "verify": ["note"], "close": ["note"],
    "satisfaction": ["answer", "note"], "escalate": ["note"], "accept": [], "start": [],
}


def _detail_context(request, case: Case, revealed=None, reveal_form=None, **extra) -> dict:
    from core.sealed_views import reveal_context

    user = request.user
    actions = services.actions_for(user, case)
    units = list(Unit.objects.filter(is_active=True).filter(Q(street_id=case.street_id) | Q(street_id__isnull=True)))
    show_contact = Case.objects.restrict(user, "contact").filter(pk=case.pk).exists()
    decorate([case])
    return {"title": f"{case.number} {case.title}", "case": case, "events": case.events.select_related("user"),
            "attachments": case.attachments.all(), "parties": case.parties.all(), "co_units": case.co_units.all(),
            "actions": [(a, services.ACTIONS[a].label, ACTION_FORMS.get(a, [])) for a in actions],
            "units": units, "answers": Satisfaction.choices, "show_contact": show_contact,
            "duplicates": case.duplicates.all()[:20],
            "sealed_reveal": reveal_context(request, case, reverse("cases:reveal_text", args=[case.pk]), revealed,
                                            reveal_form), **extra}


def _visible_case(request, pk) -> Case:
    return get_object_or_404(Case.objects.restrict(request.user, "view")
                             .select_related("category", "grid", "community", "compound", "building", "house",
                                             "lead_unit", "handler", "duplicate_of"), pk=pk)


class DetailView(CasesView):
    def get(self, request, pk):
        case = _visible_case(request, pk)
        return render(request, "cases/detail.html", _detail_context(request, case))


REVEAL_TARGETS = {"case": (Case, None), "caseparty": (CaseParty, "case"), "caseevent": (CaseEvent, "case")}


class RevealTextView(CasesView):
    """POST: the clear text of one of the case's sealed texts, once, in this response only (core.sealed_views;
    out of scope → 404, no reveal permission → 403, no reason → 400; audited as ``reveal``)."""

    def get(self, request, pk):
        return redirect("cases:detail", pk=pk)

    def post(self, request, pk):
        from core.sealed_views import handle_reveal

        case = _visible_case(request, pk)
        revealed, form, status = handle_reveal(request, case, REVEAL_TARGETS)
        return render(request, "cases/detail.html", _detail_context(request, case, revealed=revealed,
                                                                    reveal_form=form), status=status)


class ActView(CasesView):
    """POST one workflow action. htmx gets the case panel back (with the error or the conflict shown)."""

    def post(self, request, pk, action):
        case = _visible_case(request, pk)
        if action not in services.ACTIONS:
            raise Http404
        data = {k: request.POST.get(k, "") for k in ("note", "reason", "answer", "lead_unit")}
        data["co_units"] = request.POST.getlist("co_units")
        data["attachments"] = request.FILES.getlist("attachments")
        dup = (request.POST.get("duplicate_of") or "").strip().upper()
        if dup:
            target = Case.objects.restrict(request.user, "view").filter(number=dup).first()
            data["duplicate_of"] = target.pk if target else -1
        version = _int(request.POST.get("version"))
        error, status = "", 200
        try:
            case = services.transition(request.user, case, action, expected_version=version, **data)
        except ConflictError as exc:
            error, status = str(exc), 409
            case = _visible_case(request, pk)
        except ValidationError as exc:
            error, status = "；".join(exc.messages), 400
        if is_htmx(request):
            return render(request, "cases/_panel.html", _detail_context(request, case, error=error,
                                                                        error_action=action))
        if error:
            return render(request, "cases/detail.html", _detail_context(request, case, error=error,
                                                                        error_action=action), status=status)
        return redirect("cases:detail", pk=case.pk)


class AttachmentView(CasesView):
    """A case's file, only to a user who may view the case; never a public URL."""

    def get(self, request, pk):
        att = get_object_or_404(CaseAttachment, pk=pk, case__in=Case.objects.restrict(request.user, "view"))
        try:
            fh = att.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(fh, content_type=att.content_type)
        response["Content-Disposition"] = f'inline; filename="{att.pk}.{att.file.name.rsplit(".", 1)[-1]}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- map --------------------------------------------------------------------------------------------------------
class MapView(CasesView):
    def get(self, request):
        from django.conf import settings

        return render(request, "cases/map.html", {"title": _("案件地图"), "categories": category_choices()[1:],
                                                  "tile_url": getattr(settings, "RENFANG_TILE_URL", "") or ""})


class GeoJSONView(CasesView):
    """Open cases as GeoJSON: single points when few, hotspots (cells of the bbox, counted by one GROUP BY) when
    many. ``?bbox=w,s,e,n``, ``?state=open|overdue|all``, ``?category=<code>``, ``?level=&place=`` (cockpit)."""

    MAX_POINTS = 400

    def get(self, request):
        qs = Case.objects.restrict(request.user, "view").filter(lat__isnull=False, lng__isnull=False)
        state = request.GET.get("state", "open")
        now = timezone.now()
        if state == "open":
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif state == "overdue":
            qs = qs.filter(status__in=CLOCK_STATUSES, deadline_at__lt=now)
        cat = request.GET.get("category")
        if cat:
            qs = qs.filter(Q(category__code=cat) | Q(category__parent__code=cat))
        level, place = request.GET.get("level"), _int(request.GET.get("place"))
        if level in ("street", "community", "grid", "compound", "building") and place:
            qs = qs.filter(**{f"{level}_id": place})
        box = parse_bbox(request.GET.get("bbox"))
        if box:
            w, s, e, n = box
            qs = qs.filter(lng__gte=w, lng__lte=e, lat__gte=s, lat__lte=n)
        total = qs.count()
        if total <= self.MAX_POINTS and request.GET.get("cluster") != "1":
            feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lng, lat]},
                      "properties": {"id": pk, "number": number, "title": title, "status": Status(st).label,
                                     "overdue": bool(st in CLOCK_STATUSES and dl and dl < now),
                                     "url": reverse("cases:detail", args=[pk])}}
                     for pk, number, title, st, dl, lat, lng in qs.values_list(
                         "pk", "number", "title", "status", "deadline_at", "lat", "lng")[:self.MAX_POINTS]]
            return JsonResponse({"type": "FeatureCollection", "features": feats, "total": total, "clustered": False})
        if box:
            size = max((box[2] - box[0]) / 30.0, 0.0005)
        else:
            size = 0.005
        cells = (qs.annotate(cy=Floor(F("lat") / size), cx=Floor(F("lng") / size)).values("cy", "cx")
                 .annotate(n=Count("id"), lat=Avg("lat"), lng=Avg("lng"),
                           overdue=Count("id", filter=Q(status__in=CLOCK_STATUSES, deadline_at__lt=now)))
                 .order_by("-n")[:2000])
        feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [c["lng"], c["lat"]]},
                  "properties": {"count": c["n"], "overdue": c["overdue"], "hotspot": True}} for c in cells]
        return JsonResponse({"type": "FeatureCollection", "features": feats, "total": total, "clustered": True,
                             "cell": size})


# --- figures ----------------------------------------------------------------------------------------------------
def _hours(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds() / 3600, 1)
    return round(float(value) / 3_600_000_000, 1)  # microseconds (SQLite)


def took_text(hours: float | None) -> str:
    """A handling time as people say it: "3.5 小时" under two days, "4.2 天" from two days on ("—" for none)."""
    if hours is None:
        return "—"
    if hours < 48:
        return _("%(h).1f 小时") % {"h": hours}
    return _("%(d).1f 天") % {"d": hours / 24}


class FiguresView(CasesView):
    replica_reads = True  # its GET may read from the read replica (core.dbrouter)

    def get(self, request):
        qs = Case.objects.restrict(request.user, "view")
        now = timezone.now()
        month = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        totals = qs.aggregate(
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            overdue=Count("id", filter=Q(status__in=CLOCK_STATUSES, deadline_at__lt=now)),
            closed_month=Count("id", filter=Q(status=Status.CLOSED, closed_at__gte=month)),
            surveyed=Count("id", filter=~Q(satisfaction="")),
            satisfied=Count("id", filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC])))
        rate = round(100 * totals["satisfied"] / totals["surveyed"], 1) if totals["surveyed"] else None
        took = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
        closed = qs.filter(status=Status.CLOSED, closed_at__isnull=False)
        by_cat = list(closed.values("category__parent__name", "category__name").annotate(n=Count("id"), avg=Avg(took))
                      .order_by("-n")[:30])
        by_unit = list(closed.exclude(lead_unit=None).values("lead_unit__name").annotate(n=Count("id"), avg=Avg(took))
                       .order_by("-n")[:30])
        cat_rows = [{"name": r["category__parent__name"] or r["category__name"], "sub": r["category__name"],
                     "n": r["n"], "hours": _hours(r["avg"])} for r in by_cat]
        unit_rows = [{"name": r["lead_unit__name"], "n": r["n"], "hours": _hours(r["avg"])} for r in by_unit]
        for r in cat_rows + unit_rows:
            r["took"] = took_text(r["hours"])
        by_status = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
        chart = {"status": [{"name": str(Status(k).label), "value": v} for k, v in by_status.items()],
                 "category": [[r["sub"], r["hours"]] for r in cat_rows[:12]],
                 "unit": [[r["name"], r["hours"]] for r in unit_rows[:12]],
                 "labels": {"status": _("按状态"), "category": _("平均办理时长·类别"),
                            "unit": _("平均办理时长·单位"), "empty": _("暂无结案"), "hours": _("小时"),
                            "days": _("天")}}
        return render(request, "cases/figures.html", {"title": _("案件统计"), "totals": totals, "rate": rate,
                                                      "cat_rows": cat_rows, "unit_rows": unit_rows, "chart": chart})

