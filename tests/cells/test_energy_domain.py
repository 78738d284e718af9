"""The stack energy model: the paper's statements on presets a–g, hand-worked designs, the JSON contract."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from assbtrack.domain.inputs import ModelInputError
from cells import energy
from cells.energy import run_stack_energy, scenario_inputs, stack_design_from_inputs, stack_energy

REPO = Path(__file__).resolve().parents[2]
# The reference copy sits in the shared folder beside the project (../shared/reference/).
SHARED_PRESETS = REPO.parent / "shared" / "reference" / "fig1_scenarios.json"

OUTPUT_KEYS = {
    "areal_energy_mwh_per_cm2",
    "stack_specific_energy_wh_per_kg",
    "stack_energy_density_wh_per_l",
    "cell_specific_energy_wh_per_kg",
    "cell_energy_density_wh_per_l",
    "layers",
}
LAYERS = {"cathode_collector", "cathode", "separator", "anode", "anode_collector"}


def preset_results() -> dict[str, dict]:
    return {name: run_stack_energy({"scenario": name}) for name in "abcdefg"}


# ---------------------------------------------------------------- acceptance (the paper's statements)


def test_specific_energy_rises_from_a_to_g():
    results = preset_results()
    wh_per_kg = [results[name]["stack_specific_energy_wh_per_kg"] for name in "abcdefg"]
    assert all(earlier < later for earlier, later in zip(wh_per_kg, wh_per_kg[1:], strict=False)), wh_per_kg


def test_preset_c_is_at_li_ion_parity_within_15_percent():
    wh_per_kg = run_stack_energy({"scenario": "c"})["stack_specific_energy_wh_per_kg"]
    assert abs(wh_per_kg - 300.0) <= 0.15 * 300.0, wh_per_kg


def test_preset_e_exceeds_900_wh_per_l():
    assert run_stack_energy({"scenario": "e"})["stack_energy_density_wh_per_l"] > 900.0


def test_preset_g_exceeds_450_wh_per_kg():
    assert run_stack_energy({"scenario": "g"})["stack_specific_energy_wh_per_kg"] > 450.0


# ---------------------------------------------------------------- hand-worked designs

CATHODE = {
    "areal_capacity_mah_per_cm2": 2.0,
    "voltage_v": 4.0,
    "porosity": 0.2,
    "components": [
        {
            "name": "active",
            "weight_fraction": 0.5,
            "density_g_per_cm3": 4.0,
            "specific_capacity_mah_per_g": 100.0,
        },
        {"name": "electrolyte", "weight_fraction": 0.5, "density_g_per_cm3": 2.0},
    ],
}
SEPARATOR = {"thickness_um": 50.0, "density_g_per_cm3": 2.0, "porosity": 0.1}
AL_FOIL = {"material": "Al", "thickness_um": 10.0, "density_g_per_cm3": 2.7}
CU_FOIL = {"material": "Cu", "thickness_um": 10.0, "density_g_per_cm3": 9.0}


def li_metal_design() -> dict:
    return {
        "cathode": copy.deepcopy(CATHODE),
        "separator": dict(SEPARATOR),
        "anode": {"type": "li_metal", "np_ratio": 1.5, "voltage_v": 0.0},
        "cathode_collector": dict(AL_FOIL),
        "anode_collector": dict(CU_FOIL),
    }


def test_hand_worked_li_metal_design():
    # Cathode: active 2 mAh/cm² / 100 mAh/g = 20 mg/cm²; composite 20 / 0.5 = 40 mg/cm²;
    #   solid thickness 0.040 g/cm² × (0.5/4 + 0.5/2) cm³/g = 0.015 cm, / (1 − 0.2) = 0.01875 cm = 187.5 µm.
    # Separator: 0.005 cm × 2 g/cm³ × 0.9 = 9 mg/cm², 50 µm.
    # Li metal: 1.5 × 2 = 3 mAh/cm² → 3/3861 g/cm²; charged thickness (3 + 2)/2062 cm.
    # Collectors shared: Al 10 µm × 2.7 g/cm³ = 2.7 mg/cm² → 1.35 mg, 5 µm; Cu 9 mg → 4.5 mg, 5 µm.
    # E = 2 mAh/cm² × 4.0 V = 8 mWh/cm².
    lithium_mass_mg = 3.0 / 3861.0 * 1000.0
    lithium_thickness_um = 5.0 / 2062.0 * 1e4
    total_mass_mg = 40.0 + 9.0 + lithium_mass_mg + 1.35 + 4.5
    total_thickness_um = 187.5 + 50.0 + lithium_thickness_um + 5.0 + 5.0

    result = run_stack_energy(li_metal_design())

    assert set(result) == OUTPUT_KEYS
    assert set(result["layers"]) == LAYERS
    layers = result["layers"]
    assert layers["cathode"]["mass_mg_per_cm2"] == pytest.approx(40.0)
    assert layers["cathode"]["thickness_um"] == pytest.approx(187.5)
    assert layers["separator"] == pytest.approx({"mass_mg_per_cm2": 9.0, "thickness_um": 50.0})
    assert layers["anode"]["mass_mg_per_cm2"] == pytest.approx(lithium_mass_mg)
    assert layers["anode"]["thickness_um"] == pytest.approx(lithium_thickness_um)
    assert layers["cathode_collector"] == pytest.approx({"mass_mg_per_cm2": 1.35, "thickness_um": 5.0})
    assert layers["anode_collector"] == pytest.approx({"mass_mg_per_cm2": 4.5, "thickness_um": 5.0})
    assert result["areal_energy_mwh_per_cm2"] == pytest.approx(8.0)
    assert result["stack_specific_energy_wh_per_kg"] == pytest.approx(8.0 / total_mass_mg * 1000.0)
    assert result["stack_energy_density_wh_per_l"] == pytest.approx(8.0 / (total_thickness_um * 1e-4))
    # No packaging given: the cell is the stack.
    assert result["cell_specific_energy_wh_per_kg"] == pytest.approx(
        result["stack_specific_energy_wh_per_kg"]
    )
    assert result["cell_energy_density_wh_per_l"] == pytest.approx(result["stack_energy_density_wh_per_l"])
    # Plausibility of the magnitudes, independent of the algebra above: ~144 Wh/kg, ~294 Wh/L.
    assert 140 < result["stack_specific_energy_wh_per_kg"] < 148
    assert 290 < result["stack_energy_density_wh_per_l"] < 298


def test_hand_worked_graphite_pellet_design_with_packaging():
    # Graphite anode, N/P 1.0: 2 mAh/cm² / 400 mAh/g = 5 mg/cm² active; composite 5/0.8 = 6.25 mg/cm²;
    #   thickness 0.00625 g/cm² × (0.8/2 + 0.2/2) cm³/g / (1 − 0) = 0.003125 cm = 31.25 µm.
    # No collectors. E = 2 × (4.0 − 0.1) = 7.8 mWh/cm². Mass 40 + 9 + 6.25 = 55.25 mg/cm²;
    # thickness 187.5 + 50 + 31.25 = 268.75 µm.
    design = {
        "cathode": copy.deepcopy(CATHODE),
        "separator": dict(SEPARATOR),
        "anode": {
            "type": "graphite",
            "np_ratio": 1.0,
            "voltage_v": 0.1,
            "porosity": 0.0,
            "components": [
                {
                    "name": "graphite",
                    "weight_fraction": 0.8,
                    "density_g_per_cm3": 2.0,
                    "specific_capacity_mah_per_g": 400.0,
                },
                {"name": "electrolyte", "weight_fraction": 0.2, "density_g_per_cm3": 2.0},
            ],
        },
        "cathode_collector": None,
        "anode_collector": None,
        "mass_packaging_fraction": 0.5,
        "volume_packaging_fraction": 0.8,
    }
    result = run_stack_energy(design)

    assert result["layers"]["anode"]["mass_mg_per_cm2"] == pytest.approx(6.25)
    assert result["layers"]["anode"]["thickness_um"] == pytest.approx(31.25)
    assert result["layers"]["cathode_collector"] == {"mass_mg_per_cm2": 0.0, "thickness_um": 0.0}
    assert result["areal_energy_mwh_per_cm2"] == pytest.approx(7.8)
    assert result["stack_specific_energy_wh_per_kg"] == pytest.approx(7.8 / 55.25 * 1000.0)
    assert result["stack_energy_density_wh_per_l"] == pytest.approx(7.8 / 0.026875)
    assert result["cell_specific_energy_wh_per_kg"] == pytest.approx(0.5 * 7.8 / 55.25 * 1000.0)
    assert result["cell_energy_density_wh_per_l"] == pytest.approx(0.8 * 7.8 / 0.026875)


def test_unshared_collectors_count_whole():
    design = li_metal_design()
    design["collectors_shared"] = False
    layers = run_stack_energy(design)["layers"]
    assert layers["cathode_collector"] == pytest.approx({"mass_mg_per_cm2": 2.7, "thickness_um": 10.0})
    assert layers["anode_collector"] == pytest.approx({"mass_mg_per_cm2": 9.0, "thickness_um": 10.0})


def test_anode_free_has_no_mass_but_room_for_the_plated_lithium():
    design = li_metal_design()
    design["anode"] = {"type": "anode_free", "np_ratio": 0.0, "voltage_v": 0.0}
    anode = run_stack_energy(design)["layers"]["anode"]
    assert anode["mass_mg_per_cm2"] == 0.0
    assert anode["thickness_um"] == pytest.approx(2.0 / 2062.0 * 1e4)  # 9.70 µm of lithium when charged


def test_stack_energy_takes_dataclasses_directly():
    design = stack_design_from_inputs(li_metal_design())
    assert isinstance(design.cathode.components[0], energy.ComponentSpec)
    result = stack_energy(design)
    assert result.areal_energy_mwh_per_cm2 == pytest.approx(8.0)
    assert result.total_mass_mg_per_cm2 == pytest.approx(40.0 + 9.0 + 3000.0 / 3861.0 + 1.35 + 4.5)


# ---------------------------------------------------------------- presets


def test_preset_chain_resolves_bases_and_replaces_nested_objects_wholesale():
    c = scenario_inputs("c")
    assert c["separator"]["thickness_um"] == 30  # c's own
    assert c["anode"]["type"] == "graphite"  # from b
    assert c["cathode"]["areal_capacity_mah_per_cm2"] == 3.0  # from a
    assert "label" not in c and "base" not in c

    f = scenario_inputs("f")
    assert f["anode"] == {
        "type": "li_metal",
        "np_ratio": 1.2,
        "voltage_v": 0.0,
    }  # no graphite leftovers from d
    assert f["cathode"]["areal_capacity_mah_per_cm2"] == 6.0  # from d
    result = run_stack_energy({"scenario": "f"})
    assert result["layers"]["anode"]["mass_mg_per_cm2"] == pytest.approx(1.2 * 6.0 / 3861.0 * 1000.0)


def test_scenario_inputs_returns_a_copy():
    scenario_inputs("a")["separator"]["thickness_um"] = 1
    assert scenario_inputs("a")["separator"]["thickness_um"] == 700


def test_scenario_with_explicit_inputs_matches_the_preset():
    assert run_stack_energy(scenario_inputs("d")) == run_stack_energy({"scenario": "d"})


def test_later_keys_override_the_preset():
    thick = {"thickness_um": 100.0, "density_g_per_cm3": 1.86, "porosity": 0.15}
    overridden = run_stack_energy({"scenario": "c", "separator": thick, "mass_packaging_fraction": 0.6})
    preset = run_stack_energy({"scenario": "c"})
    assert overridden["layers"]["separator"]["thickness_um"] == 100.0
    assert preset["layers"]["separator"]["thickness_um"] == 30.0
    assert overridden["stack_specific_energy_wh_per_kg"] < preset["stack_specific_energy_wh_per_kg"]
    assert overridden["cell_specific_energy_wh_per_kg"] == pytest.approx(
        0.6 * overridden["stack_specific_energy_wh_per_kg"]
    )


def test_bundled_presets_match_the_reference_copy():
    if not SHARED_PRESETS.is_file():
        pytest.fail(f"the reference presets are missing: {SHARED_PRESETS} (the shared folder sits beside the project)")
    bundled = json.loads((REPO / "cells" / "data" / "fig1_scenarios.json").read_text(encoding="utf-8"))
    assert bundled == json.loads(SHARED_PRESETS.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- errors name their field


def _with(path: list, value, *, delete: bool = False) -> dict:
    design = li_metal_design()
    design["anode"] = copy.deepcopy(scenario_inputs("b")["anode"])
    target = design
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return design


@pytest.mark.parametrize(
    ("design", "field", "reason_part"),
    [
        (
            _with(["cathode", "components", 1, "density_g_per_cm3"], 0),
            "cathode.components[1].density_g_per_cm3",
            "greater than 0",
        ),
        (
            _with(["cathode", "components", 1, "density_g_per_cm3"], -2.0),
            "cathode.components[1].density_g_per_cm3",
            "greater than 0",
        ),
        (_with(["cathode", "components", 0, "weight_fraction"], 0.4), "cathode.components", "sum to 0.9"),
        (
            _with(["cathode", "components", 0, "weight_fraction"], "half"),
            "cathode.components[0].weight_fraction",
            "number",
        ),
        (
            _with(["cathode", "components", 1, "specific_capacity_mah_per_g"], 50.0),
            "cathode.components",
            "exactly one",
        ),
        (
            _with(["cathode", "components", 0, "specific_capacity_mah_per_g"], None, delete=True),
            "cathode.components",
            "exactly one",
        ),
        (_with(["anode", "components", 0, "weight_fraction"], 0.95), "anode.components", "sum to"),
        (_with(["cathode", "porosity"], 1.0), "cathode.porosity", "less than 1"),
        (_with(["cathode", "porosity"], -0.1), "cathode.porosity", "at least 0"),
        (_with(["separator", "porosity"], 1.2), "separator.porosity", "less than 1"),
        (_with(["separator", "thickness_um"], None, delete=True), "separator.thickness_um", "required"),
        (_with(["anode", "type"], "sodium"), "anode.type", "li_metal"),
        (_with(["anode", "voltage_v"], 4.5), "anode.voltage_v", "below"),
        (
            _with(["cathode", "areal_capacity_mah_per_cm2"], 0),
            "cathode.areal_capacity_mah_per_cm2",
            "greater",
        ),
        (
            _with(["cathode_collector", "density_g_per_cm3"], 0),
            "cathode_collector.density_g_per_cm3",
            "greater",
        ),
        (_with(["cathode_collector"], None, delete=True), "cathode_collector", "required"),
        (_with(["mass_packaging_fraction"], 1.5), "mass_packaging_fraction", "at most 1"),
        (_with(["collectors_shared"], "yes"), "collectors_shared", "true or false"),
        (_with(["colectors_shared"], True), "colectors_shared", "not a known input key"),
        (_with(["cathode", "thickness_um"], 80), "cathode.thickness_um", "not a known input key"),
        (
            _with(["cathode", "components", 0, "colour"], "black"),
            "cathode.components[0].colour",
            "not a known",
        ),
    ],
)
def test_bad_input_names_its_field(design, field, reason_part):
    with pytest.raises(ModelInputError) as caught:
        run_stack_energy(design)
    assert caught.value.field == field
    assert reason_part in caught.value.reason


def test_metal_anode_refuses_a_recipe():
    design = li_metal_design()
    design["anode"]["components"] = copy.deepcopy(CATHODE["components"])
    with pytest.raises(ModelInputError) as caught:
        run_stack_energy(design)
    assert caught.value.field == "anode.components"


@pytest.mark.parametrize("anode", [
    {"type": "li_metal", "np_ratio": 1.5, "voltage_v": 0.0},
    {"type": "anode_free", "np_ratio": 0, "voltage_v": 0.0},
])
def test_metal_anode_accepts_a_porosity_of_zero_and_refuses_any_other(anode):
    stated = li_metal_design()
    stated["anode"] = {**anode, "porosity": 0}
    left_out = li_metal_design()
    left_out["anode"] = dict(anode)
    # dense lithium has exactly porosity 0: stating it changes nothing
    assert run_stack_energy(stated) == run_stack_energy(left_out)
    stated["anode"]["porosity"] = 0.0
    assert run_stack_energy(stated) == run_stack_energy(left_out)
    for porous in (0.05, 1e-3):
        stated["anode"]["porosity"] = porous
        with pytest.raises(ModelInputError) as caught:
            run_stack_energy(stated)
        assert caught.value.field == "anode.porosity"
        assert "must be 0" in caught.value.reason
    stated["anode"]["porosity"] = "0"
    with pytest.raises(ModelInputError) as caught:
        run_stack_energy(stated)
    assert caught.value.field == "anode.porosity" and "number" in caught.value.reason


def test_anode_free_refuses_a_lithium_reservoir():
    design = li_metal_design()
    design["anode"] = {"type": "anode_free", "np_ratio": 0.2, "voltage_v": 0.0}
    with pytest.raises(ModelInputError) as caught:
        run_stack_energy(design)
    assert caught.value.field == "anode.np_ratio"


def test_unknown_scenario_and_preset_metadata_are_refused():
    with pytest.raises(ModelInputError) as caught:
        run_stack_energy({"scenario": "h"})
    assert caught.value.field == "scenario"
    with pytest.raises(ModelInputError) as caught:
        run_stack_energy({"scenario": "a", "label": "my cell"})
    assert caught.value.field == "label"
    with pytest.raises(ModelInputError) as caught:
        run_stack_energy(["not", "an", "object"])
    assert caught.value.field == "input"


DOMAIN_MODULES = ("cells.energy", "cells.tiers", "cells.cycling", "cells.plots")


def test_cells_domain_modules_import_no_django():
    """Statically: no import statement of these modules names Django (or pyplot, which keeps global state)."""
    for module in DOMAIN_MODULES:
        source = (REPO / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] != "django", f"{module} imports {name}"
                assert name != "matplotlib.pyplot", f"{module} imports pyplot"


def test_cells_domain_modules_load_no_django_beyond_the_assbtrack_package():
    """At run time, transitively: these modules add no Django module to what ``import assbtrack`` loads (nothing
    since the Celery app is loaded by the jobs app; tests/test_architecture.py checks every pure module alone)."""
    code = (
        "import sys; import assbtrack; "
        "before = {m for m in sys.modules if m.split('.')[0] == 'django'}; "
        f"import {', '.join(DOMAIN_MODULES)}; "
        "added = sorted(m for m in sys.modules if m.split('.')[0] == 'django' and m not in before); "
        "assert not added, added; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
