"""Reading an uploaded CSV or XLSX file into a header and rows of text, with the row numbers a person sees.

The format is decided by the file's name and checked against its content (an XLSX file is a zip archive),
so that a workbook renamed ``.csv`` or a CSV renamed ``.xlsx`` gets a clear message instead of garbage.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath

CSV, XLSX = "csv", "xlsx"
ZIP_MAGIC = b"PK\x03\x04"
DATA_SHEET = "data"


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
    return str(value).strip()


def _is_skipped(cells: list[str]) -> bool:
    return not any(cells) or cells[0].lstrip().startswith("#")


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV (comma delimited)" on Windows writes the ANSI code page, not UTF-8.
        return content.decode("cp1252", errors="replace")


def _read_csv(content: bytes, max_rows: int) -> Table:
    if b"\x00" in content[:4096]:
        raise ImportFileError("the file is not text (is it a CSV file?)")
    text = _decode(content)
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    table = Table(CSV)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for cells in reader:
            cells = [cell.strip() for cell in cells]
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


def _read_xlsx(content: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001  (zip, XML and openpyxl errors all mean "unreadable workbook")
        raise ImportFileError(
            f"the workbook cannot be opened ({type(error).__name__}); save it as .xlsx again"
        ) from None
    try:
        sheet = workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
        table = Table(XLSX)
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
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


def read_table(content: bytes, file_name: str, *, max_rows: int = 100_000) -> Table:
    """The header and the data rows of ``content``; comment rows (first cell starting with #) and blank rows are
    skipped. Raises ``ImportFileError`` when the file cannot be read at all."""
    if not content:
        raise ImportFileError("the file is empty")
    file_format = detect_format(content, file_name)
    table = _read_csv(content, max_rows) if file_format == CSV else _read_xlsx(content, max_rows)
    if not table.header:
        raise ImportFileError("the file has no header row (download the template to see the columns)")
    return table
