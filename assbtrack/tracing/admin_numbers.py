"""Floats in the admin, rounded and with their unit.

Django's admin writes a ``FloatField`` as Python prints it (``3.2141592653589793``). Every model admin the
assbtrack site registers gets this mixin (``LabAdminSite.register``), and so do its inlines:

- each float column of its change list shows ``3.21 mS/cm`` instead, keeps the field's label as its header and
  still sorts by the field (columns that the list edits or links through stay the field: the admin needs the
  name there);
- each float it shows read-only (derived values, and every float on a page the user may only view) is shown
  the same way, through a display method named ``<field>_measured``. A float the user may edit stays the
  form field, with the exact stored value.
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
    def column(obj) -> str | None:
        value = getattr(obj, name)
        return None if value is None else measured_text(value, unit)  # None: the admin's own "-"

    column.__name__ = name
    return column


ALIAS_SUFFIX = "_measured"


class MeasuredNumbersAdminMixin:
    """Replaces each float field of ``list_display`` by a ``measured_column`` (made once per admin), and each
    read-only float field of the change form by its ``<field>_measured`` display method."""

    def __getattr__(self, name: str):
        # the read-only display of a float field: looked up by the admin's form helpers under its alias
        if name.endswith(ALIAS_SUFFIX):
            field_name = name[: -len(ALIAS_SUFFIX)]
            if _is_float_field(self.model, field_name):
                return measured_column(self.model, field_name)
        raise AttributeError(name)

    def _shown_read_only(self, request, obj) -> set[str]:
        """The float fields this page shows read-only: the admin's read-only ones, or all on a view-only page."""
        readonly = set(super().get_readonly_fields(request, obj))
        floats = {field.name for field in self.model._meta.concrete_fields if isinstance(field, models.FloatField)}
        if obj is not None and not self.has_change_permission(request, obj):
            return floats
        return floats & readonly

    def _aliased(self, names, shown: set[str]) -> list:
        aliased = []
        for name in names:
            if isinstance(name, (list, tuple)):
                aliased.append(type(name)(self._aliased(name, shown)))
                continue
            alias = f"{name}{ALIAS_SUFFIX}" if isinstance(name, str) and name in shown else name
            if alias not in aliased:
                aliased.append(alias)
        return aliased

    def get_readonly_fields(self, request, obj=None):
        shown = self._shown_read_only(request, obj)
        readonly = [name for name in super().get_readonly_fields(request, obj) if name not in shown]
        return (*readonly, *(f"{name}{ALIAS_SUFFIX}" for name in sorted(shown)))

    def get_fields(self, request, obj=None):
        return self._aliased(super().get_fields(request, obj), self._shown_read_only(request, obj))

    def get_fieldsets(self, request, obj=None):
        shown = self._shown_read_only(request, obj)
        return [(title, {**options, "fields": self._aliased(options["fields"], shown)})
                for title, options in super().get_fieldsets(request, obj)]

    def get_inlines(self, request, obj):
        return [with_measured_numbers(inline) for inline in super().get_inlines(request, obj)]

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


_WITH_NUMBERS: dict[type, type] = {}


def with_measured_numbers(admin_class):
    """``admin_class`` with the mixin in front, under the same name (what the admin's messages show); one
    class per admin class, however often an inline is asked for."""
    if issubclass(admin_class, MeasuredNumbersAdminMixin):
        return admin_class
    if admin_class not in _WITH_NUMBERS:
        _WITH_NUMBERS[admin_class] = type(
            admin_class.__name__, (MeasuredNumbersAdminMixin, admin_class),
            {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
        )
    return _WITH_NUMBERS[admin_class]
