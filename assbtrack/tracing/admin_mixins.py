"""The admin base of every domain record (lots, batches, films, cells, modules).

Records are created by the technician forms through the services (which also write the item and its
lineage); the admin edits them through ``record_update``, the service that checks and saves a change: an
edit of a record that is no longer a draft needs a reason, stored in the record's history, and a refusal
is shown on the admin form. The admin glue every app shares (range filters, read-only inlines) is here too.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from assbtrack.quality.admin import OutOfControlFilter
from assbtrack.web.forms import errors_show

from .forms import LabModelForm
from .graph import expanded_kinds, item_graphs, item_node_url
from .selectors import filter_affected, mark_affected
from .services import record_update


class ChangeReasonForm(LabModelForm):
    """The admin form of a traced record: its fields, and the reason for the change (checked by the service)."""

    change_reason = forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=500,
        help_text="Required once the item is released: it is kept in the history.",
    )


class ServiceRefused(Exception):
    """The service refused the admin's save: the form is shown again with ``error`` beside its fields."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


class ServiceWritesAdminMixin:
    """The admin saves through the record's service, and shows the service's refusal on the form.

    ``update_service(record=, changes=, user=, reason=)`` writes a change (``record_update`` unless an app
    names its own). A ``ValidationError`` it raises rolls the whole request back (the change view runs in one
    transaction) and the same form is shown again with each message beside the field it names.
    """

    update_service = staticmethod(record_update)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request.service_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                errors_show(refusal, self)
                return cleaned

        RefusedForm.__name__ = form_class.__name__
        return RefusedForm

    def save_model(self, request, obj, form, change) -> None:
        concrete = {field.name for field in obj._meta.concrete_fields}
        changes = {name: getattr(obj, name) for name in form.changed_data if name in concrete}
        try:
            self.update_service(record=obj, changes=changes, user=request.user,
                                reason=form.cleaned_data.get("change_reason") or "")
        except ValidationError as error:
            raise ServiceRefused(error) from None


class EstimatedCountPaginator(Paginator):
    """Change lists of the big tables without a COUNT(*) over the whole table.

    An unfiltered list on PostgreSQL takes the planner's row estimate (``pg_class.reltuples``, kept by
    ANALYZE and autovacuum) once the table is past ``ESTIMATE_ABOVE`` rows: the page shows about how many
    there are, which is all a page number needs. A filtered or searched list, a small table, or SQLite
    (where the count is cheap enough) still counts exactly.
    """

    ESTIMATE_ABOVE = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                # One query either way: the estimate, or the exact count when the table is small.
                table = connection.ops.quote_name(queryset.model._meta.db_table)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT CASE WHEN c.reltuples > %s THEN c.reltuples::bigint "
                        f"ELSE (SELECT COUNT(*) FROM {table}) END FROM pg_class c WHERE c.oid = %s::regclass",
                        [self.ESTIMATE_ABOVE, queryset.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row is not None:
                    return int(row[0])
        return super().count


class LineageGraphAdminMixin:
    """Draws the item's lineage graph, upstream and downstream, under the fields of its change form.

    ``lineage_item(obj)`` names the traced item of the object (the object itself for items, ``obj.item``
    for records). The graph is the one on the item page (assbtrack.tracing.graph), scoped to the user;
    groups expand in place (``?expand=kind``).
    """

    change_form_template = "admin/tracing/change_form_lineage.html"

    def lineage_item(self, obj):
        return obj.item

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            item = self.lineage_item(obj)
            graphs = item_graphs(item, user=request.user, item_url=request.path, node_url=item_node_url(),
                                 expanded=expanded_kinds(request.GET.get("expand", "")))
            context.update(
                lineage_item=item,
                lineage_upstream_svg=mark_safe(graphs.upstream_svg),
                lineage_downstream_svg=mark_safe(graphs.downstream_svg),
                lineage_upstream_count=len(graphs.upstream),
                lineage_downstream_count=len(graphs.downstream),
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


class AffectedListFilter(admin.SimpleListFilter):
    """"affected: yes / no": rows whose item has (or has not) a quarantined or rejected item upstream."""

    title = "affected"
    parameter_name = "affected"

    def __init__(self, request, params, model, model_admin):
        self.item_field = getattr(model_admin, "affected_item_field", "item")
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return (("yes", "yes"), ("no", "no"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return filter_affected(queryset, affected=self.value() == "yes", item_field=self.item_field)
        return queryset


class AffectedChangeList(ChangeList):
    """A change list whose page of rows knows what is affected: one lineage query for the page."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = mark_affected(self.result_list, user=request.user)


class AffectedAdminMixin:
    """An "affected" column (with the held items upstream) after the status, and the "affected" list filter."""

    affected_item_field = "item"  # the traced item of a row, as a lookup ("pk" for the items themselves)

    def get_changelist(self, request, **kwargs):
        return AffectedChangeList

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), AffectedListFilter)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        after = next((index for index, name in enumerate(columns) if name in ("status", "item_status")), None)
        columns.insert(len(columns) if after is None else after + 1, "affected")
        return tuple(columns)

    @admin.display(description="affected")
    def affected(self, obj) -> str:
        item = obj if self.affected_item_field == "pk" else getattr(obj, self.affected_item_field)
        held = getattr(item, "held_ancestors", [])
        if not held:
            return "no"
        return "yes: " + ", ".join(ancestor.code for ancestor in held)


class TracedRecordAdmin(ServiceWritesAdminMixin, AffectedAdminMixin, LineageGraphAdminMixin, SimpleHistoryAdmin):
    form = ChangeReasonForm
    paginator = EstimatedCountPaginator
    list_select_related = ("item", "item__project")
    search_fields = ("item__code",)
    list_filter = ("item__status", "item__project")
    show_full_result_count = False
    record_columns: tuple[str, ...] = ()

    def get_list_display(self, request):
        return ("item_code", "item_status", "item_project", *self.record_columns)

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), OutOfControlFilter)

    def get_readonly_fields(self, request, obj=None):
        return ("item", *super().get_readonly_fields(request, obj))

    def has_add_permission(self, request) -> bool:
        return False  # records are created by the technician forms, through their kind's create service

    @admin.display(description="code", ordering="item__code")
    def item_code(self, obj) -> str:
        return obj.item.code

    @admin.display(description="status", ordering="item__status")
    def item_status(self, obj) -> str:
        return obj.item.get_status_display()

    @admin.display(description="project", ordering="item__project__code")
    def item_project(self, obj) -> str:
        return obj.item.project.code


class RangeFilter(admin.SimpleListFilter):
    """A list filter over ranges of one numeric column: ``ranges`` are (key, label, low, high) with high exclusive."""

    field: str = ""
    ranges: tuple[tuple[str, str, float | None, float | None], ...] = ()
    none_label: str | None = None

    def lookups(self, request, model_admin):
        choices = [(key, label) for key, label, _, _ in self.ranges]
        if self.none_label:
            choices.append(("none", self.none_label))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none" and self.none_label:
            return queryset.filter(**{f"{self.field}__isnull": True})
        for key, _, low, high in self.ranges:
            if key == value:
                condition = Q()
                if low is not None:
                    condition &= Q(**{f"{self.field}__gte": low})
                if high is not None:
                    condition &= Q(**{f"{self.field}__lt": high})
                return queryset.filter(condition)
        return queryset


def range_filter(field: str, title: str, ranges, *, parameter_name: str | None = None,
                 none_label: str | None = None) -> type[RangeFilter]:
    """A ``RangeFilter`` over ``field`` in one line, for a filter that one admin uses once."""
    attributes = {"field": field, "title": title, "ranges": tuple(ranges), "none_label": none_label,
                  "parameter_name": parameter_name or field}
    return type(f"{field.title().replace('_', '')}RangeFilter", (RangeFilter,), attributes)


class ReadOnlyInline(admin.TabularInline):
    """Rows the application wrote (steps, measurements, layers, edges): shown under their record, never edited."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdminMixin:
    """For tables only the application writes (logs, counters, measurements): the admin shows, never edits."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

