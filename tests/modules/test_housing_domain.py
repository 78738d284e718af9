"""Cell-to-module efficiency (modules/housing.py) against Roark's table, hand arithmetic and Figure 5."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest

from assbtrack.domain.inputs import ModelInputError
from modules import housing
from modules.housing import (
    ModuleDesign,
    module_efficiency,
    module_efficiency_sweep,
    plate_deflection_mm,
    plate_stress_mpa,
    required_plate_thickness_mm,
    roark_coefficients,
    run_module_efficiency,
    run_module_efficiency_sweep,
)

# The paper's Figure 5 cells: 400 Wh/kg, 1000 Wh/L, 300 × 100 mm.
FIGURE5_CELLS = {
    "cell_specific_energy_wh_per_kg": 400.0,
    "cell_energy_density_wh_per_l": 1000.0,
    "cell_length_mm": 300.0,
    "cell_width_mm": 100.0,
}
LI_ION_BY_MASS = 0.82


def figure5_sweep(**overrides):
    arguments = {**FIGURE5_CELLS, **overrides}
    return module_efficiency_sweep(**arguments)


# --- Roark Table 11.4 case 1a ----------------------------------------------------------------------


def test_square_plate_check_from_models_md():
    # a = b = 1 m, t = 20 mm, q = 0.1 MPa, E = 200 GPa → y = 2.775 mm, σ = 71.85 MPa.
    assert plate_deflection_mm(0.1, 1000.0, 1000.0, 20.0, 200.0) == pytest.approx(2.775, rel=1e-9)
    assert plate_stress_mpa(0.1, 1000.0, 1000.0, 20.0) == pytest.approx(71.85, rel=1e-9)


@pytest.mark.parametrize(
    ("aspect_ratio", "alpha", "beta"),
    [(1.0, 0.0444, 0.2874), (1.6, 0.0906, 0.5172), (3.0, 0.1335, 0.7134), (5.0, 0.1417, 0.7476)],
)
def test_table_columns_are_returned_exactly(aspect_ratio, alpha, beta):
    assert roark_coefficients(aspect_ratio) == pytest.approx((alpha, beta), abs=1e-12)


@pytest.mark.parametrize(
    ("aspect_ratio", "alpha", "beta"),
    [
        # halfway between the 1.4 and 1.6 columns
        (1.5, 0.0770 + 0.5 * (0.0906 - 0.0770), 0.4530 + 0.5 * (0.5172 - 0.4530)),
        # a quarter of the way from 1.0 to 1.2
        (1.05, 0.0444 + 0.25 * (0.0616 - 0.0444), 0.2874 + 0.25 * (0.3762 - 0.2874)),
        # halfway between the 2 and 3 columns, where the table's spacing changes
        (2.5, (0.1110 + 0.1335) / 2, (0.6102 + 0.7134) / 2),
        # 40 % of the way from 3 to 4
        (3.4, 0.1335 + 0.4 * (0.1400 - 0.1335), 0.7134 + 0.4 * (0.7410 - 0.7134)),
    ],
)
def test_linear_in_aspect_ratio_between_columns(aspect_ratio, alpha, beta):
    assert roark_coefficients(aspect_ratio) == pytest.approx((alpha, beta), abs=1e-12)


@pytest.mark.parametrize(
    ("aspect_ratio", "alpha", "beta"),
    [
        # b/a = 0.1 is halfway between 0.2 (a/b = 5) and 0 (the strip)
        (10.0, (0.1417 + 0.1421) / 2, (0.7476 + 0.7500) / 2),
        # b/a = 0.125: 62.5 % of the way from the strip towards the a/b = 5 column
        (8.0, 0.1421 + 0.625 * (0.1417 - 0.1421), 0.7500 + 0.625 * (0.7476 - 0.7500)),
        (math.inf, 0.1421, 0.7500),
    ],
)
def test_tail_beyond_five_is_linear_in_inverse_ratio(aspect_ratio, alpha, beta):
    assert roark_coefficients(aspect_ratio) == pytest.approx((alpha, beta), abs=1e-12)


def test_tail_is_not_linear_in_aspect_ratio():
    # Linear in a/b from 5 towards "∞" is undefined; linear in b/a puts a/b = 7.5 at b/a = 2/15, i.e.
    # two thirds of the way from the strip to the 5 column, not halfway.
    alpha, _ = roark_coefficients(7.5)
    assert alpha == pytest.approx(0.1421 + (2 / 3) * (0.1417 - 0.1421), abs=1e-12)


def test_aspect_ratio_below_one_is_the_swapped_plate():
    assert roark_coefficients(0.5) == roark_coefficients(2.0)
    assert roark_coefficients(1 / 3.4) == pytest.approx(roark_coefficients(3.4), abs=1e-12)
    assert plate_deflection_mm(1.0, 100.0, 300.0, 8.0, 200.0) == plate_deflection_mm(
        1.0, 300.0, 100.0, 8.0, 200.0
    )
    assert plate_stress_mpa(1.0, 100.0, 300.0, 8.0) == plate_stress_mpa(1.0, 300.0, 100.0, 8.0)


def test_roark_coefficients_are_vectorised():
    ratios = np.array([[0.5, 1.0, 1.5], [2.5, 10.0, np.inf]])
    alpha, beta = roark_coefficients(ratios)
    assert alpha.shape == beta.shape == ratios.shape
    for index in np.ndindex(ratios.shape):
        assert (alpha[index], beta[index]) == roark_coefficients(float(ratios[index]))


def test_roark_coefficients_refuse_non_positive_ratio():
    with pytest.raises(ValueError):
        roark_coefficients(0.0)
    with pytest.raises(ValueError):
        roark_coefficients(np.array([1.0, -2.0]))


def test_required_thickness_from_deflection_limit():
    # 300 × 100 mm plate (α = 0.1335), q = 1 MPa, E = 200 GPa = 200 000 MPa, y ≤ b/500.
    expected_mm = (0.1335 * 1.0 * 100.0**3 * 500 / 200_000.0) ** (1 / 3)
    thickness_mm = required_plate_thickness_mm(1.0, 300.0, 100.0, 200.0, 500.0)
    assert thickness_mm == pytest.approx(expected_mm, rel=1e-12)
    # and that plate deflects exactly b/500 = 0.2 mm
    assert plate_deflection_mm(1.0, 300.0, 100.0, thickness_mm, 200.0) == pytest.approx(0.2, rel=1e-12)


def test_required_thickness_with_allowable_stress():
    # β = 0.7134; σ_allow = 50 MPa needs t = √(0.7134·1·100²/50) ≈ 11.9 mm, thicker than stiffness needs.
    stress_governed_mm = math.sqrt(0.7134 * 1.0 * 100.0**2 / 50.0)
    stiffness_mm = (0.1335 * 100.0**3 * 500 / 200_000.0) ** (1 / 3)
    assert stress_governed_mm > stiffness_mm
    assert required_plate_thickness_mm(1.0, 300.0, 100.0, 200.0, 500.0, 50.0) == pytest.approx(
        stress_governed_mm
    )
    # a generous allowable stress leaves the stiffness answer alone
    assert required_plate_thickness_mm(1.0, 300.0, 100.0, 200.0, 500.0, 5000.0) == pytest.approx(stiffness_mm)


# --- one module, by hand ---------------------------------------------------------------------------


def test_module_efficiency_by_hand():
    design = ModuleDesign(system_energy_kwh=10.0, stack_pressure_mpa=1.0, **FIGURE5_CELLS)
    result = module_efficiency(design)

    cell_mass_kg = 10_000 / 400  # 25 kg
    cell_volume_l = 10_000 / 1000  # 10 L
    stack_height_mm = cell_volume_l * 1e6 / (300 * 100)  # 333.3 mm
    thickness_mm = (0.1335 * 1.0 * 100.0**3 * 500 / 200_000.0) ** (1 / 3)
    plate_volume_mm3 = 2 * 300 * 100 * thickness_mm
    plate_mass_kg = plate_volume_mm3 * 1e-9 * 7850
    rod_section_mm2 = 1.0 * 300 * 100 / 400  # 75 mm²
    rod_volume_mm3 = rod_section_mm2 * (stack_height_mm + 2 * thickness_mm)
    rod_mass_kg = rod_volume_mm3 * 1e-9 * 7850

    assert result.cell_mass_kg == pytest.approx(25.0)
    assert result.cell_volume_l == pytest.approx(10.0)
    assert result.stack_height_mm == pytest.approx(stack_height_mm)
    assert result.plate_thickness_mm == pytest.approx(thickness_mm)
    assert result.plate_max_stress_mpa == pytest.approx(0.7134 * 1.0 * 100.0**2 / thickness_mm**2)
    assert result.plate_mass_kg == pytest.approx(plate_mass_kg)
    assert result.plate_volume_l == pytest.approx(plate_volume_mm3 / 1e6)
    assert result.tie_rod_mass_kg == pytest.approx(rod_mass_kg)
    assert result.tie_rod_volume_l == pytest.approx(rod_volume_mm3 / 1e6)
    assert result.gravimetric_efficiency == pytest.approx(
        cell_mass_kg / (cell_mass_kg + plate_mass_kg + rod_mass_kg)
    )
    assert result.volumetric_efficiency == pytest.approx(
        cell_volume_l / (cell_volume_l + (plate_volume_mm3 + rod_volume_mm3) / 1e6)
    )


def test_without_tie_rods_only_plates_count():
    with_rods = module_efficiency(
        ModuleDesign(system_energy_kwh=10.0, stack_pressure_mpa=5.0, **FIGURE5_CELLS)
    )
    without = module_efficiency(
        ModuleDesign(
            system_energy_kwh=10.0, stack_pressure_mpa=5.0, tie_rod_allowable_stress_mpa=None, **FIGURE5_CELLS
        )
    )
    assert without.tie_rod_mass_kg == 0.0 and without.tie_rod_volume_l == 0.0
    assert with_rods.tie_rod_mass_kg > 0
    assert without.gravimetric_efficiency == pytest.approx(
        without.cell_mass_kg / (without.cell_mass_kg + without.plate_mass_kg)
    )
    assert without.gravimetric_efficiency > with_rods.gravimetric_efficiency


def test_plate_count_scales_plate_mass():
    two = module_efficiency(ModuleDesign(system_energy_kwh=10.0, stack_pressure_mpa=5.0, **FIGURE5_CELLS))
    three = module_efficiency(
        ModuleDesign(system_energy_kwh=10.0, stack_pressure_mpa=5.0, plate_count=3, **FIGURE5_CELLS)
    )
    assert three.plate_mass_kg == pytest.approx(1.5 * two.plate_mass_kg)
    assert three.tie_rod_mass_kg > two.tie_rod_mass_kg  # rods span one more plate


def test_cell_format_order_does_not_matter():
    one = module_efficiency(ModuleDesign(system_energy_kwh=10.0, stack_pressure_mpa=5.0, **FIGURE5_CELLS))
    swapped = module_efficiency(
        ModuleDesign(
            system_energy_kwh=10.0,
            stack_pressure_mpa=5.0,
            **{**FIGURE5_CELLS, "cell_length_mm": 100.0, "cell_width_mm": 300.0},
        )
    )
    assert swapped == one


# --- the sweep -------------------------------------------------------------------------------------


def test_sweep_defaults():
    sweep = figure5_sweep()
    assert sweep.system_sizes_kwh.tolist() == [1.0, 10.0, 20.0]
    assert sweep.stack_pressures_mpa.size == 50
    assert sweep.stack_pressures_mpa[0] == pytest.approx(1.0)
    assert sweep.stack_pressures_mpa[-1] == pytest.approx(100.0)
    # log-spaced: a constant ratio between neighbours, 100^(1/49)
    assert np.diff(np.log(sweep.stack_pressures_mpa)) == pytest.approx(np.full(49, math.log(100) / 49))
    assert sweep.gravimetric_efficiency.shape == (3, 50)


def test_sweep_equals_scalar_model_at_every_point():
    pressures_mpa = [1.0, 3.0, 17.0, 100.0]
    sizes_kwh = [1.0, 7.5, 20.0]
    sweep = figure5_sweep(
        stack_pressures_mpa=pressures_mpa,
        system_sizes_kwh=sizes_kwh,
        plate_allowable_stress_mpa=120.0,
        plate_count=3,
    )
    for row, size_kwh in enumerate(sizes_kwh):
        for column, pressure_mpa in enumerate(pressures_mpa):
            single = module_efficiency(
                ModuleDesign(
                    system_energy_kwh=size_kwh,
                    stack_pressure_mpa=pressure_mpa,
                    plate_allowable_stress_mpa=120.0,
                    plate_count=3,
                    **FIGURE5_CELLS,
                )
            )
            for name in housing.ModuleEfficiencyResult.__dataclass_fields__:
                assert getattr(sweep, name)[row, column] == pytest.approx(getattr(single, name), rel=1e-12), (
                    name
                )


def test_sweep_json_matches_scalar_json():
    base = {**FIGURE5_CELLS, "tie_rod_allowable_stress_mpa": None}
    curves = run_module_efficiency_sweep(
        {**base, "stack_pressures_mpa": [2.0, 40.0], "system_sizes_kwh": [5.0]}
    )["curves"]
    assert len(curves) == 1 and curves[0]["system_energy_kwh"] == 5.0
    assert curves[0]["stack_pressure_mpa"] == [2.0, 40.0]
    for index, pressure_mpa in enumerate([2.0, 40.0]):
        single = run_module_efficiency({**base, "system_energy_kwh": 5.0, "stack_pressure_mpa": pressure_mpa})
        assert curves[0]["gravimetric_efficiency"][index] == pytest.approx(single["gravimetric_efficiency"])
        assert curves[0]["volumetric_efficiency"][index] == pytest.approx(single["volumetric_efficiency"])


# --- the paper's Figure 5 statements ---------------------------------------------------------------


def test_figure5_one_kwh_is_far_below_li_ion_by_mass_at_every_pressure():
    sweep = figure5_sweep()
    one_kwh = sweep.gravimetric_efficiency[0]
    # "far below": at least 20 percentage points under 82 % even at the lowest pressure
    assert np.all(one_kwh < LI_ION_BY_MASS - 0.20)


@pytest.mark.parametrize("size_kwh", [10.0, 20.0])
@pytest.mark.parametrize("pressure_mpa", [1.0, 1.5, 2.0])
def test_figure5_ten_and_twenty_kwh_beat_li_ion_by_mass_at_low_pressure(size_kwh, pressure_mpa):
    result = run_module_efficiency(
        {**FIGURE5_CELLS, "system_energy_kwh": size_kwh, "stack_pressure_mpa": pressure_mpa}
    )
    assert result["gravimetric_efficiency"] > LI_ION_BY_MASS


def test_figure5_efficiency_by_mass_falls_faster_with_pressure_than_by_volume():
    sweep = figure5_sweep()
    for row in range(sweep.system_sizes_kwh.size):
        by_mass = sweep.gravimetric_efficiency[row]
        by_volume = sweep.volumetric_efficiency[row]
        # both fall with pressure...
        assert np.all(np.diff(by_mass) < 0) and np.all(np.diff(by_volume) < 0)
        # ...and by mass the relative (logarithmic) fall is steeper at every step
        assert np.all(np.diff(np.log(by_mass)) < np.diff(np.log(by_volume)))
    # For the 10 and 20 kWh panels the fall over 1 → 100 MPa is larger by mass in percentage points too.
    for row in (1, 2):
        mass_drop = sweep.gravimetric_efficiency[row, 0] - sweep.gravimetric_efficiency[row, -1]
        volume_drop = sweep.volumetric_efficiency[row, 0] - sweep.volumetric_efficiency[row, -1]
        assert mass_drop > volume_drop


# --- JSON contract ---------------------------------------------------------------------------------

OUTPUT_KEYS = {
    "cell_mass_kg",
    "cell_volume_l",
    "stack_height_mm",
    "plate_thickness_mm",
    "plate_max_stress_mpa",
    "plate_mass_kg",
    "plate_volume_l",
    "tie_rod_mass_kg",
    "tie_rod_volume_l",
    "gravimetric_efficiency",
    "volumetric_efficiency",
}


def test_run_module_efficiency_output_keys_and_defaults():
    minimal = {**FIGURE5_CELLS, "system_energy_kwh": 10.0, "stack_pressure_mpa": 4.0}
    result = run_module_efficiency(minimal)
    assert set(result) == OUTPUT_KEYS
    json.dumps(result)  # plain JSON, no numpy scalars left
    explicit = {
        **minimal,
        "plate_modulus_gpa": 200,
        "plate_density_kg_per_m3": 7850,
        "deflection_ratio": 500,
        "plate_allowable_stress_mpa": None,
        "tie_rod_allowable_stress_mpa": 400,
        "tie_rod_density_kg_per_m3": 7850,
        "plate_count": 2,
    }
    assert run_module_efficiency(explicit) == result
    # and the defaults are really in use: a change in any of them changes the answer
    assert run_module_efficiency({**minimal, "plate_modulus_gpa": 70}) != result
    assert run_module_efficiency({**minimal, "tie_rod_allowable_stress_mpa": None})["tie_rod_mass_kg"] == 0.0


def test_run_sweep_output_shape():
    result = run_module_efficiency_sweep(dict(FIGURE5_CELLS))
    assert list(result) == ["curves"]
    assert [curve["system_energy_kwh"] for curve in result["curves"]] == [1.0, 10.0, 20.0]
    for curve in result["curves"]:
        assert set(curve) == {
            "system_energy_kwh",
            "stack_pressure_mpa",
            "gravimetric_efficiency",
            "volumetric_efficiency",
        }
        assert len(curve["stack_pressure_mpa"]) == len(curve["gravimetric_efficiency"]) == 50
    json.dumps(result)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stack_presure_mpa": 3.0}, "stack_presure_mpa"),  # misspelt: unknown, not ignored
        ({"system_energy_kwh": -1.0}, "system_energy_kwh"),
        ({"system_energy_kwh": "ten"}, "system_energy_kwh"),
        ({"cell_width_mm": 0}, "cell_width_mm"),
        ({"cell_specific_energy_wh_per_kg": float("nan")}, "cell_specific_energy_wh_per_kg"),
        ({"plate_count": 0}, "plate_count"),
        ({"plate_count": 2.5}, "plate_count"),
        ({"deflection_ratio": -500}, "deflection_ratio"),
        ({"plate_allowable_stress_mpa": 0}, "plate_allowable_stress_mpa"),
        ({"tie_rod_allowable_stress_mpa": "steel"}, "tie_rod_allowable_stress_mpa"),
        ({"plate_density_kg_per_m3": True}, "plate_density_kg_per_m3"),
    ],
)
def test_bad_or_unknown_keys_name_the_field(change, field):
    data = {**FIGURE5_CELLS, "system_energy_kwh": 10.0, "stack_pressure_mpa": 4.0, **change}
    with pytest.raises(ModelInputError) as caught:
        run_module_efficiency(data)
    assert caught.value.field == field


def test_missing_required_key_names_the_field():
    data = {**FIGURE5_CELLS, "stack_pressure_mpa": 4.0}
    with pytest.raises(ModelInputError) as caught:
        run_module_efficiency(data)
    assert caught.value.field == "system_energy_kwh"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stack_pressures_mpa": [1.0, -2.0]}, "stack_pressures_mpa[1]"),
        ({"stack_pressures_mpa": []}, "stack_pressures_mpa"),
        ({"system_sizes_kwh": 10}, "system_sizes_kwh"),
        ({"stack_pressure_mpa": 3.0}, "stack_pressure_mpa"),  # the scalar belongs to the single model
        ({"system_energy_kwh": 3.0}, "system_energy_kwh"),
        ({"stack_pressures_mpa": [1.0] * 1001}, "stack_pressures_mpa"),
    ],
)
def test_sweep_bad_keys_name_the_field(change, field):
    with pytest.raises(ModelInputError) as caught:
        run_module_efficiency_sweep({**FIGURE5_CELLS, **change})
    assert caught.value.field == field


def test_design_built_in_python_is_checked_too():
    with pytest.raises(ModelInputError) as caught:
        ModuleDesign(system_energy_kwh=10.0, stack_pressure_mpa=-1.0, **FIGURE5_CELLS)
    assert caught.value.field == "stack_pressure_mpa"
    with pytest.raises(ModelInputError) as caught:
        figure5_sweep(system_sizes_kwh=[10.0, float("inf")])
    assert caught.value.field == "system_sizes_kwh"


def test_housing_module_imports_no_django():
    tree = ast.parse(Path(housing.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name == "django" or name.startswith("django.") for name in imported)
