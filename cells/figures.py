"""Figure 1 with real cells: the presets' waterfall from ``cells.plots``, and each real cell as a bar of its own.

A real cell is not one more design change after preset g, so it must not float on g's bar as the
waterfall's steps do: it stands on zero, hatched, right of a dashed line, so that it reads as "where
this cell lands" beside the staircase of the presets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from cells.plots import waterfall_figure

CELL_COLOUR = "#e9c46a"


def figure1_figure(
    presets: Sequence[tuple[str, float, float]], cells: Sequence[tuple[str, float, float]], title: str
) -> Figure:
    """``presets`` and ``cells`` are ``[(label, Wh/kg, Wh/L), ...]``; the cells come after the presets."""
    figure = waterfall_figure(presets, title)
    if not cells:
        return figure
    mass_axes, volume_axes = figure.axes[:2]
    for axes, column in ((mass_axes, 1), (volume_axes, 2)):
        labels = [tick.get_text() for tick in axes.get_xticklabels()]
        positions = len(labels) + 0.5 + np.arange(len(cells))
        values = np.array([float(cell[column]) for cell in cells])
        axes.bar(positions, values, width=0.7, color=CELL_COLOUR, edgecolor="black", linewidth=0.5, hatch="//")
        for position, value in zip(positions, values, strict=True):
            axes.annotate(f"{value:.0f}", (position, value), xytext=(0, 3), textcoords="offset points",
                          ha="center", va="bottom", fontsize=8)
        axes.axvline(len(labels) - 0.2, color="grey", linestyle="--", linewidth=0.8)
        ticks = [*range(len(labels)), *positions]
        axes.set_xticks(ticks, [*labels, *(str(cell[0]) for cell in cells)], rotation=30, ha="right", fontsize=8)
        top = max(axes.get_ylim()[1], float(values.max()) * 1.12)
        axes.set_ylim(0, top)
    return figure
