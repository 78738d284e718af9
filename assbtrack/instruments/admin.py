"""Instruments in the admin: equipment with its calibrations and channels inline, sensor logs, storage events
and excursion flags. Calibrations and readings are append-only: shown, never edited."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from assbtrack.tracing.admin_mixins import ReadOnlyAdminMixin

from .models import Calibration, CyclerChannel, EnvironmentLog, Equipment, ExcursionFlag, StorageEvent
from .selectors import annotated_state, equipment_list


class CalibrationInline(admin.TabularInline):
    model = Calibration
    extra = 0
    fields = ("calibrated_on", "due_on", "performed_by", "certificate", "created_by", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ChannelInline(admin.TabularInline):
    model = CyclerChannel
    extra = 0
    fields = ("label", "notes")


@admin.register(Equipment)
class EquipmentAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "location", "serial_number", "project", "calibration_state", "due_on", "retired")
    list_filter = ("kind", "retired", "project")
    search_fields = ("name", "serial_number", "location", "make_model")
    readonly_fields = ("created_by", "created_at")
    inlines = (CalibrationInline, ChannelInline)
    show_full_result_count = False

    def get_queryset(self, request):
        return equipment_list(include_retired=True)

    def has_add_permission(self, request) -> bool:
        return False  # new equipment through the technician page or an import (services)

    @admin.display(description="calibration")
    def calibration_state(self, obj: Equipment) -> str:
        return annotated_state(obj).label

    @admin.display(description="due on", ordering="latest_due_on")
    def due_on(self, obj: Equipment):
        return obj.latest_due_on


@admin.register(Calibration)
class CalibrationAdmin(admin.ModelAdmin):
    list_display = ("equipment", "calibrated_on", "due_on", "performed_by", "created_by")
    list_select_related = ("equipment", "created_by")
    list_filter = ("equipment__kind",)
    search_fields = ("equipment__name", "performed_by")
    fields = ("equipment", "calibrated_on", "due_on", "performed_by", "certificate", "notes", "created_by",
              "created_at")

    def has_add_permission(self, request) -> bool:
        return False  # recorded on the equipment's page (service ``calibration_add``), with its certificate

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EnvironmentLog)
class EnvironmentLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("file_name", "room", "first_at", "last_at", "readings_added", "readings_skipped", "uploaded_by",
                    "uploaded_at")
    list_select_related = ("room", "uploaded_by")
    list_filter = ("room",)


@admin.register(StorageEvent)
class StorageEventAdmin(SimpleHistoryAdmin):
    list_display = ("item", "room", "opened_at", "closed_at", "opened_by", "closed_by")
    list_select_related = ("item", "room", "opened_by", "closed_by")
    list_filter = ("room",)
    search_fields = ("item__code",)
    date_hierarchy = "opened_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ExcursionFlag)
class ExcursionFlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("item", "room", "started_at", "ended_at", "worst_dew_point_c", "limit_c", "excess_c_h")
    list_select_related = ("item", "room")
    list_filter = ("room",)
    search_fields = ("item__code",)
