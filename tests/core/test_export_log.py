"""Every export path writes exactly one export-log row, through the one export-log service: who pulled
what, in which format, how many rows, and that it reached the end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from assbtrack.access.models import ExportLog
from assbtrack.access.services import export_log_start, export_logged
from assbtrack.api.export_jobs import run_api_export
from assbtrack.jobs.handlers import JobContext
from tests.cells.test_cells_api import imported
from tests.utils.checks import client_for
from tests.utils.factories_cells import make_cell
from tests.utils.factories_materials import make_batch

pytestmark = pytest.mark.django_db


def _downloaded(response) -> list[str]:
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content).decode().splitlines()


def _one_log(user, export_format: str, rows: int) -> ExportLog:
    log = ExportLog.objects.get()  # exactly one row, or this raises
    assert (log.user, log.export_format, log.rows, log.completed) == (user, export_format, rows, True)
    assert log.finished_at is not None and log.finished_at >= log.started_at
    return log


@pytest.fixture
def batch(project, sci):
    return make_batch(project, sci)  # three lots upstream


def test_api_csv_export_is_logged_once(batch, partner):
    lines = _downloaded(client_for(partner).get("/api/v1/sse-batches/", {"export": "csv"}))
    assert len(lines) == 2  # header and the one batch
    log = _one_log(partner, "csv", 1)
    assert log.endpoint == "/api/v1/sse-batches/" and log.query == "export=csv"


def test_api_jsonl_export_is_logged_once(batch, partner):
    lines = _downloaded(client_for(partner).get("/api/v1/material-lots/", {"export": "jsonl"}))
    assert sorted(json.loads(line)["code"] for line in lines) == sorted(
        edge.parent.code for edge in batch.item.edges_in.select_related("parent"))
    _one_log(partner, "jsonl", 3)


def test_api_export_job_is_logged_once(batch, partner):
    context = JobContext(job_id=0, inputs={"path": "/api/v1/material-lots/", "query": "", "format": "csv"},
                         subject_id=None, report_progress=lambda percent, message: None, requested_by_id=partner.pk)
    output = run_api_export(context)
    try:
        assert output.result["rows"] == 3
    finally:
        for path in output.file_paths.values():
            Path(path).unlink(missing_ok=True)
    log = _one_log(partner, "csv", 3)
    assert log.endpoint == "/api/v1/material-lots/"


def test_cell_cycles_csv_of_the_api_and_of_the_page_are_logged_once_each(project, tech, partner):
    cell = make_cell(project, tech)
    test = imported(cell, tech)
    assert len(_downloaded(client_for(partner).get(f"/api/v1/cells/{cell.item.code}/cycles/csv/"))) == 5
    _one_log(partner, "csv", 4).delete()
    assert len(_downloaded(client_for(tech).get(reverse("cells:cycling-csv", args=[test.pk])))) == 5
    assert _one_log(tech, "csv", 4).endpoint == reverse("cells:cycling-csv", args=[test.pk])


@pytest.mark.parametrize("direction", ["upstream", "downstream"])
def test_lineage_csv_is_logged_once(batch, sci, direction):
    lot = batch.item.edges_in.first().parent
    code = batch.item.code if direction == "upstream" else lot.code
    url = reverse("tracing:lineage-csv", args=[code])
    lines = _downloaded(client_for(sci).get(url, {"direction": direction}))
    rows = len(lines) - 1
    assert rows == (3 if direction == "upstream" else 1)
    log = _one_log(sci, "csv", rows)
    assert (log.endpoint, log.query) == (url, f"direction={direction}")


def test_impact_csv_is_logged_once(batch, sci):
    lot = batch.item.edges_in.first().parent
    url = reverse("tracing:impact", args=[lot.code])
    lines = _downloaded(client_for(sci).get(url, {"format": "csv"}))
    _one_log(sci, "csv", len(lines) - 1)
    assert len(lines) - 1 >= 1


def test_pages_that_are_not_exports_write_no_log(batch, sci):
    assert client_for(sci).get(reverse("tracing:impact", args=[batch.item.code])).status_code == 200
    assert client_for(sci).get("/api/v1/sse-batches/").status_code == 200
    assert not ExportLog.objects.exists()


def test_an_export_stopped_half_way_is_logged_as_incomplete(sci):
    log = export_log_start(user=sci, endpoint="/api/v1/cells/", export_format="csv")
    stream = export_logged(iter([("header\n", 0), ("a\n", 1), ("b\n", 1), ("c\n", 1)]), log=log)
    assert [next(stream) for _ in range(3)] == ["header\n", "a\n", "b\n"]
    stream.close()  # the client hangs up while "b" is on its way
    log = ExportLog.objects.get()
    assert (log.rows, log.completed) == (1, False) and log.finished_at is not None
