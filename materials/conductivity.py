"""Ionic conductivity of solid electrolytes: from impedance, across temperatures, after dry-room exposure.

A conductivity is only comparable between batches when it is computed the same way every time:
from the pellet's own thickness and area and the bulk resistance read off the impedance spectrum,
σ = L / (R·A). Several temperatures give the activation energy, which tells a real change of the
electrolyte apart from a pellet that was simply measured on a warmer day. Dry-room exposure is
judged by the conductivity kept afterwards, not by the absolute value, because pellets differ.

The core functions work on floats and numpy arrays; ``run_conductivity`` and ``run_arrhenius`` are
the JSON contract of MODELS.md and report bad input as ``ModelInputError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from assbtrack.domain.inputs import Inputs, ModelInputError

BOLTZMANN_EV_PER_K = 8.617333262e-5  # CODATA 2018, exact in the 2019 SI
ZERO_CELSIUS_K = 273.15
REFERENCE_TEMPERATURE_C = 25.0
MIN_ARRHENIUS_POINTS = 3

FloatOrArray = float | npt.NDArray[np.float64]


def _contains_bool(values: Any) -> bool:
    if isinstance(values, (bool, np.bool_)):
        return True
    if isinstance(values, (list, tuple)):
        return any(_contains_bool(item) for item in values)
    if isinstance(values, np.ndarray):
        return values.dtype == np.bool_ or (values.dtype == object and _contains_bool(values.tolist()))
    return False


def checked_array(
    values: npt.ArrayLike, field: str, *, minimum: float | None = None, greater_than: float | None = None
) -> np.ndarray:
    """Refuse NaN, infinities, booleans and out-of-range values up front: a NaN would otherwise flow
    silently into a stored result, and numpy would quietly turn ``True`` into a measurement of 1."""
    if _contains_bool(values):
        raise ModelInputError(field, "must be numbers, not true/false")
    raw = np.asarray(values)
    if not (np.issubdtype(raw.dtype, np.number) or raw.dtype == object):
        raise ModelInputError(field, "must be numbers")
    try:
        array = raw.astype(float)
    except (TypeError, ValueError):
        raise ModelInputError(field, "must be numbers") from None
    if not np.all(np.isfinite(array)):
        raise ModelInputError(field, "must be finite numbers")
    if minimum is not None and np.any(array < minimum):
        raise ModelInputError(field, f"must be at least {minimum:g}")
    if greater_than is not None and np.any(array <= greater_than):
        raise ModelInputError(field, f"must be greater than {greater_than:g}")
    return array


def _scalar_or_array(array: np.ndarray) -> FloatOrArray:
    return float(array) if array.ndim == 0 else array


def pellet_area_cm2(diameter_mm: npt.ArrayLike) -> FloatOrArray:
    """Area of a round pellet; the press die's diameter is what technicians know, not the area."""
    diameter_cm = checked_array(diameter_mm, "diameter_mm", greater_than=0.0) / 10.0
    return _scalar_or_array(np.pi * diameter_cm**2 / 4.0)


def ionic_conductivity_ms_per_cm(
    thickness_mm: npt.ArrayLike, area_cm2: npt.ArrayLike, resistance_ohm: npt.ArrayLike
) -> FloatOrArray:
    """σ = L / (R·A), in mS/cm because that is the unit every solid-electrolyte paper reports."""
    thickness_cm = checked_array(thickness_mm, "thickness_mm", greater_than=0.0) / 10.0
    area = checked_array(area_cm2, "area_cm2", greater_than=0.0)
    resistance = checked_array(resistance_ohm, "resistance_ohm", greater_than=0.0)
    conductivity_s_per_cm = thickness_cm / (resistance * area)
    return _scalar_or_array(conductivity_s_per_cm * 1000.0)


def coefficient_of_determination(observed: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """R² of a fit. Data that do not vary at all are explained perfectly by a fit that reproduces them,
    and not at all otherwise, instead of dividing by zero."""
    observed_array = np.asarray(observed, dtype=float)
    predicted_array = np.asarray(predicted, dtype=float)
    total_sum = float(np.sum((observed_array - observed_array.mean()) ** 2))
    if total_sum == 0.0:
        return 1.0 if np.allclose(predicted_array, observed_array) else 0.0
    return 1.0 - float(np.sum((observed_array - predicted_array) ** 2)) / total_sum


@dataclass(frozen=True)
class ArrheniusFit:
    """σ(T) = (A/T)·exp(−Ea/(k_B·T)); ``prefactor_ms_k_per_cm`` is A in mS·K/cm."""

    activation_energy_ev: float
    prefactor_ms_k_per_cm: float
    r_squared: float

    def conductivity_ms_per_cm(self, temperature_c: npt.ArrayLike) -> FloatOrArray:
        temperature_k = np.asarray(temperature_c, dtype=float) + ZERO_CELSIUS_K
        sigma = (
            self.prefactor_ms_k_per_cm
            / temperature_k
            * np.exp(-self.activation_energy_ev / (BOLTZMANN_EV_PER_K * temperature_k))
        )
        return _scalar_or_array(sigma)

    @property
    def conductivity_25c_ms_per_cm(self) -> float:
        return float(self.conductivity_ms_per_cm(REFERENCE_TEMPERATURE_C))


def _check_arrhenius_points(temperatures_c: np.ndarray, conductivities: np.ndarray, field: str) -> None:
    """One slope from two points has no check on it, and repeated temperatures add no leverage on Ea:
    the contract asks for three distinct temperatures so that R² means something."""
    if temperatures_c.ndim != 1 or temperatures_c.shape != conductivities.shape:
        raise ModelInputError(field, "needs one conductivity per temperature")
    if temperatures_c.size < MIN_ARRHENIUS_POINTS:
        raise ModelInputError(
            field,
            f"needs at least {MIN_ARRHENIUS_POINTS} temperatures for an Arrhenius fit, "
            f"got {temperatures_c.size}",
        )
    unique, counts = np.unique(temperatures_c, return_counts=True)
    if unique.size != temperatures_c.size:
        repeated = ", ".join(f"{value:g} °C" for value in unique[counts > 1])
        raise ModelInputError(
            field, f"temperatures must be distinct ({repeated} repeated); average repeat measurements first"
        )


def arrhenius_fit(temperatures_c: npt.ArrayLike, conductivities_ms_per_cm: npt.ArrayLike) -> ArrheniusFit:
    """Least-squares fit of ln(σT) = ln A − Ea/(k_B·T).

    The σT form (not ln σ) is the one for ion hopping, where the prefactor carries 1/T; fitting the
    linearised form is what the literature does, so our Ea are comparable with published ones.
    """
    temperatures = checked_array(temperatures_c, "temperatures_c", greater_than=-ZERO_CELSIUS_K)
    conductivities = checked_array(conductivities_ms_per_cm, "conductivities_ms_per_cm", greater_than=0.0)
    _check_arrhenius_points(temperatures, conductivities, "points")
    temperature_k = temperatures + ZERO_CELSIUS_K
    inverse_thermal_energy_per_ev = 1.0 / (BOLTZMANN_EV_PER_K * temperature_k)
    log_sigma_t = np.log(conductivities * temperature_k)
    design = np.column_stack([np.ones_like(inverse_thermal_energy_per_ev), inverse_thermal_energy_per_ev])
    (log_prefactor, slope), *_ = np.linalg.lstsq(design, log_sigma_t, rcond=None)
    return ArrheniusFit(
        activation_energy_ev=float(-slope),
        prefactor_ms_k_per_cm=float(np.exp(log_prefactor)),
        r_squared=coefficient_of_determination(log_sigma_t, design @ np.array([log_prefactor, slope])),
    )


@dataclass(frozen=True)
class ConductivityRetention:
    retention_fraction: float
    retention_percent: float


def conductivity_retention(
    before_ms_per_cm: npt.ArrayLike, after_ms_per_cm: npt.ArrayLike
) -> ConductivityRetention:
    """Share of the conductivity kept after dry-room exposure; pellets differ, so the ratio compares."""
    before = checked_array(before_ms_per_cm, "before_ms_per_cm", greater_than=0.0)
    after = checked_array(after_ms_per_cm, "after_ms_per_cm", minimum=0.0)
    fraction = after / before
    return ConductivityRetention(
        retention_fraction=_scalar_or_array(fraction), retention_percent=_scalar_or_array(fraction * 100.0)
    )


def read_conductivity_inputs(data: Mapping[str, Any]) -> dict[str, float]:
    """Check the ``conductivity`` inputs without computing: thickness, area, resistance and temperature."""
    inputs = Inputs(data)
    thickness_mm = inputs.number("thickness_mm", greater_than=0.0)
    resistance_ohm = inputs.number("resistance_ohm", greater_than=0.0)
    temperature_c = inputs.number(
        "temperature_c", default=REFERENCE_TEMPERATURE_C, greater_than=-ZERO_CELSIUS_K
    )
    has_area, has_diameter = inputs.has("area_cm2"), inputs.has("diameter_mm")
    if has_area and has_diameter:
        raise ModelInputError("diameter_mm", "give either area_cm2 or diameter_mm, not both")
    if has_area:
        area_cm2 = inputs.number("area_cm2", greater_than=0.0)
    elif has_diameter:
        area_cm2 = pellet_area_cm2(inputs.number("diameter_mm", greater_than=0.0))
    else:
        raise ModelInputError("area_cm2", "is required (or give diameter_mm for a round pellet)")
    # Read both so that an explicit null for the unused one is not reported as an unknown key.
    inputs.raw("area_cm2", None)
    inputs.raw("diameter_mm", None)
    inputs.finish()
    return {"thickness_mm": thickness_mm, "area_cm2": area_cm2, "resistance_ohm": resistance_ohm,
            "temperature_c": temperature_c}


def run_conductivity(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``conductivity`` model of MODELS.md: one impedance measurement → σ."""
    checked = read_conductivity_inputs(data)
    return {
        "conductivity_ms_per_cm": ionic_conductivity_ms_per_cm(
            checked["thickness_mm"], checked["area_cm2"], checked["resistance_ohm"]
        ),
        "temperature_c": checked["temperature_c"],
        "area_cm2": checked["area_cm2"],
    }


def read_arrhenius_inputs(data: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """Check the ``arrhenius`` inputs without fitting: temperatures (°C) and conductivities (mS/cm)."""
    inputs = Inputs(data)
    points = inputs.objects("points")
    temperatures_c: list[float] = []
    conductivities: list[float] = []
    for point in points:
        temperatures_c.append(point.number("temperature_c", greater_than=-ZERO_CELSIUS_K))
        conductivities.append(point.number("conductivity_ms_per_cm", greater_than=0.0))
        point.finish()
    inputs.finish()
    _check_arrhenius_points(np.asarray(temperatures_c, dtype=float), np.asarray(conductivities, dtype=float), "points")
    return temperatures_c, conductivities


def run_arrhenius(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``arrhenius`` model of MODELS.md: conductivities at several temperatures → Ea."""
    temperatures_c, conductivities = read_arrhenius_inputs(data)
    fit = arrhenius_fit(temperatures_c, conductivities)
    return {
        "activation_energy_ev": fit.activation_energy_ev,
        "prefactor": fit.prefactor_ms_k_per_cm,
        "r_squared": fit.r_squared,
        "conductivity_25c_ms_per_cm": fit.conductivity_25c_ms_per_cm,
    }
