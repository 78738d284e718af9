"""Reading a room sensor's CSV log: columns time, dew_point_c, temperature_c, relative_humidity_percent.

Pure (standard library only). Every problem of every line is collected as (line, column, reason), so
that a technician sees them all at once; nothing is imported from a file with problems.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from assbtrack.domain.spreadsheet import TextDecodeError, text_decoded

REQUIRED_COLUMNS = ("time", "dew_point_c")
OPTIONAL_COLUMNS = ("temperature_c", "relative_humidity_percent")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Headers sensor software writes, and what we read them as.
ALIASES = {
    "timestamp": "time", "datetime": "time", "date_time": "time",
    "dew_point": "dew_point_c", "dewpoint_c": "dew_point_c", "dew_point_(°c)": "dew_point_c", "td_c": "dew_point_c",
    "temperature": "temperature_c", "temp_c": "temperature_c", "temperature_(°c)": "temperature_c",
    "rh": "relative_humidity_percent", "rh_percent": "relative_humidity_percent",
    "humidity_percent": "relative_humidity_percent",
    "relative_humidity": "relative_humidity_percent", "relative_humidity_(%)": "relative_humidity_percent",
}
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Reading:
    time: datetime
    dew_point_c: float
    temperature_c: float | None
    relative_humidity_percent: float | None


@dataclass
class SensorLog:
    readings: list[Reading] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    more_problems: int = 0

    def problem(self, line: int, column: str, reason: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((line, column, reason))
        else:
            self.more_problems += 1

    @property
    def ok(self) -> bool:
        return not self.problems


def _header_key(text: str) -> str:
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def _number(text: str, *, low: float, high: float) -> float:
    value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
    if not math.isfinite(value):
        raise ValueError("is not a finite number")
    if not low <= value <= high:
        raise ValueError(f"{value:g} is outside {low:g} … {high:g}")
    return value


def _time(text: str, default_tz: tzinfo) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("/", "-"))
    return value if value.tzinfo is not None else value.replace(tzinfo=default_tz)


def read_sensor_csv(content: bytes | str, *, default_tz: tzinfo) -> SensorLog:
    """The readings of a sensor CSV (comma, semicolon or tab separated), or every problem found in it.

    Times are ISO 8601 (``2026-03-01T10:15:00``, ``2026-03-01 10:15``, with or without an offset);
    naive times are in ``default_tz``. Dew point and temperature in °C, humidity in %.
    """
    log = SensorLog()
    if isinstance(content, bytes):
        try:
            text = text_decoded(content, binary_probe_bytes=0, fallback=None)
        except TextDecodeError as error:
            log.problem(1, "", f"{error.reason} (export the log as CSV)")
            return log
    else:
        text = content
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        log.problem(1, "", "the file is empty")
        return log
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header: list[str] | None = None
    for row in reader:
        line = reader.line_num
        if not row or not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [_header_key(cell) for cell in row]
            unknown = [row[i] for i, key in enumerate(header) if key not in COLUMNS]
            for name in unknown:
                log.problem(line, name, f"unknown column; the columns are {', '.join(COLUMNS)}")
            for name in REQUIRED_COLUMNS:
                if name not in header:
                    log.problem(line, name, "this column is missing")
            if log.problems:
                return log
            continue
        cells = dict(zip(header, (cell.strip() for cell in row)))
        if len(row) > len(header):
            log.problem(line, "", f"{len(row)} cells but {len(header)} columns")
            continue
        errors = False
        values: dict[str, object] = {}
        try:
            values["time"] = _time(cells.get("time", ""), default_tz)
        except ValueError:
            log.problem(line, "time", f"{cells.get('time', '')!r} is not a date and time (use 2026-03-01T10:15:00)")
            errors = True
        for name, low, high, required in (
            ("dew_point_c", -120.0, 60.0, True),
            ("temperature_c", -60.0, 80.0, False),
            ("relative_humidity_percent", 0.0, 100.0, False),
        ):
            raw = cells.get(name, "")
            if raw == "":
                if required:
                    log.problem(line, name, "is required")
                    errors = True
                values[name] = None
                continue
            try:
                values[name] = _number(raw, low=low, high=high)
            except ValueError as error:
                reason = str(error) if "outside" in str(error) or "finite" in str(error) else "is not a number"
                log.problem(line, name, f"{raw!r} {reason}" if reason == "is not a number" else reason)
                errors = True
        if not errors:
            log.readings.append(Reading(**values))
    if header is None:
        log.problem(1, "", "the file has no header line")
    elif not log.readings and not log.problems:
        log.problem(2, "", "the file has a header but no readings")
    return log
