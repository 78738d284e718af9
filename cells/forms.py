"""Technician forms of the cells app: every label carries its unit; the services check what spans rows
(layer alignment, used sheets, N/P) and their refusals land beside the field or the layer row they name."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.access.selectors import projects_visible_to
from assbtrack.instruments.choices import PRESS_KINDS, EquipmentKind
from assbtrack.instruments.forms import ChannelChoiceField, EquipmentChoiceField
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.fields import CodeField
from assbtrack.tracing.forms import LabForm
from assbtrack.tracing.plausibility import ConfirmWarningsField

from .choices import AnodeType, CellEventKind, CellFormat, CollectorMaterial, Connection, DensificationMethod, Stacking
from .cycling import CSV_COLUMN_ROLES
from .models import CellDensification

MAX_TEXT = 2000
SHEET = (ItemKind.SHEET,)
DEFAULT_COLLECTOR = "default"


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
        label=label, required=required, min_value=min_value, max_value=max_value, help_text=help_text,
        initial=initial, widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class ProjectField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.code} – {obj.name}"


COLLECTOR_CHOICES = [(DEFAULT_COLLECTOR, "Default (pouch: Al 12 µm / Ni 10 µm; pellet: none)"),
                     *CollectorMaterial.choices]


class CellForm(LabForm):
    project = ProjectField(label="Project", queryset=Project.objects.none())
    cell_format = forms.ChoiceField(label="Format", choices=CellFormat.choices, initial=CellFormat.MULTI_LAYER_POUCH)
    stacking = forms.ChoiceField(label="Stacking method", choices=Stacking.choices, initial=Stacking.Z_FOLD)
    connection = forms.ChoiceField(label="Layer connection", choices=Connection.choices, initial=Connection.PARALLEL)
    anode_type = forms.ChoiceField(label="Anode type", choices=AnodeType.choices, initial=AnodeType.LI_METAL)
    length_mm = number("Footprint length (mm)", min_value=0.001, max_value=5000)
    width_mm = number("Footprint width (mm)", min_value=0.001, max_value=5000)
    edge_margin_mm = number("Edge margin (mm)", min_value=0, max_value=100, initial=1.0,
                            help_text="How far the edges of the sheets of one stack may lie apart.")
    operating_stack_pressure_mpa = number("Operating stack pressure (MPa)", required=False, min_value=0,
                                          max_value=1000)
    cathode_voltage_v = number("Cathode average voltage vs Li/Li⁺ (V)", required=False, min_value=0.001,
                               max_value=10, help_text="Empty: 3.8 V (NCM811).")
    anode_voltage_v = number("Anode average voltage vs Li/Li⁺ (V)", required=False, min_value=0, max_value=10,
                             help_text="Empty: by anode type (Li 0, Li-In 0.62, graphite 0.15, Si 0.4 V).")
    cathode_collector = forms.ChoiceField(label="Cathode current collector", choices=COLLECTOR_CHOICES,
                                          initial=DEFAULT_COLLECTOR)
    cathode_collector_thickness_um = number("Cathode collector thickness (µm)", required=False, min_value=0.001,
                                            max_value=1000)
    anode_collector = forms.ChoiceField(label="Anode current collector", choices=COLLECTOR_CHOICES,
                                        initial=DEFAULT_COLLECTOR)
    anode_collector_thickness_um = number("Anode collector thickness (µm)", required=False, min_value=0.001,
                                          max_value=1000)
    mass_g = number("Cell mass (g)", required=False, min_value=0.000001, max_value=1e7)
    measured_capacity_ah = number("Measured capacity (Ah)", required=False, min_value=0.000001, max_value=1e6)
    notes = forms.CharField(label="Notes", required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 2}))
    confirm_warnings = ConfirmWarningsField()

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        projects = projects_visible_to(user)
        self.fields["project"].queryset = projects
        if len(projects[:2]) == 1:
            self.fields["project"].initial = projects.first()

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        for side in ("cathode", "anode"):
            if data[f"{side}_collector"] == DEFAULT_COLLECTOR:
                data[f"{side}_collector"] = None
        return data


class LayerForm(LabForm):
    cathode = CodeField(kinds=SHEET, label="Cathode sheet (scan or type)", datalist="cathode-sheets")
    separator = CodeField(kinds=SHEET, label="Separator sheet (scan)", datalist="separator-sheets",
                          placeholder="SHT-000002")
    anode = CodeField(kinds=SHEET, label="Anode sheet (scan)", required=False, datalist="anode-sheets")
    anode_lot = CodeField(kinds=(ItemKind.MATERIAL_LOT,), label="Or Li foil lot (scan)", required=False,
                          datalist="foil-lots")
    anode_mass_g = number("Foil mass (g)", required=False, min_value=0.000001, max_value=1e5)


class BaseLayerFormSet(forms.BaseFormSet):
    def filled_forms(self) -> list[tuple[int, LayerForm]]:
        return [(index, form) for index, form in enumerate(self.forms) if form.has_changed() and form.cleaned_data]

    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.filled_forms():
            raise forms.ValidationError("Add at least one layer: a cathode, a separator and an anode.")


LayerFormSet = forms.formset_factory(
    LayerForm, formset=BaseLayerFormSet, extra=2, max_num=200, validate_max=True, absolute_max=200
)


class DensificationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CellDensification) -> str:
        return f"#{obj.pk}: {obj.get_method_display()}, {obj.pressure_mpa:g} MPa, {obj.performed_at:%Y-%m-%d %H:%M}"


class DensificationForm(LabForm):
    method = forms.ChoiceField(label="Method", choices=DensificationMethod.choices)
    pressure_mpa = number("Pressure (MPa)", min_value=0.000001, max_value=1000)
    temperature_c = number("Temperature (°C)", min_value=-273.15, max_value=1000, initial=25.0)
    hold_time_min = number("Hold time (min)", min_value=0, max_value=1e5)
    equipment = EquipmentChoiceField(kinds=(*PRESS_KINDS, EquipmentKind.CALENDER),
                                     label="Press or line-pressing calender (equipment)")
    performed_at = forms.DateTimeField(label="Performed at (date and time)", required=False,
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    notes = forms.CharField(label="Notes", required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 2}))
    supersedes = DensificationChoiceField(
        label="Corrects record", required=False, queryset=CellDensification.objects.none(),
        help_text="Only for a correction: the earlier record is kept and marked as corrected.",
    )
    confirm_warnings = ConfirmWarningsField()

    def __init__(self, *args, cell, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supersedes"].queryset = CellDensification.objects.filter(cell=cell, superseded_by__isnull=True)


class EventForm(LabForm):
    kind = forms.ChoiceField(label="Event", choices=CellEventKind.choices)
    occurred_at = forms.DateTimeField(label="When (date and time)", required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ocv_v = number("Open-circuit voltage (V)", required=False, min_value=0, max_value=1000)
    notes = forms.CharField(label="Notes", required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 2}))


class MeasurementsForm(LabForm):
    mass_g = number("Cell mass (g)", required=False, min_value=0.000001, max_value=1e7)
    measured_capacity_ah = number("Measured capacity (Ah)", required=False, min_value=0.000001, max_value=1e6)
    reason = forms.CharField(label="Reason for the change", required=False, max_length=500)


COLUMN_LABELS = {
    "cycle": "Cycle number column",
    "voltage_v": "Voltage column (V)",
    "current_ma": "Current column (mA, + while charging)",
    "time_s": "Time column (s)",
    "charge_capacity_mah": "Charge capacity column (mAh)",
    "discharge_capacity_mah": "Discharge capacity column (mAh)",
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


UNIT_CHOICES = {
    "current_unit": [("", "as the header says, else mA"), ("mA", "mA"), ("A", "A")],
    "capacity_unit": [("", "as the header says, else mAh"), ("mAh", "mAh"), ("Ah", "Ah")],
    "time_unit": [("", "as the header says, else s"), ("s", "s"), ("min", "min"), ("h", "h")],
}
CYCLER_FORMAT_CHOICES = [("", "from the file's ending"), ("biologic", "BioLogic"), ("arbin", "Arbin"),
                         ("neware", "Neware"), ("maccor", "Maccor"), ("bdf", "Battery Data Format"),
                         ("csv", "plain CSV")]
IMPORT_OPTION_FIELDS = ("current_unit", "capacity_unit", "time_unit", "skip_rows", "formation_cycles",
                        "reference_cycle", "diagnostic_cycles", "units_checked")


class CyclingUploadForm(LabForm):
    data_file = forms.FileField(
        label="Cycler data file",
        help_text="BioLogic .mpr/.mpt, Arbin .res/.xlsx/.csv, Neware .nda/.ndax, Maccor .txt or numbered "
                  "(.001…), BDF (.bdf.csv, .bdf.parquet, .gz) or a CSV.",
    )
    upload_token = forms.CharField(required=False, widget=forms.HiddenInput)
    more_files = MultipleFileField(label="Later files of the same test", required=False,
                                   help_text="A test split over several files (Arbin _01, _02…; Maccor .001, "
                                             ".002…): choose them all; they are joined in name order.")
    cycler_channel = ChannelChoiceField(label="Cycler channel (equipment) *",  # one of it and the cycler
                                        help_text="Required: choose it, or type the cycler and channel below.")
    cycler = forms.CharField(label="Cycler (or choose a channel)", max_length=80, required=False,
                             widget=forms.TextInput(attrs={"list": "cyclers"}))
    channel = forms.CharField(label="Channel", max_length=40, required=False)
    cycler_format = forms.ChoiceField(label="File format", choices=CYCLER_FORMAT_CHOICES, required=False,
                                      help_text="Only when the file's ending does not say (a Maccor export "
                                                "named .dat, say).")
    temperature_c = number("Temperature (°C)", min_value=-273.15, max_value=1000, initial=25.0)
    stack_pressure_mpa = number("Stack pressure (MPa)", required=False, min_value=0, max_value=1000)
    protocol = forms.CharField(label="Protocol", max_length=200, required=False,
                               widget=forms.TextInput(attrs={"placeholder": "CC-CV charge, CC discharge"}))
    c_rate = number("C-rate (1/h)", required=False, min_value=0.000001, max_value=1000)
    voltage_min_v = number("Lower cut-off voltage (V)", required=False, min_value=-10, max_value=100)
    voltage_max_v = number("Upper cut-off voltage (V)", required=False, min_value=-10, max_value=100)
    started_at = forms.DateTimeField(label="Started at (date and time)", required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    current_unit = forms.ChoiceField(label="CSV: current unit", choices=UNIT_CHOICES["current_unit"], required=False)
    capacity_unit = forms.ChoiceField(label="CSV: capacity unit", choices=UNIT_CHOICES["capacity_unit"],
                                      required=False)
    time_unit = forms.ChoiceField(label="CSV: time unit", choices=UNIT_CHOICES["time_unit"], required=False)
    skip_rows = forms.IntegerField(label="CSV: header lines to skip", min_value=0, max_value=10_000, required=False,
                                   help_text="Lines above the column names (a cycler's preamble).")
    formation_cycles = forms.IntegerField(label="Formation cycles", min_value=0, max_value=1000, required=False,
                                          help_text="Complete cycles at the start not used as the retention "
                                                    "reference.")
    reference_cycle = forms.IntegerField(label="Retention reference cycle", min_value=0, required=False,
                                         help_text="Default: the first complete cycle after formation.")
    diagnostic_cycles = forms.CharField(label="Diagnostic cycles", max_length=2000, required=False,
                                        help_text="Cycle numbers left out of retention and end of life, e.g. "
                                                  "1, 50, 100.")
    units_checked = forms.BooleanField(label="Units checked: keep capacities far from the cell's nominal one",
                                       required=False)

    def __init__(self, *args, kept_file_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        for role in CSV_COLUMN_ROLES:
            self.fields[f"column_{role}"] = forms.CharField(
                label=f"CSV: {COLUMN_LABELS[role]}", max_length=200, required=False,
                help_text="Leave empty to recognise it by name (Cycle_Index, Current(A), Current / A…)."
                if role == "cycle" else "",
            )
        if kept_file_name:
            # The file chosen before an error is kept on the server: no need to choose it again.
            self.fields["data_file"].required = False
            self.fields["data_file"].help_text = (f"Kept from your last try: {kept_file_name}. Choose another "
                                                  "file only to replace it.")

    def clean(self):
        cleaned = super().clean()
        if (not cleaned.get("cycler_channel") and not (cleaned.get("cycler") or "").strip()
                and "cycler_channel" not in self.errors):
            self.add_error("cycler_channel", "choose the cycler channel, or type the cycler (and its channel) below")
        return cleaned

    def column_map(self) -> dict[str, str]:
        return {
            role: self.cleaned_data[f"column_{role}"].strip()
            for role in CSV_COLUMN_ROLES
            if self.cleaned_data.get(f"column_{role}", "").strip()
        }

    def import_options(self) -> dict:
        options = {name: self.cleaned_data.get(name) for name in IMPORT_OPTION_FIELDS}
        options["cycler"] = self.cleaned_data.get("cycler_format") or ""
        return options

    def service_arguments(self) -> dict:
        skipped = {"upload_token", "more_files", "cycler_format", *IMPORT_OPTION_FIELDS}
        arguments = {
            key: value for key, value in self.cleaned_data.items()
            if not key.startswith("column_") and key not in skipped
        }
        more = sorted(self.cleaned_data.get("more_files") or [], key=lambda upload: upload.name)
        return arguments | {"column_map": self.column_map(), "import_options": self.import_options(),
                            "more_files": more}


class CyclingRetryForm(forms.Form):
    """Try a failed import again: other units or options, or a replacement file."""

    data_file = forms.FileField(label="Replacement file", required=False,
                                help_text="Leave empty to read the same file again with the options below.")
    current_unit = CyclingUploadForm.base_fields["current_unit"]
    capacity_unit = CyclingUploadForm.base_fields["capacity_unit"]
    time_unit = CyclingUploadForm.base_fields["time_unit"]
    skip_rows = CyclingUploadForm.base_fields["skip_rows"]
    cycler_format = CyclingUploadForm.base_fields["cycler_format"]
    formation_cycles = CyclingUploadForm.base_fields["formation_cycles"]
    reference_cycle = CyclingUploadForm.base_fields["reference_cycle"]
    diagnostic_cycles = CyclingUploadForm.base_fields["diagnostic_cycles"]
    units_checked = CyclingUploadForm.base_fields["units_checked"]

    def import_options(self) -> dict:
        options = {name: self.cleaned_data.get(name) for name in IMPORT_OPTION_FIELDS}
        options["cycler"] = self.cleaned_data.get("cycler_format") or ""
        return options


class PlotCyclesForm(LabForm):
    cycles = forms.CharField(
        label="Cycles for the voltage profiles (numbers, comma-separated)", max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "1, 10, 50, 100", "inputmode": "numeric"}),
    )

    def clean_cycles(self) -> list[int]:
        text = self.cleaned_data["cycles"]
        numbers = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 9:
                raise forms.ValidationError(f"{part!r} is not a cycle number")
            numbers.append(int(part))
        if not numbers:
            raise forms.ValidationError("give at least one cycle number")
        if len(set(numbers)) > 20:
            raise forms.ValidationError("at most 20 cycles")
        return sorted(set(numbers))


class Figure1Form(LabForm):
    cells = CodeField(
        kinds=(ItemKind.CELL,), multiple=True, max_codes=12, label="Cells to add as bars (codes, comma-separated)",
        required=False, datalist="cell-codes", placeholder="CELL-000001, CELL-000004",
    )
