"""The scientists' view of cells: layers, densification, tier and cycling summary; filters on tier, anode,
stacking, pressure and retention; cycling tests with their per-cycle table; events.

Cells are built through the technician form (``cell_build``), which writes the layers and the lineage
edges together; the admin shows layers, densification, cycles and events but never edits them
(append-only measurements and derived rows), and an edit of a released cell needs a reason.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from assbtrack.tracing.admin_mixins import RangeFilter, ReadOnlyAdminMixin, TracedRecordAdmin

from .models import Cell, CellDensification, CellEvent, CellLayer, CycleRecord, CyclingTest, RetentionSpec
from .services import retention_spec_set


class PressureFilter(RangeFilter):
    title = "operating stack pressure (MPa)"
    parameter_name = "pressure"
    field = "operating_stack_pressure_mpa"
    ranges = (
        ("lt1", "under 1 MPa", None, 1.0),
        ("1-5", "1 – 5 MPa", 1.0, 5.0),
        ("5-20", "5 – 20 MPa", 5.0, 20.0),
        ("ge20", "20 MPa or more", 20.0, None),
    )
    none_label = "not given"


class RetentionFilter(RangeFilter):
    title = "retention at the last cycle"
    parameter_name = "retention"
    field = "retention_at_last"
    ranges = (
        ("lt80", "below 80 %", None, 0.8),
        ("80-90", "80 – 90 %", 0.8, 0.9),
        ("ge90", "90 % or more", 0.9, None),
    )
    none_label = "not cycled"


class CellLayerInline(admin.TabularInline):
    model = CellLayer
    extra = 0
    can_delete = False
    fields = ("position", "cathode", "separator", "anode", "anode_lot", "anode_mass_g", "cathode_capacity_mah",
              "anode_capacity_mah", "np_ratio")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "cathode__item", "separator__item", "anode__item", "anode_lot__item"
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CellDensificationInline(admin.TabularInline):
    model = CellDensification
    fk_name = "cell"
    extra = 0
    can_delete = False
    fields = ("performed_at", "method", "pressure_mpa", "temperature_c", "hold_time_min", "supersedes", "notes",
              "created_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CyclingTestInline(admin.TabularInline):
    model = CyclingTest
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("file_name", "cycler", "channel", "temperature_c", "status", "cycle_count",
              "first_discharge_capacity_mah", "retention_at_100", "retention_at_last", "cycle_at_80_percent")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CellEventInline(admin.TabularInline):
    model = CellEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "kind", "ocv_v", "notes", "created_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Cell)
class CellAdmin(TracedRecordAdmin):
    record_columns = (
        "cell_format", "stacking", "anode_type", "layer_count", "nominal_capacity_mah", "nominal_voltage_v",
        "np_ratio", "scale_tier", "operating_stack_pressure_mpa", "specific_energy_wh_per_kg",
        "energy_density_wh_per_l", "retention_at_last", "cycle_at_80_percent",
    )
    list_filter = (
        "item__status", "item__project", "scale_tier", "anode_type", "stacking", "cell_format", "connection",
        PressureFilter, RetentionFilter,
    )
    search_fields = ("item__code", "item__notes")
    inlines = (CellLayerInline, CellDensificationInline, CyclingTestInline, CellEventInline)
    # The design fixes the layers' alignment and the derived rating: it is built, not edited. Pressure,
    # measurements and energy figures may be corrected (with a reason once released).
    readonly_fields = (
        "lineage", "cell_format", "stacking", "connection", "length_mm", "width_mm", "edge_margin_mm", "anode_type",
        "cathode_voltage_v", "anode_voltage_v", "cathode_collector", "cathode_collector_thickness_um",
        "anode_collector", "anode_collector_thickness_um", "layer_count", "np_ratio", "nominal_capacity_ah",
        "nominal_voltage_v", "scale_tier",
        "first_discharge_capacity_mah", "retention_at_100", "retention_at_last", "cycle_at_80_percent", "last_cycle",
    )
    fieldsets = (
        (None, {"fields": ("item", "lineage")}),
        ("Design", {"fields": ("cell_format", "stacking", "connection", "length_mm", "width_mm", "edge_margin_mm",
                               "operating_stack_pressure_mpa", "anode_type", "cathode_voltage_v", "anode_voltage_v",
                               "cathode_collector", "cathode_collector_thickness_um", "anode_collector",
                               "anode_collector_thickness_um")}),
        ("Derived from the layers", {"fields": ("layer_count", "np_ratio", "nominal_capacity_ah", "nominal_voltage_v",
                                                "scale_tier")}),
        ("Measured and modelled", {"fields": ("measured_capacity_ah", "mass_g", "specific_energy_wh_per_kg",
                                              "energy_density_wh_per_l")}),
        ("Cycling summary (latest test)", {"fields": ("first_discharge_capacity_mah", "retention_at_100",
                                                      "retention_at_last", "cycle_at_80_percent", "last_cycle")}),
        ("Change", {"fields": ("change_reason",)}),
    )

    @admin.display(description="nominal (mAh)", ordering="nominal_capacity_ah")
    def nominal_capacity_mah(self, obj: Cell) -> str:
        return f"{obj.nominal_capacity_ah * 1000:.4g}"

    @admin.display(description="lineage")
    def lineage(self, obj: Cell):
        return format_html(
            '<a href="{}">upstream, status &amp; history</a> · <a href="{}">cell page</a>',
            reverse("tracing:item", args=[obj.item.code]), reverse("cells:cell", args=[obj.item.code]),
        )


class ReadOnlyAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Append-only and imported rows: visible and searchable, never edited or deleted here."""


@admin.register(CyclingTest)
class CyclingTestAdmin(ReadOnlyAdmin):
    list_display = ("cell", "file_name", "cycler", "channel", "temperature_c", "stack_pressure_mpa", "c_rate",
                    "status", "cycle_count", "first_discharge_capacity_mah", "retention_at_100", "retention_at_last",
                    "cycle_at_80_percent", "created_at")
    list_select_related = ("cell__item",)
    list_filter = ("status", "reader", "cycler")
    search_fields = ("cell__item__code", "file_name", "cycler", "channel")
    show_full_result_count = False


@admin.register(CycleRecord)
class CycleRecordAdmin(ReadOnlyAdmin):
    list_display = ("test", "cycle_number", "charge_capacity_mah", "discharge_capacity_mah", "charge_energy_mwh",
                    "discharge_energy_mwh", "coulombic_efficiency", "energy_efficiency", "retention")
    list_select_related = ("test",)
    search_fields = ("test__cell__item__code",)
    show_full_result_count = False


@admin.register(CellDensification)
class CellDensificationAdmin(ReadOnlyAdmin):
    list_display = ("cell", "performed_at", "method", "pressure_mpa", "temperature_c", "hold_time_min", "supersedes")
    list_select_related = ("cell__item", "supersedes")
    list_filter = ("method",)
    search_fields = ("cell__item__code",)


@admin.register(CellEvent)
class CellEventAdmin(ReadOnlyAdmin):
    list_display = ("cell", "occurred_at", "kind", "ocv_v", "notes", "created_by")
    list_select_related = ("cell__item", "created_by")
    list_filter = ("kind",)
    search_fields = ("cell__item__code", "notes")


@admin.register(RetentionSpec)
class RetentionSpecAdmin(SimpleHistoryAdmin):
    list_display = ("project", "minimum_percent", "at_cycle", "set_by", "set_at")
    list_select_related = ("project", "set_by")
    fields = ("project", "minimum_percent", "at_cycle")

    def get_readonly_fields(self, request, obj=None):
        return ("project",) if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        spec = retention_spec_set(project=obj.project, minimum_percent=obj.minimum_percent, at_cycle=obj.at_cycle,
                                  user=request.user)
        obj.pk = spec.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
