"""Plain tables for the list pages: columns declared once, cells computed in Python, rendered by one template.

A ``Column`` reads a dotted attribute path (``building.compound.name``) or calls a function of the row; it
may link to the row's detail page (``link=True``) or to another object (``link="house"``). The table's
``select_related`` keeps a list page to a fixed number of queries whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.urls import NoReverseMatch, reverse

__all__ = ["Cell", "Column", "Table", "detail_url"]


def detail_url(obj: models.Model | None) -> str:
    """``app:model_name`` with the primary key, the naming convention of every detail view."""
    if obj is None or obj.pk is None:
        return ""
    try:
        return reverse(f"{obj._meta.app_label}:{obj._meta.model_name}", args=[obj.pk])
    except NoReverseMatch:
        return ""


def _resolve(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
        if callable(obj) and not isinstance(obj, models.Manager):
            obj = obj()
    return obj


@dataclass
class Cell:
    value: Any
    url: str = ""
    css: str = ""


@dataclass
class Column:
    header: str
    accessor: str | Callable[[Any], Any]
    # True: the row's page; "a.b": the page of that related object; a function: the page of what it returns
    link: bool | str | Callable[[Any], Any] = False
    css: str | Callable[[Any], str] = ""

    def cell(self, row: Any) -> Cell:
        value = self.accessor(row) if callable(self.accessor) else _resolve(row, self.accessor)
        if isinstance(value, models.Model) or (hasattr(value, "label") and hasattr(value, "value")):
            value = str(value.label if hasattr(value, "label") else value)
        url = ""
        if self.link is True:
            url = detail_url(row)
        elif callable(self.link):
            url = detail_url(self.link(row))
        elif isinstance(self.link, str) and self.link:
            url = detail_url(_resolve(row, self.link))
        css = self.css(row) if callable(self.css) else self.css
        return Cell("" if value is None else value, url, css)


@dataclass
class Table:
    columns: list[Column]
    select_related: list[str] = field(default_factory=list)
    only: list[str] | None = None

    def prepare(self, queryset: models.QuerySet) -> models.QuerySet:
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.only:
            queryset = queryset.only(*self.only)
        return queryset

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def rows(self, objects: Iterable[Any]) -> list[list[Cell]]:
        return [[c.cell(obj) for c in self.columns] for obj in objects]
