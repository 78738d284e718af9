"""The import framework end to end with the equipment importer: templates round-trip, every problem reported,
nothing written unless clean, one transaction with audit rows, the command line and the admin."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import load_workbook

from assbtrack.imports.models import ImportRun, ImportStatus
from assbtrack.imports.services import import_apply, import_check, import_upload
from assbtrack.instruments.choices import CalibrationState
from assbtrack.instruments.models import Calibration, Equipment
from assbtrack.instruments.selectors import equipment_calibration_state
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_imports import csv_bytes, fill_csv_template, fill_xlsx_template
from tests.utils.factories_instruments import make_equipment

pytestmark = pytest.mark.django_db

HEADER = ["name", "kind", "make and model", "serial number", "location", "dew-point limit (°C)",
          "calibrated on (date)", "calibration due on (date)", "notes"]


def upload(client, project, content: bytes, name: str, kind: str = "equipment"):
    return client.post("/imports/", {"kind": kind, "project": project.pk, "file": SimpleUploadedFile(name, content)})


def latest_run() -> ImportRun:
    return ImportRun.objects.order_by("-id").first()


ROWS = [
    {"name": "Mill 2", "kind": "ball_mill", "make and model": "Fritsch P7", "serial number": "P7-1",
     "location": "B.112", "calibrated on (date)": "2026-01-15", "calibration due on (date)": "2027-01-15"},
    {"name": "Dry room North", "kind": "Dry room", "location": "Hall 3", "dew-point limit (°C)": "-45"},
]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_template_round_trip(tech, project, file_format):
    client = client_for(tech)
    response = client.get(f"/imports/templates/equipment.{file_format}")
    assert response.status_code == 200
    assert f'assbtrack-equipment-template.{file_format}' in response["Content-Disposition"]
    template = response.content
    if file_format == "csv":
        lines = template.decode().splitlines()
        assert lines[-1].split(",") == HEADER  # the headers carry their units
        assert lines[3].startswith("# Mill 2,ball_mill")  # the example row, as a comment
        filled = fill_csv_template(template, ROWS)
    else:
        workbook = load_workbook(io.BytesIO(template))
        assert workbook.sheetnames == ["data", "example", "columns"]
        assert [cell.value for cell in workbook["data"][1]] == HEADER
        assert [cell.value for cell in workbook["example"][2]][:2] == ["Mill 2", "ball_mill"]
        filled = fill_xlsx_template(template, ROWS)

    response = upload(client, project, filled, f"filled.{file_format}")
    run = latest_run()
    assert response.status_code == 302 and response["Location"] == f"/imports/{run.pk}/"
    assert (run.status, run.row_count, run.file_format, run.problems) == (ImportStatus.CHECKED, 2, file_format, [])
    assert not Equipment.objects.exists()  # checked, not imported
    assert "The file is clean" in client.get(run.get_absolute_url()).content.decode()

    response = client.post(f"/imports/{run.pk}/confirm/")
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.created_count, run.imported_by) == (ImportStatus.IMPORTED, 2, tech)
    mill = Equipment.objects.get(name="Mill 2")
    assert (mill.kind, mill.make_model, mill.serial_number, mill.location, mill.project) == (
        "ball_mill", "Fritsch P7", "P7-1", "B.112", project)
    assert equipment_calibration_state(mill, date(2026, 6, 1)).state == CalibrationState.OK
    assert Equipment.objects.get(name="Dry room North").dew_point_limit_c == -45.0
    # a second confirmation imports nothing more
    client.post(f"/imports/{run.pk}/confirm/")
    assert Equipment.objects.count() == 2


def test_errors_in_several_rows_are_all_reported_and_nothing_is_written(tech, project):
    make_equipment(tech, name="Mill 1")
    content = csv_bytes(HEADER, [
        ["Mill 1", "ball_mill", "", "", "", "", "", "", ""],  # row 2: the name exists already
        ["", "press_uniaxial", "", "", "", "", "", "", ""],  # row 3: name missing
        ["Press 2", "toaster", "", "", "", "", "", "", ""],  # row 4: unknown kind
        ["Mill 3", "ball_mill", "", "", "", "-40", "", "", ""],  # row 5: a mill has no dew-point limit
        ["Mill 4", "ball_mill", "", "", "", "", "2026-02-30", "2027-01-01", ""],  # row 6: no such date
        ["Mill 5", "ball_mill", "", "", "", "", "2026-02-01", "2026-01-01", ""],  # row 7: due before calibration
        ["Mill 6", "ball_mill", "", "", "", "", "2026-02-01", "", ""],  # row 8: due date missing
        ["Mill 6", "calender", "", "", "", "", "", "", ""],  # row 9: the same name as row 8
        ["Calender 1", "calender", "", "", "", "", "", "", ""],  # row 10: fine
    ])
    client = client_for(tech)
    upload(client, project, content, "equipment.csv")
    run = latest_run()
    assert run.status == ImportStatus.INVALID
    found = [(p["row"], p["column"]) for p in run.problems]
    assert found == [
        (2, "name"), (3, "name"), (4, "kind"), (5, "dew-point limit (°C)"), (6, "calibrated on (date)"),
        (7, "calibration due on (date)"), (8, "calibration due on (date)"), (9, "name"),
    ]
    reasons = {p["row"]: p["reason"] for p in run.problems}
    assert "already equipment called 'Mill 1'" in reasons[2]
    assert reasons[3] == "is required"
    assert "'toaster' is not one of" in reasons[4]
    assert "also on row 8" in reasons[9]
    assert Equipment.objects.count() == 1 and not Calibration.objects.exists()
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Nothing was imported" in page and "8 problems" in page and "also on row 8" in page
    report = client.get(f"/imports/{run.pk}/report.csv").content.decode().splitlines()
    assert report[0] == "row,column,reason" and len(report) == 9
    response = client.post(f"/imports/{run.pk}/confirm/")  # refused: not clean
    assert response.status_code == 302 and Equipment.objects.count() == 1


def test_header_problems_are_reported_before_any_row(tech, project):
    content = csv_bytes(["name", "colour", "name"], [["Mill 9", "red", "x"]])
    run = import_check(run=import_upload(kind="equipment", project=project, user=tech, file_name="x.csv",
                                         content=content))
    assert [(p["row"], p["column"], p["reason"]) for p in run.problems] == [
        (1, "colour", "unknown column (see the template for the columns)"),
        (1, "name", "this column appears twice"),
        (1, "kind", "this required column is missing"),  # the missing ones after those found in the header
    ]


def thousand_rows(*, clash_rows: tuple[int, ...] = ()) -> bytes:
    rows = []
    for index in range(1000):
        serial = f"SN-{index:04d}" if index not in clash_rows else "SN-0000"
        rows.append([f"Cycler {index:04d}", "cycler", "Biologic BCS-815", serial, "Lab C", "", "2026-01-01",
                     "2027-01-01", ""])
    return csv_bytes(HEADER, rows)


def test_a_clean_file_of_a_thousand_rows_imports_in_one_go_with_audit_rows(tech, project):
    run = import_upload(kind="equipment", project=project, user=tech, file_name="cyclers.csv",
                        content=thousand_rows())
    run = import_check(run=run)
    assert (run.status, run.row_count) == (ImportStatus.CHECKED, 1000)
    run = import_apply(run=run, user=tech)
    assert (run.status, run.created_count) == (ImportStatus.IMPORTED, 1000)
    assert Equipment.objects.filter(kind="cycler", project=project).count() == 1000
    assert Calibration.objects.count() == 1000
    history = Equipment.history.model.objects.all()
    assert history.count() == 1000
    assert set(history.values_list("history_user", flat=True)) == {tech.pk}  # audit rows name who imported
    assert set(history.values_list("history_type", flat=True)) == {"+"}
    assert [created["label"] for created in run.created_labels[:2]] == ["Cycler 0000", "Cycler 0001"]


def test_a_service_refusal_in_any_row_rolls_back_every_row(tech, project):
    # serial numbers are unique per kind: the check does not look at them, the service refuses rows 501 and 1001
    run = import_check(run=import_upload(kind="equipment", project=project, user=tech, file_name="cyclers.csv",
                                         content=thousand_rows(clash_rows=(499, 999))))
    assert run.status == ImportStatus.CHECKED
    run = import_apply(run=run, user=tech)
    assert run.status == ImportStatus.REFUSED
    assert [(p["row"], p["column"]) for p in run.problems] == [(501, "serial number"), (1001, "serial number")]
    assert "serial exists" in run.problems[0]["reason"]
    assert not Equipment.objects.exists() and not Calibration.objects.exists()
    assert not Equipment.history.model.objects.exists()


def test_refusals_of_the_upload_itself(tech, project, partner):
    client = client_for(tech)
    response = upload(client, project, b"", "empty.csv")
    assert response.status_code == 400 and "The submitted file is empty." in response.content.decode()
    response = upload(client, project, b"name,kind\n", "workbook.xlsx")
    assert response.status_code == 400 and "is not one" in response.content.decode()
    response = upload(client, project, b"name,kind\nMill,ball_mill\n", "x.csv", kind="spaceships")
    assert response.status_code == 400
    assert not ImportRun.objects.exists()
    assert client_for(partner).get("/imports/").status_code == 403
    assert client_for(partner).get("/imports/templates/equipment.csv").status_code == 403
    assert client.get("/imports/templates/equipment.pdf").status_code == 404
    assert client.get("/imports/templates/nothing.csv").status_code == 404


def test_the_command_exits_2_with_the_report_and_imports_a_clean_file(tech, project, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(HEADER, [["", "ball_mill", "", "", "", "", "", "", ""],
                                       ["Mill X", "blender", "", "", "", "", "", "", ""]]))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_records", "equipment", str(bad), "--project", project.code, "--user", tech.username)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "2 problems; nothing was imported" in err
    assert "row 2, name: is required" in err and "row 3, kind: 'blender' is not one of" in err
    assert not Equipment.objects.exists()

    good = tmp_path / "good.xlsx"
    good.write_bytes(fill_xlsx_template(client_for(tech).get("/imports/templates/equipment.xlsx").content, ROWS))
    call_command("import_records", "equipment", str(good), "--project", project.code, "--user", tech.username)
    out = capsys.readouterr().out
    assert "Imported 2 equipment records from good.xlsx" in out and "Mill 2" in out
    assert Equipment.objects.count() == 2
    run = latest_run()
    assert (run.status, run.uploaded_by, run.file_format) == (ImportStatus.IMPORTED, tech, "xlsx")


def test_scientists_import_from_the_admin(sci, project):
    client = client_for(sci)
    assert client.get("/admin/imports/importrun/upload/").status_code == 200
    content = fill_csv_template(client.get("/imports/templates/equipment.csv").content, ROWS)
    response = client.post("/admin/imports/importrun/upload/", {
        "kind": "equipment", "project": project.pk, "file": SimpleUploadedFile("lab.csv", content)})
    run = latest_run()
    assert response.status_code == 302 and response["Location"] == f"/admin/imports/importrun/{run.pk}/change/"
    assert run.status == ImportStatus.CHECKED
    assert "Upload a file to import" in client.get("/admin/imports/importrun/").content.decode()
    response = client.post("/admin/imports/importrun/", {"action": "import_selected", "_selected_action": [run.pk]})
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.created_count, run.imported_by) == (ImportStatus.IMPORTED, 2, sci)
    assert Equipment.objects.count() == 2
    assert client.get(f"/admin/imports/importrun/{run.pk}/change/").status_code == 200


def test_import_pages_queries_are_fixed(tech, project):
    client = client_for(tech)
    content = fill_csv_template(client.get("/imports/templates/equipment.csv").content, ROWS)

    def add(n):
        for index in range(n):
            run = import_upload(kind="equipment", project=project, user=tech, file_name=f"f{index}.csv",
                                content=content)
            import_check(run=run)

    assert_fixed_queries(client, "/imports/", add_rows=add)
    bad = csv_bytes(HEADER, [["", "x", "", "", "", "", "", "", ""]] * 3)
    run = import_check(run=import_upload(kind="equipment", project=project, user=tech, file_name="b.csv",
                                         content=bad))
    assert_fixed_queries(client, f"/imports/{run.pk}/", add_rows=add)
