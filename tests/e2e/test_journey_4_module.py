"""Journey 4: a technician assembles a module, uploads a pressure-film scan and sees its heat map, then runs the
cell-to-module model and sees the module's own point on the Figure 5d–f curves. Through the pages only, at
tablet width, from the demo data, with the real worker; the database is only read to check what was stored.

Every demo cell is already in the demo module, so the technician first builds two small lithium-foil pouch
cells from sheets cut off the demo's released films and has their energy computed on the worker (the
cell-to-module model needs each cell's Wh/kg and Wh/L). A demo cell is then the bad input: it is in a module.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image

from assbtrack.jobs.models import Job, JobStatus
from assbtrack.tracing.choices import LineageRole
from assbtrack.tracing.models import LineageEdge, TracedItem
from cells.models import Cell
from modules.choices import JOB_MODULE_EFFICIENCY
from modules.models import Module, ModuleCell, PressureScan
from tests.e2e.steps import TECHNICIAN, WORKER_TIMEOUT_MS, cut_sheets, expect_png

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.worker]

DESIGN = "Steel end plates, springs and gaskets"
# The film: colour density 80 on the left half and 120 on the right; with the form's default calibration
# (density 0 → 0 MPa, 200 → 10 MPa) that is 4 and 6 MPa, so a 20 × 20 grid has mean 5 MPa and std 1 MPa.
SCAN_HEIGHT_PX, SCAN_WIDTH_PX = 200, 300
LEFT_DENSITY, RIGHT_DENSITY = 80, 120


def film_scan_png(path) -> None:
    density = np.full((SCAN_HEIGHT_PX, SCAN_WIDTH_PX), LEFT_DENSITY, dtype=np.uint8)
    density[:, SCAN_WIDTH_PX // 2:] = RIGHT_DENSITY
    Image.fromarray(255 - density).save(path, format="PNG")  # the scanner's grey level is 255 − density


def build_foil_cell(tab, *, project_pk: int, cathode: str, separator: str) -> str:
    """A single-layer pouch of a 4 cm² cathode sheet and a lithium foil lot (N/P about 2), built on /cells/new/."""
    page = tab.go("/cells/new/")
    foil_lot = page.locator("#foil-lots option").first.get_attribute("value")
    page.select_option("#id_project", str(project_pk))
    page.select_option("#id_cell_format", "single_layer_pouch")
    page.select_option("#id_stacking", "single_sheet")
    page.select_option("#id_anode_type", "li_metal")
    page.fill("#id_length_mm", "40")
    page.fill("#id_width_mm", "27")
    page.fill("#id_edge_margin_mm", "3")
    page.fill("#id_operating_stack_pressure_mpa", "5")
    page.fill("#id_layers-0-cathode", cathode)
    page.fill("#id_layers-0-separator", separator)
    page.fill("#id_layers-0-anode_lot", foil_lot)
    page.fill("#id_layers-0-anode_mass_g", "0.008")
    with page.expect_navigation():
        page.click("#cell-form button[type=submit]")
    code = page.inner_text("h1").split()[0]
    assert f"{code} built" in page.inner_text(".msg-success")
    # the cell-to-module model needs the cell's energy figures: the stack_energy model on its layers
    with page.expect_navigation():
        page.click("#energy button[type=submit]")
    page.locator("#energy p.derived").wait_for(timeout=WORKER_TIMEOUT_MS)  # the page reloads when the job is done
    assert "Wh/kg" in page.inner_text("#energy p.derived")
    tab.shot(f"cell-{code}")
    return code


def test_technician_assembles_a_module_scans_its_pressure_and_sees_it_on_figure_5(
    journey, demo, celery_worker_process, settings, tmp_path
):
    settings.MEDIA_ROOT = celery_worker_process["media"]  # the live server serves what the worker draws
    tab = journey("journey-4")
    page = tab.page
    tab.login(*TECHNICIAN)

    # 1. two cells of their own: the demo's cells are all in its module
    cathodes = cut_sheets(tab, demo.items["cathode_film"].item.code, count=2, area_cm2=4)
    separators = cut_sheets(tab, demo.items["separator_film"].item.code, count=2, area_cm2=6)
    cells = [build_foil_cell(tab, project_pk=demo.project.pk, cathode=cathode, separator=separator)
             for cathode, separator in zip(cathodes, separators, strict=True)]
    demo_module = demo.items["module"].item.code
    page = tab.go(f"/items/{demo_module}/")
    taken_cell = page.locator("table.module-cells tbody a").first.inner_text()

    # 2. assemble: the cells scanned by keyboard alone, a scanner's Enter opening the next row
    page = tab.go("/modules/assemble/")
    assert page.input_value("#id_assembled_on") == timezone.localdate().isoformat()  # the picker shows today
    page.select_option("#id_housing_design", label=DESIGN)
    page.fill("#id_arrangement", "2S1P")
    page.fill("#id_applied_stack_pressure_mpa", "5")
    page.focus("#id_cells-0-cell_code")
    page.keyboard.type(cells[0])
    page.keyboard.press("Enter")
    page.keyboard.type(taken_cell)  # the Enter put the cursor in a new second row
    assert page.input_value("#id_cells-1-cell_code") == taken_cell
    tab.shot("assemble-scanned")

    # a cell of the demo module: refused beside its row, nothing written
    counts = (Module.objects.count(), TracedItem.objects.count(), LineageEdge.objects.count())
    page.focus("#id_applied_stack_pressure_mpa")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    error = page.locator("#id_cells-1-cell_code-error")
    assert f"{taken_cell} is already in module MOD-" in error.inner_text()
    assert page.locator("#id_cells-0-cell_code-error").count() == 0
    assert "1 of the scanned cells cannot go into this module" in page.inner_text(".errors")
    assert page.input_value("#id_cells-0-cell_code") == cells[0]
    assert (Module.objects.count(), TracedItem.objects.count(), LineageEdge.objects.count()) == counts
    tab.shot("cell-in-another-module")

    page.focus("#id_cells-1-cell_code")
    page.keyboard.press("Control+A")
    page.keyboard.type(cells[1])
    page.focus("#id_applied_stack_pressure_mpa")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    message = page.inner_text(".msg-success")
    code = re.search(r"Module (MOD-\d+) assembled \(2S1P", message).group(1)
    assert page.url.endswith(f"/items/{code}/")
    assert page.locator("table.module-cells tbody a").all_inner_texts() == cells
    tab.shot("module")

    module = Module.objects.select_related("item", "housing_design").get(item__code=code)
    assert (module.series_count, module.parallel_count, module.applied_stack_pressure_mpa) == (2, 1, 5.0)
    assert module.housing_design.name == DESIGN
    assert [(row.position, row.cell.item.code) for row in ModuleCell.objects.filter(module=module)
            .select_related("cell__item").order_by("position")] == [(1, cells[0]), (2, cells[1])]
    edges = LineageEdge.objects.filter(child=module.item).select_related("parent")
    assert sorted((edge.parent.code, edge.role) for edge in edges) == [(cell, LineageRole.MODULE_CELL)
                                                                       for cell in cells]
    stored_cells = Cell.objects.filter(item__code__in=cells)
    assert module.system_energy_kwh == pytest.approx(sum(cell.energy_wh for cell in stored_cells) / 1000)

    # 3. the pressure-film scan from the module's page; a text file is refused beside the image field first
    with page.expect_navigation():
        page.click("text=Upload a pressure scan")
    assert page.input_value("#id_module_code") == code
    assert page.input_value("#id_scanned_on") == timezone.localdate().isoformat()
    page.fill("#id_label", "springs and gaskets, 5 MPa applied")
    not_a_scan = tmp_path / "film-notes.txt"
    not_a_scan.write_text("the film was pressed for 2 minutes\n")
    page.set_input_files("#id_image", str(not_a_scan))
    scans_before = PressureScan.objects.count()
    with page.expect_navigation():
        page.click("form button[type=submit]:text('Upload and compute the map')")
    assert "Upload a PNG, JPEG or TIFF scan" in page.inner_text("#id_image-error")
    assert PressureScan.objects.count() == scans_before
    tab.shot("scan-refused")

    scan_file = tmp_path / "film-scan.png"
    film_scan_png(scan_file)
    page.set_input_files("#id_image", str(scan_file))
    assert page.input_value("#id_label") == "springs and gaskets, 5 MPa applied"
    with page.expect_navigation():
        page.click("form button[type=submit]:text('Upload and compute the map')")
    scan = PressureScan.objects.get(module=module)
    assert page.url.endswith(f"/modules/scans/{scan.pk}/")
    tab.shot("scan-progress")

    heat_map = page.locator("img[alt^='Heat map of the pressure']")
    heat_map.wait_for(timeout=WORKER_TIMEOUT_MS)  # the page reloads itself when the job is done
    expect_png(tab, heat_map)
    assert heat_map.get_attribute("src") == f"/modules/scans/{scan.pk}/heatmap.png"
    facts = {dt: dd for dt, dd in zip(page.locator("dl.facts").nth(1).locator("dt").all_inner_texts(),
                                      page.locator("dl.facts").nth(1).locator("dd").all_inner_texts(), strict=True)}
    assert facts["Mean"] == "5.000 MPa"
    assert facts["Standard deviation"] == "1.000 MPa"
    assert facts["Coefficient of variation"] == "20.0 %"
    assert facts["Minimum – maximum"] == "4.000 – 6.000 MPa"
    assert facts["Coverage"] == "100.0 %"
    tab.shot("heat-map")

    result = PressureScan.objects.select_related("result").get(pk=scan.pk).result
    assert (scan.width_px, scan.height_px, scan.grid_rows, scan.grid_cols) == (SCAN_WIDTH_PX, SCAN_HEIGHT_PX, 20, 20)
    assert result.mean_mpa == pytest.approx(5.0, abs=1e-3)
    assert result.std_mpa == pytest.approx(1.0, abs=1e-3)
    assert result.coefficient_of_variation == pytest.approx(0.2, abs=1e-3)
    assert (result.min_mpa, result.max_mpa) == (pytest.approx(4.0, abs=1e-3), pytest.approx(6.0, abs=1e-3))
    assert result.coverage_fraction == 1.0 and result.centre_to_edge_ratio == pytest.approx(1.0)
    assert np.asarray(result.grid_mpa).shape == (20, 20)

    # 4. Figure 5d–f with the module's own point: the cell-to-module model on the worker
    page = tab.go(f"/items/{code}/")
    with page.expect_navigation():
        page.click("button:text('Run the cell-to-module model')")
    job = Job.objects.get(kind=JOB_MODULE_EFFICIENCY, subject=module.item)
    assert page.url.endswith(f"/jobs/{job.pk}/")
    tab.shot("model-progress")
    page.locator(f"img[alt='module-efficiency-{code}.png']").wait_for(timeout=WORKER_TIMEOUT_MS)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    own = job.result["module_efficiency"]
    assert job.inputs["model"]["stack_pressure_mpa"] == 5.0
    assert job.inputs["model"]["system_energy_kwh"] == pytest.approx(module.system_energy_kwh)
    assert 0 < own["gravimetric_efficiency"] < 1 and 0 < own["volumetric_efficiency"] < 1
    # the module's size is one of the curves, so its point is drawn on a panel of its own size
    sizes = [curve["system_energy_kwh"] for curve in job.result["curves"]]
    assert module.system_energy_kwh == pytest.approx(sizes[0]) and sizes[1:] == [1.0, 10.0, 20.0]

    page = tab.go(f"/items/{code}/")
    figure_5 = page.locator("img[alt='Cell-to-module efficiency against stack pressure']")
    expect_png(tab, figure_5)
    assert figure_5.get_attribute("src") == f"/jobs/{job.pk}/files/module-efficiency-{code}.png"
    values = page.inner_text(f"p:has(> a[href='/jobs/{job.pk}/'])")
    assert f"By mass {100 * own['gravimetric_efficiency']:.1f} %" in values
    assert f"by volume {100 * own['volumetric_efficiency']:.1f} % at 5 MPa" in values
    tab.shot("figure-5")
