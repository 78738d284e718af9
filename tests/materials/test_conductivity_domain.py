"""The conductivity and Arrhenius models: MODELS.md's check, physics worked by hand, and refused input."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from assbtrack.domain.inputs import ModelInputError
from materials.conductivity import (
    arrhenius_fit,
    conductivity_retention,
    ionic_conductivity_ms_per_cm,
    pellet_area_cm2,
    run_arrhenius,
    run_conductivity,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
K_B_EV_PER_K = 8.617333262e-5  # written out here so the test does not borrow the module's constant


def arrhenius_points(temperatures_c, conductivities):
    return {
        "points": [
            {"temperature_c": float(t), "conductivity_ms_per_cm": float(s)}
            for t, s in zip(temperatures_c, conductivities, strict=True)
        ]
    }


def sigma_from_arrhenius(temperatures_c, activation_energy_ev, prefactor_ms_k_per_cm):
    temperature_k = np.asarray(temperatures_c, dtype=float) + 273.15
    return (
        prefactor_ms_k_per_cm / temperature_k * np.exp(-activation_energy_ev / (K_B_EV_PER_K * temperature_k))
    )


# --- conductivity ------------------------------------------------------------------------------


def test_models_md_check_pellet_of_10_mm_at_40_ohm():
    result = run_conductivity({"thickness_mm": 1.0, "diameter_mm": 10.0, "resistance_ohm": 40.0})
    assert round(result["conductivity_ms_per_cm"], 2) == 3.18
    # By hand: 0.1 cm / (40 Ω · π·(0.5 cm)²) = 3.1831e-3 S/cm.
    assert result["conductivity_ms_per_cm"] == pytest.approx(1000 * 0.1 / (40 * math.pi * 0.25), rel=1e-12)


def test_conductivity_from_area_and_default_temperature():
    # 2 mm over 1 cm² at 20 Ω: 0.2 cm / 20 Ω·cm² = 0.01 S/cm = 10 mS/cm.
    result = run_conductivity({"thickness_mm": 2.0, "area_cm2": 1.0, "resistance_ohm": 20.0})
    assert result["conductivity_ms_per_cm"] == pytest.approx(10.0)
    assert result["temperature_c"] == 25.0
    assert result["area_cm2"] == 1.0


def test_conductivity_echoes_given_temperature_and_derived_area():
    result = run_conductivity(
        {
            "thickness_mm": 1.0,
            "diameter_mm": 13.0,
            "resistance_ohm": 10,
            "temperature_c": -20,
            "area_cm2": None,
        }
    )
    assert result["temperature_c"] == -20.0
    assert result["area_cm2"] == pytest.approx(math.pi * 1.3**2 / 4)


def test_pellet_area_and_conductivity_are_vectorised():
    areas = pellet_area_cm2(np.array([10.0, 20.0]))
    np.testing.assert_allclose(areas, [math.pi / 4, math.pi])
    # Doubling the resistance halves σ; doubling the thickness doubles it.
    sigma = ionic_conductivity_ms_per_cm(np.array([1.0, 1.0, 2.0]), 1.0, np.array([10.0, 20.0, 10.0]))
    np.testing.assert_allclose(sigma, [10.0, 5.0, 20.0])
    assert isinstance(ionic_conductivity_ms_per_cm(1.0, 1.0, 10.0), float)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"resistance_ohm": 0}, "resistance_ohm"),
        ({"resistance_ohm": -40}, "resistance_ohm"),
        ({"resistance_ohm": float("nan")}, "resistance_ohm"),
        ({"resistance_ohm": float("inf")}, "resistance_ohm"),
        ({"resistance_ohm": True}, "resistance_ohm"),
        ({"resistance_ohm": "40"}, "resistance_ohm"),
        ({"thickness_mm": 0.0}, "thickness_mm"),
        ({"thickness_mm": -1.0}, "thickness_mm"),
        ({"diameter_mm": 0.0}, "diameter_mm"),
        ({"diameter_mm": False}, "diameter_mm"),
        ({"temperature_c": -273.15}, "temperature_c"),
        ({"temperature_c": -300.0}, "temperature_c"),
        ({"thickness_um": 1000.0}, "thickness_um"),
        ({"area_cm2": 0.785}, "diameter_mm"),
    ],
)
def test_conductivity_refuses_bad_input_naming_the_field(changes, field):
    data = {"thickness_mm": 1.0, "diameter_mm": 10.0, "resistance_ohm": 40.0} | changes
    with pytest.raises(ModelInputError) as error:
        run_conductivity(data)
    assert error.value.field == field


def test_conductivity_needs_area_or_diameter():
    with pytest.raises(ModelInputError) as error:
        run_conductivity({"thickness_mm": 1.0, "resistance_ohm": 40.0})
    assert error.value.field == "area_cm2"


def test_conductivity_refuses_zero_and_negative_area():
    for area in (0.0, -1.0):
        with pytest.raises(ModelInputError) as error:
            run_conductivity({"thickness_mm": 1.0, "area_cm2": area, "resistance_ohm": 40.0})
        assert error.value.field == "area_cm2"


def test_conductivity_requires_a_json_object():
    with pytest.raises(ModelInputError):
        run_conductivity([1.0, 10.0, 40.0])


def test_core_conductivity_refuses_zero_resistance_and_nan():
    with pytest.raises(ModelInputError) as error:
        ionic_conductivity_ms_per_cm(1.0, 1.0, np.array([10.0, 0.0]))
    assert error.value.field == "resistance_ohm"
    with pytest.raises(ModelInputError) as error:
        ionic_conductivity_ms_per_cm(float("nan"), 1.0, 10.0)
    assert error.value.field == "thickness_mm"
    with pytest.raises(ModelInputError) as error:
        ionic_conductivity_ms_per_cm(1.0, [1.0, True], 10.0)
    assert error.value.field == "area_cm2"


# --- arrhenius ---------------------------------------------------------------------------------


def test_arrhenius_recovers_activation_energy_and_prefactor():
    temperatures_c = [20.0, 40.0, 60.0, 80.0, 100.0]
    sigma = sigma_from_arrhenius(temperatures_c, 0.30, 5.0e5)
    result = run_arrhenius(arrhenius_points(temperatures_c, sigma))
    assert result["activation_energy_ev"] == pytest.approx(0.30, rel=1e-9)
    assert result["prefactor"] == pytest.approx(5.0e5, rel=1e-8)
    assert result["r_squared"] == pytest.approx(1.0, abs=1e-12)
    # σ(25 °C) by hand from the same Ea and A.
    expected_25c = 5.0e5 / 298.15 * math.exp(-0.30 / (K_B_EV_PER_K * 298.15))
    assert result["conductivity_25c_ms_per_cm"] == pytest.approx(expected_25c, rel=1e-8)


def test_arrhenius_recovers_a_higher_barrier_regardless_of_point_order():
    temperatures_c = [80.0, -10.0, 30.0, 55.0]
    sigma = sigma_from_arrhenius(temperatures_c, 0.55, 2.0e7)
    fit = arrhenius_fit(temperatures_c, sigma)
    assert fit.activation_energy_ev == pytest.approx(0.55, rel=1e-9)
    assert fit.conductivity_ms_per_cm(80.0) == pytest.approx(sigma[0], rel=1e-9)


def test_arrhenius_on_noisy_data_agrees_with_an_independent_regression():
    rng = np.random.default_rng(7)
    temperatures_c = np.array([0.0, 20.0, 40.0, 60.0, 80.0, 100.0])
    sigma = sigma_from_arrhenius(temperatures_c, 0.40, 1.0e6) * np.exp(0.05 * rng.standard_normal(6))
    temperature_k = temperatures_c + 273.15
    reference = stats.linregress(1.0 / (K_B_EV_PER_K * temperature_k), np.log(sigma * temperature_k))

    fit = arrhenius_fit(temperatures_c, sigma)
    assert fit.activation_energy_ev == pytest.approx(-reference.slope, rel=1e-9)
    assert fit.prefactor_ms_k_per_cm == pytest.approx(math.exp(reference.intercept), rel=1e-8)
    assert fit.r_squared == pytest.approx(reference.rvalue**2, rel=1e-9)
    assert fit.activation_energy_ev == pytest.approx(0.40, abs=0.02)
    assert 0.9 < fit.r_squared < 1.0


def test_arrhenius_positive_barrier_when_conductivity_rises_with_temperature():
    result = run_arrhenius(arrhenius_points([25, 50, 75], [1.0, 2.0, 3.5]))
    assert result["activation_energy_ev"] > 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (arrhenius_points([25, 50], [1.0, 2.0]), "points"),
        (arrhenius_points([], []), "points"),
        (arrhenius_points([25, 25, 50], [1.0, 1.1, 2.0]), "points"),
        (arrhenius_points([40, 40, 40], [1.0, 1.0, 1.0]), "points"),
        ({"points": {"temperature_c": 25, "conductivity_ms_per_cm": 1}}, "points"),
        ({}, "points"),
        (arrhenius_points([25, 50, 75], [1.0, 0.0, 3.0]), "points[1].conductivity_ms_per_cm"),
        (arrhenius_points([25, 50, 75], [1.0, -2.0, 3.0]), "points[1].conductivity_ms_per_cm"),
        (arrhenius_points([25, 50, -280], [1.0, 2.0, 3.0]), "points[2].temperature_c"),
        (arrhenius_points([25, float("nan"), 75], [1.0, 2.0, 3.0]), "points[1].temperature_c"),
        (
            {"points": [{"temperature_c": 25}, {"temperature_c": 50}, {"temperature_c": 75}]},
            "points[0].conductivity_ms_per_cm",
        ),
        (
            {
                "points": arrhenius_points([25, 50, 75], [1, 2, 3])["points"][:2]
                + [{"temperature_c": 75, "conductivity_ms_per_cm": True}]
            },
            "points[2].conductivity_ms_per_cm",
        ),
        (
            {
                "points": arrhenius_points([25, 50, 75], [1, 2, 3])["points"][:2]
                + [{"temperature_c": 75, "conductivity_ms_per_cm": 3, "pressure_mpa": 100}]
            },
            "points[2].pressure_mpa",
        ),
        (arrhenius_points([25, 50, 75], [1, 2, 3]) | {"temperature_unit": "C"}, "temperature_unit"),
    ],
)
def test_arrhenius_refuses_bad_input_naming_the_field(data, field):
    with pytest.raises(ModelInputError) as error:
        run_arrhenius(data)
    assert error.value.field == field


def test_arrhenius_message_for_repeated_temperature_says_which():
    with pytest.raises(ModelInputError) as error:
        run_arrhenius(arrhenius_points([25, 25, 50], [1.0, 1.1, 2.0]))
    assert "25" in error.value.reason and "distinct" in error.value.reason


def test_core_arrhenius_fit_refuses_too_few_points_and_nan():
    with pytest.raises(ModelInputError) as error:
        arrhenius_fit([25.0, 50.0], [1.0, 2.0])
    assert error.value.field == "points"
    with pytest.raises(ModelInputError) as error:
        arrhenius_fit([25.0, 50.0, 75.0], [1.0, np.nan, 2.0])
    assert error.value.field == "conductivities_ms_per_cm"
    with pytest.raises(ModelInputError) as error:
        arrhenius_fit([25.0, 50.0, 75.0], [1.0, 2.0])
    assert error.value.field == "points"


# --- dry-room exposure -------------------------------------------------------------------------


def test_conductivity_retention_fraction_and_percent():
    retention = conductivity_retention(2.0, 1.5)
    assert retention.retention_fraction == pytest.approx(0.75)
    assert retention.retention_percent == pytest.approx(75.0)


def test_conductivity_retention_is_vectorised_and_allows_total_loss():
    retention = conductivity_retention(np.array([4.0, 2.0, 1.0]), np.array([1.0, 2.0, 0.0]))
    np.testing.assert_allclose(retention.retention_percent, [25.0, 100.0, 0.0])


@pytest.mark.parametrize(
    ("before", "after", "field"),
    [
        (0.0, 1.0, "before_ms_per_cm"),
        (-1.0, 1.0, "before_ms_per_cm"),
        (2.0, -0.1, "after_ms_per_cm"),
        (2.0, float("nan"), "after_ms_per_cm"),
    ],
)
def test_conductivity_retention_refuses_impossible_values(before, after, field):
    with pytest.raises(ModelInputError) as error:
        conductivity_retention(before, after)
    assert error.value.field == field


# --- purity ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["materials/conductivity.py", "materials/milling.py", "materials/plots.py"])
def test_materials_domain_module_does_not_import_django(path):
    tree = ast.parse((REPO_ROOT / path).read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name == "django" or name.startswith("django.")]


def test_materials_figures_do_not_load_pyplot():
    # pyplot keeps process-wide figure state, which a web server or a worker must not have.
    code = (
        "import sys, materials.conductivity, materials.milling, materials.plots; "
        "sys.exit('matplotlib.pyplot' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
