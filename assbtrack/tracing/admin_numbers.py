"""Float columns of the admin's change lists, rounded and with their unit.

Django's admin writes a ``FloatField`` as Python prints it (``3.2141592653589793``). Every model admin the
assbtrack site registers gets this mixin (``LabAdminSite.register``), so each float column of its change
list shows ``3.21 mS/cm`` instead, keeps the field's label as its header and still sorts by the field. Columns
that the list edits or links through stay the field itself (the admin needs the name there).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .display import measured_text, unit_of


def measured_column(model, name: str):
    """A change-list column for the float field ``name``: its rounded value with the unit of its label."""
    field = model._meta.get_field(name)
    unit = unit_of(field.verbose_name)

    @admin.display(description=field.verbose_name, ordering=name)
    def column(obj) -> str:
        return measured_text(getattr(obj, name), unit)

    column.__name__ = name
    return column


class MeasuredNumbersAdminMixin:
    """Replaces each float field of ``list_display`` by a ``measured_column`` (made once per admin)."""

    def get_list_display(self, request):
        columns = getattr(self, "_measured_columns", None)
        if columns is None:
            columns = self._measured_columns = {}
        kept = set(self.list_editable) | set(self.list_display_links or ())
        shown = []
        for name in super().get_list_display(request):
            if isinstance(name, str) and name not in kept and _is_float_field(self.model, name):
                if name not in columns:
                    columns[name] = measured_column(self.model, name)
                shown.append(columns[name])
            else:
                shown.append(name)
        return shown


def _is_float_field(model, name: str) -> bool:
    try:
        return isinstance(model._meta.get_field(name), models.FloatField)
    except FieldDoesNotExist:  # a method or an admin attribute, not a field
        return False


def with_measured_numbers(admin_class):
    """``admin_class`` with the mixin in front, under the same name (what the admin's messages show)."""
    if issubclass(admin_class, MeasuredNumbersAdminMixin):
        return admin_class
    return type(admin_class.__name__, (MeasuredNumbersAdminMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__})
