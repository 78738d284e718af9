"""Tables of the materials app: lots, SSE synthesis batches, conditioning steps, conductivity, exposure, QC specs.

A lot's and a batch's mass is their traced item's quantity (g); what was used of it is the lineage.
Measurements are append-only: a correction is a new row, and the old one points at it (``superseded_by``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from assbtrack.access.models import Project
from assbtrack.tracing.models import TracedRecord

from .choices import (
    Atmosphere,
    ConditioningKind,
    MaterialRole,
    MillingMaterial,
    ProcessEnvironment,
    SseClass,
    SynthesisRoute,
)

ROOM_TEMPERATURE_C = 25.0


def _positive_or_null(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": 0})


def _non_negative_or_null(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0})


class MaterialLot(TracedRecord):
    """A received (or made) lot of a chemical: precursor, active material, carbon, binder, foil, electrolyte."""

    chemical_name = models.CharField("chemical name", max_length=120)
    formula = models.CharField("formula", max_length=60, blank=True)
    role = models.CharField("role", max_length=20, choices=MaterialRole.choices)
    supplier = models.CharField("supplier", max_length=120, blank=True)
    supplier_lot = models.CharField("supplier lot", max_length=80, blank=True, db_index=True)
    received_on = models.DateField("received on", null=True, blank=True)
    purity_percent = models.FloatField("purity (%)", null=True, blank=True)
    storage_atmosphere = models.CharField(
        "storage atmosphere", max_length=20, choices=Atmosphere.choices, blank=True
    )
    density_g_per_cm3 = models.FloatField("density (g/cm³)", null=True, blank=True)
    specific_capacity_mah_per_g = models.FloatField("specific capacity (mAh/g)", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "material lot"
        ordering = ["-item__created_at", "-item_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(purity_percent__isnull=True) | Q(purity_percent__gt=0, purity_percent__lte=100),
                name="lot_purity_0_100",
            ),
            models.CheckConstraint(condition=_positive_or_null("density_g_per_cm3"), name="lot_density_gt_0"),
            models.CheckConstraint(
                condition=_non_negative_or_null("specific_capacity_mah_per_g"), name="lot_capacity_ge_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} {self.chemical_name}"


class SynthesisBatch(TracedRecord):
    """One SSE synthesis: precursors (lineage edges), milling, heat treatment, environment, mass and yield.

    ``batch_mass_g`` is the mass recovered from the synthesis; the item's quantity starts there and
    drops by what conditioning loses, so that what is left to use is always the item's remaining mass.
    """

    composition = models.CharField("target composition", max_length=60, db_index=True)
    sse_class = models.CharField("SSE class", max_length=20, choices=SseClass.choices)
    route = models.CharField("synthesis route", max_length=30, choices=SynthesisRoute.choices)
    mill = models.CharField("mill (make and model)", max_length=80, blank=True)
    equipment = models.ForeignKey(
        "instruments.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="synthesis_batches",
        verbose_name="mill (equipment)",
    )
    jar_material = models.CharField("jar material", max_length=20, choices=MillingMaterial.choices, blank=True)
    media_material = models.CharField("media material", max_length=20, choices=MillingMaterial.choices, blank=True)
    ball_diameter_mm = models.FloatField("ball diameter (mm)", null=True, blank=True)
    ball_to_powder_ratio = models.FloatField("ball-to-powder mass ratio (–)", null=True, blank=True)
    speed_rpm = models.FloatField("milling speed (rpm)", default=0)
    milling_time_h = models.FloatField("milling time (h)", default=0, db_index=True)
    heat_treatment_temperature_c = models.FloatField("heat treatment temperature (°C)", null=True, blank=True)
    heat_treatment_time_h = models.FloatField("heat treatment time (h)", null=True, blank=True)
    heat_treatment_atmosphere = models.CharField(
        "heat treatment atmosphere", max_length=20, choices=Atmosphere.choices, blank=True
    )
    environment = models.CharField(
        "environment", max_length=20, choices=ProcessEnvironment.choices, default=ProcessEnvironment.GLOVEBOX
    )
    glovebox_o2_ppm = models.FloatField("glovebox O2 (ppm)", null=True, blank=True)
    glovebox_h2o_ppm = models.FloatField("glovebox H2O (ppm)", null=True, blank=True)
    dew_point_c = models.FloatField("dry-room dew point (°C)", null=True, blank=True)
    precursor_mass_g = models.FloatField("precursor mass (g)", help_text="Sum of the precursor amounts used.")
    batch_mass_g = models.FloatField("batch mass as synthesised (g)")
    density_g_per_cm3 = models.FloatField("SSE density (g/cm³)", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "SSE synthesis batch"
        verbose_name_plural = "SSE synthesis batches"
        ordering = ["-item__created_at", "-item_id"]
        indexes = [models.Index(fields=["composition", "route"], name="batch_composition_route")]
        constraints = [
            models.CheckConstraint(condition=Q(milling_time_h__gte=0), name="batch_milling_time_ge_0"),
            models.CheckConstraint(condition=Q(speed_rpm__gte=0), name="batch_speed_ge_0"),
            models.CheckConstraint(condition=_positive_or_null("ball_diameter_mm"), name="batch_ball_diameter_gt_0"),
            models.CheckConstraint(condition=_positive_or_null("ball_to_powder_ratio"), name="batch_bpr_gt_0"),
            models.CheckConstraint(condition=_positive_or_null("heat_treatment_time_h"), name="batch_ht_time_gt_0"),
            models.CheckConstraint(
                condition=Q(heat_treatment_temperature_c__isnull=True, heat_treatment_time_h__isnull=True)
                | Q(heat_treatment_temperature_c__isnull=False, heat_treatment_time_h__isnull=False),
                name="batch_heat_treatment_complete",
            ),
            models.CheckConstraint(condition=_non_negative_or_null("glovebox_o2_ppm"), name="batch_o2_ge_0"),
            models.CheckConstraint(condition=_non_negative_or_null("glovebox_h2o_ppm"), name="batch_h2o_ge_0"),
            models.CheckConstraint(
                condition=~Q(environment=ProcessEnvironment.DRY_ROOM) | Q(dew_point_c__isnull=False),
                name="batch_dry_room_has_dew_point",
            ),
            models.CheckConstraint(condition=Q(precursor_mass_g__gt=0), name="batch_precursor_mass_gt_0"),
            models.CheckConstraint(
                condition=Q(batch_mass_g__gt=0, batch_mass_g__lte=F("precursor_mass_g") * 1.000001),
                name="batch_mass_within_precursors",
            ),
            models.CheckConstraint(condition=_positive_or_null("density_g_per_cm3"), name="batch_density_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} {self.composition}"

    @property
    def yield_percent(self) -> float:
        """Synthesis yield: mass recovered over precursor mass (gas release and milling losses lower it)."""
        return 100.0 * self.batch_mass_g / self.precursor_mass_g

    @property
    def has_heat_treatment(self) -> bool:
        return self.heat_treatment_temperature_c is not None


class ConditioningStep(models.Model):
    """One step after synthesis: dry or wet milling, or sieving; steps form a chain (re-mill, re-sieve)."""

    batch = models.ForeignKey(SynthesisBatch, on_delete=models.PROTECT, related_name="steps", verbose_name="batch")
    position = models.PositiveSmallIntegerField("step number")
    kind = models.CharField("step", max_length=20, choices=ConditioningKind.choices)
    mass_in_g = models.FloatField("mass in (g)")
    recovered_mass_g = models.FloatField("recovered mass (g)")
    speed_rpm = models.FloatField("milling speed (rpm)", null=True, blank=True)
    duration_h = models.FloatField("milling time (h)", null=True, blank=True)
    solvent = models.CharField("solvent", max_length=40, blank=True)
    solvent_volume_ml = models.FloatField("solvent volume (mL)", null=True, blank=True)
    drying_temperature_c = models.FloatField("drying temperature (°C)", null=True, blank=True)
    drying_time_h = models.FloatField("drying time (h)", null=True, blank=True)
    mesh_um = models.FloatField("sieve mesh (µm)", null=True, blank=True)
    passes = models.PositiveSmallIntegerField("sieve passes", null=True, blank=True)
    d10_um = models.FloatField("D10 (µm)", null=True, blank=True)
    d50_um = models.FloatField("D50 (µm)", null=True, blank=True)
    d90_um = models.FloatField("D90 (µm)", null=True, blank=True)
    performed_at = models.DateTimeField("performed at", default=timezone.now)
    notes = models.TextField("notes", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("created at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "conditioning step"
        ordering = ["batch_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="step_unique_position"),
            models.CheckConstraint(condition=Q(mass_in_g__gt=0), name="step_mass_in_gt_0"),
            models.CheckConstraint(
                condition=Q(recovered_mass_g__gte=0, recovered_mass_g__lte=F("mass_in_g")),
                name="step_recovered_within_mass_in",
            ),
            models.CheckConstraint(condition=_positive_or_null("speed_rpm"), name="step_speed_gt_0"),
            models.CheckConstraint(condition=_positive_or_null("duration_h"), name="step_duration_gt_0"),
            models.CheckConstraint(condition=_positive_or_null("mesh_um"), name="step_mesh_gt_0"),
            models.CheckConstraint(
                condition=~Q(kind=ConditioningKind.SIEVING) | Q(mesh_um__isnull=False), name="step_sieving_has_mesh"
            ),
            models.CheckConstraint(
                condition=~Q(kind=ConditioningKind.WET_MILLING) | ~Q(solvent=""), name="step_wet_milling_has_solvent"
            ),
            models.CheckConstraint(
                condition=Q(d10_um__isnull=True) | Q(d50_um__isnull=True) | Q(d10_um__lte=F("d50_um")),
                name="step_d10_le_d50",
            ),
            models.CheckConstraint(
                condition=Q(d50_um__isnull=True) | Q(d90_um__isnull=True) | Q(d50_um__lte=F("d90_um")),
                name="step_d50_le_d90",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} step {self.position}: {self.get_kind_display()}"

    @property
    def yield_percent(self) -> float:
        return 100.0 * self.recovered_mass_g / self.mass_in_g


def impedance_file_path(instance: ConductivityMeasurement, filename: str) -> str:
    return f"materials/impedance/{instance.batch_id}/{filename}"


def xrd_file_path(instance: DryRoomExposure, filename: str) -> str:
    return f"materials/xrd/{instance.batch_id}/{filename}"


class ConductivityMeasurementQuerySet(models.QuerySet):
    def current(self) -> ConductivityMeasurementQuerySet:
        return self.filter(superseded_by__isnull=True)


class ConductivityMeasurement(models.Model):
    """An impedance measurement of a pressed pellet; σ = L/(R·A) is computed when it is recorded.

    Append-only: a wrong entry is corrected by a new measurement that supersedes it.
    """

    batch = models.ForeignKey(
        SynthesisBatch, on_delete=models.PROTECT, related_name="measurements", verbose_name="batch"
    )
    temperature_c = models.FloatField("temperature (°C)", default=ROOM_TEMPERATURE_C)
    thickness_mm = models.FloatField("pellet thickness (mm)")
    diameter_mm = models.FloatField("pellet diameter (mm)", null=True, blank=True)
    area_cm2 = models.FloatField("pellet area (cm²)")
    stack_pressure_mpa = models.FloatField("stack pressure during measurement (MPa)", null=True, blank=True)
    equipment = models.ForeignKey(
        "instruments.Equipment", on_delete=models.PROTECT, null=True, blank=True,
        related_name="conductivity_measurements", verbose_name="impedance analyser",
    )
    resistance_ohm = models.FloatField("bulk resistance (Ω)")
    conductivity_ms_per_cm = models.FloatField("ionic conductivity (mS/cm)")
    impedance_file = models.FileField("impedance file", upload_to=impedance_file_path, blank=True, max_length=300)
    measured_at = models.DateTimeField("measured at", default=timezone.now, db_index=True)
    notes = models.TextField("notes", blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes",
        verbose_name="superseded by",
    )
    correction_reason = models.TextField("why this corrects an earlier measurement", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("recorded at", auto_now_add=True)
    history = HistoricalRecords()

    objects = ConductivityMeasurementQuerySet.as_manager()

    class Meta:
        verbose_name = "conductivity measurement"
        ordering = ["-measured_at", "-id"]
        indexes = [models.Index(fields=["batch", "superseded_by"], name="measurement_batch_current")]
        constraints = [
            models.CheckConstraint(condition=Q(temperature_c__gt=-273.15), name="measurement_above_absolute_zero"),
            models.CheckConstraint(condition=Q(thickness_mm__gt=0), name="measurement_thickness_gt_0"),
            models.CheckConstraint(condition=_positive_or_null("diameter_mm"), name="measurement_diameter_gt_0"),
            models.CheckConstraint(condition=Q(area_cm2__gt=0), name="measurement_area_gt_0"),
            models.CheckConstraint(
                condition=_non_negative_or_null("stack_pressure_mpa"), name="measurement_pressure_ge_0"
            ),
            models.CheckConstraint(condition=Q(resistance_ohm__gt=0), name="measurement_resistance_gt_0"),
            models.CheckConstraint(condition=Q(conductivity_ms_per_cm__gt=0), name="measurement_sigma_gt_0"),
            models.CheckConstraint(condition=~Q(superseded_by=F("id")), name="measurement_not_self_superseded"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.conductivity_ms_per_cm:.3g} mS/cm at {self.temperature_c:g} °C"

    @property
    def is_current(self) -> bool:
        return self.superseded_by_id is None


class DryRoomExposure(models.Model):
    """A dry-room exposure study: powder held at a dew point for some hours, conductivity before and after."""

    batch = models.ForeignKey(SynthesisBatch, on_delete=models.PROTECT, related_name="exposures", verbose_name="batch")
    dew_point_c = models.FloatField("dew point (°C)")
    duration_h = models.FloatField("exposure time (h)")
    from_log = models.BooleanField(
        "dew point and time from the dry-room log", default=False,
        help_text="Computed from the batch's open/close events and the room's sensor readings between the two "
        "measurements: the effective dew point (same water-vapour dose) and the hours out of sealed storage.",
    )
    measurement_before = models.ForeignKey(
        ConductivityMeasurement, on_delete=models.PROTECT, related_name="+", verbose_name="measurement before"
    )
    measurement_after = models.ForeignKey(
        ConductivityMeasurement, on_delete=models.PROTECT, related_name="+", verbose_name="measurement after"
    )
    retention_percent = models.FloatField("conductivity retention (%)")
    phase_retained = models.BooleanField("phase retained (XRD)", null=True, blank=True)
    phase_notes = models.TextField("phase notes", blank=True)
    xrd_file = models.FileField("XRD pattern", upload_to=xrd_file_path, blank=True, max_length=300)
    h2s_observed = models.BooleanField("H2S observed", default=False)
    h2s_peak_ppm = models.FloatField("H2S peak (ppm)", null=True, blank=True)
    exposed_at = models.DateTimeField("exposure started", default=timezone.now)
    notes = models.TextField("notes", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("recorded at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "dry-room exposure study"
        verbose_name_plural = "dry-room exposure studies"
        ordering = ["-exposed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(dew_point_c__gte=-100, dew_point_c__lte=30), name="exposure_dew_point"),
            models.CheckConstraint(condition=Q(duration_h__gte=0), name="exposure_duration_ge_0"),
            models.CheckConstraint(condition=Q(retention_percent__gte=0), name="exposure_retention_ge_0"),
            models.CheckConstraint(
                condition=~Q(measurement_before=F("measurement_after")), name="exposure_before_is_not_after"
            ),
            models.CheckConstraint(condition=_non_negative_or_null("h2s_peak_ppm"), name="exposure_h2s_ge_0"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.duration_h:g} h at {self.dew_point_c:g} °C dew point"


class ConductivitySpec(models.Model):
    """The minimum room-temperature conductivity a batch of one composition needs to be released."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="conductivity_specs", verbose_name="project"
    )
    composition = models.CharField("composition", max_length=60)
    minimum_ms_per_cm = models.FloatField("minimum ionic conductivity (mS/cm)")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField("set at", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "conductivity specification"
        ordering = ["project_id", "composition"]
        constraints = [
            models.UniqueConstraint(fields=["project", "composition"], name="spec_unique_composition"),
            models.CheckConstraint(condition=Q(minimum_ms_per_cm__gt=0), name="spec_minimum_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.composition} ≥ {self.minimum_ms_per_cm:g} mS/cm"
