"""Large files are checked and imported by a real worker on the imports queue, with progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assbtrack.imports.models import ImportRun, ImportStatus
from assbtrack.instruments.models import Equipment
from assbtrack.jobs.models import Job, JobStatus
from tests.conftest import wait_for
from tests.utils.checks import client_for
from tests.utils.factories_imports import csv_bytes

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HEADER = ["name", "kind", "serial number", "calibrated on (date)", "calibration due on (date)"]


def run_settled(run_id: int) -> ImportRun | None:
    """The import once it is no longer busy and its job has finished too (the job row is marked done after the
    import's own transaction commits, so the import can look finished a moment before its job does)."""
    run = ImportRun.objects.select_related("job").get(pk=run_id)
    return None if run.is_busy or (run.job is not None and not run.job.is_finished) else run


def test_a_large_file_runs_as_jobs_with_progress(celery_worker_process, settings, tech, project):
    settings.ASSBTRACK_IMPORT_INLINE_ROWS = 20
    rows = [[f"Press {i:03d}", "press_uniaxial", f"PU-{i:03d}", "2026-01-01", "2027-01-01"] for i in range(60)]
    client = client_for(tech)
    response = client.post("/imports/", {"kind": "equipment", "project": project.pk,
                                         "file": SimpleUploadedFile("presses.csv", csv_bytes(HEADER, rows))})
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert run.status in (ImportStatus.CHECKING, ImportStatus.CHECKED) and run.job is not None  # the worker is quick
    assert (run.job.kind, run.job.queue) == ("import_check", "imports")
    assert 'data-job-status="/jobs/' in client.get(run.get_absolute_url()).content.decode()

    run = wait_for(lambda: run_settled(run.pk), timeout_s=60, message="the check job")
    assert run.status == ImportStatus.CHECKED, (run.problems, Job.objects.get(pk=run.job_id).error)
    check_job = Job.objects.get(pk=run.job_id)
    assert (check_job.status, check_job.progress_percent) == (JobStatus.SUCCEEDED, 100)
    assert not Equipment.objects.exists()

    client.post(f"/imports/{run.pk}/confirm/")
    run.refresh_from_db()
    assert run.status in (ImportStatus.QUEUED, ImportStatus.IMPORTING, ImportStatus.IMPORTED)
    assert client.post(f"/imports/{run.pk}/confirm/").status_code == 302  # a second confirmation is refused
    run = wait_for(lambda: run_settled(run.pk), timeout_s=60, message="the import job")
    apply_job = Job.objects.get(pk=run.job_id)
    assert apply_job.kind == "import_apply" and apply_job.status == JobStatus.SUCCEEDED, apply_job.error
    assert (run.status, run.created_count, run.imported_by) == (ImportStatus.IMPORTED, 60, tech)
    assert apply_job.result["created"] == 60 and apply_job.progress_percent == 100
    assert Equipment.objects.count() == 60
    assert set(Equipment.history.model.objects.values_list("history_user", flat=True)) == {tech.pk}
    assert Job.objects.filter(kind="import_apply").count() == 1
