"""Shared fixtures: users per role through the services, and the real Celery worker for job tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.utils.factories import ProjectFactory, partner_for, scientist, technician

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


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _broker_ready(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery worker`` on the real Redis, reading the test database.

    Tests that use it must commit their data (``transactional_db``) so the worker can see it.
    """
    broker = settings.CELERY_BROKER_URL
    if not _broker_ready(broker):
        pytest.fail(f"Redis is not reachable at {broker}; `make test` starts it (see README).")
    import redis

    redis.Redis.from_url(broker).flushdb()
    media = tmp_path_factory.mktemp("worker-media")
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "assbtrack.settings.test",
        "TEST_DATABASE_URL": database_url,
        "ASSBTRACK_TEST_BROKER_URL": broker,
        "ASSBTRACK_MEDIA_ROOT": str(media),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path_factory.mktemp("worker-log") / "worker.log"
    log = open(log_path, "w")
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    process = subprocess.Popen(
        [celery, "-A", "assbtrack", "worker", "-Q", "models,plots,imports", "-c", "1", "--pool", "prefork",
         "--loglevel", "INFO", "-n", f"test-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited at start:\n{log_path.read_text()[-3000:]}")
        if "ready." in log_path.read_text():
            break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"the Celery worker did not start within 60 s:\n{log_path.read_text()[-3000:]}")
    yield {"process": process, "log": log_path, "media": media, "env": env}
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def wait_for(predicate, *, timeout_s: float = 30, interval_s: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    pytest.fail(f"timed out after {timeout_s} s waiting for {message}")
