"""The cells part of the partner API: fields with units, filters, the nested per-cycle endpoint and its
streamed CSV, partner scoping (404 outside, by every route), and fixed query counts."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from assbtrack.access.models import ExportLog
from cells.choices import AnodeType, Stacking
from cells.services import cycling_test_create, cycling_test_import
from tests.cells.test_cells_cycling import CSV_MAP, csv_bytes
from tests.utils.checks import assert_fixed_queries, assert_partner_scoped, client_for
from tests.utils.factories_cells import make_cell

pytestmark = pytest.mark.django_db

LIST = "/api/v1/cells/"


def imported(cell, user, cycles=None):
    test = cycling_test_create(cell=cell, user=user, data_file=ContentFile(csv_bytes(cycles) if cycles else csv_bytes(),
                                                                            name="run.csv"),
                               cycler="Arbin", column_map=CSV_MAP, submit=False)
    return cycling_test_import(test=test, submit_plots=False)


def test_cell_detail_has_layers_rating_and_cycling_summary(project, tech, partner):
    cell = make_cell(project, tech, layers=2)
    imported(cell, tech)
    data = client_for(partner).get(f"{LIST}{cell.item.code}/").json()
    assert data["code"] == cell.item.code and data["project"] == project.code
    assert data["nominal_capacity_ah"] == pytest.approx(2 * 0.0384)
    assert data["nominal_energy_wh"] == pytest.approx(2 * 0.0384 * 3.8)
    assert data["scale_tier"] == "laboratory" and data["layer_count"] == 2
    assert [layer["position"] for layer in data["layers"]] == [1, 2]
    assert data["layers"][0]["cathode_areal_capacity_mah_per_cm2"] == pytest.approx(3.84)
    assert data["retention_at_last"] == pytest.approx(0.7) and data["cycle_at_80_percent"] == 4
    assert data["cycling_tests"][0]["cycle_count"] == 4
    assert (data["specific_energy_wh_per_kg"], data["energy_density_wh_per_l"]) == (400.0, 1000.0)


def test_cycles_endpoint_and_csv(project, tech, partner):
    cell = make_cell(project, tech)
    test = imported(cell, tech)
    client = client_for(partner)
    rows = client.get(f"{LIST}{cell.item.code}/cycles/").json()["results"]
    assert [row["cycle_number"] for row in rows] == [1, 2, 3, 4]
    assert rows[3]["discharge_capacity_mah"] == pytest.approx(0.63)
    assert rows[0]["coulombic_efficiency"] == pytest.approx(0.9)
    assert rows[0]["test"] == test.pk
    limited = client.get(f"{LIST}{cell.item.code}/cycles/?cycle_number_min=3").json()["results"]
    assert [row["cycle_number"] for row in limited] == [3, 4]

    response = client.get(f"{LIST}{cell.item.code}/cycles/csv/")
    assert response.status_code == 200 and response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].split(",")[:3] == ["test", "cycle_number", "charge_capacity_mah"]
    assert len(lines) == 5
    log = ExportLog.objects.get()
    assert log.user == partner and log.rows == 4 and log.completed


def test_partner_sees_only_shared_cells_by_every_route(project, other_project, tech, partner):
    mine = make_cell(project, tech)
    theirs = make_cell(other_project, tech)
    imported(theirs, tech)
    client = client_for(partner)
    assert_partner_scoped(
        client, list_url=LIST, visible_codes=[mine.item.code], hidden_codes=[theirs.item.code],
        detail_urls_outside=[f"{LIST}{theirs.item.code}/", f"{LIST}{theirs.item.code}/cycles/",
                             f"{LIST}{theirs.item.code}/cycles/csv/"],
    )
    assert not ExportLog.objects.exists()


def test_filters_on_tier_anode_stacking_pressure_and_retention(project, tech):
    lab = make_cell(project, tech, layers=1, operating_stack_pressure_mpa=2.0)
    pilot = make_cell(project, tech, layers=3, operating_stack_pressure_mpa=20.0)
    graphite = make_cell(project, tech, layers=1, anode_type=AnodeType.GRAPHITE)
    imported(lab, tech)  # retention 0.7 at the last cycle
    imported(pilot, tech, cycles=[(1.0, 0.9), (0.95, 0.89)])  # retention 0.989
    client = client_for(tech)

    def codes(query: str) -> set[str]:
        response = client.get(f"{LIST}?{query}")
        assert response.status_code == 200, response.content
        return {row["code"] for row in response.json()["results"]}

    assert codes("tier=pilot") == {pilot.item.code}
    assert codes("anode_type=graphite") == {graphite.item.code}
    assert codes(f"stacking={Stacking.Z_FOLD}") == {pilot.item.code}
    assert codes("operating_stack_pressure_mpa_min=10") == {pilot.item.code}
    assert codes("operating_stack_pressure_mpa_max=5") == {lab.item.code, graphite.item.code}
    assert codes("retention_at_last_max=0.8") == {lab.item.code}
    assert codes("retention_at_last_min=0.9") == {pilot.item.code}
    assert client.get(f"{LIST}?tier=galactic").status_code == 400


def test_cycles_endpoint_has_fixed_queries(project, tech, partner):
    cell = make_cell(project, tech)
    client = client_for(partner)
    counts = {"cycles": 0}

    def add_rows(n: int) -> None:
        counts["cycles"] += n
        imported(cell, tech, cycles=[(1.0, 0.9)] * n)

    assert_fixed_queries(client, f"{LIST}{cell.item.code}/cycles/", add_rows=add_rows)


def test_cell_detail_has_fixed_queries_whatever_the_layers(project, tech, partner, films):
    client = client_for(partner)
    made = []
    total = {"layers": 0}

    def add_rows(n: int) -> None:
        total["layers"] += n
        cell = make_cell(project, tech, layers=total["layers"], films=films, sheet_area_cm2=1.0, foil_mass_g=0.002)
        imported(cell, tech)
        made.append(cell)

    assert_fixed_queries(client, lambda: f"{LIST}{made[-1].item.code}/", add_rows=add_rows)
