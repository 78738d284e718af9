"""Cursor pagination for every list: stable under inserts, no COUNT(*) of the whole table.

A cursor is opaque to clients but not signed, so one can be forged: its position must be a value the
ordering field can hold (for the primary key: a whole number a 64-bit column can hold), or the request
is answered as an invalid cursor (404, as DRF answers a cursor it cannot decode), never a server error.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .numbers import INTEGER_MAX, INTEGER_MIN

_INTEGER_FIELDS = (models.IntegerField, models.AutoField, models.BigAutoField, models.SmallAutoField)


class StableCursorPagination(CursorPagination):
    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        self._ordering_model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _ordering_field(self):
        model = getattr(self, "_ordering_model", None)
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        name = ordering.lstrip("-")
        if model is None or "__" in name:
            return None
        try:
            return model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            return None

    def _check_position(self, position: str) -> None:
        field = self._ordering_field()
        if field is None:
            return
        try:
            value = field.to_python(position)
        except (ValidationError, ValueError, TypeError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
        if isinstance(field, _INTEGER_FIELDS) and not INTEGER_MIN <= value <= INTEGER_MAX:
            raise NotFound(self.invalid_cursor_message)
