"""Materials figures: milling saturation, Arrhenius, dry-room exposure and a conductivity control chart.

Each function returns a ``matplotlib.figure.Figure`` from ``assbtrack.domain.plotting.new_figure``
(never pyplot, which keeps global state in a server) and takes plain sequences, so that a job can
draw from a stored JSON result as well as from a fresh fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

from assbtrack.domain.plotting import DATE_SPAN_DAYS, new_figure, sensible_range, title_fitting
from materials.conductivity import BOLTZMANN_EV_PER_K, ZERO_CELSIUS_K, ArrheniusFit
from materials.milling import T95_PER_TAU, MillingSaturationFit

CONDUCTIVITY_LABEL = "Ionic conductivity (mS/cm)"
MILLING_TIME_LABEL = "Milling time (h)"
INVERSE_TEMPERATURE_LABEL = "1000/T (1/K)"
RETENTION_LABEL = "Conductivity retention (%)"
EXPOSURE_TIME_LABEL = "Exposure time (h)"
DEW_POINT_LABEL = "Dew point (°C)"
DATE_LABEL = "Measurement date"


class _PlainLogFormatter(LogFormatter):
    """Log ticks written as plain numbers (0.1, 2, 4) rather than 4×10⁰: a narrow temperature range spans less
    than a decade. The parent still decides which ticks get a label."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def _value(result: Any, key: str) -> float:
    """A fit is either the dataclass or the JSON dict a job stored; the keys are the same."""
    return float(result[key] if isinstance(result, Mapping) else getattr(result, key))


def milling_saturation_figure(
    points: Sequence[Mapping[str, float]], fit: MillingSaturationFit | Mapping[str, Any], title: str
) -> Figure:
    """Points, the fitted curve and t95: where milling stops paying off."""
    times_h = np.array([point["milling_time_h"] for point in points], dtype=float)
    conductivities = np.array([point["conductivity_ms_per_cm"] for point in points], dtype=float)
    sigma_sat, tau_h = _value(fit, "sigma_sat_ms_per_cm"), _value(fit, "tau_h")
    t95_h = T95_PER_TAU * tau_h

    figure = new_figure()
    axes = figure.add_subplot()
    curve_end_h = max(float(times_h.max(initial=0.0)), t95_h) * 1.1
    curve_times_h = np.linspace(0.0, curve_end_h, 200)
    axes.plot(
        curve_times_h,
        -sigma_sat * np.expm1(-curve_times_h / tau_h),
        color="tab:blue",
        label=f"fit: σ_sat = {sigma_sat:.3g} mS/cm, τ = {tau_h:.3g} h",
    )
    axes.scatter(times_h, conductivities, color="black", zorder=3, label="batches")
    axes.axvline(t95_h, color="tab:red", linestyle="--", label=f"t95 = {t95_h:.3g} h")
    axes.axhline(sigma_sat, color="tab:blue", linestyle=":", linewidth=0.8)
    axes.set_xlim(left=0.0)
    axes.set_ylim(bottom=0.0)
    axes.set_xlabel(MILLING_TIME_LABEL)
    axes.set_ylabel(CONDUCTIVITY_LABEL)
    axes.set_title(title_fitting(figure, title))
    axes.legend(loc="lower right")
    return figure


def arrhenius_figure(
    temperatures_c: Sequence[float],
    conductivities: Sequence[float],
    fit: ArrheniusFit | Mapping[str, Any],
    title: str,
) -> Figure:
    """log σ against 1000/T: a straight line whose slope is the activation energy."""
    temperature_k = np.asarray(temperatures_c, dtype=float) + ZERO_CELSIUS_K
    sigma = np.asarray(conductivities, dtype=float)
    activation_energy_ev = _value(fit, "activation_energy_ev")
    prefactor = _value(fit, "prefactor" if isinstance(fit, Mapping) else "prefactor_ms_k_per_cm")

    figure = new_figure()
    axes = figure.add_subplot()
    line_temperature_k = np.linspace(temperature_k.min(), temperature_k.max(), 100)
    axes.semilogy(
        1000.0 / line_temperature_k,
        prefactor
        / line_temperature_k
        * np.exp(-activation_energy_ev / (BOLTZMANN_EV_PER_K * line_temperature_k)),
        color="tab:blue",
        label=f"fit: Ea = {activation_energy_ev:.3f} eV",
    )
    axes.scatter(1000.0 / temperature_k, sigma, color="black", zorder=3, label="measured")
    axes.yaxis.set_major_formatter(_PlainLogFormatter(labelOnlyBase=False))
    axes.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    sensible_range(axes, "x", relative_span=0.1)  # 1000/T of one temperature: a few kelvin either side
    axes.set_xlabel(INVERSE_TEMPERATURE_LABEL)
    axes.set_ylabel(CONDUCTIVITY_LABEL)
    axes.set_title(title_fitting(figure, title))
    axes.legend()
    return figure


def exposure_retention_figure(
    rows: Sequence[Mapping[str, Any]],
    title: str,
    *,
    x_axis: Literal["duration_h", "dew_point_c"] = "duration_h",
) -> Figure:
    """Retention after dry-room exposure, against time (coloured by dew point) or dew point (by time)."""
    durations_h = np.array([row["duration_h"] for row in rows], dtype=float)
    dew_points_c = np.array([row["dew_point_c"] for row in rows], dtype=float)
    retention_percent = np.array([row["retention_percent"] for row in rows], dtype=float)
    if x_axis == "duration_h":
        x_values, colour_values, x_label, colour_label = (
            durations_h,
            dew_points_c,
            EXPOSURE_TIME_LABEL,
            DEW_POINT_LABEL,
        )
    elif x_axis == "dew_point_c":
        x_values, colour_values, x_label, colour_label = (
            dew_points_c,
            durations_h,
            DEW_POINT_LABEL,
            EXPOSURE_TIME_LABEL,
        )
    else:
        raise ValueError(f"x_axis must be 'duration_h' or 'dew_point_c', not {x_axis!r}")

    figure = new_figure()
    axes = figure.add_subplot()
    markers = axes.scatter(x_values, retention_percent, c=colour_values, cmap="viridis", s=50, zorder=3)
    figure.colorbar(markers, ax=axes, label=colour_label)
    for row, x_value, retention in zip(rows, x_values, retention_percent, strict=True):
        axes.annotate(
            str(row["label"]), (x_value, retention), xytext=(4, 4), textcoords="offset points", fontsize=8
        )
    axes.axhline(100.0, color="grey", linestyle=":", linewidth=0.8)
    sensible_range(axes, "x", lowest=0 if x_axis == "duration_h" else None)
    axes.set_ylim(bottom=0.0, top=max(110.0, float(retention_percent.max(initial=0.0)) * 1.05))
    axes.set_xlabel(x_label)
    axes.set_ylabel(RETENTION_LABEL)
    axes.set_title(title_fitting(figure, title))
    return figure


def conductivity_control_chart_figure(
    dates: Sequence[date | datetime],
    conductivities: Sequence[float],
    spec_ms_per_cm: float,
    labels: Sequence[str] | None,
    title: str,
) -> Figure:
    """Conductivity of successive batches with the minimum specification and the ±3s control band.

    The spec line says whether a batch may be used; the control band says whether the process has
    drifted, which shows up before batches fail the spec.
    """
    sigma = np.asarray(conductivities, dtype=float)
    below_spec = sigma < spec_ms_per_cm

    figure = new_figure()
    axes = figure.add_subplot()
    axes.plot(dates, sigma, color="tab:blue", marker="o", zorder=2, label="batches")
    axes.scatter(
        [day for day, low in zip(dates, below_spec, strict=True) if low],
        sigma[below_spec],
        color="tab:red",
        zorder=3,
        label="below spec",
    )
    axes.axhline(spec_ms_per_cm, color="tab:red", linestyle="--", label=f"spec ≥ {spec_ms_per_cm:g} mS/cm")
    if sigma.size >= 2:
        mean, spread = float(sigma.mean()), float(sigma.std(ddof=1))
        axes.axhline(mean, color="grey", linewidth=0.8, label=f"mean {mean:.3g} mS/cm")
        axes.axhspan(
            max(mean - 3 * spread, 0.0), mean + 3 * spread, color="grey", alpha=0.12, label="mean ± 3s"
        )
    if labels is not None:
        for day, value, label in zip(dates, sigma, labels, strict=True):
            axes.annotate(label, (day, value), xytext=(3, 5), textcoords="offset points", fontsize=7)
    axes.set_ylim(bottom=0.0)
    sensible_range(axes, "x", minimum_span=DATE_SPAN_DAYS)
    axes.set_xlabel(DATE_LABEL)
    axes.set_ylabel(CONDUCTIVITY_LABEL)
    axes.set_title(title_fitting(figure, title))
    axes.legend(loc="best", fontsize=8)
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return figure
