"""The scientist's view of items and lineage. Edges and status events are written only by services."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .admin_mixins import (
    AffectedAdminMixin,
    EstimatedCountPaginator,
    LineageGraphAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
)
from .models import CodeCounter, ConfirmedWarning, Deviation, LineageEdge, StatusEvent, TracedItem


class EdgesInInline(ReadOnlyInline):
    model = LineageEdge
    fk_name = "child"
    verbose_name_plural = "uses (parents)"
    fields = ["parent", "role", "amount", "unit", "created_at"]
    readonly_fields = fields


class EdgesOutInline(ReadOnlyInline):
    model = LineageEdge
    fk_name = "parent"
    verbose_name_plural = "used by (children)"
    fields = ["child", "role", "amount", "unit", "created_at"]
    readonly_fields = fields


class StatusEventInline(ReadOnlyInline):
    model = StatusEvent
    fields = ["created_at", "from_status", "to_status", "reason", "user"]
    readonly_fields = fields


class DeviationInline(ReadOnlyInline):
    model = Deviation
    fk_name = "item"
    verbose_name_plural = "deviations (signed exceptions to holds upstream)"
    fields = ["created_at", "purpose", "held_item", "hold_event", "reason", "user"]
    readonly_fields = fields


class ConfirmedWarningInline(ReadOnlyInline):
    model = ConfirmedWarning
    verbose_name_plural = "confirmed warnings (unusual values accepted at entry)"
    fields = ["confirmed_at", "code", "field", "message", "confirmed_by"]
    readonly_fields = fields


@admin.register(TracedItem)
class TracedItemAdmin(AffectedAdminMixin, LineageGraphAdminMixin, SimpleHistoryAdmin):
    affected_item_field = "pk"
    list_display = ["code", "kind", "project", "status", "quantity", "quantity_used", "unit", "created_at", "links"]
    list_filter = ["kind", "status", "project"]
    list_select_related = ["project"]
    paginator = EstimatedCountPaginator
    search_fields = ["code", "notes"]
    readonly_fields = ["code", "kind", "status", "status_reason", "quantity_used", "created_by", "created_at"]
    fields = ["code", "kind", "project", "status", "status_reason", "quantity", "quantity_used", "unit", "notes",
              "created_by", "created_at"]
    inlines = [EdgesInInline, EdgesOutInline, StatusEventInline, DeviationInline, ConfirmedWarningInline]
    show_full_result_count = False

    def lineage_item(self, obj):
        return obj

    def has_add_permission(self, request) -> bool:
        return False  # items are created with their record, through the app's forms or services

    @admin.display(description="lineage")
    def links(self, obj):
        page = reverse("tracing:item", args=[obj.code])
        impact = reverse("tracing:impact", args=[obj.code])
        return format_html('<a href="{}">page &amp; lineage</a> · <a href="{}">downstream</a>', page, impact)


@admin.register(LineageEdge)
class LineageEdgeAdmin(SimpleHistoryAdmin):
    list_display = ["child", "parent", "role", "amount", "unit", "created_at"]
    list_filter = ["role"]
    list_select_related = ["child", "parent"]
    paginator = EstimatedCountPaginator
    search_fields = ["child__code", "parent__code"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StatusEvent)
class StatusEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "item", "from_status", "to_status", "reason", "user"]
    list_filter = ["to_status"]
    list_select_related = ["item", "user"]
    search_fields = ["item__code", "reason"]


@admin.register(CodeCounter)
class CodeCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["kind", "last_number"]


@admin.register(Deviation)
class DeviationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Deviations are recorded on the item page, signed; here they are only read."""

    list_display = ["created_at", "item", "purpose", "held_item", "hold_event", "reason", "user", "signature_ok"]
    list_filter = ["purpose"]
    list_select_related = ["item", "held_item", "hold_event", "user"]
    search_fields = ["item__code", "held_item__code", "reason"]

    @admin.display(description="signature", boolean=True)
    def signature_ok(self, obj) -> bool:
        return obj.signature_valid
