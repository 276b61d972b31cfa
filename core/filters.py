"""The base of every FilterSet (UI lists, API, export): what a request may put in a filter parameter.

* An empty parameter means "no filter": a form submitted with its dropdowns at 全部 sends ``grid_id=&tag=``, and
  that must list the same rows as leaving those parameters out (``without_empty``).
* Numbers are bounded to the range of the column they are compared with (an id to a 64-bit key, a floor to a
  32-bit integer); a value beyond it is a form error naming the parameter, never a database overflow.
* Ids chosen from a queryset must be whole numbers within that range; no value may hold a NUL character
  (PostgreSQL refuses them in text) or be longer than ``MAX_VALUE_LENGTH``.
* Dates and times must be convertible to UTC and one day either side (the database driver converts them).

An invalid value makes the FilterSet invalid: the API answers 400 ``{parameter: [reason]}``, a UI list shows the
reason on its form. The API schema carries the same bounds (``minimum``/``maximum``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import django_filters as df
from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from django_filters import filters as df_filters
from django_filters.filterset import FilterSetMetaclass
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as RestFilterSet

__all__ = ["ApiFilterSet", "FilterBackend", "FilterSet", "INT_RANGE", "MAX_VALUE_LENGTH", "bounded_field_class",
           "id_range", "int_range", "safe_datetime", "without_empty"]

MAX_VALUE_LENGTH = 200
# The narrowest integer range the supported databases share for each column type (PostgreSQL's; SQLite's integers
# are 64-bit). Django's defaults are exactly these.
RANGES = BaseDatabaseOperations.integer_field_ranges
INT_RANGE = RANGES["IntegerField"]
_INT_RE = re.compile(r"[+-]?\d{1,20}")


def without_empty(data: Any) -> Any:
    """``data`` without its empty values: ``?grid_id=&tag=a`` → ``?tag=a``; a parameter left with no value goes."""
    if data is None:
        return None
    out = QueryDict(mutable=True)
    items = data.lists() if isinstance(data, MultiValueDict) else (
        (k, v if isinstance(v, (list, tuple)) else [v]) for k, v in data.items())
    for key, values in items:
        kept = [v for v in values if v is not None and str(v).strip() != ""]
        if kept:
            out.setlist(key, kept)
    return out


def int_range(model_field: models.Field | None) -> tuple[int, int]:
    """The values a column of ``model_field``'s type holds (32-bit when unknown)."""
    if model_field is None:
        return INT_RANGE
    internal = model_field.target_field.get_internal_type() if model_field.is_relation else \
        model_field.get_internal_type()
    internal = {"AutoField": "IntegerField", "BigAutoField": "BigIntegerField",
                "SmallAutoField": "SmallIntegerField"}.get(internal, internal)
    return RANGES.get(internal, INT_RANGE)


def id_range(model: type[models.Model], to_field: str | None = None) -> tuple[int, int] | None:
    """The range of ``model``'s primary key (or ``to_field``) if it is an integer, else None."""
    field = model._meta.pk if not to_field else model._meta.get_field(to_field)
    if isinstance(field, (models.IntegerField, models.AutoField)) or (
            field.is_relation and isinstance(field.target_field, (models.IntegerField, models.AutoField))):
        return int_range(field)
    return None


def safe_datetime(value: dt.datetime | dt.date) -> None:
    """Raise a ValidationError when the driver could not convert ``value`` (to UTC, or a day either side)."""
    try:
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value.astimezone(dt.UTC)
            value + dt.timedelta(days=1)
            value - dt.timedelta(days=1)
        elif isinstance(value, dt.date):
            value + dt.timedelta(days=1)
            value - dt.timedelta(days=1)
    except (OverflowError, ValueError):
        raise ValidationError(_("日期超出可以处理的范围（公元 1 年至 9999 年）"), code="out_of_range") from None


def _check_text(value: Any) -> None:
    text = str(value)
    if "\x00" in text:
        raise ValidationError(_("不能包含空字符"), code="null_characters_not_allowed")
    if len(text) > MAX_VALUE_LENGTH:
        raise ValidationError(_("不能超过 %(n)d 个字符") % {"n": MAX_VALUE_LENGTH}, code="max_length")


class _BoundedText:
    def to_python(self, value):
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v not in (None, ""):
                _check_text(v)
        return super().to_python(value)


class _BoundedChoice(_BoundedText):
    """A model choice: each value checked before the database sees it (an id must be a whole number in range)."""

    id_bounds: tuple[int, int] | None = None

    def _check_ids(self, value) -> None:
        if self.id_bounds is None:
            return
        lo, hi = self.id_bounds
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v in (None, ""):
                continue
            text = str(v).strip()
            if not _INT_RE.fullmatch(text) or not lo <= int(text) <= hi:
                raise ValidationError(_("请填写有效的编号（%(lo)d 至 %(hi)d 的整数）") % {"lo": max(lo, 1), "hi": hi},
                                      code="invalid_choice")

    def clean(self, value):
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v not in (None, ""):
                _check_text(v)
        self._check_ids(value)
        return super().clean(value)


class _BoundedDate:
    def to_python(self, value):
        result = super().to_python(value)
        if result is not None:
            safe_datetime(result)
        return result


class _WholeNumber(forms.DecimalField):
    """An integer column's filter: a whole number in the column's range ("3", "3.0"; not "3.5"), given as an int."""

    default_error_messages = {"invalid": _("请输入整数")}

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and result != result.to_integral_value():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return result

    def clean(self, value):
        result = super().clean(value)
        return None if result is None else int(result)


_CLASS_CACHE: dict[tuple, type] = {}


def bounded_field_class(field_class: type, mixin: type, **attrs) -> type:
    """``field_class`` with ``mixin``'s checks in front (once: a subclass's FilterSet bounds the same filters)."""
    field_class = getattr(field_class, "_unbounded", field_class)
    key = (field_class, mixin, tuple(sorted(attrs.items())))
    if key not in _CLASS_CACHE:
        _CLASS_CACHE[key] = type(f"Bounded{field_class.__name__}", (mixin, field_class),
                                 {**attrs, "_unbounded": field_class})
    return _CLASS_CACHE[key]


def _model_field(model, path: str | None) -> models.Field | None:
    if model is None or not path:
        return None
    field = None
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except (FieldDoesNotExist, AttributeError):
            return None
        model = field.related_model if field.is_relation else None
    return field


def _bound(model, name: str, flt: df_filters.Filter) -> df_filters.Filter:
    """``flt`` with its form field bounded (and the bounds in the API schema)."""
    if isinstance(flt, df_filters.NumberFilter) and not isinstance(flt, df_filters.RangeFilter):
        field = _model_field(model, flt.field_name if flt.method is None else None)
        target = field.target_field if field is not None and field.is_relation else field
        integer = isinstance(target, (models.IntegerField, models.AutoField))
        lo, hi = int_range(field) if integer else INT_RANGE
        lo = flt.extra.setdefault("min_value", lo)
        hi = flt.extra.setdefault("max_value", hi)
        if integer or flt.extra.pop("whole", False) or getattr(flt, "_whole", False):
            flt._whole = True
            flt.field_class = _WholeNumber
            schema = {"type": "integer", "minimum": int(lo), "maximum": int(hi)}
        else:
            schema = {"type": "number", "minimum": float(lo), "maximum": float(hi)}
        if not hasattr(flt, "_spectacular_annotation"):
            flt._spectacular_annotation = {"field": schema}
    elif isinstance(flt, (df_filters.ModelChoiceFilter, df_filters.ModelMultipleChoiceFilter)):
        to_field = flt.extra.get("to_field_name")
        qs = flt.extra.get("queryset")
        target = qs.model if isinstance(qs, models.QuerySet) else None
        if target is None:
            field = _model_field(model, flt.field_name) if flt.method is None else None
            target = field.related_model if field is not None and field.is_relation else None
        bounds = id_range(target, to_field) if target is not None else (None if to_field else (1, RANGES[
            "BigIntegerField"][1]))
        flt.field_class = bounded_field_class(flt.field_class, _BoundedChoice, id_bounds=bounds)
        if bounds is not None and not hasattr(flt, "_spectacular_annotation"):
            flt._spectacular_annotation = {"field": {"type": "integer", "minimum": max(bounds[0], 1),
                                                     "maximum": bounds[1]}}
    elif isinstance(flt, (df_filters.DateFilter, df_filters.DateTimeFilter, df_filters.IsoDateTimeFilter)):
        flt.field_class = bounded_field_class(flt.field_class, _BoundedDate)
    elif isinstance(flt, (df_filters.CharFilter, df_filters.ChoiceFilter, df_filters.MultipleChoiceFilter)):
        flt.field_class = bounded_field_class(flt.field_class, _BoundedText)
    return flt


class BoundedFilterSetMetaclass(FilterSetMetaclass):
    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        model = getattr(new_class._meta, "model", None)
        new_class.base_filters = {n: _bound(model, n, f) for n, f in new_class.base_filters.items()}
        return new_class


class FilterSet(df.FilterSet, metaclass=BoundedFilterSetMetaclass):
    """Every app's FilterSet derives from this one (see the module's docstring)."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None) -> None:
        super().__init__(without_empty(data), queryset, request=request, prefix=prefix)


class ApiFilterSet(FilterSet, RestFilterSet, metaclass=BoundedFilterSetMetaclass):
    """The base of the FilterSets the API builds from a viewset's ``filterset_fields``."""


class FilterBackend(DjangoFilterBackend):
    """The API's filter backend (REST_FRAMEWORK's DEFAULT_FILTER_BACKENDS): ``filterset_fields`` get this base."""

    filterset_base = ApiFilterSet

