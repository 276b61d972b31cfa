"""The filters of the case queue and the unit inbox (the UI list and the API share them)."""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import CLOCK_STATUSES, OPEN_STATUSES, Case, CaseCategory, Channel, Priority, Status, Unit
from core.filters import FilterSet

__all__ = ["CaseFilterSet", "NEAR_HOURS"]

NEAR_HOURS = 24  # a running case due within a day is "nearing its deadline"
# "Open" written with literal constants, as the partial index cases_open_deadline is declared: SQLite uses a partial
# index only when the query repeats its condition literally (a bound parameter does not count), and then walks the
# open cases in deadline order and stops after one page instead of sorting all of them.
OPEN_SQL = RawSQL('"cases_case"."status" IN ({})'.format(", ".join(f"'{s}'" for s in OPEN_STATUSES)), [],
                  output_field=BooleanField())


class CaseFilterSet(FilterSet):
    q = df.CharFilter(method="filter_q", label=_("搜索"))
    status = df.MultipleChoiceFilter(choices=Status.choices, label=_("状态"))
    state = df.ChoiceFilter(method="filter_state", label=_("进度"), empty_label=_("全部"),
                            choices=[("open", _("未结案")), ("overdue", _("已超期")), ("near", _("临近期限")),
                                     ("done", _("已结案或不予受理"))])
    category = df.ModelChoiceFilter(queryset=CaseCategory.objects.filter(is_active=True), method="filter_category",
                                    to_field_name="code", label=_("类别"))
    lead_unit = df.ModelChoiceFilter(queryset=Unit.objects.filter(is_active=True), label=_("主办单位"))
    priority = df.ChoiceFilter(choices=Priority.choices, label=_("紧急程度"), empty_label=_("全部"))
    channel = df.ChoiceFilter(choices=Channel.choices, label=_("来源"), empty_label=_("全部"))
    community = df.NumberFilter(field_name="community_id", label=_("社区"))
    grid = df.NumberFilter(field_name="grid_id", label=_("网格"))
    building = df.NumberFilter(field_name="building_id", label=_("楼栋"))
    escalated = df.BooleanFilter(method="filter_escalated", label=_("督办中"))
    order = df.ChoiceFilter(method="filter_order", label=_("排序"), empty_label=_("按期限"),
                            choices=[("new", _("最新上报")), ("old", _("最早上报"))])

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        if value.upper().startswith("RF-"):
            return qs.filter(number=value.upper())
        return qs.filter(Q(title__contains=value) | Q(external_id=value) | Q(address__contains=value))

    def filter_state(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        if value == "open":
            return qs.filter(OPEN_SQL)
        if value == "overdue":
            return qs.filter(status__in=CLOCK_STATUSES, deadline_at__lt=now)
        if value == "near":
            return qs.filter(status__in=CLOCK_STATUSES, deadline_at__gte=now,
                             deadline_at__lt=now + dt.timedelta(hours=NEAR_HOURS))
        if value == "done":
            return qs.filter(status__in=[Status.CLOSED, Status.REJECTED])
        return qs

    def filter_category(self, qs: QuerySet, name: str, value: CaseCategory) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(Q(category=value) | Q(category__parent=value))

    def filter_escalated(self, qs: QuerySet, name: str, value) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(escalation_level__gt=0) if value else qs.filter(escalation_level=0)

    def filter_order(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs  # the view orders (it needs the order for its pagination)
