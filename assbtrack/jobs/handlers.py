"""The job kinds a worker can run. Every model of the catalogue is one; apps register more (plots, imports).

A handler is two plain functions: ``validate(inputs) -> inputs`` runs when the job is submitted (bad
input is refused before anything is written; it checks and never computes), ``run(context) -> JobOutput``
runs on the worker.

Inputs never name a person or a file on the server. The person is the job's ``requested_by`` (given to
``run`` as ``context.requested_by_id``); a kind whose output depends on who asked (an export, a passport
bundle) is registered ``per_requester``, so that its inputs hash differs from one person to another and
nobody reuses a result built for someone else. Files are stored records referenced by id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assbtrack.domain.inputs import Inputs
from assbtrack.domain.registry import MODELS, ModelSpec
from assbtrack.domain.registry import register_model as catalogue_add

QUEUE_MODELS = "models"
QUEUE_PLOTS = "plots"
QUEUE_IMPORTS = "imports"
QUEUES = (QUEUE_MODELS, QUEUE_PLOTS, QUEUE_IMPORTS)


class PermanentJobError(Exception):
    """A failure that running again will not fix; its message is shown to the person who asked."""


class WaitForJobs(Exception):  # noqa: N818 (not an error: the job is put back until the others finish)
    """Raised by a handler whose inputs are the results of other jobs that have not finished yet.

    The job goes back to the queue with ``message`` as its progress ("waiting for 3 cell energy jobs") and
    is looked at again a moment later; the worker is free meanwhile, so the jobs waited for can run on it.
    """

    def __init__(self, message: str, *, job_ids: list[int]):
        super().__init__(message)
        self.message = message
        self.job_ids = job_ids


@dataclass(frozen=True)
class JobOutput:
    """What a job leaves: its result, small files as bytes and large ones as paths of temporary files
    (``file_paths``: copied to storage in chunks, never read whole into memory, then deleted)."""

    result: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    file_paths: dict[str, Path] = field(default_factory=dict)


@dataclass
class JobContext:
    job_id: int
    inputs: dict[str, Any]
    subject_id: int | None
    report_progress: Callable[[int, str], None]
    requested_by_id: int | None = None
    attempt: int = 1

    def progress(self, percent: int, message: str = "") -> None:
        self.report_progress(max(0, min(100, int(percent))), message[:200])


@dataclass(frozen=True)
class JobHandler:
    kind: str
    queue: str
    title: str
    run: Callable[[JobContext], JobOutput]
    validate: Callable[[Mapping[str, Any]], dict[str, Any]]
    version: str = "1"
    describe: Callable[[Mapping[str, Any]], str] | None = None
    per_requester: bool = False

    def summary(self, result: Mapping[str, Any] | None) -> str:
        """The job's result in one sentence for the page that shows it (empty when the kind says nothing)."""
        if not result or self.describe is None:
            return ""
        return self.describe(result)


_HANDLERS: dict[str, JobHandler] = {}


def register_job_kind(
    kind: str,
    *,
    queue: str,
    title: str,
    run: Callable[[JobContext], JobOutput],
    validate: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    version: str = "1",
    describe: Callable[[Mapping[str, Any]], str] | None = None,
    per_requester: bool = False,
) -> JobHandler:
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    handler = JobHandler(
        kind, queue, title, run, validate or (lambda inputs: dict(inputs)), version, describe, per_requester
    )
    _HANDLERS[kind] = handler
    return handler


def job_handler(kind: str) -> JobHandler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise KeyError(f"unknown job kind {kind!r}; known kinds: {', '.join(sorted(_HANDLERS))}") from None


def catalogue_kinds() -> list[str]:
    """The kinds anyone may submit by name (``POST /api/v1/jobs/``): the models of MODELS.md, nothing internal."""
    return sorted(MODELS)


def _model_handler(spec: ModelSpec) -> None:
    check = spec.load_check()

    def validate(inputs: Mapping[str, Any]) -> dict[str, Any]:
        check(inputs)  # reads and checks the input; the model itself runs on the worker
        return dict(inputs)

    def run(context: JobContext) -> JobOutput:
        context.progress(10, f"running {spec.title.lower()}")
        result = spec.load()(context.inputs)
        context.progress(90, "storing the result")
        return JobOutput(result=result)

    register_job_kind(spec.kind, queue=QUEUE_MODELS, title=spec.title, run=run, validate=validate, version=spec.version)


def register_model(spec: ModelSpec) -> None:
    """Add a model to the catalogue (``run_model``, ``POST /api/v1/jobs/``) and make it a job kind, unless its app
    registers the job kind itself (``job_kind_from_app``). Apps call it from ``AppConfig.ready()``."""
    catalogue_add(spec)
    if not spec.job_kind_from_app:
        _model_handler(spec)


def _validate_diagnostic(inputs: Mapping[str, Any]) -> dict[str, Any]:
    reader = Inputs(inputs)
    seconds = reader.number("seconds", minimum=0, maximum=60)
    reader.text("note", default="diagnostic", max_length=200)
    silent = reader.boolean("silent", default=False)
    transient_failures = reader.integer("transient_failures", default=0, minimum=0, maximum=10)
    reader.finish()
    checked = {**inputs, "seconds": seconds}
    if silent:
        checked["silent"] = True
    if transient_failures:
        checked["transient_failures"] = transient_failures
    return checked


def _run_diagnostic(context: JobContext) -> JobOutput:
    """Waits ``seconds`` with progress: shows a worker is alive and how long a round trip takes.

    ``silent``: waits without a single progress report (the worker's heartbeat alone keeps the job its own);
    ``transient_failures``: the first that many attempts end in a transient error (shows the back-off).
    """
    import os
    import time

    failures = int(context.inputs.get("transient_failures", 0))
    if context.attempt <= failures:
        raise ConnectionError(f"diagnostic: transient failure {context.attempt} of {failures}, as asked")
    seconds = float(context.inputs["seconds"])
    started = time.monotonic()
    if context.inputs.get("silent"):
        time.sleep(seconds)
    else:
        steps = max(1, int(seconds * 10))
        for step in range(steps):
            time.sleep(seconds / steps)
            context.progress(int(100 * (step + 1) / steps), f"waited {time.monotonic() - started:.1f} s")
    return JobOutput(result={"waited_s": round(time.monotonic() - started, 3), "worker_pid": os.getpid(),
                             "attempt": context.attempt})


register_job_kind(
    "diagnostic", queue=QUEUE_MODELS, title="Worker diagnostic (waits, reports progress)",
    run=_run_diagnostic, validate=_validate_diagnostic,
)
