"""Import test helpers: fill a downloaded template (CSV or XLSX) with rows given by column header."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook


def fill_csv_template(template: bytes, rows: list[dict[str, object]]) -> bytes:
    """The template's own lines (comments, header) with ``rows`` appended, each a {header: value} dict."""
    text = template.decode("utf-8")
    header_line = [line for line in text.splitlines() if line and not line.startswith("#")][0]
    header = next(csv.reader([header_line]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if row.get(name) is None else row.get(name) for name in header])
    return (text + buffer.getvalue()).encode("utf-8")


def fill_xlsx_template(template: bytes, rows: list[dict[str, object]]) -> bytes:
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["data"]
    header = [cell.value for cell in sheet[1]]
    for row in rows:
        sheet.append([row.get(name) for name in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
