"""Technician forms: a new film with its component rows, a pass, the result, cutting sheets.

Forms only parse what was typed (every unit in its label); the services decide what is allowed.
"""

from __future__ import annotations

from django import forms
from django.forms import formset_factory

from assbtrack.access.models import Project
from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.forms import EquipmentChoiceField
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.fields import CodeField
from assbtrack.tracing.forms import LabForm
from assbtrack.tracing.plausibility import ConfirmWarningsField

from .choices import FILM_KIND_CHOICES, MAX_COMPONENTS, MAX_SHEETS_PER_CUT, FilmProcess, MixerType, PassKind

NUMBER = {"inputmode": "decimal", "step": "any"}


def _number(label: str, *, required: bool = True, help_text: str = "", **attrs) -> forms.FloatField:
    return forms.FloatField(
        label=label, required=required, help_text=help_text, widget=forms.NumberInput(attrs={**NUMBER, **attrs})
    )


class FilmCreateForm(LabForm):
    project = forms.ModelChoiceField(label="Project", queryset=Project.objects.none())
    kind = forms.ChoiceField(label="Film", choices=FILM_KIND_CHOICES)
    process = forms.ChoiceField(label="Process", choices=FilmProcess.choices, initial=FilmProcess.DRY)
    area_cm2 = _number("Film area (cm²)", help_text="The film's area: sheets are cut from it.")
    mixer_type = forms.ChoiceField(
        label="Mixer", choices=[("", "—"), *MixerType.choices], required=False,
        initial=MixerType.PLANETARY_CENTRIFUGAL,
    )
    mixing_speed_rpm = _number("Mixing speed (rpm)", required=False)
    mixing_time_s = _number("Mixing time (s)", required=False)
    batch_size_g = _number("Mixing batch size (g)", required=False)
    notes = forms.CharField(label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        if projects is not None:
            self.fields["project"].queryset = projects
            if projects.count() == 1 and not self.is_bound:
                self.fields["project"].initial = projects.first()


class ComponentRowForm(LabForm):
    source_code = CodeField(
        kinds=(ItemKind.MATERIAL_LOT, ItemKind.SSE_BATCH), label="Lot or batch code", datalist="film-sources",
        placeholder="scan or type", attrs={"class": "source-code"},
    )
    mass_g = _number("Mass (g)", **{"class": "mass", "min": "0"})
    weight_percent = _number(
        "Recipe weight (%)", required=False, help_text="optional; checked against the masses",
        **{"class": "recipe", "min": "0", "max": "100"},
    )

    def clean_mass_g(self) -> float:
        mass = self.cleaned_data["mass_g"]
        if mass <= 0:
            raise forms.ValidationError("must be greater than 0 g")
        return mass


# Four rows to begin with: the first must be filled, the three blank ones may stay empty (more are added
# in the page). Blank rows must not be "initial" forms, which Django requires to be filled.
ComponentFormSet = formset_factory(
    ComponentRowForm, extra=3, min_num=1, validate_min=True, max_num=MAX_COMPONENTS, validate_max=True
)


class PassForm(LabForm):
    kind = forms.ChoiceField(label="Pass", choices=PassKind.choices, initial=PassKind.CALENDER)
    roll_temperature_c = _number("Roll temperature (°C)")
    gap_um = _number("Roll gap (µm)", min="0")
    line_force_n_per_mm = _number("Line force (N/mm)", min="0")
    speed_m_per_min = _number("Roll speed (m/min)", min="0")
    thickness_um = _number("Thickness after the pass (µm)", min="0")
    equipment = EquipmentChoiceField(kinds=(EquipmentKind.CALENDER,), label="Calender (equipment)")
    confirm_warnings = ConfirmWarningsField()


FREE_STANDING_CHOICES = [("yes", "Yes"), ("no", "No")]


class ResultForm(LabForm):
    thickness_um = _number("Final thickness (µm)", min="0", **{"data-derive": "thickness"})
    mass_g = _number("Film mass (g)", min="0", **{"data-derive": "mass"})
    free_standing = forms.ChoiceField(label="Free-standing", choices=FREE_STANDING_CHOICES, widget=forms.RadioSelect)
    film_conductivity_ms_per_cm = _number("Film conductivity (mS/cm)", required=False, min="0")
    confirm_warnings = ConfirmWarningsField()

    def __init__(self, *args, separator: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not separator:
            del self.fields["film_conductivity_ms_per_cm"]

    def clean_free_standing(self) -> bool:
        return self.cleaned_data["free_standing"] == "yes"


class CutSheetsForm(LabForm):
    count = forms.IntegerField(
        label="Sheets (pcs)", min_value=1, max_value=MAX_SHEETS_PER_CUT, initial=4,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    area_cm2 = _number("Area of each sheet (cm²)", min="0")
    positions = forms.CharField(
        label="Positions on the film", required=False, max_length=2000,
        help_text="optional, comma-separated (e.g. r1c1, r1c2); left empty, sheets are placed row by row",
    )

    def clean_positions(self) -> list[str] | None:
        raw = self.cleaned_data["positions"].strip()
        return [part.strip() for part in raw.split(",") if part.strip()] if raw else None


class PorosityPlotForm(LabForm):
    kind = forms.ChoiceField(label="Film", choices=FILM_KIND_CHOICES)
