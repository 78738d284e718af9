"""Uploads are bounded: a workbook that unpacks to too much (a zip bomb) is refused from its zip directory before
openpyxl sees it; only tiny files are read inside the request; a huge sheet is read by a worker, whose job fails
with the reason; UTF-16 CSVs are read. Nothing is written by a refused file."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from assbtrack.imports.models import ImportRun, ImportStatus
from assbtrack.imports.services import import_upload
from assbtrack.imports.tables import ImportFileError, read_table
from assbtrack.instruments.models import Equipment
from assbtrack.jobs.models import Job, JobStatus
from tests.conftest import wait_for
from tests.utils.checks import client_for
from tests.utils.factories_imports import csv_bytes

SHEET = "xl/worksheets/sheet1.xml"
SHEET_START = ('<?xml version="1.0" encoding="UTF-8"?><worksheet '
               'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_END = "</sheetData></worksheet>"
HEADER = ["name", "kind", "serial number", "calibrated on (date)", "calibration due on (date)"]


def _text_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def _row(number: int, cells: list[str]) -> str:
    columns = "ABCDE"
    return f'<row r="{number}">' + "".join(_text_cell(f"{columns[i]}{number}", c) for i, c in enumerate(cells)) + \
        "</row>"


def workbook_with_sheet(rows_xml) -> bytes:
    """A real workbook (made by openpyxl) whose first sheet is replaced by ``rows_xml`` (an iterable of <row>
    strings), written member by member so that a huge sheet never sits in memory whole."""
    workbook = Workbook()
    workbook.active.title = "data"
    template = io.BytesIO()
    workbook.save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for member in source.infolist():
            if member.filename != SHEET:
                target.writestr(member.filename, source.read(member.filename))
                continue
            with target.open(SHEET, "w", force_zip64=True) as sheet:
                sheet.write(SHEET_START.encode())
                block = []
                for row in rows_xml:
                    block.append(row)
                    if len(block) == 5000:
                        sheet.write("".join(block).encode())
                        block = []
                sheet.write(("".join(block) + SHEET_END).encode())
    return out.getvalue()


def bomb(unpacked_mb: int) -> bytes:
    """The same empty-looking row again and again: megabytes of XML that deflate to a few kilobytes."""
    row = "<row>" + "<c><v>0</v></c>" * 50 + "</row>"
    count = unpacked_mb * 1024 * 1024 // len(row) + 1
    return workbook_with_sheet([_row(1, HEADER)] + [row] * count)


def huge_sheet(data_rows: int) -> bytes:
    return workbook_with_sheet(
        [_row(1, HEADER)] + [_row(n, [f"Press {n}", "press_uniaxial", f"PU-{n}", "2026-01-01", "2027-01-01"])
                             for n in range(2, data_rows + 2)]
    )


@pytest.fixture
def openpyxl_untouched(monkeypatch):
    import openpyxl

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl opened a workbook that should have been refused from its zip directory")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


@pytest.mark.django_db
def test_a_zip_bomb_is_refused_at_upload_before_openpyxl_opens_it(tech, project, settings, openpyxl_untouched):
    settings.ASSBTRACK_IMPORT_MAX_UNZIPPED_BYTES = 20 * 1024 * 1024
    content = bomb(30)
    assert len(content) < 200 * 1024  # small on the wire: the compressed size limit (10 MB) lets it through
    response = client_for(tech).post("/imports/", {
        "kind": "equipment", "project": project.pk, "file": SimpleUploadedFile("bomb.xlsx", content)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "bomb.xlsx: the workbook unpacks to 30 MB, more than the 20 MB allowed" in page
    assert not ImportRun.objects.exists() and not Job.objects.exists() and not Equipment.objects.exists()


@pytest.mark.django_db
def test_a_member_that_inflates_far_more_than_a_spreadsheet_does_is_refused(tech, project, openpyxl_untouched):
    content = bomb(5)  # under the unpacked-size limit, but some thousand times its stored size
    with pytest.raises(ValidationError) as refused:
        import_upload(kind="equipment", project=project, user=tech, file_name="ratio.xlsx", content=content)
    assert "times larger than it is stored (more than 200 times is refused)" in refused.value.message_dict["file"][0]
    assert not ImportRun.objects.exists()


def test_the_worker_side_reader_refuses_a_bomb_too(openpyxl_untouched):
    with pytest.raises(ImportFileError, match="unpacks to 12 MB, more than the 10 MB allowed"):
        read_table(bomb(12), "b.xlsx", max_unzipped_bytes=10 * 1024 * 1024)


def test_reading_stops_at_its_time_limit():
    rows = "".join(f"Press {n},press_uniaxial\n" for n in range(1200))
    with pytest.raises(ImportFileError, match="took longer than 0 s; split it"):
        read_table(("name,kind\n" + rows).encode(), "x.csv", max_seconds=0)
    assert len(read_table(("name,kind\n" + rows).encode(), "x.csv", max_seconds=60).rows) == 1200


def test_a_sheet_padded_to_thousands_of_columns_is_read_to_the_importers_width():
    cells = "".join(f'<c r="{col}2"><v>1</v></c>' for col in ("A", "B", "XFD"))
    table = read_table(workbook_with_sheet([_row(1, ["name", "kind"]), f'<row r="2">{cells}</row>']), "w.xlsx")
    assert table.rows == [(2, ["1", "1"])]


@pytest.mark.django_db
def test_only_tiny_files_are_read_in_the_request(tech, project, settings):
    settings.ASSBTRACK_IMPORT_INLINE_BYTES = 1000
    rows = [[f"Press {i:03d}", "press_uniaxial", f"PU-{i:03d}", "2026-01-01", "2027-01-01"] for i in range(40)]
    client = client_for(tech)
    small = csv_bytes(HEADER, rows[:3])
    larger = csv_bytes(HEADER, rows)  # 40 rows: under the inline row limit, over the inline size
    assert len(small) < 1000 < len(larger)
    for name, content in (("small.csv", small), ("larger.csv", larger)):
        response = client.post("/imports/", {"kind": "equipment", "project": project.pk,
                                             "file": SimpleUploadedFile(name, content)})
        assert response.status_code == 302
    small_run, larger_run = ImportRun.objects.order_by("id")
    assert (small_run.status, small_run.row_count, small_run.job) == (ImportStatus.CHECKED, 3, None)
    assert larger_run.status == ImportStatus.CHECKING and larger_run.job.kind == "import_check"
    assert larger_run.row_count == 0  # not read by the request: the worker counts it


@pytest.mark.django_db
def test_a_utf16_csv_from_excel_uploads_and_checks(tech, project):
    text = "name\tkind\tnotes\nBox Süd\tglovebox\tfür 5 µm Folien\n"
    run = import_upload(kind="equipment", project=project, user=tech, file_name="unicode.txt",
                        content=text.encode("utf-16"))
    from assbtrack.imports.services import import_apply, import_check

    run = import_check(run=run)
    assert (run.status, run.row_count, run.problems) == (ImportStatus.CHECKED, 1, [])
    import_apply(run=run, user=tech)
    assert Equipment.objects.get(name="Box Süd").notes == "für 5 µm Folien"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_huge_sheet_is_read_by_the_worker_whose_job_fails_with_the_reason(celery_worker_process, tech, project):
    content = huge_sheet(50_001)  # one row more than the default ASSBTRACK_IMPORT_MAX_ROWS, in the worker too
    assert len(content) < 10 * 1024 * 1024
    response = client_for(tech).post("/imports/", {
        "kind": "equipment", "project": project.pk, "file": SimpleUploadedFile("presses.xlsx", content)})
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.job is not None and run.job.queue == "imports"
    job = wait_for(lambda: Job.objects.filter(pk=run.job_id, status=JobStatus.FAILED).first(), timeout_s=180,
                   message="the check job to fail")
    assert job.error == "presses.xlsx: the sheet has more than 50000 rows; split it"
    run.refresh_from_db()
    assert run.status == ImportStatus.INVALID
    assert run.problems == [{"row": 0, "column": "", "reason": "the sheet has more than 50000 rows; split it"}]
    assert not Equipment.objects.exists()
