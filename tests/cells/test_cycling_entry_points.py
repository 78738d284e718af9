"""The three ways in to the one import service: ``manage.py import_cycling``, the API upload for lab staff
(202 and the job), and a failed import tried again with other options, or discarded."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from assbtrack.access.services import api_token_create
from assbtrack.jobs.models import Job
from cells.choices import ImportStatus
from cells.models import CycleRecord, CyclingTest
from cells.services import (
    CyclingImportError,
    cycling_test_create,
    cycling_test_discard,
    cycling_test_import,
    cycling_test_retry,
)
from tests.cells.test_cells_cycling import KNOWN, points
from tests.utils.checks import client_for
from tests.utils.factories_cells import make_cell

pytestmark = pytest.mark.django_db


def csv_in_amperes(skip_lines: int = 0) -> bytes:
    """The known test as a cycler exports it in A and h, with ``skip_lines`` of preamble above the header."""
    lines = [f"Exported by the cycler, line {number}" for number in range(skip_lines)]
    lines.append("Cycle,Time,Current,Voltage")
    lines += [f"{n},{t / 3600:.9f},{i / 1000:.9f},{v:.6f}" for n, t, i, v, _ in points(KNOWN)]
    return ("\n".join(lines) + "\n").encode()


def write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def run_command(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_cycling", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_command_imports_a_csv_with_units_and_preamble_and_waits(project, tech, tmp_path):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)  # nominal 0.96 mAh, the file's ~0.9 mAh
    path = write(tmp_path, "run.csv", csv_in_amperes(skip_lines=3))
    code, out, _ = run_command("--cell", cell.item.code, str(path), "--user", tech.username, "--current-unit", "A",
                               "--time-unit", "h", "--skip-rows", "3", "--cycler", "Arbin")
    assert code == 0, out
    test = CyclingTest.objects.get(cell=cell)
    assert test.status == ImportStatus.IMPORTED and "4 cycles" in out
    rows = list(CycleRecord.objects.filter(test=test).order_by("cycle_number"))
    assert [row.cycle_number for row in rows] == [1, 2, 3, 4]
    assert [round(row.discharge_capacity_mah, 6) for row in rows] == [d for _, d in KNOWN]


def test_command_refuses_a_thousandfold_unit_error_with_exit_2_and_the_fix(project, tech, tmp_path):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    path = write(tmp_path, "run.csv", csv_in_amperes())
    code, _, err = run_command("--cell", cell.item.code, str(path), "--user", tech.username, "--time-unit", "h")
    assert code == 2
    assert "run.csv" in err and "--current-unit A" in err  # the current was read as mA: 1/1000 of the truth
    assert not CycleRecord.objects.exists()


def test_command_refuses_a_file_it_cannot_read_with_exit_2_in_plain_words(project, tech, tmp_path):
    cell = make_cell(project, tech)
    path = write(tmp_path, "run.csv", b"Cycle,Voltage\n1,2,3,4\n")
    code, _, err = run_command("--cell", cell.item.code, str(path), "--user", tech.username)
    assert code == 2 and "run.csv" in err
    assert "C error" not in err and "Traceback" not in err


def test_several_files_join_into_one_test_in_order(project, tech, tmp_path):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    text = csv_in_amperes().decode().splitlines()
    header, body = text[0], text[1:]
    middle = next(index for index, line in enumerate(body) if line.startswith("3,"))
    first = write(tmp_path, "run_01.csv", ("\n".join([header, *body[:middle]]) + "\n").encode())
    second = write(tmp_path, "run_02.csv", ("\n".join([header, *body[middle:]]) + "\n").encode())
    code, out, err = run_command("--cell", cell.item.code, str(first), str(second), "--user", tech.username,
                                 "--current-unit", "A", "--time-unit", "h")
    assert code == 0, err
    test = CyclingTest.objects.get(cell=cell)
    assert [part.file_name for part in test.more_files.all()] == ["run_02.csv"]
    rows = list(CycleRecord.objects.filter(test=test).order_by("cycle_number"))
    assert [row.cycle_number for row in rows] == [1, 2, 3, 4]
    assert [round(row.charge_capacity_mah, 6) for row in rows] == [c for c, _ in KNOWN]


def test_a_failed_import_is_tried_again_with_the_right_unit_then_imports(project, tech):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    test = cycling_test_create(cell=cell, user=tech, data_file=ContentFile(csv_in_amperes(), name="run.csv"),
                               cycler="Arbin", import_options={"time_unit": "h"}, submit=False)
    with pytest.raises(CyclingImportError):
        cycling_test_import(test=test, submit_plots=False)
    test = cycling_test_retry(test=CyclingTest.objects.get(pk=test.pk), user=tech,
                              import_options={"time_unit": "h", "current_unit": "A"}, submit=False)
    assert test.status == ImportStatus.PENDING and test.error == ""
    test = cycling_test_import(test=test, submit_plots=False)
    assert test.status == ImportStatus.IMPORTED and test.cycle_count == 4
    assert CyclingTest.objects.filter(cell=cell).count() == 1  # no failed copy left behind


def test_a_failed_import_can_be_discarded_but_an_imported_one_cannot(project, tech,
                                                                    django_capture_on_commit_callbacks):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    test = cycling_test_create(cell=cell, user=tech, data_file=ContentFile(b"not,a\ncycler,file\n", name="x.csv"),
                               cycler="Arbin", submit=False)
    with pytest.raises(CyclingImportError):
        cycling_test_import(test=test, submit_plots=False)
    stored = CyclingTest.objects.get(pk=test.pk)
    storage, name = stored.data_file.storage, stored.data_file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        cycling_test_discard(test=stored, user=tech)
    assert not CyclingTest.objects.filter(pk=test.pk).exists() and not storage.exists(name)

    good = cycling_test_create(cell=cell, user=tech, data_file=ContentFile(csv_in_amperes(), name="run.csv"),
                               cycler="Arbin", import_options={"time_unit": "h", "current_unit": "A"}, submit=False)
    good = cycling_test_import(test=good, submit_plots=False)
    with pytest.raises(ValidationError):
        cycling_test_discard(test=good, user=tech)
    assert CyclingTest.objects.filter(pk=good.pk).exists()


def token_client(user) -> Client:
    _, key = api_token_create(user=user, name="cycler robot")
    return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")


def test_api_upload_by_lab_staff_answers_202_with_the_job(project, tech):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    response = token_client(tech).post(
        f"/api/v1/cells/{cell.item.code}/cycling-tests/",
        {"data_file": ContentFile(csv_in_amperes(), name="run.csv"), "cycler": "Arbin", "current_unit": "A",
         "time_unit": "h"},
    )
    assert response.status_code == 202, response.content
    body = response.json()
    test = CyclingTest.objects.get(cell=cell)
    assert body["test"] == test.pk and body["job"] == test.import_job_id
    assert body["api_url"].endswith(f"/api/v1/jobs/{test.import_job_id}/")
    assert test.import_options == {"current_unit": "A", "time_unit": "h"}
    assert Job.objects.get(pk=body["job"]).kind == "cells_cycling_import"


def test_api_upload_refuses_bad_options_by_field_and_partners(project, other_project, tech, partner):
    cell = make_cell(project, tech)
    hidden = make_cell(other_project, tech)
    staff = token_client(tech)
    bad = staff.post(f"/api/v1/cells/{cell.item.code}/cycling-tests/",
                     {"data_file": ContentFile(b"a,b\n1,2\n", name="run.csv"), "cycler": "Arbin",
                      "current_unit": "kA"})
    assert bad.status_code == 400 and "current_unit" in bad.json()
    assert staff.post(f"/api/v1/cells/{cell.item.code}/cycling-tests/", {"cycler": "Arbin"}).status_code == 400
    outsider = token_client(partner)
    upload = {"data_file": ContentFile(b"a,b\n1,2\n", name="run.csv"), "cycler": "Arbin"}
    assert outsider.post(f"/api/v1/cells/{cell.item.code}/cycling-tests/", upload).status_code == 403
    assert outsider.post(f"/api/v1/cells/{hidden.item.code}/cycling-tests/", upload).status_code in (403, 404)
    assert not CyclingTest.objects.exists()
    # Reading the cell's tests is open to the partner who may see the cell, and to no one else.
    assert outsider.get(f"/api/v1/cells/{cell.item.code}/cycling-tests/").json() == []
    assert outsider.get(f"/api/v1/cells/{hidden.item.code}/cycling-tests/").status_code == 404


def test_upload_form_keeps_the_chosen_file_after_an_error_and_marks_required_fields(project, tech):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    client = client_for(tech)
    url = reverse("cells:cycling-new", args=[cell.item.code])
    page = client.get(url).content.decode()
    assert "Cycler data file *" in page and "Temperature (°C) *" in page
    # No cycler named: refused beside the field, and the file is kept under a token.
    refused = client.post(url, {"data_file": ContentFile(csv_in_amperes(), name="run.csv"), "temperature_c": "25",
                                "current_unit": "A", "time_unit": "h"})
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "choose the cycler channel, or type the cycler" in text and "Kept from your last try: run.csv" in text
    token = refused.context["form"].data["upload_token"]
    assert token and not CyclingTest.objects.exists()
    # The second try sends no file at all: the kept one is imported.
    accepted = client.post(url, {"upload_token": token, "cycler": "Arbin", "temperature_c": "25",
                                 "current_unit": "A", "time_unit": "h"})
    assert accepted.status_code == 302, accepted.content.decode()[:3000]
    test = CyclingTest.objects.get(cell=cell)
    assert test.file_name == "run.csv" and test.import_options == {"current_unit": "A", "time_unit": "h"}
    # A token of another session is not honoured.
    other = client_for(tech).post(url, {"upload_token": token, "cycler": "Arbin", "temperature_c": "25"})
    assert other.status_code == 200 and other.context["form"].errors["data_file"] == ["This field is required."]
    assert CyclingTest.objects.count() == 1


def test_failed_import_page_offers_retry_and_discard(project, tech):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    test = cycling_test_create(cell=cell, user=tech, data_file=ContentFile(csv_in_amperes(), name="run.csv"),
                               cycler="Arbin", import_options={"time_unit": "h"}, submit=False)
    with pytest.raises(CyclingImportError):
        cycling_test_import(test=test, submit_plots=False)
    client = client_for(tech)
    page = client.get(test.get_absolute_url()).content.decode()
    assert "--current-unit A" in page and "Import again" in page and "Discard this failed import" in page
    response = client.post(reverse("cells:cycling-retry", args=[test.pk]), {"current_unit": "A", "time_unit": "h"})
    assert response.status_code == 302
    test.refresh_from_db()
    assert test.status == ImportStatus.PENDING and test.import_options == {"current_unit": "A", "time_unit": "h"}
    assert test.import_job is not None
