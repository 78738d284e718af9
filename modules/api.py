"""Modules in the partner API: housing designs, modules with their cells and pressure history, pressure maps.

Read-only and scoped: a design by its project, a module by its item's project, a map by its scan's
design's project. Anything outside answers 404.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assbtrack.api.passport_views import PassportBundleMixin, PassportMixin
from assbtrack.api.viewsets import ScopedReadOnlyViewSet
from assbtrack.tracing.api import AffectedByField, AffectedField, AffectedSerializerMixin
from assbtrack.tracing.converters import ID_REGEX

from .filtersets import HousingDesignFilterSet, ModuleFilterSet, PressureMapFilterSet
from .models import HousingDesign, Module, ModuleCell, PressureMapResult, PressureReading


class PlateCheckSerializer(serializers.Serializer):
    pressure_mpa = serializers.FloatField()
    thickness_mm = serializers.FloatField()
    required_thickness_mm = serializers.FloatField()
    stiffness_thickness_mm = serializers.FloatField()
    strength_thickness_mm = serializers.FloatField()
    deflection_mm = serializers.FloatField()
    allowed_deflection_mm = serializers.FloatField()
    stress_mpa = serializers.FloatField()
    allowable_stress_mpa = serializers.FloatField()
    ok = serializers.BooleanField()
    warnings = serializers.ListField(child=serializers.CharField())


class HousingDesignSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.code", read_only=True)
    compliance = serializers.CharField(read_only=True, help_text="springs and gaskets, springs, gaskets or neither")
    plate_check = PlateCheckSerializer(read_only=True, help_text="Roark check of the plate at the target pressure")

    class Meta:
        model = HousingDesign
        fields = [
            "id", "project", "name", "plate_material", "plate_modulus_gpa", "plate_density_kg_per_m3",
            "plate_length_mm", "plate_width_mm", "plate_thickness_mm", "deflection_ratio",
            "plate_allowable_stress_mpa", "bolt_count", "bolt_size", "bolt_torque_nm", "spring_count",
            "spring_constant_n_per_mm", "gasket_material", "gasket_shore_a_hardness", "gasket_thickness_mm",
            "target_stack_pressure_mpa", "expected_swelling_percent", "compliance", "plate_check", "created_at",
        ]


class ModuleCellSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="cell.item.code", read_only=True)
    status = serializers.CharField(source="cell.item.status", read_only=True)

    class Meta:
        model = ModuleCell
        fields = ["position", "code", "status"]


class PressureReadingSerializer(serializers.ModelSerializer):
    supersedes = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = PressureReading
        fields = ["id", "kind", "pressure_mpa", "measured_at", "method", "supersedes"]


class ModuleSerializer(AffectedSerializerMixin, serializers.ModelSerializer):
    code = serializers.CharField(source="item.code", read_only=True)
    project = serializers.CharField(source="item.project.code", read_only=True)
    status = serializers.CharField(source="item.status", read_only=True)
    status_reason = serializers.CharField(source="item.status_reason", read_only=True)
    affected = AffectedField()
    affected_by = AffectedByField()
    housing_design = serializers.PrimaryKeyRelatedField(read_only=True)
    housing_design_name = serializers.CharField(source="housing_design.name", read_only=True)
    arrangement = serializers.CharField(read_only=True)
    cell_count = serializers.IntegerField(read_only=True)
    cells = ModuleCellSerializer(source="positions", many=True, read_only=True)
    pressure_readings = PressureReadingSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(source="item.created_at", read_only=True)

    class Meta:
        model = Module
        fields = [
            "code", "project", "status", "status_reason", "affected", "affected_by",
            "housing_design", "housing_design_name", "arrangement",
            "series_count", "parallel_count", "cell_count", "system_energy_kwh", "cells_mass_kg",
            "nominal_voltage_v", "nominal_capacity_ah", "applied_stack_pressure_mpa", "assembled_on", "cells",
            "pressure_readings", "created_at",
        ]


class PressureMapSerializer(serializers.ModelSerializer):
    scan_id = serializers.IntegerField(read_only=True)
    label = serializers.CharField(source="scan.label", read_only=True)
    scanned_on = serializers.DateField(source="scan.scanned_on", read_only=True)
    housing_design = serializers.IntegerField(source="scan.design_id", read_only=True)
    housing_design_name = serializers.CharField(source="scan.design.name", read_only=True)
    module = serializers.SerializerMethodField()
    calibration = serializers.JSONField(source="scan.calibration", read_only=True)
    grid_rows = serializers.IntegerField(source="scan.grid_rows", read_only=True)
    grid_cols = serializers.IntegerField(source="scan.grid_cols", read_only=True)
    threshold_fraction = serializers.FloatField(source="scan.threshold_fraction", read_only=True)
    heatmap_url = serializers.SerializerMethodField()

    class Meta:
        model = PressureMapResult
        fields = [
            "scan_id", "label", "scanned_on", "housing_design", "housing_design_name", "module", "mean_mpa",
            "std_mpa", "coefficient_of_variation", "min_mpa", "max_mpa", "coverage_fraction",
            "centre_to_edge_ratio", "grid_mpa", "calibration", "grid_rows", "grid_cols", "threshold_fraction",
            "heatmap_url", "computed_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_module(self, result: PressureMapResult) -> str | None:
        return result.scan.module.item.code if result.scan.module_id else None

    def get_heatmap_url(self, result: PressureMapResult) -> str:
        path = reverse("modules:scan-heatmap", args=[result.scan_id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class HousingDesignViewSet(ScopedReadOnlyViewSet):
    """Housing designs of the projects shared with you, with the plate check at the target pressure."""

    queryset = HousingDesign.objects.select_related("project")
    serializer_class = HousingDesignSerializer
    filterset_class = HousingDesignFilterSet
    project_field = "project"
    lookup_field = "pk"
    lookup_url_kwarg = "pk"
    lookup_value_regex = ID_REGEX


class ModuleViewSet(PassportMixin, PassportBundleMixin, ScopedReadOnlyViewSet):
    """Modules with their cells in position and their stack pressure over time."""

    queryset = Module.objects.select_related("item", "item__project", "housing_design").prefetch_related(
        Prefetch("positions", queryset=ModuleCell.objects.select_related("cell__item").order_by("position")),
        Prefetch("pressure_readings", queryset=PressureReading.objects.order_by("measured_at", "id")),
    )
    serializer_class = ModuleSerializer
    filterset_class = ModuleFilterSet


class PressureMapViewSet(ScopedReadOnlyViewSet):
    """Pressure maps from film scans: uniformity numbers, the grid (MPa) and a link to the heat map."""

    queryset = PressureMapResult.objects.select_related("scan", "scan__design", "scan__module__item")
    serializer_class = PressureMapSerializer
    filterset_class = PressureMapFilterSet
    project_field = "scan__design__project"
    lookup_field = "pk"
    lookup_url_kwarg = "pk"
    lookup_value_regex = ID_REGEX


def register(router) -> None:
    router.register("housing-designs", HousingDesignViewSet, basename="housing-design")
    router.register("modules", ModuleViewSet, basename="module")
    router.register("pressure-maps", PressureMapViewSet, basename="pressure-map")
