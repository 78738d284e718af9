"""Matplotlib without global state: every plot in assbtrack is a ``Figure`` built here and saved as PNG and SVG.

``pyplot`` keeps figures in process-wide state, which leaks memory and races in a web server or a
Celery worker; the object-oriented API with the Agg canvas does not.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib
import numpy as np

matplotlib.use("Agg")

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

PLOT_FORMATS = ("png", "svg")
DATE_SPAN_DAYS = 14.0  # the least a date axis shows: one measurement sits in a fortnight, not on four years


def new_figure(width_in: float = 7.0, height_in: float = 4.5) -> Figure:
    figure = Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")
    return figure


# An average glyph of the default sans-serif font is about 0.6 of its size wide; a title line gets 80 % of the
# figure's width, so a wrapped title stays inside the figure however long the record names in it are.
_GLYPH_WIDTH_PER_PT = 0.6
_TITLE_WIDTH_FRACTION = 0.8


def title_fitting(figure: Figure, title: str, fontsize_pt: float | None = None) -> str:
    """``title`` broken into lines that fit the width of ``figure`` (at the title font size): a title that names
    several records is never cut off at the figure's edges."""
    size = fontsize_pt or matplotlib.font_manager.FontProperties(size=matplotlib.rcParams["axes.titlesize"]).get_size()
    characters = max(12, int(figure.get_figwidth() * 72 * _TITLE_WIDTH_FRACTION / (size * _GLYPH_WIDTH_PER_PT)))
    return "\n".join(textwrap.fill(line, characters) for line in str(title).splitlines() or [""])


def sensible_range(axes, axis: str = "x", *, integer: bool = False, relative_span: float = 0.5,
                   lowest: float | None = None, minimum_span: float | None = None) -> None:
    """An axis range that means something when the data have one value (one point, or a few at the same value).

    Matplotlib widens a zero-width range by ±5 %, so one cycle sits on ticks 0.96 … 1.04. Here the range is at
    least ``relative_span`` of the value (±1 around it for ``integer`` axes, which also get whole-number ticks:
    cycle and pass numbers), or ``minimum_span`` in the axis's own units (days on a date axis, where matplotlib
    shows one date on four years), centred on the data and never below ``lowest``. Data that already spread
    over such a range are left to matplotlib's own limits. Call it after plotting.
    """
    low, high = (axes.dataLim.intervalx if axis == "x" else axes.dataLim.intervaly)
    target = axes.xaxis if axis == "x" else axes.yaxis
    if integer:
        target.set_major_locator(MaxNLocator(integer=True))
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        return  # nothing drawn
    magnitude = max(abs(low), abs(high))
    if minimum_span is None:
        minimum_span = 2.0 if integer else (relative_span * magnitude if magnitude > 0 else 1.0)
    if high - low >= minimum_span:
        return
    centre = (low + high) / 2
    start, end = centre - minimum_span / 2, centre + minimum_span / 2
    if lowest is not None and start < lowest:
        start, end = lowest, lowest + minimum_span
    (axes.set_xlim if axis == "x" else axes.set_ylim)(start, end)


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
    sensible_range(axes, "x", minimum_span=DATE_SPAN_DAYS)
    axes.set_ylabel(y_label)
    axes.set_title(title_fitting(figure, title))
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.legend(loc="best", fontsize=7, ncols=2)
    return figure
