"""Plot jobs of materials: inputs gathered from real records, submitted once per data set, drawn by the handlers,
shown on the batch and composition pages; and one run on the real worker."""

from __future__ import annotations

import math

import pytest
from django.core.exceptions import ValidationError

from assbtrack.domain.inputs import ModelInputError
from assbtrack.jobs.handlers import JobContext, job_handler
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.plots import plot_panels
from assbtrack.jobs.services import job_start, job_submit, job_succeed
from materials.choices import ARRHENIUS_PLOT, CONTROL_CHART, EXPOSURE_PLOT, MILLING_PLOT
from materials.selectors import (
    arrhenius_plot_inputs,
    batch_detail_queryset,
    batch_plot_jobs,
    batch_plot_specs,
)
from materials.services import batch_plots_submit, composition_plots_submit, conductivity_spec_set, exposure_add
from tests.conftest import wait_for
from tests.utils.checks import client_for
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

K_B_EV_PER_K = 8.617333262e-5
PNG_SIGNATURE = b"\x89PNG"


def arrhenius_sigma(temperature_c: float, *, sigma_25c: float = 3.0, activation_energy_ev: float = 0.30) -> float:
    """σ(T) from σ·T ∝ exp(−Ea/k_B·T), pinned at σ(25 °C)."""
    t_k, t25_k = temperature_c + 273.15, 298.15
    return sigma_25c * t25_k / t_k * math.exp(-activation_energy_ev / K_B_EV_PER_K * (1 / t_k - 1 / t25_k))


def batch_with_temperatures(project, user, temperatures=(25.0, 40.0, 60.0, 80.0)):
    batch = make_batch(project, user)
    for temperature_c in temperatures:
        make_measurement(batch, user, conductivity_ms_per_cm=arrhenius_sigma(temperature_c),
                         temperature_c=temperature_c)
    return batch


def run(kind: str, inputs: dict):
    return job_handler(kind).run(JobContext(job_id=0, inputs=inputs, subject_id=None, report_progress=lambda *a: None))


@pytest.mark.django_db
def test_arrhenius_plot_from_a_batch_recovers_the_activation_energy(project, tech):
    batch = batch_with_temperatures(project, tech)
    make_measurement(batch, tech, conductivity_ms_per_cm=arrhenius_sigma(25.0) * 1.02)  # a second 25 °C pellet
    inputs = arrhenius_plot_inputs(batch_detail_queryset().get(pk=batch.pk))
    assert [point["temperature_c"] for point in inputs["points"]] == [25.0, 40.0, 60.0, 80.0]
    assert inputs["points"][0]["conductivity_ms_per_cm"] == pytest.approx(3.0 * 1.01)  # repeats are averaged
    output = run(ARRHENIUS_PLOT, inputs)
    assert output.result["activation_energy_ev"] == pytest.approx(0.30, abs=0.005)
    assert output.files["arrhenius.png"].startswith(PNG_SIGNATURE)
    assert output.files["arrhenius.svg"].lstrip().startswith(b"<?xml")


@pytest.mark.django_db
def test_no_arrhenius_plot_below_three_temperatures(project, tech):
    batch = batch_with_temperatures(project, tech, temperatures=(25.0, 60.0))
    assert arrhenius_plot_inputs(batch_detail_queryset().get(pk=batch.pk)) is None
    assert batch_plots_submit(batch=batch, user=tech) == []


def test_plot_inputs_are_checked_when_submitted():
    with pytest.raises(ValidationError) as refused:
        job_submit(kind=ARRHENIUS_PLOT, inputs={"title": "x", "points": [{"temperature_c": "hot",
                                                                           "conductivity_ms_per_cm": 1}]}, user=None)
    assert "points[0].temperature_c" in refused.value.message_dict
    with pytest.raises(ModelInputError):
        run(CONTROL_CHART, {"title": "x", "project": "p", "composition": "c", "spec_ms_per_cm": 2,
                            "points": [{"measured_at": "yesterday", "conductivity_ms_per_cm": 1, "label": "a"}]})


@pytest.mark.django_db
def test_batch_plots_are_submitted_once_per_data_set(project, tech):
    batch = batch_with_temperatures(project, tech)
    first = batch_plots_submit(batch=batch, user=tech)
    assert [job.kind for job in first] == [ARRHENIUS_PLOT]
    assert first[0].subject_id == batch.pk and first[0].queue == "plots"
    assert batch_plots_submit(batch=batch, user=tech) == first
    assert Job.objects.count() == 1
    before = make_measurement(batch, tech, conductivity_ms_per_cm=3.5)
    after = make_measurement(batch, tech, conductivity_ms_per_cm=2.1)
    exposure_add(batch=batch, user=tech, dew_point_c=-30, duration_h=2, measurement_before=before,
                 measurement_after=after)
    second = batch_plots_submit(batch=batch, user=tech)
    assert {job.kind for job in second} == {ARRHENIUS_PLOT, EXPOSURE_PLOT}
    assert second[0].pk != first[0].pk  # a new 25 °C value changed the Arrhenius points
    exposure_job = next(job for job in second if job.kind == EXPOSURE_PLOT)
    assert exposure_job.inputs["points"][0]["retention_percent"] == pytest.approx(60.0)
    fresh = batch_detail_queryset().get(pk=batch.pk)
    panels = plot_panels(batch_plot_specs(fresh), batch_plot_jobs(fresh))
    assert [(panel.kind, panel.job.pk, panel.up_to_date) for panel in panels] == [
        (ARRHENIUS_PLOT, second[0].pk, True), (EXPOSURE_PLOT, exposure_job.pk, True),
    ]
    make_measurement(batch, tech, conductivity_ms_per_cm=9.0, temperature_c=70)
    fresh = batch_detail_queryset().get(pk=batch.pk)
    assert not plot_panels(batch_plot_specs(fresh), batch_plot_jobs(fresh))[0].up_to_date


@pytest.mark.django_db
def test_composition_plots_from_real_batches(project, tech, sci):
    lot = make_lot(project, tech, mass_g=1000)
    expected = {}
    for milling_time_h in (0.25, 0.5, 1.0, 2.0, 4.0):
        batch = make_batch(project, tech, precursors=[(lot.item, 10.0)], milling_time_h=milling_time_h)
        sigma = 3.2 * (1 - math.exp(-milling_time_h / 0.33))
        make_measurement(batch, tech, conductivity_ms_per_cm=sigma)
        expected[milling_time_h] = sigma
    assert {job.kind for job in composition_plots_submit(project=project, composition="Li6PS5Cl", user=tech)} == {
        MILLING_PLOT}  # no spec yet, so no control chart
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    jobs = {job.kind: job for job in composition_plots_submit(project=project, composition="Li6PS5Cl", user=tech)}
    assert set(jobs) == {MILLING_PLOT, CONTROL_CHART}
    milling = jobs[MILLING_PLOT]
    assert {p["milling_time_h"]: p["conductivity_ms_per_cm"] for p in milling.inputs["points"]} == pytest.approx(
        expected)
    output = run(MILLING_PLOT, milling.inputs)
    assert output.result["sigma_sat_ms_per_cm"] == pytest.approx(3.2, rel=1e-3)
    assert output.result["t95_h"] == pytest.approx(0.99, rel=1e-3)
    assert output.files["milling_saturation.png"].startswith(PNG_SIGNATURE)
    chart = run(CONTROL_CHART, jobs[CONTROL_CHART].inputs)
    assert chart.result["batches"] == 5 and len(chart.result["below_spec"]) == 1  # 0.25 h: 1.70 mS/cm
    assert chart.files["control_chart.png"].startswith(PNG_SIGNATURE)
    page = client_for(tech).get(f"/materials/compositions/{project.code}/Li6PS5Cl/").content.decode()
    assert f"/jobs/{milling.pk}/status.json" in page and f"/jobs/{jobs[CONTROL_CHART].pk}/status.json" in page
    # Once drawn (as the worker would store it), the page shows the picture and the fitted numbers.
    job_start(job_id=milling.pk)
    job_succeed(job_id=milling.pk, output=output)
    page = client_for(tech).get(f"/materials/compositions/{project.code}/Li6PS5Cl/").content.decode()
    assert f'src="/jobs/{milling.pk}/files/milling_saturation.png"' in page
    assert "t95 = 0.99 h" in page and "σ_sat = 3.2 mS/cm" in page


@pytest.mark.django_db
def test_forms_queue_the_plots_after_the_write_commits(project, tech, django_capture_on_commit_callbacks):
    batch = batch_with_temperatures(project, tech, temperatures=(40.0, 60.0))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(tech).post(f"/materials/batches/{batch.item.code}/measurements/new/", {
            "temperature_c": "80", "thickness_mm": "1", "diameter_mm": "10", "resistance_ohm": "3"})
    assert response.status_code == 302
    assert not Job.objects.exists()  # nothing is queued before the measurement is committed
    for callback in callbacks:
        if getattr(callback, "__name__", "") == "submit":
            callback()
    assert Job.objects.filter(kind=ARRHENIUS_PLOT, subject=batch.item).count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_draws_a_batch_arrhenius_plot(celery_worker_process, settings, project, sci):
    settings.MEDIA_ROOT = celery_worker_process["media"]  # the worker's file store, read back here
    batch = batch_with_temperatures(project, sci)
    [job] = batch_plots_submit(batch=batch, user=sci)

    def finished():
        current = Job.objects.get(pk=job.pk)
        return current if current.is_finished else None

    done = wait_for(finished, timeout_s=60, message=f"plot job {job.pk}")
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.result["activation_energy_ev"] == pytest.approx(0.30, abs=0.005)
    png = done.files.get(name="arrhenius.png")
    with png.file.open("rb") as handle:
        assert handle.read(4) == PNG_SIGNATURE
    page = client_for(sci).get(f"/materials/batches/{batch.item.code}/").content.decode()
    assert f"/jobs/{job.pk}/files/arrhenius.png" in page
    assert "Ea = 0.300 eV" in page
    assert client_for(sci).get(f"/jobs/{job.pk}/files/arrhenius.png").status_code == 200
