"""Running the cell-to-module model from the pages: refused with a reason when the records cannot feed it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assbtrack.jobs.models import Job
from modules.selectors import module_efficiency_inputs
from tests.utils.checks import client_for
from tests.utils.factories_modules import make_cells, make_design, make_module


@pytest.mark.django_db
def test_cells_without_energy_figures_are_named(project, tech, sci):
    cells = make_cells(project, tech, 2, energy=None)
    module = make_module(project, tech, cells=cells)
    response = client_for(sci).post(reverse("modules:efficiency", args=[module.item.code]),
                                    {"system_sizes_kwh": "1, 10, 20"}, follow=True)
    text = response.content.decode()
    assert "The model cannot run" in text and cells[0].item.code in text and cells[1].item.code in text
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_mixed_cells_are_combined_by_energy(project, tech):
    # 0.014592 Wh each; 400 and 200 Wh/kg → masses 3.648e-5 and 7.296e-5 kg; 1000 and 500 Wh/L likewise.
    cells = make_cells(project, tech, 1, energy=(400.0, 1000.0)) + make_cells(project, tech, 1, energy=(200.0, 500.0))
    inputs = module_efficiency_inputs(make_module(project, tech, cells=cells, pressure_mpa=7.0))
    cell_wh = 0.00384 * 3.8
    # Total energy over total mass: 2E / (E/400 + E/200) = 800/3 Wh/kg; by volume 2000/3 Wh/L.
    assert inputs["cell_specific_energy_wh_per_kg"] == pytest.approx(2 * cell_wh / (cell_wh / 400 + cell_wh / 200))
    assert inputs["cell_specific_energy_wh_per_kg"] == pytest.approx(800 / 3)
    assert inputs["cell_energy_density_wh_per_l"] == pytest.approx(2000 / 3)
    assert inputs["stack_pressure_mpa"] == 7.0


@pytest.mark.django_db
@pytest.mark.parametrize("sizes", ["1, ten", "0", "nan", "-5", "1e400"])
def test_bad_system_sizes_are_refused(project, tech, sci, sizes):
    module = make_module(project, tech, cell_count=1)
    response = client_for(sci).post(reverse("modules:efficiency", args=[module.item.code]),
                                    {"system_sizes_kwh": sizes}, follow=True)
    assert response.status_code == 200
    assert "The model cannot run" in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_partners_may_not_run_models(project, tech, partner):
    module = make_module(project, tech, cell_count=1)
    assert client_for(partner).post(reverse("modules:efficiency", args=[module.item.code])).status_code == 403


@pytest.mark.django_db
def test_design_sweep_is_queued_on_the_plots_queue(project, tech, django_capture_on_commit_callbacks):
    design = make_design(project, tech, plate_modulus_gpa=70.0, plate_density_kg_per_m3=2700.0)
    url = reverse("modules:design-sweep", args=[design.pk])
    client = client_for(tech)
    bad = client.post(url, {"cell_specific_energy_wh_per_kg": "nan", "cell_energy_density_wh_per_l": "1000",
                            "cell_length_mm": "300", "cell_width_mm": "100", "system_sizes_kwh": ""})
    assert bad.status_code == 400 and "cell_specific_energy_wh_per_kg" in bad.context["sweep_form"].errors
    with django_capture_on_commit_callbacks(execute=False):
        good = client.post(url, {"cell_specific_energy_wh_per_kg": "400", "cell_energy_density_wh_per_l": "1000",
                                 "cell_length_mm": "300", "cell_width_mm": "100", "system_sizes_kwh": "20, 1"})
    job = Job.objects.get(kind="module_efficiency_sweep_plot")
    assert good.status_code == 302 and job.queue == "plots"
    assert job.inputs["model"]["plate_modulus_gpa"] == 70.0 and job.inputs["model"]["system_sizes_kwh"] == [1.0, 20.0]
