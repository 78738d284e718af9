"""Figures for the electrodes app: thickness through the calendering passes, and porosity against loading.

Built on ``assbtrack.domain.plotting.new_figure`` (no pyplot: a server must not keep global figure
state). Inputs are plain sequences so a page or a job can draw from stored records directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from assbtrack.domain.inputs import ModelInputError
from assbtrack.domain.plotting import new_figure, sensible_range, title_fitting
from electrodes.films import check_thickness_decreases

PASS_LABEL = "Calendering pass (no.)"
THICKNESS_LABEL = "Film thickness (µm)"
LOADING_LABEL = "Areal loading (mg/cm²)"
POROSITY_LABEL = "Porosity (%)"


def thickness_by_pass_figure(
    pass_numbers: Sequence[int], thicknesses_um: Sequence[float], title: str
) -> Figure:
    """Thickness after each pass; every pass that made the film thicker is marked: rolling cannot do that."""
    passes = np.asarray(pass_numbers)
    thicknesses = np.asarray(thicknesses_um, dtype=float)
    if passes.shape != thicknesses.shape:
        raise ModelInputError("thicknesses_um", "needs one thickness per pass")

    figure = new_figure()
    axes = figure.add_subplot()
    axes.plot(passes, thicknesses, color="tab:blue", marker="o", label="after pass")
    if thicknesses.size and check_thickness_decreases(thicknesses) is not None:
        increases = np.flatnonzero(np.diff(thicknesses) > 0.0) + 1
        axes.scatter(
            passes[increases],
            thicknesses[increases],
            s=140,
            facecolors="none",
            edgecolors="tab:red",
            linewidths=2,
            zorder=3,
            label="thicker than the pass before",
        )
        axes.legend()
    sensible_range(axes, "x", integer=True, lowest=0)
    sensible_range(axes, "y", lowest=0)
    axes.set_xlabel(PASS_LABEL)
    axes.set_ylabel(THICKNESS_LABEL)
    axes.set_title(title_fitting(figure, title))
    return figure


def porosity_vs_loading_figure(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]], title: str
) -> Figure:
    """Porosity against areal loading, one series per process (dry vs slurry): does thicker mean more porous?

    Porosities are fractions (0–1), as ``film_metrics`` returns them; they are drawn in percent.
    """
    figure = new_figure()
    axes = figure.add_subplot()
    for name, (loadings_mg_per_cm2, porosities) in series.items():
        loadings = np.asarray(loadings_mg_per_cm2, dtype=float)
        porosity = np.asarray(porosities, dtype=float)
        if loadings.shape != porosity.shape:
            raise ModelInputError(f"series.{name}", "needs one porosity per loading")
        if np.any(porosity > 1.0):
            # A value above 1 is a percentage passed by mistake; drawing it ×100 would mislead.
            raise ModelInputError(f"series.{name}", "porosities must be fractions between 0 and 1")
        # Markers only: the films of a series are independent, a line between them would suggest a trend.
        axes.plot(loadings, porosity * 100.0, marker="o", linestyle="none", label=name)
    sensible_range(axes, "x", lowest=0)
    sensible_range(axes, "y", lowest=0)
    axes.set_xlabel(LOADING_LABEL)
    axes.set_ylabel(POROSITY_LABEL)
    axes.set_title(title_fitting(figure, title))
    if series:
        axes.legend(title="Process")
    return figure
