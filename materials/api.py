"""The materials part of the partner API: lots, SSE batches (with steps, measurements, exposures), measurements.

Read-only and scoped to the caller's projects by ``ScopedReadOnlyViewSet``; units are in the field names.
"""

from __future__ import annotations

from django.db.models import F, Prefetch
from rest_framework import serializers

from assbtrack.api.viewsets import ScopedReadOnlyViewSet
from assbtrack.quality.selectors import with_out_of_control
from assbtrack.tracing.api import AffectedByField, AffectedField, AffectedSerializerMixin
from assbtrack.tracing.converters import ID_REGEX
from assbtrack.tracing.models import LineageEdge

from .filtersets import ConductivityMeasurementFilterSet, MaterialLotFilterSet, SynthesisBatchFilterSet
from .models import ConditioningStep, ConductivityMeasurement, DryRoomExposure, MaterialLot, SynthesisBatch
from .selectors import batches_annotated


class _ItemFields(AffectedSerializerMixin, serializers.ModelSerializer):
    # read as one SQL expression by the flat export path (assbtrack.api.exports)
    export_expressions = {"mass_remaining_g": F("item__quantity") - F("item__quantity_used")}
    code = serializers.CharField(source="item.code", read_only=True)
    project = serializers.CharField(source="item.project.code", read_only=True)
    status = serializers.CharField(source="item.status", read_only=True)
    status_reason = serializers.CharField(source="item.status_reason", read_only=True)
    affected = AffectedField()
    affected_by = AffectedByField()
    created_at = serializers.DateTimeField(source="item.created_at", read_only=True)
    mass_g = serializers.DecimalField(source="item.quantity", max_digits=16, decimal_places=6, read_only=True)
    mass_used_g = serializers.DecimalField(source="item.quantity_used", max_digits=16, decimal_places=6,
                                           read_only=True)
    mass_remaining_g = serializers.DecimalField(source="item.quantity_remaining", max_digits=16, decimal_places=6,
                                                read_only=True)

    ITEM_FIELDS = ["code", "project", "status", "status_reason", "affected", "affected_by", "created_at", "mass_g",
                   "mass_used_g", "mass_remaining_g"]


class MaterialLotSerializer(_ItemFields):
    class Meta:
        model = MaterialLot
        fields = [
            *_ItemFields.ITEM_FIELDS, "chemical_name", "formula", "role", "supplier", "supplier_lot", "received_on",
            "purity_percent", "storage_atmosphere", "density_g_per_cm3", "specific_capacity_mah_per_g",
        ]


class ConditioningStepSerializer(serializers.ModelSerializer):
    yield_percent = serializers.FloatField(read_only=True)

    class Meta:
        model = ConditioningStep
        fields = [
            "position", "kind", "mass_in_g", "recovered_mass_g", "yield_percent", "speed_rpm", "duration_h",
            "solvent", "solvent_volume_ml", "drying_temperature_c", "drying_time_h", "mesh_um", "passes",
            "d10_um", "d50_um", "d90_um", "performed_at",
        ]


class MeasurementSerializer(serializers.ModelSerializer):
    batch = serializers.CharField(source="batch.item.code", read_only=True)
    is_current = serializers.BooleanField(read_only=True)
    has_impedance_file = serializers.SerializerMethodField()

    class Meta:
        model = ConductivityMeasurement
        fields = [
            "id", "batch", "temperature_c", "thickness_mm", "diameter_mm", "area_cm2", "stack_pressure_mpa",
            "resistance_ohm", "conductivity_ms_per_cm", "measured_at", "is_current", "superseded_by",
            "correction_reason", "has_impedance_file",
        ]

    def get_has_impedance_file(self, measurement: ConductivityMeasurement) -> bool:
        return bool(measurement.impedance_file)


class NestedMeasurementSerializer(MeasurementSerializer):
    class Meta(MeasurementSerializer.Meta):
        fields = [field for field in MeasurementSerializer.Meta.fields if field != "batch"]


class ExposureSerializer(serializers.ModelSerializer):
    conductivity_before_ms_per_cm = serializers.FloatField(source="measurement_before.conductivity_ms_per_cm",
                                                           read_only=True)
    conductivity_after_ms_per_cm = serializers.FloatField(source="measurement_after.conductivity_ms_per_cm",
                                                          read_only=True)

    class Meta:
        model = DryRoomExposure
        fields = [
            "id", "dew_point_c", "duration_h", "measurement_before", "measurement_after",
            "conductivity_before_ms_per_cm", "conductivity_after_ms_per_cm", "retention_percent", "phase_retained",
            "phase_notes", "h2s_observed", "h2s_peak_ppm", "exposed_at",
        ]


class PrecursorSerializer(serializers.Serializer):
    lot = serializers.CharField(source="parent.code")
    mass_g = serializers.DecimalField(source="amount", max_digits=16, decimal_places=6)


class SynthesisBatchSerializer(_ItemFields):
    yield_percent = serializers.FloatField(read_only=True)
    conductivity_ms_per_cm = serializers.FloatField(read_only=True, allow_null=True,
                                                    help_text="current measurement at 25 °C or nearest to it")
    conductivity_temperature_c = serializers.FloatField(read_only=True, allow_null=True)
    precursors = PrecursorSerializer(source="item.edges_in", many=True, read_only=True)
    steps = ConditioningStepSerializer(many=True, read_only=True)
    measurements = NestedMeasurementSerializer(many=True, read_only=True)
    exposures = ExposureSerializer(many=True, read_only=True)
    out_of_control = serializers.BooleanField(read_only=True, help_text="a Western Electric rule flags this batch "
                                              "on its control chart (the rules: /api/v1/control-flags/?code=)")

    class Meta:
        model = SynthesisBatch
        fields = [
            *_ItemFields.ITEM_FIELDS, "composition", "sse_class", "route", "mill", "jar_material", "media_material",
            "ball_diameter_mm", "ball_to_powder_ratio", "speed_rpm", "milling_time_h",
            "heat_treatment_temperature_c", "heat_treatment_time_h", "heat_treatment_atmosphere", "environment",
            "glovebox_o2_ppm", "glovebox_h2o_ppm", "dew_point_c", "precursor_mass_g", "batch_mass_g",
            "yield_percent", "density_g_per_cm3", "conductivity_ms_per_cm", "conductivity_temperature_c",
            "precursors", "steps", "measurements", "exposures", "out_of_control",
        ]


class MaterialLotViewSet(ScopedReadOnlyViewSet):
    """Material lots (precursors, active materials, carbon, binders, foils) with the mass left in each."""

    queryset = MaterialLot.objects.select_related("item", "item__project")
    serializer_class = MaterialLotSerializer
    filterset_class = MaterialLotFilterSet


class SynthesisBatchViewSet(ScopedReadOnlyViewSet):
    """SSE synthesis batches with their precursors, conditioning steps, conductivity and exposure studies."""

    queryset = with_out_of_control(batches_annotated(
        SynthesisBatch.objects.select_related("item", "item__project"))).prefetch_related(
        Prefetch("item__edges_in", queryset=LineageEdge.objects.select_related("parent").order_by("id")),
        Prefetch("steps", queryset=ConditioningStep.objects.order_by("position")),
        Prefetch("measurements", queryset=ConductivityMeasurement.objects.order_by("-measured_at", "-id")),
        Prefetch("exposures", queryset=DryRoomExposure.objects.select_related("measurement_before",
                                                                            "measurement_after")),
    )
    serializer_class = SynthesisBatchSerializer
    filterset_class = SynthesisBatchFilterSet


class ConductivityMeasurementViewSet(ScopedReadOnlyViewSet):
    """Every conductivity measurement, corrections included (``is_current`` false once superseded)."""

    queryset = ConductivityMeasurement.objects.select_related("batch", "batch__item")
    serializer_class = MeasurementSerializer
    filterset_class = ConductivityMeasurementFilterSet
    project_field = "batch__item__project"
    lookup_field = "pk"
    lookup_url_kwarg = "pk"
    lookup_value_regex = ID_REGEX


def register(router) -> None:
    router.register("material-lots", MaterialLotViewSet, basename="material-lot")
    router.register("sse-batches", SynthesisBatchViewSet, basename="sse-batch")
    router.register("conductivity-measurements", ConductivityMeasurementViewSet, basename="conductivity-measurement")
