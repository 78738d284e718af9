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
