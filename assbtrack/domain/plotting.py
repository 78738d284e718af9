"""Matplotlib without global state: every plot in assbtrack is a ``Figure`` built here and saved as PNG and SVG.

``pyplot`` keeps figures in process-wide state, which leaks memory and races in a web server or a
Celery worker; the object-oriented API with the Agg canvas does not.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib
import numpy as np

matplotlib.use("Agg")

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PLOT_FORMATS = ("png", "svg")


def new_figure(width_in: float = 7.0, height_in: float = 4.5) -> Figure:
    figure = Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")
    return figure


def figure_bytes(figure: Figure, fmt: str = "png") -> bytes:
    if fmt not in PLOT_FORMATS:
        raise ValueError(f"unknown plot format {fmt!r}; use one of {', '.join(PLOT_FORMATS)}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    return buffer.getvalue()


def figure_files(figure: Figure, stem: str) -> dict[str, bytes]:
    """``{"stem.png": ..., "stem.svg": ...}`` for a job or a page to store."""
    return {f"{stem}.{fmt}": figure_bytes(figure, fmt) for fmt in PLOT_FORMATS}


@dataclass(frozen=True)
class TrendSeries:
    """One group of a trend plot (a composition, a cell design): dated values and the group's minimum."""

    name: str
    dates: Sequence[datetime]
    values: Sequence[float]
    minimum: float | None = None


def trend_figure(series: Sequence[TrendSeries], *, y_label: str, title: str, unit: str = "") -> Figure:
    """Values of each group over time with the group's specification (a minimum) as a dashed line of its
    colour (one red line when every group has the same); points below their group's minimum are ringed."""
    figure = new_figure(7.5, 4.2)
    axes = figure.add_subplot()
    colours = matplotlib.colormaps["tab10"].colors
    minimums = {group.minimum for group in series if group.minimum is not None}
    shared = len(minimums) == 1 and all(group.minimum is not None for group in series)
    if shared:  # one specification for every group: one line
        minimum = next(iter(minimums))
        axes.axhline(minimum, color="tab:red", linestyle="--", linewidth=1.0, label=f"spec ≥ {minimum:g}{unit}")
    ringed = False
    for index, group in enumerate(series):
        colour = colours[index % len(colours)]
        values = np.asarray(group.values, dtype=float)
        axes.plot(group.dates, values, linestyle="none", marker="o", markersize=4, color=colour,
                  label=f"{group.name} ({values.size})")
        if group.minimum is not None:
            if not shared:
                axes.axhline(group.minimum, color=colour, linestyle="--", linewidth=1.0,
                             label=f"{group.name} spec ≥ {group.minimum:g}{unit}")
            low = values < group.minimum
            if low.any():
                axes.scatter(np.asarray(group.dates, dtype=object)[low], values[low], s=70, facecolors="none",
                             edgecolors="tab:red", linewidths=1.5, zorder=3,
                             label=None if ringed else "below its spec")
                ringed = True
    axes.set_ylim(bottom=0.0)
    axes.set_ylabel(y_label)
    axes.set_title(title)
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.legend(loc="best", fontsize=7, ncols=2)
    return figure
