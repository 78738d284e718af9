"""Reading uploads: the format from the name checked against the content, CSV dialects, XLSX cells, row numbers."""

from __future__ import annotations

import codecs
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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom", "utf-8-sig", "utf-32"])
def test_csv_with_a_byte_order_mark_is_read_in_its_encoding(encoding):
    text = "name,notes\nLiCl,für Zelle – 5 µm\n"
    content = (codecs.BOM_UTF16_BE + text.encode("utf-16-be")) if encoding == "utf-16-be-bom" else text.encode(encoding)
    assert content[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or encoding in ("utf-8-sig", "utf-32")
    table = read_table(content, "x.csv")
    assert table.header == ["name", "notes"]
    assert table.rows == [(2, ["LiCl", "für Zelle – 5 µm"])]


def test_utf16_without_its_mark_or_broken_says_so():
    with pytest.raises(ImportFileError, match="byte-order mark"):
        read_table("name\nLiCl\n".encode("utf-16-le"), "x.csv")
    with pytest.raises(ImportFileError, match="UTF-16"):
        read_table(codecs.BOM_UTF16_LE + b"n\x00\x00\xd8", "x.csv")  # a lone surrogate half


def test_a_leading_tab_is_kept_and_spaces_are_trimmed():
    table = read_table(b'name,notes\n  Mill 1  ,"\t=1+1"\n', "x.csv")
    assert table.rows == [(2, ["Mill 1", "\t=1+1"])]
