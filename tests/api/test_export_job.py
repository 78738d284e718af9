"""Large exports as a job: ``?export=csv&async=1`` answers 202, the real worker writes the file, the
requester downloads it from the job and nobody else can."""

from __future__ import annotations

import csv
import io

import pytest

from assbtrack.access.models import ExportLog
from assbtrack.jobs.models import Job, JobStatus
from tests.conftest import wait_for
from tests.utils.factories_materials import make_batch

from .helpers import token_client

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_async_csv_export_of_batches_runs_on_the_worker(celery_worker_process, settings, project, other_project,
                                                         sci, partner, outsider):
    settings.MEDIA_ROOT = celery_worker_process["media"]  # the worker's file store, read back here
    mine = [make_batch(project, sci) for _ in range(4)]
    make_batch(other_project, sci)
    client = token_client(partner)

    response = client.get("/api/v1/sse-batches/", {"export": "csv", "async": "1", "project": project.code})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["url"].endswith(f"/jobs/{body['job']}/")
    assert response["Location"] == body["url"]

    def finished():
        job = Job.objects.get(pk=body["job"])
        return job if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None

    job = wait_for(finished, timeout_s=60, message=f"export job {body['job']}")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.kind, job.queue, job.requested_by) == ("api_export", "imports", partner)
    assert job.result["rows"] == 4
    name = job.result["file"]
    assert name == "api-v1-sse-batches.csv"

    download = client.get(f"/jobs/{job.pk}/files/{name}")
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert sorted(row["code"] for row in rows) == sorted(batch.item.code for batch in mine)
    log = ExportLog.objects.get(user=partner)
    assert (log.rows, log.completed, log.export_format) == (4, True, "csv")

    assert token_client(outsider).get(f"/jobs/{job.pk}/files/{name}").status_code == 404


def test_async_export_with_a_bad_filter_is_refused_before_any_job(project, partner):
    response = token_client(partner).get("/api/v1/sse-batches/", {"export": "csv", "async": "1", "fields": "nope"})
    assert response.status_code == 400
    assert "fields" in response.json()
    assert not Job.objects.exists()
