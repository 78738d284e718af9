"""Job kinds of the imports app, on the ``imports`` queue: checking and importing a large file with progress.

While the import's single transaction is open, progress written on the same connection would stay invisible
until the commit. On PostgreSQL progress is therefore written from a thread of its own (hence over a
connection of its own); SQLite has one writer at a time, so there the page sees progress up to the start of
the transaction and then the outcome.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, connections

from assbtrack.domain.inputs import Inputs
from assbtrack.jobs.handlers import QUEUE_IMPORTS, JobContext, JobOutput, PermanentJobError, register_job_kind

from .models import ImportRun, ImportStatus
from .services import import_apply, import_check


def _validate(inputs: Mapping[str, Any]) -> dict[str, Any]:
    reader = Inputs(inputs)
    import_id = reader.integer("import_id", minimum=1)
    reader.text("requested_at", default="", max_length=40)
    reader.finish()
    return {**inputs, "import_id": import_id}


def _run_for(context: JobContext) -> ImportRun:
    run = ImportRun.objects.select_related("project", "uploaded_by", "imported_by").filter(
        pk=context.inputs["import_id"]
    ).first()
    if run is None:
        raise PermanentJobError(f"import {context.inputs['import_id']} does not exist")
    return run


class _SideChannel:
    """Progress reports written by a thread with its own database connection (PostgreSQL), newest wins."""

    def __init__(self, context: JobContext):
        self.context = context
        self.pending: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self) -> None:
        try:
            while True:
                item = self.pending.get()
                if item is None:
                    return
                while not self.pending.empty():  # only the latest report matters
                    newer = self.pending.get()
                    if newer is None:
                        self.context.progress(*item)
                        return
                    item = newer
                self.context.progress(*item)
        finally:
            connections.close_all()

    def __call__(self, percent: int, message: str) -> None:
        self.pending.put((percent, message))

    def close(self) -> None:
        self.pending.put(None)
        self.thread.join(timeout=10)


def _outcome(run: ImportRun) -> dict[str, Any]:
    return {
        "import_id": run.pk, "status": run.status, "rows": run.row_count, "problems": run.problem_count,
        "created": run.created_count,
    }


def _refuse_unreadable(run: ImportRun) -> None:
    """A file that cannot be read at all (too large unpacked, too many rows, too slow) fails the job with the
    reason; its report is on the import page as well. Problems in rows are a finished check, not a failure."""
    unreadable = [problem["reason"] for problem in run.problems if problem["row"] == 0 and not problem["column"]]
    if run.status == ImportStatus.INVALID and unreadable:
        raise PermanentJobError(f"{run.file_name}: {unreadable[0]}")


def _run_check(context: JobContext) -> JobOutput:
    run = _run_for(context)
    context.progress(1, f"reading {run.file_name}")
    run = import_check(run=run, progress=context.progress)
    _refuse_unreadable(run)
    return JobOutput(result=_outcome(run))


def _run_apply(context: JobContext) -> JobOutput:
    run = _run_for(context)
    if run.status == ImportStatus.IMPORTED:
        return JobOutput(result=_outcome(run))
    user: User = run.imported_by or run.uploaded_by
    side = _SideChannel(context) if connection.vendor != "sqlite" else None
    try:
        run = import_apply(run=run, user=user, progress=side or context.progress)
    finally:
        if side is not None:
            side.close()
    _refuse_unreadable(run)
    # A refused import is a finished job too: its report (row, column, reason) is on the import page.
    return JobOutput(result=_outcome(run))


register_job_kind("import_check", queue=QUEUE_IMPORTS, title="Check an import file", run=_run_check,
                  validate=_validate)
register_job_kind("import_apply", queue=QUEUE_IMPORTS, title="Import a checked file", run=_run_apply,
                  validate=_validate)
