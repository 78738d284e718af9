"""Numbers and dates that no record can have are refused with the field named, by every path that writes:
the technician forms, the imports and the API. One reader (assbtrack.tracing.values) decides for all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
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


# --- implausible but possible: written only once confirmed, and the confirmation kept on the record ---------


def test_an_np_below_1_on_a_lithium_metal_cell_asks_for_a_confirmation_which_is_kept(project, tech, sci):
    from assbtrack.tracing.models import ConfirmedWarning, TracedItem
    from cells.models import Cell

    # 10 cm² of 3.84 mAh/cm² cathode against 6 mg of lithium foil: N/P well below 1
    cells_before, items_before = Cell.objects.count(), TracedItem.objects.filter(kind="cell").count()
    with pytest.raises(ValidationError) as refused:
        make_cell(project, tech, foil_mass_g=0.006, confirm_warnings=False)
    [message] = refused.value.message_dict["confirm_warnings"]
    assert "below 1 for a lithium-metal anode" in message and "tick the box" in message
    assert (Cell.objects.count(), TracedItem.objects.filter(kind="cell").count()) == (cells_before, items_before)
    assert not ConfirmedWarning.objects.exists()

    cell = make_cell(project, tech, foil_mass_g=0.006, confirm_warnings=True)
    assert cell.np_ratio < 1
    [kept] = cell.item.confirmed_warnings.all()
    assert (kept.code, kept.confirmed_by, kept.field) == ("np_ratio_below_1", tech, "layers")
    assert f"N/P is {cell.np_ratio:.2f}" in kept.message

    page = client_for(tech).get(reverse("cells:cell", args=[cell.item.code])).content.decode()
    assert 'id="confirmed-warnings"' in page and kept.message in page
    assert kept.message in client_for(tech).get(cell.item.get_absolute_url()).content.decode()
    answer = token_client(sci).get(f"/api/v1/items/{cell.item.code}/confirmed-warnings/")
    assert answer.status_code == 200
    assert answer.json() == [{"code": "np_ratio_below_1", "field": "layers", "message": kept.message,
                              "confirmed_by": tech.username, "confirmed_at": answer.json()[0]["confirmed_at"]}]
    admin = client_for(sci).get(f"/admin/tracing/traceditem/{cell.item.pk}/change/")
    assert admin.status_code == 200 and kept.message in admin.content.decode()


def test_a_normal_np_and_an_anode_free_cell_need_no_confirmation(project, tech):
    from cells.choices import AnodeType

    assert not make_cell(project, tech).item.confirmed_warnings.exists()  # N/P about 2
    free = make_cell(project, tech, anode_type=AnodeType.ANODE_FREE)  # N/P 0 by design
    assert free.np_ratio == 0 and not free.item.confirmed_warnings.exists()


def test_a_porous_dense_film_is_confirmed_on_its_page_with_the_box_ticked(project, tech):
    from assbtrack.tracing.models import ConfirmedWarning
    from electrodes.models import Film
    from tests.utils.factories_electrodes import make_film

    film = make_film(project, tech, result=False)  # cathode film, rolled to 82 µm, 1.92 g of components
    client = client_for(tech)
    url = reverse("electrodes:film-result", args=[film.item.code])
    # half the weighed mass at the same thickness: about 55 % porosity
    data = {"thickness_um": "82", "mass_g": "0.96", "free_standing": "yes"}
    page = client.post(url, data).content.decode()
    assert "above 40% for a dense film" in page and "I confirm" in page
    assert 'type="checkbox" name="confirm_warnings"' in page
    film.refresh_from_db()
    assert film.porosity is None and not ConfirmedWarning.objects.exists()  # nothing written

    answer = client.post(url, {**data, "confirm_warnings": "on"})
    assert answer.status_code == 302
    film = Film.objects.get(pk=film.pk)
    assert film.porosity > 0.40
    [kept] = film.item.confirmed_warnings.all()
    assert kept.code == "porosity_above_40_percent" and f"{film.porosity:.1%}" in kept.message
    assert kept.message in client.get(reverse("electrodes:film", args=[film.item.code])).content.decode()


def test_the_box_is_not_shown_when_nothing_is_unusual(project, tech):
    from electrodes.models import Film
    from tests.utils.factories_electrodes import make_film

    film = make_film(project, tech, result=False)
    client = client_for(tech)
    page = client.get(reverse("electrodes:film", args=[film.item.code])).content.decode()
    assert 'type="checkbox" name="confirm_warnings"' not in page and "I confirm" not in page
    answer = client.post(reverse("electrodes:film-result", args=[film.item.code]),
                         {"thickness_um": "82", "mass_g": "1.92", "free_standing": "yes"})
    assert answer.status_code == 302
    film = Film.objects.get(pk=film.pk)
    assert film.porosity < 0.40 and not film.item.confirmed_warnings.exists()


def test_an_overdue_mill_on_the_batch_form_is_confirmed_and_kept(project, tech):
    from assbtrack.instruments.choices import EquipmentKind
    from materials.models import SynthesisBatch
    from tests.utils.factories_instruments import calibrate, make_equipment
    from tests.utils.factories_materials import make_batch

    today = timezone.localdate()
    mill = make_equipment(tech, kind=EquipmentKind.BALL_MILL, name="Mill overdue")
    calibrate(mill, tech, on=today - timedelta(days=400), due=today - timedelta(days=12))
    before = SynthesisBatch.objects.count()
    with pytest.raises(ValidationError) as refused:
        make_batch(project, tech, equipment=mill, confirm_warnings=False)
    [message] = refused.value.message_dict["confirm_warnings"]
    assert "Mill overdue was overdue for calibration" in message and "12 days" in message
    assert SynthesisBatch.objects.count() == before
    batch = make_batch(project, tech, equipment=mill, confirm_warnings=True)
    assert [row.code for row in batch.item.confirmed_warnings.all()] == ["calibration_overdue"]
    page = client_for(tech).get(reverse("materials:batch", args=[batch.item.code])).content.decode()
    assert "Mill overdue was overdue for calibration" in page


def test_an_overdue_press_on_the_densification_form_is_confirmed_with_the_box(project, tech):
    from assbtrack.instruments.choices import EquipmentKind
    from tests.utils.factories_instruments import calibrate, make_equipment

    today = timezone.localdate()
    press = make_equipment(tech, kind=EquipmentKind.PRESS_ISOSTATIC, name="WIP overdue")
    calibrate(press, tech, on=today - timedelta(days=400), due=today - timedelta(days=30))
    cell = make_cell(project, tech)
    client = client_for(tech)
    url = reverse("cells:densify", args=[cell.item.code])
    data = {"method": "isostatic", "pressure_mpa": "300", "temperature_c": "25", "hold_time_min": "5",
            "equipment": press.pk, "performed_at": "", "notes": "", "supersedes": ""}
    page = client.post(url, data).content.decode()
    assert "WIP overdue was overdue for calibration" in page and "30 days" in page
    assert 'type="checkbox" name="confirm_warnings"' in page and "I confirm" in page
    assert not cell.densifications.exists()
    assert client.post(url, {**data, "confirm_warnings": "on"}).status_code == 302
    assert cell.densifications.get().equipment == press
    [kept] = cell.item.confirmed_warnings.all()
    assert "WIP overdue was overdue for calibration" in kept.message and kept.confirmed_by == tech
