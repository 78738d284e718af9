"""Materials figures render to PNG and say what they show: axis labels with units, a title, fitted lines."""

from __future__ import annotations

from datetime import date

import matplotlib.colors
import numpy as np
import pytest
from matplotlib.figure import Figure

from assbtrack.domain.plotting import figure_bytes
from materials.conductivity import arrhenius_fit, run_arrhenius
from materials.milling import fit_milling_saturation, run_milling_saturation
from materials.plots import (
    arrhenius_figure,
    conductivity_control_chart_figure,
    exposure_retention_figure,
    milling_saturation_figure,
)

K_B_EV_PER_K = 8.617333262e-5
PNG_SIGNATURE = b"\x89PNG"


def assert_renders_png(figure: Figure) -> None:
    assert isinstance(figure, Figure)
    assert figure_bytes(figure, "png").startswith(PNG_SIGNATURE)


def vertical_lines_x(axes) -> list[float]:
    return [line.get_xdata()[0] for line in axes.get_lines() if len(set(line.get_xdata())) == 1]


def horizontal_lines_y(axes) -> list[float]:
    return [line.get_ydata()[0] for line in axes.get_lines() if len(set(line.get_ydata())) == 1]


@pytest.fixture
def milling_data():
    times_h = np.array([0.5, 1.0, 2.0, 4.0, 6.0])
    sigma = 2.0 * (1 - np.exp(-times_h / 0.5))
    points = [{"milling_time_h": t, "conductivity_ms_per_cm": s} for t, s in zip(times_h, sigma, strict=True)]
    return times_h, sigma, points


def test_milling_saturation_figure_from_fit(milling_data):
    times_h, sigma, points = milling_data
    figure = milling_saturation_figure(
        points, fit_milling_saturation(times_h, sigma), "Li6PS5Cl batches B1–B5"
    )
    assert_renders_png(figure)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "Milling time (h)"
    assert axes.get_ylabel() == "Ionic conductivity (mS/cm)"
    assert axes.get_title() == "Li6PS5Cl batches B1–B5"
    # t95 = 3τ = 1.5 h is drawn as a vertical line.
    assert any(x == pytest.approx(1.5, rel=1e-4) for x in vertical_lines_x(axes))
    np.testing.assert_allclose(axes.collections[0].get_offsets()[:, 0], times_h)


def test_milling_saturation_figure_from_stored_job_result(milling_data):
    _, _, points = milling_data
    result = run_milling_saturation({"points": points})
    figure = milling_saturation_figure(result["points"], result, "Stored result")
    assert_renders_png(figure)
    assert any(x == pytest.approx(result["t95_h"]) for x in vertical_lines_x(figure.axes[0]))


def test_arrhenius_figure_plots_inverse_temperature_and_names_ea():
    temperatures_c = np.array([25.0, 50.0, 75.0, 100.0])
    temperature_k = temperatures_c + 273.15
    sigma = 4e5 / temperature_k * np.exp(-0.32 / (K_B_EV_PER_K * temperature_k))
    figure = arrhenius_figure(temperatures_c, sigma, arrhenius_fit(temperatures_c, sigma), "LPSCl batch B7")
    assert_renders_png(figure)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "1000/T (1/K)"
    assert axes.get_ylabel() == "Ionic conductivity (mS/cm)"
    assert axes.get_yscale() == "log"
    assert axes.get_title() == "LPSCl batch B7"
    np.testing.assert_allclose(axes.collections[0].get_offsets()[:, 0], 1000.0 / temperature_k)
    legend_texts = [text.get_text() for text in axes.get_legend().get_texts()]
    assert any("Ea = 0.320 eV" in text for text in legend_texts)


def test_arrhenius_figure_accepts_the_json_result():
    points = [
        {"temperature_c": 25.0, "conductivity_ms_per_cm": 1.0},
        {"temperature_c": 60.0, "conductivity_ms_per_cm": 3.0},
        {"temperature_c": 90.0, "conductivity_ms_per_cm": 7.0},
    ]
    result = run_arrhenius({"points": points})
    figure = arrhenius_figure([25.0, 60.0, 90.0], [1.0, 3.0, 7.0], result, "Result")
    assert_renders_png(figure)
    # The fit line passes σ(25 °C) reported by the model at 1000/298.15.
    line = figure.axes[0].get_lines()[0]
    assert line.get_xdata()[0] == pytest.approx(1000 / 298.15)
    assert line.get_ydata()[0] == pytest.approx(result["conductivity_25c_ms_per_cm"], rel=1e-9)


EXPOSURE_ROWS = [
    {"label": "E1", "dew_point_c": -40.0, "duration_h": 2.0, "retention_percent": 92.0},
    {"label": "E2", "dew_point_c": -40.0, "duration_h": 24.0, "retention_percent": 71.0},
    {"label": "E3", "dew_point_c": -60.0, "duration_h": 24.0, "retention_percent": 88.0},
]


def test_exposure_retention_figure_against_time():
    figure = exposure_retention_figure(EXPOSURE_ROWS, "LPSCl in the dry room")
    assert_renders_png(figure)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "Exposure time (h)"
    assert axes.get_ylabel() == "Conductivity retention (%)"
    assert axes.get_title() == "LPSCl in the dry room"
    np.testing.assert_allclose(axes.collections[0].get_offsets(), [[2, 92], [24, 71], [24, 88]])
    assert figure.axes[1].get_ylabel() == "Dew point (°C)"  # the colour bar
    assert [text.get_text() for text in axes.texts] == ["E1", "E2", "E3"]


def test_exposure_retention_figure_against_dew_point():
    figure = exposure_retention_figure(EXPOSURE_ROWS, "By dew point", x_axis="dew_point_c")
    assert_renders_png(figure)
    assert figure.axes[0].get_xlabel() == "Dew point (°C)"
    assert figure.axes[1].get_ylabel() == "Exposure time (h)"
    with pytest.raises(ValueError):
        exposure_retention_figure(EXPOSURE_ROWS, "x", x_axis="humidity")


def test_conductivity_control_chart_marks_spec_and_failing_batches():
    dates = [date(2025, 3, day) for day in (3, 10, 17, 24)]
    sigma = [3.1, 2.6, 3.3, 3.0]
    figure = conductivity_control_chart_figure(
        dates, sigma, 2.8, ["B1", "B2", "B3", "B4"], "LPSCl batches, March"
    )
    assert_renders_png(figure)
    axes = figure.axes[0]
    assert axes.get_ylabel() == "Ionic conductivity (mS/cm)"
    assert axes.get_xlabel() == "Measurement date"
    assert axes.get_title() == "LPSCl batches, March"
    assert any(y == pytest.approx(2.8) for y in horizontal_lines_y(axes))
    below = axes.collections[0]
    assert below.get_offsets()[:, 1].tolist() == [2.6]  # only B2 is under the spec
    assert matplotlib.colors.same_color(below.get_facecolor()[0], "tab:red")
    assert [text.get_text() for text in axes.texts] == ["B1", "B2", "B3", "B4"]


def test_conductivity_control_chart_without_labels_or_failures():
    figure = conductivity_control_chart_figure(
        [date(2025, 1, 1), date(2025, 2, 1)], [3.0, 3.2], 2.0, None, "Two"
    )
    assert_renders_png(figure)
    assert len(figure.axes[0].collections[0].get_offsets()) == 0
