"""FilterSets of people, residences and enterprises, shared by the UI lists, the API and the export.

Paired filters (``grid_id`` / ``grid``...) choose among the places the user may view. A person's
``compound_id`` / ``building_id`` / ``house_id`` mean "lives there now". ``q`` is the one search box
(people.search): name, pinyin initials, full pinyin, ID or passport number, phone, address.
"""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.validators import normalise_text
from people.choices import IdType, Relation, ResidenceRole, ResidencyType, Sex
from people.models import Enterprise, Person, PersonTag, Residence, Tag
from people.search import search_people
from places.filtersets import ChoicesFilter, ScopedFilterSet, ids, names, scoped_queryset
from places.models import Building, Community, Compound, Grid, House, Street

__all__ = ["EnterpriseFilterSet", "PersonFilterSet", "ResidenceFilterSet"]


class PersonFilterSet(ScopedFilterSet):
    street_id = ids(Street, "street")
    street = names(Street, "street")
    community_id = ids(Community, "community")
    community = names(Community, "community")
    grid_id = ids(Grid, "grid")
    grid = names(Grid, "grid")
    compound_id = ChoicesFilter(queryset=scoped_queryset(Compound), method="filter_lives_in",
                                               label=_("小区"))
    building_id = ChoicesFilter(queryset=scoped_queryset(Building), method="filter_lives_in",
                                               label=_("楼栋"))
    house_id = ChoicesFilter(queryset=scoped_queryset(House), method="filter_lives_in",
                                            label=_("房屋"))
    residency_type = df.MultipleChoiceFilter(choices=ResidencyType.choices, label=_("人口类型"))
    id_type = df.MultipleChoiceFilter(choices=IdType.choices, label=_("证件类型"))
    sex = df.ChoiceFilter(choices=Sex.choices, label=_("性别"))
    tag = ChoicesFilter(queryset=Tag.objects.all(), to_field_name="code", method="filter_tag",
                                       label=_("人群标签"))
    is_current = df.BooleanFilter(label=_("现居住"))
    age_min = df.NumberFilter(method="filter_age_min", label=_("最小年龄"), min_value=0, max_value=150, whole=True)
    age_max = df.NumberFilter(method="filter_age_max", label=_("最大年龄"), min_value=0, max_value=150, whole=True)

    class Meta:
        model = Person
        fields = ["residency_type", "id_type", "sex", "is_current"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search_people(queryset, value, request=self.request)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """The search box last: its pinyin branches read a bounded number of rows of what the other filters
        (grid, tag...) already chose, so a match in the chosen grid is never cut off by matches elsewhere."""
        for name, value in self.form.cleaned_data.items():
            if name != "q":
                queryset = self.filters[name].filter(queryset, value)
        if "q" in self.form.cleaned_data:
            queryset = self.filters["q"].filter(queryset, self.form.cleaned_data["q"])
        return queryset

    def filter_lives_in(self, queryset: QuerySet, name: str, value) -> QuerySet:
        if not value:
            return queryset
        lookup = {"compound_id": "house__compound__in", "building_id": "house__building__in",
                  "house_id": "house__in"}[name]
        current = Residence.objects.filter(person_id=OuterRef("pk"), moved_out__isnull=True, **{lookup: value})
        return queryset.filter(Exists(current))

    def filter_tag(self, queryset: QuerySet, name: str, value) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(Exists(PersonTag.objects.filter(person_id=OuterRef("pk"), tag__in=value)))

    @staticmethod
    def _born_before(years: int) -> dt.date:
        today = dt.date.today()
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)

    def filter_age_min(self, queryset: QuerySet, name: str, value) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(birth_date__lte=self._born_before(int(value)))

    def filter_age_max(self, queryset: QuerySet, name: str, value) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(birth_date__gt=self._born_before(int(value) + 1))


class ResidenceFilterSet(ScopedFilterSet):
    street_id = ids(Street, "house__street")
    street = names(Street, "house__street")
    community_id = ids(Community, "house__community")
    community = names(Community, "house__community")
    grid_id = ids(Grid, "house__grid")
    grid = names(Grid, "house__grid")
    compound_id = ids(Compound, "house__compound")
    compound = names(Compound, "house__compound")
    building_id = ids(Building, "house__building")
    house_id = ids(House, "house")
    person_id = ids(Person, "person")
    role = df.MultipleChoiceFilter(choices=ResidenceRole.choices, label=_("身份"))
    relation = df.MultipleChoiceFilter(choices=Relation.choices, label=_("与户主关系"))
    current = df.BooleanFilter(field_name="moved_out", lookup_expr="isnull", label=_("现居住"))
    moved_in_after = df.DateFilter(field_name="moved_in", lookup_expr="gte", label=_("入住日期起"))
    moved_out_after = df.DateFilter(field_name="moved_out", lookup_expr="gte", label=_("迁出日期起"))

    class Meta:
        model = Residence
        fields = ["role", "relation", "source"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        if not value:
            return queryset
        people = search_people(Person.objects.all(), value, request=self.request)
        return queryset.filter(person_id__in=people.values("pk"))


class EnterpriseFilterSet(ScopedFilterSet):
    street_id = ids(Street, "street")
    street = names(Street, "street")
    community_id = ids(Community, "community")
    community = names(Community, "community")
    grid_id = ids(Grid, "grid")
    grid = names(Grid, "grid")
    compound_id = ids(Compound, "compound")
    compound = names(Compound, "compound")
    building_id = ids(Building, "building")
    industry = df.CharFilter(lookup_expr="contains", label=_("行业"))
    floor = df.NumberFilter(label=_("楼层"))

    class Meta:
        model = Enterprise
        fields = ["industry", "floor"]

    def search_q(self, value: str) -> Q:
        text = normalise_text(value).upper()
        q = Q(name__contains=value) | Q(contact_name=value)
        if len(text) == 18 and text.isalnum():
            q |= Q(credit_code=text)
        if text.isdigit() and len(text) == 11:
            q |= Q(contact_phone_bidx=Person.phone_index(text))
        return q
