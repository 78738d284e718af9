"""Journey 3: a technician builds a pouch cell by typing sheet codes, records its densification, uploads a cycler
file and watches the real worker import it until the plots appear. Everything is done through the pages at
tablet width, starting from the demo data; the database is only read to check what the pages stored.

The demo's cells use up every cathode and separator sheet it cuts, so the technician first cuts one of each
from the demo's released films (the anode sheets the demo leaves unused are typed as they are).
"""

from __future__ import annotations

import numpy as np
import pytest

from assbtrack.tracing.choices import LineageRole
from assbtrack.tracing.models import LineageEdge, TracedItem
from cells.choices import DensificationMethod, ImportStatus
from cells.models import Cell, CellDensification, CycleRecord, CyclingTest
from tests.e2e.steps import TECHNICIAN, WORKER_TIMEOUT_MS, cut_sheets, expect_png

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.worker]

CURRENT_MA = 0.5
# (charge mAh, discharge mAh) per cycle: the file below logs exactly these at 0.5 mA.
CYCLES_MAH = ((1.0, 0.95), (0.96, 0.93), (0.94, 0.9))


def cycler_csv(cycles=CYCLES_MAH) -> str:
    """A galvanostatic test as a cycler logs it (time s, cycle, current mA with + charging, voltage V).

    Each step's first point shares its time with the rest point before it, so no logging interval
    straddles a change of current and the import's trapezoid gives each half cycle's capacity exactly.
    """
    lines = ["time_s,cycle,current_ma,voltage_v", "0,1,0,3.0", "300,1,0,3.0"]
    time_s = 300.0
    for number, (charge, discharge) in enumerate(cycles, start=1):
        for sign, capacity_mah, (start_v, end_v) in ((1, charge, (3.0, 4.2)), (-1, discharge, (4.1, 2.9))):
            duration_s = capacity_mah / CURRENT_MA * 3600.0
            for fraction in np.linspace(0.0, 1.0, 11):
                lines.append(f"{time_s + fraction * duration_s:.6f},{number},{sign * CURRENT_MA},"
                             f"{start_v + (end_v - start_v) * fraction:.6f}")
            time_s += duration_s
            lines.append(f"{time_s:.6f},{number},0,{end_v}")
            time_s += 600.0
            lines.append(f"{time_s:.6f},{number},0,{end_v}")
    return "\n".join(lines) + "\n"


def test_technician_builds_a_cell_densifies_it_and_watches_its_cycling_import(
    journey, demo, celery_worker_process, settings, tmp_path
):
    settings.MEDIA_ROOT = celery_worker_process["media"]  # the live server serves what the worker draws
    tab = journey("journey-3")
    page = tab.page
    tab.login(*TECHNICIAN)

    # 1. sheets: one cathode and one separator cut from the demo's released films, an unused anode sheet typed
    [cathode] = cut_sheets(tab, demo.items["cathode_film"].item.code, count=1, area_cm2=8)
    [separator] = cut_sheets(tab, demo.items["separator_film"].item.code, count=1, area_cm2=12)
    demo_cell = demo.items["cells"][0].item.code
    page = tab.go(f"/cells/{demo_cell}/")
    used_cathode = page.locator("table:has(th:text('Cathode sheet')) tbody a").first.inner_text()
    page = tab.go("/cells/new/")
    anode = page.locator("#anode-sheets option").first.get_attribute("value")
    tab.shot("cell-form")

    page.select_option("#id_project", str(demo.project.pk))
    page.select_option("#id_cell_format", "single_layer_pouch")
    page.select_option("#id_stacking", "single_sheet")
    page.select_option("#id_anode_type", "graphite")
    page.fill("#id_length_mm", "58.4")
    page.fill("#id_width_mm", "44.3")
    page.fill("#id_edge_margin_mm", "3.5")
    page.fill("#id_operating_stack_pressure_mpa", "5")
    # the codes by keyboard alone, as the scanner types them: code, Enter to the next field
    page.focus("#id_layers-0-cathode")
    for code in (used_cathode, separator, anode):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_layers-0-anode_lot"
    assert page.input_value("#id_layers-0-anode") == anode
    tab.shot("layer-typed")

    # a sheet already in a demo cell: refused beside the cathode field, nothing written, what was typed kept
    cells_before, edges_before = Cell.objects.count(), LineageEdge.objects.count()
    with page.expect_navigation():
        page.click("#cell-form button[type=submit]")
    error = page.locator("#id_layers-0-cathode-error")
    assert f"{used_cathode} is already used in {demo_cell}" in error.inner_text()
    assert page.locator(".field.has-error #id_layers-0-cathode").count() == 1
    assert page.input_value("#id_layers-0-separator") == separator
    assert (Cell.objects.count(), LineageEdge.objects.count()) == (cells_before, edges_before)
    tab.shot("used-sheet-refused")

    # the fresh cathode, typed over the used one; Enter in a cell field submits the form
    page.focus("#id_layers-0-cathode")
    page.keyboard.press("Control+A")
    page.keyboard.type(cathode)
    page.focus("#id_edge_margin_mm")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator(".msg-success").wait_for()
    code = page.inner_text("h1").split()[0]
    assert page.url.endswith(f"/cells/{code}/")
    assert f"{code} built: 1 layers" in page.inner_text(".msg-success")
    layers = page.inner_text("table:has(th:text('Cathode sheet'))")
    assert cathode in layers and separator in layers and anode in layers
    tab.shot("cell-built")

    cell = Cell.objects.select_related("item").get(item__code=code)
    assert (cell.cell_format, cell.anode_type, cell.layer_count) == ("single_layer_pouch", "graphite", 1)
    assert (cell.length_mm, cell.width_mm, cell.operating_stack_pressure_mpa) == (58.4, 44.3, 5.0)
    layer = cell.layers.get()
    assert (layer.cathode.item.code, layer.separator.item.code, layer.anode.item.code) == (cathode, separator, anode)
    edges = {(edge.parent.code, edge.role) for edge in LineageEdge.objects.filter(child=cell.item)
             .select_related("parent")}
    assert edges == {(cathode, LineageRole.CATHODE_LAYER), (separator, LineageRole.SEPARATOR_LAYER),
                     (anode, LineageRole.ANODE_LAYER)}
    for sheet in (cathode, separator, anode):
        assert TracedItem.objects.get(code=sheet).quantity_used == 1

    # 2. densification on its own page
    with page.expect_navigation():
        page.click("text=Record densification")
    page.select_option("#id_method", DensificationMethod.ISOSTATIC)
    page.fill("#id_pressure_mpa", "500")
    page.fill("#id_temperature_c", "80")
    page.fill("#id_hold_time_min", "5")
    page.select_option("#id_equipment", label="Press I1")
    page.fill("#id_notes", "warm isostatic pressing after sealing")
    tab.shot("densification-form")
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert f"Densification recorded for {code}" in page.inner_text(".msg-success")
    pressing = page.inner_text("section:has(h2:text('Densification')) tbody")
    assert "Isostatic pressing" in pressing and "500" in pressing and "Press I1" in pressing
    tab.shot("densified")
    record = CellDensification.objects.select_related("equipment").get(cell=cell)
    assert (record.method, record.pressure_mpa, record.temperature_c, record.hold_time_min) == (
        DensificationMethod.ISOSTATIC, 500.0, 80.0, 5.0)
    assert record.equipment.name == "Press I1" and record.supersedes is None

    # 3. the cycler file, read on the worker while the page shows its progress
    data_file = tmp_path / f"{code}_C03.csv"
    data_file.write_text(cycler_csv())
    with page.expect_navigation():
        page.click("text=Upload a cycler file")
    page.set_input_files("#id_data_file", str(data_file))
    page.select_option("#id_cycler_channel", label="Cycler 1 channel 3")
    page.fill("#id_stack_pressure_mpa", "5")
    page.fill("#id_protocol", "CC charge and discharge, 0.5 mA")
    page.fill("#id_voltage_min_v", "2.8")
    page.fill("#id_voltage_max_v", "4.3")
    # no column is named by hand: the reader recognises time_s, cycle, current_ma and voltage_v by their headers
    assert page.input_value("#id_column_current_ma") == ""
    tab.shot("cycling-form")
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    # (the flash message is not checked: the page reloads itself when the worker is done, and loses it)
    test = CyclingTest.objects.get(cell=cell)
    assert page.url.endswith(f"/cells/cycling/{test.pk}/")
    tab.shot("import-progress")

    capacity_plot = page.locator("img[alt^='Capacity and coulombic efficiency']")
    capacity_plot.wait_for(timeout=WORKER_TIMEOUT_MS)  # the page reloads itself as the import, then the plots, finish
    voltage_plot = page.locator("img[alt^='Voltage against capacity']")
    for image in (capacity_plot, voltage_plot):
        expect_png(tab, image)
    assert page.inner_text("#import dt:text-is('Cycles') + dd").startswith("3 (imported")
    assert page.inner_text("#import dt:text-is('First discharge capacity') + dd") == "0.950 mAh"
    tab.shot("plots")

    test.refresh_from_db()
    assert test.status == ImportStatus.IMPORTED, test.error
    assert (test.cycle_count, test.cycler_channel.label, test.stack_pressure_mpa) == (3, "3", 5.0)
    rows = list(CycleRecord.objects.filter(test=test).order_by("cycle_number"))
    assert [row.cycle_number for row in rows] == [1, 2, 3]
    np.testing.assert_allclose([row.charge_capacity_mah for row in rows], [c for c, _ in CYCLES_MAH], rtol=1e-6)
    np.testing.assert_allclose([row.discharge_capacity_mah for row in rows], [d for _, d in CYCLES_MAH], rtol=1e-6)
    np.testing.assert_allclose([row.retention for row in rows], [1.0, 0.93 / 0.95, 0.9 / 0.95], rtol=1e-6)
    cell.refresh_from_db()
    assert cell.first_discharge_capacity_mah == pytest.approx(0.95)

    # the cell's page lists the test and shows the same plots
    tab.go(f"/cells/{code}/")
    tests_table = page.inner_text("section:has(h2:text('Cycling tests')) table")
    assert data_file.name in tests_table and "Imported" in tests_table
    expect_png(tab, page.locator("img[alt^='Capacity and coulombic efficiency']"))
    tab.shot("cell-page")
