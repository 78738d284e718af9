"""The pure cycler-file readers and per-cycle rules, without a database: complete and partial cycles,
sign blips, the retention reference, diagnostic cycles, units, and plain refusals."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from assbtrack.domain.inputs import ModelInputError
from cells.cycler_files import (
    CyclerSource,
    ReadOptions,
    auto_column_map,
    cycler_format,
    read_cycler_files,
    unit_in_name,
    unit_problem,
)
from cells.cycling import CycleAccumulator, MetricOptions, PointIncrements, cycling_summary


def cycles_of(table, options=None, last_finished_by_runs=True):
    """Per-cycle metrics from (cycle, charge mAh, discharge mAh) rows, each half cycle one point."""
    accumulator = CycleAccumulator()
    for cycle, charge, discharge in table:
        for amount, is_charge in ((charge, True), (discharge, False)):
            if amount:
                c, d = (amount, 0.0) if is_charge else (0.0, amount)
                accumulator.add(PointIncrements(np.array([cycle]), np.array([c]), np.array([d]),
                                                np.array([3.7 * c]), np.array([3.5 * d])))
    return accumulator.metrics(options)


def test_partial_cycles_have_no_efficiency_or_retention_and_do_not_end_life():
    # Cycle 5 is a discharge stopped at a fifth of the others: partial, not "retention 20 %".
    metrics = cycles_of([(1, 1.0, 0.95), (2, 1.0, 0.94), (3, 1.0, 0.93), (4, 1.0, 0.92), (5, 1.0, 0.19)])
    assert list(metrics.complete) == [True, True, True, True, False]
    assert np.isnan(metrics.coulombic_efficiency[4]) and np.isnan(metrics.retention[4])
    assert metrics.coulombic_efficiency[0] == pytest.approx(0.95)
    summary = cycling_summary(metrics)
    assert summary.cycle_at_80_percent is None
    assert summary.retention_at_last == pytest.approx(0.92 / 0.95)


def test_the_last_cycle_counts_when_its_last_half_cycle_finished():
    metrics = cycles_of([(1, 1.0, 0.95), (2, 1.0, 0.94)])
    assert list(metrics.complete) == [True, True]


def test_a_test_starting_with_a_discharge_keeps_the_cyclers_pairing_and_numbers():
    metrics = cycles_of([(86, 0.0, 0.3), (87, 1.0, 0.9), (88, 0.98, 0.88), (89, 0.97, 0.7)])
    assert list(metrics.cycle) == [86, 87, 88, 89]
    assert not metrics.complete[0] and metrics.reference_index == 1
    assert metrics.coulombic_efficiency[1] == pytest.approx(0.9)
    assert cycling_summary(metrics).cycle_at_80_percent == 89


def test_a_sign_blip_does_not_make_a_half_cycle():
    # One noise point of the opposite sign (0.1 % of a half cycle) inside the opening discharge.
    metrics = cycles_of([(0, 0.001, 0.5), (1, 1.0, 0.9)])
    assert metrics.charge_capacity_mah[0] == 0 and not metrics.complete[0]
    assert np.isnan(metrics.coulombic_efficiency[0])


def test_formation_reference_and_diagnostic_cycles():
    table = [(1, 1.2, 1.0), (2, 1.0, 0.95), (3, 1.0, 0.94), (4, 0.5, 0.45), (5, 1.0, 0.93)]
    after_formation = cycles_of(table, MetricOptions(formation_cycles=1))
    assert after_formation.reference_index == 1 and np.isnan(after_formation.retention[0])
    assert after_formation.retention[2] == pytest.approx(0.94 / 0.95)
    chosen = cycles_of(table, MetricOptions(reference_cycle=3))
    assert chosen.retention[4] == pytest.approx(0.93 / 0.94)
    # Cycle 4 is a slow check-up: without marking it, it ends life; marked, it is left out.
    assert cycling_summary(cycles_of(table)).cycle_at_80_percent == 4
    marked = cycles_of(table, MetricOptions(diagnostic_cycles={4}))
    assert marked.diagnostic[3] and np.isnan(marked.retention[3])
    assert cycling_summary(marked).cycle_at_80_percent is None
    with pytest.raises(ModelInputError) as caught:
        cycles_of(table, MetricOptions(reference_cycle=4, diagnostic_cycles={4}))
    assert caught.value.field == "reference_cycle"


@pytest.mark.parametrize(("name", "kind"), [
    ("run.034", "maccor"), ("RUN.999", "maccor"), ("a.mpr", "biologic-mpr"), ("a.res", "arbin-res"),
    ("a.ndax", "neware"), ("a.bdf.csv", "csv"), ("a.bdf.parquet", "bdf-parquet"), ("a.csv.gz", "csv"),
    ("a.xlsx", "excel"), ("a.txt", "text"),
])
def test_formats_by_name(name, kind):
    assert cycler_format(name) == kind


def test_an_unknown_ending_is_refused_with_the_formats():
    with pytest.raises(ModelInputError) as caught:
        cycler_format("run.docx")
    assert "'run.docx'" in caught.value.reason and "Maccor" in caught.value.reason


def test_units_in_column_names():
    assert unit_in_name("Current / A") == ("current", "A") and unit_in_name("Current(mA)") == ("current", "mA")
    assert unit_in_name("Chg. Cap.(Ah)") == ("capacity", "Ah") and unit_in_name("Q charge/mA.h") == ("capacity", "mAh")
    assert unit_in_name("Voltage") is None


def text_file(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return CyclerSource(path, name)


CSV = "Cycle,Time / h,Current / A,Voltage / V\n" + "".join(
    f"1,{t / 10},{0.001 if t < 10 else -0.001},3.{t}\n" for t in range(20))


def test_gzip_bdf_style_csv_in_amperes_and_hours(tmp_path):
    report = read_cycler_files([text_file(tmp_path, "run.csv.gz", CSV)])
    metrics = report.accumulator.metrics()
    # 1 mA for 0.9 h, then the reversal interval splits, then -1 mA for 0.9 h.
    assert metrics.charge_capacity_mah[0] == pytest.approx(0.9 + 0.025)
    assert metrics.discharge_capacity_mah[0] == pytest.approx(0.9 + 0.025)
    assert report.units_chosen == {"current_ma": "A", "time_s": "h"}


def test_header_lines_to_skip_and_a_plain_reason_when_not_skipped(tmp_path):
    source = text_file(tmp_path, "run.csv", "Channel 3, cell 7, started Monday\nOperator: Ana\n" + CSV)
    with pytest.raises(ModelInputError) as caught:
        read_cycler_files([source])
    assert "run.csv" in caught.value.reason and "header lines to skip" in caught.value.reason
    assert "C error" not in caught.value.reason and "tokeniz" not in caught.value.reason.lower()
    report = read_cycler_files([source], ReadOptions(skip_rows=2))
    assert report.accumulator.metrics().charge_capacity_mah[0] == pytest.approx(0.925)


def test_windows_encoded_csv_and_bad_values_name_the_line(tmp_path):
    text = "Cycle;Temps (µs);Current(mA);Voltage(V);Q ch (mAh);Q dis (mAh)\n1;0;1;3,7;0;0\n1;1;1;abc;1;0\n"
    source = text_file(tmp_path, "run.csv", text, encoding="cp1252")
    with pytest.raises(ModelInputError) as caught:
        read_cycler_files([source], ReadOptions(column_map={"cycle": "Cycle", "voltage_v": "Voltage(V)",
                                                            "charge_capacity_mah": "Q ch (mAh)",
                                                            "discharge_capacity_mah": "Q dis (mAh)"}))
    assert "line 2" in caught.value.reason and "'3,7'" in caught.value.reason
    assert "codec" not in caught.value.reason


def test_binary_and_empty_files_are_refused_plainly(tmp_path):
    binary = tmp_path / "run.csv"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(ModelInputError, match="binary file"):
        read_cycler_files([CyclerSource(binary, "run.csv")])
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ModelInputError, match="is empty"):
        read_cycler_files([CyclerSource(empty, "empty.csv")])


def test_bdf_parquet_is_read(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"Cycle Count / 1": [1, 1, 1, 1], "Test Time / s": [0.0, 3600.0, 3600.0, 7200.0],
                          "Current / A": [0.001, 0.001, -0.0005, -0.0005], "Voltage / V": [3.0, 4.0, 4.0, 3.0]})
    path = tmp_path / "run.bdf.parquet"
    frame.to_parquet(path)
    metrics = read_cycler_files([CyclerSource(path, path.name)]).accumulator.metrics()
    assert metrics.charge_capacity_mah[0] == pytest.approx(1.0) and metrics.discharge_capacity_mah[0] == \
        pytest.approx(0.5)
    assert metrics.coulombic_efficiency[0] == pytest.approx(0.5)


def test_unit_problem_names_the_unit_and_the_option():
    class Report:
        capacity_from, units_chosen = "counters", {"charge_capacity_mah": "mAh"}

    text = unit_problem(0.0384, 38.4, Report())
    assert "about 1/1,000 of the cell's nominal 38.4 mAh" in text
    assert "Ah" in text and "--capacity-unit Ah" in text
    assert unit_problem(30.0, 38.4, Report()) is None


def test_a_file_without_cycle_numbers_is_paired_by_direction_and_blips_ignored(tmp_path):
    # Discharge first (cycle 0), then two charge/discharge cycles; one noise point of charge inside the
    # first discharge must not start a cycle.
    rows, t = [], 0
    plan = [(-1, 100), (1, 100), (-1, 100), (1, 100), (-1, 100)]
    for sign, count in plan:
        for _ in range(count):
            current = sign * 1.0
            if t == 40:
                current = 0.5  # the blip: a fraction of a percent of the half cycle
            rows.append(f"{t * 36},{current},3.5")
            t += 1
    source = text_file(tmp_path, "nocycle.csv", "Time(s),Current(mA),Voltage(V)\n" + "\n".join(rows) + "\n")
    metrics = read_cycler_files([source]).accumulator.metrics()
    assert list(metrics.cycle) == [0, 1, 2]
    assert not metrics.complete[0] and metrics.complete[1] and metrics.complete[2]
    assert metrics.charge_capacity_mah[0] == 0  # the blip is not a charge
    # 99 full intervals of 1 mA × 36 s, plus a quarter interval at each reversal that opens or closes it.
    assert metrics.charge_capacity_mah[1] == pytest.approx((99 + 0.25 + 0.25) * 36 / 3600)


def test_assbtrack_own_column_names_are_recognised_without_a_mapping():
    # the names of assbtrack's own time-series CSVs and upload template, units in the names
    columns = ["time_s", "cycle", "current_ma", "voltage_v", "charge_capacity_mah", "discharge_capacity_mah"]
    assert auto_column_map(columns) == {
        "cycle": "cycle", "voltage_v": "voltage_v", "current_ma": "current_ma", "time_s": "time_s",
        "charge_capacity_mah": "charge_capacity_mah", "discharge_capacity_mah": "discharge_capacity_mah",
    }
