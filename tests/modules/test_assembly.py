"""Module assembly: the cells go in as lineage edges, and a cell that may not go in is refused with the reason.

The factory cells by hand (tests/utils/factories_cells.py, 1 cm² sheets): 3.84 mAh at 3.8 V, so
0.00384 Ah and 0.014592 Wh each; stored figures 400 Wh/kg and 1000 Wh/L, no weighed mass, so a
cell's mass is 0.014592 / 400 kg = 3.648e-5 kg.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assbtrack.tracing.choices import ItemStatus, LineageRole
from assbtrack.tracing.models import LineageEdge
from assbtrack.tracing.services import item_quarantine
from modules.models import Module, ModuleCell, PressureReading
from modules.parsing import parse_arrangement
from modules.services import module_assemble
from tests.utils.checks import client_for
from tests.utils.factories_modules import make_cell_films, make_cells, make_design, make_module

CELL_AH = 0.00384
CELL_V = 3.8
CELL_WH = CELL_AH * CELL_V


@pytest.fixture
def films(project, tech):
    return make_cell_films(project, tech)


def assemble(project, user, design, cells, *, series=None, parallel=1):
    return module_assemble(
        project=project, user=user, housing_design=design, series_count=series or len(cells) // parallel,
        parallel_count=parallel, cell_codes=[cell.item.code for cell in cells], assembled_on=date(2025, 3, 1),
        applied_stack_pressure_mpa=5.0,
    )


@pytest.mark.django_db
def test_assembly_links_cells_and_derives_energy(project, tech, films):
    cells = make_cells(project, tech, 4, films=films)
    module = assemble(project, tech, make_design(project, tech), cells, series=2, parallel=2)

    assert module.item.code.startswith("MOD-") and module.item.quantity == 1 and module.item.unit == "pcs"
    assert module.arrangement == "2S2P" and module.cell_count == 4
    assert module.system_energy_kwh == pytest.approx(4 * CELL_WH / 1000)
    assert module.nominal_voltage_v == pytest.approx(2 * CELL_V)  # cells in series add voltage
    assert module.nominal_capacity_ah == pytest.approx(2 * CELL_AH)  # cells in parallel add capacity
    assert module.cells_mass_kg == pytest.approx(4 * CELL_WH / 400)

    edges = LineageEdge.objects.filter(child=module.item).order_by("id")
    assert [edge.parent_id for edge in edges] == [cell.item.pk for cell in cells]
    assert {(edge.role, edge.amount, edge.unit) for edge in edges} == {(LineageRole.MODULE_CELL, 1, "pcs")}
    assert list(ModuleCell.objects.filter(module=module).values_list("position", "cell_id")) == [
        (position, cell.pk) for position, cell in enumerate(cells, start=1)
    ]
    first = PressureReading.objects.get(module=module)
    assert first.kind == "set" and first.pressure_mpa == 5.0
    for cell in cells:
        cell.item.refresh_from_db()
        assert cell.item.quantity_remaining == 0


@pytest.mark.django_db
def test_quarantined_cell_is_refused_with_the_reason(project, tech, sci, films):
    good, held = make_cells(project, tech, 2, films=films)
    item_quarantine(item=held.item, user=sci, reason="swollen pouch after formation")
    with pytest.raises(ValidationError) as caught:
        assemble(project, tech, make_design(project, tech), [good, held])
    assert caught.value.cell_problems.keys() == {2}
    message = caught.value.cell_problems[2][0]
    assert held.item.code in message and "quarantined" in message and "swollen pouch after formation" in message
    # Nothing written: no module, no edge, the good cell untouched.
    assert not Module.objects.exists() and not LineageEdge.objects.filter(role=LineageRole.MODULE_CELL).exists()
    good.item.refresh_from_db()
    assert good.item.quantity_used == 0


@pytest.mark.django_db
def test_used_cell_is_refused_by_the_mass_balance(project, tech, films):
    cells = make_cells(project, tech, 3, films=films)
    first = assemble(project, tech, make_design(project, tech), cells[:2])
    with pytest.raises(ValidationError) as caught:
        assemble(project, tech, first.housing_design, [cells[2], cells[1]])
    message = " ".join(caught.value.cell_problems[2])
    assert f"{cells[1].item.code} is already in module {first.item.code}" in message
    assert "only 0 pcs left" in message
    assert Module.objects.count() == 1


@pytest.mark.django_db
def test_cell_of_another_project_is_refused(project, other_project, tech, films):
    ours = make_cells(project, tech, 1, films=films)[0]
    theirs = make_cells(other_project, tech, 1)[0]
    with pytest.raises(ValidationError) as caught:
        assemble(project, tech, make_design(project, tech), [ours, theirs])
    message = caught.value.cell_problems[2][0]
    assert f"belongs to project {other_project.code}, not {project.code}" in message
    assert not Module.objects.exists()


@pytest.mark.django_db
def test_count_must_match_arrangement_and_codes_must_exist(project, tech, films):
    cells = make_cells(project, tech, 3, films=films)
    design = make_design(project, tech)
    with pytest.raises(ValidationError) as caught:
        assemble(project, tech, design, cells, series=2, parallel=2)
    assert "2S2P takes 4 cells; 3 scanned" in caught.value.message_dict["cell_codes"][0]
    with pytest.raises(ValidationError) as caught:
        module_assemble(project=project, user=tech, housing_design=design, series_count=2, parallel_count=1,
                        cell_codes=[cells[0].item.code, "CELL-999999"], assembled_on=date(2025, 3, 1),
                        applied_stack_pressure_mpa=5.0)
    assert caught.value.cell_problems == {2: ["no cell has the code CELL-999999"]}
    with pytest.raises(ValidationError) as caught:
        module_assemble(project=project, user=tech, housing_design=design, series_count=2, parallel_count=1,
                        cell_codes=[cells[0].item.code, cells[0].item.code.lower()], assembled_on=date(2025, 3, 1),
                        applied_stack_pressure_mpa=5.0)
    assert "scanned twice" in caught.value.cell_problems[2][0]


@pytest.mark.django_db
def test_design_of_another_project_is_refused(project, other_project, tech, films):
    cells = make_cells(project, tech, 1, films=films)
    with pytest.raises(ValidationError) as caught:
        assemble(project, tech, make_design(other_project, tech), cells)
    assert "housing_design" in caught.value.message_dict


@pytest.mark.parametrize(("text", "expected"), [("4S2P", (4, 2)), ("4s2p", (4, 2)), ("12S", (12, 1)),
                                                 ("3P", (1, 3)), (" 2S 3P ", (2, 3))])
def test_arrangement_parses(text, expected):
    assert parse_arrangement(text) == expected


@pytest.mark.parametrize("text", ["", "S2P", "4x2", "0S1P", "99999S"])
def test_bad_arrangement_is_refused(text):
    with pytest.raises(ValidationError) as caught:
        parse_arrangement(text)
    assert "arrangement" in caught.value.message_dict


def assemble_post(design, codes, **changes):
    data = {
        "housing_design": design.pk, "arrangement": f"{len(codes)}S1P", "assembled_on": "2025-03-01",
        "applied_stack_pressure_mpa": "5", "notes": "",
        "cells-TOTAL_FORMS": str(len(codes)), "cells-INITIAL_FORMS": "0", "cells-MIN_NUM_FORMS": "0",
        "cells-MAX_NUM_FORMS": "2000",
    }
    for index, code in enumerate(codes):
        data[f"cells-{index}-cell_code"] = code
    data.update(changes)
    return data


@pytest.mark.django_db
def test_assembly_form_builds_the_module(project, tech, films):
    cells = make_cells(project, tech, 2, films=films)
    design = make_design(project, tech)
    response = client_for(tech).post(reverse("modules:assemble"),
                                     assemble_post(design, [cells[0].item.code, f" {cells[1].item.code.lower()} "]))
    module = Module.objects.get()
    assert response.status_code == 302 and response["Location"] == module.item.get_absolute_url()
    assert module.arrangement == "2S1P"
    page = client_for(tech).get(module.item.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert cells[1].item.code in text and design.name in text and "Stack pressure over time" in text


@pytest.mark.django_db
def test_assembly_form_shows_each_refusal_beside_its_row(project, tech, sci, films):
    good, held, used = make_cells(project, tech, 3, films=films)
    design = make_design(project, tech)
    item_quarantine(item=held.item, user=sci, reason="failed OCV check")
    make_module(project, tech, cells=[used], design=design)
    response = client_for(tech).post(reverse("modules:assemble"),
                                     assemble_post(design, [good.item.code, held.item.code, used.item.code]))
    assert response.status_code == 200
    rows = response.context["formset"].forms
    assert rows[0].errors == {}
    assert "failed OCV check" in rows[1].errors["cell_code"][0]
    assert f"already in module {Module.objects.get().item.code}" in rows[2].errors["cell_code"][0]
    assert "only 0 pcs left" in " ".join(rows[2].errors["cell_code"])
    text = response.content.decode()
    assert "2 of the scanned cells cannot go into this module" in text
    assert f'value="{held.item.code}"' in text  # what was scanned is kept
    assert Module.objects.count() == 1
    good.item.refresh_from_db()
    assert good.item.status == ItemStatus.DRAFT and good.item.quantity_used == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("applied_stack_pressure_mpa", "nan"),
                                              ("applied_stack_pressure_mpa", "1e400"),
                                              ("arrangement", "lots"), ("housing_design", "999999"),
                                              ("assembled_on", "yesterday")])
def test_assembly_form_survives_bad_input(project, tech, films, field, value):
    cells = make_cells(project, tech, 1, films=films)
    response = client_for(tech).post(reverse("modules:assemble"),
                                     assemble_post(make_design(project, tech), [cells[0].item.code], **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Module.objects.exists()


@pytest.mark.django_db
def test_partners_may_not_assemble(project, partner):
    assert client_for(partner).get(reverse("modules:assemble")).status_code == 403
    assert client_for(partner).post(reverse("modules:assemble"), {}).status_code == 403
