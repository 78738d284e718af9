"""Reading uploads: the format from the name checked against the content, CSV dialects, XLSX cells, row numbers."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from assbtrack.imports.tables import CSV, XLSX, ImportFileError, detect_format, read_table


def xlsx_bytes(rows, *, sheet="data", first_sheet_title="notes") -> bytes:
    workbook = Workbook()
    workbook.active.title = first_sheet_title
    target = workbook.create_sheet(sheet) if sheet else workbook.active
    for row in rows:
        target.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_format_from_name_and_content():
    workbook = xlsx_bytes([["a"]])
    assert detect_format(b"a,b\n1,2\n", "x.csv") == CSV
    assert detect_format(workbook, "x.xlsx") == XLSX
    assert detect_format(workbook, "upload") == XLSX  # no extension: the content decides
    with pytest.raises(ImportFileError, match="named .csv but is an Excel workbook"):
        detect_format(workbook, "x.csv")
    with pytest.raises(ImportFileError, match="not one"):
        detect_format(b"a,b\n", "x.xlsx")
    with pytest.raises(ImportFileError, match="Excel 97"):
        detect_format(b"\xd0\xcf\x11\xe0", "x.xls")


def test_csv_with_comments_semicolons_and_row_numbers():
    content = b"# a comment\nname;mass (g)\n\nLi2S;12,5\n# skipped\nP2S5;3\n"
    table = read_table(content, "x.csv")
    assert table.header == ["name", "mass (g)"] and table.header_row == 2
    assert table.rows == [(4, ["Li2S", "12,5"]), (6, ["P2S5", "3"])]


def test_csv_in_the_windows_code_page_is_read():
    table = read_table("name,notes\nLiCl,für Zelle\n".encode("cp1252"), "x.csv")
    assert table.rows == [(2, ["LiCl", "für Zelle"])]


def test_xlsx_prefers_the_data_sheet_and_turns_cells_into_text():
    content = xlsx_bytes([
        ["name", "on", "at", "mass (g)", "count", "ok"],
        [None, None, None, None, None, None],
        ["Li2S", date(2026, 3, 1), datetime(2026, 3, 1, 10, 15), 12.5, 3.0, True],
    ])
    table = read_table(content, "x.xlsx")
    assert table.header == ["name", "on", "at", "mass (g)", "count", "ok"]
    assert table.rows == [(3, ["Li2S", "2026-03-01", "2026-03-01T10:15:00", "12.5", "3", "yes"])]


def test_unreadable_files_say_why():
    with pytest.raises(ImportFileError, match="empty"):
        read_table(b"", "x.csv")
    with pytest.raises(ImportFileError, match="cannot be opened"):
        read_table(b"PK\x03\x04 broken zip", "x.xlsx")
    with pytest.raises(ImportFileError, match="not text"):
        read_table(b"\x00\x01\x02binary", "x.csv")
    with pytest.raises(ImportFileError, match="no header"):
        read_table(b"# only a comment\n", "x.csv")
    with pytest.raises(ImportFileError, match="more than 2 rows"):
        read_table(b"a\n1\n2\n3\n", "x.csv", max_rows=2)
