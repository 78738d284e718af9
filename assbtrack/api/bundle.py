"""The passport bundle of a cell or module: an RO-Crate zip with the passport, the cycling time series in
the Battery Data Format (BDF) and the plots (of the cell; of the module and its cells).

Each imported cycling test becomes ``cycling-test-<id>.bdf.csv`` with BDF column names (``Test Time / s``,
``Voltage / V``, ``Current / A``, ``Cycle Count / 1``, ``Charging Capacity / Ah``, ``Discharging Capacity / Ah``)
read again from the stored cycler file. When the stored file can no longer be read, the per-cycle table
is exported instead as ``cycling-test-<id>-per-cycle.csv`` (BDF names where they exist, one row per
cycle) and the crate says so in that file's description. Plots are the PNG and SVG files of the finished
jobs of the item and, for a module, of its cells. Only the cycling tests the passport lists are bundled, so a
project that keeps ``cyclingSummary`` confidential keeps its time series from partners too.

Small bundles are built inside the request; one whose cycler files add up to more than
``PASSPORT_BUNDLE_INLINE_BYTES`` (or any with ``?async=1``) is built by a ``passport_bundle`` job, whose zip
the requester downloads from the job.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from rocrate.rocrate import ROCrate

from assbtrack.domain.inputs import ModelInputError
from assbtrack.domain.spreadsheet import csv_writer
from assbtrack.jobs.handlers import QUEUE_IMPORTS, JobContext, JobOutput, PermanentJobError, register_job_kind
from assbtrack.jobs.models import JobFile, JobStatus
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.selectors import item_get_for_user

from .passport import PASSPORT_KINDS, passport_build

BDF_TIME_SERIES = ("Test Time / s", "Voltage / V", "Current / A", "Cycle Count / 1", "Charging Capacity / Ah",
                   "Discharging Capacity / Ah")
BDF_PER_CYCLE = ("Cycle Count / 1", "Charging Capacity / Ah", "Discharging Capacity / Ah", "Charging Energy / Wh",
                 "Discharging Energy / Wh")


def _column(values, scale: float, size: int):
    if values is None:
        return [""] * size
    return (np.asarray(values, dtype=float) * scale).tolist()


def _write_time_series(series, path: Path) -> int:
    size = len(series.voltage_v)
    columns = [
        _column(series.time_s, 1.0, size), _column(series.voltage_v, 1.0, size),
        _column(series.current_ma, 1e-3, size), np.asarray(series.cycle, dtype=int).tolist(),
        _column(series.charge_capacity_mah, 1e-3, size), _column(series.discharge_capacity_mah, 1e-3, size),
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv_writer(handle)
        writer.writerow(BDF_TIME_SERIES)
        writer.writerows(zip(*columns, strict=True))
    return size


def _write_per_cycle(test, path: Path) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv_writer(handle)
        writer.writerow(BDF_PER_CYCLE)
        rows = test.cycles.order_by("cycle_number").values_list(
            "cycle_number", "charge_capacity_mah", "discharge_capacity_mah", "charge_energy_mwh",
            "discharge_energy_mwh")
        for number, charge, discharge, charge_energy, discharge_energy in rows.iterator(chunk_size=2000):
            writer.writerow([number, charge / 1000.0, discharge / 1000.0, charge_energy / 1000.0,
                             discharge_energy / 1000.0])
            count += 1
    return count


def bundled_tests(document: dict):
    """The imported cycling tests the passport lists (none when its cycling summary was left out)."""
    # cells is a domain app: the core reads its tables only when a bundle is built, never at import
    from cells.choices import ImportStatus
    from cells.models import CyclingTest

    ids = [row["test"] for row in document.get("cyclingSummary") or []]
    return CyclingTest.objects.filter(pk__in=ids, status=ImportStatus.IMPORTED).order_by("id")


def bundle_source_bytes(document: dict) -> int:
    """The size of the cycler files a bundle would read: what decides between the request and a job."""
    total = 0
    for test in bundled_tests(document).only("data_file"):
        try:
            total += test.data_file.size
        except (FileNotFoundError, OSError, ValueError):
            continue
    return total


def _plot_subjects(item) -> list[int]:
    subjects = [item.pk]
    if item.kind == ItemKind.MODULE:
        subjects += list(item.edges_in.filter(parent__kind=ItemKind.CELL).values_list("parent_id", flat=True))
    return subjects


def passport_bundle_zip(item, document: dict, folder: Path) -> Path:
    """Write the crate of ``item`` (a cell or module; its passport ``document`` already built for the caller)
    into ``folder``."""
    # cells is a domain app: the core reads its files only when a bundle is built, never at import
    from cells.cycler_import import cycling_test_time_series

    content = folder / "content"
    content.mkdir()
    crate = ROCrate()
    crate.name = f"Passport of {item.code}"
    crate.description = "Battery passport, cycling data in the Battery Data Format and plots, from assbtrack."
    passport_path = content / "passport.json"
    passport_path.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    crate.add_file(passport_path, dest_path="passport.json",
                   properties={"name": "Battery passport", "encodingFormat": "application/json"})

    for test in bundled_tests(document).select_related("cell__item"):
        try:
            series = cycling_test_time_series(test)
        except ModelInputError:
            series = None
        if series is not None:
            name = f"cycling-test-{test.pk}.bdf.csv"
            rows = _write_time_series(series, content / name)
            description = (f"Cycling test {test.pk} of {test.cell.item.code} ({test.cycler}), time series in the "
                           "Battery Data Format")
        else:
            name = f"cycling-test-{test.pk}-per-cycle.csv"
            rows = _write_per_cycle(test, content / name)
            description = (f"Cycling test {test.pk} of {test.cell.item.code}: the stored cycler file could not be "
                           "read again, so this is the per-cycle table (BDF column names), not the time series")
        crate.add_file(content / name, dest_path=name, properties={
            "name": name, "description": f"{description}; {rows} rows", "encodingFormat": "text/csv"})

    plots = (JobFile.objects.filter(job__subject_id__in=_plot_subjects(item), job__status=JobStatus.SUCCEEDED)
             .order_by("job_id", "name"))
    for job_file in plots:
        if not job_file.is_image:
            continue
        name = f"plots/job-{job_file.job_id}-{job_file.name}"
        target = content / name
        target.parent.mkdir(exist_ok=True)
        try:
            with job_file.file.open("rb") as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
        except (FileNotFoundError, OSError):
            continue
        fmt = "image/png" if name.lower().endswith(".png") else "image/svg+xml"
        crate.add_file(target, dest_path=name, properties={"name": job_file.name, "encodingFormat": fmt})

    zip_path = folder / f"{item.code}-passport.zip"
    crate.write_zip(zip_path)
    return zip_path


def new_bundle_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="assbtrack-passport-"))


# ------------------------------------------------------------------------------------ as a job (large ones)

BUNDLE_JOB = "passport_bundle"


def _validate_bundle(inputs: Mapping[str, Any]) -> dict[str, Any]:
    code = inputs.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise ModelInputError("code", "must be the code of a cell or module")
    unknown = sorted(set(inputs) - {"code", "requested_at"})
    if unknown:  # the person is who asked for the job, never an input (no "user_id")
        raise ModelInputError(unknown[0], "is not a known input key")
    return {"code": code.strip().upper(), "requested_at": str(inputs.get("requested_at", ""))}


def run_passport_bundle(context: JobContext) -> JobOutput:
    """Build the bundle as the person who asked (their scope, their confidential fields) into a file of the job."""
    inputs = context.inputs
    user = get_user_model().objects.filter(pk=context.requested_by_id, is_active=True).first()
    if user is None:
        raise PermanentJobError("the account that asked for this bundle no longer exists or is inactive")
    item = item_get_for_user(inputs["code"], user)
    if item is None or item.kind not in PASSPORT_KINDS:
        raise PermanentJobError(f"no cell or module {inputs['code']} that the account may read")
    context.progress(10, "building the passport")
    document = passport_build(item, user=user)
    context.progress(30, "writing the cycling data and plots")
    folder = new_bundle_folder()
    try:
        zip_path = passport_bundle_zip(item, document, folder)
        handle = tempfile.NamedTemporaryFile(prefix="assbtrack-bundle-", suffix=".zip", delete=False)
        handle.close()
        shutil.move(zip_path, handle.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    context.progress(95, "bundle written")
    return JobOutput(result={"item": item.code, "file": zip_path.name, "bytes": Path(handle.name).stat().st_size},
                     file_paths={zip_path.name: Path(handle.name)})


register_job_kind(BUNDLE_JOB, queue=QUEUE_IMPORTS, title="Passport bundle (RO-Crate)", run=run_passport_bundle,
                  validate=_validate_bundle, per_requester=True)
