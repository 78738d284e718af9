"""A large CSV imports in bounded memory: the reader keeps one chunk of points, not the file.

Measured in a fresh interpreter (``bench.cycler``), so the figure is the reader's own peak, not the test
process's. Two file sizes: the peak must not grow with the file, and stays far below it at the size an
upload may reach (500 MB).
"""

from __future__ import annotations

import pytest

from bench.cycler import HALF_CYCLE_MAH, POINTS_PER_HALF_CYCLE, measure_in_subprocess, write_cycling_bdf_csv


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large-cycler")
    small, large = folder / "small.bdf.csv", folder / "large.bdf.csv"
    write_cycling_bdf_csv(small, 600_000)
    write_cycling_bdf_csv(large, 2_000_000)
    return small, large


def test_peak_memory_does_not_grow_with_the_file(files):
    small, large = files
    first, second = measure_in_subprocess(small), measure_in_subprocess(large)
    assert second["file_mb"] > 55 and second["points"] == 2_000_000
    assert second["cycles"] == 2_000_000 // (2 * POINTS_PER_HALF_CYCLE)
    # Growing the file 3.3× adds (almost) nothing: one chunk of 200,000 rows is what is held.
    assert second["peak_growth_mb"] < first["peak_growth_mb"] + 25
    assert second["peak_growth_mb"] < 1.5 * second["file_mb"]
    assert second["peak_growth_mb"] < 200  # so a 500 MB upload stays well under 1 GB


def test_the_large_file_is_read_right(files):
    from pathlib import Path

    from cells.cycler_files import CyclerSource, ReadOptions, read_cycler_files

    _, large = files
    # Small chunks: the sums must not depend on where the chunks are cut.
    chunked = read_cycler_files([CyclerSource(Path(large), large.name)], ReadOptions(chunk_rows=77_777))
    metrics = chunked.accumulator.metrics()
    assert chunked.units_chosen["current_ma"] == "A"  # from the BDF header 'Current / A'
    # Where the current reverses (+0.5 to -0.5 mA in one 10 s interval) each side gets a quarter of a full
    # interval (0.5 mA × 5 s / 2): exact for a linear current, and the same wherever the chunks are cut.
    full_interval_mah, reversals = 0.5 * 10 / 3600, 2_000_000 // POINTS_PER_HALF_CYCLE - 1
    assert metrics.charge_capacity_mah[0] == pytest.approx(HALF_CYCLE_MAH + full_interval_mah / 4, rel=1e-9)
    assert metrics.discharge_capacity_mah[1] == pytest.approx(HALF_CYCLE_MAH + full_interval_mah / 2, rel=1e-9)
    total = metrics.charge_capacity_mah.sum() + metrics.discharge_capacity_mah.sum()
    assert total == pytest.approx((2_000_000 - 1 - reversals / 2) * full_interval_mah, rel=1e-9)
