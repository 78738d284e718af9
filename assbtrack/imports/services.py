"""The import lifecycle: upload (file kept, rows counted), check (every problem, nothing written), apply (all rows in
one transaction through the app's services, or nothing). Tiny files run in the request; the others are opened
only by a worker, as jobs on the ``imports`` queue (the request checks the size, the format and, for a workbook,
the zip directory, then answers). Views, the admin, the ``import_records`` command and the job handlers all call
these.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from assbtrack.access.models import Project
from assbtrack.access.selectors import projects_visible_to
from assbtrack.jobs.services import job_submit

from .models import ImportRun, ImportStatus
from .registry import ImportRefused, Problem, importer_for
from .tables import XLSX, ImportFileError, Table, detect_format, read_table, workbook_unzipped_bytes

logger = logging.getLogger(__name__)

MAX_STORED_PROBLEMS = 2000
MAX_STORED_LABELS = 20_000
ProgressReport = Callable[[int, str], None]  # (percent, message)


def inline_row_limit() -> int:
    """Files with more rows than this are checked and imported by a worker, with progress."""
    return int(getattr(settings, "ASSBTRACK_IMPORT_INLINE_ROWS", 200))


def max_rows() -> int:
    return int(getattr(settings, "ASSBTRACK_IMPORT_MAX_ROWS", 50_000))


def max_bytes() -> int:
    return int(getattr(settings, "ASSBTRACK_IMPORT_MAX_BYTES", 10 * 1024 * 1024))


def max_unzipped_bytes() -> int:
    """A workbook whose members unpack to more than this is refused before it is opened (a zip bomb)."""
    return int(getattr(settings, "ASSBTRACK_IMPORT_MAX_UNZIPPED_BYTES", 100 * 1024 * 1024))


def max_read_seconds() -> float:
    """Reading a file (on the worker) stops with a message after this long."""
    return float(getattr(settings, "ASSBTRACK_IMPORT_MAX_READ_SECONDS", 120))


def inline_max_bytes() -> int:
    """Only files this small (a workbook: unpacked) are opened inside a request; the rest go to a worker."""
    return int(getattr(settings, "ASSBTRACK_IMPORT_INLINE_BYTES", 256 * 1024))


def _read(content: bytes, file_name: str) -> Table:
    return read_table(content, file_name, max_rows=max_rows(), max_seconds=max_read_seconds(),
                      max_unzipped_bytes=max_unzipped_bytes())


def _unpacked_size(content: bytes, file_format: str) -> int:
    if file_format == XLSX:
        return workbook_unzipped_bytes(content, max_unzipped_bytes=max_unzipped_bytes())
    return len(content)


def _is_inline(run: ImportRun) -> bool:
    """Tiny and few rows: read in the request. The unpacked size (from the zip directory alone) bounds the work;
    a file that small had its rows counted at upload."""
    try:
        small = _unpacked_size(bytes(run.content), run.file_format) <= inline_max_bytes()
    except ImportFileError:
        return False  # the worker reports it
    return small and run.row_count <= inline_row_limit()


def _url_of(record) -> str:
    try:
        return record.get_absolute_url()
    except Exception:  # noqa: BLE001  (a record without a page is listed without a link)
        return ""


def _store_problems(run: ImportRun, problems: list[Problem]) -> None:
    run.problem_count = len(problems)
    run.problems = [problem.as_dict() for problem in problems[:MAX_STORED_PROBLEMS]]


@transaction.atomic
def import_upload(
    *, kind: str, project: Project | None, user: User, file_name: str, content: bytes
) -> ImportRun:
    """Keep the uploaded file and count its rows; refused (``file``) if it cannot be read at all."""
    try:
        importer_for(kind)
    except KeyError as error:
        raise ValidationError({"kind": str(error.args[0])}) from None
    if project is None:
        raise ValidationError({"project": "choose the project the records belong to"})
    if not projects_visible_to(user).filter(pk=project.pk).exists():
        raise ValidationError({"project": f"{user.username} has no access to {project.code}"})
    if not content:
        raise ValidationError({"file": "the file is empty"})
    if len(content) > max_bytes():
        raise ValidationError({"file": f"the file is larger than {max_bytes() // (1024 * 1024)} MB; split it"})
    try:
        file_format = detect_format(content, file_name)
        # A tiny file is read now (its rows counted, an unreadable one refused at once); any other only by a
        # worker, after this request has answered.
        table = _read(content, file_name) if _unpacked_size(content, file_format) <= inline_max_bytes() else None
    except ImportFileError as error:
        raise ValidationError({"file": f"{file_name or 'the file'}: {error}"}) from None
    run = ImportRun(
        kind=kind, project=project, uploaded_by=user, file_name=(file_name or "upload")[:200],
        file_format=file_format, content=content, sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content), row_count=len(table.rows) if table is not None else 0,
    )
    run.save()
    return run


def _claim(run_id: int, allowed: tuple[str, ...], to: str, **changes) -> ImportRun:
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.status not in allowed:
            raise ValidationError({"status": f"import {run.pk} is {run.get_status_display().lower()}; it cannot "
                                             f"be {'checked' if to == ImportStatus.CHECKING else 'imported'} now"})
        run.status = to
        for name, value in changes.items():
            setattr(run, name, value)
        run.save()
    return run


def _percent_reporter(report: ProgressReport | None, low: int, high: int, verb: str):
    if report is None:
        return None

    def progress(done: int, total: int) -> None:
        report(low + (high - low) * done // max(total, 1), f"{verb} row {done} of {total}")

    return progress


CHECKABLE = (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.CHECKED, ImportStatus.INVALID,
             ImportStatus.REFUSED, ImportStatus.FAILED)


def import_check(*, run: ImportRun, progress: ProgressReport | None = None) -> ImportRun:
    """Check the whole file and store the report: every problem with its row and column. Writes no record."""
    run = _claim(run.pk, CHECKABLE, ImportStatus.CHECKING)
    importer = importer_for(run.kind)
    try:
        table = _read(bytes(run.content), run.file_name)
        run.row_count = len(table.rows)  # counted here when the file was too large to read at upload
        _, problems = importer.check(
            table, project=run.project, user=run.uploaded_by, progress=_percent_reporter(progress, 5, 95, "checked")
        )
    except ImportFileError as error:
        problems = [Problem(0, "", str(error))]
    _store_problems(run, problems)
    run.status = ImportStatus.INVALID if problems else ImportStatus.CHECKED
    run.checked_at = timezone.now()
    run.error = ""
    run.save(update_fields=["problems", "problem_count", "status", "checked_at", "error", "row_count"])
    return run


def import_apply(*, run: ImportRun, user: User, progress: ProgressReport | None = None) -> ImportRun:
    """Import every row of a checked file in ONE transaction through the app's services, or nothing.

    The file is checked again first (the database may have changed since). If a service refuses any row,
    every refusal is reported and nothing is written (status ``refused``). A transient database error is
    raised unchanged so that a job retries; any other error marks the import ``failed``.
    """
    run = _claim(run.pk, (ImportStatus.CHECKED, ImportStatus.QUEUED, ImportStatus.IMPORTING), ImportStatus.IMPORTING,
                 imported_by=user)
    importer = importer_for(run.kind)
    if progress:
        progress(2, "checking the file again")
    try:
        table = _read(bytes(run.content), run.file_name)
        rows, problems = importer.check(table, project=run.project, user=user,
                                        progress=_percent_reporter(progress, 2, 20, "checked"))
    except ImportFileError as error:
        rows, problems = [], [Problem(0, "", str(error))]
    if problems:
        _store_problems(run, problems)
        run.status = ImportStatus.INVALID
        run.checked_at = timezone.now()
        run.save(update_fields=["problems", "problem_count", "status", "checked_at"])
        return run
    if progress:
        progress(20, f"importing {len(rows)} rows")
    try:
        with transaction.atomic():
            created = importer.import_rows(
                rows, user, run.project, progress=_percent_reporter(progress, 20, 98, "imported")
            )
            run.status = ImportStatus.IMPORTED
            run.created_count = len(created)
            run.created_labels = [
                {"label": importer.describe(record), "url": _url_of(record)} for record in created[:MAX_STORED_LABELS]
            ]
            run.imported_at = timezone.now()
            run.problems, run.problem_count, run.error = [], 0, ""
            run.save()
    except ImportRefused as refused:
        _store_problems(run, refused.problems)
        run.status = ImportStatus.REFUSED
        run.save(update_fields=["problems", "problem_count", "status"])
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:
        logger.exception("import %s failed", run.pk)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    return run


# ---------------------------------------------------------------------- inline or as a job


def _submit(kind: str, run: ImportRun, user: User):
    # A nonce: a second check of the same upload (after fixing the database) must run, not reuse the first.
    job = job_submit(kind=kind, inputs={"import_id": run.pk, "requested_at": timezone.now().isoformat()}, user=user)
    ImportRun.objects.filter(pk=run.pk).update(job=job)
    run.job = job
    return job


def import_check_start(*, run: ImportRun, user: User) -> ImportRun:
    """Check now if the file is tiny, else on a worker (the page then shows the job's progress)."""
    if _is_inline(run):
        return import_check(run=run)
    with transaction.atomic():
        run = _claim(run.pk, CHECKABLE, ImportStatus.CHECKING)
        _submit("import_check", run, user)
    return run


def import_apply_start(*, run: ImportRun, user: User) -> ImportRun:
    """Import now if the file is tiny, else queue it for a worker; a second confirmation is refused."""
    if _is_inline(run):
        return import_apply(run=run, user=user)
    with transaction.atomic():
        run = _claim(run.pk, (ImportStatus.CHECKED,), ImportStatus.QUEUED, imported_by=user)
        _submit("import_apply", run, user)
    return run
