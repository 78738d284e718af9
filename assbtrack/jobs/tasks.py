"""The Celery tasks: thin. A job id comes in; the handler does the work; the row records the outcome.

Every message names the instance that sent it (``ASSBTRACK_INSTANCE``). A worker refuses a message of
another instance, or one that names none (an older version's): it logs an error, puts the message on its
own dead-letter queue ``<its instance>.dead-letter`` (no worker reads it; ``redis-cli LRANGE`` shows it)
and rejects it without requeueing, so it neither runs another instance's job nor loops on it. The job
itself is not lost: it stays queued in its own instance's database, whose sweep sends it again.
"""

from __future__ import annotations

import logging
import random
import traceback

from celery import shared_task
from celery.exceptions import Reject, SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from assbtrack.domain.inputs import ModelInputError

from .handlers import JobContext, PermanentJobError, WaitForJobs, job_handler
from .heartbeat import Heartbeat
from .services import (
    BUSY,
    FINISHED,
    MISSING,
    job_fail,
    job_progress,
    job_release,
    job_runner_register,
    job_start,
    job_succeed,
    job_wait,
    jobs_resend_stale,
)

logger = logging.getLogger(__name__)

# Errors that another attempt may not meet: a lost database connection, a broker blip, a full disk
# being cleaned up. Everything else is permanent and goes to the job row at once.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
# Deliveries of a job another worker is running: each waits until that worker's heartbeat would be stale.
MAX_BUSY_RETRIES = 40
# A job waiting for other jobs (``WaitForJobs``) is looked at again this often, and fails after waiting this long.
WAIT_LOOK_AGAIN_S = 1.0


def retry_delay_s(retries: int, *, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Exponential back-off with jitter for the retry after ``retries`` earlier ones: a random delay between
    half and all of min(cap, base·2^retries), so the delays grow and retries of many jobs spread out."""
    ceiling = min(cap_s, base_s * 2**retries)
    return (rng or random).uniform(ceiling / 2, ceiling)


def dead_letter_queue() -> str:
    return f"{settings.ASSBTRACK_INSTANCE}.dead-letter"


def _refuse_foreign(task, instance: str | None, job_id: int | None = None) -> None:
    """Refuse a message of another instance loudly (see the module docstring); raises ``Reject``."""
    queue = (task.request.delivery_info or {}).get("routing_key", "?")
    logger.error(
        "refused a %s task for instance %r (job %s) that reached this worker of instance %r on queue %s; "
        "it is kept on %s and not acknowledged as done. Check ASSBTRACK_INSTANCE and the workers' -Q.",
        task.name, instance, job_id, settings.ASSBTRACK_INSTANCE, queue, dead_letter_queue(),
    )
    try:
        task.apply_async(args=task.request.args, kwargs=task.request.kwargs, queue=dead_letter_queue())
    except Exception as error:  # noqa: BLE001  (the refusal stands even if the broker is away)
        logger.error("the refused task could not be put on %s: %s", dead_letter_queue(), error)
    raise Reject(f"task of instance {instance!r}, this worker is {settings.ASSBTRACK_INSTANCE!r}", requeue=False)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="assbtrack.jobs.run_job")
def run_job(self, job_id: int, instance: str | None = None) -> str:
    # A call in this process (``run_job.apply``) never went through a broker shared with anyone.
    if not self.request.is_eager and instance != settings.ASSBTRACK_INSTANCE:
        _refuse_foreign(self, instance, job_id)
    state, job = job_start(job_id=job_id, worker=self.request.hostname or "")
    if state == MISSING:
        logger.error("job %s is not in this instance's database (%s); nothing ran", job_id,
                     settings.ASSBTRACK_INSTANCE)
        return "missing"
    if state == FINISHED:
        return "already finished"
    if state == BUSY:
        # Another worker is on it and its heartbeat is fresh: look again when it would be stale (if that
        # worker dies, this delivery takes over; the sweep would too).
        if self.request.retries >= MAX_BUSY_RETRIES:
            return "left to the worker that has it"
        from django.utils import timezone

        stale_s = settings.ASSBTRACK_JOB_HEARTBEAT_STALE_S
        silent_s = (timezone.now() - job.heartbeat_at).total_seconds() if job.heartbeat_at else stale_s
        left_s = stale_s - silent_s if silent_s < stale_s else stale_s / 2  # alive by Redis only: look again soon
        wait_s = max(0.5, left_s) + random.uniform(0, 1)
        raise self.retry(countdown=wait_s, max_retries=MAX_BUSY_RETRIES)
    try:
        with Heartbeat(job_id=job.pk, interval_s=settings.ASSBTRACK_JOB_HEARTBEAT_INTERVAL_S):
            output = job_handler(job.kind).run(JobContext(
                job_id=job.pk,
                inputs=job.inputs,
                subject_id=job.subject_id,
                report_progress=lambda percent, message: job_progress(job_id=job.pk, percent=percent, message=message),
                requested_by_id=job.requested_by_id,
                attempt=job.attempts,
            ))
    except WaitForJobs as waiting:
        return _wait(job, waiting)
    except TRANSIENT_ERRORS as error:
        return _transient(self, job, error)
    except ModelInputError as error:
        job_fail(job_id=job_id, error=f"Input {error.field}: {error.reason}")
        return "failed"
    except PermanentJobError as error:
        job_fail(job_id=job_id, error=str(error))
        return "failed"
    except SoftTimeLimitExceeded:
        job_fail(job_id=job_id, error="The job took longer than its time limit and was stopped.")
        return "failed"
    except Exception as error:  # noqa: BLE001  (any other bug is recorded, never lost)
        return _unexpected(job, error, "failed")
    try:
        stored = job_succeed(job_id=job_id, output=output)
    except TRANSIENT_ERRORS as error:
        return _transient(self, job, error)
    except DatabaseError as error:  # the database refused the result (a value it cannot hold)
        return _unexpected(job, error, "could not store its result")
    return stored.status


def _wait(job, waiting: WaitForJobs) -> str:
    """Back to the queue until the jobs it needs have finished; the worker is free for them meanwhile."""
    from django.utils import timezone

    waited_s = (timezone.now() - job.created_at).total_seconds()
    if waited_s > settings.ASSBTRACK_JOB_WAIT_MAX_S:
        job_fail(job_id=job.pk, error=f"Gave up after {waited_s / 60:.0f} min {waiting.message} (jobs "
                 f"{', '.join(map(str, waiting.job_ids))}). Look at those jobs, then submit this one again.")
        return "failed"
    job_wait(job_id=job.pk, message=waiting.message, look_again_in_s=WAIT_LOOK_AGAIN_S)
    return "waiting"


def _transient(task, job, error: Exception) -> str:
    """Back off and try again; the job is released first so that the retry claims it at once."""
    retries = task.request.retries
    if retries < settings.ASSBTRACK_JOB_MAX_RETRIES:
        delay_s = retry_delay_s(
            retries, base_s=settings.ASSBTRACK_JOB_RETRY_BASE_S, cap_s=settings.ASSBTRACK_JOB_RETRY_MAX_S
        )
        logger.warning("job %s hit a transient error, retry %d in %.1f s: %s", job.pk, retries + 1, delay_s, error)
        try:
            job_release(job_id=job.pk, retry_in_s=delay_s, reason="the database or the broker did not answer")
        except DatabaseError:
            # Still running on the row: its heartbeat goes stale and the retry (or the sweep) takes it then.
            logger.warning("job %s could not be released for its retry", job.pk)
        raise task.retry(exc=error, countdown=delay_s, max_retries=settings.ASSBTRACK_JOB_MAX_RETRIES)
    logger.error("job %s gave up after %d attempts: %s", job.pk, retries + 1, error)
    job_fail(
        job_id=job.pk,
        error=f"Gave up after {retries + 1} attempts: the database or the broker did not answer. Submit it again "
        "later; if it keeps failing, tell the lab's administrator.",
        detail=_describe(error),
    )
    return "failed"


def _unexpected(job, error: Exception, outcome: str) -> str:
    """A bug or a refusal nobody foresaw: a plain message on the job, the exception for staff and the log."""
    logger.error("job %s (%s) %s", job.pk, job.kind, outcome, exc_info=error)
    job_fail(
        job_id=job.pk,
        error=f"The job {outcome} because of a problem on the server, not in its inputs. The lab's administrator "
        f"can see what happened (job {job.pk}).",
        detail=_describe(error),
    )
    return "failed"


def _describe(error: Exception) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


@shared_task(bind=True, name="assbtrack.jobs.tasks.jobs_resend_stale")
def resend_stale_jobs(self, instance: str | None = None) -> int:
    if not self.request.is_eager and instance != settings.ASSBTRACK_INSTANCE:
        _refuse_foreign(self, instance)
    return len(jobs_resend_stale())


job_runner_register(run_job)
