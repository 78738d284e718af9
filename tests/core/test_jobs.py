"""Job submission without a worker: input checks, joining an in-flight job, the API and the pages.

In these tests the test transaction never commits, so no job is ever sent: the worker tests are in
test_jobs_worker.py.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import inputs_sha256, job_submit
from tests.utils.factories import traced_item

pytestmark = pytest.mark.django_db

INPUTS = {"thickness_mm": 1.0, "diameter_mm": 10, "resistance_ohm": 40}


@pytest.mark.parametrize(
    ("kind", "inputs", "field", "fragment"),
    [
        ("conductivity", {**INPUTS, "resistance_ohm": -1}, "resistance_ohm", "greater than 0"),
        ("conductivity", {**INPUTS, "colour": "yellow"}, "colour", "not a known input key"),
        ("conductivity", {"diameter_mm": 10, "resistance_ohm": 40}, "thickness_mm", "required"),
        ("conductivity", {**INPUTS, "thickness_mm": "thick"}, "thickness_mm", "must be a number"),
        ("conductivity", ["not", "an", "object"], "inputs", "JSON object"),
        ("no_such_model", INPUTS, "kind", "unknown job kind"),
    ],
)
def test_bad_input_is_refused_at_submit_naming_the_field_and_writes_nothing(sci, kind, inputs, field, fragment):
    with pytest.raises(ValidationError) as caught:
        job_submit(kind=kind, inputs=inputs, user=sci)
    assert fragment in " ".join(caught.value.message_dict[field])
    assert not Job.objects.exists()


def test_identical_submission_joins_the_job_in_flight(sci, tech):
    first = job_submit(kind="conductivity", inputs=INPUTS, user=sci)
    assert (first.status, first.queue, first.kind) == (JobStatus.QUEUED, "models", "conductivity")
    again = job_submit(kind="conductivity", inputs=dict(reversed(list(INPUTS.items()))), user=tech)
    assert again.pk == first.pk
    other = job_submit(kind="conductivity", inputs={**INPUTS, "resistance_ohm": 41}, user=sci)
    assert other.pk != first.pk
    assert Job.objects.count() == 2
    assert first.inputs_sha256 != other.inputs_sha256
    assert len(first.inputs_sha256) == 64


def test_the_hash_depends_on_kind_version_and_inputs_not_key_order():
    base = inputs_sha256("conductivity", "1", INPUTS)
    assert base == inputs_sha256("conductivity", "1", dict(reversed(list(INPUTS.items()))))
    assert base != inputs_sha256("conductivity", "2", INPUTS)
    assert base != inputs_sha256("arrhenius", "1", INPUTS)
    assert base != inputs_sha256("conductivity", "1", {**INPUTS, "resistance_ohm": 41})


def test_api_submit_as_scientist_technician_partner_and_with_bad_input(client, project, tech, sci, partner):
    lot = traced_item(project=project, user=tech)
    client.force_login(sci)
    submitted = {"kind": "conductivity", "inputs": INPUTS, "subject": lot.code}
    response = client.post("/api/v1/jobs/", submitted, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued"
    assert (body["kind"], body["inputs"], body["subject"]) == tuple(submitted.values())
    job = Job.objects.get(pk=body["id"])
    assert (job.requested_by, job.subject) == (sci, lot)

    response = client.post(
        "/api/v1/jobs/", {"kind": "conductivity", "inputs": {**INPUTS, "resistance_ohm": -1}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "greater than 0" in " ".join(response.json()["resistance_ohm"])
    response = client.post(
        "/api/v1/jobs/", {"kind": "conductivity", "inputs": INPUTS, "subject": "LOT-999999"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "subject" in response.json()
    assert Job.objects.count() == 1

    client.force_login(tech)
    response = client.post(
        "/api/v1/jobs/", {"kind": "conductivity", "inputs": {**INPUTS, "resistance_ohm": 12}},
        content_type="application/json",
    )
    assert response.status_code == 201

    client.force_login(partner)
    response = client.post("/api/v1/jobs/", {"kind": "conductivity", "inputs": {**INPUTS, "resistance_ohm": 13}},
                           content_type="application/json")
    assert response.status_code == 403
    assert Job.objects.count() == 2


def test_job_pages_and_status_json_of_a_queued_job(client, sci):
    job = job_submit(kind="conductivity", inputs=INPUTS, user=sci)
    client.force_login(sci)
    status = client.get(reverse("jobs:status", args=[job.pk]))
    assert status.status_code == 200
    assert status.json() == {
        "id": job.pk, "status": "queued", "progress_percent": 0, "progress_message": "", "error": "", "finished": False,
    }
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Queued" in page and "resistance_ohm" in page
    listing = client.get(reverse("jobs:list")).content.decode()
    assert reverse("jobs:detail", args=[job.pk]) in listing
    assert client.get(reverse("jobs:status", args=[job.pk + 1000])).status_code == 404
