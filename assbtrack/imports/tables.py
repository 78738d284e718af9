"""Reading an uploaded CSV or XLSX file into a header and rows of text, with the row numbers a person sees.

The format is decided by the file's name and checked against its content (an XLSX file is a zip archive),
so that a workbook renamed ``.csv`` or a CSV renamed ``.xlsx`` gets a clear message instead of garbage.

Reading is bounded, because a small upload can be a large file: an XLSX workbook is a zip archive, and its members'
uncompressed sizes are checked (in total, and as a ratio to their compressed size) from the archive's directory
before openpyxl opens anything (``zipfile`` then never inflates a member beyond its declared size). Rows beyond
``max_rows``, columns beyond ``MAX_COLUMNS`` and reading for longer than ``max_seconds`` are refused as well.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from time import monotonic

from assbtrack.domain.spreadsheet import TextDecodeError, text_decoded

CSV, XLSX = "csv", "xlsx"
ZIP_MAGIC = b"PK\x03\x04"
DATA_SHEET = "data"
MAX_COLUMNS = 200  # importers have a few dozen; a sheet padded to column XFD is not read to its end
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 200  # deflated spreadsheet XML is 5 to 50 times smaller; a bomb is thousands of times
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
DEADLINE_CHECK_ROWS = 500


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass
class Table:
    file_format: str
    header: list[str] = field(default_factory=list)
    header_row: int = 1
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def detect_format(content: bytes, file_name: str) -> str:
    suffix = PurePath(file_name or "").suffix.lower()
    is_zip = content[:4] == ZIP_MAGIC
    if suffix in (".xlsx", ".xlsm"):
        if not is_zip:
            raise ImportFileError(f"{file_name} is named like an Excel workbook but is not one; save it as .xlsx again")
        return XLSX
    if suffix == ".xls":
        raise ImportFileError(f"{file_name} is an old Excel 97 (.xls) file; save it as .xlsx or CSV")
    if suffix in (".csv", ".txt", ".tsv"):
        if is_zip:
            raise ImportFileError(f"{file_name} is named .csv but is an Excel workbook; name it .xlsx or save as CSV")
        return CSV
    if is_zip:
        return XLSX
    return CSV


def trimmed(text: str) -> str:
    """A cell as the user typed it, less the spaces around it. A leading tab or carriage return is kept: it is part
    of what was sent (and removing it would turn a defused ``\t=...`` cell back into a formula)."""
    text = text.lstrip(" ").rstrip()
    return "" if not text.strip() else text


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return trimmed(str(value))


def _is_skipped(cells: list[str]) -> bool:
    return not any(cells) or cells[0].lstrip().startswith("#")


def _decode(content: bytes) -> str:
    """The text of a CSV file (``text_decoded``), or the reason it is not text."""
    try:
        return text_decoded(content)
    except TextDecodeError as error:
        raise ImportFileError(error.reason) from None


def workbook_unzipped_bytes(
    content: bytes, *, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES, max_ratio: int = MAX_ZIP_RATIO
) -> int:
    """The uncompressed size of an XLSX file's members, from the zip directory alone (nothing is inflated).
    Raises ``ImportFileError`` for a workbook that would inflate beyond the limits (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise ImportFileError(f"the workbook cannot be opened ({error}); save it as .xlsx again") from None
    total = sum(member.file_size for member in members)
    limit_mb = max_unzipped_bytes // (1024 * 1024)
    if total > max_unzipped_bytes:
        raise ImportFileError(
            f"the workbook unpacks to {total // (1024 * 1024)} MB, more than the {limit_mb} MB allowed; split it "
            "or save it as CSV"
        )
    for member in members:
        if member.file_size >= RATIO_CHECKED_FROM_BYTES and member.file_size > max_ratio * max(member.compress_size, 1):
            raise ImportFileError(
                f"the workbook member {member.filename[:80]} unpacks {member.file_size // max(member.compress_size, 1)}"
                f" times larger than it is stored (more than {max_ratio} times is refused); save it as .xlsx again"
            )
    return total


class _Deadline:
    def __init__(self, max_seconds: float | None):
        self.max_seconds = max_seconds
        self.ends_at = None if max_seconds is None else monotonic() + max_seconds

    def check(self, rows_read: int) -> None:
        if self.ends_at is not None and rows_read % DEADLINE_CHECK_ROWS == 0 and monotonic() > self.ends_at:
            raise ImportFileError(f"reading the file took longer than {self.max_seconds:g} s; split it")


def _read_csv(content: bytes, max_rows: int, deadline: _Deadline) -> Table:
    text = _decode(content)
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    table = Table(CSV)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for read, cells in enumerate(reader, start=1):
            deadline.check(read)
            cells = [trimmed(cell) for cell in cells[:MAX_COLUMNS]]
            if _is_skipped(cells):
                continue
            if not table.header:
                table.header, table.header_row = cells, reader.line_num
                continue
            table.rows.append((reader.line_num, cells))
            if len(table.rows) > max_rows:
                raise ImportFileError(f"the file has more than {max_rows} rows; split it")
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num}: the CSV cannot be read ({error})") from None
    return table


def _read_xlsx(content: bytes, max_rows: int, deadline: _Deadline, max_unzipped_bytes: int) -> Table:
    from openpyxl import load_workbook

    workbook_unzipped_bytes(content, max_unzipped_bytes=max_unzipped_bytes)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001  (zip, XML and openpyxl errors all mean "unreadable workbook")
        raise ImportFileError(
            f"the workbook cannot be opened ({type(error).__name__}); save it as .xlsx again"
        ) from None
    try:
        sheet = workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
        table = Table(XLSX)
        for number, values in enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), start=1):
            deadline.check(number)
            cells = [_cell_text(value) for value in values]
            while cells and cells[-1] == "":
                cells.pop()
            if _is_skipped(cells):
                continue
            if not table.header:
                table.header, table.header_row = cells, number
                continue
            table.rows.append((number, cells))
            if len(table.rows) > max_rows:
                raise ImportFileError(f"the sheet has more than {max_rows} rows; split it")
    finally:
        workbook.close()
    return table


def read_table(
    content: bytes, file_name: str, *, max_rows: int = 100_000, max_seconds: float | None = None,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
) -> Table:
    """The header and the data rows of ``content``; comment rows (first cell starting with #) and blank rows are
    skipped. Raises ``ImportFileError`` when the file cannot be read at all or goes beyond a limit."""
    if not content:
        raise ImportFileError("the file is empty")
    file_format = detect_format(content, file_name)
    deadline = _Deadline(max_seconds)
    if file_format == CSV:
        table = _read_csv(content, max_rows, deadline)
    else:
        table = _read_xlsx(content, max_rows, deadline, max_unzipped_bytes)
    if not table.header:
        raise ImportFileError("the file has no header row (download the template to see the columns)")
    return table
