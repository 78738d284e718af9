"""Technician forms of the instruments app; every unit is in its label, the services do the checking."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.access.selectors import projects_visible_to
from assbtrack.tracing.forms import LabForm

from .choices import ROOM_KINDS, EquipmentKind
from .models import Equipment
from .selectors import channel_choices, equipment_calibration_state, equipment_choices


def number(label: str, *, required: bool = False, help_text: str = "", **limits) -> forms.FloatField:
    return forms.FloatField(label=label, required=required, help_text=help_text,
                            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}), **limits)


def date_field(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


def datetime_field(label: str, **kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"], **kwargs
    )


class EquipmentChoiceField(forms.ModelChoiceField):
    """Equipment of some kinds for a record's form, each labelled with its calibration state today.

    Out-of-calibration equipment stays selectable: using it is warned about and flagged, never refused.
    """

    def __init__(self, *, kinds: tuple[str, ...], label: str, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(queryset=equipment_choices(*kinds).order_by("name"), label=label, **kwargs)

    def label_from_instance(self, obj: Equipment) -> str:
        state = equipment_calibration_state(obj)
        if state.is_ok:
            return obj.name
        due = f", due {state.due_on:%Y-%m-%d}" if state.due_on else ""
        return f"{obj.name} — {state.label.lower()}{due}"


class ChannelChoiceField(forms.ModelChoiceField):
    """A cycler channel, labelled with its cycler and the cycler's calibration state."""

    def __init__(self, *, label: str, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(queryset=channel_choices().order_by("equipment__name", "label"), label=label, **kwargs)

    def label_from_instance(self, obj) -> str:
        state = equipment_calibration_state(obj.equipment)
        suffix = "" if state.is_ok else f" — {state.label.lower()}"
        return f"{obj.equipment.name} channel {obj.label}{suffix}"


class EquipmentForm(LabForm):
    kind = forms.ChoiceField(label="Kind", choices=EquipmentKind.choices)
    name = forms.CharField(label="Name", max_length=100)
    make_model = forms.CharField(label="Make and model", max_length=120, required=False)
    serial_number = forms.CharField(label="Serial number", max_length=80, required=False)
    location = forms.CharField(label="Location", max_length=120, required=False)
    project = forms.ModelChoiceField(label="Project (empty: shared lab equipment)", queryset=Project.objects.none(),
                                     required=False)
    dew_point_limit_c = number("Dew-point limit (°C)", min_value=-100, max_value=30,
                               help_text="Dry rooms and gloveboxes: empty for −40 °C (dry room) or −70 °C (glovebox).")
    sensor_max_gap_min = number("Largest gap between sensor readings (min)", min_value=0.1, max_value=1440,
                                help_text="Rooms: a longer silence of the sensor counts as no data. Default 30 min.")
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_visible_to(user)


class CalibrationForm(LabForm):
    future_date_fields = ("due_on",)  # the next calibration lies ahead
    calibrated_on = date_field("Calibrated on (date)")
    due_on = date_field("Next calibration due on (date)")
    performed_by = forms.CharField(label="Performed by (person or service lab)", max_length=120, required=False)
    certificate = forms.FileField(label="Certificate (PDF or image)", required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ChannelForm(LabForm):
    label = forms.CharField(label="Channel (as printed on the cycler)", max_length=20)
    notes = forms.CharField(label="Notes", max_length=200, required=False)


def _zone_choices() -> list[tuple[str, str]]:
    zones = sorted(available_timezones())
    return [(zone, zone) for zone in ["UTC", *[z for z in zones if z != "UTC"]]]


class SensorLogForm(LabForm):
    file = forms.FileField(label="Sensor log (CSV: time, dew_point_c, temperature_c, relative_humidity_percent)")
    timezone_name = forms.ChoiceField(label="Time zone of times without an offset", choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone_name"].choices = _zone_choices()
        self.fields["timezone_name"].initial = settings.TIME_ZONE


class RoomChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Equipment) -> str:
        return f"{obj.name} ({obj.get_kind_display().lower()}, limit {obj.dew_point_limit_c:g} °C)"


def rooms():
    return Equipment.objects.filter(kind__in=ROOM_KINDS, retired=False).order_by("name")


class StorageOpenForm(LabForm):
    room = RoomChoiceField(label="Room", queryset=Equipment.objects.none())
    at = datetime_field("Opened at (empty: now)", required=False)
    notes = forms.CharField(label="Notes", max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms()


class StorageCloseForm(LabForm):
    at = datetime_field("Closed at (empty: now)", required=False)


class StorageRecordForm(LabForm):
    room = RoomChoiceField(label="Room", queryset=Equipment.objects.none())
    opened_at = datetime_field("Opened at")
    closed_at = datetime_field("Closed at")
    notes = forms.CharField(label="Notes", max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms()
