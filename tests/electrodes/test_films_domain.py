"""Film metrics by hand, the weight-fraction check, binder share, separator retention, calendering order."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assbtrack.domain.inputs import ModelInputError
from electrodes.films import (
    FilmComponent,
    binder_fraction,
    check_thickness_decreases,
    check_weight_fractions,
    film_metrics,
    separator_conductivity_retention,
    weight_fractions,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# 60 mg active (4.0 g/cm³, 200 mAh/g), 30 mg electrolyte (2.0 g/cm³), 10 mg PTFE (2.0 g/cm³) on 2 cm².
CATHODE = (
    FilmComponent(
        "NCM", mass_g=0.060, density_g_per_cm3=4.0, specific_capacity_mah_per_g=200.0, is_active=True
    ),
    FilmComponent("Li6PS5Cl", mass_g=0.030, density_g_per_cm3=2.0),
    FilmComponent("PTFE", mass_g=0.010, density_g_per_cm3=2.0),
)


def test_cathode_film_metrics_by_hand():
    # Loading 100 mg / 2 cm² = 50 mg/cm²; capacity 0.050 g/cm² · 0.6 · 200 mAh/g = 6 mAh/cm².
    # Σw/ρ = 0.6/4 + 0.3/2 + 0.1/2 = 0.35 cm³/g → ρ_th = 1/0.35 = 2.857 g/cm³.
    # 250 µm thick: ρ = 0.1 g / (2 cm² · 0.025 cm) = 2.0 g/cm³ → porosity = 1 − 2.0·0.35 = 0.30.
    metrics = film_metrics(CATHODE, area_cm2=2.0, thickness_um=250.0)
    assert metrics.mass_g == pytest.approx(0.1)
    assert metrics.weight_fractions == pytest.approx((0.6, 0.3, 0.1))
    assert metrics.areal_loading_mg_per_cm2 == pytest.approx(50.0)
    assert metrics.areal_capacity_mah_per_cm2 == pytest.approx(6.0)
    assert metrics.density_g_per_cm3 == pytest.approx(2.0)
    assert metrics.theoretical_density_g_per_cm3 == pytest.approx(1 / 0.35)
    assert metrics.porosity == pytest.approx(0.30)
    assert metrics.porosity_percent == pytest.approx(30.0)


def test_thinner_film_of_the_same_mass_is_less_porous():
    thick = film_metrics(CATHODE, area_cm2=2.0, thickness_um=250.0)
    thin = film_metrics(CATHODE, area_cm2=2.0, thickness_um=200.0)
    # 200 µm: ρ = 2.5 g/cm³ → porosity = 1 − 2.5·0.35 = 0.125.
    assert thin.porosity == pytest.approx(0.125)
    assert thin.porosity < thick.porosity
    assert thin.areal_loading_mg_per_cm2 == thick.areal_loading_mg_per_cm2


def test_separator_film_has_no_areal_capacity():
    separator = (
        FilmComponent("Li6PS5Cl", mass_g=0.0196, density_g_per_cm3=1.96),
        FilmComponent("PTFE", mass_g=0.0004, density_g_per_cm3=2.2),
    )
    # 20 mg on 10 cm² at 30 µm: 2 mg/cm², ρ = 0.02 / (10 · 0.003) = 0.667 g/cm³.
    metrics = film_metrics(separator, area_cm2=10.0, thickness_um=30.0)
    assert metrics.areal_capacity_mah_per_cm2 is None
    assert metrics.areal_loading_mg_per_cm2 == pytest.approx(2.0)
    assert metrics.density_g_per_cm3 == pytest.approx(0.02 / 0.03)
    assert metrics.theoretical_density_g_per_cm3 == pytest.approx(1 / (0.98 / 1.96 + 0.02 / 2.2))


def test_two_active_materials_add_their_capacities():
    anode = (
        FilmComponent(
            "graphite", mass_g=0.08, density_g_per_cm3=2.2, specific_capacity_mah_per_g=350, is_active=True
        ),
        FilmComponent(
            "silicon", mass_g=0.01, density_g_per_cm3=2.33, specific_capacity_mah_per_g=3000, is_active=True
        ),
        FilmComponent("PTFE", mass_g=0.01, density_g_per_cm3=2.2),
    )
    # 100 mg on 5 cm² = 20 mg/cm²; 0.020 g/cm² · (0.8·350 + 0.1·3000) mAh/g = 0.020 · 580 = 11.6 mAh/cm².
    metrics = film_metrics(anode, area_cm2=5.0, thickness_um=100.0)
    assert metrics.areal_capacity_mah_per_cm2 == pytest.approx(11.6)


def test_capacity_of_an_inactive_component_is_not_counted():
    components = (
        FilmComponent(
            "NCM", mass_g=0.5, density_g_per_cm3=4.0, specific_capacity_mah_per_g=200.0, is_active=True
        ),
        FilmComponent("carbon", mass_g=0.5, density_g_per_cm3=2.0, specific_capacity_mah_per_g=300.0),
    )
    metrics = film_metrics(components, area_cm2=10.0, thickness_um=500.0)
    assert metrics.areal_capacity_mah_per_cm2 == pytest.approx(0.1 * 0.5 * 200.0)


@pytest.mark.parametrize(
    ("index", "changes", "field"),
    [
        (0, {"specific_capacity_mah_per_g": None}, "components[0].specific_capacity_mah_per_g"),
        (0, {"specific_capacity_mah_per_g": -10.0}, "components[0].specific_capacity_mah_per_g"),
        (1, {"mass_g": 0.0}, "components[1].mass_g"),
        (1, {"mass_g": float("nan")}, "components[1].mass_g"),
        (2, {"mass_g": True}, "components[2].mass_g"),
        (2, {"density_g_per_cm3": -2.0}, "components[2].density_g_per_cm3"),
        (2, {"density_g_per_cm3": 0.0}, "components[2].density_g_per_cm3"),
    ],
)
def test_film_metrics_refuses_bad_components(index, changes, field):
    components = list(CATHODE)
    components[index] = dataclasses.replace(components[index], **changes)
    with pytest.raises(ModelInputError) as error:
        film_metrics(components, area_cm2=2.0, thickness_um=250.0)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("area_cm2", "thickness_um", "field"),
    [
        (0.0, 250.0, "area_cm2"),
        (-2.0, 250.0, "area_cm2"),
        (2.0, 0.0, "thickness_um"),
        (2.0, float("inf"), "thickness_um"),
    ],
)
def test_film_metrics_refuses_bad_geometry(area_cm2, thickness_um, field):
    with pytest.raises(ModelInputError) as error:
        film_metrics(CATHODE, area_cm2=area_cm2, thickness_um=thickness_um)
    assert error.value.field == field


def test_film_metrics_needs_components():
    with pytest.raises(ModelInputError) as error:
        film_metrics([], area_cm2=2.0, thickness_um=250.0)
    assert error.value.field == "components"


def test_weight_fractions_from_masses():
    np.testing.assert_allclose(weight_fractions([7.0, 2.0, 1.0]), [0.7, 0.2, 0.1])


def test_weight_fractions_must_sum_to_one_within_a_tenth_of_a_percent():
    check_weight_fractions([0.6, 0.3, 0.1])
    check_weight_fractions([0.6, 0.3, 0.1005])  # 100.05 %: inside the tolerance
    for fractions in ([0.6, 0.3, 0.095], [0.6, 0.3, 0.102], [0.5, 0.3]):
        with pytest.raises(ModelInputError) as error:
            check_weight_fractions(fractions)
        assert error.value.field == "components"
    with pytest.raises(ModelInputError) as error:
        check_weight_fractions([1.2, -0.2])
    assert error.value.field == "components"


def test_binder_fraction():
    assert binder_fraction(CATHODE, binder_names={"PTFE"}) == pytest.approx(0.1)
    assert binder_fraction(CATHODE, binder_names=["PTFE", "Li6PS5Cl"]) == pytest.approx(0.4)
    assert binder_fraction(CATHODE, binder_names=()) == 0.0
    with pytest.raises(ModelInputError) as error:
        binder_fraction(CATHODE, binder_names={"PVDF"})
    assert error.value.field == "binder_names"


def test_separator_conductivity_retention():
    retention = separator_conductivity_retention(1.2, 1.6)  # film, batch
    assert retention.retention_fraction == pytest.approx(0.75)
    assert retention.retention_percent == pytest.approx(75.0)
    with pytest.raises(ModelInputError) as error:
        separator_conductivity_retention(1.2, 0.0)
    assert error.value.field == "batch_conductivity_ms_per_cm"
    with pytest.raises(ModelInputError) as error:
        separator_conductivity_retention(-0.1, 1.6)
    assert error.value.field == "film_conductivity_ms_per_cm"


@pytest.mark.parametrize(
    ("thicknesses_um", "expected"),
    [
        ([300.0, 250.0, 200.0, 150.0], None),
        ([300.0, 300.0, 250.0], None),  # an unchanged pass is not an increase
        ([300.0, 250.0, 260.0, 200.0, 210.0], 2),  # the first offender, not the last
        ([100.0, 120.0], 1),
        ([80.0], None),
        ([], None),
    ],
)
def test_check_thickness_decreases(thicknesses_um, expected):
    assert check_thickness_decreases(thicknesses_um) == expected


def test_check_thickness_decreases_with_tolerance_and_bad_values():
    assert check_thickness_decreases([300.0, 300.5, 250.0], tolerance_um=1.0) is None
    assert check_thickness_decreases([300.0, 302.0, 250.0], tolerance_um=1.0) == 1
    with pytest.raises(ModelInputError) as error:
        check_thickness_decreases([300.0, 0.0])
    assert error.value.field == "thicknesses_um"
    with pytest.raises(ModelInputError) as error:
        check_thickness_decreases([300.0, float("nan")])
    assert error.value.field == "thicknesses_um"


@pytest.mark.parametrize("path", ["electrodes/films.py", "electrodes/plots.py"])
def test_electrodes_domain_module_does_not_import_django(path):
    tree = ast.parse((REPO_ROOT / path).read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name == "django" or name.startswith("django.")]


def test_electrodes_figures_do_not_load_pyplot():
    # pyplot keeps process-wide figure state, which a web server or a worker must not have.
    code = "import sys, electrodes.films, electrodes.plots; sys.exit('matplotlib.pyplot' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
