"""Films and sheets in the partner API (read-only, scoped to the caller's projects, found by code)."""

from __future__ import annotations

from django.db.models import F
from rest_framework import serializers

from assbtrack.api.viewsets import ScopedReadOnlyViewSet
from assbtrack.tracing.api import AffectedByField, AffectedField, AffectedSerializerMixin

from .filtersets import FilmFilterSet, SheetFilterSet
from .models import CalenderingPass, FilmComponent
from .selectors import films_queryset, sheets_queryset


class FilmComponentSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.code", read_only=True)
    source_kind = serializers.CharField(source="source.kind", read_only=True)

    class Meta:
        model = FilmComponent
        fields = ["position", "source", "source_kind", "name", "role", "mass_g", "weight_fraction",
                  "density_g_per_cm3", "specific_capacity_mah_per_g"]


class CalenderingPassSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalenderingPass
        fields = ["pass_number", "kind", "roll_temperature_c", "gap_um", "line_force_n_per_mm", "speed_m_per_min",
                  "thickness_um", "created_at"]


class FilmSerializer(AffectedSerializerMixin, serializers.Serializer):
    # read as one SQL expression by the flat export path (assbtrack.api.exports)
    export_expressions = {"area_remaining_cm2": F("item__quantity") - F("item__quantity_used")}
    code = serializers.CharField(source="item.code")
    kind = serializers.CharField(source="item.kind")
    project = serializers.CharField(source="item.project.code")
    status = serializers.CharField(source="item.status")
    status_reason = serializers.CharField(source="item.status_reason")
    affected = AffectedField()
    affected_by = AffectedByField()
    created_at = serializers.DateTimeField(source="item.created_at")
    process = serializers.CharField()
    mixer_type = serializers.CharField()
    mixing_speed_rpm = serializers.FloatField(allow_null=True)
    mixing_time_s = serializers.FloatField(allow_null=True)
    batch_size_g = serializers.FloatField(allow_null=True)
    area_cm2 = serializers.FloatField()
    area_remaining_cm2 = serializers.DecimalField(
        source="item.quantity_remaining", max_digits=16, decimal_places=6, allow_null=True,
        help_text="film area not yet cut into sheets",
    )
    thickness_um = serializers.FloatField(allow_null=True)
    mass_g = serializers.FloatField(allow_null=True)
    free_standing = serializers.BooleanField(allow_null=True)
    areal_loading_mg_per_cm2 = serializers.FloatField(allow_null=True)
    areal_capacity_mah_per_cm2 = serializers.FloatField(allow_null=True)
    density_g_per_cm3 = serializers.FloatField(allow_null=True)
    theoretical_density_g_per_cm3 = serializers.FloatField(allow_null=True)
    porosity = serializers.FloatField(allow_null=True, help_text="fraction 0–1")
    binder_fraction = serializers.FloatField(allow_null=True, help_text="fraction 0–1")
    active_weight_fraction = serializers.FloatField(allow_null=True, help_text="fraction 0–1")
    film_conductivity_ms_per_cm = serializers.FloatField(allow_null=True)
    batch_conductivity_ms_per_cm = serializers.FloatField(allow_null=True)
    conductivity_retention = serializers.FloatField(allow_null=True, help_text="σ_film/σ_batch, fraction")
    components = FilmComponentSerializer(many=True)
    passes = CalenderingPassSerializer(many=True)


class SheetSerializer(AffectedSerializerMixin, serializers.Serializer):
    code = serializers.CharField(source="item.code")
    project = serializers.CharField(source="item.project.code")
    status = serializers.CharField(source="item.status")
    affected = AffectedField()
    affected_by = AffectedByField()
    created_at = serializers.DateTimeField(source="item.created_at")
    film = serializers.CharField(source="film.item.code")
    film_kind = serializers.CharField(source="film.item.kind")
    position = serializers.CharField()
    area_cm2 = serializers.FloatField()
    thickness_um = serializers.FloatField(allow_null=True)
    areal_loading_mg_per_cm2 = serializers.FloatField(allow_null=True)
    areal_capacity_mah_per_cm2 = serializers.FloatField(allow_null=True)
    porosity = serializers.FloatField(allow_null=True, help_text="fraction 0–1")
    capacity_mah = serializers.FloatField(allow_null=True)


class FilmViewSet(ScopedReadOnlyViewSet):
    """Cathode, anode and separator films with their components, passes and derived metrics."""

    queryset = films_queryset()
    serializer_class = FilmSerializer
    filterset_class = FilmFilterSet


class SheetViewSet(ScopedReadOnlyViewSet):
    """Sheets cut from films, with the metrics they carry from their film."""

    queryset = sheets_queryset()
    serializer_class = SheetSerializer
    filterset_class = SheetFilterSet


def register(router) -> None:
    router.register("films", FilmViewSet, basename="film")
    router.register("sheets", SheetViewSet, basename="sheet")
