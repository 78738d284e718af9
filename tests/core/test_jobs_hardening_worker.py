"""Jobs under the faults of issue 17, on real Celery workers and the real Redis.

- a job silent for longer than the stale window runs once: the worker's heartbeat thread keeps it its own;
- a transient error backs off and retries at once instead of waiting behind its own heartbeat;
- a result that is not finite fails the job with a plain message and is never resent;
- a task of one instance is not run by a worker of another instance sharing the Redis (and the database).
"""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings as django_settings

from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import job_submit, jobs_resend_stale
from assbtrack.jobs.tasks import run_job
from tests.conftest import wait_for
from tests.utils.workers import WorkerProcess, broker_ready, test_database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STALE_S = 2  # the stale window of the workers below and of the sweep in these tests
BEAT_S = 0.4


def instance_name(suffix: str) -> str:
    return f"{django_settings.ASSBTRACK_INSTANCE}-{suffix}"


@pytest.fixture(scope="module")
def quick_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two pool processes of an instance of their own, with a 2 s stale window and a beat every 0.4 s."""
    broker = django_settings.CELERY_BROKER_URL
    if not broker_ready(broker):
        pytest.fail(f"Redis is not reachable at {broker}; `make test` starts it (see README).")
    with django_db_blocker.unblock():
        database_url = test_database_url()
    folder = tmp_path_factory.mktemp("quick-worker")
    worker = WorkerProcess(
        broker=broker, database_url=database_url, media=folder / "media", log_path=folder / "worker.log",
        concurrency=2,
        env={"ASSBTRACK_TEST_INSTANCE": instance_name("quick"), "ASSBTRACK_JOB_HEARTBEAT_STALE_S": str(STALE_S),
             "ASSBTRACK_JOB_HEARTBEAT_INTERVAL_S": str(BEAT_S)},
    )
    yield worker
    worker.stop()


@pytest.fixture
def on_quick_worker(quick_worker, settings):
    """This process sends to the quick worker's instance and sweeps with its stale window."""
    settings.ASSBTRACK_INSTANCE = quick_worker.instance
    settings.ASSBTRACK_JOB_HEARTBEAT_STALE_S = STALE_S
    return quick_worker


def finished(job_id: int) -> Job | None:
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None


def test_a_job_silent_longer_than_the_stale_window_runs_once(on_quick_worker, sci):
    job = job_submit(kind="diagnostic", inputs={"seconds": 6, "silent": True, "note": "silent phase"}, user=sci)
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.RUNNING, timeout_s=30, message="the job to start")
    started = Job.objects.get(pk=job.pk)
    resent: list[int] = []
    heartbeats = set()
    # The sweep runs all along (every 0.25 s here, every 30 s in production) while the job says nothing;
    # the second pool process is idle and would take any resent delivery at once.
    while (current := Job.objects.get(pk=job.pk)).status == JobStatus.RUNNING:
        assert current.progress_percent == 0  # no progress report: only the heartbeat speaks
        heartbeats.add(current.heartbeat_at)
        resent += jobs_resend_stale()
        time.sleep(0.25)
    done = Job.objects.get(pk=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert resent == []
    assert done.attempts == 1 and done.result["attempt"] == 1
    assert done.result["waited_s"] >= 6
    # 6 s of silence with a beat every 0.4 s: the heartbeat moved on many times after the claim
    assert len(heartbeats) >= 6 and max(heartbeats) > started.heartbeat_at
    assert (done.finished_at - done.started_at).total_seconds() > 3 * STALE_S
    assert "hit a transient error" not in on_quick_worker.log()


def test_a_transient_error_backs_off_and_retries_without_waiting_for_a_heartbeat(on_quick_worker, sci):
    submitted_at = time.monotonic()
    job = job_submit(kind="diagnostic", inputs={"seconds": 0, "transient_failures": 2, "note": "flaky"}, user=sci)
    done = wait_for(lambda: finished(job.pk), timeout_s=20, message="the flaky job to finish")
    elapsed_s = time.monotonic() - submitted_at
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert (done.attempts, done.result["attempt"]) == (3, 3)
    # Back-off of the test settings: base 0.3 s, so retry 1 waits 0.15–0.3 s and retry 2 waits 0.3–0.6 s; far
    # below the heartbeat window (60 s by default) that a retry used to wait behind as "busy".
    assert 0.45 <= elapsed_s < 15
    log = on_quick_worker.log()
    assert f"job {job.pk} hit a transient error, retry 1 in" in log
    assert f"job {job.pk} hit a transient error, retry 2 in" in log


def test_transient_errors_that_do_not_end_give_up_with_a_plain_message(on_quick_worker, sci):
    job = job_submit(kind="diagnostic", inputs={"seconds": 0, "transient_failures": 10, "note": "down"}, user=sci)
    done = wait_for(lambda: finished(job.pk), timeout_s=30, message="the failing job to give up")
    retries = django_settings.ASSBTRACK_JOB_MAX_RETRIES
    assert done.status == JobStatus.FAILED
    assert done.attempts == retries + 1
    assert done.error.startswith(f"Gave up after {retries + 1} attempts: the database or the broker did not answer")
    assert "ConnectionError" not in done.error and "ConnectionError" in done.error_detail
    assert jobs_resend_stale(older_than_s=0) == []


def test_a_result_that_is_not_finite_fails_the_job_with_a_plain_message(on_quick_worker, sci):
    # σ = L/(R·A) with L = 1e307 cm, R = 40 Ω, A = 0.785 cm²: 3.2e305 S/cm, 3.2e308 mS/cm, beyond a float: inf.
    # Sent unchecked: this is about what the worker does with a result it cannot store, whatever the input checks.
    inputs = {"thickness_mm": 1e308, "diameter_mm": 10, "resistance_ohm": 40}
    job = job_submit(kind="conductivity", inputs=inputs, user=sci, check_inputs=False)
    done = wait_for(lambda: finished(job.pk), timeout_s=30, message="the overflowing job to finish")
    assert done.status == JobStatus.FAILED
    assert done.result is None
    assert "conductivity_ms_per_cm is not a finite number (inf)" in done.error
    assert "check them and submit again" in done.error
    assert (done.attempts, done.progress_percent) == (1, 90)
    time.sleep(STALE_S + 0.5)
    assert jobs_resend_stale(older_than_s=0) == []  # never resent
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_a_task_of_another_instance_is_not_run_and_its_job_stays_queued(tmp_path, settings, sci):
    broker = django_settings.CELERY_BROKER_URL
    ours, theirs = instance_name("ours"), instance_name("theirs")
    # A worker of another instance on the same Redis, and even the same database: the worst case.
    other = WorkerProcess(
        broker=broker, database_url=test_database_url(), media=tmp_path / "media", log_path=tmp_path / "other.log",
        env={"ASSBTRACK_TEST_INSTANCE": theirs},
    )
    try:
        settings.ASSBTRACK_INSTANCE = ours  # this process is an instance with no worker up
        job = job_submit(kind="diagnostic", inputs={"seconds": 0, "note": "not yours"}, user=sci)
        job.refresh_from_db()
        assert job.sent_at is not None
        connection = redis.Redis.from_url(broker)
        assert connection.llen(f"{ours}.models") == 1  # waiting on its own instance's queue
        time.sleep(3)
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)

        # Misrouted onto the other instance's queue (a worker started with the wrong -Q would see the same):
        # refused, logged, kept on the dead-letter queue, and the job is untouched.
        run_job.apply_async(args=[job.pk], kwargs={"instance": ours}, queue=f"{theirs}.models")
        run_job.apply_async(args=[job.pk], queue=f"{theirs}.models")  # a message naming no instance
        wait_for(lambda: other.log().count("refused a assbtrack.jobs.run_job task") >= 2, timeout_s=30,
                 message="the other instance's worker to refuse both messages")
        log = other.log()
        assert f"for instance '{ours}' (job {job.pk})" in log and f"for instance None (job {job.pk})" in log
        assert "ERROR" in log
        wait_for(lambda: connection.llen(f"{theirs}.dead-letter") == 2, timeout_s=10,
                 message="both refused messages on the dead-letter queue")
        assert connection.llen(f"{theirs}.models") == 0
        job.refresh_from_db()
        assert (job.status, job.attempts, job.started_at) == (JobStatus.QUEUED, 0, None)
        # The job is still there for its own instance: its sweep sends it again.
        assert jobs_resend_stale(older_than_s=0) == [job.pk]
        assert connection.llen(f"{ours}.models") == 2
    finally:
        other.stop()
        connection = redis.Redis.from_url(broker)
        connection.delete(f"{ours}.models", f"{theirs}.dead-letter")


def test_the_suite_worker_consumes_its_instance_queues(celery_worker_process):
    worker = celery_worker_process["worker"]
    instance = django_settings.ASSBTRACK_INSTANCE
    assert worker.queues == [f"{instance}.models", f"{instance}.plots", f"{instance}.imports"]
    banner = worker.log().split("ready.")[0]
    assert all(f"{queue} " in banner for queue in worker.queues)  # celery lists the queues it consumes
