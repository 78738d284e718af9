"""Technician forms of the modules app: every unit in its label, every refusal beside its field."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from assbtrack.access.models import Project
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.fields import CodeField
from assbtrack.tracing.forms import LabForm, LabModelForm

from .choices import MAX_CELLS_PER_MODULE, MAX_SCAN_BYTES, PressureReadingKind
from .models import MAX_PRESSURE_MPA, HousingDesign, PressureReading
from .parsing import system_sizes_parse

SCAN_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def date_input() -> forms.DateInput:
    """A date picker; it shows only an ISO value, so today's initial date is not written as 25/11/2026 (en-gb)."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class HousingDesignForm(LabModelForm):
    class Meta:
        model = HousingDesign
        fields = [
            "project", "name", "plate_material", "plate_modulus_gpa", "plate_density_kg_per_m3", "plate_length_mm",
            "plate_width_mm", "plate_thickness_mm", "deflection_ratio", "plate_allowable_stress_mpa",
            "target_stack_pressure_mpa", "expected_swelling_percent", "bolt_count", "bolt_size", "bolt_torque_nm",
            "spring_count", "spring_constant_n_per_mm", "gasket_material", "gasket_shore_a_hardness",
            "gasket_thickness_mm", "notes",
        ]
        labels = {
            "plate_modulus_gpa": "Plate Young's modulus (GPa)",
            "plate_density_kg_per_m3": "Plate density (kg/m³)",
            "plate_length_mm": "Plate span, length (mm)",
            "plate_width_mm": "Plate span, width (mm)",
            "plate_thickness_mm": "Plate thickness chosen (mm)",
            "deflection_ratio": "Deflection tolerance: N in span/N (–)",
            "plate_allowable_stress_mpa": "Plate allowable stress (MPa)",
            "target_stack_pressure_mpa": "Target stack pressure (MPa)",
            "expected_swelling_percent": "Expected swelling along the stack (%)",
            "bolt_count": "Bolts (count)",
            "bolt_size": "Bolt size (metric, e.g. M8)",
            "bolt_torque_nm": "Bolt torque (N·m)",
            "spring_count": "Springs (count)",
            "spring_constant_n_per_mm": "Spring constant (N/mm)",
            "gasket_shore_a_hardness": "Gasket hardness (Shore A)",
            "gasket_thickness_mm": "Gasket thickness (mm)",
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects if projects is not None else Project.objects.all()
        for name in ("plate_length_mm", "plate_width_mm", "plate_thickness_mm", "target_stack_pressure_mpa"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "data-plate": name})

    def _post_clean(self):
        # The service builds and checks the design (model validation and constraints); the form only
        # parses. Skipping ModelForm's instance validation here avoids reporting the same error twice.
        pass


class ModuleAssembleForm(LabForm):
    housing_design = forms.ModelChoiceField(label="Housing design", queryset=HousingDesign.objects.none())
    arrangement = forms.CharField(label="Arrangement (series S × parallel P, e.g. 4S2P)", max_length=20,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "4S2P"}))
    assembled_on = forms.DateField(label="Assembly date", widget=date_input())
    applied_stack_pressure_mpa = forms.FloatField(
        label="Applied stack pressure (MPa)", min_value=0.001, max_value=MAX_PRESSURE_MPA,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    notes = forms.CharField(label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, designs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["housing_design"].queryset = designs if designs is not None else HousingDesign.objects.all()
        self.fields["assembled_on"].initial = timezone.localdate()


class CellCodeForm(LabForm):
    cell_code = CodeField(kinds=(ItemKind.CELL,), label="Cell code (scan)", required=False,
                          attrs={"class": "cell-code"})


CellCodeFormSet = forms.formset_factory(
    CellCodeForm, extra=1, max_num=MAX_CELLS_PER_MODULE, validate_max=True, absolute_max=MAX_CELLS_PER_MODULE
)


class PressureReadingForm(LabForm):
    kind = forms.ChoiceField(label="Kind", choices=PressureReadingKind.choices)
    pressure_mpa = forms.FloatField(label="Stack pressure (MPa)", min_value=0, max_value=MAX_PRESSURE_MPA,
                                    widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    measured_at = forms.DateTimeField(
        label="At (date and time)", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    method = forms.CharField(label="Method (torque wrench, load cell, film…)", required=False, max_length=120)
    supersedes = forms.ModelChoiceField(label="Corrects reading", required=False,
                                        queryset=PressureReading.objects.none())
    notes = forms.CharField(label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, readings=None, **kwargs):
        super().__init__(*args, **kwargs)
        if readings is not None:
            self.fields["supersedes"].queryset = readings
        self.fields["measured_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class PressureScanForm(LabForm):
    design = forms.ModelChoiceField(label="Housing design", queryset=HousingDesign.objects.none(), required=False,
                                    help_text="Or give the module below: its design is used.")
    module_code = CodeField(kinds=(ItemKind.MODULE,), label="Module code (scan; optional)", required=False)
    label = forms.CharField(label="Label (condition pressed)", max_length=120)
    image = forms.FileField(
        label=f"Scan image (PNG, JPEG or TIFF; at most {MAX_SCAN_BYTES // (1024 * 1024)} MB)",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/tiff"}),
    )
    scanned_on = forms.DateField(label="Scanned on", widget=date_input())
    calibration_low_intensity = forms.FloatField(
        label="Low reference: colour density (0–255, 255 − grey level)", min_value=0, max_value=255, initial=0)
    calibration_low_pressure_mpa = forms.FloatField(label="Low reference: pressure (MPa)", min_value=0,
                                                    max_value=MAX_PRESSURE_MPA, initial=0)
    calibration_high_intensity = forms.FloatField(
        label="High reference: colour density (0–255, 255 − grey level)", min_value=0, max_value=255, initial=200)
    calibration_high_pressure_mpa = forms.FloatField(label="High reference: pressure (MPa)", min_value=0,
                                                     max_value=MAX_PRESSURE_MPA, initial=10)
    grid_rows = forms.IntegerField(label="Grid rows (count)", min_value=3, max_value=500, initial=20)
    grid_cols = forms.IntegerField(label="Grid columns (count)", min_value=3, max_value=500, initial=20)
    threshold_fraction = forms.FloatField(label="Coverage threshold (fraction of the mean, 0–0.99)", min_value=0,
                                          max_value=0.99, initial=0.1)

    def __init__(self, *args, designs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["design"].queryset = designs if designs is not None else HousingDesign.objects.all()
        self.fields["scanned_on"].initial = timezone.localdate()

    def clean_image(self):
        upload = self.cleaned_data["image"]
        if Path(upload.name or "").suffix.lower() not in SCAN_SUFFIXES:
            raise ValidationError("Upload a PNG, JPEG or TIFF scan (.png, .jpg, .jpeg, .tif or .tiff).")
        if upload.size > MAX_SCAN_BYTES:
            raise ValidationError(f"The file is {upload.size / 1e6:.1f} MB; at most "
                                  f"{MAX_SCAN_BYTES // (1024 * 1024)} MB is accepted.")
        return upload

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("design") and not (cleaned.get("module_code") or "").strip():
            self.add_error("design", "Choose the housing design, or give the module the film was pressed in.")
        return cleaned


class SystemSizesField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "System sizes (kWh, separated by commas)")
        kwargs.setdefault("initial", "1, 10, 20")
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class ModuleEfficiencyForm(LabForm):
    system_sizes_kwh = SystemSizesField()


class DesignSweepForm(LabForm):
    cell_specific_energy_wh_per_kg = forms.FloatField(label="Cell specific energy (Wh/kg)", min_value=1,
                                                      max_value=5000, initial=400)
    cell_energy_density_wh_per_l = forms.FloatField(label="Cell energy density (Wh/L)", min_value=1,
                                                    max_value=10000, initial=1000)
    cell_length_mm = forms.FloatField(label="Cell length (mm)", min_value=1, max_value=5000, initial=300)
    cell_width_mm = forms.FloatField(label="Cell width (mm)", min_value=1, max_value=5000, initial=100)
    system_sizes_kwh = SystemSizesField()

    def clean_system_sizes_kwh(self) -> list[float] | None:
        try:
            return system_sizes_parse(self.cleaned_data.get("system_sizes_kwh"))
        except ValidationError as error:
            raise ValidationError(error.message_dict["system_sizes_kwh"]) from None
