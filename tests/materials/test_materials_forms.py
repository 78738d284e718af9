"""Technician forms, POSTed through the test client: good input writes and redirects; bad input shows the
error beside the named field, keeps what was typed, and writes nothing."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assbtrack.tracing.choices import ItemStatus
from assbtrack.tracing.models import TracedItem
from materials.models import ConditioningStep, ConductivityMeasurement, DryRoomExposure, MaterialLot, SynthesisBatch
from materials.services import conductivity_spec_set
from tests.utils.checks import client_for
from tests.utils.factories import PASSWORD
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

pytestmark = pytest.mark.django_db


def assert_error_beside(response, field_id: str, text: str = "") -> None:
    """The page is shown again (200) with the error paragraph ``_form.html`` puts right under the field."""
    assert response.status_code == 200
    html = response.content.decode()
    marker = f'id="{field_id}-error"'
    assert marker in html, f"no error beside {field_id}"
    if text:
        start = html.index(marker)
        assert text in html[start:start + 400], html[start:start + 400]


def lot_data(project, **overrides) -> dict:
    data = {
        "project": project.pk, "chemical_name": "Lithium sulfide", "formula": "Li2S", "role": "precursor",
        "mass_g": "125.5", "supplier": "Sulfide Chemicals", "supplier_lot": "SC-2411", "received_on": "2026-01-05",
        "purity_percent": "99.9", "storage_atmosphere": "argon", "density_g_per_cm3": "1.66",
        "specific_capacity_mah_per_g": "", "notes": "",
    }
    data.update(overrides)
    return data


# ----------------------------------------------------------------------------------------------- access


def test_partners_and_anonymous_users_are_refused(client, project, tech, partner):
    batch = make_batch(project, tech)
    urls = ["/materials/lots/new/", "/materials/batches/new/", f"/materials/batches/{batch.item.code}/",
            f"/materials/batches/{batch.item.code}/measurements/new/"]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
        assert client_for(partner).get(url).status_code == 403
    assert client_for(partner).post("/materials/lots/new/", lot_data(project)).status_code == 403
    assert not MaterialLot.objects.filter(supplier_lot="SC-2411").exists()


# ------------------------------------------------------------------------------------------------ lots


def test_new_lot_good_input(project, tech):
    response = client_for(tech).post("/materials/lots/new/", lot_data(project))
    lot = MaterialLot.objects.get(supplier_lot="SC-2411")
    assert response.status_code == 302 and response["Location"] == f"/items/{lot.item.code}/"
    assert lot.item.quantity == Decimal("125.5") and lot.item.project == project
    assert lot.item.created_by == tech and lot.density_g_per_cm3 == 1.66


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mass_g", "nan", "Enter a number"),
        ("mass_g", "1e400", "Enter a number"),
        ("mass_g", "-3", "Mass received must be more than 0 g"),
        ("purity_percent", "140", "Purity must be at most 100 %"),
        ("role", "catalyst", "Select a valid choice"),
        ("chemical_name", "", "required"),
    ],
)
def test_new_lot_bad_input(project, tech, field, value, message):
    response = client_for(tech).post("/materials/lots/new/", lot_data(project, **{field: value}))
    assert_error_beside(response, f"id_{field}", message)
    assert not MaterialLot.objects.exists()
    assert 'value="SC-2411"' in response.content.decode()  # what was typed is still there


def test_new_lot_for_an_unknown_project(project, tech):
    response = client_for(tech).post("/materials/lots/new/", {**lot_data(project), "project": "999999"})
    assert_error_beside(response, "id_project")
    assert not MaterialLot.objects.exists()


# --------------------------------------------------------------------------------------------- batches


def batch_data(project, rows: list[tuple[str, str]], **overrides) -> dict:
    data = {
        "project": project.pk, "composition": "Li6PS5Cl", "sse_class": "sulfide", "route": "mechanochemical",
        "batch_mass_g": "9.5", "mill": "Fritsch P7", "jar_material": "zirconia", "media_material": "zirconia",
        "ball_diameter_mm": "5", "ball_to_powder_ratio": "30", "speed_rpm": "510", "milling_time_h": "1",
        "heat_treatment_temperature_c": "550", "heat_treatment_time_h": "5", "heat_treatment_atmosphere": "argon",
        "environment": "glovebox", "glovebox_o2_ppm": "0.3", "glovebox_h2o_ppm": "0.1", "dew_point_c": "",
        "density_g_per_cm3": "1.86", "notes": "",
        "precursors-TOTAL_FORMS": str(len(rows)), "precursors-INITIAL_FORMS": "0",
        "precursors-MIN_NUM_FORMS": "0", "precursors-MAX_NUM_FORMS": "40",
    }
    for index, (code, mass) in enumerate(rows):
        data[f"precursors-{index}-lot"] = code
        data[f"precursors-{index}-mass_g"] = mass
    data.update(overrides)
    return data


def test_new_batch_good_input_with_any_number_of_rows(project, tech):
    lots = [make_lot(project, tech, mass_g=20) for _ in range(4)]
    rows = [(lots[0].item.code.lower(), "3"), ("", ""), (lots[1].item.code, "3"), (lots[2].item.code, "2"),
            (lots[3].item.code, "2")]  # a blank row in the middle, and a code typed in lower case
    response = client_for(tech).post("/materials/batches/new/", batch_data(project, rows))
    batch = SynthesisBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/materials/batches/{batch.item.code}/"
    assert batch.precursor_mass_g == 10.0 and batch.yield_percent == pytest.approx(95.0)
    assert [TracedItem.objects.get(pk=lot.pk).quantity_used for lot in lots] == [
        Decimal("3"), Decimal("3"), Decimal("2"), Decimal("2"),
    ]


def test_new_batch_overdrawn_lot_error_is_beside_its_row(project, tech):
    plenty, scarce = make_lot(project, tech, mass_g=20), make_lot(project, tech, mass_g=1)
    rows = [(plenty.item.code, "5"), ("", ""), (scarce.item.code, "2")]
    response = client_for(tech).post("/materials/batches/new/", batch_data(project, rows, batch_mass_g="6"))
    assert_error_beside(response, "id_precursors-2-mass_g", "has only 1 g left")
    assert not SynthesisBatch.objects.exists()
    assert TracedItem.objects.get(pk=plenty.pk).quantity_used == 0
    html = response.content.decode()
    assert f'value="{scarce.item.code}"' in html and 'value="Fritsch P7"' in html


def test_new_batch_unknown_and_foreign_lot_codes(project, other_project, tech):
    foreign = make_lot(other_project, tech, mass_g=20)
    rows = [("LOT-999999", "1"), (foreign.item.code, "1")]
    response = client_for(tech).post("/materials/batches/new/", batch_data(project, rows, batch_mass_g="1"))
    assert_error_beside(response, "id_precursors-0-lot", "No lot LOT-999999")
    assert not SynthesisBatch.objects.exists()
    response = client_for(tech).post("/materials/batches/new/",
                                     batch_data(project, rows[1:], batch_mass_g="1"))
    assert_error_beside(response, "id_precursors-0-lot", "belongs to another project")
    assert not SynthesisBatch.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"batch_mass_g": "11"}, "id_batch_mass_g", "more than the 10 g of precursors"),
        ({"milling_time_h": "NaN"}, "id_milling_time_h", "Enter a number"),
        ({"environment": "dry_room"}, "id_dew_point_c", "needs the dew point"),
        ({"heat_treatment_time_h": ""}, "id_heat_treatment_time_h", "time as well"),
        ({"precursors-0-mass_g": "abc"}, "id_precursors-0-mass_g", "Enter a number"),
    ],
)
def test_new_batch_bad_input(project, tech, overrides, field_id, message):
    lot = make_lot(project, tech, mass_g=20)
    response = client_for(tech).post("/materials/batches/new/",
                                     batch_data(project, [(lot.item.code, "10")], **overrides))
    assert_error_beside(response, field_id, message)
    assert not SynthesisBatch.objects.exists()
    assert TracedItem.objects.get(pk=lot.pk).quantity_used == 0


def test_new_batch_without_rows_or_with_a_forged_row_count(project, tech):
    response = client_for(tech).post("/materials/batches/new/", batch_data(project, [("", "")]))
    assert response.status_code == 200 and "Add at least one precursor lot" in response.content.decode()
    forged = batch_data(project, [("", "")], **{"precursors-TOTAL_FORMS": "100000"})
    response = client_for(tech).post("/materials/batches/new/", forged)
    assert response.status_code == 200
    assert not SynthesisBatch.objects.exists()


# ----------------------------------------------------------------------------------------------- steps


def test_add_step_good_and_bad(project, tech):
    batch = make_batch(project, tech, batch_mass_g=9.5)
    url = f"/materials/batches/{batch.item.code}/steps/new/"
    bad = client_for(tech).post(url, {"kind": "sieving", "mass_in_g": "2", "recovered_mass_g": "3",
                                      "mesh_um": "20", "passes": "1"})
    assert_error_beside(bad, "id_recovered_mass_g", "cannot exceed the 2 g put in")
    assert not ConditioningStep.objects.exists()
    missing = client_for(tech).post(url, {"kind": "wet_milling", "recovered_mass_g": "9", "duration_h": "1"})
    assert_error_beside(missing, "id_solvent", "needs the solvent")
    good = client_for(tech).post(url, {"kind": "wet_milling", "recovered_mass_g": "9", "duration_h": "1",
                                       "speed_rpm": "150", "solvent": "toluene", "drying_temperature_c": "80",
                                       "drying_time_h": "12", "d50_um": "1.6"})
    assert good.status_code == 302
    step = ConditioningStep.objects.get()
    assert (step.kind, step.mass_in_g, step.recovered_mass_g, step.solvent) == ("wet_milling", 9.5, 9.0, "toluene")


# ---------------------------------------------------------------------------------------- measurements


def test_add_measurement_good_input_computes_sigma(project, tech):
    batch = make_batch(project, tech)
    impedance = SimpleUploadedFile("pellet1.mpr", b"BIO-LOGIC MODULAR FILE", content_type="application/octet-stream")
    response = client_for(tech).post(f"/materials/batches/{batch.item.code}/measurements/new/", {
        "temperature_c": "25", "thickness_mm": "1.0", "diameter_mm": "10", "area_cm2": "", "resistance_ohm": "40",
        "stack_pressure_mpa": "370", "impedance_file": impedance,
    })
    assert response.status_code == 302
    measurement = ConductivityMeasurement.objects.get()
    assert measurement.conductivity_ms_per_cm == pytest.approx(1.0 / 10 / (40 * math.pi / 4) * 1000)
    assert measurement.impedance_file.name.endswith("pellet1.mpr")


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"resistance_ohm": "0"}, "id_resistance_ohm", "Bulk resistance must be more than 0 Ω"),
        ({"resistance_ohm": "forty"}, "id_resistance_ohm", "Enter a number"),
        ({"thickness_mm": "inf"}, "id_thickness_mm", "Enter a number"),
        ({"diameter_mm": ""}, "id_diameter_mm", "diameter"),
        ({"area_cm2": "0.8"}, "id_area_cm2", "not both"),
        ({"temperature_c": "-400"}, "id_temperature_c", "Temperature must be at least -273.149 °C"),
    ],
)
def test_add_measurement_bad_input(project, tech, overrides, field_id, message):
    batch = make_batch(project, tech)
    data = {"temperature_c": "25", "thickness_mm": "1.0", "diameter_mm": "10", "area_cm2": "",
            "resistance_ohm": "40", "notes": "pellet 7"}
    data.update(overrides)
    response = client_for(tech).post(f"/materials/batches/{batch.item.code}/measurements/new/", data)
    assert_error_beside(response, field_id, message)
    assert not ConductivityMeasurement.objects.exists()
    assert "pellet 7" in response.content.decode()


def test_a_correction_through_the_form(project, tech):
    batch = make_batch(project, tech)
    wrong = make_measurement(batch, tech, conductivity_ms_per_cm=3.0)
    url = f"/materials/batches/{batch.item.code}/measurements/new/"
    data = {"temperature_c": "25", "thickness_mm": "1.0", "diameter_mm": "10", "resistance_ohm": "40",
            "supersedes": str(wrong.pk), "correction_reason": ""}
    assert_error_beside(client_for(tech).post(url, data), "id_correction_reason", "say why")
    data["correction_reason"] = "resistance read from the wrong arc"
    assert client_for(tech).post(url, data).status_code == 302
    wrong.refresh_from_db()
    assert wrong.superseded_by is not None and wrong.superseded_by.resistance_ohm == 40


def test_a_batch_of_another_project_is_found_but_a_measurement_of_it_cannot_be_corrected(project, other_project,
                                                                                          tech):
    mine, theirs = make_batch(project, tech), make_batch(other_project, tech)
    foreign = make_measurement(theirs, tech)
    response = client_for(tech).post(f"/materials/batches/{mine.item.code}/measurements/new/", {
        "temperature_c": "25", "thickness_mm": "1", "diameter_mm": "10", "resistance_ohm": "40",
        "supersedes": str(foreign.pk), "correction_reason": "x"})
    assert_error_beside(response, "id_supersedes", "Select a valid choice")
    assert ConductivityMeasurement.objects.count() == 1


def test_unknown_batch_code_is_404(tech):
    assert client_for(tech).get("/materials/batches/SSE-999999/measurements/new/").status_code == 404


# -------------------------------------------------------------------------------------------- exposure


def test_add_exposure_good_and_bad(project, tech):
    batch = make_batch(project, tech)
    before = make_measurement(batch, tech, conductivity_ms_per_cm=3.0)
    after = make_measurement(batch, tech, conductivity_ms_per_cm=1.5)
    url = f"/materials/batches/{batch.item.code}/exposures/new/"
    data = {"measurement_before": str(before.pk), "measurement_after": str(before.pk), "dew_point_c": "-40",
            "duration_h": "4", "phase_retained": "false", "h2s_observed": "on", "h2s_peak_ppm": "3"}
    assert_error_beside(client_for(tech).post(url, data), "id_measurement_after", "must differ")
    assert_error_beside(client_for(tech).post(url, {**data, "dew_point_c": "35"}), "id_dew_point_c")
    assert not DryRoomExposure.objects.exists()
    xrd = SimpleUploadedFile("after.xy", b"10.0 120\n10.02 118\n")
    response = client_for(tech).post(url, {**data, "measurement_after": str(after.pk), "xrd_file": xrd})
    assert response.status_code == 302
    exposure = DryRoomExposure.objects.get()
    assert exposure.retention_percent == pytest.approx(50.0)
    assert exposure.phase_retained is False and exposure.h2s_observed and exposure.xrd_file.name.endswith("after.xy")


# ------------------------------------------------------------------------------------ release/quarantine


def test_release_form_shows_why_qc_fails(project, tech, sci):
    batch = make_batch(project, tech)
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    make_measurement(batch, tech, conductivity_ms_per_cm=1.2)
    url = f"/materials/batches/{batch.item.code}/status/"
    page = client_for(tech).get(url).content.decode()
    assert "below the specification 2 mS/cm" in page
    response = client_for(sci).post(url, {"action": "release", "reason": "", "password": PASSWORD})
    assert_error_beside(response, "id_action", "below the specification")
    by_technician = client_for(tech).post(url, {"action": "release", "reason": "", "password": PASSWORD})
    assert_error_beside(by_technician, "id_action", "a scientist releases")
    batch.item.refresh_from_db()
    assert batch.item.status == ItemStatus.DRAFT


def test_release_and_quarantine_through_the_form(project, tech, sci):
    batch = make_batch(project, tech)
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    make_measurement(batch, tech, conductivity_ms_per_cm=2.5)
    url = f"/materials/batches/{batch.item.code}/status/"
    # the change is signed with the password: without it, or with a wrong one, nothing changes
    unsigned = client_for(sci).post(url, {"action": "release", "reason": ""})
    assert_error_beside(unsigned, "id_password", "This field is required")
    wrong = client_for(sci).post(url, {"action": "release", "reason": "", "password": "not-it"})
    assert_error_beside(wrong, "id_password", "the password is not correct")
    batch.item.refresh_from_db()
    assert batch.item.status == ItemStatus.DRAFT and not batch.item.status_events.exists()
    assert client_for(sci).post(url, {"action": "release", "reason": "", "password": PASSWORD}).status_code == 302
    batch.item.refresh_from_db()
    assert batch.item.status == ItemStatus.RELEASED
    release = batch.item.status_events.get()
    assert release.user == sci and release.signed
    no_reason = client_for(sci).post(url, {"action": "quarantine", "reason": "  ", "password": PASSWORD})
    assert_error_beside(no_reason, "id_reason", "needs a reason")
    unknown = client_for(sci).post(url, {"action": "destroy", "reason": "x", "password": PASSWORD})
    assert_error_beside(unknown, "id_action", "Select a valid choice")
    batch.item.refresh_from_db()
    assert batch.item.status == ItemStatus.RELEASED
    signed = {"action": "quarantine", "reason": "H2S smell", "password": PASSWORD}
    assert client_for(sci).post(url, signed).status_code == 302
    batch.item.refresh_from_db()
    assert (batch.item.status, batch.item.status_reason) == (ItemStatus.QUARANTINED, "H2S smell")
