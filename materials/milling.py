"""How long to mill: fit the saturation of ionic conductivity with milling time (the paper's Figure 2b).

Conductivity of a mechanochemically made electrolyte rises with milling time and then levels off
(about 1 h for Li6PS5Cl with heat treatment, about 3 h for Li2ZrCl6 without). Milling beyond that
only costs mill time and risks contamination, so the useful outputs are the saturation level, the
time to reach 95 % of it, and how many hours each batch was milled beyond that.

The fit is σ(t) = σ_sat·(1 − exp(−t/τ)), least squares on σ itself (not on a linearised form),
because the measurement error is in σ and the plateau points carry the most information.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import OptimizeWarning, curve_fit

from assbtrack.domain.inputs import Inputs, ModelInputError
from materials.conductivity import FloatOrArray, checked_array, coefficient_of_determination

MIN_POINTS = 3
MIN_DISTINCT_TIMES = 2
T95_PER_TAU = 3.0  # 1 − e⁻³ = 0.950: three time constants reach 95 % of saturation
# τ is searched between these multiples of the shortest non-zero and the longest milling time. A τ
# pinned at the upper end means the data never bend over: there is no plateau to report.
TAU_LOWER_PER_SHORTEST_TIME = 1e-3
TAU_UPPER_PER_LONGEST_TIME = 10.0
_START_GRID_SIZE = 400


def saturation_curve_ms_per_cm(
    milling_time_h: npt.ArrayLike, sigma_sat_ms_per_cm: float, tau_h: float
) -> np.ndarray:
    # expm1 keeps precision for t ≪ τ, where 1 − exp(−t/τ) would cancel.
    return -sigma_sat_ms_per_cm * np.expm1(-np.asarray(milling_time_h, dtype=float) / tau_h)


@dataclass(frozen=True)
class MillingSaturationFit:
    sigma_sat_ms_per_cm: float
    tau_h: float
    r_squared: float

    @property
    def t95_h(self) -> float:
        return T95_PER_TAU * self.tau_h

    def conductivity_ms_per_cm(self, milling_time_h: npt.ArrayLike) -> FloatOrArray:
        sigma = saturation_curve_ms_per_cm(milling_time_h, self.sigma_sat_ms_per_cm, self.tau_h)
        return float(sigma) if sigma.ndim == 0 else sigma

    def excess_milling_h(self, milling_time_h: npt.ArrayLike) -> FloatOrArray:
        """Hours milled beyond t95: mill time that bought less than 5 % of the conductivity."""
        excess = np.maximum(0.0, np.asarray(milling_time_h, dtype=float) - self.t95_h)
        return float(excess) if excess.ndim == 0 else excess


def _cannot_fit(reason: str) -> ModelInputError:
    return ModelInputError("points", f"a saturation curve cannot be fitted: {reason}")


def _start_values(
    times_h: np.ndarray, conductivities: np.ndarray, tau_bounds_h: tuple[float, float]
) -> tuple[float, float]:
    """Best τ on a log grid, with σ_sat solved exactly for each τ (the model is linear in σ_sat).

    A fixed guess such as τ = median time sends curve_fit into the wrong valley when the plateau is
    reached long before or long after it; the grid costs a few hundred vectorised evaluations.
    """
    taus_h = np.geomspace(*tau_bounds_h, _START_GRID_SIZE)
    shapes = -np.expm1(-times_h[np.newaxis, :] / taus_h[:, np.newaxis])
    sigma_sats = (shapes @ conductivities) / np.sum(shapes**2, axis=1)
    squared_errors = np.sum((shapes * sigma_sats[:, np.newaxis] - conductivities) ** 2, axis=1)
    best = int(np.argmin(squared_errors))
    return float(sigma_sats[best]), float(taus_h[best])


def _check_points(times: np.ndarray, conductivities: np.ndarray) -> None:
    if times.ndim != 1 or times.shape != conductivities.shape:
        raise ModelInputError("points", "needs one conductivity per milling time")
    if times.size < MIN_POINTS:
        raise ModelInputError("points", f"needs at least {MIN_POINTS} batches, got {times.size}")
    if np.unique(times).size < MIN_DISTINCT_TIMES:
        raise ModelInputError("points", f"needs at least {MIN_DISTINCT_TIMES} different milling times")


def fit_milling_saturation(
    times_h: npt.ArrayLike, conductivities_ms_per_cm: npt.ArrayLike
) -> MillingSaturationFit:
    """Fit σ_sat and τ to batches of one composition and route.

    Raises ``ModelInputError`` naming ``points`` when the data cannot define a plateau: too few
    points, a single milling time, or conductivities that are still rising linearly at the end.
    """
    times = checked_array(times_h, "times_h", minimum=0.0)
    conductivities = checked_array(conductivities_ms_per_cm, "conductivities_ms_per_cm", greater_than=0.0)
    _check_points(times, conductivities)

    tau_bounds_h = (
        TAU_LOWER_PER_SHORTEST_TIME * float(times[times > 0.0].min()),
        TAU_UPPER_PER_LONGEST_TIME * float(times.max()),
    )
    sigma_start, tau_start = _start_values(times, conductivities, tau_bounds_h)
    # The start must lie strictly inside the bounds for the trust-region solver.
    tau_start = float(np.clip(tau_start, tau_bounds_h[0] * 1.01, tau_bounds_h[1] * 0.99))
    try:
        with warnings.catch_warnings():
            # An undetermined covariance is not our concern: we report the parameters, not their errors.
            warnings.simplefilter("ignore", OptimizeWarning)
            (sigma_sat, tau), _ = curve_fit(
                saturation_curve_ms_per_cm,
                times,
                conductivities,
                p0=(sigma_start, tau_start),
                bounds=((0.0, tau_bounds_h[0]), (np.inf, tau_bounds_h[1])),
                method="trf",
                maxfev=10_000,
            )
    except (RuntimeError, ValueError) as error:
        raise _cannot_fit(f"the least-squares fit did not converge ({error})") from None
    if not (np.isfinite(sigma_sat) and np.isfinite(tau) and sigma_sat > 0.0):
        raise _cannot_fit("the fit gave no finite, positive saturation conductivity")
    if tau >= tau_bounds_h[1] * (1.0 - 1e-3):
        raise _cannot_fit(
            "conductivity is still rising at the longest milling time; add batches milled longer"
        )
    predicted = saturation_curve_ms_per_cm(times, sigma_sat, tau)
    return MillingSaturationFit(
        sigma_sat_ms_per_cm=float(sigma_sat),
        tau_h=float(tau),
        r_squared=coefficient_of_determination(conductivities, predicted),
    )


def read_milling_saturation_inputs(data: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """Check the ``milling_saturation`` inputs without fitting: milling times (h) and conductivities (mS/cm)."""
    inputs = Inputs(data)
    points = inputs.objects("points")
    times_h: list[float] = []
    conductivities: list[float] = []
    for point in points:
        times_h.append(point.number("milling_time_h", minimum=0.0))
        conductivities.append(point.number("conductivity_ms_per_cm", greater_than=0.0))
        point.finish()
    inputs.finish()
    _check_points(np.asarray(times_h, dtype=float), np.asarray(conductivities, dtype=float))
    return times_h, conductivities


def run_milling_saturation(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``milling_saturation`` model of MODELS.md."""
    times_h, conductivities = read_milling_saturation_inputs(data)
    fit = fit_milling_saturation(times_h, conductivities)
    excess_h = fit.excess_milling_h(np.asarray(times_h))
    return {
        "sigma_sat_ms_per_cm": fit.sigma_sat_ms_per_cm,
        "tau_h": fit.tau_h,
        "t95_h": fit.t95_h,
        "r_squared": fit.r_squared,
        "points": [
            {"milling_time_h": time_h, "conductivity_ms_per_cm": sigma, "excess_milling_h": float(excess)}
            for time_h, sigma, excess in zip(times_h, conductivities, excess_h, strict=True)
        ],
    }
