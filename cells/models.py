"""Tables of the cells app: cells and their layer stacks, densification, cycling tests and their cycles, events.

The derived numbers on a cell (nominal capacity and voltage, N/P ratio, scale tier) are computed by
``cells.services.cell_build`` from the layers and stored, so lists and the API can filter on them;
the layers keep the sheets they use, and the lineage edges from those sheets are the traceable record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from assbtrack.tracing.models import TracedRecord

from .choices import (
    AnodeType,
    CellEventKind,
    CellFormat,
    CollectorMaterial,
    Connection,
    CyclerReader,
    DensificationMethod,
    ImportStatus,
    ScaleTier,
    Stacking,
)


class Cell(TracedRecord):
    """A pellet or pouch cell (ItemKind.CELL, quantity 1 pcs): its design, derived rating and latest results."""

    cell_format = models.CharField("format", max_length=24, choices=CellFormat.choices)
    stacking = models.CharField("stacking method", max_length=16, choices=Stacking.choices)
    connection = models.CharField("layer connection", max_length=10, choices=Connection.choices)
    length_mm = models.FloatField("footprint length (mm)")
    width_mm = models.FloatField("footprint width (mm)")
    edge_margin_mm = models.FloatField(
        "edge margin (mm)", default=1.0,
        help_text="How far the edges of the sheets of one stack may lie apart.",
    )
    operating_stack_pressure_mpa = models.FloatField("operating stack pressure (MPa)", null=True, blank=True)
    anode_type = models.CharField("anode type", max_length=12, choices=AnodeType.choices)
    cathode_voltage_v = models.FloatField("cathode average voltage vs Li/Li⁺ (V)")
    anode_voltage_v = models.FloatField("anode average voltage vs Li/Li⁺ (V)")
    cathode_collector = models.CharField(
        "cathode current collector", max_length=16, choices=CollectorMaterial.choices, blank=True
    )
    cathode_collector_thickness_um = models.FloatField("cathode collector thickness (µm)", null=True, blank=True)
    anode_collector = models.CharField(
        "anode current collector", max_length=16, choices=CollectorMaterial.choices, blank=True
    )
    anode_collector_thickness_um = models.FloatField("anode collector thickness (µm)", null=True, blank=True)

    # Derived from the layers by the service, stored for lists, filters and the API.
    layer_count = models.PositiveSmallIntegerField("layers")
    np_ratio = models.FloatField("N/P ratio", help_text="Smallest over the layers; 0 for an anode-free cell.")
    nominal_capacity_ah = models.FloatField("nominal capacity (Ah)")
    nominal_voltage_v = models.FloatField("nominal voltage (V)")
    scale_tier = models.CharField("scale tier", max_length=12, choices=ScaleTier.choices)

    # Measured on the finished cell.
    measured_capacity_ah = models.FloatField("measured capacity (Ah)", null=True, blank=True)
    mass_g = models.FloatField("cell mass (g)", null=True, blank=True)

    # From the last cell_stack_energy run (or set from measurements).
    specific_energy_wh_per_kg = models.FloatField("specific energy (Wh/kg)", null=True, blank=True)
    energy_density_wh_per_l = models.FloatField("energy density (Wh/L)", null=True, blank=True)

    # Summary of the most recently imported cycling test.
    first_discharge_capacity_mah = models.FloatField("first discharge capacity (mAh)", null=True, blank=True)
    retention_at_100 = models.FloatField("retention at cycle 100 (fraction)", null=True, blank=True)
    retention_at_last = models.FloatField("retention at the last cycle (fraction)", null=True, blank=True)
    cycle_at_80_percent = models.PositiveIntegerField("cycle at 80 % retention", null=True, blank=True)
    last_cycle = models.PositiveIntegerField("last cycle", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-item"]
        constraints = [
            models.CheckConstraint(condition=Q(length_mm__gt=0) & Q(width_mm__gt=0), name="cell_footprint_gt_0"),
            models.CheckConstraint(condition=Q(edge_margin_mm__gte=0), name="cell_edge_margin_ge_0"),
            models.CheckConstraint(
                condition=Q(operating_stack_pressure_mpa__isnull=True) | Q(operating_stack_pressure_mpa__gte=0),
                name="cell_stack_pressure_ge_0",
            ),
            models.CheckConstraint(condition=Q(cathode_voltage_v__gt=F("anode_voltage_v")), name="cell_voltage_order"),
            models.CheckConstraint(condition=Q(layer_count__gte=1), name="cell_layer_count_ge_1"),
            models.CheckConstraint(condition=Q(np_ratio__gte=0), name="cell_np_ratio_ge_0"),
            models.CheckConstraint(
                condition=Q(nominal_capacity_ah__gt=0) & Q(nominal_voltage_v__gt=0), name="cell_nominal_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(measured_capacity_ah__isnull=True) | Q(measured_capacity_ah__gt=0),
                name="cell_measured_capacity_gt_0",
            ),
            models.CheckConstraint(condition=Q(mass_g__isnull=True) | Q(mass_g__gt=0), name="cell_mass_gt_0"),
            models.CheckConstraint(
                condition=Q(specific_energy_wh_per_kg__isnull=True) | Q(specific_energy_wh_per_kg__gt=0),
                name="cell_specific_energy_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(energy_density_wh_per_l__isnull=True) | Q(energy_density_wh_per_l__gt=0),
                name="cell_energy_density_gt_0",
            ),
            models.CheckConstraint(
                condition=(Q(cathode_collector="") & Q(cathode_collector_thickness_um__isnull=True))
                | (~Q(cathode_collector="") & Q(cathode_collector_thickness_um__gt=0)),
                name="cell_cathode_collector_thickness",
            ),
            models.CheckConstraint(
                condition=(Q(anode_collector="") & Q(anode_collector_thickness_um__isnull=True))
                | (~Q(anode_collector="") & Q(anode_collector_thickness_um__gt=0)),
                name="cell_anode_collector_thickness",
            ),
        ]
        indexes = [
            models.Index(fields=["scale_tier"], name="cell_scale_tier"),
            models.Index(fields=["anode_type"], name="cell_anode_type"),
        ]

    @property
    def energy_wh(self) -> float:
        """Nominal energy: nominal capacity × nominal voltage."""
        return self.nominal_capacity_ah * self.nominal_voltage_v

    @property
    def footprint_cm2(self) -> float:
        return self.length_mm * self.width_mm / 100.0

    @property
    def measured_specific_energy_wh_per_kg(self) -> float | None:
        """Measured capacity × nominal voltage over the weighed cell mass, when both were measured."""
        if self.measured_capacity_ah is None or not self.mass_g:
            return None
        return self.measured_capacity_ah * self.nominal_voltage_v / (self.mass_g / 1000.0)


class CellLayer(models.Model):
    """One repeat unit of a cell's stack, in stacking order: cathode sheet | separator sheet | anode.

    The anode is a sheet, a foil lot (with the mass of foil used), or nothing (anode-free). The unique
    constraints back the service's refusal of a sheet used twice; the lineage edges from the sheets to
    the cell carry the same facts for every trace.
    """

    cell = models.ForeignKey(Cell, on_delete=models.CASCADE, related_name="layers", verbose_name="cell")
    position = models.PositiveSmallIntegerField("position")
    cathode = models.ForeignKey(
        "electrodes.Sheet", on_delete=models.PROTECT, related_name="cathode_layers", verbose_name="cathode sheet"
    )
    separator = models.ForeignKey(
        "electrodes.Sheet", on_delete=models.PROTECT, related_name="separator_layers", verbose_name="separator sheet"
    )
    anode = models.ForeignKey(
        "electrodes.Sheet", on_delete=models.PROTECT, related_name="anode_layers", verbose_name="anode sheet",
        null=True, blank=True,
    )
    anode_lot = models.ForeignKey(
        "materials.MaterialLot", on_delete=models.PROTECT, related_name="anode_layers", verbose_name="anode foil lot",
        null=True, blank=True,
    )
    anode_mass_g = models.FloatField("anode foil mass (g)", null=True, blank=True)
    cathode_capacity_mah = models.FloatField("cathode capacity (mAh)")
    anode_capacity_mah = models.FloatField("anode capacity (mAh)")
    np_ratio = models.FloatField("N/P ratio")
    history = HistoricalRecords()

    class Meta:
        ordering = ["cell", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cell", "position"], name="layer_unique_position"),
            models.UniqueConstraint(fields=["cathode"], name="layer_cathode_used_once"),
            models.UniqueConstraint(fields=["separator"], name="layer_separator_used_once"),
            models.UniqueConstraint(fields=["anode"], name="layer_anode_used_once"),
            models.CheckConstraint(condition=Q(position__gte=1), name="layer_position_ge_1"),
            models.CheckConstraint(condition=Q(anode__isnull=True) | Q(anode_lot__isnull=True), name="layer_one_anode"),
            models.CheckConstraint(
                condition=Q(anode_lot__isnull=True, anode_mass_g__isnull=True)
                | Q(anode_lot__isnull=False, anode_mass_g__gt=0),
                name="layer_foil_has_mass",
            ),
            models.CheckConstraint(condition=Q(cathode_capacity_mah__gt=0), name="layer_cathode_capacity_gt_0"),
            models.CheckConstraint(condition=Q(anode_capacity_mah__gte=0), name="layer_anode_capacity_ge_0"),
            models.CheckConstraint(condition=Q(np_ratio__gte=0), name="layer_np_ratio_ge_0"),
        ]

    def __str__(self) -> str:
        return f"{self.cell_id} layer {self.position}"

    @property
    def anode_label(self) -> str:
        if self.anode_id:
            return self.anode.item.code
        if self.anode_lot_id:
            return f"{self.anode_lot.item.code} ({self.anode_mass_g:g} g)"
        return "none (anode-free)"


class CellDensification(models.Model):
    """One pressing step of a cell (append-only: a correction is a new row that supersedes the old one)."""

    cell = models.ForeignKey(Cell, on_delete=models.PROTECT, related_name="densifications", verbose_name="cell")
    method = models.CharField("method", max_length=16, choices=DensificationMethod.choices)
    pressure_mpa = models.FloatField("pressure (MPa)")
    temperature_c = models.FloatField("temperature (°C)", default=25.0)
    hold_time_min = models.FloatField("hold time (min)")
    equipment = models.ForeignKey(
        "instruments.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="densifications",
        verbose_name="press (equipment)",
    )
    performed_at = models.DateTimeField("performed at", default=timezone.now)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by",
        verbose_name="corrects",
    )
    notes = models.TextField("notes", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("recorded at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["performed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(pressure_mpa__gt=0), name="densification_pressure_gt_0"),
            models.CheckConstraint(
                condition=Q(temperature_c__gte=-273.15) & Q(temperature_c__lte=1000),
                name="densification_temperature_range",
            ),
            models.CheckConstraint(condition=Q(hold_time_min__gte=0), name="densification_hold_ge_0"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} at {self.pressure_mpa:g} MPa"


def cycler_file_path(instance: CyclingTest | CyclingTestFile, filename: str) -> str:
    test = getattr(instance, "test", None) or instance
    return f"cycling/{test.cell.item.code}/{filename}"


class CyclingTest(models.Model):
    """A cycling test of a cell and the cycler file it produced; the per-cycle table is ``cycles``."""

    cell = models.ForeignKey(Cell, on_delete=models.PROTECT, related_name="cycling_tests", verbose_name="cell")
    cycler = models.CharField("cycler", max_length=80)
    channel = models.CharField("channel", max_length=40, blank=True)
    cycler_channel = models.ForeignKey(
        "instruments.CyclerChannel", on_delete=models.PROTECT, null=True, blank=True, related_name="cycling_tests",
        verbose_name="cycler channel (equipment)",
    )
    temperature_c = models.FloatField("temperature (°C)", default=25.0)
    stack_pressure_mpa = models.FloatField("stack pressure (MPa)", null=True, blank=True)
    protocol = models.CharField("protocol", max_length=200, blank=True)
    c_rate = models.FloatField("C-rate (1/h)", null=True, blank=True)
    voltage_min_v = models.FloatField("lower cut-off voltage (V)", null=True, blank=True)
    voltage_max_v = models.FloatField("upper cut-off voltage (V)", null=True, blank=True)
    started_at = models.DateTimeField("started at", null=True, blank=True)
    data_file = models.FileField("cycler data file", upload_to=cycler_file_path, max_length=300)
    file_name = models.CharField("file name", max_length=200)
    reader = models.CharField("reader", max_length=8, choices=CyclerReader.choices)
    column_map = models.JSONField("CSV column mapping", default=dict, blank=True)
    # How the file is read and the cycles counted: units of a plain CSV, header lines to skip, the cycler,
    # formation cycles, the retention reference, diagnostic cycles (see ``cycling_test_create``).
    import_options = models.JSONField("import options", default=dict, blank=True)
    status = models.CharField(
        "import status", max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    error = models.TextField("import error", blank=True)
    import_job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="import job"
    )
    cycle_count = models.PositiveIntegerField("cycles", default=0)
    first_discharge_capacity_mah = models.FloatField("first discharge capacity (mAh)", null=True, blank=True)
    retention_at_100 = models.FloatField("retention at cycle 100 (fraction)", null=True, blank=True)
    retention_at_last = models.FloatField("retention at the last cycle (fraction)", null=True, blank=True)
    cycle_at_80_percent = models.PositiveIntegerField("cycle at 80 % retention", null=True, blank=True)
    last_cycle = models.PositiveIntegerField("last cycle", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("uploaded at", auto_now_add=True)
    imported_at = models.DateTimeField("imported at", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(temperature_c__gte=-273.15) & Q(temperature_c__lte=1000), name="cycling_temperature_range"
            ),
            models.CheckConstraint(
                condition=Q(stack_pressure_mpa__isnull=True) | Q(stack_pressure_mpa__gte=0),
                name="cycling_pressure_ge_0",
            ),
            models.CheckConstraint(condition=Q(c_rate__isnull=True) | Q(c_rate__gt=0), name="cycling_c_rate_gt_0"),
            models.CheckConstraint(
                condition=Q(voltage_min_v__isnull=True) | Q(voltage_max_v__isnull=True)
                | Q(voltage_max_v__gt=F("voltage_min_v")),
                name="cycling_voltage_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cell_id}: {self.file_name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("cells:cycling-test", args=[self.pk])


class CyclingTestFile(models.Model):
    """A further file of a test the cycler split over several (Arbin _01, _02…; Maccor .001, .002…), in order."""

    test = models.ForeignKey(CyclingTest, on_delete=models.CASCADE, related_name="more_files", verbose_name="test")
    position = models.PositiveSmallIntegerField("position")
    data_file = models.FileField("cycler data file", upload_to=cycler_file_path, max_length=300)
    file_name = models.CharField("file name", max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["test", "position"]
        constraints = [models.UniqueConstraint(fields=["test", "position"], name="cycling_file_unique_position")]

    def __str__(self) -> str:
        return f"{self.test_id}: {self.file_name}"


class CycleRecord(models.Model):
    """One cycle of a cycling test (written once by the import, in one bulk insert)."""

    test = models.ForeignKey(CyclingTest, on_delete=models.CASCADE, related_name="cycles", verbose_name="test")
    cycle_number = models.PositiveIntegerField("cycle")
    charge_capacity_mah = models.FloatField("charge capacity (mAh)")
    discharge_capacity_mah = models.FloatField("discharge capacity (mAh)")
    charge_energy_mwh = models.FloatField("charge energy (mWh)")
    discharge_energy_mwh = models.FloatField("discharge energy (mWh)")
    coulombic_efficiency = models.FloatField("coulombic efficiency (fraction)", null=True, blank=True)
    energy_efficiency = models.FloatField("energy efficiency (fraction)", null=True, blank=True)
    retention = models.FloatField("capacity retention (fraction)", null=True, blank=True)
    complete = models.BooleanField("complete cycle", default=True)
    diagnostic = models.BooleanField("diagnostic cycle", default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["test", "cycle_number"]
        constraints = [
            models.UniqueConstraint(fields=["test", "cycle_number"], name="cycle_unique_number"),
            models.CheckConstraint(
                condition=Q(charge_capacity_mah__gte=0) & Q(discharge_capacity_mah__gte=0),
                name="cycle_capacity_ge_0",
            ),
        ]

    def __str__(self) -> str:
        return f"test {self.test_id} cycle {self.cycle_number}"


class RetentionSpec(models.Model):
    """The capacity retention a project's cells must keep at a given cycle: the dashboard's specification line."""

    project = models.OneToOneField(
        "access.Project", on_delete=models.PROTECT, related_name="retention_spec", verbose_name="project"
    )
    at_cycle = models.PositiveIntegerField("at cycle", default=100)
    minimum_percent = models.FloatField("minimum capacity retention (%)")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField("set at", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "retention specification"
        ordering = ["project_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_percent__gt=0) & Q(minimum_percent__lte=100), name="retention_spec_percent_range"
            ),
            models.CheckConstraint(condition=Q(at_cycle__gte=1), name="retention_spec_cycle_ge_1"),
        ]

    def __str__(self) -> str:
        return f"retention ≥ {self.minimum_percent:g} % at cycle {self.at_cycle}"


class CellEvent(models.Model):
    """Something that happened to a cell: an OCV check, a short, its disassembly (append-only)."""

    cell = models.ForeignKey(Cell, on_delete=models.PROTECT, related_name="events", verbose_name="cell")
    kind = models.CharField("event", max_length=12, choices=CellEventKind.choices)
    occurred_at = models.DateTimeField("when", default=timezone.now)
    ocv_v = models.FloatField("open-circuit voltage (V)", null=True, blank=True)
    notes = models.TextField("notes", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("recorded at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ocv_v__isnull=True) | (Q(ocv_v__gte=-10) & Q(ocv_v__lte=1000)), name="event_ocv_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cell_id}: {self.get_kind_display()}"
