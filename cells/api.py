"""Cells in the partner API: cells with their layers, densification, tier and cycling summary, and the
per-cycle table as a nested endpoint (``/api/v1/cells/{code}/cycles/``) and a streamed CSV
(``/api/v1/cells/{code}/cycles/csv/``). Read-only, scoped to the caller's projects, found by code."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from assbtrack.access.selectors import user_is_lab_staff
from assbtrack.api.exports import job_accepted
from assbtrack.api.pagination import StableCursorPagination
from assbtrack.api.passport_views import PassportBundleMixin, PassportMixin
from assbtrack.api.viewsets import ScopedReadOnlyViewSet
from assbtrack.tracing.api import AffectedByField, AffectedField, AffectedSerializerMixin
from assbtrack.web.csv import csv_download

from .filtersets import CellFilterSet, CycleRecordFilterSet
from .models import Cell, CellDensification, CycleRecord, CyclingTest
from .selectors import layers_prefetch
from .services import cycling_test_create

CYCLE_FIELDS = [
    "test", "cycle_number", "charge_capacity_mah", "discharge_capacity_mah", "charge_energy_mwh",
    "discharge_energy_mwh", "coulombic_efficiency", "energy_efficiency", "retention", "complete", "diagnostic",
]


class CellLayerSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    cathode = serializers.CharField(source="cathode.item.code")
    cathode_area_cm2 = serializers.FloatField(source="cathode.area_cm2")
    cathode_areal_capacity_mah_per_cm2 = serializers.FloatField(source="cathode.film.areal_capacity_mah_per_cm2",
                                                                allow_null=True)
    separator = serializers.CharField(source="separator.item.code")
    separator_thickness_um = serializers.FloatField(source="separator.film.thickness_um", allow_null=True)
    anode = serializers.CharField(source="anode.item.code", allow_null=True, default=None)
    anode_lot = serializers.CharField(source="anode_lot.item.code", allow_null=True, default=None)
    anode_mass_g = serializers.FloatField(allow_null=True)
    cathode_capacity_mah = serializers.FloatField()
    anode_capacity_mah = serializers.FloatField()
    np_ratio = serializers.FloatField()


class DensificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = CellDensification
        fields = ["id", "method", "pressure_mpa", "temperature_c", "hold_time_min", "performed_at", "supersedes",
                  "notes"]


class CyclingTestSerializer(serializers.ModelSerializer):
    class Meta:
        model = CyclingTest
        fields = [
            "id", "cycler", "channel", "temperature_c", "stack_pressure_mpa", "protocol", "c_rate", "voltage_min_v",
            "voltage_max_v", "started_at", "file_name", "reader", "status", "error", "cycle_count",
            "first_discharge_capacity_mah", "retention_at_100", "retention_at_last", "cycle_at_80_percent",
            "last_cycle", "imported_at", "import_options",
        ]


class CellSerializer(AffectedSerializerMixin, serializers.Serializer):
    code = serializers.CharField(source="item.code")
    project = serializers.CharField(source="item.project.code")
    status = serializers.CharField(source="item.status")
    status_reason = serializers.CharField(source="item.status_reason")
    affected = AffectedField()
    affected_by = AffectedByField()
    created_at = serializers.DateTimeField(source="item.created_at")
    cell_format = serializers.CharField()
    stacking = serializers.CharField()
    connection = serializers.CharField()
    length_mm = serializers.FloatField()
    width_mm = serializers.FloatField()
    edge_margin_mm = serializers.FloatField()
    operating_stack_pressure_mpa = serializers.FloatField(allow_null=True)
    anode_type = serializers.CharField()
    cathode_voltage_v = serializers.FloatField()
    anode_voltage_v = serializers.FloatField()
    cathode_collector = serializers.CharField()
    cathode_collector_thickness_um = serializers.FloatField(allow_null=True)
    anode_collector = serializers.CharField()
    anode_collector_thickness_um = serializers.FloatField(allow_null=True)
    layer_count = serializers.IntegerField()
    np_ratio = serializers.FloatField(help_text="lowest over the layers; 0 for anode-free")
    nominal_capacity_ah = serializers.FloatField()
    nominal_voltage_v = serializers.FloatField()
    nominal_energy_wh = serializers.FloatField(source="energy_wh")
    scale_tier = serializers.CharField()
    measured_capacity_ah = serializers.FloatField(allow_null=True)
    mass_g = serializers.FloatField(allow_null=True)
    specific_energy_wh_per_kg = serializers.FloatField(allow_null=True)
    energy_density_wh_per_l = serializers.FloatField(allow_null=True)
    first_discharge_capacity_mah = serializers.FloatField(allow_null=True)
    retention_at_100 = serializers.FloatField(allow_null=True, help_text="fraction 0–1")
    retention_at_last = serializers.FloatField(allow_null=True, help_text="fraction 0–1")
    cycle_at_80_percent = serializers.IntegerField(allow_null=True)
    last_cycle = serializers.IntegerField(allow_null=True)
    layers = CellLayerSerializer(many=True)
    densifications = DensificationSerializer(many=True)
    cycling_tests = CyclingTestSerializer(many=True)


class CycleRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = CycleRecord
        fields = CYCLE_FIELDS


class CyclePagination(StableCursorPagination):
    # Rows are inserted test by test in cycle order, so the key order is the natural reading order.
    ordering = "pk"
    page_size = 200
    max_page_size = 5000


def _cycle_rows(queryset) -> Iterator[list]:
    for row in queryset.values_list("test_id", *CYCLE_FIELDS[1:]).iterator(chunk_size=2000):
        yield ["" if value is None else value for value in row]


class CyclingUploadSerializer(serializers.Serializer):
    """A cycler upload: the file(s) of one test in order, and how to read them (see the README)."""

    data_file = serializers.FileField(help_text="the cycler's file (BioLogic, Arbin, Neware, Maccor, BDF, CSV)")
    more_files = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                       help_text="later files of the same test, joined in order")
    cycler = serializers.CharField(max_length=80)
    channel = serializers.CharField(max_length=40, required=False, default="")
    temperature_c = serializers.FloatField(required=False, default=25.0)
    stack_pressure_mpa = serializers.FloatField(required=False, allow_null=True, default=None)
    protocol = serializers.CharField(max_length=200, required=False, default="")
    current_unit = serializers.CharField(required=False, default="", help_text="A or mA (plain CSV)")
    capacity_unit = serializers.CharField(required=False, default="", help_text="Ah or mAh (plain CSV)")
    time_unit = serializers.CharField(required=False, default="", help_text="s, min or h (plain CSV)")
    skip_rows = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10_000)
    cycler_format = serializers.CharField(required=False, default="",
                                          help_text="biologic, arbin, neware, maccor, bdf or csv if the ending does "
                                          "not say")
    formation_cycles = serializers.IntegerField(required=False, default=0, min_value=0)
    reference_cycle = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    diagnostic_cycles = serializers.CharField(required=False, default="", help_text="e.g. 1, 50, 100")
    units_checked = serializers.BooleanField(required=False, default=False)
    column_map = serializers.JSONField(required=False, default=dict, help_text="role → column name (plain CSV)")


class CellViewSet(PassportMixin, PassportBundleMixin, ScopedReadOnlyViewSet):
    """Pouch and pellet cells with their layers, densification, rating, scale tier and cycling summary."""

    queryset = Cell.objects.select_related("item", "item__project").prefetch_related(
        layers_prefetch(),
        Prefetch("densifications", queryset=CellDensification.objects.order_by("performed_at", "id")),
        Prefetch("cycling_tests", queryset=CyclingTest.objects.order_by("created_at", "id")),
    ).order_by("-item_id")
    serializer_class = CellSerializer
    filterset_class = CellFilterSet

    def _cycles(self, cell: Cell):
        queryset = CycleRecord.objects.filter(test__cell=cell).order_by("pk")
        return CycleRecordFilterSet(self.request.query_params, queryset=queryset, request=self.request).qs

    @extend_schema(
        responses=CycleRecordSerializer(many=True),
        parameters=[OpenApiParameter("test", int, description="only this cycling test (its id)"),
                    OpenApiParameter("cycle_number_min", int), OpenApiParameter("cycle_number_max", int)],
    )
    @action(detail=True, pagination_class=CyclePagination, filterset_class=None)
    def cycles(self, request, code=None):
        """The per-cycle table of every cycling test of this cell: capacities (mAh), energies (mWh), efficiencies
        and retention (fractions)."""
        cell = self.get_object()
        page = self.paginate_queryset(self._cycles(cell))
        return self.get_paginated_response(CycleRecordSerializer(page, many=True).data)

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=True, url_path="cycles/csv", filterset_class=None, pagination_class=None)
    def cycles_csv(self, request, code=None):
        """The same per-cycle table as CSV, streamed row by row (the export is logged)."""
        cell = self.get_object()
        return csv_download(request, f"{cell.item.code}-cycles.csv", CYCLE_FIELDS, _cycle_rows(self._cycles(cell)))


    @extend_schema(request={"multipart/form-data": CyclingUploadSerializer},
                   responses={200: CyclingTestSerializer(many=True), 202: dict})
    @action(detail=True, methods=["get", "post"], url_path="cycling-tests",
            parser_classes=[MultiPartParser, FormParser], filterset_class=None, pagination_class=None)
    def cycling_tests(self, request, code=None):
        """GET: the cell's cycling tests. POST (lab staff): upload a test's file(s); 202 with the import job."""
        if request.method == "GET":
            cell = self.get_object()
            return Response(CyclingTestSerializer(cell.cycling_tests.order_by("created_at", "id"), many=True).data)
        if not user_is_lab_staff(request.user):
            raise PermissionDenied("Only lab staff may upload cycler data.")
        cell = self.get_object()
        upload = CyclingUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        if request.FILES.getlist("more_files"):
            data["more_files"] = request.FILES.getlist("more_files")
        options = {name: data[name] for name in ("current_unit", "capacity_unit", "time_unit", "skip_rows",
                                                  "formation_cycles", "reference_cycle", "diagnostic_cycles",
                                                  "units_checked")}
        options["cycler"] = data["cycler_format"]
        try:
            test = cycling_test_create(
                cell=cell, user=request.user, data_file=data["data_file"], more_files=data["more_files"],
                cycler=data["cycler"], channel=data["channel"], temperature_c=data["temperature_c"],
                stack_pressure_mpa=data["stack_pressure_mpa"], protocol=data["protocol"],
                column_map=data["column_map"], import_options=options,
            )
        except DjangoValidationError as error:
            raise ApiValidationError(error.message_dict) from None
        response = job_accepted(request, test.import_job)
        response.data["test"] = test.pk
        return response


def register(router) -> None:
    router.register("cells", CellViewSet, basename="cell")
