"""Filters of the API that the shared filtersets (people/filtersets.py) do not cover."""

from __future__ import annotations

import django_filters as df
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.filters import FilterSet
from people.models import Tag

__all__ = ["TagFilterSet"]


class TagFilterSet(FilterSet):
    q = df.CharFilter(method="search", label=_("搜索"))

    class Meta:
        model = Tag
        fields = ["code", "sensitive"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        return queryset.filter(Q(name__contains=value) | Q(code__contains=value)) if value else queryset
