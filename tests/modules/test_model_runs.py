"""Running the cell-to-module model from the pages: refused with a reason when the records cannot feed it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assbtrack.jobs.models import Job
from modules.selectors import module_efficiency_inputs
from tests.utils.checks import client_for
from tests.utils.factories_modules import make_cells, make_design, make_module


@pytest.mark.django_db
def test_cells_without_energy_figures_get_their_energy_jobs_and_the_module_job_waits(project, tech, sci):
    from assbtrack.jobs.tasks import run_job

    cells = make_cells(project, tech, 2, energy=None)
    module = make_module(project, tech, cells=cells)
    response = client_for(sci).post(reverse("modules:efficiency", args=[module.item.code]),
                                    {"system_sizes_kwh": "1, 10, 20"})
    module_job = Job.objects.get(kind="module_efficiency_for_module")
    assert response.status_code == 302 and response["Location"] == module_job.get_absolute_url()
    cell_jobs = list(Job.objects.filter(kind="cell_stack_energy").order_by("pk"))
    assert [job.subject_id for job in cell_jobs] == [cell.item.pk for cell in cells]
    assert module_job.inputs["cell_energy_jobs"] == [job.pk for job in cell_jobs]
    assert "model" not in module_job.inputs

    run_job.apply(args=[module_job.pk])  # the cells' jobs have not run: it goes back to the queue
    module_job.refresh_from_db()
    assert (module_job.status, module_job.progress_message) == ("queued", "waiting for 2 cell energy jobs")
    assert module_job.attempts == 0  # waiting is not an attempt
    assert "waiting for 2 cell energy jobs" in client_for(sci).get(module_job.get_absolute_url()).content.decode()

    run_job.apply(args=[cell_jobs[0].pk])
    run_job.apply(args=[module_job.pk])
    module_job.refresh_from_db()
    assert module_job.progress_message == "waiting for 1 cell energy job"

    run_job.apply(args=[cell_jobs[1].pk])
    run_job.apply(args=[module_job.pk])
    module_job.refresh_from_db()
    assert module_job.status == "succeeded", module_job.error
    assert module_job.attempts == 1
    for cell in cells:
        cell.refresh_from_db()
    # the model ran on the figures the cells' jobs stored
    assert module_job.result["model"] == pytest.approx(module_efficiency_inputs(module))
    assert module_job.result["model"]["cell_specific_energy_wh_per_kg"] == pytest.approx(
        cells[0].specific_energy_wh_per_kg)


@pytest.mark.django_db
def test_a_failed_cell_energy_job_fails_the_module_job_naming_the_cell(project, tech, sci):
    from assbtrack.jobs.services import job_fail
    from assbtrack.jobs.tasks import run_job
    from modules.services import module_efficiency_submit

    cells = make_cells(project, tech, 2, energy=None)
    module = make_module(project, tech, cells=cells)
    module_job = module_efficiency_submit(module=module, user=sci)
    first, second = Job.objects.filter(kind="cell_stack_energy").order_by("pk")
    run_job.apply(args=[first.pk])
    job_fail(job_id=second.pk, error="the layers changed")
    run_job.apply(args=[module_job.pk])
    module_job.refresh_from_db()
    assert module_job.status == "failed"
    assert f"cell {cells[1].item.code}" in module_job.error and f"job {second.pk}" in module_job.error
    assert "the layers changed" in module_job.error


@pytest.mark.django_db
def test_cells_whose_energy_cannot_be_computed_are_named(project, tech, sci):
    from cells.models import CellLayer

    cells = make_cells(project, tech, 2, energy=None)
    module = make_module(project, tech, cells=cells)
    CellLayer.objects.filter(cell=cells[1]).delete()  # no layers: nothing to compute the energy from
    response = client_for(sci).post(reverse("modules:efficiency", args=[module.item.code]),
                                    {"system_sizes_kwh": "1, 10, 20"}, follow=True)
    text = response.content.decode()
    assert "The model cannot run" in text and f"{cells[1].item.code} has no layers" in text
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
