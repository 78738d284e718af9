"""Technician pages of the cells app: who may use them, the build form with its layer rows, the record
forms, the cell page with the energy breakdown, Figure 1, and fixed query counts on every page."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from assbtrack.access.models import ExportLog
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.tasks import run_job
from cells.choices import JOB_FIGURE1, AnodeType, CellFormat, Connection, Stacking
from cells.models import Cell, CellDensification, CellEvent, CellLayer
from cells.services import (
    cell_densification_record,
    cell_event_record,
    cell_stack_energy_submit,
    cycling_test_create,
    cycling_test_import,
)
from tests.cells.test_cells_cycling import CSV_MAP, csv_bytes
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_cells import make_cell, make_cells, make_layers
from tests.utils.factories_electrodes import make_sheets

pytestmark = pytest.mark.django_db


def layer_post(rows: list[dict], *, total: int | None = None) -> dict:
    data = {
        "layers-TOTAL_FORMS": str(total if total is not None else len(rows)),
        "layers-INITIAL_FORMS": "0",
        "layers-MIN_NUM_FORMS": "0",
        "layers-MAX_NUM_FORMS": "200",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"layers-{index}-{key}"] = value
    return data


def cell_post(project, rows, **overrides) -> dict:
    data = {
        "project": str(project.pk), "cell_format": CellFormat.MULTI_LAYER_POUCH, "stacking": Stacking.Z_FOLD,
        "connection": Connection.PARALLEL, "anode_type": AnodeType.LI_METAL, "length_mm": "300",
        "width_mm": "100", "edge_margin_mm": "1", "operating_stack_pressure_mpa": "5",
        "cathode_collector": "default", "anode_collector": "default",
    }
    data.update(overrides)
    data.update(layer_post(rows))
    return data


def foil_rows(films, tech, count: int) -> list[dict]:
    cathodes = make_sheets(films["cathode"], tech, count=count, area_cm2=10.0)
    separators = make_sheets(films["separator"], tech, count=count, area_cm2=10.0)
    return [
        {"cathode": c.item.code, "separator": s.item.code, "anode_lot": films["foil"].item.code, "anode_mass_g": "0.02"}
        for c, s in zip(cathodes, separators, strict=True)
    ]


# ------------------------------------------------------------------------------------------ access


def test_pages_are_for_lab_staff_only(client, project, tech, partner):
    cell = make_cell(project, tech)
    urls = [
        reverse("cells:list"), reverse("cells:new"), reverse("cells:figure1"),
        reverse("cells:cell", args=[cell.item.code]),
        reverse("cells:densify", args=[cell.item.code]), reverse("cells:cycling-new", args=[cell.item.code]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: to the login page
        assert client_for(partner).get(url).status_code == 403
        assert client_for(tech).get(url).status_code == 200, url
    assert client_for(tech).get(reverse("cells:cell", args=["CELL-999999"])).status_code == 404


# ------------------------------------------------------------------------------------------ build form


def test_build_form_builds_a_cell_layer_by_layer(project, tech, films):
    client = client_for(tech)
    page = client.get(reverse("cells:new"))
    assert b'id="add-layer"' in page.content and b"layer-empty" in page.content  # the add-row button and template
    rows = foil_rows(films, tech, 2)
    assert rows[0]["cathode"].encode() in page.content  # unused sheets offered while typing
    response = client.post(reverse("cells:new"), cell_post(project, rows))
    assert response.status_code == 302, response.content.decode()[:3000]
    cell = Cell.objects.get()
    assert response["Location"] == reverse("cells:cell", args=[cell.item.code])
    assert cell.layer_count == 2 and cell.nominal_capacity_ah == pytest.approx(2 * 0.0384)
    assert list(CellLayer.objects.filter(cell=cell).values_list("cathode__item__code", flat=True)) == [
        rows[0]["cathode"], rows[1]["cathode"],
    ]


def test_build_form_puts_each_refusal_beside_its_layer_field(project, tech, films):
    client = client_for(tech)
    rows = foil_rows(films, tech, 2)
    wrong = make_sheets(films["cathode"], tech, count=1, area_cm2=10.0)[0].item.code
    rows[1]["separator"] = wrong  # a cathode sheet typed as the separator of layer 2
    blank = {"cathode": "", "separator": "", "anode_lot": "", "anode_mass_g": ""}
    data = cell_post(project, [rows[0], blank, rows[1]])  # an empty row between them is skipped
    response = client.post(reverse("cells:new"), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert "is a cathode sheet" in " ".join(formset.forms[2].errors["separator"])
    assert not formset.forms[0].errors
    assert wrong.encode() in response.content  # what was typed is kept
    assert not Cell.objects.exists()


def test_build_form_survives_bad_input(project, tech, films, other_project):
    client = client_for(tech)
    rows = foil_rows(films, tech, 1)
    cases = [
        (cell_post(project, [{**rows[0], "cathode": "SHT-999999"}]), "No sheet SHT-999999"),
        (cell_post(project, rows, length_mm="NaN"), "Enter a number"),
        (cell_post(project, rows, width_mm="1e400"), "Enter a number"),
        (cell_post(project, rows, cell_format="cylinder"), "Select a valid choice"),
        (cell_post(project, [{**rows[0], "anode_mass_g": "-1"}]), "Foil mass must be more than 0 g"),
        ({**cell_post(project, rows), "project": "999999"}, "Select a valid choice"),
        (cell_post(project, []), "Add at least one layer"),
        (cell_post(project, rows), "at least two layers"),
        (cell_post(project, rows, cell_format=CellFormat.PELLET, stacking=Stacking.Z_FOLD),
         "pressed from single sheets"),
    ]
    for data, fragment in cases:
        response = client.post(reverse("cells:new"), data)
        assert response.status_code == 200, fragment
        assert fragment in response.content.decode(), fragment
    assert not Cell.objects.exists()


# ------------------------------------------------------------------------------------------ record forms


def test_densification_event_and_measurement_forms(project, tech):
    cell = make_cell(project, tech)
    client = client_for(tech)
    response = client.post(reverse("cells:densify", args=[cell.item.code]),
                           {"method": "isostatic", "pressure_mpa": "500", "temperature_c": "80",
                            "hold_time_min": "5"})
    assert response.status_code == 302
    assert CellDensification.objects.get(cell=cell).pressure_mpa == 500.0
    response = client.post(reverse("cells:densify", args=[cell.item.code]),
                           {"method": "isostatic", "pressure_mpa": "nan", "temperature_c": "80", "hold_time_min": "5"})
    assert response.status_code == 200 and "Enter a number" in response.content.decode()

    response = client.post(reverse("cells:event", args=[cell.item.code]), {"kind": "ocv_check", "notes": "rest"})
    assert response.status_code == 200 and "needs the voltage" in response.content.decode()
    response = client.post(reverse("cells:event", args=[cell.item.code]), {"kind": "ocv_check", "ocv_v": "3.02"})
    assert response.status_code == 302 and CellEvent.objects.get(cell=cell).ocv_v == 3.02

    response = client.post(reverse("cells:measurements", args=[cell.item.code]),
                           {"mass_g": "1.9", "measured_capacity_ah": "0.036"})
    assert response.status_code == 302
    cell.refresh_from_db()
    assert cell.mass_g == 1.9
    # measured: 0.036 Ah × 3.8 V / 1.9 g = 72 Wh/kg, shown beside the model's figure
    assert cell.measured_specific_energy_wh_per_kg == pytest.approx(72.0)
    assert "measured 72 Wh/kg" in client.get(reverse("cells:cell", args=[cell.item.code])).content.decode()


def test_upload_form_keeps_what_was_typed_and_names_the_bad_column(project, tech):
    cell = make_cell(project, tech)
    response = client_for(tech).post(
        reverse("cells:cycling-new", args=[cell.item.code]),
        {"data_file": ContentFile(csv_bytes(), name="run.csv"), "cycler": "Neware", "temperature_c": "25",
         "column_cycle": "Cycle_Index", "column_voltage_v": "Voltage(V)", "column_current_ma": "Current(mA)",
         "column_time_s": ""},
    )
    assert response.status_code == 200
    assert "is needed together with current_ma" in " ".join(response.context["form"].errors["column_time_s"])
    assert b'value="Neware"' in response.content


# ------------------------------------------------------------------------------------------ cell page, Figure 1


def test_cell_page_shows_the_energy_model_with_its_layer_breakdown(project, tech):
    cell = make_cell(project, tech, energy=None)
    client = client_for(tech)
    response = client.post(reverse("cells:energy", args=[cell.item.code]))
    assert response.status_code == 302
    job = Job.objects.get(kind="cell_stack_energy")
    page = client.get(reverse("cells:cell", args=[cell.item.code])).content.decode()
    assert f'data-job-status="{reverse("jobs:status", args=[job.pk])}"' in page  # progress while it runs
    run_job.apply(args=[job.pk])
    page = client.get(reverse("cells:cell", args=[cell.item.code])).content.decode()
    cell.refresh_from_db()
    assert f"{cell.specific_energy_wh_per_kg:.0f} Wh/kg" in page
    for layer in ("cathode collector", "cathode", "separator", "anode", "anode collector"):
        assert f"<td>{layer}</td>" in page


def test_figure1_page_adds_a_cell_beside_the_presets(project, tech):
    cell = make_cell(project, tech)
    client = client_for(tech)
    response = client.post(reverse("cells:figure1"), {"cells": f"{cell.item.code.lower()}, CELL-999999"})
    assert response.status_code == 200 and "No cell CELL-999999" in response.content.decode()
    response = client.post(reverse("cells:figure1"), {"cells": cell.item.code})
    assert response.status_code == 302
    job = Job.objects.get(kind=JOB_FIGURE1)
    assert response["Location"].endswith(f"?job={job.pk}")
    run_job.apply(args=[job.pk])
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
    page = client.get(response["Location"]).content.decode()
    assert reverse("jobs:file", args=[job.pk, "figure1.png"]) in page
    assert cell.item.code in page and "<td>g</td>" in page


def test_item_page_shows_the_cell_fragment(project, tech):
    cell = make_cell(project, tech, layers=2)
    page = client_for(tech).get(reverse("tracing:item", args=[cell.item.code])).content.decode()
    assert "N/P ratio" in page and reverse("cells:cell", args=[cell.item.code]) in page
    layer = CellLayer.objects.filter(cell=cell).first()
    assert layer.cathode.item.code in page


# ------------------------------------------------------------------------------------------ query counts


def test_cell_list_has_fixed_queries(project, tech, films):
    client = client_for(tech)
    assert_fixed_queries(client, reverse("cells:list"), add_rows=lambda n: make_cells(project, tech, n, films=films))


def test_cell_page_and_item_page_have_fixed_queries(project, tech, films):
    client = client_for(tech)
    made: list[Cell] = []
    total = {"rows": 0}

    def add_rows(n: int) -> None:
        total["rows"] += n
        count = total["rows"]
        layers = make_layers(films, tech, count=count, anode_type=AnodeType.LI_METAL, sheet_area_cm2=1.0,
                             foil_mass_g=0.002)
        from cells.services import cell_build

        cell = cell_build(project=project, user=tech, cell_format=CellFormat.MULTI_LAYER_POUCH,
                          stacking=Stacking.Z_FOLD, connection=Connection.PARALLEL, length_mm=300, width_mm=100,
                          anode_type=AnodeType.LI_METAL, layers=layers)
        for index in range(count):
            cell_densification_record(cell=cell, user=tech, method="uniaxial", pressure_mpa=100 + index,
                                      hold_time_min=1)
            cell_event_record(cell=cell, user=tech, kind="other", notes=f"event {index}")
            cycling_test_create(cell=cell, user=tech, data_file=ContentFile(csv_bytes(), name=f"t{index}.csv"),
                                cycler="Arbin", column_map=CSV_MAP)
        cell_stack_energy_submit(cell=cell, user=tech)
        made.append(cell)

    assert_fixed_queries(client, lambda: reverse("cells:cell", args=[made[-1].item.code]), add_rows=add_rows)
    made.clear()
    total["rows"] = 0
    assert_fixed_queries(client, lambda: reverse("tracing:item", args=[made[-1].item.code]), add_rows=add_rows)


def test_cycling_test_page_has_fixed_queries(project, tech):
    cell = make_cell(project, tech)
    client = client_for(tech)
    tests = []

    def add_rows(n: int) -> None:
        cycles = n + (tests[-1].cycle_count if tests else 0)
        test = cycling_test_create(cell=cell, user=tech, data_file=ContentFile(
            csv_bytes([(1.0, 0.95 - 0.001 * k) for k in range(cycles)]), name="long.csv"),
            cycler="Arbin", column_map=CSV_MAP, submit=False)
        tests.append(cycling_test_import(test=test))

    assert_fixed_queries(client, lambda: tests[-1].get_absolute_url(), add_rows=add_rows)
    assert tests[-1].cycle_count == 30


def test_figure1_page_has_fixed_queries(project, tech, films):
    client = client_for(tech)
    assert_fixed_queries(client, reverse("cells:figure1"), add_rows=lambda n: make_cells(project, tech, n, films=films))


def test_cycles_csv_download_streams_the_table(project, tech):
    cell = make_cell(project, tech)
    test = cycling_test_import(test=cycling_test_create(
        cell=cell, user=tech, data_file=ContentFile(csv_bytes(), name="a.csv"), cycler="Arbin", column_map=CSV_MAP,
        submit=False))
    response = client_for(tech).get(reverse("cells:cycling-csv", args=[test.pk]))
    assert response.status_code == 200 and response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("cycle_number,charge_capacity_mah")
    assert len(lines) == 1 + 4
    last = [float(value) for value in lines[4].split(",")]
    assert last[:3] == [4, pytest.approx(0.85), pytest.approx(0.63)]
    log = ExportLog.objects.get()
    assert (log.user, log.rows, log.completed) == (tech, 4, True)


def test_admin_lists_have_fixed_queries(project, tech, films):
    from django.contrib.auth.models import User

    admin_user = User.objects.create_superuser("cells-admin", "admin@example.org", "admin-pw-123")
    client = client_for(admin_user)
    assert_fixed_queries(client, reverse("admin:cells_cell_changelist"),
                         add_rows=lambda n: make_cells(project, tech, n, films=films))
    cell = Cell.objects.first()
    response = client.get(reverse("admin:cells_cell_change", args=[cell.pk]))
    assert response.status_code == 200 and b"Derived from the layers" in response.content
