"""The worker's heartbeat: a thread that writes "still running" on the job row while the job runs.

Progress reports alone are not enough: a job may be silent for minutes (a large export, an import on
SQLite waiting for its transaction), and the sweep resends a running job whose heartbeat is older than
``ASSBTRACK_JOB_HEARTBEAT_STALE_S``. The thread beats every ``ASSBTRACK_JOB_HEARTBEAT_INTERVAL_S`` from
the claim to the end of the job, whatever the job does, and stops with it; when the worker process
dies, the thread dies with it and the heartbeat goes stale, which is what the sweep looks for.

Each beat also renews a key in Redis that expires after the stale window (``services.job_alive_mark``):
on SQLite a job that holds the write lock for a long transaction (an import) keeps the row's heartbeat
from being written, and the Redis key still tells the sweep and other workers that the job is alive.
"""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError, connections

from .services import job_alive_clear, job_alive_mark, job_heartbeat

logger = logging.getLogger(__name__)


class Heartbeat:
    """``with Heartbeat(job_id=..., interval_s=...):`` beats in a daemon thread until the block ends."""

    def __init__(self, *, job_id: int, interval_s: float):
        self.job_id = job_id
        self.interval_s = max(0.05, float(interval_s))
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        job_alive_mark(job_id=self.job_id)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 35)  # a beat may wait out SQLite's 30 s lock timeout
        job_alive_clear(job_id=self.job_id)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                job_alive_mark(job_id=self.job_id)  # first: Redis is never held up by a database lock
                try:
                    if not job_heartbeat(job_id=self.job_id):
                        return  # finished, or taken back: nothing of ours to keep alive
                    self.beats += 1
                except DatabaseError as error:
                    # A locked or lost database: the next beat tries again; if every beat fails, the
                    # heartbeat goes stale and the sweep takes over, as for a dead worker.
                    logger.warning("job %s: the heartbeat was not written (%s)", self.job_id, error)
        finally:
            # This thread's own database connection (Django opens one per thread).
            connections.close_all()
