"""The cells figures render to PNG and SVG, with titles and axis labels that carry units."""

from __future__ import annotations

import numpy as np

from assbtrack.domain.plotting import figure_bytes, figure_files
from cells.cycling import CycleMetrics
from cells.plots import capacity_and_efficiency_figure, voltage_capacity_figure, waterfall_figure

PNG_SIGNATURE = b"\x89PNG"


def axes_labels(figure) -> set[str]:
    labels = set()
    for axes in figure.axes:
        labels.update({axes.get_xlabel(), axes.get_ylabel(), axes.get_title()})
    return labels - {""}


def test_waterfall_has_a_mass_and_a_volume_panel():
    bars = [
        ("a", 24.0, 74.0),
        ("b", 78.0, 133.0),
        ("c", 267.0, 674.0),
        ("f", 454.0, 1009.0),
        ("g", 472.0, 1194.0),
    ]
    figure = waterfall_figure(bars, "Figure 1: presets a–g")
    assert len(figure.axes) == 2
    mass_axes, volume_axes = figure.axes
    assert "Wh/kg" in mass_axes.get_ylabel() and "Wh/L" in volume_axes.get_ylabel()
    assert [tick.get_text() for tick in mass_axes.get_xticklabels()] == ["a", "b", "c", "f", "g"]
    assert figure.get_suptitle() == "Figure 1: presets a–g"
    # The top of every bar sits at its design's value: the floating bars end where the design lands.
    tops = sorted(round(patch.get_y() + patch.get_height(), 6) for patch in mass_axes.patches)
    assert tops == sorted([24.0, 78.0, 267.0, 454.0, 472.0])
    # First and last stand on zero; the others float on the design before them.
    assert [patch.get_y() for patch in mass_axes.patches] == [0.0, 24.0, 78.0, 267.0, 0.0]
    assert figure_bytes(figure, "png").startswith(PNG_SIGNATURE)


def test_capacity_and_efficiency_has_a_twin_axis():
    cycles = np.arange(1, 21)
    discharge = 1.0 - 0.01 * (cycles - 1)
    charge = discharge / 0.99
    metrics = CycleMetrics(
        cycle=cycles,
        charge_capacity_mah=charge,
        discharge_capacity_mah=discharge,
        charge_energy_mwh=3.6 * charge,
        discharge_energy_mwh=3.5 * discharge,
        coulombic_efficiency=discharge / charge,
        energy_efficiency=3.5 * discharge / (3.6 * charge),
        retention=discharge / discharge[0],
    )
    figure = capacity_and_efficiency_figure(metrics, "Cell C-042 cycling at C/10")
    labels = axes_labels(figure)
    assert {
        "Cycle number",
        "Capacity (mAh)",
        "Coulombic efficiency (%)",
        "Cell C-042 cycling at C/10",
    } <= labels
    efficiency_line = figure.axes[1].get_lines()[0]
    np.testing.assert_allclose(efficiency_line.get_ydata(), 99.0)
    files = figure_files(figure, "cycling")
    assert files["cycling.png"].startswith(PNG_SIGNATURE)
    assert b"<svg" in files["cycling.svg"][:500]


def test_voltage_capacity_has_one_line_per_cycle():
    capacity = np.array([0.0, 0.5, 1.0, np.nan, 0.0, 0.45, 0.9])
    voltage = np.array([3.0, 3.7, 4.2, np.nan, 4.1, 3.6, 2.9])
    figure = voltage_capacity_figure({10: (capacity * 0.9, voltage), 1: (capacity, voltage)}, "Cell C-042")
    axes = figure.axes[0]
    assert axes.get_xlabel() == "Capacity (mAh)" and axes.get_ylabel() == "Voltage (V)"
    assert axes.get_title() == "Cell C-042"
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["Cycle 1", "Cycle 10"]
    assert figure_bytes(figure).startswith(PNG_SIGNATURE)
