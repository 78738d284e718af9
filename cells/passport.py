"""What the cells app adds to passports and their bundles (registered from ``CellsConfig.ready()``).

A cell has a passport of its own: its mass, and in ``performanceAndDurability`` its rated capacity, voltage and
energy, capacity fade (``capacityFade``, %, the Battery Pass attribute) and assbtrack's extensions
``cycleAt80PercentRetention``, ``firstDischargeCapacity``, ``specificEnergy`` and ``energyDensity``. Every passport
(of a cell, or of a module and the cells in it) gets the ``cyclingSummary`` section: one row per cycling test.

The bundle part: each imported cycling test the passport lists becomes ``cycling-test-<id>.bdf.csv`` with Battery
Data Format column names (``Test Time / s``, ``Voltage / V``, ``Current / A``, ``Cycle Count / 1``, ``Charging
Capacity / Ah``, ``Discharging Capacity / Ah``) read again from the stored cycler file. When the stored file can
no longer be read, the per-cycle table is bundled instead as ``cycling-test-<id>-per-cycle.csv`` (BDF names where
they exist, one row per cycle) and the crate says so in that file's description. Only the tests the passport lists
are bundled, so a project that keeps ``cyclingSummary`` confidential keeps its time series from partners too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assbtrack.domain.inputs import ModelInputError
from assbtrack.domain.spreadsheet import csv_writer
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.registry import (
    BundleFile,
    BundlePart,
    PassportSection,
    PassportSubject,
    register_bundle_part,
    register_passport,
    register_passport_section,
)

from .choices import ImportStatus
from .cycler_import import cycling_test_time_series
from .models import Cell, CyclingTest

BDF_TIME_SERIES = ("Test Time / s", "Voltage / V", "Current / A", "Cycle Count / 1", "Charging Capacity / Ah",
                   "Discharging Capacity / Ah")
BDF_PER_CYCLE = ("Cycle Count / 1", "Charging Capacity / Ah", "Discharging Capacity / Ah", "Charging Energy / Wh",
                 "Discharging Energy / Wh")


def _fade_percent(retention: float | None) -> float | None:
    return None if retention is None else round((1.0 - retention) * 100.0, 4)


def cell_mass_kg(cell: Cell) -> float | None:
    return cell.mass_g / 1000.0 if cell.mass_g else None


def cell_performance(cell: Cell) -> dict:
    return {
        "ratedCapacity": {"value": cell.nominal_capacity_ah, "unit": "Ah"},
        "nominalVoltage": {"value": cell.nominal_voltage_v, "unit": "V"},
        "ratedEnergy": {"value": cell.energy_wh, "unit": "Wh"},
        "capacityFade": {"value": _fade_percent(cell.retention_at_last), "unit": "%"},
        "cycleAt80PercentRetention": cell.cycle_at_80_percent,
        "firstDischargeCapacity": {"value": cell.first_discharge_capacity_mah, "unit": "mAh"},
        "specificEnergy": {"value": cell.specific_energy_wh_per_kg, "unit": "Wh/kg"},
        "energyDensity": {"value": cell.energy_density_wh_per_l, "unit": "Wh/L"},
    }


def cycling_summary(cell_ids: list[int]) -> list[dict]:
    """The ``cyclingSummary`` rows of the cells (one query)."""
    tests = CyclingTest.objects.filter(cell_id__in=cell_ids).select_related("cell__item").order_by("created_at", "id")
    return [
        {
            "cell": test.cell.item.code, "test": test.pk, "temperatureC": test.temperature_c,
            "stackPressureMpa": test.stack_pressure_mpa, "cRate": test.c_rate, "cycleCount": test.cycle_count,
            "firstDischargeCapacityMah": test.first_discharge_capacity_mah,
            "retentionAt100": test.retention_at_100, "retentionAtLast": test.retention_at_last,
            "cycleAt80Percent": test.cycle_at_80_percent, "status": test.status,
        }
        for test in tests
    ]


# ------------------------------------------------------------------------------------------ bundle part


def bundled_tests(document: dict):
    """The imported cycling tests the passport lists (none when its cycling summary was left out)."""
    ids = [row["test"] for row in document.get("cyclingSummary") or []]
    return CyclingTest.objects.filter(pk__in=ids, status=ImportStatus.IMPORTED).order_by("id")


def bundled_tests_bytes(document: dict) -> int:
    total = 0
    for test in bundled_tests(document).only("data_file"):
        try:
            total += test.data_file.size
        except (FileNotFoundError, OSError, ValueError):
            continue
    return total


def _column(values, scale: float, size: int):
    if values is None:
        return [""] * size
    return (np.asarray(values, dtype=float) * scale).tolist()


def _write_time_series(series, path: Path) -> int:
    size = len(series.voltage_v)
    columns = [
        _column(series.time_s, 1.0, size), _column(series.voltage_v, 1.0, size),
        _column(series.current_ma, 1e-3, size), np.asarray(series.cycle, dtype=int).tolist(),
        _column(series.charge_capacity_mah, 1e-3, size), _column(series.discharge_capacity_mah, 1e-3, size),
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv_writer(handle)
        writer.writerow(BDF_TIME_SERIES)
        writer.writerows(zip(*columns, strict=True))
    return size


def _write_per_cycle(test: CyclingTest, path: Path) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv_writer(handle)
        writer.writerow(BDF_PER_CYCLE)
        rows = test.cycles.order_by("cycle_number").values_list(
            "cycle_number", "charge_capacity_mah", "discharge_capacity_mah", "charge_energy_mwh",
            "discharge_energy_mwh")
        for number, charge, discharge, charge_energy, discharge_energy in rows.iterator(chunk_size=2000):
            writer.writerow([number, charge / 1000.0, discharge / 1000.0, charge_energy / 1000.0,
                             discharge_energy / 1000.0])
            count += 1
    return count


def write_cycling_data(document: dict, folder: Path) -> list[BundleFile]:
    """One CSV per bundled cycling test: its time series in BDF, or its per-cycle table when the stored file
    cannot be read again."""
    files = []
    for test in bundled_tests(document).select_related("cell__item"):
        try:
            series = cycling_test_time_series(test)
        except ModelInputError:
            series = None
        if series is not None:
            name = f"cycling-test-{test.pk}.bdf.csv"
            rows = _write_time_series(series, folder / name)
            description = (f"Cycling test {test.pk} of {test.cell.item.code} ({test.cycler}), time series in the "
                           "Battery Data Format")
        else:
            name = f"cycling-test-{test.pk}-per-cycle.csv"
            rows = _write_per_cycle(test, folder / name)
            description = (f"Cycling test {test.pk} of {test.cell.item.code}: the stored cycler file could not be "
                           "read again, so this is the per-cycle table (BDF column names), not the time series")
        files.append(BundleFile(name=name, description=f"{description}; {rows} rows", encoding_format="text/csv"))
    return files


def register() -> None:
    register_passport(ItemKind.CELL, PassportSubject(
        category="laboratory prototype cell", mass_kg=cell_mass_kg, performance=cell_performance))
    register_passport_section(PassportSection(
        name="cyclingSummary", kinds=(ItemKind.CELL,), build=cycling_summary, after="deviations"))
    register_bundle_part(BundlePart(
        name="cycling data", source_bytes=bundled_tests_bytes, write=write_cycling_data))
