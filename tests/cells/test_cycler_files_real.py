"""Real cycler files through the import service: the per-cycle numbers the cyclers themselves report.

The files are the shared fixtures in ``../shared/data/cycler/`` (read in place, never copied into the
project); the expected values are what each cycler's own software and counters say for the file, as
its README lists them. Every file goes through ``cycling_test_create`` and ``cycling_test_import``,
as an upload does, and must agree within 0.5 %.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from cells.choices import ImportStatus
from cells.models import CycleRecord, CyclingTest
from cells.services import CyclingImportError, cycling_test_create, cycling_test_import
from tests.utils.factories_cells import make_cell

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cycler"  # ../shared beside the project


@pytest.fixture(autouse=True)
def _shared_files_present():
    if not DATA.is_dir():
        pytest.fail(f"the shared cycler files are missing: {DATA} (the shared folder sits beside the project)")


CATHODE_MAH_PER_CM2 = 3.84  # the cathode film of make_cell_films


def cell_for(project, tech, nominal_mah: float):
    """A cell whose nominal capacity is about ``nominal_mah`` (the unit check compares against it)."""
    area_cm2 = round(min(max(nominal_mah / CATHODE_MAH_PER_CM2, 0.1), 40.0), 3)
    return make_cell(project, tech, sheet_area_cm2=area_cm2)


def import_real(project, tech, name: str, nominal_mah: float, **create) -> CyclingTest:
    cell = cell_for(project, tech, nominal_mah)
    test = cycling_test_create(cell=cell, user=tech, data_file=ContentFile((DATA / name).read_bytes(), name=name),
                               cycler="the file's cycler", submit=False, **create)
    return cycling_test_import(test=test, submit_plots=False)


def rows_of(test: CyclingTest) -> dict[int, CycleRecord]:
    return {row.cycle_number: row for row in CycleRecord.objects.filter(test=test)}


def close(value, expected, rel=0.005):
    return value == pytest.approx(expected, rel=rel)


@pytest.mark.django_db
def test_biologic_gcpl_starting_with_a_discharge_keeps_ec_labs_cycles(project, tech):
    test = import_real(project, tech, "nv_jdb11_gcpl_C09.mpr", 0.9)
    rows = rows_of(test)
    assert sorted(rows) == [0, 1, 2, 3, 4, 5, 6]
    # Cycle 0 is the discharge from open circuit alone: no charge, no efficiency, no retention.
    assert close(rows[0].discharge_capacity_mah, 0.2065) and rows[0].charge_capacity_mah == 0
    assert rows[0].coulombic_efficiency is None and not rows[0].complete and rows[0].retention is None
    assert close(rows[1].charge_capacity_mah, 0.9868) and close(rows[1].discharge_capacity_mah, 0.8529)
    assert close(rows[1].coulombic_efficiency, 0.864)  # the first-cycle CE of the cycler
    assert close(rows[2].discharge_capacity_mah, 0.8763) and close(rows[2].coulombic_efficiency, 0.935)
    assert close(rows[6].discharge_capacity_mah, 0.8795) and close(rows[6].coulombic_efficiency, 0.920)
    # Retention is referred to the first complete cycle (1), not to the partial discharge of cycle 0.
    assert rows[1].retention == pytest.approx(1.0)
    assert close(rows[6].retention, 0.8795 / 0.8529)
    assert close(test.first_discharge_capacity_mah, 0.8529) and test.last_cycle == 6


@pytest.mark.django_db
def test_arbin_res_capacities_are_converted_from_ah(project, tech):
    if shutil.which("mdb-export") is None:
        pytest.skip("mdbtools is not installed (assbtrack/scripts/services.sh mdbtools installs it)")
    test = import_real(project, tech, "nv_arbin_example.res", 0.5)
    rows = rows_of(test)
    assert sorted(rows) == [1, 2, 3, 4]  # Arbin's Cycle_Index; its cycle 5 passed no charge
    for cycle, (discharge, efficiency) in {1: (0.4752, 0.983), 2: (0.4744, 0.995), 3: (0.4740, 0.995),
                                           4: (0.4737, 0.995)}.items():
        assert close(rows[cycle].discharge_capacity_mah, discharge), cycle
        assert close(rows[cycle].coulombic_efficiency, efficiency), cycle


@pytest.mark.django_db
def test_biologic_impedance_points_inside_a_charge_add_no_discharge(project, tech):
    test = import_real(project, tech, "cp_biol.mpr", 5.0)
    rows = rows_of(test)
    assert len(rows) == 1
    (row,) = rows.values()
    assert close(row.charge_capacity_mah, 4.977)
    assert row.discharge_capacity_mah == 0 and row.coulombic_efficiency is None and not row.complete
    assert test.cycle_at_80_percent is None and test.first_discharge_capacity_mah is None


@pytest.mark.django_db
def test_neware_ndax_whose_time_steps_back_is_imported_from_its_counters(project, tech):
    test = import_real(project, tech, "nn_Issue60_BTS85.ndax", 1.0)
    assert test.status == ImportStatus.IMPORTED
    rows = rows_of(test)
    assert sorted(rows) == list(range(1, 23))
    for cycle, (discharge, efficiency) in {1: (1.026, 0.971), 2: (1.031, 0.983), 3: (1.036, 0.985),
                                           21: (0.650, 0.994)}.items():
        assert close(rows[cycle].discharge_capacity_mah, discharge), cycle
        assert close(rows[cycle].coulombic_efficiency, efficiency), cycle
    # Cycle 22 is a charge the test stopped in: partial, no efficiency, not the last counted cycle.
    assert not rows[22].complete and rows[22].coulombic_efficiency is None and rows[22].retention is None
    assert test.last_cycle == 21
    # Retention fell below 80 % on a complete cycle; the partial 22 does not decide it.
    below = [cycle for cycle in range(1, 22) if rows[cycle].retention < 0.8]
    assert test.cycle_at_80_percent == below[0]


@pytest.mark.django_db
def test_neware_csv_in_amperes_and_ampere_hours(project, tech):
    test = import_real(project, tech, "cp_neware_uio.csv", 5.0)  # units from the headers: Current(A), (Ah)
    rows = rows_of(test)
    assert close(rows[1].discharge_capacity_mah, 5.086) and close(rows[1].charge_capacity_mah, 4.249)


@pytest.mark.django_db
def test_neware_csv_read_with_the_wrong_capacity_unit_is_refused_naming_the_fix(project, tech):
    with pytest.raises(CyclingImportError) as caught:
        import_real(project, tech, "cp_neware_uio.csv", 5.0, import_options={"capacity_unit": "mAh"})
    message = caught.value.message_dict["data_file"][0]
    assert "cp_neware_uio.csv" in message and "Ah" in message and "--capacity-unit Ah" in message
    test = CyclingTest.objects.get()
    assert test.status == ImportStatus.FAILED and not CycleRecord.objects.filter(test=test).exists()


@pytest.mark.django_db
def test_neware_ndax_single_cycle(project, tech):
    test = import_real(project, tech, "nv_test.ndax", 0.6)
    rows = rows_of(test)
    assert list(rows) == [1]
    assert close(rows[1].discharge_capacity_mah, 0.62545) and close(rows[1].coulombic_efficiency, 1.0547)


@pytest.mark.django_db
def test_arbin_excel_ending_part_way_through_a_charge(project, tech):
    test = import_real(project, tech, "nv_bs542_arbin_Channel_11.xlsx", 11.0)
    rows = rows_of(test)
    assert list(rows) == [1]
    assert close(rows[1].discharge_capacity_mah, 11.055)
    assert not rows[1].complete and rows[1].coulombic_efficiency is None and rows[1].energy_efficiency is None
    assert test.last_cycle is None and test.cycle_at_80_percent is None


@pytest.mark.django_db
def test_maccor_file_with_a_numbered_extension(project, tech):
    test = import_real(project, tech, "bp_PreDiag_000229_truncated.034", 4700.0)
    rows = rows_of(test)
    assert close(rows[0].charge_capacity_mah, 3852.86) and close(rows[0].discharge_capacity_mah, 4762.61)
    assert close(rows[0].coulombic_efficiency, 1.236)


@pytest.mark.django_db
def test_open_circuit_record_is_refused_in_plain_words(project, tech):
    with pytest.raises(CyclingImportError) as caught:
        import_real(project, tech, "nv_00_test_01_OCV_C01.mpr", 1.0)
    message = caught.value.message_dict["data_file"][0]
    assert "nv_00_test_01_OCV_C01.mpr" in message and "holds no current" in message
    assert "Error" not in message and "Traceback" not in message


def test_voltage_profiles_use_the_cyclers_cycle_numbers():
    import numpy as np

    from cells.cycler_files import CyclerSource, read_cycler_files
    from cells.cycling import voltage_capacity_curves

    report = read_cycler_files([CyclerSource(DATA / "nv_jdb11_gcpl_C09.mpr", "nv_jdb11_gcpl_C09.mpr")],
                               keep_cycles={1, 6})
    curves = voltage_capacity_curves(report.profile_series(), [1, 6])
    assert sorted(curves) == [1, 6]
    capacity, voltage = curves[1]
    gap = int(np.flatnonzero(np.isnan(capacity))[0])
    # EC-Lab's cycle 1: the charge of 0.9868 mAh, then the discharge of 0.8529 mAh, each from zero.
    assert close(np.nanmax(capacity[:gap]), 0.9868) and close(np.nanmax(capacity[gap + 1:]), 0.8529)
    assert voltage[gap - 1] > voltage[-1]  # charged up, then discharged down


def test_arbin_res_without_mdbtools_names_it(monkeypatch, tmp_path):
    from assbtrack.domain.inputs import ModelInputError
    from cells.cycler_files import CyclerSource, read_cycler_files

    monkeypatch.setenv("PATH", str(tmp_path))  # no mdb-export anywhere
    with pytest.raises(ModelInputError) as caught:
        read_cycler_files([CyclerSource(DATA / "nv_arbin_example.res", "nv_arbin_example.res")])
    reason = caught.value.reason
    assert "nv_arbin_example.res" in reason and "mdbtools" in reason and "apt-get install mdbtools" in reason
