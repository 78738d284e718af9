"""Milling saturation: recover known σ_sat and τ, report excess milling, refuse data without a plateau."""

from __future__ import annotations

import math

import numpy as np
import pytest

import materials.milling
from assbtrack.domain.inputs import ModelInputError
from materials.milling import fit_milling_saturation, run_milling_saturation


def saturation(times_h, sigma_sat_ms_per_cm, tau_h):
    return sigma_sat_ms_per_cm * (1.0 - np.exp(-np.asarray(times_h, dtype=float) / tau_h))


def milling_points(times_h, conductivities):
    return {
        "points": [
            {"milling_time_h": float(t), "conductivity_ms_per_cm": float(s)}
            for t, s in zip(times_h, conductivities, strict=True)
        ]
    }


def test_recovers_fast_saturation_like_li6ps5cl():
    times_h = [0.25, 0.5, 1.0, 2.0, 4.0, 6.0]
    result = run_milling_saturation(milling_points(times_h, saturation(times_h, 2.4, 0.33)))
    assert result["sigma_sat_ms_per_cm"] == pytest.approx(2.4, rel=1e-5)
    assert result["tau_h"] == pytest.approx(0.33, rel=1e-4)
    assert result["t95_h"] == pytest.approx(0.99, rel=1e-4)  # 3τ: saturated after about 1 h, as in the paper
    assert result["r_squared"] == pytest.approx(1.0, abs=1e-9)


def test_recovers_slow_saturation_like_li2zrcl6():
    times_h = [0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0]
    fit = fit_milling_saturation(times_h, saturation(times_h, 0.9, 1.0))
    assert fit.sigma_sat_ms_per_cm == pytest.approx(0.9, rel=1e-5)
    assert fit.tau_h == pytest.approx(1.0, rel=1e-4)
    assert fit.t95_h == pytest.approx(3.0, rel=1e-4)


def test_t95_reaches_95_percent_of_saturation():
    times_h = [0.5, 1.0, 2.0, 4.0, 8.0]
    fit = fit_milling_saturation(times_h, saturation(times_h, 1.5, 0.8))
    assert fit.t95_h == pytest.approx(3 * fit.tau_h)
    assert fit.conductivity_ms_per_cm(fit.t95_h) / fit.sigma_sat_ms_per_cm == pytest.approx(1 - math.exp(-3))
    assert fit.conductivity_ms_per_cm(fit.t95_h) / fit.sigma_sat_ms_per_cm > 0.95


def test_excess_milling_is_time_beyond_t95():
    # σ_sat = 2 mS/cm, τ = 0.5 h → t95 = 1.5 h; batches milled 4 h and 10 h wasted 2.5 h and 8.5 h.
    times_h = [0.5, 1.0, 4.0, 10.0]
    result = run_milling_saturation(milling_points(times_h, saturation(times_h, 2.0, 0.5)))
    excess = [point["excess_milling_h"] for point in result["points"]]
    assert excess == pytest.approx([0.0, 0.0, 2.5, 8.5], abs=1e-4)
    assert [point["milling_time_h"] for point in result["points"]] == times_h
    assert [point["conductivity_ms_per_cm"] for point in result["points"]] == pytest.approx(
        list(saturation(times_h, 2.0, 0.5))
    )


def test_noisy_batches_give_parameters_close_to_the_truth_and_a_consistent_r_squared():
    rng = np.random.default_rng(3)
    times_h = np.repeat([0.5, 1.0, 2.0, 3.0, 5.0, 8.0], 3)
    sigma = saturation(times_h, 1.8, 0.7) * (1 + 0.02 * rng.standard_normal(times_h.size))
    fit = fit_milling_saturation(times_h, sigma)
    assert fit.sigma_sat_ms_per_cm == pytest.approx(1.8, rel=0.03)
    assert fit.tau_h == pytest.approx(0.7, rel=0.15)
    # R² worked out here from the returned parameters.
    predicted = fit.sigma_sat_ms_per_cm * (1 - np.exp(-times_h / fit.tau_h))
    expected_r_squared = 1 - np.sum((sigma - predicted) ** 2) / np.sum((sigma - sigma.mean()) ** 2)
    assert fit.r_squared == pytest.approx(expected_r_squared, rel=1e-9)
    assert 0.9 < fit.r_squared < 1.0


def test_fit_does_not_depend_on_point_order():
    times_h = np.array([8.0, 0.5, 3.0, 1.0, 2.0])
    sigma = saturation(times_h, 3.0, 1.2) * np.array([1.01, 0.98, 1.0, 1.02, 0.99])
    forward = fit_milling_saturation(times_h, sigma)
    order = np.argsort(times_h)
    sorted_fit = fit_milling_saturation(times_h[order], sigma[order])
    assert forward.sigma_sat_ms_per_cm == pytest.approx(sorted_fit.sigma_sat_ms_per_cm, rel=1e-6)
    assert forward.tau_h == pytest.approx(sorted_fit.tau_h, rel=1e-5)


def test_plateau_reached_before_the_first_batch():
    # Every batch already saturated: σ_sat is their level and all milling past the shortest time is excess.
    result = run_milling_saturation(milling_points([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]))
    assert result["sigma_sat_ms_per_cm"] == pytest.approx(2.0, rel=1e-6)
    assert result["t95_h"] < 1.0
    assert result["points"][2]["excess_milling_h"] > 2.0


def test_a_batch_at_zero_time_is_accepted():
    times_h = [0.0, 1.0, 2.0, 4.0]
    sigma = [0.01, *saturation([1.0, 2.0, 4.0], 1.0, 0.5)]
    result = run_milling_saturation(milling_points(times_h, sigma))
    assert result["sigma_sat_ms_per_cm"] == pytest.approx(1.0, rel=0.02)


def test_still_rising_conductivity_cannot_be_fitted():
    with pytest.raises(ModelInputError) as error:
        run_milling_saturation(milling_points([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]))
    assert error.value.field == "points"
    assert "cannot be fitted" in error.value.reason


def test_a_solver_failure_is_reported_as_unfittable_points(monkeypatch):
    def failing_curve_fit(*args, **kwargs):
        raise RuntimeError("Optimal parameters not found: maxfev exceeded")

    monkeypatch.setattr(materials.milling, "curve_fit", failing_curve_fit)
    with pytest.raises(ModelInputError) as error:
        fit_milling_saturation([0.5, 1.0, 2.0], [1.0, 1.5, 1.8])
    assert error.value.field == "points"
    assert "cannot be fitted" in error.value.reason


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (milling_points([1.0, 2.0], [1.0, 1.5]), "points"),
        (milling_points([2.0, 2.0, 2.0], [1.0, 1.1, 0.9]), "points"),
        (milling_points([0.0, 0.0, 0.0], [1.0, 1.1, 0.9]), "points"),
        ({"points": "1h: 2 mS/cm"}, "points"),
        ({}, "points"),
        (milling_points([-1.0, 1.0, 2.0], [0.5, 1.0, 1.5]), "points[0].milling_time_h"),
        (milling_points([0.5, 1.0, 2.0], [0.5, 0.0, 1.5]), "points[1].conductivity_ms_per_cm"),
        (milling_points([0.5, 1.0, 2.0], [0.5, 1.0, -1.5]), "points[2].conductivity_ms_per_cm"),
        (milling_points([0.5, float("nan"), 2.0], [0.5, 1.0, 1.5]), "points[1].milling_time_h"),
        (
            {"points": [{"milling_time_h": True, "conductivity_ms_per_cm": 1.0}] * 3},
            "points[0].milling_time_h",
        ),
        (
            {"points": [{"milling_time_h": 1.0, "conductivity_ms_per_cm": 1.0, "speed_rpm": 500}] * 3},
            "points[0].speed_rpm",
        ),
        (milling_points([0.5, 1.0, 2.0], [0.5, 1.0, 1.5]) | {"composition": "Li6PS5Cl"}, "composition"),
    ],
)
def test_refuses_bad_input_naming_the_field(data, field):
    with pytest.raises(ModelInputError) as error:
        run_milling_saturation(data)
    assert error.value.field == field


def test_core_fit_refuses_mismatched_lengths_and_negative_times():
    with pytest.raises(ModelInputError) as error:
        fit_milling_saturation([0.5, 1.0, 2.0], [1.0, 1.5])
    assert error.value.field == "points"
    with pytest.raises(ModelInputError) as error:
        fit_milling_saturation([-0.5, 1.0, 2.0], [1.0, 1.5, 1.7])
    assert error.value.field == "times_h"
