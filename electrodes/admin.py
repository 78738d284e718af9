"""The scientist's view of films and sheets: filters on kind, process and metric ranges, components and
passes inline, links into the lineage. Films are made by the technician forms (through the services).
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from assbtrack.tracing.admin_mixins import ReadOnlyInline, TracedRecordAdmin
from assbtrack.tracing.admin_mixins import range_filter as core_range_filter

from .choices import FILM_KIND_CHOICES
from .models import CalenderingPass, Film, FilmComponent, Sheet


class FilmKindFilter(admin.SimpleListFilter):
    title = "film"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return FILM_KIND_CHOICES

    def queryset(self, request, queryset):
        if self.value() in dict(FILM_KIND_CHOICES):
            return queryset.filter(item__kind=self.value())
        return queryset


def _bound(shown: float, scale: float) -> float:
    # Stored values come from float arithmetic (0.005 may be 0.0049999…): bounds give a little, so a value
    # on a bound falls in the bucket that starts there.
    value = shown / scale
    return value * (1 - 1e-9) if value > 0 else value - 1e-12


def range_filter(field: str, title: str, bounds: list[float], unit: str, scale: float = 1.0):
    """A list filter of ranges of ``field`` (shown in ``unit``; stored values are ``shown / scale``)."""
    ranges = [(f"lt{bounds[0]:g}", f"below {bounds[0]:g} {unit}", None, _bound(bounds[0], scale))]
    ranges += [(f"{low:g}-{high:g}", f"{low:g}–{high:g} {unit}", _bound(low, scale), _bound(high, scale))
               for low, high in zip(bounds, bounds[1:])]
    ranges.append((f"ge{bounds[-1]:g}", f"{bounds[-1]:g} {unit} and above", _bound(bounds[-1], scale), None))
    return core_range_filter(field, title, ranges, parameter_name=f"{field}_range", none_label="not recorded")


class FilmComponentInline(ReadOnlyInline):
    model = FilmComponent
    fields = ["position", "source_link", "name", "role", "mass_g", "weight_percent_shown", "density_g_per_cm3",
              "specific_capacity_mah_per_g"]
    readonly_fields = fields
    verbose_name_plural = "components (lineage edges into the film)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")

    @admin.display(description="lot or batch")
    def source_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("tracing:item", args=[obj.source.code]), obj.source.code)

    @admin.display(description="weight (%)")
    def weight_percent_shown(self, obj):
        return f"{obj.weight_percent:.2f}"


class CalenderingPassInline(ReadOnlyInline):
    model = CalenderingPass
    fields = ["pass_number", "kind", "roll_temperature_c", "gap_um", "line_force_n_per_mm", "speed_m_per_min",
              "thickness_um", "created_by", "created_at"]
    readonly_fields = fields


class SheetInline(ReadOnlyInline):
    model = Sheet
    fk_name = "film"
    fields = ["sheet_link", "position", "area_cm2"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item")

    @admin.display(description="sheet")
    def sheet_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("tracing:item", args=[obj.item.code]), obj.item.code)


def lineage_links(code: str, *extra: tuple[str, str]):
    links = [(reverse("tracing:item", args=[code]), "page & lineage"), (reverse("tracing:impact", args=[code]),
                                                                        "downstream"), *extra]
    return format_html(" · ".join('<a href="{}">{}</a>' for _ in links), *[part for link in links for part in link])


DERIVED_FIELDS = (
    "areal_loading_mg_per_cm2", "areal_capacity_mah_per_cm2", "density_g_per_cm3", "theoretical_density_g_per_cm3",
    "porosity", "binder_fraction", "active_weight_fraction", "batch_conductivity_ms_per_cm", "conductivity_retention",
    "result_recorded_at", "result_recorded_by",
)


@admin.register(Film)
class FilmAdmin(TracedRecordAdmin):
    list_filter = (
        FilmKindFilter, "process", "free_standing",
        range_filter("areal_capacity_mah_per_cm2", "areal capacity", [1, 2, 3, 4, 5, 6], "mAh/cm²"),
        range_filter("porosity", "porosity", [5, 10, 15, 20, 30], "%", scale=100.0),
        range_filter("thickness_um", "thickness", [30, 50, 80, 120, 200], "µm"),
        range_filter("binder_fraction", "binder (PTFE) share", [0.1, 0.5, 1, 2, 5], "wt %", scale=100.0),
        "item__status", "item__project",
    )
    record_columns = ("film_kind", "process", "thickness_um", "areal_loading_mg_per_cm2", "areal_capacity_mah_per_cm2",
                      "porosity_shown", "binder_shown", "free_standing", "links")
    search_fields = ("item__code", "components__source__code", "components__name")
    inlines = [FilmComponentInline, CalenderingPassInline, SheetInline]
    readonly_fields = DERIVED_FIELDS
    fieldsets = [
        (None, {"fields": ["item", "links", "process", "area_cm2"]}),
        ("Mixing", {"fields": ["mixer_type", "mixing_speed_rpm", "mixing_time_s", "batch_size_g"]}),
        ("Result", {"fields": ["thickness_um", "mass_g", "free_standing", "film_conductivity_ms_per_cm"]}),
        ("Derived (recomputed by the service when the result is recorded)", {"fields": list(DERIVED_FIELDS)}),
        ("Change", {"fields": ["change_reason"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The area is the film's stock of sheets and the result feeds the stored metrics: both change only
        # through the services, so an edit here could not leave the metrics stale.
        return (*super().get_readonly_fields(request, obj), "links", "area_cm2", "thickness_um", "mass_g")

    @admin.display(description="film", ordering="item__kind")
    def film_kind(self, obj) -> str:
        return obj.item.get_kind_display()

    @admin.display(description="porosity (%)", ordering="porosity")
    def porosity_shown(self, obj) -> str:
        return "–" if obj.porosity is None else f"{obj.porosity * 100:.1f}"

    @admin.display(description="binder (wt %)", ordering="binder_fraction")
    def binder_shown(self, obj) -> str:
        return "–" if obj.binder_fraction is None else f"{obj.binder_fraction * 100:.2f}"

    @admin.display(description="lineage")
    def links(self, obj):
        return lineage_links(obj.item.code, (reverse("electrodes:film", args=[obj.item.code]), "film page"))


@admin.register(Sheet)
class SheetAdmin(TracedRecordAdmin):
    list_select_related = ("item", "item__project", "film", "film__item")
    list_filter = ("film__item__kind", "item__status", "item__project")
    record_columns = ("film_link", "position", "area_cm2", "capacity_shown", "links")
    search_fields = ("item__code", "film__item__code")
    readonly_fields = ("film", "position", "area_cm2", "links")

    @admin.display(description="film", ordering="film__item__code")
    def film_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("tracing:item", args=[obj.film.item.code]),
                           obj.film.item.code)

    @admin.display(description="areal capacity (mAh/cm²)")
    def capacity_shown(self, obj) -> str:
        value = obj.areal_capacity_mah_per_cm2
        return "–" if value is None else f"{value:.2f}"

    @admin.display(description="lineage")
    def links(self, obj):
        return lineage_links(obj.item.code)

