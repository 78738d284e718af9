"""Cycler uploads of the cells app: the options and files a cycling test is created with, and reading them back.

The cleaning functions turn what a form, the API or a command sent into the values stored on a
``CyclingTest``, raising ``ValidationError`` keyed by the field; the readers open a test's stored
files and hand them to the pure parsers of ``cells.cycler_files`` and ``cells.cycling``, raising
``ModelInputError`` naming the file and the reason. Nothing here writes: the writes are
``cells.services.cycling_test_create``, ``cycling_test_retry`` and ``cycling_test_import``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError

from assbtrack.domain.inputs import ModelInputError

from . import cycler_files, cycling
from .choices import MAX_CYCLER_FILE_BYTES, CyclerReader
from .models import CyclingTest

# --------------------------------------------------------------------------------------------------
# What an upload says
# --------------------------------------------------------------------------------------------------


def cycler_reader_for(file_name: str, cycler_format: str | None = None) -> str:
    """CSV for delimited text (plain CSV, BDF CSV), NAVANI ("vendor format") for the cyclers' own files."""
    try:
        kind = cycler_files.cycler_format(file_name, cycler_format)
    except ModelInputError as error:
        raise ValidationError({"data_file": error.reason}) from None
    return CyclerReader.CSV if kind == "csv" else CyclerReader.NAVANI


def column_map_clean(column_map: Any) -> dict[str, str]:
    """A column mapping as given, checked; empty means 'recognise the columns from their names'."""
    if column_map in (None, ""):
        return {}
    if not isinstance(column_map, Mapping):
        raise ValidationError({"column_map": "must map roles to the file's column names"})
    cleaned = {}
    for role, column in column_map.items():
        if role not in cycling.CSV_COLUMN_ROLES:
            roles = ", ".join(cycling.CSV_COLUMN_ROLES)
            raise ValidationError({f"column_map.{role}": f"is not a known role; use {roles}"})
        if column in (None, ""):
            continue
        if not isinstance(column, str) or len(column) > 200:
            raise ValidationError({f"column_map.{role}": "must be a column name (at most 200 characters)"})
        cleaned[role] = column.strip()
    if not cleaned:
        return {}
    for role in ("cycle", "voltage_v"):
        if not cleaned.get(role):
            raise ValidationError({f"column_map.{role}": "name the file's column for this"})
    has_current = bool(cleaned.get("current_ma") and cleaned.get("time_s"))
    has_counters = bool(cleaned.get("charge_capacity_mah") and cleaned.get("discharge_capacity_mah"))
    if not has_current and not has_counters:
        for first, second in (("current_ma", "time_s"), ("charge_capacity_mah", "discharge_capacity_mah")):
            if cleaned.get(first) and not cleaned.get(second):
                raise ValidationError({f"column_map.{second}": f"is needed together with {first}"})
            if cleaned.get(second) and not cleaned.get(first):
                raise ValidationError({f"column_map.{first}": f"is needed together with {second}"})
        raise ValidationError(
            {"column_map.current_ma": "name the current and time columns, or the charge and discharge capacity columns"}
        )
    return cleaned


IMPORT_OPTION_NAMES = (
    "current_unit", "capacity_unit", "time_unit", "skip_rows", "cycler", "formation_cycles", "reference_cycle",
    "diagnostic_cycles", "units_checked",
)


def _whole(value: Any, field: str, *, minimum: int, maximum: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError({field: "must be a whole number"}) from None
    if not minimum <= number <= maximum:
        raise ValidationError({field: f"must be from {minimum} to {maximum}"})
    return number


def cycling_import_options_clean(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The import options as stored on the test; every bad value is a ``ValidationError`` on its own field.

    ``current_unit`` A|mA, ``capacity_unit`` Ah|mAh, ``time_unit`` s|min|h (plain CSV columns; blank: what
    the header says, else mA, mAh, s), ``skip_rows`` (lines above the column names), ``cycler`` (a name
    from ``cycler_files.CYCLERS`` when the file ending does not say), ``formation_cycles`` (complete
    cycles at the start not used as the retention reference), ``reference_cycle``, ``diagnostic_cycles``
    (cycle numbers, a list or "5, 10, 55"), ``units_checked`` (keep capacities far from the nominal one).
    """
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(IMPORT_OPTION_NAMES))
    if unknown:
        raise ValidationError({unknown[0]: f"is not an import option; use {', '.join(IMPORT_OPTION_NAMES)}"})
    options: dict[str, Any] = {}
    for name, known in (("current_unit", cycler_files.CURRENT_UNITS), ("capacity_unit", cycler_files.CAPACITY_UNITS),
                        ("time_unit", cycler_files.TIME_UNITS)):
        value = raw.get(name)
        if value in (None, ""):
            continue
        if value not in known:
            raise ValidationError({name: f"choose {' or '.join(known)}"})
        options[name] = value
    cycler = (raw.get("cycler") or "").strip().lower()
    if cycler:
        if cycler not in cycler_files.CYCLERS:
            raise ValidationError({"cycler": f"choose one of {', '.join(cycler_files.CYCLERS)}"})
        options["cycler"] = cycler
    for name, maximum in (("skip_rows", 10_000), ("formation_cycles", 1000), ("reference_cycle", 10_000_000)):
        value = _whole(raw.get(name), name, minimum=0, maximum=maximum)
        if value is not None and (value or name == "reference_cycle"):
            options[name] = value
    diagnostic = raw.get("diagnostic_cycles")
    if isinstance(diagnostic, str):
        diagnostic = [part for part in diagnostic.replace(";", ",").replace(" ", ",").split(",") if part]
    if diagnostic:
        if not isinstance(diagnostic, Sequence) or len(diagnostic) > 10_000:
            raise ValidationError({"diagnostic_cycles": "list the cycle numbers, e.g. 1, 50, 100"})
        cycles = sorted({_whole(cycle, "diagnostic_cycles", minimum=0, maximum=10_000_000) for cycle in diagnostic})
        options["diagnostic_cycles"] = cycles
    if raw.get("units_checked") in (True, "true", "on", "1", 1):
        options["units_checked"] = True
    return options


def cycler_file_name(data_file: File | None, field: str) -> str:
    if data_file is None or not getattr(data_file, "name", ""):
        raise ValidationError({field: "choose the cycler's data file"})
    file_name = Path(str(data_file.name)).name[:200]
    size = getattr(data_file, "size", None)
    if size is not None and size <= 0:
        raise ValidationError({field: f"{file_name!r} is empty"})
    if size is not None and size > MAX_CYCLER_FILE_BYTES:
        raise ValidationError({field: f"{file_name!r} is larger than {MAX_CYCLER_FILE_BYTES // 2**20} MB"})
    problem = cycler_files.foreign_content(file_name, _head_of(data_file))
    if problem:
        raise ValidationError({field: problem})
    return file_name


def _head_of(data_file: File) -> bytes:
    """The first bytes of an upload, the file left where it was."""
    try:
        position = data_file.tell()
        data_file.seek(0)
        head = data_file.read(cycler_files.SNIFF_BYTES)
        data_file.seek(position)
    except (AttributeError, OSError, ValueError):
        return b""
    return head if isinstance(head, bytes) else b""


# --------------------------------------------------------------------------------------------------
# Reading a test's stored files
# --------------------------------------------------------------------------------------------------


def cycling_test_time_series(test: CyclingTest) -> cycling.CyclingTimeSeries:
    """Parse the stored file under its own name (navani picks the format from the ending)."""
    with tempfile.TemporaryDirectory(prefix="assbtrack-cycling-") as folder:
        path = Path(folder) / (Path(test.file_name).name or "data")
        try:
            with test.data_file.open("rb") as source, path.open("wb") as target:
                shutil.copyfileobj(source, target)
        except (OSError, ValueError) as error:
            raise ModelInputError("file", f"the stored copy cannot be opened ({error})") from None
        try:
            if test.reader == CyclerReader.CSV:
                return cycling.time_series_from_csv(path, test.column_map)
            return cycling.time_series_from_cycler_file(path)
        except ModelInputError as error:
            raise ModelInputError(error.field, error.reason.replace(str(path), test.file_name)) from None
        except (DatabaseError, MemoryError):
            raise
        except Exception as error:  # noqa: BLE001  (parsers of foreign files raise anything on a bad one)
            reason = str(error).replace(str(path), test.file_name) or type(error).__name__
            raise ModelInputError("file", f"cannot be read ({type(error).__name__}: {reason})") from None


def cycling_test_profile_series(test: CyclingTest, cycles: Sequence[int]) -> cycling.CyclingTimeSeries | None:
    """The points of ``cycles`` (the cycler's numbers, as stored) for voltage profiles; None if none are there."""
    read_options, _ = _read_options(test)
    with tempfile.TemporaryDirectory(prefix="assbtrack-cycling-") as folder:
        result = cycler_files.read_cycler_files(_stored_sources(test, Path(folder)), read_options,
                                                keep_cycles={int(cycle) for cycle in cycles})
    return result.profile_series()


def _stored_sources(test: CyclingTest, folder: Path) -> list[cycler_files.CyclerSource]:
    """The test's files as paths under their own names (a copy only when the storage has no local path)."""
    sources = []
    for index, (field, name) in enumerate(
        [(test.data_file, test.file_name), *((part.data_file, part.file_name) for part in test.more_files.all())]
    ):
        try:
            path = Path(field.path)
        except (NotImplementedError, ValueError, AttributeError):  # a remote storage (no local path): copy it
            path = folder / f"{index}-{Path(name).name or 'data'}"
            try:
                with field.open("rb") as source, path.open("wb") as target:
                    shutil.copyfileobj(source, target)
            except (OSError, ValueError):
                raise ModelInputError("file", f"the stored copy of {name} cannot be opened") from None
        sources.append(cycler_files.CyclerSource(path=path, name=name))
    return sources


def _read_options(test: CyclingTest) -> tuple[cycler_files.ReadOptions, cycling.MetricOptions]:
    options = test.import_options or {}
    read = cycler_files.ReadOptions(
        current_unit=options.get("current_unit"), capacity_unit=options.get("capacity_unit"),
        time_unit=options.get("time_unit"), skip_rows=int(options.get("skip_rows") or 0),
        column_map=test.column_map or {}, cycler=options.get("cycler"),
    )
    metric = cycling.MetricOptions(
        formation_cycles=int(options.get("formation_cycles") or 0), reference_cycle=options.get("reference_cycle"),
        diagnostic_cycles=frozenset(options.get("diagnostic_cycles") or ()),
    )
    return read, metric


def cycling_test_metrics(
    test: CyclingTest, progress: Callable[[int, str], None] | None = None
) -> tuple[cycling.CycleMetrics, cycler_files.ReadReport]:
    """Read the test's files in bounded memory and check the result is plausible for the cell."""
    report = progress or (lambda percent, message: None)
    last_percent = [-1]

    def report_changes(fraction: float, message: str) -> None:
        percent = 5 + int(60 * fraction)
        if percent != last_percent[0]:  # one job update a percent, not one a chunk
            last_percent[0] = percent
            report(percent, message)

    read_options, metric_options = _read_options(test)
    with tempfile.TemporaryDirectory(prefix="assbtrack-cycling-") as folder:
        sources = _stored_sources(test, Path(folder))
        result = cycler_files.read_cycler_files(
            sources, read_options, progress=report_changes
        )
    metrics = result.accumulator.metrics(metric_options)
    names = ", ".join(source.name for source in sources)
    if len(metrics) == 0:
        raise ModelInputError("file", f"{names} holds no current: nothing to import (is it an open-circuit or "
                              "impedance record, or are the current and capacity columns empty?)")
    if not (test.import_options or {}).get("units_checked"):
        typical = float(np.median(np.maximum(metrics.charge_capacity_mah, metrics.discharge_capacity_mah)))
        problem = cycler_files.unit_problem(typical, test.cell.nominal_capacity_ah * 1000.0, result)
        if problem:
            raise ModelInputError("units", f"{names}: {problem}")
    return metrics, result
