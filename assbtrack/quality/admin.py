"""The scientist's view of the control charts: series (baseline, limits) and the flags they raised, and the
"out of control" list filter every traced record's admin list carries."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef

from .models import ControlFlag, ControlRule, ControlSeries


class OutOfControlFilter(admin.SimpleListFilter):
    """Records flagged by a Western Electric rule on their series' latest control chart (any rule, or one)."""

    title = "out of control (SPC)"
    parameter_name = "out_of_control"

    def lookups(self, request, model_admin):
        return [("any", "Any rule"), *ControlRule.choices, ("no", "In control")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        flags = ControlFlag.objects.filter(item=OuterRef("item"))
        if value in ControlRule.values:
            flags = flags.filter(rule=value)
        elif value not in ("any", "no"):
            return queryset
        flagged = Exists(flags)
        return queryset.filter(~flagged if value == "no" else flagged)


class ControlFlagInline(admin.TabularInline):
    model = ControlFlag
    fields = ("position", "item", "rule", "value", "z", "measured_at", "job")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ControlSeries)
class ControlSeriesAdmin(admin.ModelAdmin):
    list_display = ("title", "project", "points", "baseline_count", "center", "sigma", "chart_job", "updated_at")
    list_filter = ("project",)
    search_fields = ("title", "key")
    list_select_related = ("project", "chart_job")
    readonly_fields = ("key", "title", "unit", "project", "baseline_count", "baseline_set_by", "chart_job", "center",
                       "sigma", "points", "updated_at")
    inlines = [ControlFlagInline]

    def has_add_permission(self, request) -> bool:
        return False  # series are made by the charts; the baseline is set on the SPC page (it redraws the chart)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ControlFlag)
class ControlFlagAdmin(admin.ModelAdmin):
    list_display = ("item", "rule", "value", "z", "position", "series", "measured_at")
    list_filter = ("rule", "series__project")
    search_fields = ("item__code", "series__title")
    list_select_related = ("item", "series")
    readonly_fields = ("series", "item", "rule", "value", "z", "position", "measured_at", "job", "flagged_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
