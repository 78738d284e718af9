"""What may be submitted as a job and what a failure shows (issue 17), without a worker.

- ``POST /api/v1/jobs/`` takes the catalogue models only; no job input names a person or a server path;
- the submitting request checks the inputs and computes nothing;
- a failure shows a plain message to everyone, the exception to lab staff only;
- the back-off delays and the check of a result before it is stored.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assbtrack.access.models import ExportLog
from assbtrack.domain.registry import MODELS
from assbtrack.jobs.handlers import job_handler
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import inputs_sha256, job_submit, result_problem
from assbtrack.jobs.tasks import retry_delay_s, run_job
from tests.api.helpers import token_client
from tests.utils.factories import traced_item
from tests.utils.factories_modules import make_design, make_module, make_scan

pytestmark = pytest.mark.django_db

CATALOGUE = ["arrhenius", "conductivity", "design_suggest", "milling_saturation", "module_efficiency",
             "module_efficiency_sweep", "pressure_map", "spc", "stack_energy"]  # the run_model kinds of MODELS.md


def post_job(client, kind, inputs, **extra):
    return client.post("/api/v1/jobs/", {"kind": kind, "inputs": inputs, **extra}, content_type="application/json")


def test_the_catalogue_is_the_models_of_models_md():
    assert sorted(MODELS) == CATALOGUE


@pytest.mark.parametrize(
    ("kind", "inputs"),
    [
        ("api_export", {"path": "/api/v1/sse-batches/", "format": "csv", "query": ""}),
        ("passport_bundle", {"code": "CELL-000001"}),
        ("import_check", {"import_id": 1}),
        ("pressure_scan_map", {"scan_id": 1}),
        ("diagnostic", {"seconds": 0}),
        ("cell_stack_energy", {"cell": "CELL-000001", "design": {"scenario": "a"}}),
    ],
)
def test_internal_kinds_are_refused_by_the_jobs_api(client, sci, kind, inputs):
    assert job_handler(kind).kind == kind  # a real kind, started elsewhere
    client.force_login(sci)
    response = post_job(client, kind, inputs)
    assert response.status_code == 400
    message = " ".join(response.json()["kind"])
    assert f"'{kind}' cannot be submitted here" in message and "conductivity" in message
    assert not Job.objects.exists()


def test_an_export_job_cannot_name_the_person_it_runs_for(client, sci, tech):
    client.force_login(sci)
    forged = {"path": "/api/v1/sse-batches/", "format": "csv", "query": "", "user_id": tech.pk}
    assert post_job(client, "api_export", forged).status_code == 400
    # nor through the service: the person is always who asks
    with pytest.raises(ValidationError) as caught:
        job_submit(kind="api_export", inputs=forged, user=sci)
    assert "not a known input key" in " ".join(caught.value.message_dict["user_id"])
    with pytest.raises(ValidationError) as caught:
        job_submit(kind="passport_bundle", inputs={"code": "CELL-000001", "user_id": tech.pk}, user=sci)
    assert "user_id" in caught.value.message_dict
    assert not Job.objects.exists() and not ExportLog.objects.exists()


def test_an_async_export_runs_for_the_requester_and_says_so_nowhere_in_its_inputs(project, sci, partner):
    response = token_client(partner).get("/api/v1/sse-batches/", {"export": "csv", "async": "1"})
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    assert job.requested_by == partner and set(job.inputs) == {"path", "query", "format", "requested_at"}


def test_jobs_built_for_one_person_are_never_keyed_like_another_persons(sci, tech):
    inputs = {"path": "/api/v1/cells/", "format": "csv", "query": "", "requested_at": "2026-12-01T10:00:00"}
    handler = job_handler("api_export")
    assert handler.per_requester and job_handler("passport_bundle").per_requester
    assert not job_handler("conductivity").per_requester
    first = job_submit(kind="api_export", inputs=inputs, user=sci)
    second = job_submit(kind="api_export", inputs=dict(inputs), user=tech)
    assert first.pk != second.pk and first.inputs_sha256 != second.inputs_sha256
    assert first.inputs_sha256 == inputs_sha256("api_export", handler.version, inputs, requester_id=sci.pk)
    assert job_submit(kind="api_export", inputs=dict(inputs), user=sci).pk == first.pk  # the same person joins


def test_a_pressure_map_job_takes_a_scan_id_never_a_server_path(client, project, sci):
    client.force_login(sci)
    calibration = {"low": {"intensity": 0, "pressure_mpa": 0}, "high": {"intensity": 200, "pressure_mpa": 10}}
    for path in ("/etc/passwd", "../../db.sqlite3", "media/modules/scans/scan.png"):
        response = post_job(client, "pressure_map", {"image_path": path, "calibration": calibration})
        assert response.status_code == 400
        assert "never a file on the server" in " ".join(response.json()["image_path"])
    response = post_job(client, "pressure_map", {"scan_id": 999999})
    assert response.status_code == 400 and "no pressure scan 999999" in " ".join(response.json()["scan_id"])
    response = post_job(client, "pressure_map", {"scan_id": 1, "grid_rows": 1})
    assert response.status_code == 400 and "grid_rows" in response.json()
    assert not Job.objects.exists()

    scan = make_scan(sci, design=make_design(project, sci))
    response = post_job(client, "pressure_map", {"scan_id": scan.pk, "grid_rows": 10, "grid_cols": 10})
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.inputs, job.status) == ("pressure_map", {"scan_id": scan.pk, "grid_rows": 10,
                                                                   "grid_cols": 10}, JobStatus.QUEUED)


def test_a_pressure_map_job_maps_the_stored_scan_with_its_overrides(project, sci):
    # The test film: colour density 100 everywhere. Its own calibration (0 → 0 MPa, 200 → 10 MPa) gives
    # 5 MPa; the override (0 → 0 MPa, 200 → 20 MPa) gives 100 × 20/200 = 10 MPa.
    scan = make_scan(sci, design=make_design(project, sci))
    own = job_submit(kind="pressure_map", inputs={"scan_id": scan.pk}, user=sci)
    overridden = job_submit(kind="pressure_map", user=sci, inputs={
        "scan_id": scan.pk, "grid_rows": 4, "grid_cols": 5,
        "calibration": {"low": {"intensity": 0, "pressure_mpa": 0}, "high": {"intensity": 200, "pressure_mpa": 20}},
    })
    for job, mean_mpa, shape in ((own, 5.0, (20, 20)), (overridden, 10.0, (4, 5))):
        assert run_job.apply(args=[job.pk]).get() == JobStatus.SUCCEEDED
        job.refresh_from_db()
        assert job.result["scan_id"] == scan.pk
        assert job.result["mean_mpa"] == pytest.approx(mean_mpa)
        assert job.result["coefficient_of_variation"] == pytest.approx(0.0, abs=1e-12)
        assert np.asarray(job.result["grid_mpa"]).shape == shape


def test_submitting_a_model_checks_its_inputs_and_computes_nothing(client, sci, monkeypatch):
    import materials.conductivity
    import materials.milling

    def computed(*args, **kwargs):
        raise AssertionError("the model was computed inside the submitting request")

    monkeypatch.setattr(materials.conductivity, "ionic_conductivity_ms_per_cm", computed)
    monkeypatch.setattr(materials.milling, "fit_milling_saturation", computed)
    client.force_login(sci)
    response = post_job(client, "conductivity", {"thickness_mm": 1.0, "diameter_mm": 10, "resistance_ohm": 40})
    assert response.status_code == 201 and response.json()["status"] == "queued"
    # Conductivity still rising at the longest time: a fit that fails, which only the worker finds out now.
    rising = [{"milling_time_h": t, "conductivity_ms_per_cm": 0.5 * t} for t in (1, 2, 3, 4)]
    response = post_job(client, "milling_saturation", {"points": rising})
    assert response.status_code == 201 and response.json()["status"] == "queued"
    # what the inputs alone say is still refused in the request, naming the field
    response = post_job(client, "milling_saturation", {"points": rising[:2]})
    assert response.status_code == 400 and "at least 3" in " ".join(response.json()["points"])
    response = post_job(client, "arrhenius", {"points": [
        {"temperature_c": 25, "conductivity_ms_per_cm": 1}, {"temperature_c": 25, "conductivity_ms_per_cm": 2},
        {"temperature_c": 60, "conductivity_ms_per_cm": 3}]})
    assert response.status_code == 400 and "distinct" in " ".join(response.json()["points"])
    assert Job.objects.count() == 2


def test_a_partner_sees_a_plain_error_and_lab_staff_see_what_happened(client, project, sci, partner):
    module = make_module(project, sci)
    scan = make_scan(sci, module=module, submit_job=True)
    job = scan.job
    assert job.subject == module.item  # a job on a shared item: the partner may read it
    stored = scan.image.path
    scan.image.storage.delete(scan.image.name)  # the file is gone from storage: an internal failure

    assert run_job.apply(args=[job.pk]).get() == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("The job failed because of a problem on the server, not in its inputs.")
    assert "FileNotFoundError" in job.error_detail and stored in job.error_detail

    partner_api = token_client(partner)
    body = partner_api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["error"] == job.error and "error_detail" not in body
    listed = {row["id"]: row for row in partner_api.get("/api/v1/jobs/").json()["results"]}
    assert listed[job.pk]["error"] == job.error
    client.force_login(partner)
    for url in (reverse("jobs:detail", args=[job.pk]), reverse("jobs:status", args=[job.pk])):
        shown = client.get(url).content.decode()
        assert "problem on the server" in shown
        assert "FileNotFoundError" not in shown and "No such file" not in shown and stored not in shown
    client.force_login(sci)
    staff_page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "FileNotFoundError" in staff_page and "lab staff only" in staff_page


def test_an_input_error_found_on_the_worker_stays_a_message_naming_the_field(sci, partner, project):
    item = traced_item(project=project, user=sci)
    job = job_submit(kind="conductivity", inputs={"thickness_mm": 1.0, "diameter_mm": 10}, user=sci, subject=item,
                     check_inputs=False)
    run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.error, job.error_detail) == (JobStatus.FAILED, "Input resistance_ohm: is required", "")
    assert token_client(partner).get(f"/api/v1/jobs/{job.pk}/").json()["error"] == "Input resistance_ohm: is required"


def test_retry_delays_grow_exponentially_with_jitter_up_to_the_cap():
    rng = random.Random(17)
    # base 2 s, cap 60 s: ceilings 2, 4, 8, 16, 32, 60, 60; each delay is between half the ceiling and all of it
    for retries, ceiling in enumerate((2, 4, 8, 16, 32, 60, 60)):
        delays = [retry_delay_s(retries, base_s=2, cap_s=60, rng=rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert len(set(delays)) == 200  # jittered: no two retries of many jobs at the same moment
        assert max(delays) - min(delays) > 0.4 * ceiling


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        ({"conductivity_ms_per_cm": math.inf}, "conductivity_ms_per_cm is not a finite number (inf)"),
        ({"curves": [{"gravimetric_efficiency": [0.5, math.nan]}]},
         "curves[0].gravimetric_efficiency[1] is not a finite number (nan)"),
        ({"fit": {"tau_h": -math.inf}}, "fit.tau_h is not a finite number (-inf)"),
        ({"note": "a\x00b"}, "note holds a NUL character"),
        ({"count": np.int64(3)}, "count is a int64, not a JSON value"),
        ({1: "x"}, "result has a key that is not text (1)"),
    ],
)
def test_a_result_that_json_cannot_hold_is_named(result, problem):
    assert result_problem(result) == problem


def test_a_storable_result_has_no_problem():
    assert result_problem({"a": 1.5, "b": [1, 2.0, None, True], "c": {"d": "text", "e": np.float64(2.5)}}) is None


def test_the_instance_name_defaults_to_the_database_and_prefixes_every_queue(tmp_path):
    from assbtrack.settings.base import instance_from_database, instance_routing

    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "assbtrack_lab"}
    assert instance_from_database(postgres) == "assbtrack_lab"  # the same from every machine that reaches it
    assert instance_from_database({**postgres, "NAME": "Lab DB (2026)!"}) == "lab-db-2026"
    one, two = tmp_path / "a" / "db.sqlite3", tmp_path / "b" / "db.sqlite3"
    sqlite_one = instance_from_database({"ENGINE": "django.db.backends.sqlite3", "NAME": one})
    sqlite_two = instance_from_database({"ENGINE": "django.db.backends.sqlite3", "NAME": two})
    assert sqlite_one.startswith("db-") and len(sqlite_one) == len("db-") + 8
    assert sqlite_one != sqlite_two  # two checkouts on one machine, both with db.sqlite3, stay apart

    default_queue, queues, beat = instance_routing("lab-a")
    assert default_queue == "lab-a.models"
    assert [queue.name for queue in queues] == ["lab-a.models", "lab-a.plots", "lab-a.imports"]
    assert beat["resend-stale-jobs"]["kwargs"] == {"instance": "lab-a"}


def test_a_job_is_sent_on_its_instance_queue_naming_the_instance(settings, sci, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    from assbtrack.jobs import tasks

    sent = []
    monkeypatch.setattr(tasks.run_job, "apply_async", lambda **message: sent.append(message))
    settings.ASSBTRACK_INSTANCE = "lab-a"
    with django_capture_on_commit_callbacks(execute=True):
        job = job_submit(kind="conductivity", inputs={"thickness_mm": 1, "diameter_mm": 10, "resistance_ohm": 7},
                         user=sci)
    assert len(sent) == 1
    assert (sent[0]["args"], sent[0]["kwargs"], sent[0]["queue"]) == ([job.pk], {"instance": "lab-a"}, "lab-a.models")


def test_a_job_whose_row_cannot_be_written_stays_its_workers_while_redis_says_it_is_alive(sci, monkeypatch):
    """On SQLite a long import holds the write lock, so the row's heartbeat waits; the Redis mark does not."""
    from datetime import timedelta

    from django.utils import timezone

    from assbtrack.jobs import tasks
    from assbtrack.jobs.heartbeat import Heartbeat
    from assbtrack.jobs.services import BUSY, CLAIMED, job_start, jobs_resend_stale

    sent = []
    monkeypatch.setattr(tasks.run_job, "apply_async", lambda **message: sent.append(message["args"]))
    job = job_submit(kind="conductivity", inputs={"thickness_mm": 1, "diameter_mm": 10, "resistance_ohm": 9}, user=sci)
    assert job_start(job_id=job.pk)[0] == CLAIMED
    silent_since = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=silent_since)  # the row has not been written for an hour
    with Heartbeat(job_id=job.pk, interval_s=3600):  # marks the job alive in Redis at once, beats in an hour
        assert jobs_resend_stale() == [] and sent == []
        state, _ = job_start(job_id=job.pk)
        assert state == BUSY
    # the worker is gone (its mark cleared, or expired after the stale window): the job is resent and taken over
    assert jobs_resend_stale() == [job.pk] and sent == [[job.pk]]
    assert job_start(job_id=job.pk)[0] == CLAIMED
    assert Job.objects.get(pk=job.pk).attempts == 2
