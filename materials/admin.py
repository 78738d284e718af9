"""The scientists' view of materials: search by code, composition and supplier lot; filter by route, class,
status, milling time and conductivity; steps, measurements and exposures inline; links up and down the lineage.

Records are created through the technician forms (services); measurements are append-only, so the admin
shows them but never edits them. Specifications are set here, through ``conductivity_spec_set``.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from assbtrack.tracing.admin_mixins import RangeFilter, TracedRecordAdmin
from assbtrack.tracing.admin_mixins import ReadOnlyInline as CoreReadOnlyInline
from assbtrack.tracing.display import measured_text

from .models import (
    ConditioningStep,
    ConductivityMeasurement,
    ConductivitySpec,
    DryRoomExposure,
    MaterialLot,
    SynthesisBatch,
)
from .selectors import batches_annotated
from .services import conductivity_spec_set


def lineage_links(code: str):
    return format_html(
        '<a href="{}">upstream &amp; history</a> · <a href="{}">downstream</a>',
        reverse("tracing:item", args=[code]), reverse("tracing:impact", args=[code]),
    )


class MillingTimeFilter(RangeFilter):
    title = "milling time (h)"
    parameter_name = "milling_time"
    field = "milling_time_h"
    ranges = (
        ("lt0.5", "under 0.5 h", None, 0.5),
        ("0.5-1", "0.5 – 1 h", 0.5, 1.0),
        ("1-3", "1 – 3 h", 1.0, 3.0),
        ("3-10", "3 – 10 h", 3.0, 10.0),
        ("ge10", "10 h or more", 10.0, None),
    )


CONDUCTIVITY_RANGES = (
    ("lt0.1", "under 0.1 mS/cm", None, 0.1),
    ("0.1-1", "0.1 – 1 mS/cm", 0.1, 1.0),
    ("1-3", "1 – 3 mS/cm", 1.0, 3.0),
    ("3-10", "3 – 10 mS/cm", 3.0, 10.0),
    ("ge10", "10 mS/cm or more", 10.0, None),
)


class BatchConductivityFilter(RangeFilter):
    title = "ionic conductivity (mS/cm)"
    parameter_name = "conductivity"
    field = "conductivity_ms_per_cm"
    ranges = CONDUCTIVITY_RANGES
    none_label = "not measured"


class MeasurementConductivityFilter(RangeFilter):
    title = "ionic conductivity (mS/cm)"
    parameter_name = "conductivity"
    field = "conductivity_ms_per_cm"
    ranges = CONDUCTIVITY_RANGES


class CurrentFilter(admin.SimpleListFilter):
    title = "current or superseded"
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", "current"), ("no", "superseded")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(superseded_by__isnull=True)
        if self.value() == "no":
            return queryset.filter(superseded_by__isnull=False)
        return queryset


class ReadOnlyInline(CoreReadOnlyInline):
    show_change_link = True


class StepInline(ReadOnlyInline):
    model = ConditioningStep
    fields = ["position", "kind", "mass_in_g", "recovered_mass_g", "speed_rpm", "duration_h", "solvent", "mesh_um",
              "passes", "d10_um", "d50_um", "d90_um", "performed_at"]
    readonly_fields = fields


class MeasurementInline(ReadOnlyInline):
    model = ConductivityMeasurement
    fk_name = "batch"
    fields = ["measured_at", "temperature_c", "thickness_mm", "area_cm2", "stack_pressure_mpa", "resistance_ohm",
              "conductivity_ms_per_cm", "superseded_by", "correction_reason", "created_by"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


class ExposureInline(ReadOnlyInline):
    model = DryRoomExposure
    fields = ["exposed_at", "dew_point_c", "duration_h", "measurement_before", "measurement_after",
              "retention_percent", "phase_retained", "h2s_observed"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("measurement_before", "measurement_after")


@admin.register(MaterialLot)
class MaterialLotAdmin(TracedRecordAdmin):
    record_columns = ("chemical_name", "formula", "role", "supplier", "supplier_lot", "mass_left_g", "links")
    search_fields = ("item__code", "chemical_name", "formula", "supplier", "supplier_lot")
    list_filter = ("role", "item__status", "item__project", "storage_atmosphere")
    readonly_fields = ("mass_left_g", "links")

    @admin.display(description="left (g)")
    def mass_left_g(self, lot: MaterialLot) -> str:
        return f"{lot.item.quantity_remaining.normalize():f} of {lot.item.quantity.normalize():f}"

    @admin.display(description="lineage")
    def links(self, lot: MaterialLot):
        return lineage_links(lot.item.code)


@admin.register(SynthesisBatch)
class SynthesisBatchAdmin(TracedRecordAdmin):
    record_columns = ("composition", "sse_class", "route", "milling_time_h", "conductivity", "yield_display",
                      "links")
    search_fields = ("item__code", "composition", "item__edges_in__parent__materiallot__supplier_lot")
    list_filter = ("route", "sse_class", "item__status", "item__project", MillingTimeFilter,
                   BatchConductivityFilter, "environment")
    readonly_fields = ("precursor_mass_g", "batch_mass_g", "conductivity", "yield_display", "links", "page")
    inlines = [StepInline, MeasurementInline, ExposureInline]

    def get_queryset(self, request):
        return batches_annotated(super().get_queryset(request))

    # the label starts with a word: the admin capitalises a label's first letter, which made σ a Σ
    @admin.display(description="ionic conductivity σ", ordering="conductivity_ms_per_cm")
    def conductivity(self, batch: SynthesisBatch) -> str:
        value = getattr(batch, "conductivity_ms_per_cm", None)
        if value is None:
            return "–"
        return f"{measured_text(value, 'mS/cm')} at {measured_text(batch.conductivity_temperature_c, '°C')}"

    @admin.display(description="yield (%)")
    def yield_display(self, batch: SynthesisBatch) -> str:
        return f"{batch.yield_percent:.1f}"

    @admin.display(description="lineage")
    def links(self, batch: SynthesisBatch):
        return lineage_links(batch.item.code)

    @admin.display(description="batch page")
    def page(self, batch: SynthesisBatch):
        return format_html('<a href="{}">measurements and plots</a>', reverse("materials:batch",
                                                                                args=[batch.item.code]))


@admin.register(ConductivityMeasurement)
class ConductivityMeasurementAdmin(admin.ModelAdmin):
    list_display = ("id", "batch_code", "composition", "temperature_c", "conductivity_ms_per_cm", "resistance_ohm",
                    "thickness_mm", "area_cm2", "measured_at", "superseded_by", "created_by")
    list_select_related = ("batch", "batch__item", "created_by")
    list_filter = (CurrentFilter, MeasurementConductivityFilter, "batch__route", "batch__sse_class",
                   "batch__item__project")
    search_fields = ("batch__item__code", "batch__composition")
    date_hierarchy = "measured_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # through the technician form, which computes σ

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only: a correction is a new measurement

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="batch", ordering="batch__item__code")
    def batch_code(self, measurement: ConductivityMeasurement):
        return format_html('<a href="{}">{}</a>', reverse("materials:batch", args=[measurement.batch.item.code]),
                           measurement.batch.item.code)

    @admin.display(description="composition", ordering="batch__composition")
    def composition(self, measurement: ConductivityMeasurement) -> str:
        return measurement.batch.composition


@admin.register(DryRoomExposure)
class DryRoomExposureAdmin(admin.ModelAdmin):
    list_display = ("id", "batch_code", "dew_point_c", "duration_h", "retention_percent", "phase_retained",
                    "h2s_observed", "exposed_at")
    list_select_related = ("batch", "batch__item")
    list_filter = ("phase_retained", "h2s_observed", "batch__item__project")
    search_fields = ("batch__item__code", "batch__composition")
    readonly_fields = ("batch", "measurement_before", "measurement_after", "retention_percent")
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="batch", ordering="batch__item__code")
    def batch_code(self, exposure: DryRoomExposure) -> str:
        return exposure.batch.item.code


@admin.register(ConditioningStep)
class ConditioningStepAdmin(admin.ModelAdmin):
    list_display = ("batch_code", "position", "kind", "mass_in_g", "recovered_mass_g", "solvent", "mesh_um",
                    "d50_um", "performed_at")
    list_select_related = ("batch", "batch__item")
    list_filter = ("kind", "batch__item__project")
    search_fields = ("batch__item__code", "batch__composition", "solvent")
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a step moved mass off the batch; a wrong one is followed by a corrective note

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="batch", ordering="batch__item__code")
    def batch_code(self, step: ConditioningStep) -> str:
        return step.batch.item.code


@admin.register(ConductivitySpec)
class ConductivitySpecAdmin(admin.ModelAdmin):
    list_display = ("composition", "project", "minimum_ms_per_cm", "set_by", "set_at")
    list_select_related = ("project", "set_by")
    list_filter = ("project",)
    search_fields = ("composition",)
    fields = ("project", "composition", "minimum_ms_per_cm")

    def get_readonly_fields(self, request, obj=None):
        return ("project", "composition") if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        spec = conductivity_spec_set(
            project=obj.project, composition=obj.composition, minimum_ms_per_cm=obj.minimum_ms_per_cm,
            user=request.user,
        )
        obj.pk = spec.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
