"""Technician forms of the materials app: every label carries its unit; the services do the checking that
spans rows and records (mass left in a lot, QC), and their refusals land beside the field they name."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.access.selectors import projects_visible_to
from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.forms import EquipmentChoiceField
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.fields import CodeField
from assbtrack.tracing.forms import LabForm
from assbtrack.tracing.plausibility import ConfirmWarningsField

from .choices import (
    Atmosphere,
    ConditioningKind,
    MaterialRole,
    MillingMaterial,
    ProcessEnvironment,
    SseClass,
    SynthesisRoute,
)
from .models import ROOM_TEMPERATURE_C, ConductivityMeasurement, SynthesisBatch

MAX_MASS_G = 1e6
MAX_TEXT = 2000


def number(
    label: str,
    *,
    required: bool = True,
    min_value: float | None = None,
    max_value: float | None = None,
    help_text: str = "",
    initial: float | None = None,
) -> forms.FloatField:
    """A decimal input that opens the number pad on a tablet; Django refuses NaN and infinities."""
    return forms.FloatField(
        label=label,
        required=required,
        min_value=min_value,
        max_value=max_value,
        help_text=help_text,
        initial=initial,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


def blank_choices(choices) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


class ProjectField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.code} – {obj.name}"


class ProjectFormMixin:
    def _limit_projects(self, user: User) -> None:
        projects = projects_visible_to(user)
        self.fields["project"].queryset = projects
        if projects.count() == 1:
            self.fields["project"].initial = projects.first()


class LotForm(ProjectFormMixin, LabForm):
    project = ProjectField(label="Project", queryset=Project.objects.none())
    chemical_name = forms.CharField(label="Chemical name", max_length=120)
    formula = forms.CharField(label="Formula", max_length=60, required=False)
    role = forms.ChoiceField(label="Role", choices=MaterialRole.choices, initial=MaterialRole.PRECURSOR)
    mass_g = number("Mass received (g)", min_value=0.000001, max_value=MAX_MASS_G)
    supplier = forms.CharField(label="Supplier", max_length=120, required=False)
    supplier_lot = forms.CharField(label="Supplier lot", max_length=80, required=False)
    received_on = forms.DateField(label="Received on (date)", required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    purity_percent = number("Purity (%)", required=False, min_value=0.000001, max_value=100)
    storage_atmosphere = forms.ChoiceField(
        label="Storage atmosphere", choices=blank_choices(Atmosphere.choices), required=False
    )
    density_g_per_cm3 = number("Density (g/cm³)", required=False, min_value=0.000001, max_value=100)
    specific_capacity_mah_per_g = number(
        "Specific capacity (mAh/g)", required=False, min_value=0, max_value=10_000,
        help_text="Active materials and lithium foil only.",
    )
    notes = forms.CharField(label="Notes", required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_projects(user)


class BatchForm(ProjectFormMixin, LabForm):
    project = ProjectField(label="Project", queryset=Project.objects.none())
    composition = forms.CharField(label="Target composition", max_length=60,
                                  widget=forms.TextInput(attrs={"placeholder": "Li6PS5Cl"}))
    sse_class = forms.ChoiceField(label="SSE class", choices=SseClass.choices)
    route = forms.ChoiceField(label="Synthesis route", choices=SynthesisRoute.choices)
    batch_mass_g = number("Batch mass recovered (g)", min_value=0.000001, max_value=MAX_MASS_G)
    equipment = EquipmentChoiceField(kinds=(EquipmentKind.BALL_MILL,), label="Mill (equipment)")
    mill = forms.CharField(label="Mill (make and model)", max_length=80, required=False,
                           help_text="Filled from the equipment when one is chosen.")
    jar_material = forms.ChoiceField(label="Jar material", choices=blank_choices(MillingMaterial.choices),
                                     required=False)
    media_material = forms.ChoiceField(label="Media material", choices=blank_choices(MillingMaterial.choices),
                                       required=False)
    ball_diameter_mm = number("Ball diameter (mm)", required=False, min_value=0.001, max_value=100)
    ball_to_powder_ratio = number("Ball-to-powder mass ratio (–)", required=False, min_value=0.001,
                                  max_value=1000)
    speed_rpm = number("Milling speed (rpm)", min_value=0, max_value=10_000, initial=0)
    milling_time_h = number("Milling time (h)", min_value=0, max_value=10_000, initial=0)
    heat_treatment_temperature_c = number("Heat treatment temperature (°C)", required=False, min_value=-273.15,
                                          max_value=3000, help_text="Leave empty if not heat-treated.")
    heat_treatment_time_h = number("Heat treatment time (h)", required=False, min_value=0.001, max_value=10_000)
    heat_treatment_atmosphere = forms.ChoiceField(
        label="Heat treatment atmosphere", choices=blank_choices(Atmosphere.choices), required=False
    )
    environment = forms.ChoiceField(label="Environment", choices=ProcessEnvironment.choices,
                                    initial=ProcessEnvironment.GLOVEBOX)
    glovebox_o2_ppm = number("Glovebox O2 (ppm)", required=False, min_value=0, max_value=1_000_000)
    glovebox_h2o_ppm = number("Glovebox H2O (ppm)", required=False, min_value=0, max_value=1_000_000)
    dew_point_c = number("Dry-room dew point (°C)", required=False, min_value=-100, max_value=30)
    density_g_per_cm3 = number("SSE density (g/cm³)", required=False, min_value=0.000001, max_value=100)
    notes = forms.CharField(label="Notes", required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 2}))

    confirm_warnings = ConfirmWarningsField()

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_projects(user)


class PrecursorForm(LabForm):
    lot = CodeField(kinds=(ItemKind.MATERIAL_LOT,), label="Lot code (scan or type)", datalist="lot-codes")
    mass_g = number("Mass used (g)", min_value=0.000001, max_value=MAX_MASS_G)


class BasePrecursorFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        filled = [form for form in self.forms if form.has_changed() and form.cleaned_data]
        if not filled:
            raise forms.ValidationError("Add at least one precursor lot with its mass.")


PrecursorFormSet = forms.formset_factory(
    PrecursorForm, formset=BasePrecursorFormSet, extra=3, max_num=40, validate_max=True, absolute_max=40
)


class StepForm(LabForm):
    kind = forms.ChoiceField(label="Step", choices=ConditioningKind.choices)
    mass_in_g = number("Mass in (g)", required=False, min_value=0.000001, max_value=MAX_MASS_G,
                       help_text="Leave empty to use all that is left of the batch.")
    recovered_mass_g = number("Recovered mass (g)", min_value=0, max_value=MAX_MASS_G)
    speed_rpm = number("Milling speed (rpm)", required=False, min_value=0.001, max_value=10_000)
    duration_h = number("Milling time (h)", required=False, min_value=0.0001, max_value=10_000)
    solvent = forms.CharField(label="Solvent (wet milling)", max_length=40, required=False,
                              widget=forms.TextInput(attrs={"list": "solvents"}))
    solvent_volume_ml = number("Solvent volume (mL)", required=False, min_value=0.001, max_value=100_000)
    drying_temperature_c = number("Drying temperature (°C)", required=False, min_value=-273.15, max_value=1000)
    drying_time_h = number("Drying time (h)", required=False, min_value=0.0001, max_value=10_000)
    mesh_um = number("Sieve mesh (µm)", required=False, min_value=0.001, max_value=100_000)
    passes = forms.IntegerField(label="Sieve passes (count)", required=False, min_value=1, max_value=1000)
    d10_um = number("D10 (µm)", required=False, min_value=0.0001, max_value=100_000)
    d50_um = number("D50 (µm)", required=False, min_value=0.0001, max_value=100_000)
    d90_um = number("D90 (µm)", required=False, min_value=0.0001, max_value=100_000)
    performed_at = forms.DateTimeField(label="Performed at (date and time)", required=False,
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    notes = forms.CharField(label="Notes", required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, batch: SynthesisBatch, **kwargs):
        super().__init__(*args, **kwargs)
        remaining = batch.item.quantity_remaining
        if remaining is not None:
            self.fields["mass_in_g"].help_text = (
                f"Leave empty to use all that is left of the batch ({remaining.normalize():f} g)."
            )


class MeasurementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ConductivityMeasurement) -> str:
        return (f"#{obj.pk}: {obj.conductivity_ms_per_cm:.3g} mS/cm at {obj.temperature_c:g} °C, "
                f"{obj.measured_at:%Y-%m-%d %H:%M}")


class MeasurementForm(LabForm):
    temperature_c = number("Temperature (°C)", min_value=-273.149, max_value=1000, initial=ROOM_TEMPERATURE_C)
    thickness_mm = number("Pellet thickness (mm)", min_value=0.000001, max_value=1000)
    diameter_mm = number("Pellet diameter (mm)", required=False, min_value=0.000001, max_value=10_000,
                         help_text="Or give the area instead.")
    area_cm2 = number("Pellet area (cm²)", required=False, min_value=0.000001, max_value=1_000_000)
    resistance_ohm = number("Bulk resistance (Ω)", min_value=1e-12, max_value=1e15)
    stack_pressure_mpa = number("Stack pressure during measurement (MPa)", required=False, min_value=0,
                                max_value=10_000)
    equipment = EquipmentChoiceField(kinds=(EquipmentKind.IMPEDANCE_ANALYSER,), label="Impedance analyser (equipment)")
    measured_at = forms.DateTimeField(label="Measured at (date and time)", required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    impedance_file = forms.FileField(label="Impedance file (optional)", required=False)
    notes = forms.CharField(label="Notes", required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 2}))
    supersedes = MeasurementChoiceField(
        label="Corrects measurement", required=False, queryset=ConductivityMeasurement.objects.none(),
        help_text="Only for a correction: the earlier measurement is kept and marked as superseded.",
    )
    correction_reason = forms.CharField(label="Why it is corrected", required=False, max_length=MAX_TEXT)

    def __init__(self, *args, batch: SynthesisBatch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supersedes"].queryset = batch.measurements.filter(superseded_by__isnull=True)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("diameter_mm") is not None and cleaned.get("area_cm2") is not None:
            self.add_error("area_cm2", "Give the diameter or the area, not both.")
        elif (cleaned.get("diameter_mm") is None and cleaned.get("area_cm2") is None
              and "diameter_mm" not in self.errors and "area_cm2" not in self.errors):
            self.add_error("diameter_mm", "Give the pellet diameter (mm) or its area (cm²).")
        return cleaned


class ExposureForm(LabForm):
    measurement_before = MeasurementChoiceField(label="Conductivity before (measurement)",
                                                queryset=ConductivityMeasurement.objects.none())
    measurement_after = MeasurementChoiceField(label="Conductivity after (measurement)",
                                               queryset=ConductivityMeasurement.objects.none())
    from_log = forms.BooleanField(
        label="Take the dew point and time from the dry-room log", required=False,
        help_text="From the batch's open/close events between the two measurements and the room's sensor readings.",
    )
    dew_point_c = number("Dew point (°C)", required=False, min_value=-100, max_value=30)
    duration_h = number("Exposure time (h)", required=False, min_value=0, max_value=100_000)
    phase_retained = forms.NullBooleanField(label="Phase retained (XRD)", required=False,
                                            widget=forms.NullBooleanSelect)
    phase_notes = forms.CharField(label="Phase notes", required=False, max_length=MAX_TEXT,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    xrd_file = forms.FileField(label="XRD pattern file (optional)", required=False)
    h2s_observed = forms.BooleanField(label="H2S observed", required=False)
    h2s_peak_ppm = number("H2S peak (ppm)", required=False, min_value=0, max_value=1_000_000)
    exposed_at = forms.DateTimeField(label="Exposure started (date and time)", required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    notes = forms.CharField(label="Notes", required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, batch: SynthesisBatch, **kwargs):
        super().__init__(*args, **kwargs)
        current = batch.measurements.filter(superseded_by__isnull=True).order_by("measured_at", "id")
        self.fields["measurement_before"].queryset = current
        self.fields["measurement_after"].queryset = current
        self.fields["from_log"].initial = batch.item.storage_events.exists()

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("from_log"):
            for field in ("dew_point_c", "duration_h"):
                if cleaned.get(field) is None and field not in self.errors:
                    self.add_error(field, "This field is required (or take it from the dry-room log).")
        return cleaned


class StatusForm(LabForm):
    RELEASE = "release"
    QUARANTINE = "quarantine"
    action = forms.ChoiceField(label="Action", choices=[(RELEASE, "Release"), (QUARANTINE, "Quarantine")],
                               initial="release")
    reason = forms.CharField(label="Reason", required=False, max_length=MAX_TEXT,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required to quarantine, and to release a quarantined batch.")
    password = forms.CharField(
        label="Your password (signs the change)", max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class BatchCorrectForm(LabForm):
    """A batch's recorded facts, prefilled, to correct (``services.batch_correct``); a reason once it is released."""

    composition = BatchForm.base_fields["composition"]
    density_g_per_cm3 = BatchForm.base_fields["density_g_per_cm3"]
    milling_time_h = BatchForm.base_fields["milling_time_h"]
    speed_rpm = BatchForm.base_fields["speed_rpm"]
    ball_diameter_mm = BatchForm.base_fields["ball_diameter_mm"]
    ball_to_powder_ratio = BatchForm.base_fields["ball_to_powder_ratio"]
    heat_treatment_temperature_c = BatchForm.base_fields["heat_treatment_temperature_c"]
    heat_treatment_time_h = BatchForm.base_fields["heat_treatment_time_h"]
    glovebox_o2_ppm = BatchForm.base_fields["glovebox_o2_ppm"]
    glovebox_h2o_ppm = BatchForm.base_fields["glovebox_h2o_ppm"]
    change_reason = forms.CharField(label="Why is it corrected?", required=False, max_length=500,
                                    help_text="Required once the batch is released: the history keeps both versions.")

    def __init__(self, *args, batch: SynthesisBatch, **kwargs):
        initial = {name: getattr(batch, name) for name in self.base_fields if name != "change_reason"}
        super().__init__(*args, initial=initial, **kwargs)
        if batch.item.status != "draft":
            self.fields["change_reason"].required = True
