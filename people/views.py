"""Pages of people: the person list and search, a person (numbers masked, reveal with a reason), editing,
move-in and move-out on a house, enterprises. Every write goes through people.services.

The residents of a house appear on the house page (places) through ``places.views.HOUSE_PANELS``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core import audit
from core.tables import detail_url
from core.validators import validate_identifier
from core.views import ObjectActionView, ObjectDetailView, ObjectListView, apply_errors, is_htmx
from people import tables
from people.filtersets import EnterpriseFilterSet, PersonFilterSet
from people.forms import MoveInForm, MoveOutForm, PersonForm, RevealForm, SearchForm
from people.models import Enterprise, Person, Residence
from people.search import is_sensitive, suggest
from people.services import move_in, move_out, reveal, save_person
from places.models import House
from places.views import HOUSE_PANELS, breadcrumbs

__all__ = ["SuggestView", "residents_panel"]


def current_residences(user) -> Prefetch:
    """Each person's current residences in the user's scope, with the address, in one extra query."""
    qs = (Residence.objects.restrict(user, "view").filter(moved_out__isnull=True)
          .select_related("house__building__compound").order_by("-moved_in"))
    return Prefetch("residences", queryset=qs, to_attr="current_residences")


class PersonListView(ObjectListView):
    model = Person
    filterset_class = PersonFilterSet
    table = tables.PersonTable
    filter_fields = ["q", "grid_id", "residency_type", "tag", "is_current"]
    title = pgettext_lazy("nav", "人员")
    list_reason = True

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(current_residences(request.user))

    def extra_context(self, request):
        return {"q_placeholder": _("姓名、拼音（zs / zhangsan）、证件号、电话、地址"),
                "search_post_url": reverse("people:search")}


class SearchView(PersonListView):
    """The search box of every page. Sent as POST so that ID and phone numbers never appear in a URL;
    other searches are redirected to the person list, whose address can be shared."""

    template_name = "people/search.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": SearchForm(), "title": _("搜索人员")})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SearchForm(request.POST)
        q = form.data.get("q", "").strip()
        if not q:
            return render(request, self.template_name, {"form": form, "title": _("搜索人员")})
        data = request.POST.copy()
        data.pop("csrfmiddlewaretoken", None)
        if not is_sensitive(q) and not is_htmx(request):
            # The list's address can be shared: the search and the list's other filters go into it.
            keep = [(k, v) for k, values in data.lists() for v in values if v != "" and k != "page"]
            return HttpResponseRedirect(f"{reverse('people:person_list')}?{urlencode(keep)}")
        # A number searched in the list's own box (htmx): the table only, and the address bar left as it was
        # (a number never goes into it).
        response = self.render_list(request, data, template=self.template_name)
        response["HX-Push-Url"] = "false"
        return response


class SuggestView(PersonListView):
    """Autocomplete of the search boxes (htmx POST as the user types): a few people, numbers masked.
    Sent as POST like the search itself, so that a number being typed never appears in a URL or a log."""

    list_reason = False  # checked below: an aggregate-only role without a stated reason gets no suggestions

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(status=405)

    def post(self, request: HttpRequest) -> HttpResponse:
        if audit.require_list_reason(request, Person) is not None:
            return HttpResponse("")
        people = suggest(self.get_queryset(request), request.POST.get("q", ""), request=request)
        return render(request, "people/_suggest.html", {"people": people, "q": request.POST.get("q", "").strip()})


class PersonView(ObjectDetailView):
    model = Person
    template_name = "people/person.html"
    select_related = ["grid", "community", "street"]
    audit_view = True

    def extra_context(self, request, obj, revealed=None, reveal_form=None):
        residences = list(Residence.objects.restrict(request.user, "view").filter(person_id=obj.pk)
                          .select_related("house__building__compound"))
        current = [r for r in residences if r.moved_out is None]
        crumbs = [(str(pgettext_lazy("nav", "人员")), reverse("people:person_list")), (obj.name, "")]
        return {
            "crumbs": crumbs, "residences": residences, "current": current,
            "tags": list(obj.tags.all()),
            "can_change": self.can(request, obj, "change"),
            "can_reveal": self.can(request, obj, "reveal"),
            "revealed": revealed or {}, "reveal_form": reveal_form,
        }


class PersonRevealView(PersonView):
    """POST: the clear number, once, in this response only (never stored, never in a URL; audited)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("people:person", args=[pk]))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        person = self.get_object(request, pk)
        form = RevealForm(request.POST)
        revealed = {}
        status = 200
        if form.is_valid():
            try:
                value = reveal(request.user, person, form.cleaned_data["field"], form.cleaned_data["purpose"])
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                revealed = {form.cleaned_data["field"]: value}
        else:
            status = 400
        context = {"object": person, "title": person.name,
                   **self.extra_context(request, person, revealed=revealed, reveal_form=form)}
        return render(request, self.template_name, context, status=status)


class PersonEditView(ObjectActionView):
    model = Person
    action = "change"
    form_class = PersonForm
    title = gettext_lazy("修改人员信息")

    def get_form_kwargs(self, request, obj):
        fields = ("name", "id_type", "residency_type", "nationality", "ethnicity", "hukou_address", "work_unit",
                  "note", "version")
        initial = {f: getattr(obj, f) for f in fields}
        initial["tags"] = [t.code for t in obj.tags.all()]
        return {"initial": initial}

    def extra_context(self, request, obj):
        people = (str(pgettext_lazy("nav", "人员")), reverse("people:person_list"))
        return {"crumbs": [people, (obj.name, detail_url(obj)), (str(self.title), "")]}

    def perform(self, request, obj, form):
        return save_person(request.user, form.person_data(), obj, expected_version=form.cleaned_data["version"],
                           accept_warnings=form.cleaned_data.get("accept_warnings", False))


class MoveInView(ObjectActionView):
    """Register a new or an already registered person as living in the house."""

    model = House
    action = "change"
    form_class = MoveInForm
    title = gettext_lazy("登记入住")
    template_name = "people/move_in.html"
    select_related = ["building__compound", "grid", "community", "street", "compound"]

    def extra_context(self, request, obj):
        return {"crumbs": breadcrumbs(obj)[:-1] + [(str(obj), detail_url(obj)), (str(self.title), "")]}

    def perform(self, request, house, form):
        d = form.cleaned_data
        where = {"relation": d.get("relation") or "", "role": d["role"], "moved_in": d.get("moved_in")}
        if d["mode"] == "new":
            save_person(request.user, form.person_data(), house=house,
                        accept_warnings=d.get("accept_warnings", False), **where)
            return house
        try:
            number = validate_identifier(d["existing_id_type"], d["existing_id_number"]).value
        except ValidationError as exc:
            raise ValidationError({"existing_id_number": exc.messages}) from exc
        # The worker holds the person's document: an exact number finds them even if registered elsewhere.
        person = Person.objects.filter(id_type=d["existing_id_type"],
                                       id_number_bidx=Person.id_index(d["existing_id_type"], number)).first()
        if person is None:
            raise ValidationError({"existing_id_number": [_("没有找到该证件号码的人员，请选择“新登记人员”")]})
        move_in(request.user, person, house, **where)
        return house


class MoveOutView(ObjectActionView):
    """End a residence (it stays in the history of the house and of the person)."""

    model = Residence
    action = "change"
    form_class = MoveOutForm
    title = gettext_lazy("办理迁出")
    template_name = "people/move_out.html"
    select_related = ["person", "house__building__compound"]

    def extra_context(self, request, obj):
        house = obj.house
        return {"crumbs": breadcrumbs(house)[:-1] + [(str(house), detail_url(house)), (str(self.title), "")],
                "cancel_url": detail_url(house), "subject": obj}

    def perform(self, request, residence, form):
        if residence.moved_out is not None:
            raise ValidationError({"moved_out": [_("此人已于 %(d)s 迁出") % {"d": residence.moved_out}]})
        move_out(request.user, residence, moved_out=form.cleaned_data["moved_out"],
                 reason=form.cleaned_data.get("reason") or "")
        return residence.house


class EnterpriseListView(ObjectListView):
    model = Enterprise
    filterset_class = EnterpriseFilterSet
    table = tables.EnterpriseTable
    filter_fields = ["q", "compound_id", "industry"]
    title = pgettext_lazy("nav", "企业")


class EnterpriseView(ObjectDetailView):
    model = Enterprise
    template_name = "people/enterprise.html"
    select_related = ["compound", "building", "grid", "community", "street"]

    def extra_context(self, request, obj):
        return {"crumbs": [(str(pgettext_lazy("nav", "企业")), reverse("people:enterprise_list")), (obj.name, "")]}


def residents_panel(request: HttpRequest, house: House, can_change: bool) -> dict:
    """Current and past residents of a house (history is never erased), for the house page."""
    residences = list(Residence.objects.restrict(request.user, "view").filter(house_id=house.pk)
                      .select_related("person"))
    return {"template": "people/_residents_panel.html", "house": house, "can_change": can_change,
            "current": [r for r in residences if r.moved_out is None],
            "past": [r for r in residences if r.moved_out is not None]}


HOUSE_PANELS.append(residents_panel)

