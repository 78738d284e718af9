"""Cycler files into per-cycle sums, one stretch of points at a time (pure: no Django).

Each reader turns one vendor's file into ``PointIncrements`` chunks in the cycler's own cycle numbering
(BioLogic cycle number, Arbin Cycle_Index, Neware Cycle, Maccor Cyc#, BDF Cycle Count) and in assbtrack's
units (mAh, mWh): Arbin's Ah, a CSV's A / Ah / h and BDF's ``Current / A`` are converted here. Plain
text (CSV, BDF CSV, Maccor) is read in chunks, so a file far larger than memory imports in bounded
memory; the binary formats are read whole by their vendors' libraries.

Every problem is a ``ModelInputError`` whose reason a technician can act on: the file's name and what
to change (a unit, the header lines to skip, a system tool to install), never a library's internals.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import re
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from assbtrack.domain.inputs import ModelInputError

from .cycling import CycleAccumulator, CyclingTimeSeries, PointIncrements, counter_increments, current_increments

CURRENT_UNITS = {"mA": 1.0, "A": 1000.0}  # to mA
CAPACITY_UNITS = {"mAh": 1.0, "Ah": 1000.0}  # to mAh
TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}  # to s
CYCLERS = ("biologic", "arbin", "neware", "maccor", "bdf", "csv")
CHUNK_ROWS = 200_000
MACCOR_NUMBERED = re.compile(r"\.\d{3}$")
# Capacities within this factor of the cell's nominal capacity pass the unit check; a unit error is 60×
# (min for s), 1000× (A for mA, Ah for mAh) or 3600× (h for s), and a half cell's capacity can sit well
# below its nominal one, so only the large factors are refused.
PLAUSIBLE_RATIO = 150.0
ROLES = ("cycle", "voltage_v", "current_ma", "time_s", "charge_capacity_mah", "discharge_capacity_mah")


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file: units of a plain CSV's columns (None: what the header says, else mA, mAh, s),
    header lines before the column names, the column mapping, and which cycler wrote it (None: by name)."""

    current_unit: str | None = None
    capacity_unit: str | None = None
    time_unit: str | None = None
    skip_rows: int = 0
    column_map: Mapping[str, str] = field(default_factory=dict)
    cycler: str | None = None
    chunk_rows: int = CHUNK_ROWS

    def __post_init__(self) -> None:
        for name, known in (("current_unit", CURRENT_UNITS), ("capacity_unit", CAPACITY_UNITS),
                            ("time_unit", TIME_UNITS)):
            value = getattr(self, name)
            if value is not None and value not in known:
                raise ModelInputError(name, f"must be one of {', '.join(known)}, not {value!r}")
        if not isinstance(self.skip_rows, int) or not 0 <= self.skip_rows <= 10_000:
            raise ModelInputError("skip_rows", "must be a whole number of lines from 0 to 10000")
        if self.cycler is not None and self.cycler not in CYCLERS:
            raise ModelInputError("cycler", f"must be one of {', '.join(CYCLERS)}, not {self.cycler!r}")
        for role in self.column_map:
            if role not in ROLES:
                raise ModelInputError(f"column_map.{role}", f"is not a known role; use {', '.join(ROLES)}")


@dataclass(frozen=True)
class CyclerSource:
    path: Path
    name: str  # the name the user gave the file; the format follows its ending


@dataclass
class ReadReport:
    """What reading found: the sums, which formats, and how capacities were obtained (for the unit check)."""

    accumulator: CycleAccumulator
    formats: list[str] = field(default_factory=list)
    capacity_from: str = ""  # "counters" (capacity unit matters), "current" (current and time units), "vendor"
    units_chosen: dict[str, str] = field(default_factory=dict)
    kept_points: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def profile_series(self) -> CyclingTimeSeries | None:
        """The kept cycles' points as a series with running charge and discharge counters (for the profiles)."""
        if not self.kept_points:
            return None
        cycle, voltage, charge, discharge = (np.concatenate(parts) for parts in zip(*self.kept_points, strict=True))
        if cycle.size < 2:
            return None
        return CyclingTimeSeries(cycle=cycle, voltage_v=voltage, charge_capacity_mah=np.cumsum(charge),
                                 discharge_capacity_mah=np.cumsum(discharge))


# What a file that is no cycler's export begins with: a picture or a document chosen by mistake, or renamed.
FOREIGN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF-", "a PDF document"),
)
BIOLOGIC_MPR_SIGNATURE = b"BIO-LOGIC MODULAR FILE"
SNIFF_BYTES = 32


def foreign_content(name: str, head: bytes) -> str | None:
    """Why the file ``name`` that begins with ``head`` cannot be a cycler's export, in words; None if it may be.

    Read from the first bytes only, at upload, so that a picture renamed ``.mpr`` is refused at once with a
    sentence rather than after a worker has tried to read it.
    """
    for signature, what in FOREIGN_SIGNATURES:
        if head.startswith(signature):
            return f"{name} is {what}, not a cycler file: choose the file the cycler wrote"
    if name.lower().endswith(".mpr") and head and not head.startswith(BIOLOGIC_MPR_SIGNATURE):
        return (f"{name} is not a BioLogic .mpr file (it does not begin as one): choose the file EC-Lab wrote, "
                "or its .mpt text export")
    return None


def cycler_format(name: str, cycler: str | None = None) -> str:
    """The reader for a file name: biologic-mpr, biologic-mpt, arbin-res, excel, neware, maccor, bdf-parquet, csv."""
    lower = name.lower()
    if cycler == "maccor" or MACCOR_NUMBERED.search(lower):
        return "maccor"
    if lower.endswith(".parquet"):
        return "bdf-parquet"
    if lower.endswith(".mpr"):
        return "biologic-mpr"
    if lower.endswith(".mpt"):
        return "biologic-mpt"
    if lower.endswith(".res"):
        return "arbin-res"
    if lower.endswith((".xlsx", ".xls")):
        return "excel"
    if lower.endswith((".nda", ".ndax")):
        return "neware"
    if lower.endswith(".txt"):
        return "text"  # Maccor (first line "Today's Date") or a tab-separated table
    if lower.endswith((".csv", ".tsv", ".bdf", ".gz")):
        return "csv"
    raise ModelInputError(
        "file",
        f"{name!r} is not a cycler file assbtrack reads: BioLogic .mpr/.mpt, Arbin .res/.xlsx/.csv, Neware "
        ".nda/.ndax, Maccor text (.txt or numbered .001…), BDF (.bdf.csv, .bdf.parquet, .gz) or CSV",
    )


# --------------------------------------------------------------------------------------------------
# Column names and the units in them
# --------------------------------------------------------------------------------------------------

_UNIT_IN_NAME = re.compile(r"(?:\(|\[|/)\s*([a-zA-Z0-9µμ.#]+)\s*[)\]]?\s*$")
_UNIT_ALIASES = {
    "a": ("current", "A"), "ma": ("current", "mA"), "amps": ("current", "A"),
    "ah": ("capacity", "Ah"), "mah": ("capacity", "mAh"), "a.h": ("capacity", "Ah"), "ma.h": ("capacity", "mAh"),
    "s": ("time", "s"), "sec": ("time", "s"), "min": ("time", "min"), "h": ("time", "h"), "hr": ("time", "h"),
}
# Bare names (lower case, unit removed) of each role, most specific first; assbtrack's own column names
# (its per-cycle and time-series CSVs, its upload template) first of all.
_ROLE_NAMES = {
    "cycle": ("cycle_index", "cycle index", "cycle count", "cycle number", "cyc#", "cycle"),
    "voltage_v": ("voltage_v", "voltage", "ewe", "volts", "potential", "ecell"),
    "current_ma": ("current_ma", "current", "i", "amps"),
    "time_s": ("time_s", "test_time", "test time", "total time", "cumulative time", "test (sec)", "time"),
    "charge_capacity_mah": ("charge_capacity_mah", "charge_capacity", "charging capacity", "chg. cap.",
                            "charge capacity"),
    "discharge_capacity_mah": ("discharge_capacity_mah", "discharge_capacity", "discharging capacity",
                               "dchg. cap.", "discharge capacity"),
}


def _bare_name(column: str) -> str:
    return _UNIT_IN_NAME.sub("", str(column)).strip().lower()


def unit_in_name(column: str) -> tuple[str, str] | None:
    """('current', 'A') for 'Current / A' or 'Current(A)'; None when the name carries no known unit."""
    found = _UNIT_IN_NAME.search(str(column))
    return _UNIT_ALIASES.get(found.group(1).lower()) if found else None


def auto_column_map(columns: Sequence[str]) -> dict[str, str]:
    """Roles recognised from the names a cycler's export uses (BDF 'Current / A', Arbin 'Current(A)', ...)."""
    bare = {str(column): _bare_name(column) for column in columns}
    found: dict[str, str] = {}
    for role, names in _ROLE_NAMES.items():
        for name in names:
            match = next((column for column, plain in bare.items() if plain == name), None)
            if match is not None:
                found[role] = match
                break
    return found


def _factor(role: str, column: str, chosen: str | None, fixed: str | None = None) -> tuple[float, str]:
    """Conversion factor to assbtrack's unit, and the unit used: the user's choice, else the header's, else mA/mAh/s."""
    kind, table, default = {
        "current_ma": ("current", CURRENT_UNITS, "mA"),
        "time_s": ("time", TIME_UNITS, "s"),
        "charge_capacity_mah": ("capacity", CAPACITY_UNITS, "mAh"),
        "discharge_capacity_mah": ("capacity", CAPACITY_UNITS, "mAh"),
    }[role]
    unit = chosen or fixed
    if unit is None:
        named = unit_in_name(column)
        unit = named[1] if named and named[0] == kind else default
    return table[unit], unit


# --------------------------------------------------------------------------------------------------
# Frames of points into increments
# --------------------------------------------------------------------------------------------------


def _numbers(frame: pd.DataFrame, column: str, role: str, first_line: int, name: str) -> np.ndarray:
    raw = frame[column]
    if raw.dtype == object and role == "time_s":
        durations = pd.to_timedelta(raw, errors="coerce")  # Neware exports 'HH:MM:SS' durations
        if durations.notna().all():
            return durations.dt.total_seconds().to_numpy(dtype=float)
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        value = raw.iloc[row]
        what = "is empty" if pd.isna(value) else f"holds {str(value)[:40]!r}, not a number"
        raise ModelInputError(
            f"column_map.{role}" if role in ROLES else "file",
            f"{name}: column {column!r} {what} on line {first_line + row}",
        )
    return values


class _Integrator:
    """Turns successive chunks of one file's points into ``PointIncrements``, carrying the last point over."""

    def __init__(self, roles: Mapping[str, str], factors: Mapping[str, float], name: str,
                 state_column: str | None = None) -> None:
        self.roles, self.factors, self.name, self.state_column = dict(roles), dict(factors), name, state_column
        self.use_counters = "charge_capacity_mah" in roles and "discharge_capacity_mah" in roles
        self._previous_counter: dict[str, tuple[float, float] | None] = {"charge": None, "discharge": None}
        self._previous_point: tuple[int, float, float, float] | None = None
        self.cycles_from_direction = _CyclesFromDirection()

    def chunk(self, frame: pd.DataFrame, first_line: int) -> PointIncrements:
        def column(role: str) -> np.ndarray:
            values = _numbers(frame, self.roles[role], role, first_line, self.name)
            return values * self.factors.get(role, 1.0)

        if "cycle" not in self.roles:
            increments = self._chunk_increments(frame, np.zeros(len(frame), dtype=np.int64), column, first_line)
            cycles = self.cycles_from_direction.label(increments.charge_mah - increments.discharge_mah)
            return PointIncrements(cycles, increments.charge_mah, increments.discharge_mah, increments.charge_mwh,
                                   increments.discharge_mwh, increments.carried_points, increments.voltage_v)
        cycle_float = column("cycle")
        if np.any(cycle_float != np.round(cycle_float)) or np.any(cycle_float < 0):
            bad = int(np.flatnonzero((cycle_float != np.round(cycle_float)) | (cycle_float < 0))[0])
            raise ModelInputError("column_map.cycle", f"{self.name}: cycle {cycle_float[bad]:g} on line "
                                  f"{first_line + bad} is not a whole, non-negative number")
        return self._chunk_increments(frame, cycle_float.astype(np.int64), column, first_line)

    def _chunk_increments(self, frame: pd.DataFrame, cycle: np.ndarray, column: Callable[[str], np.ndarray],
                          first_line: int) -> PointIncrements:
        voltage = column("voltage_v")
        if not self.use_counters:
            current, time = column("current_ma"), column("time_s")
            try:
                increments = current_increments(cycle, voltage, current, time, self._previous_point)
            except ModelInputError as error:
                raise ModelInputError("column_map.time_s", f"{self.name}: the time column {error.reason} "
                                      f"(after line {first_line}); is it the test's total time?") from None
            self._previous_point = (int(cycle[-1]), float(voltage[-1]), float(current[-1]), float(time[-1]))
            return increments
        parts = {}
        state = None
        if self.state_column is not None:
            state = frame[self.state_column].astype(str).str.strip().str.upper().str[:1].to_numpy()
        for direction, role, letter in (("charge", "charge_capacity_mah", "C"),
                                        ("discharge", "discharge_capacity_mah", "D")):
            counter = column(role)
            if np.any(counter < -1e-12) and state is None:
                counter = np.abs(counter)  # some exports sign the discharge counter
            mah, mwh = np.zeros(cycle.size), np.zeros(cycle.size)
            where = np.arange(cycle.size) if state is None else np.flatnonzero(state == letter)
            if where.size:
                mah[where], mwh[where] = counter_increments(np.abs(counter[where]), voltage[where],
                                                            self._previous_counter[direction])
                self._previous_counter[direction] = (float(abs(counter[where[-1]])), float(voltage[where[-1]]))
            parts[direction] = (mah, mwh)
        return PointIncrements(cycle, parts["charge"][0], parts["discharge"][0], parts["charge"][1],
                               parts["discharge"][1], voltage_v=voltage)


class _CyclesFromDirection:
    """Cycle numbers for a file without the cycler's own: a cycle starts with each charge after a discharge.

    A direction counts once it has held for ``BLIP_POINTS`` points in a row, so a noise point of the other
    sign does not start a half cycle. A test that opens with a discharge numbers it cycle 0, as EC-Lab does.
    The state carries over chunk boundaries.
    """

    BLIP_POINTS = 3

    def __init__(self) -> None:
        self.cycle: int | None = None
        self.direction = 0  # the last confirmed direction
        self.pending, self.pending_points = 0, 0

    def label(self, net_mah: np.ndarray) -> np.ndarray:
        labels = np.empty(net_mah.size, dtype=np.int64)
        signs = np.sign(net_mah).astype(int)
        moving = np.flatnonzero(signs != 0)
        cursor = 0
        if moving.size:
            starts = np.concatenate(([0], np.flatnonzero(np.diff(signs[moving]) != 0) + 1))
            ends = np.concatenate((starts[1:], [moving.size]))
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
                direction = int(signs[moving[start]])
                count = end - start
                if direction == self.pending:
                    self.pending_points += count
                else:
                    self.pending, self.pending_points = direction, count
                first_point = int(moving[start])
                if self.pending_points >= self.BLIP_POINTS and self.pending != self.direction:
                    if self.cycle is None:
                        self.cycle = 1 if self.pending > 0 else 0
                    elif self.pending > 0 and self.direction < 0:
                        labels[cursor:first_point] = self.cycle
                        cursor = first_point
                        self.cycle += 1
                    self.direction = self.pending
                labels[cursor:int(moving[end - 1]) + 1] = self.cycle if self.cycle is not None else 1
                cursor = int(moving[end - 1]) + 1
        labels[cursor:] = self.cycle if self.cycle is not None else 1
        return labels


def _roles_for(columns: Sequence[str], options: ReadOptions, name: str) -> dict[str, str]:
    mapped = {role: column for role, column in options.column_map.items() if column}
    roles = mapped or auto_column_map(columns)
    missing = [column for column in roles.values() if column not in columns]
    if missing:
        known = ", ".join(repr(str(column)) for column in columns[:40])
        raise ModelInputError(
            "column_map", f"{name}: column {missing[0]!r} is not in the file (its columns are {known}); "
            "if the column names are further down, set the header lines to skip",
        )
    has_counters = "charge_capacity_mah" in roles and "discharge_capacity_mah" in roles
    has_current = "current_ma" in roles and "time_s" in roles
    if has_counters and has_current and not mapped:
        roles.pop("current_ma"), roles.pop("time_s")  # the cycler's own counters beat re-integrating
    for role in ("voltage_v",):
        if role not in roles:
            known = ", ".join(repr(str(column)) for column in columns[:40])
            raise ModelInputError(f"column_map.{role}", f"{name}: no {role.replace('_v', '')} column found "
                                  f"(its columns are {known}); name it in the column mapping")
    if not has_counters and not has_current:
        raise ModelInputError("column_map.current_ma", f"{name}: name the current and time columns, or the "
                              "charge and discharge capacity columns")
    return roles


def _factors(roles: Mapping[str, str], options: ReadOptions, report: ReadReport,
             fixed: Mapping[str, str] | None = None) -> dict[str, float]:
    chosen = {"current_ma": options.current_unit, "time_s": options.time_unit,
              "charge_capacity_mah": options.capacity_unit, "discharge_capacity_mah": options.capacity_unit}
    factors = {}
    for role in ("current_ma", "time_s", "charge_capacity_mah", "discharge_capacity_mah"):
        if role in roles:
            factors[role], unit = _factor(role, roles[role], chosen[role], (fixed or {}).get(role))
            report.units_chosen[role] = unit
    report.capacity_from = "counters" if "charge_capacity_mah" in roles else "current"
    return factors


# --------------------------------------------------------------------------------------------------
# Text: CSV, BDF CSV, Maccor
# --------------------------------------------------------------------------------------------------


def _open_binary(path: Path, name: str):
    try:
        if name.lower().endswith(".gz"):
            handle = gzip.open(path, "rb")
            handle.peek(1)
            return handle
        return path.open("rb")
    except (OSError, EOFError) as error:
        reason = "it is not a gzip file" if isinstance(error, gzip.BadGzipFile) else (
            getattr(error, "strerror", None) or "it cannot be opened")
        raise ModelInputError("file", f"{name} cannot be read: {reason}") from None


def _sniff_text(path: Path, name: str) -> tuple[str, str]:
    """(encoding, sample text) of a text file, or a plain refusal for binary or empty files."""
    with _open_binary(path, name) as handle:
        try:
            sample = handle.read(256 * 1024)
        except (OSError, EOFError):
            raise ModelInputError("file", f"{name} is damaged: its compressed data ends early") from None
    if not sample.strip():
        raise ModelInputError("file", f"{name} is empty")
    if b"\x00" in sample[:65536]:
        raise ModelInputError("file", f"{name} is a binary file, not CSV text: choose the cycler's own format "
                              "(its file ending) or export the data as text")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        decoder.decode(sample, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1252"  # cycler software on Windows writes the ANSI code page (µ, °, ²)
    return encoding, sample.decode(encoding, errors="replace")


def _separator(lines: list[str], name: str) -> str:
    text = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(text, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {sep: lines[0].count(sep) for sep in (",", ";", "\t")} if lines else {}
        best = max(counts, key=counts.get) if counts else ","
        if not counts or counts[best] == 0:
            raise ModelInputError("file", f"{name}: no comma, semicolon or tab separates the columns of its "
                                  "header line; if the column names are further down, set the header lines "
                                  "to skip") from None
        return best


def _parser_reason(error: Exception, name: str, skip_rows: int) -> ModelInputError:
    text = str(error)
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        expected, line, saw = found.groups()
        return ModelInputError("file", f"{name}: line {int(line) + skip_rows} has {saw} values where the header "
                               f"has {expected}; if the lines above the column names are not skipped, set the "
                               f"header lines to skip (now {skip_rows})")
    return ModelInputError("file", f"{name} is not a readable table of points (a line cannot be split into "
                           "columns); check the header lines to skip and that the file is a CSV export")


def _table_chunks(path: Path, name: str, *, sep: str | None, skip_rows: int, options: ReadOptions,
                  progress: Callable[[int], None]) -> Iterator[tuple[pd.DataFrame, int]]:
    """(chunk, file line of its first row) for a delimited text table, in chunks of ``options.chunk_rows``."""
    encoding, sample = _sniff_text(path, name)
    lines = sample.splitlines()[skip_rows:]
    if not lines:
        raise ModelInputError("skip_rows", f"{name} has only {len(sample.splitlines())} lines; fewer header "
                              "lines to skip")
    separator = sep or _separator(lines, name)
    handle = _open_binary(path, name)
    try:
        text = io.TextIOWrapper(handle, encoding=encoding, errors="replace", newline="")
        reader = pd.read_csv(text, sep=separator, skiprows=skip_rows, chunksize=options.chunk_rows,
                             skipinitialspace=True, low_memory=True)
        first_line = skip_rows + 2
        for frame in reader:
            frame.columns = [str(column).strip() for column in frame.columns]
            yield frame, first_line
            first_line += len(frame)
            with contextlib.suppress(OSError, ValueError):
                progress(handle.fileobj.tell() if hasattr(handle, "fileobj") else handle.tell())
    except pd.errors.EmptyDataError:
        raise ModelInputError("file", f"{name} has no table of points after {skip_rows} skipped lines") from None
    except (pd.errors.ParserError, csv.Error) as error:
        raise _parser_reason(error, name, skip_rows) from None
    except (EOFError, OSError, gzip.BadGzipFile):
        raise ModelInputError("file", f"{name} is damaged: it ends in the middle of its data") from None
    finally:
        handle.close()


def _read_table(source: CyclerSource, options: ReadOptions, report: ReadReport, *, sep: str | None = None,
                skip_rows: int | None = None, state_column: str | None = None,
                fixed: Mapping[str, str] | None = None, progress: Callable[[int], None]) -> Iterator[PointIncrements]:
    skip = options.skip_rows if skip_rows is None else skip_rows
    integrator = None
    rows = 0
    for frame, first_line in _table_chunks(source.path, source.name, sep=sep, skip_rows=skip, options=options,
                                           progress=progress):
        if integrator is None:
            roles = _roles_for(list(frame.columns), options, source.name)
            integrator = _Integrator(roles, _factors(roles, options, report, fixed), source.name, state_column)
        rows += len(frame)
        yield integrator.chunk(frame, first_line)
    if rows == 0:
        raise ModelInputError("file", f"{source.name} has a header but no data rows")


def _read_maccor(source: CyclerSource, options: ReadOptions, report: ReadReport,
                 progress: Callable[[int], None]) -> Iterator[PointIncrements]:
    _, sample = _sniff_text(source.path, source.name)
    first = sample.splitlines()[0] if sample else ""
    skip = 1 if first.startswith("Today's Date") else options.skip_rows
    maccor = ReadOptions(column_map=options.column_map or {
        "cycle": "Cyc#", "voltage_v": "Volts", "charge_capacity_mah": "Amp-hr", "discharge_capacity_mah": "Amp-hr",
    }, chunk_rows=options.chunk_rows, capacity_unit=options.capacity_unit or "Ah")
    yield from _read_table(source, maccor, report, sep="\t", skip_rows=skip, state_column="State",
                           progress=progress)


# --------------------------------------------------------------------------------------------------
# Vendor binary formats (read whole by their libraries)
# --------------------------------------------------------------------------------------------------


def _frame_increments(frame: pd.DataFrame, roles: Mapping[str, str], options: ReadOptions, report: ReadReport,
                      name: str, fixed: Mapping[str, str] | None = None) -> PointIncrements:
    integrator = _Integrator(roles, _factors(roles, options, report, fixed), name)
    return integrator.chunk(frame.reset_index(drop=True), 1)


def _no_current(name: str) -> ModelInputError:
    return ModelInputError("file", f"{name} holds no current: nothing to import (is it an open-circuit or "
                           "impedance record?)")


def _read_biologic(source: CyclerSource, options: ReadOptions, report: ReadReport) -> PointIncrements:
    name = source.name
    if source.name.lower().endswith(".mpr"):
        from galvani import MPRfile  # heavy; only when a BioLogic file is read

        try:
            with source.path.open("rb") as handle:
                frame = pd.DataFrame(MPRfile(handle).data)
        except Exception:  # noqa: BLE001  (galvani raises anything on a file it does not know)
            raise ModelInputError("file", f"{name} is not a BioLogic .mpr file assbtrack can read (damaged, or "
                                  "written by an EC-Lab version not supported yet: export it as .mpt text)") from None
    else:
        from navani.biologic import mpt_reader

        try:
            frame = mpt_reader(source.path)
        except Exception:  # noqa: BLE001
            raise ModelInputError("file", f"{name} is not a BioLogic .mpt export assbtrack can read (its header "
                                  "does not say how many lines it has)") from None
    if "freq/Hz" in frame.columns:
        frame = frame[~(pd.to_numeric(frame["freq/Hz"], errors="coerce").fillna(0) > 0)]  # impedance points
    voltage = next((column for column in ("Ewe/V", "<Ewe>/V", "Ecell/V") if column in frame.columns), None)
    increment = next((column for column in ("dq/mA.h", "dQ/mA.h") if column in frame.columns), None)
    current = next((column for column in ("I/mA", "<I>/mA", "control/V/mA") if column in frame.columns), None)
    if voltage is None or (increment is None and (current is None or "time/s" not in frame.columns)):
        raise _no_current(name)
    if "cycle number" in frame.columns:
        cycle = pd.to_numeric(frame["cycle number"], errors="coerce").fillna(0).to_numpy()
    elif "half cycle" in frame.columns:
        # EC-Lab's cycle k holds its half cycles 2k and 2k+1: a test that starts with a discharge has
        # that discharge alone as cycle 0.
        cycle = pd.to_numeric(frame["half cycle"], errors="coerce").fillna(0).to_numpy() // 2
    else:
        raise ModelInputError("file", f"{name} has neither a cycle number nor a half-cycle column")
    cycle = cycle.astype(np.int64)
    volts = pd.to_numeric(frame[voltage], errors="coerce").fillna(0).to_numpy(dtype=float)
    report.capacity_from = "vendor"
    if increment is not None:
        dq = pd.to_numeric(frame[increment], errors="coerce").fillna(0).to_numpy(dtype=float)
        if np.any(dq != 0) or current is None or "time/s" not in frame.columns:
            charge, discharge = np.maximum(dq, 0.0), np.maximum(-dq, 0.0)
            return PointIncrements(cycle, charge, discharge, charge * volts, discharge * volts, voltage_v=volts)
        # An export without its dq column filled: integrate the current instead.
    amps = pd.to_numeric(frame[current], errors="coerce").fillna(0).to_numpy(dtype=float)
    seconds = pd.to_numeric(frame["time/s"], errors="coerce").to_numpy(dtype=float)
    return current_increments(cycle, volts, amps, seconds, None)


def _read_arbin_res(source: CyclerSource, options: ReadOptions, report: ReadReport) -> PointIncrements:
    from galvani import res2sqlite

    name = source.name
    with tempfile.TemporaryDirectory(prefix="assbtrack-res-") as folder:
        database = Path(folder) / "res.sqlite"
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                res2sqlite.convert_arbin_to_sqlite(str(source.path), str(database))
        except (RuntimeError, FileNotFoundError) as error:
            if "mdb-export" in str(error) or "mdb" in str(error).lower():
                raise ModelInputError("file", f"{name}: reading Arbin .res files needs Debian's mdbtools "
                                      "(mdb-export), which is not installed on the server: install it "
                                      "(apt-get install mdbtools, or run the project's set-up, make run)") from None
            raise ModelInputError("file", f"{name} is not an Arbin .res database mdbtools can read") from None
        except (subprocess.CalledProcessError, sqlite3.Error, ValueError, KeyError, OSError):
            raise ModelInputError("file", f"{name} is not an Arbin .res database mdbtools can read (damaged, or "
                                  "not an Arbin results file)") from None
        try:
            with contextlib.closing(sqlite3.connect(database)) as connection:
                frame = pd.read_sql_query(
                    "SELECT Cycle_Index, Voltage, Current, Charge_Capacity, Discharge_Capacity "
                    "FROM Channel_Normal_Table ORDER BY Test_ID, Data_Point", connection)
        except (sqlite3.Error, pd.errors.DatabaseError):
            raise ModelInputError("file", f"{name} holds no table of measured points (Channel_Normal_Table); "
                                  "is it an Arbin results file?") from None
    if frame.empty:
        raise ModelInputError("file", f"{name} holds no measured points")
    roles = {"cycle": "Cycle_Index", "voltage_v": "Voltage", "charge_capacity_mah": "Charge_Capacity",
             "discharge_capacity_mah": "Discharge_Capacity"}
    increments = _frame_increments(frame, roles, ReadOptions(), report, name,
                                   fixed={"charge_capacity_mah": "Ah", "discharge_capacity_mah": "Ah"})
    report.capacity_from = "vendor"
    return increments


def _read_excel(source: CyclerSource, options: ReadOptions, report: ReadReport) -> PointIncrements:
    name = source.name
    try:
        book = pd.ExcelFile(source.path, engine="calamine")
        sheets = [sheet for sheet in book.sheet_names if "channel" in sheet.lower() and "chart" not in sheet.lower()]
        if sheets:
            frame = pd.concat([book.parse(sheet) for sheet in sheets], ignore_index=True)
        elif any(sheet.lower() == "record" for sheet in book.sheet_names):
            from navani.neware import neware_reader_excel

            frame, _ = neware_reader_excel(book)
        else:
            raise ModelInputError("file", f"{name}: no Arbin 'Channel' or Neware 'record' sheet (its sheets are "
                                  f"{', '.join(map(repr, book.sheet_names))}); export the data as CSV instead")
    except ModelInputError:
        raise
    except Exception:  # noqa: BLE001  (spreadsheet readers raise anything on a bad workbook)
        raise ModelInputError("file", f"{name} is not an Excel workbook assbtrack can read") from None
    roles = _roles_for([str(column) for column in frame.columns], options, name)
    return _frame_increments(frame, roles, options, report, name)


def _read_neware(source: CyclerSource, options: ReadOptions, report: ReadReport) -> PointIncrements:
    from NewareNDA.NewareNDA import read

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            frame = read(str(source.path))
    except Exception:  # noqa: BLE001  (the NDA reader raises anything on a file it does not know)
        raise ModelInputError("file", f"{source.name} is not a Neware .nda/.ndax file assbtrack can read "
                              "(damaged, or from a BTS version not supported yet: export it as CSV)") from None
    # The cycler's own counters and cycle; Neware's rebuilt time column (which may step back) is not needed.
    roles = {"cycle": "Cycle", "voltage_v": "Voltage", "charge_capacity_mah": "Charge_Capacity(mAh)",
             "discharge_capacity_mah": "Discharge_Capacity(mAh)"}
    if any(column not in frame.columns for column in roles.values()):
        raise ModelInputError("file", f"{source.name} has no charge and discharge capacity records")
    increments = _frame_increments(frame, roles, ReadOptions(), report, source.name)
    report.capacity_from = "vendor"
    return increments


def _read_parquet(source: CyclerSource, options: ReadOptions, report: ReadReport,
                  progress: Callable[[int], None]) -> Iterator[PointIncrements]:
    import pyarrow.parquet as parquet

    try:
        parquet_file = parquet.ParquetFile(source.path)
    except Exception:  # noqa: BLE001
        raise ModelInputError("file", f"{source.name} is not a readable Parquet file") from None
    roles = _roles_for(parquet_file.schema_arrow.names, options, source.name)
    integrator = _Integrator(roles, _factors(roles, options, report), source.name)
    first_line = 1
    for batch in parquet_file.iter_batches(batch_size=options.chunk_rows, columns=list(set(roles.values()))):
        frame = batch.to_pandas()
        yield integrator.chunk(frame, first_line)
        first_line += len(frame)


# --------------------------------------------------------------------------------------------------
# Several files into one test
# --------------------------------------------------------------------------------------------------


def _chunks_of(source: CyclerSource, options: ReadOptions, report: ReadReport,
               progress: Callable[[int], None]) -> Iterator[PointIncrements]:
    kind = cycler_format(source.name, options.cycler)
    if kind == "text":
        _, sample = _sniff_text(source.path, source.name)
        kind = "maccor" if sample.startswith("Today's Date") else "csv"
    report.formats.append(kind)
    if kind in ("biologic-mpr", "biologic-mpt"):
        yield _read_biologic(source, options, report)
    elif kind == "arbin-res":
        yield _read_arbin_res(source, options, report)
    elif kind == "excel":
        yield _read_excel(source, options, report)
    elif kind == "neware":
        yield _read_neware(source, options, report)
    elif kind == "maccor":
        yield from _read_maccor(source, options, report, progress)
    elif kind == "bdf-parquet":
        yield from _read_parquet(source, options, report, progress)
    else:
        yield from _read_table(source, options, report, progress=progress)


def read_cycler_files(
    sources: Sequence[CyclerSource], options: ReadOptions | None = None,
    progress: Callable[[float, str], None] | None = None, keep_cycles: set[int] | None = None,
) -> ReadReport:
    """Accumulate the points of ``sources``, in order, as one test.

    ``keep_cycles``: cycle numbers whose points (voltage and charge increments) are kept in the report
    for voltage profiles (``profile_series``); the others are only summed.

    A later file whose cycle numbers start again below where the previous file ended continues the
    numbering (the cycler restarted its counter with the new file); otherwise the numbers are kept.
    """
    options = options or ReadOptions()
    report = ReadReport(CycleAccumulator())
    sizes = [max(source.path.stat().st_size, 1) if source.path.exists() else 1 for source in sources]
    total, done = float(sum(sizes)), 0.0
    last_cycle: int | None = None
    for source, size in zip(sources, sizes, strict=True):
        if not source.path.is_file():
            raise ModelInputError("file", f"{source.name} cannot be read: no such file")
        offset = None
        file_last = None

        def file_progress(position: int, done=done, size=size, name=source.name) -> None:
            if progress is not None:
                progress((done + min(position, size)) / total, f"reading {name}")

        for chunk in _chunks_of(source, options, report, file_progress):
            if len(chunk) == 0:
                continue
            if offset is None:
                first = int(chunk.cycle[0])
                offset = last_cycle + 1 - first if last_cycle is not None and first < last_cycle else 0
            cycle = chunk.cycle + offset if offset else chunk.cycle
            report.accumulator.add(PointIncrements(cycle, chunk.charge_mah, chunk.discharge_mah, chunk.charge_mwh,
                                                   chunk.discharge_mwh, chunk.carried_points))
            if keep_cycles and chunk.voltage_v is not None:
                kept = np.flatnonzero(np.isin(cycle, list(keep_cycles)))
                kept = kept[kept >= chunk.carried_points]
                if kept.size:
                    report.kept_points.append((cycle[kept], chunk.voltage_v[kept], chunk.charge_mah[kept],
                                               chunk.discharge_mah[kept]))
            file_last = int(cycle.max())
        if file_last is not None:
            last_cycle = max(file_last, last_cycle or 0)
        done += size
        if progress is not None:
            progress(done / total, f"read {source.name}")
    return report


def unit_problem(typical_mah: float, nominal_mah: float, report: ReadReport) -> str | None:
    """A plain sentence when the capacities are about 1000× (or 3600×, 60×) off the cell's nominal capacity."""
    if not (typical_mah > 0 and nominal_mah > 0):
        return None
    ratio = typical_mah / nominal_mah
    if 1 / PLAUSIBLE_RATIO <= ratio <= PLAUSIBLE_RATIO:
        return None
    scale = f"about {ratio:,.0f}× the" if ratio > 1 else f"about 1/{1 / ratio:,.0f} of the"
    said = f"The capacities come out at {typical_mah:.4g} mAh a cycle, {scale} cell's nominal {nominal_mah:.4g} mAh"
    units = report.units_chosen
    if report.capacity_from == "counters":
        unit = units.get("charge_capacity_mah", "mAh")
        other = "Ah" if unit == "mAh" else "mAh"
        return (f"{said}: the capacity columns are probably in {other}, not {unit}. Choose capacity unit "
                f"{other} (--capacity-unit {other}) and import again.")
    if report.capacity_from == "current":
        current, time = units.get("current_ma", "mA"), units.get("time_s", "s")
        if 300 < ratio < 5000 or 1 / 5000 < ratio < 1 / 300:
            other = "A" if current == "mA" else "mA"
            if 1 / 5000 < ratio < 1 / 300 and current == "mA":
                return (f"{said}: the current column is probably in A, not mA. Choose current unit A "
                        "(--current-unit A) and import again.")
            if ratio > 300 and current == "A":
                return (f"{said}: the current column is probably in mA, not A. Choose current unit mA "
                        "(--current-unit mA) and import again.")
            return f"{said}: check the current unit (now {current}; try {other}) and import again."
        return (f"{said}: check the time unit (now {time}: s, min or h) and the current unit (now {current}) "
                "and import again.")
    return (f"{said}: check that the file belongs to this cell and that the cell's nominal capacity is right; "
            "import with 'units checked' to keep it anyway.")
