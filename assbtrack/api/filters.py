"""The base of every API filter set: number filters that refuse what no column can hold.

django-filter reads a number filter as an unbounded ``Decimal``; an integer of forty digits then reaches
the database and overflows there (a server error), and ``1e400`` becomes an infinite float. Every
``NumberFilter`` and ``RangeFilter`` of a filter set built on ``ApiFilterSet`` (and of the ones DRF builds
from ``filterset_fields``, through ``BoundedFilterBackend``) is given a bounded form field instead: a whole
number within a 64-bit column for integer fields (ids, counts), a finite number of at most 40 characters
otherwise. A value outside is a 400 naming the filter.
"""

from __future__ import annotations

import math
from decimal import Decimal

import django_filters
from django import forms
from django.db import models
from django_filters.fields import RangeField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field

from assbtrack.tracing.values import ascii_number_text

from .numbers import INTEGER_MAX, INTEGER_MIN, NUMBER_TEXT_MAX

_INTEGER_FIELDS = (models.IntegerField, models.AutoField, models.ForeignKey)


def _number_text(value, what: str):
    """The filter's text, stripped, refused when too long or not in ASCII digits (a 400-digit id is a 400)."""
    if value in (None, ""):
        return value
    value = str(value).strip()
    if len(value) > NUMBER_TEXT_MAX:
        raise forms.ValidationError(f"must be {what} of at most {NUMBER_TEXT_MAX} characters", code="invalid")
    try:
        ascii_number_text(value)
    except ValueError as error:
        raise forms.ValidationError(str(error), code="invalid") from None
    return value


class WholeNumberFilterField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", INTEGER_MIN)
        kwargs.setdefault("max_value", INTEGER_MAX)
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return super().to_python(_number_text(value, "a whole number"))


class FiniteNumberFilterField(forms.DecimalField):
    def to_python(self, value):
        number = super().to_python(_number_text(value, "a number"))
        if isinstance(number, Decimal) and not math.isfinite(float(number)):
            raise forms.ValidationError("must be a finite number", code="invalid")
        return number


class FiniteRangeField(RangeField):
    def __init__(self, fields=None, *args, **kwargs):
        fields = (FiniteNumberFilterField(), FiniteNumberFilterField())
        super().__init__(fields, *args, **kwargs)


class WholeRangeField(RangeField):
    def __init__(self, fields=None, *args, **kwargs):
        fields = (WholeNumberFilterField(), WholeNumberFilterField())
        super().__init__(fields, *args, **kwargs)


def _is_integer_field(model, field_name: str) -> bool:
    if field_name == "pk" or field_name.endswith("__pk"):
        return True
    field = get_model_field(model, field_name)
    return isinstance(field, _INTEGER_FIELDS) or (field is not None and field.name == "id")


class ApiFilterSet(django_filters.FilterSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self._meta.model
        for filter_ in self.filters.values():
            if not isinstance(filter_, (django_filters.NumberFilter, django_filters.RangeFilter)):
                continue
            whole = model is not None and _is_integer_field(model, filter_.field_name)
            if isinstance(filter_, django_filters.RangeFilter):
                filter_.field_class = WholeRangeField if whole else FiniteRangeField
            else:
                filter_.field_class = WholeNumberFilterField if whole else FiniteNumberFilterField


class BoundedFilterBackend(DjangoFilterBackend):
    filterset_base = ApiFilterSet
