"""Tables of the electrodes app: films (cathode, anode, separator), their components and passes, and sheets.

A film's traced item counts its AREA (cm²): cutting a sheet draws the sheet's area from the film, so
the core's mass balance also refuses cutting more film than there is. The derived metrics are stored
on the film by ``film_result_record`` (from the pure functions in ``electrodes.films``) so lists and
filters can use them; they are null until the result is recorded.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from assbtrack.tracing.choices import LineageRole
from assbtrack.tracing.models import TracedItem, TracedRecord

from .choices import FilmProcess, MixerType, PassKind


def _positive_or_null(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gt": 0}) | Q(**{f"{field}__isnull": True}), name=name)


class Film(TracedRecord):
    """One cathode composite, anode composite or SSE separator film; ``item.kind`` says which."""

    process = models.CharField("process", max_length=10, choices=FilmProcess.choices, default=FilmProcess.DRY)
    mixer_type = models.CharField("mixer type", max_length=24, choices=MixerType.choices, blank=True)
    mixing_speed_rpm = models.FloatField("mixing speed (rpm)", null=True, blank=True)
    mixing_time_s = models.FloatField("mixing time (s)", null=True, blank=True)
    batch_size_g = models.FloatField("mixing batch size (g)", null=True, blank=True)
    area_cm2 = models.FloatField("area (cm²)")

    # The result, recorded once the film is rolled (null before).
    thickness_um = models.FloatField("final thickness (µm)", null=True, blank=True)
    mass_g = models.FloatField("film mass (g)", null=True, blank=True)
    free_standing = models.BooleanField("free-standing", null=True, blank=True)
    film_conductivity_ms_per_cm = models.FloatField("film conductivity (mS/cm)", null=True, blank=True)
    result_recorded_at = models.DateTimeField("result recorded at", null=True, blank=True)
    result_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="result recorded by",
    )

    # Derived by the service from the components and the result (never typed in).
    areal_loading_mg_per_cm2 = models.FloatField("areal loading (mg/cm²)", null=True, blank=True)
    areal_capacity_mah_per_cm2 = models.FloatField("areal capacity (mAh/cm²)", null=True, blank=True)
    density_g_per_cm3 = models.FloatField("density (g/cm³)", null=True, blank=True)
    theoretical_density_g_per_cm3 = models.FloatField("theoretical density (g/cm³)", null=True, blank=True)
    porosity = models.FloatField("porosity (fraction 0–1)", null=True, blank=True)
    binder_fraction = models.FloatField("binder weight fraction (0–1)", null=True, blank=True)
    active_weight_fraction = models.FloatField("active material weight fraction (0–1)", null=True, blank=True)
    batch_conductivity_ms_per_cm = models.FloatField(
        "pristine SSE batch conductivity (mS/cm)", null=True, blank=True
    )
    conductivity_retention = models.FloatField("conductivity retention (fraction σ_film/σ_batch)", null=True,
                                               blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-item_id"]
        constraints = [
            models.CheckConstraint(condition=Q(area_cm2__gt=0), name="film_area_gt_0"),
            _positive_or_null("thickness_um", "film_thickness_gt_0"),
            _positive_or_null("mass_g", "film_mass_gt_0"),
            _positive_or_null("mixing_speed_rpm", "film_mixing_speed_gt_0"),
            _positive_or_null("mixing_time_s", "film_mixing_time_gt_0"),
            _positive_or_null("batch_size_g", "film_batch_size_gt_0"),
            models.CheckConstraint(
                condition=Q(film_conductivity_ms_per_cm__gte=0) | Q(film_conductivity_ms_per_cm__isnull=True),
                name="film_conductivity_ge_0",
            ),
            models.CheckConstraint(
                condition=Q(binder_fraction__gte=0, binder_fraction__lte=1) | Q(binder_fraction__isnull=True),
                name="film_binder_fraction_0_1",
            ),
            models.CheckConstraint(
                condition=Q(active_weight_fraction__gte=0, active_weight_fraction__lte=1)
                | Q(active_weight_fraction__isnull=True),
                name="film_active_fraction_0_1",
            ),
            # The result comes whole: thickness and mass together, or neither.
            models.CheckConstraint(
                condition=Q(thickness_um__isnull=True, mass_g__isnull=True)
                | Q(thickness_um__isnull=False, mass_g__isnull=False),
                name="film_result_whole",
            ),
        ]

    @property
    def kind(self) -> str:
        return self.item.kind

    @property
    def has_result(self) -> bool:
        return self.thickness_um is not None

    @property
    def porosity_percent(self) -> float | None:
        return None if self.porosity is None else self.porosity * 100.0

    @property
    def binder_percent(self) -> float | None:
        return None if self.binder_fraction is None else self.binder_fraction * 100.0

    @property
    def conductivity_retention_percent(self) -> float | None:
        return None if self.conductivity_retention is None else self.conductivity_retention * 100.0


class FilmComponent(models.Model):
    """What went into a film and how much: the film's side of a lineage edge from a lot or SSE batch.

    Density and specific capacity are copied from the lot or batch when the film is made, so the
    film's metrics stay what they were even if the lot's record is corrected later.
    """

    film = models.ForeignKey(Film, on_delete=models.PROTECT, related_name="components", verbose_name="film")
    source = models.ForeignKey(
        TracedItem, on_delete=models.PROTECT, related_name="film_components", verbose_name="lot or batch"
    )
    position = models.PositiveSmallIntegerField("row")
    role = models.CharField("role", max_length=24, choices=LineageRole.choices)
    name = models.CharField("name", max_length=200)
    mass_g = models.FloatField("mass (g)")
    weight_fraction = models.FloatField("weight fraction (0–1)")
    density_g_per_cm3 = models.FloatField("density (g/cm³)")
    specific_capacity_mah_per_g = models.FloatField("specific capacity (mAh/g)", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["film", "position"]
        constraints = [
            models.UniqueConstraint(fields=["film", "position"], name="film_component_unique_row"),
            models.UniqueConstraint(fields=["film", "source"], name="film_component_unique_source"),
            models.CheckConstraint(condition=Q(mass_g__gt=0), name="film_component_mass_gt_0"),
            models.CheckConstraint(
                condition=Q(weight_fraction__gt=0, weight_fraction__lte=1), name="film_component_fraction_0_1"
            ),
            models.CheckConstraint(condition=Q(density_g_per_cm3__gt=0), name="film_component_density_gt_0"),
            _positive_or_null("specific_capacity_mah_per_g", "film_component_capacity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.mass_g:g} g)"

    @property
    def weight_percent(self) -> float:
        return self.weight_fraction * 100.0

    @property
    def is_active(self) -> bool:
        return self.role == LineageRole.ACTIVE_MATERIAL

    @property
    def is_binder(self) -> bool:
        return self.role == LineageRole.BINDER


class CalenderingPass(models.Model):
    """One shearing or calendering pass, numbered in order; append-only (a film is rolled once)."""

    film = models.ForeignKey(Film, on_delete=models.PROTECT, related_name="passes", verbose_name="film")
    pass_number = models.PositiveSmallIntegerField("pass (no.)")
    kind = models.CharField("kind of pass", max_length=10, choices=PassKind.choices, default=PassKind.CALENDER)
    roll_temperature_c = models.FloatField("roll temperature (°C)")
    gap_um = models.FloatField("roll gap (µm)")
    line_force_n_per_mm = models.FloatField("line force (N/mm)")
    speed_m_per_min = models.FloatField("roll speed (m/min)")
    thickness_um = models.FloatField("thickness after the pass (µm)")
    equipment = models.ForeignKey(
        "instruments.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="calendering_passes",
        verbose_name="calender (equipment)",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("recorded at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["film", "pass_number"]
        verbose_name_plural = "calendering passes"
        constraints = [
            models.UniqueConstraint(fields=["film", "pass_number"], name="calendering_pass_unique_number"),
            models.CheckConstraint(condition=Q(pass_number__gte=1), name="calendering_pass_number_ge_1"),
            models.CheckConstraint(condition=Q(thickness_um__gt=0), name="calendering_pass_thickness_gt_0"),
            models.CheckConstraint(condition=Q(gap_um__gte=0), name="calendering_pass_gap_ge_0"),
            models.CheckConstraint(condition=Q(line_force_n_per_mm__gte=0), name="calendering_pass_force_ge_0"),
            models.CheckConstraint(condition=Q(speed_m_per_min__gt=0), name="calendering_pass_speed_gt_0"),
            models.CheckConstraint(
                condition=Q(roll_temperature_c__gte=-80, roll_temperature_c__lte=400),
                name="calendering_pass_temperature_range",
            ),
        ]

    def __str__(self) -> str:
        return f"pass {self.pass_number}: {self.thickness_um:g} µm"


class Sheet(TracedRecord):
    """A piece cut from a film (kind SHEET, quantity 1 pcs), so a layer in a cell traces to the exact sheet.

    Its loading, capacity, thickness and porosity are the film's: a sheet is the film, cut.
    """

    film = models.ForeignKey(Film, on_delete=models.PROTECT, related_name="sheets", verbose_name="film")
    position = models.CharField("position on the film", max_length=20, help_text="row and column, e.g. r1c2")
    area_cm2 = models.FloatField("area (cm²)")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-item_id"]
        constraints = [
            models.UniqueConstraint(fields=["film", "position"], name="sheet_unique_position"),
            models.CheckConstraint(condition=Q(area_cm2__gt=0), name="sheet_area_gt_0"),
        ]

    @property
    def areal_capacity_mah_per_cm2(self) -> float | None:
        return self.film.areal_capacity_mah_per_cm2

    @property
    def areal_loading_mg_per_cm2(self) -> float | None:
        return self.film.areal_loading_mg_per_cm2

    @property
    def thickness_um(self) -> float | None:
        return self.film.thickness_um

    @property
    def porosity(self) -> float | None:
        return self.film.porosity

    @property
    def capacity_mah(self) -> float | None:
        capacity = self.film.areal_capacity_mah_per_cm2
        return None if capacity is None else capacity * self.area_cm2

    @property
    def mass_g(self) -> float | None:
        loading = self.film.areal_loading_mg_per_cm2
        return None if loading is None else loading * self.area_cm2 / 1000.0
