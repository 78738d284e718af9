"""The modules jobs on the REAL Celery worker: a real module's efficiency, and film scans to pressure maps."""

from __future__ import annotations

import math

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from assbtrack.jobs.models import Job, JobStatus
from modules.housing import run_module_efficiency
from modules.models import PressureMapResult, PressureScan
from modules.services import pressure_reading_create
from tests.conftest import wait_for
from tests.utils.checks import client_for
from tests.utils.factories_modules import (
    centre_heavy_density,
    film_png,
    make_cell_films,
    make_cells,
    make_design,
    make_module,
    uniform_density,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CELL_WH = 0.00384 * 3.8  # one factory cell: 3.84 mAh at 3.8 V


def finished(job_id: int) -> Job | None:
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None


def test_module_efficiency_of_a_real_module_on_the_worker(celery_worker_process, settings, project, sci, tech):
    settings.MEDIA_ROOT = celery_worker_process["media"]  # the plot the worker stores is read back here
    cells = make_cells(project, tech, 4, films=make_cell_films(project, tech))
    design = make_design(project, sci, plate_modulus_gpa=190.0, plate_density_kg_per_m3=7900.0,
                         deflection_ratio=400.0, plate_allowable_stress_mpa=250.0)
    module = make_module(project, tech, cells=cells, design=design, series=2, parallel=2, pressure_mpa=3.0)
    pressure_reading_create(module=module, user=tech, kind="set", pressure_mpa=6.0, measured_at=timezone.now())

    client = client_for(sci)
    response = client.post(reverse("modules:efficiency", args=[module.item.code]), {"system_sizes_kwh": "1, 10"})
    job = Job.objects.get(kind="module_efficiency_for_module")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.subject_id == module.item.pk

    done = wait_for(lambda: finished(job.pk), timeout_s=60, message=f"job {job.pk} to finish")
    assert done.status == JobStatus.SUCCEEDED, done.error

    # The inputs worked out by hand from the module's own records: four cells, their stored figures,
    # the factory footprint, the housing's plate and the latest applied pressure.
    expected_inputs = {
        "system_energy_kwh": 4 * CELL_WH / 1000,
        "cell_specific_energy_wh_per_kg": 400.0,
        "cell_energy_density_wh_per_l": 1000.0,
        "cell_length_mm": 300.0,
        "cell_width_mm": 100.0,
        "stack_pressure_mpa": 6.0,
        "plate_modulus_gpa": 190.0,
        "plate_density_kg_per_m3": 7900.0,
        "deflection_ratio": 400.0,
        "plate_allowable_stress_mpa": 250.0,
    }
    expected = run_module_efficiency(expected_inputs)
    got = done.result["module_efficiency"]
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9), key
    assert done.inputs["model"] == pytest.approx(expected_inputs, rel=1e-12)
    assert done.result["beats_li_ion_by_mass"] == (expected["gravimetric_efficiency"] > 0.82)

    sizes = [curve["system_energy_kwh"] for curve in done.result["curves"]]
    assert sizes == pytest.approx(sorted([4 * CELL_WH / 1000, 1.0, 10.0]))  # its own size gets a panel
    names = {f.name for f in done.files.all()}
    assert names == {f"module-efficiency-{module.item.code}.png", f"module-efficiency-{module.item.code}.svg"}
    image = client.get(reverse("jobs:file", args=[job.pk, f"module-efficiency-{module.item.code}.png"]))
    assert image.status_code == 200 and b"".join(image.streaming_content).startswith(b"\x89PNG")

    page = client.get(module.item.get_absolute_url()).content.decode()
    assert f"module-efficiency-{module.item.code}.png" in page
    assert f"{100 * expected['gravimetric_efficiency']:.1f} %" in page


def upload(client, design, name, density):
    return client.post(reverse("modules:scan-upload"), {
        "design": design.pk, "module_code": "", "label": name, "scanned_on": "2025-03-02",
        "image": SimpleUploadedFile(f"{name}.png", film_png(density), content_type="image/png"),
        "calibration_low_intensity": "0", "calibration_low_pressure_mpa": "0", "calibration_high_intensity": "200",
        "calibration_high_pressure_mpa": "10", "grid_rows": "20", "grid_cols": "20", "threshold_fraction": "0.1",
    })


def test_film_scans_are_mapped_on_the_worker(celery_worker_process, settings, project, tech):
    settings.MEDIA_ROOT = celery_worker_process["media"]  # one shared store, as on a real deployment
    design = make_design(project, tech)
    client = client_for(tech)
    assert upload(client, design, "uniform", uniform_density()).status_code == 302
    assert upload(client, design, "centre-heavy", centre_heavy_density()).status_code == 302
    scans = {scan.label: scan for scan in PressureScan.objects.select_related("job")}
    for scan in scans.values():
        done = wait_for(lambda scan=scan: finished(scan.job_id), timeout_s=60, message=f"scan {scan.pk} map")
        assert done.status == JobStatus.SUCCEEDED, done.error
        assert done.queue == "plots"
        assert {f.name for f in done.files.all()} == {f"pressure-map-scan-{scan.pk}.png",
                                                      f"pressure-map-scan-{scan.pk}.svg"}

    uniform = PressureMapResult.objects.get(scan=scans["uniform"])
    heavy = PressureMapResult.objects.get(scan=scans["centre-heavy"])
    assert uniform.mean_mpa == pytest.approx(5.0) and uniform.coefficient_of_variation == pytest.approx(0, abs=1e-12)
    assert heavy.mean_mpa == pytest.approx(3.5)
    assert heavy.coefficient_of_variation == pytest.approx(math.sqrt(6.75) / 3.5)
    assert heavy.centre_to_edge_ratio == pytest.approx(4.0)
    assert uniform.job_id == scans["uniform"].job_id
    assert heavy.job.result["coefficient_of_variation"] == pytest.approx(heavy.coefficient_of_variation)

    heatmap = client.get(reverse("modules:scan-heatmap", args=[scans["centre-heavy"].pk]))
    assert heatmap.status_code == 200 and heatmap["Content-Type"] == "image/png"
    side_by_side = client.get(reverse("modules:pressure-maps") + f"?design={design.pk}").content.decode()
    assert "centre-heavy" in side_by_side and "74.2 %" in side_by_side and "0.0 %" in side_by_side


def test_the_module_model_runs_its_cells_energy_jobs_first_on_the_worker(celery_worker_process, project, sci, tech,
                                                                         monkeypatch):
    from assbtrack.jobs import tasks
    from assbtrack.jobs.services import jobs_resend_stale
    from cells.energy import run_stack_energy
    from cells.selectors import cell_stack_energy_inputs
    from modules.selectors import module_efficiency_inputs
    from modules.services import module_efficiency_submit

    cells = make_cells(project, tech, 3, energy=None, films=make_cell_films(project, tech))
    module = make_module(project, tech, cells=cells, series=3)
    send = tasks.run_job.apply_async

    def cell_jobs_held_back(*args, **kwargs):
        # the cells' jobs stay queued (their send is lost, as when the broker blinks) so that the module job
        # reaches the worker first and must wait for them
        if Job.objects.get(pk=kwargs["args"][0]).kind == "cell_stack_energy":
            raise ConnectionError("held back by the test")
        return send(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(tasks.run_job, "apply_async", cell_jobs_held_back)
        job = module_efficiency_submit(module=module, user=sci, system_sizes_kwh=[1.0])
        cell_jobs = list(Job.objects.filter(kind="cell_stack_energy").order_by("pk"))
        assert job.inputs["cell_energy_jobs"] == [cell_job.pk for cell_job in cell_jobs] and len(cell_jobs) == 3
        waiting = wait_for(lambda: Job.objects.filter(pk=job.pk, progress_message="waiting for 3 cell energy jobs",
                                                      status=JobStatus.QUEUED, worker__startswith="test-").first(),
                           timeout_s=60, message=f"module job {job.pk} to wait for the cells' jobs")
        assert waiting.attempts == 0
        assert all(cell_job.status == JobStatus.QUEUED for cell_job in Job.objects.filter(kind="cell_stack_energy"))

    assert {cell_job.pk for cell_job in cell_jobs} <= set(jobs_resend_stale(older_than_s=0))
    done = wait_for(lambda: finished(job.pk), timeout_s=90, message=f"module job {job.pk} to finish")
    assert done.status == JobStatus.SUCCEEDED, done.error
    for cell_job in cell_jobs:
        cell_job.refresh_from_db()
        assert cell_job.status == JobStatus.SUCCEEDED, cell_job.error
        assert cell_job.finished_at <= done.started_at
    expected = run_stack_energy(cell_stack_energy_inputs(cells[0]))
    for cell in cells:
        cell.refresh_from_db()
        assert cell.specific_energy_wh_per_kg == pytest.approx(expected["cell_specific_energy_wh_per_kg"])
    # three identical cells: the module's cells are as good as one of them
    assert done.result["model"]["cell_specific_energy_wh_per_kg"] == pytest.approx(
        expected["cell_specific_energy_wh_per_kg"])
    assert done.result["model"] == pytest.approx(module_efficiency_inputs(module))
    assert done.attempts == 1  # the waits were not attempts
