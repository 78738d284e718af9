"""The admin base of every domain record (lots, batches, films, cells, modules).

Records are created by the technician forms through the services (which also write the item and its
lineage); the admin edits them, and an edit of a record that is no longer a draft needs a reason,
stored in the record's history.
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

from .forms import LabModelForm
from .graph import expanded_kinds, item_graphs, item_node_url
from .selectors import filter_affected, mark_affected
from .services import record_change_check


class ChangeReasonForm(LabModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=500,
        help_text="Required once the item is released: it is kept in the history.",
    )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            try:
                record_change_check(item=self.instance.item, reason=cleaned.get("change_reason", ""))
            except ValidationError as error:
                self.add_error("change_reason", error.message_dict["change_reason"])
        return cleaned


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


class TracedRecordAdmin(AffectedAdminMixin, LineageGraphAdminMixin, SimpleHistoryAdmin):
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
        from assbtrack.quality.admin import OutOfControlFilter

        return (*super().get_list_filter(request), OutOfControlFilter)

    def get_readonly_fields(self, request, obj=None):
        return ("item", *super().get_readonly_fields(request, obj))

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        obj._change_reason = form.cleaned_data.get("change_reason") or ""
        super().save_model(request, obj, form, change)

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


class ReadOnlyAdminMixin:
    """For tables only the application writes (logs, counters, measurements): the admin shows, never edits."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

