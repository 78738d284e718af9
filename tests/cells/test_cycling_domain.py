"""Per-cycle metrics from synthetic cycler data whose capacities and energies are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from assbtrack.domain.inputs import ModelInputError
from cells.cycling import (
    CyclingTimeSeries,
    cycling_summary,
    per_cycle_metrics,
    time_series_from_csv,
    time_series_from_cycler_file,
    time_series_from_navani,
    voltage_capacity_curves,
)

CURRENT_MA = 0.5
# Galvanostatic steps with a linear voltage ramp: the energy is Q × the mean of the ramp's ends.
CHARGE_RAMP_V = (3.0, 4.2)  # mean 3.6 V
DISCHARGE_RAMP_V = (4.1, 2.9)  # mean 3.5 V
CHARGE_MEAN_V, DISCHARGE_MEAN_V = 3.6, 3.5

# (charge mAh, discharge mAh) per cycle.
KNOWN_CYCLES = [(1.0, 0.9), (0.95, 0.9), (0.9, 0.72)]


def cycler_points(cycles, *, points_per_step: int = 31, rest_s: float = 600.0) -> dict[str, np.ndarray]:
    """Points as a cycler logs them: an opening rest, then per cycle charge, rest, discharge, rest.

    Like a real cycler, the first point of a step carries the same time stamp as the last point of
    the step before, so no logging interval straddles a change of current. Columns: the cycle, time,
    current and voltage, Arbin-style counters (charge capacity held through the discharge, both reset
    at each new cycle) and BioLogic's signed "Q charge/discharge" (restarting each half cycle).
    """
    rows = []
    time_s = 0.0
    rows.append((1, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0))
    rows.append((1, 300.0, 0.0, 3.0, 0.0, 0.0, 0.0))
    time_s = 300.0
    for number, (charge_mah, discharge_mah) in enumerate(cycles, start=1):
        for sign, capacity_mah, (v_start, v_end) in (
            (1, charge_mah, CHARGE_RAMP_V),
            (-1, discharge_mah, DISCHARGE_RAMP_V),
        ):
            duration_s = capacity_mah / CURRENT_MA * 3600.0
            for fraction in np.linspace(0.0, 1.0, points_per_step):
                passed = capacity_mah * fraction
                charge_counter = passed if sign > 0 else charge_mah
                discharge_counter = passed if sign < 0 else 0.0
                rows.append(
                    (
                        number,
                        time_s + fraction * duration_s,
                        sign * CURRENT_MA,
                        v_start + (v_end - v_start) * fraction,
                        charge_counter,
                        discharge_counter,
                        sign * passed,
                    )
                )
            time_s += duration_s
            charge_counter = charge_mah
            discharge_counter = discharge_mah if sign < 0 else 0.0
            rows.append((number, time_s, 0.0, v_end, charge_counter, discharge_counter, 0.0))
            time_s += rest_s
            rows.append((number, time_s, 0.0, v_end, charge_counter, discharge_counter, 0.0))
    table = np.array(rows, dtype=float)
    names = ("cycle", "time_s", "current_ma", "voltage_v", "charge_mah", "discharge_mah", "q_signed_mah")
    return {name: table[:, index] for index, name in enumerate(names)}


def assert_known_metrics(metrics, cycles=KNOWN_CYCLES):
    charge = np.array([c for c, _ in cycles])
    discharge = np.array([d for _, d in cycles])
    np.testing.assert_array_equal(metrics.cycle, np.arange(1, len(cycles) + 1))
    np.testing.assert_allclose(metrics.charge_capacity_mah, charge, rtol=1e-9)
    np.testing.assert_allclose(metrics.discharge_capacity_mah, discharge, rtol=1e-9)
    np.testing.assert_allclose(metrics.charge_energy_mwh, CHARGE_MEAN_V * charge, rtol=1e-9)
    np.testing.assert_allclose(metrics.discharge_energy_mwh, DISCHARGE_MEAN_V * discharge, rtol=1e-9)
    np.testing.assert_allclose(metrics.coulombic_efficiency, discharge / charge, rtol=1e-9)
    np.testing.assert_allclose(
        metrics.energy_efficiency, DISCHARGE_MEAN_V * discharge / (CHARGE_MEAN_V * charge), rtol=1e-9
    )
    np.testing.assert_allclose(metrics.retention, discharge / discharge[0], rtol=1e-9)


# ---------------------------------------------------------------- synthetic series


def test_metrics_from_current_and_time():
    points = cycler_points(KNOWN_CYCLES)
    series = CyclingTimeSeries(
        cycle=points["cycle"],
        voltage_v=points["voltage_v"],
        current_ma=points["current_ma"],
        time_s=points["time_s"],
    )
    assert_known_metrics(per_cycle_metrics(series))


def test_metrics_from_cycler_capacity_counters():
    points = cycler_points(KNOWN_CYCLES)
    series = CyclingTimeSeries(
        cycle=points["cycle"],
        voltage_v=points["voltage_v"],
        charge_capacity_mah=points["charge_mah"],
        discharge_capacity_mah=points["discharge_mah"],
    )
    assert_known_metrics(per_cycle_metrics(series))


def test_counters_that_restart_every_step_are_summed():
    # A CC step of 0.6 mAh then a CV step of 0.3 mAh, the counter restarting at the CV step (as Neware does),
    # then a 0.8 mAh discharge: charge 0.9 mAh.
    charge = [0.0, 0.3, 0.6, 0.05, 0.3, 0.3, 0.3, 0.3]
    discharge = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.8]
    series = CyclingTimeSeries(
        cycle=[1] * 8, voltage_v=[3.8] * 8, charge_capacity_mah=charge, discharge_capacity_mah=discharge
    )
    metrics = per_cycle_metrics(series)
    assert metrics.charge_capacity_mah[0] == pytest.approx(0.9)
    assert metrics.discharge_capacity_mah[0] == pytest.approx(0.8)
    assert metrics.charge_energy_mwh[0] == pytest.approx(0.9 * 3.8)


def test_an_interval_where_the_current_reverses_is_split_at_zero():
    # +1 mA falling linearly to −1 mA over one hour: half an hour of charge averaging 0.5 mA, then the same
    # of discharge, 0.25 mAh each (the plain trapezoid would report 0 of both).
    series = CyclingTimeSeries(
        cycle=[1, 1], voltage_v=[4.0, 4.0], current_ma=[1.0, -1.0], time_s=[0.0, 3600.0]
    )
    metrics = per_cycle_metrics(series)
    assert metrics.charge_capacity_mah[0] == pytest.approx(0.25)
    assert metrics.discharge_capacity_mah[0] == pytest.approx(0.25)
    assert metrics.charge_energy_mwh[0] == pytest.approx(1.0)


def test_cycles_without_any_charge_are_left_out_and_retention_starts_at_the_first_full_cycle():
    # Cycle 0 is a rest; cycle 1 only discharges (a cell shipped charged); cycle 2 is the first full cycle.
    series = CyclingTimeSeries(
        cycle=[0, 0, 1, 1, 2, 2, 2, 2],
        voltage_v=[3.0] * 8,
        current_ma=[0.0, 0.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0],
        time_s=[0.0, 10.0, 10.0, 3610.0, 3610.0, 7210.0, 7210.0, 9010.0],
    )
    metrics = per_cycle_metrics(series)
    np.testing.assert_array_equal(metrics.cycle, [1, 2])
    np.testing.assert_allclose(metrics.charge_capacity_mah, [0.0, 1.0])
    np.testing.assert_allclose(metrics.discharge_capacity_mah, [1.0, 0.5])
    assert np.isnan(metrics.coulombic_efficiency[0])
    assert metrics.retention[1] == pytest.approx(1.0)
    assert np.isnan(metrics.retention[0])  # a discharge without its charge is a partial cycle: no retention
    assert not metrics.complete[0] and metrics.complete[1]
    assert metrics.first_full_index == 1
    assert cycling_summary(metrics).first_discharge_capacity_mah == pytest.approx(0.5)


def fading_counter_series(cycle_count: int, fade_per_cycle: float, *, unfinished_cycle: bool = False):
    """Two points per half cycle; discharge capacity 1 − fade·(n − 1) mAh, charge 2 % more."""
    numbers = np.arange(1, cycle_count + 1)
    discharge = 1.0 - fade_per_cycle * (numbers - 1)
    charge = 1.02 * discharge
    cycle = np.repeat(numbers, 4)
    charge_counter = np.column_stack([np.zeros_like(charge), charge, charge, charge]).ravel()
    discharge_counter = np.column_stack(
        [np.zeros_like(discharge), np.zeros_like(discharge), np.zeros_like(discharge), discharge]
    ).ravel()
    if unfinished_cycle:  # the test stopped during the next charge
        cycle = np.append(cycle, [cycle_count + 1] * 2)
        charge_counter = np.append(charge_counter, [0.0, 0.3])
        discharge_counter = np.append(discharge_counter, [0.0, 0.0])
    return CyclingTimeSeries(
        cycle=cycle,
        voltage_v=np.full(cycle.size, 3.7),
        charge_capacity_mah=charge_counter,
        discharge_capacity_mah=discharge_counter,
    )


def test_summary_of_a_long_fading_test():
    # Retention 1 − 0.003·(n − 1): 0.802 at cycle 67, 0.799 at cycle 68, 0.703 at cycle 100, 0.553 at 150.
    metrics = per_cycle_metrics(fading_counter_series(150, 0.003, unfinished_cycle=True))
    assert len(metrics) == 151
    summary = cycling_summary(metrics)
    assert summary.first_discharge_capacity_mah == pytest.approx(1.0)
    assert summary.retention_at_100 == pytest.approx(0.703)
    assert summary.retention_at_last == pytest.approx(0.553)  # not the unfinished cycle 151
    assert summary.cycle_at_80_percent == 68
    np.testing.assert_allclose(metrics.coulombic_efficiency[:150], 1 / 1.02)


def test_summary_of_a_short_healthy_test():
    summary = cycling_summary(per_cycle_metrics(fading_counter_series(50, 0.001)))
    assert summary.retention_at_100 is None
    assert summary.cycle_at_80_percent is None
    assert summary.retention_at_last == pytest.approx(1.0 - 0.001 * 49)
    assert summary.as_dict()["retention_at_100"] is None


def test_summary_without_a_full_cycle_is_empty():
    series = CyclingTimeSeries(cycle=[1, 1], voltage_v=[3.5, 3.9], current_ma=[1.0, 1.0], time_s=[0.0, 60.0])
    summary = cycling_summary(per_cycle_metrics(series))
    assert summary.first_discharge_capacity_mah is None and summary.retention_at_last is None


def test_voltage_capacity_curves_restart_each_half_cycle():
    points = cycler_points(KNOWN_CYCLES)
    series = CyclingTimeSeries(
        cycle=points["cycle"],
        voltage_v=points["voltage_v"],
        current_ma=points["current_ma"],
        time_s=points["time_s"],
    )
    curves = voltage_capacity_curves(series, [2, 3, 9])
    assert set(curves) == {2, 3}
    capacity, voltage = curves[3]
    gap = np.flatnonzero(np.isnan(capacity))
    assert gap.size == 1 and np.isnan(voltage[gap[0]])
    charge, discharge = capacity[: gap[0]], capacity[gap[0] + 1 :]
    assert charge.max() == pytest.approx(0.9) and discharge.max() == pytest.approx(0.72)
    assert charge.min() == pytest.approx(0.0) and discharge.min() == pytest.approx(0.0)
    assert voltage[gap[0] - 1] == pytest.approx(4.2) and voltage[-1] == pytest.approx(2.9)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {"cycle": [1, 1, 1], "voltage_v": [3.0, 3.1], "current_ma": [1, 1, 1], "time_s": [0, 1, 2]},
            "voltage_v",
        ),
        (
            {"cycle": [1, 1], "voltage_v": [3.0, float("nan")], "current_ma": [1, 1], "time_s": [0, 1]},
            "voltage_v",
        ),
        ({"cycle": [1, 1], "voltage_v": [3.0, 3.1], "current_ma": [1, 1]}, "time_s"),
        ({"cycle": [1, 1], "voltage_v": [3.0, 3.1], "current_ma": [1, 1], "time_s": [5, 1]}, "time_s"),
        ({"cycle": [1, 1.5], "voltage_v": [3.0, 3.1], "current_ma": [1, 1], "time_s": [0, 1]}, "cycle"),
        ({"cycle": [1, 1], "voltage_v": [3.0, 3.1]}, "current_ma"),
        (
            {
                "cycle": [1, 1],
                "voltage_v": [3.0, 3.1],
                "charge_capacity_mah": [0, 1],
                "discharge_capacity_mah": [0, -1],
            },
            "discharge_capacity_mah",
        ),
    ],
)
def test_bad_time_series_names_its_field(kwargs, field):
    with pytest.raises(ModelInputError) as caught:
        CyclingTimeSeries(**kwargs)
    assert caught.value.field == field


# ---------------------------------------------------------------- plain CSV exports

CSV_MAP = {
    "cycle": "Cycle_Index",
    "current_ma": "Current(mA)",
    "voltage_v": "Voltage(V)",
    "time_s": "Test_Time(s)",
}


def csv_text(points: dict[str, np.ndarray], separator: str = ",") -> str:
    header = separator.join(["Data_Point", "Test_Time(s)", "Cycle_Index", "Current(mA)", "Voltage(V)"])
    lines = [header]
    for index in range(points["cycle"].size):
        values = [
            index + 1,
            points["time_s"][index],
            int(points["cycle"][index]),
            points["current_ma"][index],
            points["voltage_v"][index],
        ]
        lines.append(separator.join(repr(float(v)) if isinstance(v, float) else str(v) for v in values))
    return "\n".join(lines) + "\n"


def test_csv_file_on_disk(tmp_path):
    path = tmp_path / "cell_042_cycling.csv"
    path.write_text(csv_text(cycler_points(KNOWN_CYCLES)), encoding="utf-8")
    assert_known_metrics(per_cycle_metrics(time_series_from_csv(path, CSV_MAP)))
    assert_known_metrics(per_cycle_metrics(time_series_from_csv(str(path), CSV_MAP)))


def test_csv_text_with_tabs_is_detected():
    series = time_series_from_csv(csv_text(cycler_points(KNOWN_CYCLES), "\t"), CSV_MAP)
    assert_known_metrics(per_cycle_metrics(series))


def test_csv_capacity_columns():
    text = "cyc;U;Qch;Qdis\n1;3.0;0;0\n1;4.2;1.0;0\n1;4.1;1.0;0\n1;2.9;1.0;0.8\n"
    series = time_series_from_csv(
        text.encode("utf-8"),
        {"cycle": "cyc", "voltage_v": "U", "charge_capacity_mah": "Qch", "discharge_capacity_mah": "Qdis"},
    )
    metrics = per_cycle_metrics(series)
    assert metrics.coulombic_efficiency[0] == pytest.approx(0.8)
    assert metrics.discharge_energy_mwh[0] == pytest.approx(0.8 * 3.5)


def test_csv_missing_column_is_named():
    text = csv_text(cycler_points(KNOWN_CYCLES))
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(text, {**CSV_MAP, "current_ma": "I/mA"})
    assert caught.value.field == "column_map.current_ma"
    assert "'I/mA'" in caught.value.reason and "Current(mA)" in caught.value.reason


def test_csv_non_numeric_and_empty_values_are_named():
    text = "Test_Time(s),Cycle_Index,Current(mA),Voltage(V)\n0,1,0.5,3.0\n60,1,0.5,OVL\n"
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(text, CSV_MAP)
    assert caught.value.field == "column_map.voltage_v"
    assert (
        "'Voltage(V)'" in caught.value.reason
        and "'OVL'" in caught.value.reason
        and "row 2" in caught.value.reason
    )

    text = "Test_Time(s),Cycle_Index,Current(mA),Voltage(V)\n0,1,0.5,3.0\n60,,0.5,3.1\n"
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(text, CSV_MAP)
    assert caught.value.field == "column_map.cycle" and "empty" in caught.value.reason


def test_csv_column_map_is_checked():
    text = csv_text(cycler_points(KNOWN_CYCLES))
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(text, {**CSV_MAP, "temperature_c": "T"})
    assert caught.value.field == "column_map.temperature_c"
    without_cycle = {role: column for role, column in CSV_MAP.items() if role != "cycle"}
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(text, without_cycle)
    assert caught.value.field == "column_map.cycle"


def test_unreadable_csv_files_say_why(tmp_path):
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(tmp_path / "missing.csv", CSV_MAP)
    assert caught.value.field == "file" and "cannot be read" in caught.value.reason
    assert "No such file" in caught.value.reason

    binary = tmp_path / "cycling.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(binary, CSV_MAP)
    assert "binary" in caught.value.reason

    empty = tmp_path / "empty.csv"
    empty.write_text("   \n", encoding="utf-8")
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(empty, CSV_MAP)
    assert "empty" in caught.value.reason

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("Test_Time(s),Cycle_Index,Current(mA),Voltage(V)\n0,1,0.5,3.0\n1,1,0.5,3.0,9,9,9\n")
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(ragged, CSV_MAP, sep=",")
    assert caught.value.field == "file" and "not a readable CSV" in caught.value.reason

    header_only = tmp_path / "header.csv"
    header_only.write_text("Test_Time(s),Cycle_Index,Current(mA),Voltage(V)\n")
    with pytest.raises(ModelInputError) as caught:
        time_series_from_csv(header_only, CSV_MAP)
    assert "no data rows" in caught.value.reason


# ---------------------------------------------------------------- navani (BioLogic EC-Lab .mpt text export)

MPT_COLUMNS = [
    "mode",
    "ox/red",
    "error",
    "control changes",
    "Ns changes",
    "counter inc.",
    "Ns",
    "time/s",
    "control/V/mA",
    "Ewe/V",
    "I/mA",
    "dQ/mA.h",
    "(Q-Qo)/mA.h",
    "Q charge/discharge/mA.h",
    "cycle number",
]


def mpt_text(points: dict[str, np.ndarray]) -> str:
    """An EC-Lab ASCII export: the 'Nb header lines' count includes the column header line."""
    metadata = [
        "EC-Lab ASCII FILE",
        "",
        "Galvanostatic Cycling with Potential Limitation",
        "",
        "Run on channel : 1",
        "Electrode surface area : 0.785 cm²",
        "",
    ]
    header_count = len(metadata) + 1
    metadata[1] = f"Nb header lines : {header_count}"
    lines = metadata + ["\t".join(MPT_COLUMNS) + "\t"]
    for index in range(points["cycle"].size):
        current = points["current_ma"][index]
        values = [
            1,
            1 if current > 0 else 0,
            0,
            0,
            0,
            0,
            0,
            points["time_s"][index],
            current,
            points["voltage_v"][index],
            current,
            0.0,
            0.0,
            points["q_signed_mah"][index],
            points["cycle"][index] - 1,
        ]
        lines.append("\t".join(f"{value:.15g}" for value in values) + "\t")
    return "\r\n".join(lines) + "\r\n"


def test_navani_reads_a_biologic_mpt_export(tmp_path):
    from navani.echem import echem_file_loader

    path = tmp_path / "cell_042_C01.mpt"
    path.write_bytes(mpt_text(cycler_points(KNOWN_CYCLES)).encode("latin-1"))

    frame = echem_file_loader(str(path))
    series = time_series_from_navani(frame)
    assert series.uses_capacity_counters and series.current_ma is not None
    assert_known_metrics(per_cycle_metrics(series))

    assert_known_metrics(per_cycle_metrics(time_series_from_cycler_file(path)))


def test_navani_capacity_held_through_a_pause_is_not_counted_twice():
    import pandas as pd

    # navani keeps one half cycle across a rest: the charge pauses at 0.5 mAh and resumes from there
    # to 1.0 mAh, then the discharge delivers 0.9 mAh. Rest rows have state 'R'.
    frame = pd.DataFrame(
        {
            "full cycle": [1.0] * 8,
            "state": [0, 0, "R", "R", 0, 1, 1, 1],
            "Capacity": [0.0, 0.5, 0.5, 0.5, 1.0, 0.0, 0.45, 0.9],
            "Voltage": [3.0, 3.8, 3.7, 3.7, 4.2, 4.1, 3.6, 2.9],
        }
    )
    metrics = per_cycle_metrics(time_series_from_navani(frame))
    assert metrics.charge_capacity_mah[0] == pytest.approx(1.0)
    assert metrics.discharge_capacity_mah[0] == pytest.approx(0.9)


def test_navani_frame_without_voltage_is_named(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"full cycle": [1.0, 1.0], "Current": [1.0, 1.0], "Time": [0.0, 1.0]})
    with pytest.raises(ModelInputError) as caught:
        time_series_from_navani(frame)
    assert caught.value.field == "Voltage"


def test_corrupt_cycler_files_say_why(tmp_path):
    truncated = tmp_path / "broken.mpt"
    truncated.write_bytes(b"\x00\x01garbage that is not an EC-Lab export\n")
    with pytest.raises(ModelInputError) as caught:
        time_series_from_cycler_file(truncated)
    assert caught.value.field == "file"
    assert "broken.mpt" in caught.value.reason and "EC-Lab" in caught.value.reason

    unknown = tmp_path / "cycling.xyz"
    unknown.write_text("1,2,3\n")
    with pytest.raises(ModelInputError) as caught:
        time_series_from_cycler_file(unknown)
    assert "not recognised" in caught.value.reason

    with pytest.raises(ModelInputError) as caught:
        time_series_from_cycler_file(tmp_path / "nowhere.mpt")
    assert "no such file" in caught.value.reason
