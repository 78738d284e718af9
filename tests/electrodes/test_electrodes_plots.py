"""Electrodes figures render to PNG, carry axis labels with units and a title, and draw the data given."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from assbtrack.domain.inputs import ModelInputError
from assbtrack.domain.plotting import figure_bytes
from electrodes.plots import porosity_vs_loading_figure, thickness_by_pass_figure


def assert_renders_png(figure: Figure) -> None:
    assert isinstance(figure, Figure)
    assert figure_bytes(figure, "png").startswith(b"\x89PNG")


def test_thickness_by_pass_figure():
    figure = thickness_by_pass_figure([1, 2, 3, 4], [320.0, 240.0, 190.0, 160.0], "Cathode film F-0012")
    assert_renders_png(figure)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "Calendering pass (no.)"
    assert axes.get_ylabel() == "Film thickness (µm)"
    assert axes.get_title() == "Cathode film F-0012"
    line = axes.get_lines()[0]
    assert list(line.get_xdata()) == [1, 2, 3, 4]
    assert list(line.get_ydata()) == [320.0, 240.0, 190.0, 160.0]
    assert len(axes.collections) == 0  # nothing to flag


def test_thickness_by_pass_figure_marks_every_pass_that_thickened_the_film():
    figure = thickness_by_pass_figure([1, 2, 3, 4, 5], [300.0, 250.0, 260.0, 200.0, 205.0], "Film F-0013")
    assert_renders_png(figure)
    flagged = figure.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(flagged, [[3, 260.0], [5, 205.0]])


def test_thickness_by_pass_figure_refuses_mismatched_lengths():
    with pytest.raises(ModelInputError):
        thickness_by_pass_figure([1, 2, 3], [300.0, 250.0], "bad")


def test_porosity_vs_loading_figure_draws_each_process_in_percent():
    series = {
        "dry": ([10.0, 20.0, 30.0], [0.08, 0.10, 0.12]),
        "slurry": ([10.0, 15.0], [0.25, 0.30]),
    }
    figure = porosity_vs_loading_figure(series, "Cathode films, project P1")
    assert_renders_png(figure)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "Areal loading (mg/cm²)"
    assert axes.get_ylabel() == "Porosity (%)"
    assert axes.get_title() == "Cathode films, project P1"
    lines = {line.get_label(): line for line in axes.get_lines()}
    assert set(lines) == {"dry", "slurry"}
    np.testing.assert_allclose(lines["dry"].get_ydata(), [8.0, 10.0, 12.0])
    np.testing.assert_allclose(lines["slurry"].get_xdata(), [10.0, 15.0])
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["dry", "slurry"]


def test_porosity_vs_loading_figure_refuses_percentages_and_mismatched_series():
    with pytest.raises(ModelInputError) as error:
        porosity_vs_loading_figure({"dry": ([10.0, 20.0], [8.0, 10.0])}, "percent by mistake")
    assert error.value.field == "series.dry"
    with pytest.raises(ModelInputError) as error:
        porosity_vs_loading_figure({"slurry": ([10.0, 20.0], [0.2])}, "short")
    assert error.value.field == "series.slurry"


def test_porosity_vs_loading_figure_with_no_films_still_renders():
    figure = porosity_vs_loading_figure({}, "No films yet")
    assert_renders_png(figure)
    assert figure.axes[0].get_ylabel() == "Porosity (%)"
