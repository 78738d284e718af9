"""Tables of the modules app: housing designs, modules and their cells, stack-pressure readings, film scans.

A housing design is a design, not a traced item: it belongs to a project and keeps its history. A
module is a traced item (MOD-000001) whose cells are lineage edges (role ``module_cell``); the
``ModuleCell`` rows only add each cell's position. Pressure readings are append-only: a correction
is a new reading that supersedes the old one.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from assbtrack.access.models import Project
from assbtrack.jobs.models import Job
from assbtrack.tracing.models import TracedRecord
from cells.models import Cell

from .choices import SCAN_EXTENSIONS, GasketMaterial, PlateMaterial, PressureReadingKind, ScanFormat
from .design_check import plate_check

# Upper bounds: far beyond any real housing, low enough that a slip of the finger is caught.
MAX_PRESSURE_MPA = 1000.0
MAX_SPAN_MM = 5000.0
MAX_SCAN_GRID_SIDE = 500


def greater_than_zero(value: float) -> None:
    if value is not None and not value > 0:
        raise ValidationError("must be greater than 0", code="not_positive")


def positive(limit: float):
    return [greater_than_zero, MaxValueValidator(limit)]


def not_negative(limit: float):
    return [MinValueValidator(0.0), MaxValueValidator(limit)]


class HousingDesign(models.Model):
    """How a module housing holds its stack: end plates, bolts, springs, gaskets and the target pressure."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="housing_designs",
                                verbose_name="project")
    name = models.CharField("name", max_length=120)
    plate_material = models.CharField("plate material", max_length=20, choices=PlateMaterial.choices,
                                      default=PlateMaterial.STEEL)
    plate_modulus_gpa = models.FloatField("plate Young's modulus (GPa)", default=200.0, validators=positive(1000))
    plate_density_kg_per_m3 = models.FloatField("plate density (kg/m³)", default=7850.0,
                                                validators=positive(25000))
    plate_length_mm = models.FloatField("plate span, length (mm)", validators=positive(MAX_SPAN_MM))
    plate_width_mm = models.FloatField("plate span, width (mm)", validators=positive(MAX_SPAN_MM))
    plate_thickness_mm = models.FloatField("plate thickness (mm)", validators=positive(500))
    deflection_ratio = models.FloatField(
        "deflection tolerance, N of span/N", default=500.0,
        validators=[MinValueValidator(1.0), MaxValueValidator(100000.0)],
        help_text="The plate may bow at most (shorter span)/N at the target pressure; 500 means L/500.",
    )
    plate_allowable_stress_mpa = models.FloatField("plate allowable stress (MPa)", default=200.0,
                                                   validators=positive(5000))
    bolt_count = models.PositiveSmallIntegerField("bolts (count)", default=4, validators=[MaxValueValidator(500)])
    bolt_size = models.CharField("bolt size", max_length=20, blank=True, help_text="e.g. M8")
    bolt_torque_nm = models.FloatField("bolt torque (N·m)", null=True, blank=True, validators=not_negative(10000))
    spring_count = models.PositiveSmallIntegerField("springs (count)", default=0,
                                                    validators=[MaxValueValidator(500)])
    spring_constant_n_per_mm = models.FloatField("spring constant (N/mm)", null=True, blank=True,
                                                 validators=positive(1e6))
    gasket_material = models.CharField("gasket material", max_length=20, choices=GasketMaterial.choices,
                                       default=GasketMaterial.NONE)
    gasket_shore_a_hardness = models.FloatField("gasket hardness (Shore A)", null=True, blank=True,
                                                validators=not_negative(100))
    gasket_thickness_mm = models.FloatField("gasket thickness (mm)", null=True, blank=True, validators=positive(50))
    target_stack_pressure_mpa = models.FloatField("target stack pressure (MPa)",
                                                  validators=positive(MAX_PRESSURE_MPA))
    expected_swelling_percent = models.FloatField("expected swelling along the stack (%)", default=0.0,
                                                  validators=not_negative(100))
    notes = models.TextField("notes", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="created by")
    created_at = models.DateTimeField("created at", auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="housing_design_unique_name"),
            models.CheckConstraint(condition=Q(plate_modulus_gpa__gt=0), name="housing_modulus_gt_0"),
            models.CheckConstraint(condition=Q(plate_density_kg_per_m3__gt=0), name="housing_density_gt_0"),
            models.CheckConstraint(condition=Q(plate_length_mm__gt=0) & Q(plate_width_mm__gt=0),
                                   name="housing_span_gt_0"),
            models.CheckConstraint(condition=Q(plate_thickness_mm__gt=0), name="housing_thickness_gt_0"),
            models.CheckConstraint(condition=Q(deflection_ratio__gte=1), name="housing_deflection_ratio_ge_1"),
            models.CheckConstraint(condition=Q(plate_allowable_stress_mpa__gt=0), name="housing_allowable_gt_0"),
            models.CheckConstraint(condition=Q(target_stack_pressure_mpa__gt=0), name="housing_pressure_gt_0"),
            models.CheckConstraint(
                condition=Q(expected_swelling_percent__gte=0) & Q(expected_swelling_percent__lte=100),
                name="housing_swelling_0_100",
            ),
            models.CheckConstraint(
                condition=Q(spring_count=0) | Q(spring_constant_n_per_mm__gt=0), name="housing_springs_have_constant"
            ),
            models.CheckConstraint(
                condition=Q(gasket_material=GasketMaterial.NONE) | Q(gasket_thickness_mm__gt=0),
                name="housing_gasket_has_thickness",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("modules:design", args=[self.pk])

    @property
    def has_springs(self) -> bool:
        return self.spring_count > 0

    @property
    def has_gaskets(self) -> bool:
        return self.gasket_material != GasketMaterial.NONE

    @property
    def compliance(self) -> str:
        """What takes up the stack's swelling: "springs and gaskets", "springs", "gaskets" or "neither"."""
        if self.has_springs and self.has_gaskets:
            return "springs and gaskets"
        if self.has_springs:
            return "springs"
        if self.has_gaskets:
            return "gaskets"
        return "neither"

    @property
    def plate_check(self):
        """The Roark check of the chosen plate at the target pressure (microseconds; no query)."""
        return plate_check(
            pressure_mpa=self.target_stack_pressure_mpa,
            length_mm=self.plate_length_mm,
            width_mm=self.plate_width_mm,
            thickness_mm=self.plate_thickness_mm,
            modulus_gpa=self.plate_modulus_gpa,
            deflection_ratio=self.deflection_ratio,
            allowable_stress_mpa=self.plate_allowable_stress_mpa,
        )


class Module(TracedRecord):
    """A module: cells in a housing, wired in series and parallel, held at a stack pressure.

    Energy, mass, voltage and capacity are derived from the cells when the module is assembled and
    kept here so that lists and filters need no join; the cells of a module never change.
    ``applied_stack_pressure_mpa`` follows the latest applied (set-point) pressure reading.
    """

    housing_design = models.ForeignKey(HousingDesign, on_delete=models.PROTECT, related_name="modules",
                                       verbose_name="housing design")
    series_count = models.PositiveSmallIntegerField("cells in series (S)", validators=[MinValueValidator(1)])
    parallel_count = models.PositiveSmallIntegerField("cells in parallel (P)", validators=[MinValueValidator(1)])
    assembled_on = models.DateField("assembly date")
    system_energy_kwh = models.FloatField("system energy (kWh)")
    cells_mass_kg = models.FloatField("mass of the cells (kg)", null=True, blank=True)
    nominal_voltage_v = models.FloatField("nominal voltage (V)")
    nominal_capacity_ah = models.FloatField("nominal capacity (Ah)")
    applied_stack_pressure_mpa = models.FloatField("applied stack pressure (MPa)",
                                                   validators=positive(MAX_PRESSURE_MPA))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-item__created_at", "-item_id"]
        constraints = [
            models.CheckConstraint(condition=Q(series_count__gte=1) & Q(parallel_count__gte=1),
                                   name="module_arrangement_ge_1"),
            models.CheckConstraint(condition=Q(system_energy_kwh__gt=0), name="module_energy_gt_0"),
            models.CheckConstraint(condition=Q(applied_stack_pressure_mpa__gt=0), name="module_pressure_gt_0"),
        ]

    @property
    def arrangement(self) -> str:
        return f"{self.series_count}S{self.parallel_count}P"

    @property
    def cell_count(self) -> int:
        return self.series_count * self.parallel_count

    @property
    def system_energy_wh(self) -> float:
        return self.system_energy_kwh * 1000.0


class ModuleCell(models.Model):
    """Where a cell sits in its module; the lineage edge cell → module is the record of the use."""

    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="positions", verbose_name="module")
    cell = models.OneToOneField(Cell, on_delete=models.PROTECT, related_name="module_position", verbose_name="cell")
    position = models.PositiveSmallIntegerField("position", validators=[MinValueValidator(1)])
    history = HistoricalRecords()

    class Meta:
        ordering = ["module_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["module", "position"], name="module_cell_unique_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="module_cell_position_ge_1"),
        ]

    def __str__(self) -> str:
        return f"{self.module_id} #{self.position}: {self.cell_id}"


class PressureReading(models.Model):
    """A stack pressure of a module at a moment: the set point applied, or a value measured. Append-only."""

    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="pressure_readings",
                               verbose_name="module")
    kind = models.CharField("kind", max_length=10, choices=PressureReadingKind.choices)
    pressure_mpa = models.FloatField("stack pressure (MPa)", validators=not_negative(MAX_PRESSURE_MPA))
    measured_at = models.DateTimeField("at (date and time)")
    method = models.CharField("method", max_length=120, blank=True,
                              help_text="e.g. torque wrench, load cell, pressure film")
    notes = models.TextField("notes", blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by",
        verbose_name="corrects reading",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="recorded by")
    created_at = models.DateTimeField("recorded at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["measured_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(pressure_mpa__gte=0) & Q(pressure_mpa__lte=MAX_PRESSURE_MPA),
                                   name="pressure_reading_range"),
            models.CheckConstraint(condition=~Q(supersedes=models.F("id")), name="pressure_reading_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pressure_mpa:g} MPa at {self.measured_at:%Y-%m-%d %H:%M}"


def scan_upload_path(instance: PressureScan, filename: str) -> str:
    """A random name with the extension of the detected format: what the uploader called it is kept apart."""
    extension = SCAN_EXTENSIONS.get(instance.image_format, ".bin")
    return f"modules/scans/{uuid.uuid4().hex}{extension}"


class PressureScan(models.Model):
    """A scanned pressure-sensitive film from a module (or a design's test rig), with its calibration."""

    design = models.ForeignKey(HousingDesign, on_delete=models.PROTECT, related_name="scans",
                               verbose_name="housing design")
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="scans", null=True, blank=True,
                               verbose_name="module")
    label = models.CharField("label", max_length=120, help_text="What was pressed, e.g. 'run 1, 5 MPa'")
    image = models.FileField("scan image", upload_to=scan_upload_path, max_length=300)
    image_format = models.CharField("image format", max_length=4, choices=ScanFormat.choices)
    original_filename = models.CharField("uploaded file name", max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField("size (bytes)")
    width_px = models.PositiveIntegerField("width (px)")
    height_px = models.PositiveIntegerField("height (px)")
    calibration = models.JSONField(
        "calibration", help_text="{'low': {intensity, pressure_mpa}, 'high': {…}} or {'table': [...]}; "
        "intensity is colour density 255 − luminance"
    )
    grid_rows = models.PositiveSmallIntegerField("grid rows", default=20,
                                                 validators=[MinValueValidator(3), MaxValueValidator(500)])
    grid_cols = models.PositiveSmallIntegerField("grid columns", default=20,
                                                 validators=[MinValueValidator(3), MaxValueValidator(500)])
    threshold_fraction = models.FloatField("coverage threshold (fraction of the mean)", default=0.1,
                                           validators=[MinValueValidator(0.0), MaxValueValidator(0.99)])
    scanned_on = models.DateField("scanned on")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                            verbose_name="processing job")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="uploaded by")
    created_at = models.DateTimeField("uploaded at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(grid_rows__gte=3) & Q(grid_cols__gte=3), name="scan_grid_ge_3"),
            models.CheckConstraint(condition=Q(threshold_fraction__gte=0) & Q(threshold_fraction__lt=1),
                                   name="scan_threshold_0_1"),
        ]

    def __str__(self) -> str:
        return f"scan {self.pk} ({self.label})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("modules:scan", args=[self.pk])


def heatmap_upload_path(instance: PressureMapResult, filename: str) -> str:
    return f"modules/pressure-maps/{instance.scan_id}-{uuid.uuid4().hex[:8]}.png"


class PressureMapResult(models.Model):
    """The pressure map of a scan (``pressure_map``): uniformity numbers, the grid and its heat map."""

    scan = models.OneToOneField(PressureScan, on_delete=models.CASCADE, primary_key=True, related_name="result",
                                verbose_name="scan")
    mean_mpa = models.FloatField("mean pressure (MPa)")
    std_mpa = models.FloatField("standard deviation (MPa)")
    coefficient_of_variation = models.FloatField("coefficient of variation")
    min_mpa = models.FloatField("minimum (MPa)")
    max_mpa = models.FloatField("maximum (MPa)")
    coverage_fraction = models.FloatField("coverage (fraction of the footprint)")
    centre_to_edge_ratio = models.FloatField("centre-to-edge ratio", null=True, blank=True,
                                             help_text="Empty when the edge carries no pressure (infinite ratio).")
    grid_mpa = models.JSONField("pressure grid (MPa)")
    heatmap_png = models.FileField("heat map (PNG)", upload_to=heatmap_upload_path, max_length=300, blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                            verbose_name="computed by job")
    computed_at = models.DateTimeField("computed at", auto_now=True)
    history = HistoricalRecords(excluded_fields=["grid_mpa"])

    class Meta:
        ordering = ["-computed_at", "-scan_id"]
        constraints = [
            models.CheckConstraint(condition=Q(coverage_fraction__gte=0) & Q(coverage_fraction__lte=1),
                                   name="pressure_map_coverage_0_1"),
        ]

    def __str__(self) -> str:
        return f"pressure map of scan {self.scan_id}"
