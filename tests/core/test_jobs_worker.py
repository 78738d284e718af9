"""Jobs end to end on the real Celery worker and Redis: run, reuse, fail with a message, resend a lost send."""

from __future__ import annotations

import math
import os

import pytest
from django.urls import reverse

from assbtrack.jobs import tasks
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import job_submit, jobs_resend_stale
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

INPUTS = {"thickness_mm": 1.0, "diameter_mm": 10, "resistance_ohm": 40}


def expected_conductivity_ms_per_cm(thickness_mm: float, diameter_mm: float, resistance_ohm: float) -> float:
    """σ = L / (R·A) with L in cm and A = π d²/4 in cm², from S/cm to mS/cm."""
    length_cm = thickness_mm / 10
    area_cm2 = math.pi * (diameter_mm / 10) ** 2 / 4
    return length_cm / (resistance_ohm * area_cm2) * 1000


def finished(job_id: int) -> Job | None:
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None


def test_conductivity_job_runs_on_the_worker_and_a_repeat_reuses_it(celery_worker_process, client, sci):
    job = job_submit(kind="conductivity", inputs=INPUTS, user=sci)
    assert job.status == JobStatus.QUEUED
    job.refresh_from_db()
    assert job.sent_at is not None  # sent after the commit

    done = wait_for(lambda: finished(job.pk), timeout_s=30, message=f"job {job.pk} to finish")
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.result["conductivity_ms_per_cm"] == pytest.approx(expected_conductivity_ms_per_cm(**INPUTS), rel=1e-9)
    assert done.result["conductivity_ms_per_cm"] == pytest.approx(3.18, abs=0.005)
    assert (done.progress_percent, done.attempts) == (100, 1)
    assert done.started_at <= done.finished_at
    assert done.worker.startswith(f"test-{os.getpid()}-") and "@" in done.worker, done.worker  # its node name

    client.force_login(sci)
    status = client.get(reverse("jobs:status", args=[job.pk])).json()
    assert (status["status"], status["progress_percent"], status["finished"], status["error"]) == (
        "succeeded", 100, True, "",
    )
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Succeeded" in page and "conductivity_ms_per_cm" in page

    again = job_submit(kind="conductivity", inputs=dict(INPUTS), user=sci)
    assert again.pk != job.pk
    again.refresh_from_db()
    assert (again.status, again.reused_from_id, again.result) == (JobStatus.SUCCEEDED, job.pk, done.result)
    assert (again.attempts, again.sent_at) == (0, None)  # never sent: nothing ran a second time
    job.refresh_from_db()
    assert job.attempts == 1
    assert "reuses the result of" in client.get(reverse("jobs:detail", args=[again.pk])).content.decode()


def test_a_job_failing_on_the_worker_records_an_actionable_error(celery_worker_process, client, sci):
    inputs = {"thickness_mm": 1.0, "diameter_mm": 10}
    job = job_submit(kind="conductivity", inputs=inputs, user=sci, check_inputs=False)
    done = wait_for(lambda: finished(job.pk), timeout_s=30, message=f"job {job.pk} to finish")
    assert done.status == JobStatus.FAILED
    assert "resistance_ohm" in done.error and "required" in done.error
    assert done.result is None

    client.force_login(sci)
    status = client.get(reverse("jobs:status", args=[job.pk])).json()
    assert status["status"] == "failed" and status["finished"] is True and "resistance_ohm" in status["error"]
    assert "resistance_ohm" in client.get(reverse("jobs:detail", args=[job.pk])).content.decode()

    # a failed job is not reused: the same submission runs again (and fails again)
    retry = job_submit(kind="conductivity", inputs=inputs, user=sci, check_inputs=False)
    assert retry.pk != job.pk and retry.reused_from_id is None


def test_a_job_whose_send_was_lost_is_sent_again_by_the_sweep(celery_worker_process, sci, monkeypatch):
    def broker_away(*args, **kwargs):
        raise ConnectionError("Redis went away between the commit and the send")

    inputs = {**INPUTS, "resistance_ohm": 25}
    with monkeypatch.context() as patch:
        patch.setattr(tasks.run_job, "apply_async", broker_away)
        job = job_submit(kind="conductivity", inputs=inputs, user=sci)
        job.refresh_from_db()
        assert (job.status, job.sent_at) == (JobStatus.QUEUED, None)  # written, never sent
        # the same submission meanwhile joins the job that is waiting
        assert job_submit(kind="conductivity", inputs=inputs, user=sci).pk == job.pk

    assert jobs_resend_stale(older_than_s=3600) == []  # not stale yet by that measure
    assert jobs_resend_stale(older_than_s=0) == [job.pk]
    done = wait_for(lambda: finished(job.pk), timeout_s=30, message=f"resent job {job.pk} to finish")
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.result["conductivity_ms_per_cm"] == pytest.approx(expected_conductivity_ms_per_cm(**inputs))
    assert jobs_resend_stale(older_than_s=0) == []  # finished jobs are never resent
    assert Job.objects.count() == 1
