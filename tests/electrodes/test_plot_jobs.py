"""Plot jobs of the electrodes app: input checks at submission, and one film plot drawn by the real worker."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assbtrack.jobs.handlers import JobContext, job_handler
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import job_submit
from assbtrack.tracing.choices import ItemKind
from electrodes.selectors import (
    POROSITY_PLOT_JOB,
    THICKNESS_PLOT_JOB,
    porosity_plot_inputs,
    thickness_plot_inputs,
)
from tests.conftest import wait_for
from tests.utils.checks import client_for
from tests.utils.factories_electrodes import make_film

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_here(kind: str, inputs: dict):
    """The handler run in this process (the worker does the same), with its progress reports collected."""
    reports = []
    context = JobContext(job_id=0, inputs=inputs, subject_id=None, report_progress=lambda p, m: reports.append(p))
    return job_handler(kind).run(context), reports


@pytest.mark.django_db
def test_thickness_plot_inputs_and_output(project, tech):
    film = make_film(project, tech)
    inputs = thickness_plot_inputs(film)
    assert inputs == {"film": film.code, "pass_numbers": [1, 2, 3, 4, 5],
                      "thicknesses_um": [400.0, 250.0, 150.0, 100.0, 82.0]}
    output, reports = run_here(THICKNESS_PLOT_JOB, inputs)
    assert output.files["thickness_by_pass.png"].startswith(PNG_MAGIC)
    assert b"<svg" in output.files["thickness_by_pass.svg"][:500]
    assert output.result["reduction_percent"] == pytest.approx((1 - 82 / 400) * 100)
    assert reports and reports[-1] == 90


@pytest.mark.django_db
def test_porosity_plot_splits_dry_and_slurry(project, tech, add_films):
    dry = list(add_films(2))
    slurry = add_films(1, process="slurry", passes=[300.0, 100.0])[-1]
    separator = make_film(project, tech, ItemKind.SEPARATOR_FILM)
    inputs = porosity_plot_inputs([*dry, slurry, separator], kind=ItemKind.CATHODE_FILM)
    assert inputs["series"]["Dry (PTFE fibrillation)"]["codes"] == [film.code for film in dry]
    assert inputs["series"]["Slurry (solvent, binder)"]["porosities"] == pytest.approx([1 - 2.4 * (
        0.8 / 4.75 + 0.185 / 1.64 + 0.01 / 1.9 + 0.005 / 2.2)])
    output, _ = run_here(POROSITY_PLOT_JOB, inputs)
    assert output.files["porosity_vs_loading.png"].startswith(PNG_MAGIC)
    assert output.result["films"] == {"Dry (PTFE fibrillation)": 2, "Slurry (solvent, binder)": 1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "inputs", "field"),
    [
        (THICKNESS_PLOT_JOB, {"film": "CAT-000001", "pass_numbers": [1, 2], "thicknesses_um": [100.0]},
         "thicknesses_um"),
        (THICKNESS_PLOT_JOB, {"film": "CAT-000001", "pass_numbers": [1], "thicknesses_um": [float("nan")]},
         "thicknesses_um[0]"),
        (THICKNESS_PLOT_JOB, {"film": "CAT-000001", "pass_numbers": [1], "thicknesses_um": [1], "x": 1}, "x"),
        (POROSITY_PLOT_JOB, {"kind": "cell", "series": {}}, "kind"),
        (POROSITY_PLOT_JOB, {"kind": "cathode_film", "series": {"dry": {
            "codes": ["A"], "loadings_mg_per_cm2": [20.0], "porosities": [15.0]}}}, "series.dry.porosities[0]"),
    ],
)
def test_bad_plot_inputs_are_refused_at_submission(sci, kind, inputs, field):
    with pytest.raises(ValidationError) as error:
        job_submit(kind=kind, inputs=inputs, user=sci)
    assert field in error.value.message_dict
    assert not Job.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_draws_a_film_plot_shown_on_the_film_page(celery_worker_process, settings, project, tech):
    settings.MEDIA_ROOT = celery_worker_process["media"]  # the picture the worker stores is read back here
    film = make_film(project, tech)
    client = client_for(tech)
    response = client.post(reverse("electrodes:film-plot", args=[film.code]))
    assert response.status_code == 302
    job = Job.objects.get(kind=THICKNESS_PLOT_JOB, subject=film.item)

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout_s=60, message=f"plot job {job.pk}")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert {f.name for f in job.files.all()} == {"thickness_by_pass.png", "thickness_by_pass.svg"}
    image_url = reverse("jobs:file", args=[job.pk, "thickness_by_pass.png"])
    image = client.get(image_url)
    assert image.status_code == 200 and b"".join(image.streaming_content).startswith(PNG_MAGIC)
    page = client.get(reverse("electrodes:film", args=[film.code])).content.decode()
    assert f'<img src="{image_url}"' in page
