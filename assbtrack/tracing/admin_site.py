"""The admin site of assbtrack: Django's, with object ids checked before any model admin sees them.

Every admin URL with an ``object_id`` (change, delete, history and the history of one version) gets the
id as text; a non-numeric one reached django-simple-history's history view as a ``ValueError``, and forty
digits overflow the database column in every view (server errors). Checked here once, for every model
admin registered now or later: an id the primary key cannot hold is answered 404.
"""

from __future__ import annotations

import functools

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

from .admin_numbers import with_measured_numbers

INTEGER_MAX = 2**63 - 1
_INTEGER_PKS = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField,
                models.ForeignKey, models.OneToOneField)


def object_id_fits(model, object_id: str) -> bool:
    pk = model._meta.pk
    try:
        value = pk.to_python(unquote(object_id))
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    while isinstance(pk, (models.ForeignKey, models.OneToOneField)):
        pk = pk.target_field  # a record whose primary key is its traced item
    if isinstance(pk, _INTEGER_PKS) and not isinstance(value, int):
        return False
    return not isinstance(value, int) or -INTEGER_MAX - 1 <= value <= INTEGER_MAX


class LabAdminSite(admin.AdminSite):
    site_header = "assbtrack administration"
    site_title = "assbtrack"
    index_title = "Records, lineage and jobs"

    def register(self, model_or_iterable, admin_class=None, **options):
        # every float column of every change list is rounded and shows its unit (admin_numbers)
        return super().register(model_or_iterable, with_measured_numbers(admin_class or admin.ModelAdmin), **options)

    def admin_view(self, view, cacheable=False):
        model = getattr(getattr(view, "__self__", None), "model", None)
        if model is not None:
            inner = view

            @functools.wraps(inner)
            def checked(request, *args, **kwargs):
                object_id = kwargs.get("object_id")
                if object_id is not None and not object_id_fits(model, object_id):
                    raise Http404(f"No {model._meta.verbose_name} with the id {object_id!r}.")
                return inner(request, *args, **kwargs)

            view = checked
        return super().admin_view(view, cacheable)


class LabAdminConfig(AdminConfig):
    default_site = "assbtrack.tracing.admin_site.LabAdminSite"
