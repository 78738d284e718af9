"""Figures for the modules app: the paper's Figure 5d–f efficiency sweep and stack-pressure heat maps.

Built on ``assbtrack.domain.plotting.new_figure`` (object-oriented matplotlib, never ``pyplot``) so
that they are safe in a web server or a Celery worker; save them with ``figure_files``. The inputs
are the JSON outputs of ``run_module_efficiency_sweep`` and ``run_pressure_map``, so a stored job
result can be redrawn without running the model again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, MaxNLocator
from numpy.typing import ArrayLike

from assbtrack.domain.plotting import new_figure, title_fitting
from modules.housing import LI_ION_GRAVIMETRIC_EFFICIENCY, LI_ION_VOLUMETRIC_EFFICIENCY

MASS_COLOUR = "tab:blue"
VOLUME_COLOUR = "tab:orange"
PRESSURE_COLOUR_MAP = "viridis"
PRESSURE_LABEL = "Pressure (MPa)"
FIGURE5_PRESSURE_RANGE_MPA = (1.0, 100.0)


def efficiency_sweep_figure(
    curves: Sequence[Mapping[str, Any]],
    title: str,
    highlight_points: Sequence[Mapping[str, Any]] | None = None,
) -> Figure:
    """Efficiency by mass and by volume (%) against stack pressure, one panel per system size.

    The dashed lines are the Li-ion pouch module references (82 % by mass, 73 % by volume;
    Löbberding et al. 2020) that a solid-state module has to beat. ``highlight_points`` marks real
    modules on the panel of their own system size (filled marker by mass, open by volume); a point
    whose size has no panel is an error rather than being drawn on a panel it does not belong to.
    """
    if not curves:
        raise ValueError("efficiency_sweep_figure needs at least one curve")
    figure = new_figure(width_in=max(4.0, 3.6 * len(curves)), height_in=4.2)
    axes = figure.subplots(1, len(curves), sharey=True, squeeze=False)[0]
    sizes_kwh = np.array([float(curve["system_energy_kwh"]) for curve in curves])

    all_pressures_mpa = np.concatenate(
        [np.asarray(curve["stack_pressure_mpa"], dtype=float) for curve in curves]
    )
    x_limits_mpa = (
        min(FIGURE5_PRESSURE_RANGE_MPA[0], float(all_pressures_mpa.min())),
        max(FIGURE5_PRESSURE_RANGE_MPA[1], float(all_pressures_mpa.max())),
    )

    for ax, curve in zip(axes, curves):
        pressures_mpa = np.asarray(curve["stack_pressure_mpa"], dtype=float)
        ax.plot(
            pressures_mpa,
            100 * np.asarray(curve["gravimetric_efficiency"]),
            color=MASS_COLOUR,
            label="By mass",
        )
        ax.plot(
            pressures_mpa,
            100 * np.asarray(curve["volumetric_efficiency"]),
            color=VOLUME_COLOUR,
            label="By volume",
        )
        ax.axhline(
            100 * LI_ION_GRAVIMETRIC_EFFICIENCY,
            color=MASS_COLOUR,
            linestyle="--",
            linewidth=1,
            label=f"Li-ion pouch module, by mass ({100 * LI_ION_GRAVIMETRIC_EFFICIENCY:.0f} %)",
        )
        ax.axhline(
            100 * LI_ION_VOLUMETRIC_EFFICIENCY,
            color=VOLUME_COLOUR,
            linestyle="--",
            linewidth=1,
            label=f"Li-ion pouch module, by volume ({100 * LI_ION_VOLUMETRIC_EFFICIENCY:.0f} %)",
        )
        ax.set_xscale("log")
        ax.set_xlim(*x_limits_mpa)
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))  # 1, 10, 100 rather than 10⁰, 10¹, 10²
        ax.set_ylim(0, 100)
        ax.set_xlabel("Stack pressure (MPa)")
        ax.set_title(f"{_energy_label(float(curve['system_energy_kwh']))} system")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("Cell-to-module efficiency (%)")

    for point in highlight_points or ():
        size_kwh = float(point["system_energy_kwh"])
        matches = np.flatnonzero(np.isclose(sizes_kwh, size_kwh))
        if matches.size == 0:
            raise ValueError(
                f"highlighted point {point.get('label', '')!r} is a {size_kwh:g} kWh system, "
                "but no curve has that size; add it to system_sizes_kwh"
            )
        ax = axes[matches[0]]
        pressure_mpa = float(point["stack_pressure_mpa"])
        mass_percent = 100 * float(point["gravimetric_efficiency"])
        volume_percent = 100 * float(point["volumetric_efficiency"])
        ax.plot([pressure_mpa], [mass_percent], "o", color=MASS_COLOUR, markeredgecolor="black", zorder=5)
        ax.plot(
            [pressure_mpa],
            [volume_percent],
            "o",
            markerfacecolor="white",
            markeredgecolor=VOLUME_COLOUR,
            zorder=5,
        )
        ax.annotate(
            str(point.get("label", "")),
            (pressure_mpa, max(mass_percent, volume_percent)),
            textcoords="offset points",
            xytext=(4, 6),
            fontsize=8,
        )

    axes[-1].legend(loc="lower left", fontsize=7)
    figure.suptitle(title_fitting(figure, title))
    return figure


def _checked_grid(grid_mpa: ArrayLike, name: str) -> np.ndarray:
    grid = np.asarray(grid_mpa, dtype=float)
    if grid.ndim != 2 or grid.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D grid of pressures in MPa")
    return grid


def _draw_grid(ax: Any, grid: np.ndarray, vmin_mpa: float, vmax_mpa: float) -> Any:
    image = ax.imshow(grid, cmap=PRESSURE_COLOUR_MAP, vmin=vmin_mpa, vmax=vmax_mpa, interpolation="nearest")
    ax.set_xlabel("Grid column (across the film)")
    ax.set_ylabel("Grid row (top of scan = 0)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return image


def pressure_heatmap_figure(grid_mpa: ArrayLike, title: str) -> Figure:
    """The pressure map of one film as a heat map, with a colour bar in MPa."""
    grid = _checked_grid(grid_mpa, "grid_mpa")
    figure = new_figure(width_in=5.5, height_in=4.5)
    ax = figure.subplots()
    image = _draw_grid(ax, grid, float(grid.min()), float(grid.max()))
    figure.colorbar(image, ax=ax, label=PRESSURE_LABEL)
    figure.suptitle(title_fitting(figure, title))  # over the figure, not the axes squeezed by the colour bar
    return figure


def pressure_maps_side_by_side_figure(maps: Sequence[tuple[str, ArrayLike]], title: str) -> Figure:
    """Several pressure maps of one housing design next to each other, on one shared colour scale.

    One scale for all panels is the point of the comparison: with a scale per panel, a map with a
    2 MPa spread and one with a 20 MPa spread would look equally uneven.
    """
    if not maps:
        raise ValueError("pressure_maps_side_by_side_figure needs at least one map")
    grids = [_checked_grid(grid, f"map {label!r}") for label, grid in maps]
    vmin_mpa = min(float(grid.min()) for grid in grids)
    vmax_mpa = max(float(grid.max()) for grid in grids)
    figure = new_figure(width_in=max(4.5, 3.6 * len(grids) + 1.0), height_in=4.0)
    axes = figure.subplots(1, len(grids), squeeze=False)[0]
    image = None
    for ax, (label, _), grid in zip(axes, maps, grids):
        image = _draw_grid(ax, grid, vmin_mpa, vmax_mpa)
        ax.set_title(str(label))
    for ax in axes[1:]:
        ax.set_ylabel("")
    figure.colorbar(image, ax=list(axes), label=PRESSURE_LABEL)
    figure.suptitle(title_fitting(figure, title))
    return figure


def _energy_label(kwh: float) -> str:
    """A system size in the unit that reads best: 0.000117 kWh is "0.117 Wh", 3.2 kWh stays "3.2 kWh"."""
    if kwh >= 1.0:
        return f"{kwh:g} kWh"
    if kwh >= 1e-3:
        return f"{kwh * 1e3:.3g} Wh"
    return f"{kwh * 1e6:.3g} mWh"
