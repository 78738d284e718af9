"""The scientist's view of housing designs, modules (cells and pressure history), scans and pressure maps.

Records are created through the technician forms (services); the admin searches, filters and edits
what may be edited. Readings, scans and maps are measurements: read-only here.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from assbtrack.tracing.admin_mixins import ReadOnlyInline, TracedRecordAdmin
from assbtrack.tracing.admin_mixins import range_filter as core_range_filter

from .models import HousingDesign, Module, ModuleCell, PressureMapResult, PressureReading, PressureScan


def range_filter(title: str, field: str, buckets: tuple[tuple[str, str, float | None, float | None], ...]):
    """A list filter of value ranges: (key, label, lower bound inclusive, upper bound exclusive)."""
    return core_range_filter(field, title, buckets)


PRESSURE_BUCKETS = (
    ("lt1", "below 1 MPa", None, 1.0),
    ("1-10", "1 to 10 MPa", 1.0, 10.0),
    ("10-50", "10 to 50 MPa", 10.0, 50.0),
    ("ge50", "50 MPa and above", 50.0, None),
)
SIZE_BUCKETS = (
    ("lt0.1", "below 0.1 kWh", None, 0.1),
    ("0.1-1", "0.1 to 1 kWh", 0.1, 1.0),
    ("1-10", "1 to 10 kWh", 1.0, 10.0),
    ("ge10", "10 kWh and above", 10.0, None),
)
CV_BUCKETS = (
    ("lt0.05", "CV below 5 %", None, 0.05),
    ("0.05-0.15", "CV 5 to 15 %", 0.05, 0.15),
    ("ge0.15", "CV 15 % and above", 0.15, None),
)


@admin.register(HousingDesign)
class HousingDesignAdmin(SimpleHistoryAdmin):
    list_display = ["name", "project", "plate_material", "plate_thickness_mm", "needed_thickness",
                    "target_stack_pressure_mpa", "compliance", "plate_ok", "maps"]
    list_filter = ["project", "plate_material", "gasket_material",
                   range_filter("target stack pressure", "target_stack_pressure_mpa", PRESSURE_BUCKETS)]
    list_select_related = ["project"]
    search_fields = ["name", "notes"]
    readonly_fields = ["created_by", "created_at", "updated_at", "plate_warnings"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # through the "new housing design" form, which checks the whole design

    @admin.display(description="thickness needed (mm)")
    def needed_thickness(self, obj: HousingDesign) -> str:
        return f"{obj.plate_check.required_thickness_mm:.2f}"

    @admin.display(description="plate check", boolean=True)
    def plate_ok(self, obj: HousingDesign) -> bool:
        return obj.plate_check.ok

    @admin.display(description="plate warnings")
    def plate_warnings(self, obj: HousingDesign) -> str:
        return " ".join(obj.plate_check.warnings) or "none"

    @admin.display(description="pressure maps")
    def maps(self, obj: HousingDesign) -> str:
        return format_html('<a href="{}?design={}">side by side</a>', reverse("modules:pressure-maps"), obj.pk)


class ModuleCellInline(ReadOnlyInline):
    model = ModuleCell
    fields = ["position", "cell"]
    readonly_fields = fields
    verbose_name_plural = "cells in their positions"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cell__item")


class PressureReadingInline(ReadOnlyInline):
    model = PressureReading
    fk_name = "module"
    fields = ["measured_at", "kind", "pressure_mpa", "method", "supersedes", "created_by"]
    readonly_fields = fields
    verbose_name_plural = "stack pressure over time"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "supersedes")


@admin.register(Module)
class ModuleAdmin(TracedRecordAdmin):
    record_columns = ("housing_design", "arrangement", "system_energy_kwh", "applied_stack_pressure_mpa",
                      "assembled_on")
    list_select_related = ("item", "item__project", "housing_design")
    list_filter = ("item__status", "item__project", "housing_design",
                   range_filter("system size", "system_energy_kwh", SIZE_BUCKETS),
                   range_filter("applied stack pressure", "applied_stack_pressure_mpa", PRESSURE_BUCKETS))
    readonly_fields = ("housing_design", "series_count", "parallel_count", "system_energy_kwh", "cells_mass_kg",
                       "nominal_voltage_v", "nominal_capacity_ah", "applied_stack_pressure_mpa")
    inlines = [ModuleCellInline, PressureReadingInline]

    @admin.display(description="arrangement")
    def arrangement(self, obj: Module) -> str:
        return obj.arrangement


@admin.register(PressureReading)
class PressureReadingAdmin(SimpleHistoryAdmin):
    list_display = ["module", "kind", "pressure_mpa", "measured_at", "method", "created_by", "supersedes"]
    list_filter = ["kind", "module__housing_design", range_filter("pressure", "pressure_mpa", PRESSURE_BUCKETS)]
    list_select_related = ["module__item", "created_by", "supersedes"]
    search_fields = ["module__item__code", "method", "notes"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only: a correction is a new reading


@admin.register(PressureScan)
class PressureScanAdmin(SimpleHistoryAdmin):
    list_display = ["id", "label", "design", "module", "scanned_on", "image_format", "size_bytes", "page"]
    list_filter = ["design", "image_format"]
    list_select_related = ["design", "module__item"]
    search_fields = ["label", "module__item__code", "design__name"]
    readonly_fields = [field.name for field in PressureScan._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="scan and map")
    def page(self, obj: PressureScan) -> str:
        return format_html('<a href="{}">open</a>', obj.get_absolute_url())


@admin.register(PressureMapResult)
class PressureMapResultAdmin(SimpleHistoryAdmin):
    list_display = ["scan", "design", "module", "mean_mpa", "coefficient_of_variation", "coverage_fraction",
                    "centre_to_edge_ratio", "computed_at", "heat_map"]
    list_filter = ["scan__design", range_filter("mean pressure", "mean_mpa", PRESSURE_BUCKETS),
                   range_filter("coefficient of variation", "coefficient_of_variation", CV_BUCKETS)]
    list_select_related = ["scan", "scan__design", "scan__module__item"]
    search_fields = ["scan__label", "scan__design__name", "scan__module__item__code"]
    readonly_fields = [field.name for field in PressureMapResult._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="design", ordering="scan__design__name")
    def design(self, obj: PressureMapResult) -> str:
        return obj.scan.design.name

    @admin.display(description="module")
    def module(self, obj: PressureMapResult) -> str:
        return obj.scan.module.item.code if obj.scan.module else "—"

    @admin.display(description="heat map")
    def heat_map(self, obj: PressureMapResult) -> str:
        return format_html('<a href="{}">PNG</a>', reverse("modules:scan-heatmap", args=[obj.scan_id]))
