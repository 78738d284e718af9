"""stack_energy on real cells built through the services, by hand; the cell_stack_energy and Figure 1 jobs.

The factory films by hand (tests/utils/factories_electrodes.py): cathode 24 mg/cm², 82 µm, 3.84 mAh/cm²;
separator 0.480 g over 110 cm² at 30 µm, i.e. 4.3636 mg/cm² (its measured density 1.4545 g/cm³ is the
dense electrolyte's theoretical density times 1 − porosity); graphite anode 19.2 mg/cm², 122 µm,
4.28544 mAh/cm². Lithium: 3861 mAh/g, 2062 mAh/cm³. Al 2.70 g/cm³ (12 µm), Ni 8.91 g/cm³ (10 µm).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import job_submit
from assbtrack.jobs.tasks import run_job
from cells.choices import JOB_FIGURE1, AnodeType, CellFormat
from cells.energy import run_stack_energy, scenario_names
from cells.selectors import cell_stack_energy_inputs
from cells.services import cell_stack_energy_submit, figure1_submit
from tests.utils.factories_cells import make_cell

pytestmark = pytest.mark.django_db

CATHODE_MG, CATHODE_UM, CATHODE_MAH = 24.0, 82.0, 3.84
SEPARATOR_MG, SEPARATOR_UM = 480.0 / 110.0, 30.0
AL_MG, AL_UM = 12e-4 * 2.70 * 1000, 12.0  # 3.24 mg/cm²
NI_MG, NI_UM = 10e-4 * 8.91 * 1000, 10.0  # 8.91 mg/cm²
LI_FOIL_MG = 0.02 * 1000 / 10.0  # 0.02 g of foil over a 10 cm² layer: 2 mg/cm²
NP_LI = 0.02 * 3861 / (10 * 3.84)  # 2.0109375
LI_CHARGED_UM = (NP_LI * CATHODE_MAH + CATHODE_MAH) / 2062 * 1e4  # 56.07 µm with the cathode's lithium plated
AREAL_ENERGY = CATHODE_MAH * 3.8  # 14.592 mWh/cm²


def result_of(cell):
    return run_stack_energy(cell_stack_energy_inputs(cell))


def test_single_layer_lithium_cell_by_hand(project, tech):
    cell = make_cell(project, tech, layers=1, energy=None)
    result = result_of(cell)
    layers = result["layers"]
    assert layers["cathode_collector"]["mass_mg_per_cm2"] == pytest.approx(AL_MG)  # whole foil: single-sided
    assert layers["cathode"]["mass_mg_per_cm2"] == pytest.approx(CATHODE_MG)
    assert layers["cathode"]["thickness_um"] == pytest.approx(CATHODE_UM)  # the measured film thickness again
    assert layers["separator"]["mass_mg_per_cm2"] == pytest.approx(SEPARATOR_MG)
    assert layers["separator"]["thickness_um"] == pytest.approx(SEPARATOR_UM)
    assert layers["anode"]["mass_mg_per_cm2"] == pytest.approx(LI_FOIL_MG)
    assert layers["anode"]["thickness_um"] == pytest.approx(LI_CHARGED_UM)
    assert layers["anode_collector"]["mass_mg_per_cm2"] == pytest.approx(NI_MG)

    mass_mg = AL_MG + CATHODE_MG + SEPARATOR_MG + LI_FOIL_MG + NI_MG  # 42.51 mg/cm²
    thickness_cm = (AL_UM + CATHODE_UM + SEPARATOR_UM + LI_CHARGED_UM + NI_UM) / 1e4  # 190.07 µm
    assert result["areal_energy_mwh_per_cm2"] == pytest.approx(AREAL_ENERGY)
    assert result["cell_specific_energy_wh_per_kg"] == pytest.approx(AREAL_ENERGY / mass_mg * 1000)  # 343 Wh/kg
    assert result["cell_energy_density_wh_per_l"] == pytest.approx(AREAL_ENERGY / thickness_cm)  # 768 Wh/L
    assert 340 < result["cell_specific_energy_wh_per_kg"] < 346


def test_multilayer_stack_shares_its_collectors(project, tech):
    cell = make_cell(project, tech, layers=2, energy=None)
    result = result_of(cell)
    mass_mg = AL_MG / 2 + CATHODE_MG + SEPARATOR_MG + LI_FOIL_MG + NI_MG / 2
    thickness_cm = (AL_UM / 2 + CATHODE_UM + SEPARATOR_UM + LI_CHARGED_UM + NI_UM / 2) / 1e4
    assert result["cell_specific_energy_wh_per_kg"] == pytest.approx(AREAL_ENERGY / mass_mg * 1000)
    assert result["cell_energy_density_wh_per_l"] == pytest.approx(AREAL_ENERGY / thickness_cm)


def test_graphite_cell_takes_its_anode_film(project, tech):
    cell = make_cell(project, tech, layers=1, anode_type=AnodeType.GRAPHITE, energy=None)
    inputs = cell_stack_energy_inputs(cell)
    assert inputs["anode"]["type"] == "graphite"
    assert inputs["anode"]["np_ratio"] == pytest.approx(0.0192 * 0.6 * 372 / 3.84)
    result = result_of(cell)
    # N/P·Q_c = 4.28544 mAh/cm² of graphite at 372 mAh/g and 60 wt %: 19.2 mg/cm², the film's own loading.
    assert result["layers"]["anode"]["mass_mg_per_cm2"] == pytest.approx(19.2)
    assert result["layers"]["anode"]["thickness_um"] == pytest.approx(122.0)
    mass_mg = AL_MG + CATHODE_MG + SEPARATOR_MG + 19.2 + NI_MG
    assert result["areal_energy_mwh_per_cm2"] == pytest.approx(CATHODE_MAH * (3.8 - 0.15))
    assert result["cell_specific_energy_wh_per_kg"] == pytest.approx(CATHODE_MAH * 3.65 / mass_mg * 1000)


def test_pellet_has_no_collectors_and_anode_free_no_anode_mass(project, tech):
    pellet = make_cell(project, tech, layers=1, cell_format=CellFormat.PELLET, energy=None)
    assert result_of(pellet)["layers"]["cathode_collector"]["mass_mg_per_cm2"] == 0.0
    free = make_cell(project, tech, layers=1, anode_type=AnodeType.ANODE_FREE, energy=None)
    layers = result_of(free)["layers"]
    assert layers["anode"]["mass_mg_per_cm2"] == 0.0
    assert layers["anode"]["thickness_um"] == pytest.approx(CATHODE_MAH / 2062 * 1e4)


def test_cell_stack_energy_job_stores_the_figures(project, tech):
    cell = make_cell(project, tech, layers=1, energy=None)
    expected = result_of(cell)
    job = cell_stack_energy_submit(cell=cell, user=tech)
    assert job.kind == "cell_stack_energy" and job.subject_id == cell.pk and job.queue == "models"
    run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["cell"] == cell.item.code
    assert job.result["layers"]["anode"]["thickness_um"] == pytest.approx(LI_CHARGED_UM)
    cell.refresh_from_db()
    assert cell.specific_energy_wh_per_kg == pytest.approx(expected["cell_specific_energy_wh_per_kg"])
    assert cell.energy_density_wh_per_l == pytest.approx(expected["cell_energy_density_wh_per_l"])
    assert cell.history.first().history_change_reason.startswith("stack_energy model")


def test_cell_stack_energy_refuses_inputs_that_are_not_a_design(tech):
    with pytest.raises(ValidationError) as caught:
        job_submit(kind="cell_stack_energy", inputs={"cell": "CELL-000001", "design": {"cathode": {}}}, user=tech)
    assert any(key.startswith("cathode") for key in caught.value.message_dict)
    assert not Job.objects.exists()


def test_figure1_job_draws_the_presets_and_the_cells(project, tech):
    cell = make_cell(project, tech, layers=2, energy=None)
    job = figure1_submit(cells=[cell], user=tech)
    assert job.kind == JOB_FIGURE1 and job.queue == "plots"
    run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    bars = job.result["bars"]
    assert [bar["label"] for bar in bars] == [*scenario_names(), cell.item.code]
    preset_wh_per_kg = [bar["wh_per_kg"] for bar in bars[:-1]]
    assert preset_wh_per_kg == sorted(preset_wh_per_kg)  # a < b < … < g, the paper's staircase
    assert bars[-1]["wh_per_kg"] == pytest.approx(result_of(cell)["cell_specific_energy_wh_per_kg"])
    assert bars[-1]["description"] == "real cell"
    names = {file.name for file in job.files.all()}
    assert names == {"figure1.png", "figure1.svg"}
    assert job.files.get(name="figure1.png").file.read(4) == b"\x89PNG"


def test_real_cells_stand_on_zero_beside_the_preset_waterfall():
    from cells.figures import figure1_figure

    presets = [("a", 24.0, 74.0), ("c", 267.0, 674.0), ("g", 472.0, 1194.0)]
    figure = figure1_figure(presets, [("CELL-000007", 338.0, 798.0)], "Figure 1 and CELL-000007")
    mass_axes, volume_axes = figure.axes
    assert [tick.get_text() for tick in mass_axes.get_xticklabels()] == ["a", "c", "g", "CELL-000007"]
    cell_bar = mass_axes.patches[-1]
    assert (cell_bar.get_y(), cell_bar.get_height()) == (0.0, 338.0)  # not floating on g's 472
    assert volume_axes.patches[-1].get_height() == 798.0
    floating_c = mass_axes.patches[1]
    assert (floating_c.get_y(), floating_c.get_y() + floating_c.get_height()) == (24.0, 267.0)


def test_a_repeated_energy_run_reuses_the_result_and_restores_the_figures(project, tech):
    cell = make_cell(project, tech, layers=1, energy=None)
    first = cell_stack_energy_submit(cell=cell, user=tech)
    run_job.apply(args=[first.pk])
    cell.refresh_from_db()
    modelled = cell.specific_energy_wh_per_kg
    from cells.services import cell_energy_set

    cell_energy_set(cell=cell, user=tech, specific_energy_wh_per_kg=100.0, energy_density_wh_per_l=200.0)
    again = cell_stack_energy_submit(cell=cell, user=tech)
    assert again.reused_from_id == first.pk and again.status == JobStatus.SUCCEEDED
    cell.refresh_from_db()
    assert cell.specific_energy_wh_per_kg == pytest.approx(modelled)
