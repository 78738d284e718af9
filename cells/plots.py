"""Figures of the cells app: the energy waterfall (the paper's Figure 1), cycling and voltage profiles.

All figures come from ``assbtrack.domain.plotting.new_figure`` (object-oriented matplotlib, no
``pyplot`` state), so they are safe to build in a web request or a Celery worker; save them with
``figure_files``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from assbtrack.domain.plotting import new_figure, sensible_range, title_fitting
from cells.cycling import CycleMetrics

RISE_COLOUR = "#2a9d8f"
FALL_COLOUR = "#e76f51"
TOTAL_COLOUR = "#264653"


def _waterfall_panel(axes: Axes, labels: list[str], values: np.ndarray, unit: str, quantity: str) -> None:
    """First and last bars stand on zero; the ones between float from the previous value to their own,
    so each design change reads as the step it contributes."""
    positions = np.arange(values.size)
    previous = np.concatenate(([0.0], values[:-1]))
    bottoms = previous.copy()
    colours = [RISE_COLOUR if step >= 0 else FALL_COLOUR for step in values - previous]
    colours[0] = colours[-1] = TOTAL_COLOUR
    bottoms[-1] = 0.0
    heights = values - bottoms
    axes.bar(positions, heights, bottom=bottoms, color=colours, width=0.7, edgecolor="black", linewidth=0.5)
    for position, value in zip(positions[:-1], values[:-1], strict=True):
        axes.hlines(value, position + 0.35, position + 0.65, colors="grey", linewidth=0.8, linestyles=":")
    for position, value, bottom, height in zip(positions, values, bottoms, heights, strict=True):
        falling = height < 0 and bottom > 0  # label a floating step down under its end, off the bar
        axes.annotate(
            f"{value:.0f}",
            (position, value),
            xytext=(0, -3 if falling else 3),
            textcoords="offset points",
            ha="center",
            va="top" if falling else "bottom",
            fontsize=8,
        )
    axes.set_xticks(positions, labels, rotation=30, ha="right", fontsize=8)
    axes.set_ylabel(f"{quantity} ({unit})")
    axes.set_ylim(0, max(float(values.max()), 1.0) * 1.12)
    axes.set_title(quantity)
    axes.grid(axis="y", alpha=0.3)


def waterfall_figure(bars: Sequence[tuple[str, float, float]], title: str) -> Figure:
    """Specific energy (Wh/kg) and energy density (Wh/L) of a sequence of designs, side by side.

    ``bars`` is ``[(label, wh_per_kg, wh_per_l), ...]`` in the order of the design changes, e.g. the
    presets a–g of ``cells.energy`` or a real cell next to them.
    """
    if not bars:
        raise ValueError("the waterfall needs at least one bar")
    labels = [str(label) for label, _, _ in bars]
    wh_per_kg = np.array([float(value) for _, value, _ in bars])
    wh_per_l = np.array([float(value) for _, _, value in bars])
    figure = new_figure(11.0, 4.8)
    mass_axes, volume_axes = figure.subplots(1, 2)
    _waterfall_panel(mass_axes, labels, wh_per_kg, "Wh/kg", "Specific energy")
    _waterfall_panel(volume_axes, labels, wh_per_l, "Wh/L", "Energy density")
    figure.suptitle(title_fitting(figure, title))
    return figure


def capacity_and_efficiency_figure(metrics: CycleMetrics, title: str) -> Figure:
    """Charge and discharge capacity against cycle number, coulombic efficiency on a second axis."""
    figure = new_figure()
    capacity_axes = figure.subplots()
    capacity_axes.plot(
        metrics.cycle,
        metrics.charge_capacity_mah,
        "o",
        markersize=3,
        color=FALL_COLOUR,
        label="Charge capacity",
    )
    capacity_axes.plot(
        metrics.cycle,
        metrics.discharge_capacity_mah,
        "s",
        markersize=3,
        color=TOTAL_COLOUR,
        label="Discharge capacity",
    )
    sensible_range(capacity_axes, "x", integer=True, lowest=0)  # whole cycles, and one cycle is not a zoom
    capacity_axes.set_xlabel("Cycle number")
    capacity_axes.set_ylabel("Capacity (mAh)")
    capacity_axes.set_ylim(bottom=0)
    efficiency_axes = capacity_axes.twinx()
    efficiency_axes.plot(
        metrics.cycle,
        100.0 * metrics.coulombic_efficiency,
        "^",
        markersize=3,
        color=RISE_COLOUR,
        label="Coulombic efficiency",
    )
    efficiency_axes.set_ylabel("Coulombic efficiency (%)")
    lines, labels = capacity_axes.get_legend_handles_labels()
    twin_lines, twin_labels = efficiency_axes.get_legend_handles_labels()
    capacity_axes.legend(lines + twin_lines, labels + twin_labels, loc="lower left", fontsize=8)
    capacity_axes.set_title(title_fitting(figure, title))
    return figure


def voltage_capacity_figure(curves: Mapping[int, tuple[np.ndarray, np.ndarray]], title: str) -> Figure:
    """Voltage profiles of selected cycles, coloured from early (dark) to late (light) cycles.

    ``curves`` maps cycle number to (capacity in mAh, voltage in V), e.g. from
    ``cells.cycling.voltage_capacity_curves``; NaN entries break a line between charge and discharge.
    """
    figure = new_figure()
    axes = figure.subplots()
    cycles = sorted(curves)
    colour_map = colormaps["viridis"]
    for rank, cycle in enumerate(cycles):
        capacity_mah, voltage_v = curves[cycle]
        colour = colour_map(rank / max(len(cycles) - 1, 1) * 0.9)
        axes.plot(np.asarray(capacity_mah), np.asarray(voltage_v), color=colour, label=f"Cycle {cycle}")
    axes.set_xlabel("Capacity (mAh)")
    axes.set_ylabel("Voltage (V)")
    if cycles:
        axes.legend(fontsize=8)
    axes.set_title(title_fitting(figure, title))
    return figure
