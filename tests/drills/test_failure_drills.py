"""Failure drills: the claims of DESIGN.md "Budgets" under real faults, with the real Redis and worker.

- a worker's pool process killed mid-job, and a whole worker killed and replaced: the job completes;
- Redis stopped while people keep working: pages work, new jobs wait as queued and run when it is back;
- a database error in the middle of a multi-row service: nothing of it is written;
- backup and restore: every lineage trace and history row is identical afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.urls import reverse

from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import job_submit, jobs_resend_stale
from assbtrack.tracing.choices import ItemKind, ItemStatus
from assbtrack.tracing.models import StatusEvent, TracedItem
from assbtrack.tracing.selectors import lineage_downstream, lineage_upstream
from assbtrack.tracing.services import items_quarantine
from tests.conftest import wait_for
from tests.utils.checks import client_for
from tests.utils.factories import traced_item, use
from tests.utils.workers import WorkerProcess, broker_ready, test_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

STALE_S = 3  # the heartbeat window the drill workers and the sweep use


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def private_redis():
    """A redis-server of the drill's own (never the machine's shared one), with start/stop controls."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; `make test` installs it (assbtrack/scripts/services.sh)")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    class Server:
        process: subprocess.Popen | None = None

        def start(self) -> None:
            self.process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_for(lambda: broker_ready(url), timeout_s=10, message="the drill's redis-server to start")

        def stop(self) -> None:
            if self.process and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=10)

    server = Server()
    server.url = url
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def broker_switched(url: str):
    """Point this process's Celery app (the sender of jobs) at another broker for the drill.

    The app's own connection and producer pools are set aside untouched and put back afterwards, so
    the tests that follow send on them as before; only the drill's pools are closed.
    """
    from assbtrack.celery import app

    previous = (app.conf.broker_url, app._pool, app.amqp._producer_pool)
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app._pool, app.amqp._producer_pool = previous


@pytest.fixture
def drill_settings(settings):
    settings.ASSBTRACK_JOB_HEARTBEAT_STALE_S = STALE_S
    return settings


def make_worker(tmp_path, broker: str, name: str) -> WorkerProcess:
    return WorkerProcess(
        broker=broker,
        database_url=test_database_url(),
        media=tmp_path / "media",
        log_path=tmp_path / f"{name}.log",
        env={"ASSBTRACK_JOB_HEARTBEAT_STALE_S": str(STALE_S), "ASSBTRACK_BROKER_VISIBILITY_TIMEOUT_S": "5"},
    )


def job_status(job: Job) -> str:
    job.refresh_from_db()
    return job.status


def test_killing_the_pool_process_mid_job_still_completes_the_job(tmp_path, drill_settings, sci):
    with private_redis() as redis_server, broker_switched(redis_server.url):
        worker = make_worker(tmp_path, redis_server.url, "worker")
        try:
            job = job_submit(kind="diagnostic", inputs={"seconds": 3, "note": "pool kill"}, user=sci)
            wait_for(
                lambda: job_status(job) == JobStatus.RUNNING and job.progress_percent > 0,
                timeout_s=30,
                message="the job to start",
            )
            children = worker.pool_children()
            assert children, "the worker has no pool process"
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            wait_for(
                lambda: job_status(job) == JobStatus.SUCCEEDED,
                timeout_s=60,
                message="the job to complete after its pool process was killed",
            )
            assert job.attempts >= 2, "the job was not started again after the kill"
            assert job.result["waited_s"] >= 3
        finally:
            worker.stop()


def test_a_killed_worker_replaced_by_another_completes_the_job(tmp_path, drill_settings, sci):
    with private_redis() as redis_server, broker_switched(redis_server.url):
        first = make_worker(tmp_path, redis_server.url, "first")
        job = job_submit(kind="diagnostic", inputs={"seconds": 3, "note": "worker kill"}, user=sci)
        wait_for(
            lambda: job_status(job) == JobStatus.RUNNING and job.progress_percent > 0,
            timeout_s=30,
            message="the job to start",
        )
        first.kill()
        started = time.monotonic()
        second = make_worker(tmp_path, redis_server.url, "second")
        try:
            # The bound: the heartbeat window plus one sweep (the beat runs it every 30 s in production).
            def done_or_swept() -> bool:
                if job_status(job) == JobStatus.SUCCEEDED:
                    return True
                jobs_resend_stale()
                return False

            wait_for(done_or_swept, timeout_s=60, interval_s=1, message="the job to complete on the new worker")
            assert time.monotonic() - started < 60
            assert job.attempts >= 2, "the job was not started again on the new worker"
        finally:
            second.stop()


def test_with_redis_stopped_pages_work_jobs_wait_and_run_when_it_is_back(tmp_path, drill_settings, project, sci):
    with private_redis() as redis_server, broker_switched(redis_server.url):
        worker = make_worker(tmp_path, redis_server.url, "worker")
        try:
            redis_server.stop()
            client = client_for(sci)
            item = traced_item(project=project, user=sci)
            # people keep working: pages answer and records are saved
            assert client.get(reverse("tracing:home")).status_code == 200
            assert client.get(reverse("tracing:item", args=[item.code])).status_code == 200
            saved = client.post(
                reverse("tracing:status-action", args=[item.code, "release"]),
                {"reason": "QC passed", "password": "correct-horse-battery"},
            )
            assert saved.status_code == 302
            item.refresh_from_db()
            assert item.status == ItemStatus.RELEASED
            # a model run is accepted and waits as queued, never sent
            response = client.post(
                "/api/v1/jobs/",
                {"kind": "conductivity", "inputs": {"thickness_mm": 1, "diameter_mm": 10, "resistance_ohm": 40}},
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            job = Job.objects.get(pk=response.json()["id"])
            assert job.status == JobStatus.QUEUED and job.sent_at is None

            redis_server.start()
            wait_for(
                lambda: jobs_resend_stale(older_than_s=0),
                timeout_s=30,
                interval_s=1,
                message="the sweep to send the waiting job",
            )
            wait_for(
                lambda: job_status(job) == JobStatus.SUCCEEDED,
                timeout_s=60,
                message="the waiting job to run once Redis is back",
            )
            # sigma = L / (R A): 0.1 cm / (40 ohm * pi * (0.5 cm)^2), in mS/cm
            expected_ms_per_cm = 0.1 / (40 * 3.14159265 * 0.5**2) * 1000
            assert job.result["conductivity_ms_per_cm"] == pytest.approx(expected_ms_per_cm, rel=1e-3)
        finally:
            worker.stop()


@contextmanager
def failing_third_status_event():
    """A database trigger that fails the third status event written: a real error from the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("""
                CREATE OR REPLACE FUNCTION drill_fail_third() RETURNS trigger AS $$
                BEGIN
                    IF (SELECT count(*) FROM tracing_statusevent) >= 3 THEN
                        RAISE EXCEPTION 'drill: the disk failed';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql;
            """)
            cursor.execute(
                "CREATE TRIGGER drill_fail_third AFTER INSERT ON tracing_statusevent "
                "FOR EACH ROW EXECUTE FUNCTION drill_fail_third()"
            )
        else:
            cursor.execute("""
                CREATE TRIGGER drill_fail_third AFTER INSERT ON tracing_statusevent
                WHEN (SELECT count(*) FROM tracing_statusevent) >= 3
                BEGIN SELECT RAISE(ABORT, 'drill: the disk failed'); END;
            """)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("DROP TRIGGER IF EXISTS drill_fail_third ON tracing_statusevent")
                cursor.execute("DROP FUNCTION IF EXISTS drill_fail_third()")
            else:
                cursor.execute("DROP TRIGGER IF EXISTS drill_fail_third")


def test_a_database_error_half_way_through_a_service_writes_nothing(project, sci):
    items = [traced_item(project=project, user=sci) for _ in range(5)]
    history_before = sum(item.history.count() for item in items)
    with failing_third_status_event(), pytest.raises(DatabaseError, match="drill: the disk failed"):
        items_quarantine(items=items, user=sci, reason="suspected contamination")
    assert not StatusEvent.objects.exists()
    assert set(TracedItem.objects.values_list("status", flat=True)) == {ItemStatus.DRAFT}
    assert sum(item.history.count() for item in items) == history_before


def snapshot(items):
    """Every trace and history row of ``items``, in comparable form."""
    traces = {}
    for item in items:
        up, down = lineage_upstream(item), lineage_downstream(item)
        traces[item.code] = (
            sorted((n.code, n.status, n.depth) for n in up.nodes.values()),
            sorted((link.parent_id, link.child_id, str(link.amount), link.role) for link in up.links),
            sorted((n.code, n.status, n.depth) for n in down.nodes.values()),
        )
    history = sorted(
        (row.code, row.status, row.history_type, row.history_change_reason or "", row.history_date.isoformat())
        for row in TracedItem.history.all()
    )
    return traces, history


def test_backup_and_restore_keep_every_trace_and_history_row(tmp_path, project, sci, settings, private_broker):
    # restore asks the broker and the run folder whether anything runs: here, a broker and a folder of its own
    settings.CELERY_BROKER_URL, settings.ASSBTRACK_RUN_DIR = private_broker, tmp_path / "run"
    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.fail("pg_dump is not installed (Debian: postgresql-client)")
    lot = traced_item(project=project, user=sci, quantity="10")
    batch = traced_item(project=project, user=sci, kind=ItemKind.SSE_BATCH, quantity="4")
    film = traced_item(project=project, user=sci, kind=ItemKind.CATHODE_FILM, quantity="100", unit="cm2")
    use(lot, batch, user=sci, amount="2.5", unit="g", role="precursor")
    use(batch, film, user=sci, amount="1", unit="g", role="electrolyte")
    items_quarantine(items=[lot], user=sci, reason="moisture")
    before = snapshot([lot, batch, film])

    backup = tmp_path / "assbtrack.tar.gz"
    call_command("backup", str(backup))
    assert backup.stat().st_size > 0
    # disaster: everything after the backup is lost or wrong
    call_command("flush", "--noinput")
    assert not TracedItem.objects.exists()
    call_command("restore", str(backup), "--yes")

    assert snapshot([TracedItem.objects.get(code=i.code) for i in (lot, batch, film)]) == before
