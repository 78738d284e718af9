"""The template of each import kind, as CSV and as XLSX: the headers with their units and one example row.

CSV: comment lines (starting with #) explain the columns and carry the example; the reader skips them, so a
filled-in template uploads as it is. XLSX: the ``data`` sheet to fill in, an ``example`` sheet, and a
``columns`` sheet saying what each column means and whether it is required.
"""

from __future__ import annotations

import io

from assbtrack.domain.spreadsheet import csv_writer, xlsx_append

from .registry import Importer


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv_writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def template_csv(importer: Importer) -> bytes:
    required = [column.header for column in importer.columns if column.required]
    lines = [
        f"# assbtrack import template: {importer.title} (kind {importer.kind}). One record per row under the header.",
        f"# Units are in the headers. Required: {', '.join(required)}. Leave other cells empty if unknown.",
        "# Lines starting with # are ignored. Example row:",
        "# " + _csv_line([column.example for column in importer.columns]),
        _csv_line([column.header for column in importer.columns]),
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def template_xlsx(importer: Importer) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    data = workbook.active
    data.title = "data"
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    headers = [column.header for column in importer.columns]
    xlsx_append(data, headers)
    for index, column in enumerate(importer.columns, start=1):
        header_cell = data.cell(row=1, column=index)
        header_cell.font = bold
        if column.required:
            header_cell.fill = required_fill
        data.column_dimensions[header_cell.column_letter].width = max(14, len(column.header) + 2)
    data.freeze_panes = "A2"

    example = workbook.create_sheet("example")
    xlsx_append(example, headers)
    xlsx_append(example, [column.example for column in importer.columns])
    for cell in example[1]:
        cell.font = bold

    described = workbook.create_sheet("columns")
    xlsx_append(described, ["header", "key", "required", "meaning"])
    for cell in described[1]:
        cell.font = bold
    for column in importer.columns:
        xlsx_append(described, [column.header, column.key, "yes" if column.required else "no", column.help])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
