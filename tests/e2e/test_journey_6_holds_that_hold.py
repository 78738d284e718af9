"""Journey 6: a hold reaches everything downstream. A scientist quarantines an SSE batch; the release of a cell
and of a module made from it is refused, naming the batch and the hold; a new cell from an affected sheet is
refused beside the sheet's field; a signed deviation on the sheet lets it be used, and shows on its page; the
batch released after a retest makes the cell releasable without any deviation.

The chain (batch with a passing QC, films, sheets, a densified cell, a module with a measured pressure) is
built through the services; every step of the journey goes through the pages, at tablet width."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assbtrack.tracing.choices import ItemKind, ItemStatus
from assbtrack.tracing.models import Deviation, LineageEdge, TracedItem
from cells.choices import DensificationMethod
from cells.models import Cell
from cells.services import cell_densification_record
from materials.services import conductivity_spec_set
from modules.choices import PressureReadingKind
from modules.services import pressure_reading_create
from tests.utils.factories import PASSWORD, scientist, technician
from tests.utils.factories_cells import make_cell, make_li_foil
from tests.utils.factories_electrodes import make_film, make_sheets, make_sse_batch
from tests.utils.factories_materials import make_measurement
from tests.utils.factories_modules import make_module

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

HOLD_REASON = "conductivity below specification"


def build_chain(project, tech, sci) -> dict:
    batch = make_sse_batch(project, tech)
    conductivity_spec_set(project=project, composition=batch.composition, minimum_ms_per_cm=2.0, user=sci)
    make_measurement(batch, sci, conductivity_ms_per_cm=3.0)  # passes QC: releasable once the hold is lifted
    films = {
        "cathode": make_film(project, tech, ItemKind.CATHODE_FILM, sse_batch=batch),
        "separator": make_film(project, tech, ItemKind.SEPARATOR_FILM),
        "foil": make_li_foil(project, tech),
    }
    cell = make_cell(project, tech, films=films)
    cell_densification_record(cell=cell, user=tech, method=DensificationMethod.ISOSTATIC, pressure_mpa=500.0,
                              hold_time_min=5.0)
    module = make_module(project, tech, cells=[make_cell(project, tech, films=films)])
    pressure_reading_create(module=module, user=tech, kind=PressureReadingKind.MEASURED, pressure_mpa=5.0,
                            measured_at=timezone.now() - timedelta(minutes=5), method="load cell")
    [sheet] = make_sheets(films["cathode"], tech, count=1, area_cm2=10.0)
    [separator] = make_sheets(films["separator"], tech, count=1, area_cm2=10.0)
    return {"batch": batch.item, "cell": cell.item, "module": module.item, "sheet": sheet.item,
            "separator": separator.item, "foil": films["foil"].item}


def status_change(page, button: str, *, password: str = PASSWORD, reason: str = "") -> None:
    page.fill("#id_reason", reason)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click(f"#status-form {button}")


def fill_cell_form(page, project, chain) -> None:
    page.select_option("#id_project", str(project.pk))
    page.select_option("#id_cell_format", "single_layer_pouch")
    page.select_option("#id_stacking", "single_sheet")
    page.select_option("#id_anode_type", "li_metal")
    page.fill("#id_length_mm", "300")
    page.fill("#id_width_mm", "100")
    page.fill("#id_edge_margin_mm", "1")
    page.fill("#id_operating_stack_pressure_mpa", "5")
    page.fill("#id_layers-0-cathode", chain["sheet"].code)
    page.fill("#id_layers-0-separator", chain["separator"].code)
    page.fill("#id_layers-0-anode_lot", chain["foil"].code)
    page.fill("#id_layers-0-anode_mass_g", "0.02")


def test_a_quarantine_holds_downstream_until_a_deviation_or_its_lift(journey, project):
    tech, sci = technician(), scientist()
    chain = build_chain(project, tech, sci)
    batch, cell, module, sheet = chain["batch"], chain["cell"], chain["module"], chain["sheet"]

    tab = journey("journey-6")
    tab.login(sci.username, PASSWORD)
    page = tab.go(f"/items/{batch.code}/")
    status_change(page, "button.warn", reason=HOLD_REASON)
    page.locator(".msg-success").wait_for()
    assert TracedItem.objects.get(pk=batch.pk).status == ItemStatus.QUARANTINED
    now = timezone.localtime()
    hold = f"it comes from {batch.code}, quarantined on {now.day} {now:%b %Y} by {sci.username} ({HOLD_REASON})"
    tab.shot("batch-quarantined")

    # the release of the cell and of the module: the page says why beforehand, and the signed release is refused
    for item in (cell, module):
        page = tab.go(f"/items/{item.code}/")
        assert f"{item.code} is affected: {hold}" in page.inner_text(".card.actions .errors")
        status_change(page, "button:text-is('Release')")
        assert f"{item.code} is affected: {hold}" in page.inner_text(".msg-error")
        assert TracedItem.objects.get(pk=item.pk).status == ItemStatus.DRAFT
        tab.shot(f"release-refused-{item.code}")

    # a new cell from a sheet of the affected film: refused beside the sheet, nothing written
    cells_before, edges_before = Cell.objects.count(), LineageEdge.objects.count()
    page = tab.go("/cells/new/")
    fill_cell_form(page, project, chain)
    with page.expect_navigation():
        page.click("#cell-form button[type=submit]")
    assert page.inner_text("#id_layers-0-cathode-error") == f"{sheet.code} is affected: {hold}"
    assert page.locator(".field.has-error #id_layers-0-cathode").count() == 1
    assert (Cell.objects.count(), LineageEdge.objects.count()) == (cells_before, edges_before)
    tab.shot("cell-refused-beside-the-sheet")

    # the scientist records a signed deviation on the sheet's page: use as a parent despite the batch's hold
    page = tab.go(f"/items/{sheet.code}/")
    page.click("#deviations summary")
    page.check("#deviation-form input[name=purpose][value=use]")
    assert page.is_checked("#deviation-form input[name=holds]")  # the one hold upstream is named already
    page.fill("#id_deviation_reason", "failure-analysis cell: retest of the batch pending")
    page.fill("#id_deviation_password", PASSWORD)
    tab.shot("deviation-form")
    with page.expect_navigation():
        page.click("#deviation-form button[type=submit]")
    assert "Deviation recorded" in page.inner_text(".msg-success")
    table = page.inner_text("#deviations table")
    assert "Use as a parent" in table and batch.code in table and "failure-analysis cell" in table
    assert f"signed by {sci.username}" in table
    deviation = Deviation.objects.get()
    assert (deviation.item_id, deviation.held_item_id, deviation.user) == (sheet.pk, batch.pk, sci)
    tab.shot("deviation-shown")

    # the same cell now builds
    page = tab.go("/cells/new/")
    fill_cell_form(page, project, chain)
    with page.expect_navigation():
        page.click("#cell-form button[type=submit]")
    page.locator(".msg-success").wait_for()
    built = Cell.objects.get(layers__cathode__item=sheet)
    assert page.url.endswith(f"/cells/{built.item.code}/")
    assert TracedItem.objects.get(pk=sheet.pk).status == ItemStatus.CONSUMED  # status follows use
    tab.shot("cell-built-under-deviation")

    # the impact report of the batch lists the deviation
    page = tab.go(f"/items/{batch.code}/impact/")
    assert sheet.code in page.inner_text("#deviations")

    # the batch passes its retest and is released: the cell is releasable with no deviation at all
    page = tab.go(f"/items/{batch.code}/")
    status_change(page, "button:text-is('Release')", reason="retest passed: 3.1 mS/cm")
    page.locator(".msg-success").wait_for()
    page = tab.go(f"/items/{cell.code}/")
    assert page.locator(".banner.affected").count() == 0
    assert page.locator(".card.actions .errors").count() == 0
    status_change(page, "button:text-is('Release')")
    assert f"{cell.code} released." in page.inner_text(".msg-success")
    assert TracedItem.objects.get(pk=cell.pk).status == ItemStatus.RELEASED
    assert not Deviation.objects.filter(item=cell).exists()
    tab.shot("cell-released-after-the-lift")
