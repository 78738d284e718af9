"""The control chart of one QC series: values in time order, centre, ±1/2/3σ, the baseline shaded, flags marked."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from assbtrack.domain.plotting import new_figure
from assbtrack.domain.spc import ControlChart


def control_chart_figure(chart: ControlChart, values: Sequence[float], labels: Sequence[str], *, title: str,
                         value_label: str) -> Figure:
    series = np.asarray(values, dtype=float)
    positions = np.arange(1, series.size + 1)
    limits = chart.limits
    figure = new_figure(8.0, 4.4)
    axes = figure.add_subplot()
    axes.axvspan(0.5, chart.baseline_count + 0.5, color="tab:blue", alpha=0.07,
                 label=f"baseline (first {chart.baseline_count})")
    axes.plot(positions, series, color="tab:blue", marker="o", markersize=4, linewidth=1.0, zorder=2, label="records")
    axes.axhline(limits.center, color="black", linewidth=1.0, label=f"centre {limits.center:.4g}")
    for k, style in ((3, "-"), (2, "--"), (1, ":")):
        for sign in (1, -1):
            axes.axhline(limits.center + sign * k * limits.sigma, color="tab:red" if k == 3 else "grey",
                         linestyle=style, linewidth=0.9,
                         label=(f"UCL/LCL ±3σ (σ = {limits.sigma:.3g})" if k == 3 else f"±{k}σ") if sign == 1 else None)
    flagged = sorted({v.index for v in chart.violations})
    if flagged:
        axes.scatter(positions[flagged], series[flagged], s=80, facecolors="none", edgecolors="tab:red",
                     linewidths=1.6, zorder=3, label="out of control")
        for index in flagged:
            rules = ", ".join(rule.upper() for rule in chart.rules_at(index))
            axes.annotate(f"{labels[index]} {rules}", (positions[index], series[index]), xytext=(4, 6),
                          textcoords="offset points", fontsize=7, color="tab:red")
    axes.set_xlabel("Record, in time order (–)")
    axes.set_ylabel(value_label)
    axes.set_title(title, fontsize=10)
    axes.legend(loc="best", fontsize=7, ncols=2)
    return figure


def design_map_figure(model, *, axes_pair: tuple[int, int], fixed: np.ndarray, records_x: np.ndarray,
                      proposals_x: np.ndarray, outcome_label: str, title: str) -> Figure:
    """Predicted mean and uncertainty over two parameters (the others held at ``fixed``), records and proposals."""
    i, j = axes_pair
    pi, pj = model.parameters[i], model.parameters[j]
    grid_i, grid_j = np.linspace(pi.low, pi.high, 60), np.linspace(pj.low, pj.high, 60)
    mesh_i, mesh_j = np.meshgrid(grid_i, grid_j)
    points = np.tile(fixed, (mesh_i.size, 1))
    points[:, i], points[:, j] = mesh_i.ravel(), mesh_j.ravel()
    mean, std = model.predict(points)
    figure = new_figure(10.0, 4.2)
    for index, (values, label) in enumerate(((mean, f"predicted {outcome_label}"),
                                             (std, f"uncertainty (1σ) of {outcome_label}"))):
        axes = figure.add_subplot(1, 2, index + 1)
        image = axes.contourf(mesh_i, mesh_j, values.reshape(mesh_i.shape), levels=20,
                              cmap="viridis" if index == 0 else "magma")
        figure.colorbar(image, ax=axes, label=label)
        axes.scatter(records_x[:, i], records_x[:, j], s=16, color="white", edgecolors="black", label="records")
        if proposals_x.size:
            axes.scatter(proposals_x[:, i], proposals_x[:, j], s=60, marker="*", color="tab:red", label="proposals")
        axes.set_xlabel(pi.name)
        axes.set_ylabel(pj.name)
        axes.legend(loc="best", fontsize=7)
    figure.suptitle(title, fontsize=10)
    return figure


def design_slices_figure(model, *, fixed: np.ndarray, records_x: np.ndarray, records_y: np.ndarray,
                         outcome_label: str, title: str) -> Figure:
    """One panel per parameter: predicted mean ± 2σ along it, the others held at ``fixed``."""
    count = len(model.parameters)
    columns = min(3, count)
    rows = (count + columns - 1) // columns
    figure = new_figure(3.4 * columns, 2.8 * rows)
    for index, parameter in enumerate(model.parameters):
        axes = figure.add_subplot(rows, columns, index + 1)
        grid = np.linspace(parameter.low, parameter.high, 120)
        points = np.tile(fixed, (grid.size, 1))
        points[:, index] = grid
        mean, std = model.predict(points)
        axes.fill_between(grid, mean - 2 * std, mean + 2 * std, color="tab:blue", alpha=0.2, label="±2σ")
        axes.plot(grid, mean, color="tab:blue", label="mean")
        axes.scatter(records_x[:, index], records_y, s=10, color="black", label="records (all)")
        axes.set_xlabel(parameter.name)
        axes.set_ylabel(outcome_label)
        if index == 0:
            axes.legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    return figure
