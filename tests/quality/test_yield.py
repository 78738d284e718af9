"""Yield and scrap per step, by month and project: worked out by hand from records built through the services."""

from __future__ import annotations

import pytest
from django.utils import timezone

from assbtrack.tracing.services import item_reject, item_release
from cells.choices import DensificationMethod
from cells.services import cell_densification_record
from materials.choices import ConditioningKind
from materials.services import step_add
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_cells import make_cells
from tests.utils.factories_electrodes import make_film, make_sheets
from tests.utils.factories_materials import make_batch

pytestmark = pytest.mark.django_db


def build(project, sci, films_project):
    """In ``project``, two batches of 10 g precursors (9.5 g made): one not conditioned (9.5 g out), one milled
    to 9.0 g then sieved to 8.0 g (8.0 g out) → 20 g in, 17.5 g out, 2.5 g scrap, 87.5 %.
    In ``films_project`` (its films and cells make batches of their own): a cathode film of 80 cm² cut into two
    10 cm² sheets; the three Li-metal cells cut one 1 cm² sheet each from their cathode film (80 cm²) and their
    separator film (110 cm²) → 80 + 80 + 110 = 270 cm² in, 20 + 3 + 3 = 26 cm² out, 9.63 %. Cells: one
    released, one rejected, one still draft → 2 decided, 1 released, 50 %."""
    make_batch(project, sci)
    conditioned = make_batch(project, sci)
    step_add(batch=conditioned, user=sci, kind=ConditioningKind.DRY_MILLING, mass_in_g=9.5, recovered_mass_g=9.0,
             speed_rpm=300.0, duration_h=1.0)
    step_add(batch=conditioned, user=sci, kind=ConditioningKind.SIEVING, mass_in_g=9.0, recovered_mass_g=8.0,
             mesh_um=50.0, passes=1)
    cut = make_film(films_project, sci)
    item_release(item=cut.item, user=sci, reason="QC passed")
    make_sheets(cut, sci, count=2, area_cm2=10.0)
    released, rejected, _draft = make_cells(films_project, sci, 3)
    cell_densification_record(cell=released, user=sci, method=DensificationMethod.ISOSTATIC, pressure_mpa=500.0,
                              hold_time_min=5.0)
    item_release(item=released.item, user=sci, reason="formed")
    item_reject(item=rejected.item, user=sci, reason="short circuit")


def by_step(rows, project_code):
    return {row["step"]: row for row in rows if row["project"] == project_code}


def test_yield_by_step_in_the_api_scoped_to_the_partner(project, other_project, sci, partner):
    build(project, sci, other_project)
    month = timezone.now().strftime("%Y-%m")
    rows = client_for(partner).get("/api/v1/yield/").json()["results"]
    assert {row["project"] for row in rows} == {project.code}
    assert {row["step"] for row in rows} == {"batch"}
    assert {row["month"] for row in rows} == {month}
    steps = by_step(rows, project.code)
    batch = steps["batch"]
    assert (batch["amount_in"], batch["amount_out"], batch["unit"]) == (pytest.approx(20.0), pytest.approx(17.5), "g")
    assert batch["scrap"] == pytest.approx(2.5) and batch["yield_percent"] == pytest.approx(87.5)
    steps = by_step(client_for(sci).get("/api/v1/yield/").json()["results"], other_project.code)
    film = steps["film_to_sheet"]
    assert (film["amount_in"], film["amount_out"], film["unit"]) == (270.0, 26.0, "cm²")
    assert film["yield_percent"] == pytest.approx(100 * 26 / 270)
    cells = steps["cell_release"]
    assert (cells["amount_in"], cells["amount_out"], cells["scrap"], cells["unit"]) == (2.0, 1.0, 1.0, "cells")
    only = client_for(sci).get("/api/v1/yield/?step=cell_release").json()["results"]
    assert [row["step"] for row in only] == ["cell_release"]
    assert client_for(partner).get("/api/v1/yield/?step=cell_release").json()["results"] == []
    refused = client_for(partner).get("/api/v1/yield/?step=drying")
    assert refused.status_code == 400 and "step" in refused.json()


def test_yield_page_and_dashboard_panel_show_the_steps(project, other_project, sci):
    build(project, sci, other_project)
    for url in ("/quality/yield/", "/"):
        page = client_for(sci).get(url).content.decode()
        assert "Batch yield after conditioning" in page and "87.5" in page, url
        assert "Film to sheet (usable area)" in page and "9.6" in page, url
        assert "Cells released against rejected" in page and "50.0" in page, url


def test_yield_page_costs_a_fixed_number_of_queries(project, sci):
    def add(n):
        for _ in range(n):
            make_batch(project, sci)

    count = assert_fixed_queries(client_for(sci), "/quality/yield/", add_rows=add, sizes=(1, 4))
    assert count <= 12
