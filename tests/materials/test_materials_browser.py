"""The technician's batch and conductivity forms in a real browser at tablet size: rows are added without a
reload, derived values appear while typing, and the server saves what the page showed."""

from __future__ import annotations

import pytest

from materials.models import SynthesisBatch
from tests.utils.factories import technician
from tests.utils.factories_materials import make_lot

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_new_batch_with_an_added_row_and_a_live_conductivity(journey, project):
    user = technician(username="tablet-tech")
    lots = [make_lot(project, user, mass_g=20) for _ in range(4)]
    tab = journey()
    tab.login("tablet-tech", "correct-horse-battery")
    page = tab.go("/materials/batches/new/")
    page.select_option("#id_project", str(project.pk))
    page.fill("#id_composition", "Li6PS5Cl")
    page.fill("#id_batch_mass_g", "9.5")
    page.fill("#id_milling_time_h", "1")
    page.fill("#id_speed_rpm", "510")
    assert page.locator("#precursor-rows .row").count() == 3
    page.click("#add-precursor")  # a fourth row, cloned in the page
    assert page.locator("#precursor-rows .row").count() == 4
    assert page.input_value("#id_precursors-TOTAL_FORMS") == "4"
    for index, (lot, mass) in enumerate(zip(lots, ("3", "3", "2", "2"))):
        page.fill(f"#id_precursors-{index}-lot", lot.item.code)
        page.fill(f"#id_precursors-{index}-mass_g", mass)
    assert page.text_content('[data-live="precursor-total"]') == "10.00"
    assert page.text_content('[data-live="batch-yield"]') == "95.0"
    tab.shot("batch-form")
    page.click("#batch-form button[type=submit]")
    page.wait_for_url("**/materials/batches/SSE-*/")
    batch = SynthesisBatch.objects.get()
    assert batch.precursor_mass_g == 10.0 and batch.item.edges_in.count() == 4
    tab.shot("batch-page")

    page = tab.go(f"/materials/batches/{batch.item.code}/measurements/new/")
    page.fill("#id_thickness_mm", "1.0")
    page.fill("#id_diameter_mm", "10")
    page.fill("#id_resistance_ohm", "40")
    # σ = 0.1 cm / (40 Ω · 0.7854 cm²) = 3.18 mS/cm, shown before saving
    assert page.text_content('[data-live="conductivity"]') == "3.18"
    tab.shot("measurement-form")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/materials/batches/{batch.item.code}/")
    assert batch.measurements.get().conductivity_ms_per_cm == pytest.approx(3.1831, rel=1e-4)
