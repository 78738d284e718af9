"""Every problem at once: the batch, film and cell forms, submitted with several wrong fields and rows, show each
refusal beside its field in one answer, in words with units, keep what was typed, and write nothing.

Twice per form: problems the form itself finds (codes of the wrong kind or unknown, numbers out of range), then
problems only the service can find (lots overdrawn in two rows, sheets of the wrong film in two layers).
"""

from __future__ import annotations

import pytest

from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.models import LineageEdge, TracedItem
from tests.utils.factories import PASSWORD, technician
from tests.utils.factories_cells import make_cell_films
from tests.utils.factories_electrodes import make_component_sources, make_sheets
from tests.utils.factories_materials import make_lot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def lab(transactional_db):
    from tests.utils.factories import ProjectFactory

    project = ProjectFactory()
    return project, technician()


def _submit(page, form_id: str) -> None:
    with page.expect_navigation():
        page.click(f"#{form_id} button[type=submit]")


def _error(page, field_id: str) -> str:
    return page.inner_text(f"#{field_id}-error")


def test_batch_form_shows_every_problem_in_one_submit(journey, lab):
    project, tech = lab
    first, second = make_lot(project, tech, mass_g=10.0), make_lot(project, tech, mass_g=20.0, formula="P2S5")
    tab = journey("every-problem-batch")
    tab.login(tech.username, PASSWORD)
    page = tab.go("/materials/batches/new/")
    page.select_option("#id_project", str(project.pk))
    page.fill("#id_composition", "Li6PS5Cl")
    page.fill("#id_batch_mass_g", "0")
    page.fill("#id_precursors-0-lot", "LOT-999999")
    page.fill("#id_precursors-0-mass_g", "1")
    page.fill("#id_precursors-1-lot", "SSE-000001")
    page.fill("#id_precursors-1-mass_g", "1")
    page.fill("#id_precursors-2-lot", f"  {first.item.code.lower()} ")
    page.fill("#id_precursors-2-mass_g", "0")
    items, edges = TracedItem.objects.count(), LineageEdge.objects.count()
    _submit(page, "batch-form")
    assert "Batch mass recovered must be more than 0 g" in _error(page, "id_batch_mass_g")
    assert "No lot LOT-999999 that you may use." in _error(page, "id_precursors-0-lot")
    assert "SSE-000001 is an SSE batch; this field takes a lot" in _error(page, "id_precursors-1-lot")
    assert "Mass used must be more than 0 g" in _error(page, "id_precursors-2-mass_g")
    assert page.locator(".field.has-error").count() == 4
    assert page.input_value("#id_precursors-2-lot") == f"  {first.item.code.lower()} "  # kept as typed
    assert page.input_value("#id_composition") == "Li6PS5Cl"
    tab.shot("form-problems")

    # what only the service sees: two overdrawn lots and a heat treatment without its time, all at once
    page.fill("#id_batch_mass_g", "5")
    page.fill("#id_precursors-0-lot", first.item.code)
    page.fill("#id_precursors-0-mass_g", "12")
    page.fill("#id_precursors-1-lot", f"{second.item.code} http://lab.example/items/{second.item.code}/")
    page.fill("#id_precursors-1-mass_g", "25")
    page.fill("#id_precursors-2-lot", "")
    page.fill("#id_precursors-2-mass_g", "")
    page.fill("#id_heat_treatment_temperature_c", "550")
    _submit(page, "batch-form")
    assert f"{first.item.code} has only 10 g left; 12 g asked" in _error(page, "id_precursors-0-mass_g")
    assert f"{second.item.code} has only 20 g left; 25 g asked" in _error(page, "id_precursors-1-mass_g")
    assert "give the heat-treatment time" in _error(page, "id_heat_treatment_time_h")
    assert page.locator(".field.has-error").count() == 3
    assert (TracedItem.objects.count(), LineageEdge.objects.count()) == (items, edges)
    tab.shot("service-problems")


def test_film_form_shows_every_problem_in_one_submit(journey, lab):
    project, tech = lab
    sources = make_component_sources(project, tech, ItemKind.CATHODE_FILM, stock_g=5.0)
    tab = journey("every-problem-film")
    tab.login(tech.username, PASSWORD)
    page = tab.go("/electrodes/films/new/?kind=cathode_film")
    page.fill("#id_area_cm2", "100")
    page.fill("#id_components-0-source_code", "LOT-999999")
    page.fill("#id_components-0-mass_g", "1")
    page.fill("#id_components-1-source_code", "CELL-000001")
    page.fill("#id_components-1-mass_g", "1")
    page.fill("#id_components-2-source_code", sources[0][0].code)
    page.fill("#id_components-2-mass_g", "-1")
    items = TracedItem.objects.count()
    _submit(page, "film-form")
    assert "No lot LOT-999999 that you may use." in _error(page, "id_components-0-source_code")
    assert "CELL-000001 is a cell; this field takes a lot or an SSE batch" in _error(
        page, "id_components-1-source_code")
    assert "must be greater than 0 g" in _error(page, "id_components-2-mass_g")
    assert page.locator(".field.has-error").count() == 3
    tab.shot("form-problems")

    page.fill("#id_area_cm2", "0")
    for index, (item, _) in enumerate(sources[:3]):
        page.fill(f"#id_components-{index}-source_code", item.code.lower())
    page.fill("#id_components-0-mass_g", "6")
    page.fill("#id_components-1-mass_g", "7")
    page.fill("#id_components-2-mass_g", "0.1")
    _submit(page, "film-form")
    assert "must be greater than 0" in _error(page, "id_area_cm2")
    assert f"{sources[0][0].code} has only" in _error(page, "id_components-0-mass_g")
    assert f"{sources[1][0].code} has only" in _error(page, "id_components-1-mass_g")
    assert TracedItem.objects.count() == items
    tab.shot("service-problems")


def test_cell_form_shows_every_problem_in_one_submit(journey, lab):
    project, tech = lab
    films = make_cell_films(project, tech)
    cathodes = make_sheets(films["cathode"], tech, count=2)
    separators = make_sheets(films["separator"], tech, count=2)
    foil = films["foil"].item.code
    tab = journey("every-problem-cell")
    tab.login(tech.username, PASSWORD)
    page = tab.go("/cells/new/")
    page.select_option("#id_project", str(project.pk))
    page.fill("#id_length_mm", "0")
    page.fill("#id_width_mm", "30")
    page.fill("#id_layers-0-cathode", "SHT-999999")
    page.fill("#id_layers-0-separator", foil)
    page.fill("#id_layers-0-anode_lot", foil)
    page.fill("#id_layers-0-anode_mass_g", "0.01")
    page.fill("#id_layers-1-cathode", cathodes[1].item.code)
    page.fill("#id_layers-1-separator", separators[1].item.code)
    page.fill("#id_layers-1-anode_lot", foil)
    page.fill("#id_layers-1-anode_mass_g", "-1")
    items = TracedItem.objects.count()
    _submit(page, "cell-form")
    assert "Footprint length must be at least 0.001 mm" in _error(page, "id_length_mm")
    assert "No sheet SHT-999999 that you may use." in _error(page, "id_layers-0-cathode")
    assert f"{foil} is a lot; this field takes a sheet" in _error(page, "id_layers-0-separator")
    assert "Foil mass must be more than 0 g" in _error(page, "id_layers-1-anode_mass_g")
    assert page.locator(".field.has-error").count() == 4
    tab.shot("form-problems")

    # the service: sheets of the wrong films in both layers, and an anode voltage above the cathode's
    page.fill("#id_length_mm", "30")
    page.fill("#id_anode_voltage_v", "5")
    page.fill("#id_layers-0-cathode", separators[0].item.code)
    page.fill("#id_layers-0-separator", cathodes[0].item.code)
    page.fill("#id_layers-1-cathode", separators[1].item.code.lower())
    page.fill("#id_layers-1-separator", cathodes[1].item.code)
    page.fill("#id_layers-1-anode_mass_g", "0.01")
    _submit(page, "cell-form")
    assert "must be below the cathode" in _error(page, "id_anode_voltage_v")
    for row in (0, 1):
        assert "separator" in _error(page, f"id_layers-{row}-cathode")
        assert "cathode" in _error(page, f"id_layers-{row}-separator")
    assert TracedItem.objects.count() == items
    tab.shot("service-problems")
