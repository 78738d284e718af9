"""Cycler files into per-cycle rows and the cell's summary: CSV and BioLogic .mpt (read by navani), files
that cannot be read, one transaction, and the import through the real Celery worker.

The files are written here with capacities known by construction: galvanostatic steps at 0.5 mA with a
linear voltage ramp, so each half cycle's capacity is I·t and its energy is the capacity times the mean
of the ramp's ends (3.6 V charging from 3.0 to 4.2 V, 3.5 V discharging from 4.1 to 2.9 V).
"""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.tasks import run_job
from cells.choices import JOB_CYCLING_IMPORT, JOB_CYCLING_PLOTS, ImportStatus
from cells.models import CycleRecord, CyclingTest
from cells.services import cycling_test_create, cycling_test_import
from tests.conftest import wait_for
from tests.utils.checks import client_for
from tests.utils.factories_cells import make_cell

CURRENT_MA = 0.5
CHARGE_RAMP_V, DISCHARGE_RAMP_V = (3.0, 4.2), (4.1, 2.9)
CHARGE_MEAN_V, DISCHARGE_MEAN_V = 3.6, 3.5
# (charge mAh, discharge mAh): retention 1, 1, 0.9, 0.7 → below 80 % at cycle 4.
KNOWN = [(1.0, 0.9), (0.95, 0.9), (0.9, 0.81), (0.85, 0.63)]
CSV_MAP = {"cycle": "Cycle_Index", "voltage_v": "Voltage(V)", "current_ma": "Current(mA)", "time_s": "Test_Time(s)"}
MPT_COLUMNS = ["mode", "ox/red", "error", "control changes", "Ns changes", "counter inc.", "Ns", "time/s",
               "control/V/mA", "Ewe/V", "I/mA", "dQ/mA.h", "(Q-Qo)/mA.h", "Q charge/discharge/mA.h", "cycle number"]


def points(cycles, per_step: int = 11):
    """(cycle, time s, current mA, voltage V, signed half-cycle charge mAh) rows, rests between steps.

    A step's first point shares its time stamp with the rest point before it, so no logging interval
    straddles a change of current and the trapezoid integrates each step exactly.
    """
    rows = [(1, 0.0, 0.0, 3.0, 0.0), (1, 300.0, 0.0, 3.0, 0.0)]
    time_s = 300.0
    for number, (charge, discharge) in enumerate(cycles, start=1):
        for sign, capacity, (v_start, v_end) in ((1, charge, CHARGE_RAMP_V), (-1, discharge, DISCHARGE_RAMP_V)):
            duration = capacity / CURRENT_MA * 3600.0
            for fraction in np.linspace(0.0, 1.0, per_step):
                rows.append((number, time_s + fraction * duration, sign * CURRENT_MA,
                             v_start + (v_end - v_start) * fraction, sign * capacity * fraction))
            time_s += duration
            rows.append((number, time_s, 0.0, v_end, 0.0))
            time_s += 600.0
            rows.append((number, time_s, 0.0, v_end, 0.0))
    return rows


def csv_bytes(cycles=KNOWN) -> bytes:
    lines = ["Test_Time(s),Cycle_Index,Current(mA),Voltage(V)"]
    lines += [f"{t:.6f},{n},{i:.6f},{v:.6f}" for n, t, i, v, _ in points(cycles)]
    return ("\n".join(lines) + "\n").encode()


def mpt_bytes(cycles=KNOWN) -> bytes:
    """An EC-Lab ASCII export; 'Nb header lines' counts the metadata and the column header line."""
    metadata = ["EC-Lab ASCII FILE", "", "Galvanostatic Cycling with Potential Limitation", "",
                "Run on channel : 3", "Electrode surface area : 10 cm²", ""]
    metadata[1] = f"Nb header lines : {len(metadata) + 1}"
    lines = metadata + ["\t".join(MPT_COLUMNS) + "\t"]
    for n, t, i, v, q in points(cycles):
        values = [1, 1 if i > 0 else 0, 0, 0, 0, 0, 0, t, i, v, i, 0.0, 0.0, q, n]  # stored as written
        lines.append("\t".join(f"{value:.15g}" for value in values) + "\t")
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def upload(cell, user, name: str, content: bytes, **overrides) -> CyclingTest:
    data = {"cycler": "BioLogic VMP-300", "channel": "3", "temperature_c": 25.0, "stack_pressure_mpa": 5.0,
            "protocol": "CC, C/10", "c_rate": 0.1, "voltage_min_v": 2.8, "voltage_max_v": 4.3,
            "column_map": CSV_MAP if name.endswith(".csv") else None, "submit": False}
    data.update(overrides)
    return cycling_test_create(cell=cell, user=user, data_file=ContentFile(content, name=name), **data)


def assert_known_rows(test: CyclingTest) -> None:
    rows = list(CycleRecord.objects.filter(test=test).order_by("cycle_number"))
    charge = np.array([c for c, _ in KNOWN])
    discharge = np.array([d for _, d in KNOWN])
    assert [row.cycle_number for row in rows] == [1, 2, 3, 4]
    np.testing.assert_allclose([row.charge_capacity_mah for row in rows], charge, rtol=1e-6)
    np.testing.assert_allclose([row.discharge_capacity_mah for row in rows], discharge, rtol=1e-6)
    np.testing.assert_allclose([row.charge_energy_mwh for row in rows], CHARGE_MEAN_V * charge, rtol=1e-6)
    np.testing.assert_allclose([row.discharge_energy_mwh for row in rows], DISCHARGE_MEAN_V * discharge, rtol=1e-6)
    np.testing.assert_allclose([row.coulombic_efficiency for row in rows], discharge / charge, rtol=1e-6)
    np.testing.assert_allclose(
        [row.energy_efficiency for row in rows], DISCHARGE_MEAN_V * discharge / (CHARGE_MEAN_V * charge), rtol=1e-6
    )
    np.testing.assert_allclose([row.retention for row in rows], [1.0, 1.0, 0.9, 0.7], rtol=1e-6)


def assert_known_summary(record) -> None:
    assert record.first_discharge_capacity_mah == pytest.approx(0.9)
    assert record.retention_at_100 is None  # the test never reached cycle 100
    assert record.retention_at_last == pytest.approx(0.7)
    assert record.cycle_at_80_percent == 4
    assert record.last_cycle == 4


# ------------------------------------------------------------------------------------ in process


@pytest.mark.django_db
def test_csv_import_stores_the_per_cycle_table_and_the_summary(project, tech):
    cell = make_cell(project, tech)
    test = upload(cell, tech, "cell_07.csv", csv_bytes())
    assert test.status == ImportStatus.PENDING and test.reader == "csv"
    test = cycling_test_import(test=test)
    assert test.status == ImportStatus.IMPORTED and test.cycle_count == 4
    assert_known_rows(test)
    assert_known_summary(test)
    cell.refresh_from_db()
    assert_known_summary(cell)
    # The plots are asked for on the plots queue, for the first and last cycles.
    plot_job = Job.objects.get(kind=JOB_CYCLING_PLOTS)
    assert plot_job.inputs == {"test": test.pk, "cycles": [1, 4]} and plot_job.subject_id == cell.pk


@pytest.mark.django_db
def test_biologic_mpt_is_read_by_navani(project, tech):
    cell = make_cell(project, tech)
    test = upload(cell, tech, "cell_07_C03.mpt", mpt_bytes())
    assert test.reader == "navani"
    test = cycling_test_import(test=test)
    assert_known_rows(test)
    assert_known_summary(test)


@pytest.mark.django_db
def test_the_import_job_runs_the_import_and_the_plot_job_draws(project, tech):
    cell = make_cell(project, tech)
    test = upload(cell, tech, "cell_07.csv", csv_bytes(), submit=True)
    assert test.import_job.kind == JOB_CYCLING_IMPORT and test.import_job.queue == "imports"
    run_job.apply(args=[test.import_job.pk])
    job = Job.objects.get(pk=test.import_job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["cycles"] == 4 and job.result["cycle_at_80_percent"] == 4
    assert_known_rows(test)

    plot_job = Job.objects.get(kind=JOB_CYCLING_PLOTS)
    run_job.apply(args=[plot_job.pk])
    plot_job.refresh_from_db()
    assert plot_job.status == JobStatus.SUCCEEDED, plot_job.error
    assert {file.name for file in plot_job.files.all()} == {
        "capacity_efficiency.png", "capacity_efficiency.svg", "voltage_capacity.png", "voltage_capacity.svg",
    }
    assert plot_job.result["cycles_plotted"] == [1, 4]


@pytest.mark.django_db
def test_a_corrupt_cycler_file_fails_the_job_naming_the_file(project, tech):
    cell = make_cell(project, tech)
    test = upload(cell, tech, "broken_C05.mpt", b"\x00\x01garbage that is not an EC-Lab export\n", submit=True)
    run_job.apply(args=[test.import_job.pk])
    job = Job.objects.get(pk=test.import_job.pk)
    assert job.status == JobStatus.FAILED
    assert "broken_C05.mpt" in job.error
    test.refresh_from_db()
    assert test.status == ImportStatus.FAILED and "broken_C05.mpt" in test.error
    assert not CycleRecord.objects.exists()
    cell.refresh_from_db()
    assert cell.first_discharge_capacity_mah is None


@pytest.mark.django_db
def test_a_csv_with_a_wrong_column_says_which(project, tech):
    cell = make_cell(project, tech)
    mapping = {**CSV_MAP, "voltage_v": "Ewe/V"}
    test = upload(cell, tech, "export.csv", csv_bytes(), column_map=mapping)
    with pytest.raises(Exception) as caught:
        cycling_test_import(test=test)
    message = caught.value.message_dict["data_file"][0]
    assert "export.csv" in message and "'Ewe/V' is not in the file" in message
    assert not CycleRecord.objects.exists()


@pytest.mark.django_db
def test_nothing_partial_is_kept_when_storing_fails(project, tech, monkeypatch):
    cell = make_cell(project, tech)
    test = upload(cell, tech, "cell_07.csv", csv_bytes())

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("cells.services._cell_change", explode)
    with pytest.raises(RuntimeError):
        cycling_test_import(test=test)
    assert not CycleRecord.objects.exists()
    test.refresh_from_db()
    assert test.status == ImportStatus.PENDING and test.cycle_count == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "overrides", "field"),
    [
        ("cell.xyz", {}, "data_file"),
        ("cell.csv", {"column_map": {"cycle": "Cycle_Index"}}, "column_map.voltage_v"),
        ("cell.csv", {"column_map": {**CSV_MAP, "time_s": ""}}, "column_map.time_s"),
        ("cell.csv", {"column_map": {**CSV_MAP, "temperature": "T"}}, "column_map.temperature"),
        ("cell.csv", {"voltage_min_v": 4.3, "voltage_max_v": 2.8}, "voltage_max_v"),
        ("cell.csv", {"cycler": "  "}, "cycler"),
    ],
)
def test_bad_uploads_are_refused_before_anything_is_stored(project, tech, name, overrides, field):
    cell = make_cell(project, tech)
    with pytest.raises(Exception) as caught:
        upload(cell, tech, name, csv_bytes(), **overrides)
    assert field in caught.value.message_dict
    assert not CyclingTest.objects.exists()


# ------------------------------------------------------------------------------------ the real worker


def _wait_for_jobs(timeout_s: float = 120) -> None:
    wait_for(lambda: not Job.objects.exclude(status__in=(JobStatus.SUCCEEDED, JobStatus.FAILED)).exists(),
             timeout_s=timeout_s, message="every job to finish")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_upload_page_import_runs_on_the_worker(project, tech, settings, celery_worker_process):
    settings.MEDIA_ROOT = celery_worker_process["media"]  # the web and the worker share the file store
    cell = make_cell(project, tech)
    client = client_for(tech)
    response = client.post(
        reverse("cells:cycling-new", args=[cell.item.code]),
        {"data_file": ContentFile(csv_bytes(), name="cell_07.csv"), "cycler": "Arbin LBT21084", "channel": "12",
         "temperature_c": "25", "column_cycle": "Cycle_Index", "column_voltage_v": "Voltage(V)",
         "column_current_ma": "Current(mA)", "column_time_s": "Test_Time(s)"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    test = CyclingTest.objects.get(cell=cell)
    assert response["Location"] == test.get_absolute_url()
    page = client.get(response["Location"])
    assert b"data-job-status" in page.content  # the page polls the import job

    wait_for(lambda: CyclingTest.objects.get(pk=test.pk).status != ImportStatus.PENDING, timeout_s=120,
             message="the worker to import the file")
    test.refresh_from_db()
    assert test.status == ImportStatus.IMPORTED, test.error
    assert_known_rows(test)
    _wait_for_jobs()
    plot_job = Job.objects.get(kind=JOB_CYCLING_PLOTS)
    assert plot_job.status == JobStatus.SUCCEEDED, plot_job.error
    page = client.get(reverse("cells:cell", args=[cell.item.code]))
    assert b"capacity_efficiency.png" in page.content


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_corrupt_file_fails_on_the_worker_and_keeps_nothing(project, tech, settings, celery_worker_process):
    settings.MEDIA_ROOT = celery_worker_process["media"]
    cell = make_cell(project, tech)
    test = upload(cell, tech, "truncated.ndax", b"PK\x03\x04 not really a Neware archive", submit=True)
    wait_for(lambda: Job.objects.get(pk=test.import_job_id).is_finished, timeout_s=120,
             message="the worker to try the file")
    job = Job.objects.get(pk=test.import_job_id)
    assert job.status == JobStatus.FAILED
    assert "truncated.ndax" in job.error
    assert not CycleRecord.objects.exists()
    assert CyclingTest.objects.get(pk=test.pk).status == ImportStatus.FAILED
