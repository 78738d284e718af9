"""Real Celery workers for the tests: subprocesses reading the test database, on a real Redis."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


class WorkerProcess:
    """A ``celery worker`` subprocess reading the test database; ``stop()`` or ``kill()`` ends it."""

    def __init__(
        self,
        *,
        broker: str,
        database_url: str,
        media: Path,
        log_path: Path,
        env: dict | None = None,
        concurrency: int = 1,
    ):
        from django.conf import settings

        self.broker, self.media, self.log_path = broker, media, log_path
        # The worker is of this test run's instance (its queues, its task messages) unless ``env`` names another.
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "assbtrack.settings.test",
            "TEST_DATABASE_URL": database_url,
            "ASSBTRACK_TEST_BROKER_URL": broker,
            "ASSBTRACK_TEST_INSTANCE": settings.ASSBTRACK_INSTANCE,
            "ASSBTRACK_MEDIA_ROOT": str(media),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.instance = self.env["ASSBTRACK_TEST_INSTANCE"]
        self.queues = [f"{self.instance}.{name}" for name in settings.ASSBTRACK_JOB_QUEUES]
        self._log = open(log_path, "a")
        celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        self.process = subprocess.Popen(
            [celery, "-A", "assbtrack", "worker", "-Q", ",".join(self.queues), "-c", str(concurrency),
             "--pool", "prefork", "--loglevel", "INFO", "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
             "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the Celery worker exited at start:\n{self.log()[-3000:]}")
            if "ready." in self.log():
                return
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"the Celery worker did not start within 60 s:\n{self.log()[-3000:]}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text()

    def pool_children(self) -> list[int]:
        """The prefork pool's child processes (the ones that run tasks)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker, as a crash or an out-of-memory kill would."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=20)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
        if not self._log.closed:
            self._log.close()


def test_database_url() -> str:
    """The URL of the database this test run uses, for a worker subprocess to open."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def broker_ready(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False
