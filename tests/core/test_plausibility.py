"""Numbers and dates that no record can have are refused with the field named, by every path that writes:
the technician forms, the imports and the API. One reader (assbtrack.tracing.values) decides for all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assbtrack.imports.models import ImportStatus
from assbtrack.imports.registry import importer_for
from assbtrack.imports.services import import_apply, import_check, import_upload
from assbtrack.instruments.forms import CalibrationForm
from assbtrack.tracing.values import number_value
from cells.forms import DensificationForm, EventForm
from cells.models import CellEvent
from materials.forms import LotForm
from materials.models import MaterialLot
from modules.models import PressureReading
from tests.utils.checks import client_for
from tests.utils.factories_cells import make_cell
from tests.utils.factories_imports import csv_bytes
from tests.utils.factories_modules import make_module

from ..api.helpers import token_client

pytestmark = pytest.mark.django_db
ONES = "1" * 100_000
ARABIC_123 = "\u0661\u0662\u0663"  # ١٢٣


def lot_data(project, **changes) -> dict:
    return {"project": project.pk, "chemical_name": "Lithium sulfide", "role": "precursor", "mass_g": "25",
            **changes}


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("received_on", "1985-06-01", "before 1990-01-01"),
    ("received_on", (timezone.localdate() + timedelta(days=3)).isoformat(), "in the future"),
    ("received_on", ONES, "date"),
    ("mass_g", ARABIC_123, "digits 0-9"),
    ("purity_percent", "\uff19\uff19", "digits 0-9"),  # full-width 99
])
def test_the_lot_form_refuses_implausible_values_beside_the_field(project, tech, field, value, reason):
    form = LotForm(data=lot_data(project, **{field: value}), user=tech)
    assert not form.is_valid()
    assert reason in " ".join(form.errors[field]), form.errors


def test_the_lot_page_refuses_and_creates_nothing(project, tech):
    client = client_for(tech)
    before = MaterialLot.objects.count()
    page = client.post(reverse("materials:lot-new"), lot_data(project, mass_g=ARABIC_123)).content.decode()
    assert "digits 0-9" in page
    assert MaterialLot.objects.count() == before
    assert LotForm(data=lot_data(project, received_on="2024-05-01"), user=tech).is_valid()


def test_a_date_and_time_of_a_hundred_thousand_ones_is_refused(project, tech):
    cell = make_cell(project, tech)
    form = DensificationForm(data={"method": "uniaxial", "pressure_mpa": "300", "temperature_c": "25",
                                   "hold_time_min": "5", "performed_at": ONES}, cell=cell)
    assert not form.is_valid() and "performed_at" in form.errors
    form = DensificationForm(data={"method": "uniaxial", "pressure_mpa": "1e-320", "temperature_c": "25",
                                   "hold_time_min": "5"}, cell=cell)
    assert not form.is_valid() and "pressure_mpa" in form.errors


def test_a_negative_open_circuit_voltage_is_refused_by_form_and_service(project, tech):
    from django.core.exceptions import ValidationError

    from cells.services import cell_event_record

    cell = make_cell(project, tech)
    form = EventForm(data={"kind": "ocv_check", "ocv_v": "-0.4"})
    assert not form.is_valid() and "ocv_v" in form.errors
    form = EventForm(data={"kind": "ocv_check", "ocv_v": ARABIC_123})
    assert not form.is_valid() and "digits 0-9" in " ".join(form.errors["ocv_v"])
    with pytest.raises(ValidationError) as refused:
        cell_event_record(cell=cell, user=tech, kind="ocv_check", ocv_v=-0.4)
    assert "ocv_v" in refused.value.message_dict
    assert not CellEvent.objects.filter(cell=cell).exists()


def test_a_calibration_may_be_due_in_the_future_but_not_done_there():
    today = timezone.localdate()
    ahead = (today + timedelta(days=365)).isoformat()
    assert CalibrationForm(data={"calibrated_on": today.isoformat(), "due_on": ahead}).is_valid()
    form = CalibrationForm(data={"calibrated_on": ahead, "due_on": ahead})
    assert not form.is_valid() and list(form.errors) == ["calibrated_on"]


def test_the_shared_reader_refuses_subnormal_and_other_scripts_numbers():
    from django.core.exceptions import ValidationError

    for value, reason in ((1e-320, "too small"), ("1e-320", "too small"), (ARABIC_123, "digits 0-9"),
                          (10**400, "finite")):
        with pytest.raises(ValidationError) as refused:
            number_value(value, "pressure_mpa")
        assert reason in " ".join(refused.value.message_dict["pressure_mpa"])
    assert number_value("0", "pressure_mpa") == 0.0 and number_value("2.5e-3", "x") == 0.0025


def test_imports_refuse_them_row_by_row_and_write_nothing(project, tech):
    module = make_module(project, tech, cell_count=1)
    readings_before = PressureReading.objects.filter(module=module).count()
    importer = importer_for("pressure_readings")
    header = [importer.header_of(key) for key in ("module", "kind", "pressure_mpa", "measured_at")]
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    rows = [
        [module.item.code, "measured", "1e-320", now],
        [module.item.code, "measured", ARABIC_123, now],
        [module.item.code, "measured", "5", ONES],
        [module.item.code, "measured", "5", "1989-12-31T10:00"],
    ]
    run = import_upload(kind="pressure_readings", project=project, user=tech, file_name="p.csv",
                        content=csv_bytes(header, rows))
    run = import_check(run=run)
    assert run.status == ImportStatus.INVALID
    found = {(p["row"], p["column"]) for p in run.problems}
    pressure, at = importer.header_of("pressure_mpa"), importer.header_of("measured_at")
    assert {(2, pressure), (3, pressure), (4, at), (5, at)} <= found, run.problems
    reasons = " ".join(p["reason"] for p in run.problems)
    assert "too small" in reasons and "digits 0-9" in reasons and "before 1990-01-01" in reasons
    with pytest.raises(Exception):  # noqa: B017 - an invalid run cannot be applied
        import_apply(run=run, user=tech)
    assert PressureReading.objects.filter(module=module).count() == readings_before


def test_the_api_refuses_a_subnormal_model_input_naming_it(sci):
    answer = token_client(sci).post(
        "/api/v1/jobs/", {"kind": "conductivity", "inputs": {"thickness_mm": 1e-320, "diameter_mm": 10,
                                                             "resistance_ohm": 40}}, content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert "thickness_mm" in answer.content.decode() and "too small" in answer.content.decode()
