"""Journey 1: a technician logs a precursor lot, makes a Li6PS5Cl batch from it and two demo lots (the third
precursor row added in the page), records its conductivity, and a scientist releases it with a signature.

Everything is done through the pages at tablet width, from the demo data; the database is only read to check
what the pages stored. Two bad inputs (more of a lot than it holds, a negative resistance) are refused beside
their fields and write nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assbtrack.tracing.choices import ItemStatus, LineageRole
from assbtrack.tracing.models import LineageEdge, StatusEvent, TracedItem
from materials.models import ConductivityMeasurement, MaterialLot, SynthesisBatch
from tests.e2e.steps import PROJECT, SCIENTIST, TECHNICIAN, heading_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]



def lot_code_on_list(tab, query: str, chemical: str) -> str:
    """The code of a demo lot, found as the technician would: search the lot list and read the row."""
    page = tab.go(f"/materials/lots/?q={query}")
    return page.locator("tr", has_text=chemical).locator("td a").first.inner_text().strip()


def test_lot_batch_conductivity_and_signed_release(journey, demo):
    tab = journey("journey-1")
    tab.login(*TECHNICIAN)
    page = tab.go("/materials/")
    tab.shot("materials")

    # 1. a new LiCl lot, received today
    with page.expect_navigation():
        page.click("main a:has-text('New lot')")
    assert page.url.endswith("/materials/lots/new/")
    page.select_option("#id_project", label=PROJECT)
    page.fill("#id_chemical_name", "Lithium chloride, anhydrous")
    page.fill("#id_formula", "LiCl")
    page.select_option("#id_role", "precursor")
    page.fill("#id_mass_g", "50")
    page.fill("#id_supplier", "Halide Chemicals")
    page.fill("#id_supplier_lot", "HALI-24999")
    page.fill("#id_purity_percent", "99.99")
    page.select_option("#id_storage_atmosphere", "argon")
    page.fill("#id_density_g_per_cm3", "2.07")
    tab.shot("lot-form")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    lot_code = heading_code(page)
    assert lot_code.startswith("LOT-")
    assert f"{lot_code} recorded: Lithium chloride, anhydrous, 50 g." in page.inner_text(".msg-success")
    lot = MaterialLot.objects.select_related("item").get(item__code=lot_code)
    assert (lot.formula, lot.role, lot.item.quantity, lot.item.created_by.username) == (
        "LiCl", "precursor", Decimal("50"), "technician")
    tab.shot("lot-recorded")

    li2s_code = lot_code_on_list(tab, "Li2S", "Lithium sulfide")
    p2s5_code = lot_code_on_list(tab, "P2S5", "Phosphorus pentasulfide")
    assert len({li2s_code, p2s5_code, lot_code}) == 3

    # 2. the batch: two precursors in the rows shown, the third in a row added without a reload
    page = tab.go("/materials/")
    with page.expect_navigation():
        page.click("main a:has-text('New SSE batch')")
    page.select_option("#id_project", label=PROJECT)
    page.fill("#id_composition", "Li6PS5Cl")
    page.select_option("#id_sse_class", "sulfide")
    page.select_option("#id_route", "mechanochemical")
    page.fill("#id_batch_mass_g", "9.5")
    page.select_option("#id_equipment", label="Mill 1")
    page.select_option("#id_jar_material", "zirconia")
    page.select_option("#id_media_material", "zirconia")
    page.fill("#id_speed_rpm", "510")
    page.fill("#id_milling_time_h", "2")
    page.fill("#id_glovebox_o2_ppm", "0.3")
    page.fill("#id_glovebox_h2o_ppm", "0.1")
    page.fill("#id_density_g_per_cm3", "1.86")
    page.fill("#id_precursors-0-lot", li2s_code)
    page.fill("#id_precursors-0-mass_g", "4.28")
    page.fill("#id_precursors-1-lot", p2s5_code)
    page.fill("#id_precursors-1-mass_g", "4.14")
    rows_before = page.locator("#precursor-rows .row").count()
    page.click("#add-precursor")
    assert page.locator("#precursor-rows .row").count() == rows_before + 1
    added = rows_before  # the added row's index: the page numbers it after the rows it had
    assert page.input_value("#id_precursors-TOTAL_FORMS") == str(rows_before + 1)
    # the added row has the focus: scan (type) the new lot's code, Tab to its mass, more than the lot holds
    assert page.evaluate("document.activeElement.id") == f"id_precursors-{added}-lot"
    page.keyboard.type(lot_code)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"id_precursors-{added}-mass_g"
    page.keyboard.type("75")
    assert page.text_content('[data-live="precursor-total"]') == "83.42"
    tab.shot("batch-form-too-much")

    batches, edges = SynthesisBatch.objects.count(), LineageEdge.objects.count()
    with page.expect_navigation():
        page.click("#batch-form button[type=submit]")
    error = page.locator(f"#id_precursors-{added}-mass_g-error")
    assert f"{lot_code} has only 50 g left; 75 g asked" in error.inner_text()
    assert page.locator(".field.has-error").count() == 1
    assert page.input_value(f"#id_precursors-{added}-lot") == lot_code  # what was typed is kept
    assert (SynthesisBatch.objects.count(), LineageEdge.objects.count()) == (batches, edges)
    assert TracedItem.objects.get(code=lot_code).quantity_used == 0
    tab.shot("batch-form-refused")

    page.fill(f"#id_precursors-{added}-mass_g", "1.58")
    assert page.text_content('[data-live="precursor-total"]') == "10.00"
    assert page.text_content('[data-live="batch-yield"]') == "95.0"
    with page.expect_navigation():
        page.click("#batch-form button[type=submit]")
    batch_code = heading_code(page)
    assert batch_code.startswith("SSE-")
    assert page.url.endswith(f"/materials/batches/{batch_code}/")
    assert f"{batch_code} recorded: Li6PS5Cl, 9.5 g, yield 95.0 %." in page.inner_text(".msg-success")
    batch = SynthesisBatch.objects.select_related("item", "equipment").get(item__code=batch_code)
    assert (batch.composition, batch.batch_mass_g, batch.precursor_mass_g, batch.equipment.name) == (
        "Li6PS5Cl", 9.5, pytest.approx(10.0), "Mill 1")
    assert batch.item.status == ItemStatus.DRAFT
    lineage = {edge.parent.code: (edge.amount, edge.unit, edge.role)
               for edge in batch.item.edges_in.select_related("parent")}
    assert lineage == {
        li2s_code: (Decimal("4.28"), "g", LineageRole.PRECURSOR),
        p2s5_code: (Decimal("4.14"), "g", LineageRole.PRECURSOR),
        lot_code: (Decimal("1.58"), "g", LineageRole.PRECURSOR),
    }
    assert TracedItem.objects.get(code=lot_code).quantity_remaining == Decimal("48.42")
    tab.shot("batch-recorded")

    # 3. its conductivity at 25 °C: a negative resistance first, refused beside the field
    with page.expect_navigation():
        page.click("main a:has-text('Add conductivity')")
    assert page.url.endswith(f"/materials/batches/{batch_code}/measurements/new/")
    assert page.input_value("#id_temperature_c") == "25.0"
    page.fill("#id_thickness_mm", "0.9")
    page.fill("#id_diameter_mm", "10")
    page.fill("#id_resistance_ohm", "-38.2")
    page.fill("#id_stack_pressure_mpa", "370")
    page.select_option("#id_equipment", label="EIS 1")
    assert page.text_content('[data-live="conductivity"]') == "–"
    measurements = ConductivityMeasurement.objects.count()
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "Bulk resistance must be more than 0 Ω" in page.inner_text("#id_resistance_ohm-error")
    assert page.locator(".field.has-error").count() == 1
    assert ConductivityMeasurement.objects.count() == measurements
    tab.shot("measurement-refused")

    page.fill("#id_resistance_ohm", "38.2")
    # σ = 0.09 cm / (38.2 Ω · 0.7854 cm²) = 3.00 mS/cm, before saving
    assert page.text_content('[data-live="conductivity"]') == "3.00"
    tab.shot("measurement-form")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.endswith(f"/materials/batches/{batch_code}/")
    measurement = batch.measurements.get()
    assert measurement.conductivity_ms_per_cm == pytest.approx(0.09 / (38.2 * 0.785398) * 1000, rel=1e-5)
    assert (measurement.temperature_c, measurement.resistance_ohm, measurement.equipment.name) == (25.0, 38.2, "EIS 1")
    assert "3.000" in page.locator("main section", has_text="Ionic conductivity").inner_text()
    assert page.locator(".banner.ok", has_text="QC passes").count() == 1
    tab.shot("batch-measured")

    # 4. a technician cannot release: the item page says so and offers no status form
    with page.expect_navigation():
        page.click("main a:has-text('Lineage and history')")
    assert "Your role cannot change the status." in page.inner_text("main")
    assert page.locator("#status-form").count() == 0
    tab.shot("technician-cannot-release")

    # 5. the scientist, in a second tab, releases it: reason and password, by the keyboard alone
    tab2 = journey("journey-1-scientist")
    tab2.login(*SCIENTIST)
    page2 = tab2.go(f"/items/{batch_code}/")
    assert page2.locator(".status", has_text="Draft").count() >= 1
    tab2.shot("scientist-item")
    reason = "QC passed: 3.00 mS/cm at 25 °C, spec 2 mS/cm"
    page2.focus("#id_reason")
    page2.keyboard.type(reason)
    page2.keyboard.press("Tab")
    page2.keyboard.type(SCIENTIST[1])
    page2.keyboard.press("Tab")
    assert page2.evaluate("document.activeElement.textContent") == "Release"
    with page2.expect_navigation():
        page2.keyboard.press("Enter")
    assert f"{batch_code} released." in page2.inner_text(".msg-success")
    events = page2.locator("section", has_text="Status changes").locator("tbody tr")
    assert events.count() == 1
    assert "signed by scientist ✓" in events.first.inner_text() and reason in events.first.inner_text()
    tab2.shot("released")

    batch.item.refresh_from_db()
    assert batch.item.status == ItemStatus.RELEASED and batch.item.status_reason == reason
    event = StatusEvent.objects.get(item=batch.item)
    assert (event.from_status, event.to_status, event.user.username, event.reason) == (
        ItemStatus.DRAFT, ItemStatus.RELEASED, "scientist", reason)
    assert event.signed and event.signature_valid

    # the technician's tab sees it released too
    page = tab.go(f"/materials/batches/{batch_code}/")
    assert page.locator(".item-head .status", has_text="Released").count() == 1
    tab.shot("technician-sees-released")
