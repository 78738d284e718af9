"""The passport bundle of a cell: an RO-Crate zip with the passport, the cycling time series in the
Battery Data Format (BDF) and the cell's plots.

Each imported cycling test becomes ``cycling-test-<id>.bdf.csv`` with BDF column names (``Test Time / s``,
``Voltage / V``, ``Current / A``, ``Cycle Count / 1``, ``Charging Capacity / Ah``, ``Discharging Capacity / Ah``)
read again from the stored cycler file. When the stored file can no longer be read, the per-cycle table
is exported instead as ``cycling-test-<id>-per-cycle.csv`` (BDF names where they exist, one row per
cycle) and the crate says so in that file's description. Plots are the PNG and SVG files of the cell's
finished jobs.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from rocrate.rocrate import ROCrate

from assbtrack.domain.inputs import ModelInputError
from assbtrack.jobs.models import JobFile, JobStatus

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
        writer = csv.writer(handle)
        writer.writerow(BDF_TIME_SERIES)
        writer.writerows(zip(*columns, strict=True))
    return size


def _write_per_cycle(test, path: Path) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(BDF_PER_CYCLE)
        rows = test.cycles.order_by("cycle_number").values_list(
            "cycle_number", "charge_capacity_mah", "discharge_capacity_mah", "charge_energy_mwh",
            "discharge_energy_mwh")
        for number, charge, discharge, charge_energy, discharge_energy in rows.iterator(chunk_size=2000):
            writer.writerow([number, charge / 1000.0, discharge / 1000.0, charge_energy / 1000.0,
                             discharge_energy / 1000.0])
            count += 1
    return count


def passport_bundle_zip(cell, document: dict, folder: Path) -> Path:
    """Write the crate of ``cell`` (its passport ``document`` already built for the caller) into ``folder``."""
    from cells.choices import ImportStatus
    from cells.services import cycling_test_time_series

    content = folder / "content"
    content.mkdir()
    crate = ROCrate()
    crate.name = f"Passport of {cell.item.code}"
    crate.description = "Battery passport, cycling data in the Battery Data Format and plots, from assbtrack."
    passport_path = content / "passport.json"
    passport_path.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    crate.add_file(passport_path, dest_path="passport.json",
                   properties={"name": "Battery passport", "encodingFormat": "application/json"})

    for test in cell.cycling_tests.filter(status=ImportStatus.IMPORTED).order_by("id"):
        try:
            series = cycling_test_time_series(test)
        except ModelInputError:
            series = None
        if series is not None:
            name = f"cycling-test-{test.pk}.bdf.csv"
            rows = _write_time_series(series, content / name)
            description = f"Cycling test {test.pk} ({test.cycler}), time series in the Battery Data Format"
        else:
            name = f"cycling-test-{test.pk}-per-cycle.csv"
            rows = _write_per_cycle(test, content / name)
            description = (f"Cycling test {test.pk}: the stored cycler file could not be read again, so this is "
                           "the per-cycle table (BDF column names), not the time series")
        crate.add_file(content / name, dest_path=name, properties={
            "name": name, "description": f"{description}; {rows} rows", "encodingFormat": "text/csv"})

    plots = JobFile.objects.filter(job__subject=cell.item, job__status=JobStatus.SUCCEEDED).order_by("job_id", "name")
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

    zip_path = folder / f"{cell.item.code}-passport.zip"
    crate.write_zip(zip_path)
    return zip_path


def new_bundle_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="assbtrack-passport-"))
