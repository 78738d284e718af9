"""Shared fixtures: users per role through the services, and the real Celery worker for job tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.utils.browser import browser, demo, journey  # noqa: F401  (shared fixtures)
from tests.utils.factories import ProjectFactory, partner_for, scientist, technician
from tests.utils.workers import WorkerProcess, broker_ready, test_database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def other_project(db):
    return ProjectFactory()


@pytest.fixture
def tech(db):
    return technician()


@pytest.fixture
def sci(db):
    return scientist()


@pytest.fixture
def partner(db, project):
    """A partner whose organisation may read ``project`` and nothing else."""
    return partner_for(project)


@pytest.fixture
def outsider(db, other_project):
    """A partner of another organisation, granted only ``other_project``."""
    return partner_for(other_project)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _shared_cache_empty():
    """Throttle counts and signing failures live in Redis and outlast a test: each test starts without them."""
    from tests.utils.shared_cache import shared_cache_clear

    shared_cache_clear()


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery worker`` on the real Redis, reading the test database.

    Tests that use it must commit their data (``transactional_db``) so the worker can see it.
    """
    broker = settings.CELERY_BROKER_URL
    if not broker_ready(broker):
        pytest.fail(f"Redis is not reachable at {broker}; `make test` starts it (see README).")
    import redis

    redis.Redis.from_url(broker).flushdb()
    with django_db_blocker.unblock():
        database_url = test_database_url()
    worker = WorkerProcess(
        broker=broker, database_url=database_url, media=tmp_path_factory.mktemp("worker-media"),
        log_path=tmp_path_factory.mktemp("worker-log") / "worker.log",
    )
    yield {"process": worker.process, "log": worker.log_path, "media": worker.media, "env": worker.env,
           "worker": worker}
    worker.stop()


@pytest.fixture
def celery_worker_process(_celery_worker_session):
    """The session's worker, with an empty queue: jobs left by earlier tests (a demo load queues many
    plots) must not delay this test's jobs."""
    import redis

    redis.Redis.from_url(_celery_worker_session["worker"].broker).flushdb()
    return _celery_worker_session


def wait_for(predicate, *, timeout_s: float = 30, interval_s: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    pytest.fail(f"timed out after {timeout_s} s waiting for {message}")
