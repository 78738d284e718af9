"""The Celery tasks: thin. A job id comes in; the handler does the work; the row records the outcome."""

from __future__ import annotations

import logging
import traceback

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from assbtrack.domain.inputs import ModelInputError

from .handlers import JobContext, PermanentJobError, job_handler
from .services import BUSY, FINISHED, job_fail, job_progress, job_start, job_succeed, jobs_resend_stale

logger = logging.getLogger(__name__)

# Errors that another attempt may not meet: a lost database connection, a broker blip, a full disk
# being cleaned up. Everything else is permanent and goes to the job row at once.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
MAX_RETRIES = 4


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES, name="assbtrack.jobs.run_job"
)
def run_job(self, job_id: int) -> str:
    state, job = job_start(job_id=job_id)
    if state == FINISHED:
        return "already finished"
    if state == BUSY:
        # Another worker is on it (or died moments ago): look again once its heartbeat would be stale.
        raise self.retry(countdown=settings.ASSBTRACK_JOB_HEARTBEAT_STALE_S, max_retries=MAX_RETRIES + 20)
    try:
        handler = job_handler(job.kind)
        context = JobContext(
            job_id=job.pk,
            inputs=job.inputs,
            subject_id=job.subject_id,
            report_progress=lambda percent, message: job_progress(job_id=job.pk, percent=percent, message=message),
        )
        output = handler.run(context)
    except TRANSIENT_ERRORS as error:
        if self.request.retries < MAX_RETRIES:
            logger.warning("job %s hit a transient error, retrying: %s", job_id, error)
            raise self.retry(exc=error, countdown=min(60, 2 ** (self.request.retries + 1))) from error
        job_fail(job_id=job_id, error=f"Gave up after {MAX_RETRIES + 1} attempts: {error}. Submit it again later.")
        return "failed"
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
        logger.exception("job %s failed", job_id)
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        job_fail(job_id=job_id, error=f"Unexpected error in {job.kind}: {last}. Tell the lab's administrator.")
        return "failed"
    job_succeed(job_id=job_id, output=output)
    return "succeeded"


@shared_task(name="assbtrack.jobs.tasks.jobs_resend_stale")
def resend_stale_jobs() -> int:
    return len(jobs_resend_stale())
