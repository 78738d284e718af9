"""The job lifecycle: submit (row first, task after commit), start, progress, succeed, fail, resend.

The worker side follows one rule: lock the row, do only what is still missing, store the outcome on
the row. A task delivered twice (worker killed, visibility timeout, the resend sweep) does nothing
the second time once the job has finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from assbtrack.domain.inputs import ModelInputError
from assbtrack.tracing.models import TracedItem

from .handlers import JobOutput, job_handler
from .models import FINISHED_STATUSES, Job, JobFile, JobStatus

logger = logging.getLogger(__name__)

MAX_INPUT_BYTES = 1_000_000


def inputs_sha256(kind: str, version: str, inputs: Mapping[str, Any], *, requester_id: int | None = None) -> str:
    """The cache key of a job; ``requester_id`` for the kinds whose output depends on who asked."""
    keyed: dict[str, Any] = {"kind": kind, "version": version, "inputs": inputs}
    if requester_id is not None:
        keyed["requested_by"] = requester_id
    canonical = json.dumps(keyed, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_submit(
    *,
    kind: str,
    inputs: Mapping[str, Any],
    user: User | None,
    subject: TracedItem | None = None,
    check_inputs: bool = True,
) -> Job:
    """Record a job and send it to a worker once the transaction commits.

    Inputs are checked first (``ValidationError`` naming the field, nothing written). The same kind
    and inputs reuse a finished result (a new row pointing at the earlier job) or join a job that is
    still queued or running. ``check_inputs=False`` is for inputs that can only be judged by running.
    """
    try:
        handler = job_handler(kind)
    except KeyError as error:
        raise ValidationError({"kind": str(error.args[0])}) from None
    if not isinstance(inputs, Mapping):
        raise ValidationError({"inputs": "must be a JSON object"})
    if len(json.dumps(inputs, default=str)) > MAX_INPUT_BYTES:
        raise ValidationError({"inputs": f"is larger than {MAX_INPUT_BYTES // 1000} kB"})
    if check_inputs:
        try:
            inputs = handler.validate(inputs)
        except ModelInputError as error:
            raise ValidationError({error.field: error.reason}) from None
    if handler.per_requester and user is None:
        raise ValidationError({"kind": f"{kind} is run for the person who asks; nobody asked"})
    digest = inputs_sha256(kind, handler.version, inputs, requester_id=user.pk if handler.per_requester else None)

    with transaction.atomic():
        same = Job.objects.filter(kind=kind, inputs_sha256=digest, subject=subject).exclude(status=JobStatus.FAILED)
        earlier = same.filter(status=JobStatus.SUCCEEDED, reused_from__isnull=True).order_by("-finished_at").first()
        if earlier is not None:
            now = timezone.now()
            return Job.objects.create(
                kind=kind, queue=handler.queue, inputs=dict(inputs), inputs_sha256=digest,
                status=JobStatus.SUCCEEDED, progress_percent=100, progress_message="reused an earlier result",
                result=earlier.result, requested_by=user, subject=subject, reused_from=earlier,
                started_at=now, finished_at=now,
            )
        in_flight = same.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).order_by("created_at").first()
        if in_flight is not None:
            return in_flight
        job = Job.objects.create(
            kind=kind, queue=handler.queue, inputs=dict(inputs), inputs_sha256=digest,
            requested_by=user, subject=subject,
        )
        transaction.on_commit(lambda: job_send(job_id=job.pk))
    return job


def instance_queue(queue: str) -> str:
    """The broker queue of a job queue for this instance: "models" → "<ASSBTRACK_INSTANCE>.models"."""
    return f"{settings.ASSBTRACK_INSTANCE}.{queue}"


# The Celery task that runs a job. assbtrack.jobs.tasks registers it (the jobs app's ready() imports that
# module), so that this module, which the tasks import, does not import them back.
_RUNNER: Any = None


def job_runner_register(task: Any) -> None:
    """Make ``task`` (a Celery task taking ``job_id`` and ``instance``) the one ``job_send`` hands jobs to."""
    global _RUNNER
    _RUNNER = task


def job_send(*, job_id: int, resend: bool = False, countdown_s: float = 0) -> bool:
    """Hand a job to the broker, on this instance's queue and naming this instance in the message;
    ``countdown_s``: the worker takes it that much later (``sent_at`` is then the time it is due).

    If the broker is away the job stays queued for the sweep.
    """
    if _RUNNER is None:
        raise RuntimeError("no job runner registered: assbtrack.jobs.tasks registers it when the jobs app is ready")
    statuses = (JobStatus.QUEUED, JobStatus.RUNNING) if resend else (JobStatus.QUEUED,)
    job = Job.objects.filter(pk=job_id, status__in=statuses).only("pk", "queue").first()
    if job is None:
        return False
    try:
        _RUNNER.apply_async(
            args=[job.pk],
            kwargs={"instance": settings.ASSBTRACK_INSTANCE},
            queue=instance_queue(job.queue),
            countdown=countdown_s or None,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        )
    except Exception as error:  # noqa: BLE001  (kombu raises many kinds; all mean "not sent")
        logger.warning("job %s stays queued: the broker did not take it (%s)", job.pk, error)
        return False
    Job.objects.filter(pk=job.pk).update(sent_at=timezone.now() + timedelta(seconds=countdown_s))
    return True


def jobs_resend_stale(*, older_than_s: int | None = None) -> list[int]:
    """Send again the jobs a worker should have taken or finished by now.

    - queued jobs never sent (the broker was away) or sent long ago and never started;
    - running jobs without a heartbeat for the stale window, in the row and in Redis: their worker died.
    A job sent twice runs once: the worker locks the row, skips a finished job and leaves a job with a
    fresh heartbeat to the worker that has it.
    """
    age = settings.ASSBTRACK_JOB_REQUEUE_AFTER_S if older_than_s is None else older_than_s
    now = timezone.now()
    cutoff = now - timedelta(seconds=age)
    silent_since = now - timedelta(seconds=settings.ASSBTRACK_JOB_HEARTBEAT_STALE_S)
    stale = Job.objects.filter(
        Q(status=JobStatus.QUEUED, sent_at__isnull=True, created_at__lt=cutoff)
        | Q(status=JobStatus.QUEUED, sent_at__lt=cutoff)
        | Q(status=JobStatus.RUNNING, heartbeat_at__lt=silent_since)
    )
    candidates = list(stale.values_list("pk", "status"))
    alive = jobs_alive([job_id for job_id, status in candidates if status == JobStatus.RUNNING])
    resent = [job_id for job_id, _ in candidates if job_id not in alive and job_send(job_id=job_id, resend=True)]
    if resent:
        logger.info("resent %d stale jobs: %s", len(resent), resent)
    return resent


CLAIMED, FINISHED, BUSY, MISSING = "claimed", "finished", "busy", "missing"


@transaction.atomic
def job_start(*, job_id: int, worker: str = "") -> tuple[str, Job | None]:
    """Claim the job for this worker (``worker``: its node name, kept on the row).

    Returns ``(FINISHED, None)`` for a repeated delivery of a finished job, ``(MISSING, None)`` when
    there is no such job, ``(BUSY, job)`` while another worker's heartbeat on it is fresh (the job as
    read, unclaimed), else ``(CLAIMED, job)``.
    """
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        return MISSING, None
    if job.status in FINISHED_STATUSES:
        return FINISHED, None
    now = timezone.now()
    stale_window = timedelta(seconds=settings.ASSBTRACK_JOB_HEARTBEAT_STALE_S)
    if job.status == JobStatus.RUNNING and (
        (job.heartbeat_at and now - job.heartbeat_at < stale_window) or jobs_alive([job.pk])
    ):
        return BUSY, job
    job.status = JobStatus.RUNNING
    job.started_at = now
    job.heartbeat_at = now
    job.attempts += 1
    job.error = ""
    job.error_detail = ""
    job.worker = worker[:200]
    job.save(update_fields=["status", "started_at", "heartbeat_at", "attempts", "error", "error_detail", "worker"])
    return CLAIMED, job


# A second sign of life beside the row's heartbeat, in Redis: a key per running job that expires after the
# stale window. The row cannot always be written while a job runs (on SQLite a long import holds the write
# lock for its whole transaction); Redis can, so a job whose worker is alive is never taken for lost.
def _alive_key(job_id: int) -> str:
    return f"assbtrack:{settings.ASSBTRACK_INSTANCE}:job-alive:{job_id}"


def _redis():
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)


def job_alive_mark(*, job_id: int) -> None:
    try:
        _redis().set(_alive_key(job_id), "1", px=int(settings.ASSBTRACK_JOB_HEARTBEAT_STALE_S * 1000))
    except Exception as error:  # noqa: BLE001  (Redis away: the row's heartbeat still speaks)
        logger.warning("job %s: the sign of life was not written to Redis (%s)", job_id, error)


def job_alive_clear(*, job_id: int) -> None:
    try:
        _redis().delete(_alive_key(job_id))
    except Exception:  # noqa: BLE001  (it expires on its own)
        pass


def jobs_alive(job_ids: list[int]) -> set[int]:
    """The jobs among ``job_ids`` whose worker marked them alive within the stale window."""
    if not job_ids:
        return set()
    try:
        marks = _redis().mget([_alive_key(job_id) for job_id in job_ids])
    except Exception:  # noqa: BLE001  (Redis away: judge by the row alone)
        return set()
    return {job_id for job_id, mark in zip(job_ids, marks, strict=True) if mark is not None}


def job_heartbeat(*, job_id: int) -> bool:
    """The worker's sign of life on a running job (see heartbeat.py); False once the job is no longer running."""
    return bool(Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now()))


def job_progress(*, job_id: int, percent: int, message: str = "") -> None:
    """Progress for the page (and a heartbeat too)."""
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        progress_percent=percent, progress_message=message, heartbeat_at=timezone.now()
    )


def job_release(*, job_id: int, retry_in_s: float, reason: str) -> bool:
    """Give a running job back after a transient error: queued again, its retry already on the way.

    The retry claims it at once (a released job has no heartbeat to wait for); ``sent_at`` is the time the
    retry is due, so the sweep leaves it alone unless that retry is lost.
    """
    due = timezone.now() + timedelta(seconds=retry_in_s)
    return bool(
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.QUEUED, heartbeat_at=None, sent_at=due,
            progress_message=f"{reason}; trying again in {retry_in_s:.0f} s"[:200],
        )
    )


def job_wait(*, job_id: int, message: str, look_again_in_s: float) -> bool:
    """Put a running job back in the queue until the jobs it needs have finished (``handlers.WaitForJobs``).

    Waiting is not an attempt: the claim's attempt is given back, so the retries after a transient error keep
    their budget. The job is sent again with a countdown; ``message`` is what its page shows meanwhile.
    """
    waiting = bool(
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.QUEUED, heartbeat_at=None, progress_percent=0, progress_message=message[:200],
            attempts=Greatest(F("attempts") - 1, 0),
        )
    )
    if waiting:
        transaction.on_commit(lambda: job_send(job_id=job_id, countdown_s=look_again_in_s))
    return waiting


def result_problem(value: Any, where: str = "result") -> str | None:
    """Why a result cannot be stored as JSON (a number that is not finite, text with a NUL, an unknown type),
    naming the key; None when it can."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is not a finite number ({value})"
    if isinstance(value, str):
        return f"{where} holds a NUL character" if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has a key that is not text ({key!r})"
            problem = result_problem(item, key if where == "result" else f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = result_problem(item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    return f"{where} is a {type(value).__name__}, not a JSON value"


@transaction.atomic
def job_succeed(*, job_id: int, output: JobOutput) -> Job:
    """Store the outcome. A result that cannot be stored (``result_problem``) fails the job with that message
    instead: the job never stays "running" for the sweep to resend it for ever."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status in FINISHED_STATUSES:
        return job
    problem = result_problem(output.result)
    if problem:
        for path in output.file_paths.values():
            Path(path).unlink(missing_ok=True)
        return _fail(job, f"The result could not be stored: {problem}. The inputs are probably outside what the "
                          "model can compute; check them and submit again.")
    JobFile.objects.filter(job=job).delete()
    for name, content in output.files.items():
        job_file = JobFile(job=job, name=name, size_bytes=len(content))
        job_file.file.save(name, ContentFile(content), save=False)
        job_file.save()
    for name, path in output.file_paths.items():
        with open(path, "rb") as handle:
            job_file = JobFile(job=job, name=name, size_bytes=Path(path).stat().st_size)
            job_file.file.save(name, File(handle), save=False)
        job_file.save()
        Path(path).unlink(missing_ok=True)  # a temporary file of the handler: stored now
    job.result = output.result
    job.status = JobStatus.SUCCEEDED
    job.progress_percent = 100
    job.progress_message = "done"
    job.finished_at = timezone.now()
    job.save(update_fields=["result", "status", "progress_percent", "progress_message", "finished_at"])
    return job


@transaction.atomic
def job_fail(*, job_id: int, error: str, detail: str = "") -> Job:
    """Record a failure: ``error`` is the plain message everyone who may see the job reads; ``detail`` (an
    exception, a traceback) is for lab staff and the logs only."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status in FINISHED_STATUSES:
        return job
    return _fail(job, error, detail)


def _fail(job: Job, error: str, detail: str = "") -> Job:
    job.status = JobStatus.FAILED
    job.error = error[:4000]
    job.error_detail = detail[:20000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "error_detail", "finished_at"])
    return job
