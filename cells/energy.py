"""Energy density of a solid-state cell design: model ``stack_energy`` of MODELS.md (the paper's Figure 1).

Everything is computed per cm² of one repeat unit (cathode | separator | anode, plus current
collectors), so the result does not depend on the cell's footprint. The units used throughout:

- capacities in mAh, areal capacities in mAh/cm², specific capacities in mAh/g;
- areal masses in mg/cm² in the results (g/cm² inside the arithmetic, where g/cm³ densities
  meet cm thicknesses), thicknesses in µm in the inputs and results (cm inside the arithmetic);
- areal energy in mWh/cm². Because mWh/mg = Wh/g and mWh/cm³ = Wh/L, the specific energy is
  1000 × E / mass[mg/cm²] Wh/kg and the energy density is E / thickness[cm] Wh/L.

The design is described by frozen dataclasses so that the arithmetic (``stack_energy``) is separate
from reading JSON (``run_stack_energy``): a cell record in the database builds a ``StackDesign`` from
its own layers, loadings and thicknesses, while the job framework and ``manage.py run_model`` pass a
JSON object. The presets a–g of the paper's Figure 1 live in ``cells/data/fig1_scenarios.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from assbtrack.domain.inputs import Inputs, ModelInputError

SCENARIOS_PATH = Path(__file__).resolve().parent / "data" / "fig1_scenarios.json"

# Lithium metal: gravimetric capacity (mAh/g) and volumetric capacity (mAh/cm³) of the pure metal.
LITHIUM_SPECIFIC_CAPACITY_MAH_PER_G = 3861.0
LITHIUM_VOLUMETRIC_CAPACITY_MAH_PER_CM3 = 2062.0

COMPOSITE_ANODE_TYPES = ("graphite", "silicon", "li_in")
METAL_ANODE_TYPES = ("li_metal", "anode_free")
ANODE_TYPES = COMPOSITE_ANODE_TYPES + METAL_ANODE_TYPES

LAYER_NAMES = ("cathode_collector", "cathode", "separator", "anode", "anode_collector")

# Weight fractions come from weighed masses; 0.1 % tolerates rounding in a recipe, not a missing component.
WEIGHT_FRACTION_TOLERANCE = 1e-3

_UM_PER_CM = 1e4
_MG_PER_G = 1e3


@dataclass(frozen=True)
class ComponentSpec:
    """One ingredient of a composite electrode; the active material carries its specific capacity."""

    name: str
    weight_fraction: float
    density_g_per_cm3: float
    specific_capacity_mah_per_g: float | None = None


@dataclass(frozen=True)
class CathodeSpec:
    areal_capacity_mah_per_cm2: float
    voltage_v: float  # average discharge voltage vs Li/Li⁺
    porosity: float  # volume fraction 0–1
    components: tuple[ComponentSpec, ...]


@dataclass(frozen=True)
class SeparatorSpec:
    thickness_um: float
    density_g_per_cm3: float  # of the dense electrolyte
    porosity: float


@dataclass(frozen=True)
class AnodeSpec:
    """``type`` is one of ``ANODE_TYPES``; porosity and components apply only to composite anodes."""

    type: str
    np_ratio: float  # anode to cathode areal capacity; 0 for anode-free
    voltage_v: float  # average voltage vs Li/Li⁺
    porosity: float = 0.0
    components: tuple[ComponentSpec, ...] = ()


@dataclass(frozen=True)
class CollectorSpec:
    material: str
    thickness_um: float
    density_g_per_cm3: float


@dataclass(frozen=True)
class StackDesign:
    """One repeat unit of a cell. A collector of ``None`` means none (a pellet cell pressed between dies)."""

    cathode: CathodeSpec
    separator: SeparatorSpec
    anode: AnodeSpec
    cathode_collector: CollectorSpec | None
    anode_collector: CollectorSpec | None
    collectors_shared: bool = True  # double-sided electrodes: each foil serves two repeat units
    mass_packaging_fraction: float = 1.0  # stack mass / cell mass
    volume_packaging_fraction: float = 1.0  # stack volume / cell volume


@dataclass(frozen=True)
class LayerResult:
    """The share of one layer in one repeat unit (a shared collector is already halved)."""

    mass_mg_per_cm2: float
    thickness_um: float


@dataclass(frozen=True)
class StackEnergyResult:
    areal_energy_mwh_per_cm2: float
    stack_specific_energy_wh_per_kg: float
    stack_energy_density_wh_per_l: float
    cell_specific_energy_wh_per_kg: float
    cell_energy_density_wh_per_l: float
    layers: Mapping[str, LayerResult]  # keys are LAYER_NAMES, in stacking order

    @property
    def total_mass_mg_per_cm2(self) -> float:
        return sum(layer.mass_mg_per_cm2 for layer in self.layers.values())

    @property
    def total_thickness_um(self) -> float:
        return sum(layer.thickness_um for layer in self.layers.values())

    def as_dict(self) -> dict[str, Any]:
        """The JSON output of the ``stack_energy`` model (MODELS.md)."""
        return {
            "areal_energy_mwh_per_cm2": self.areal_energy_mwh_per_cm2,
            "stack_specific_energy_wh_per_kg": self.stack_specific_energy_wh_per_kg,
            "stack_energy_density_wh_per_l": self.stack_energy_density_wh_per_l,
            "cell_specific_energy_wh_per_kg": self.cell_specific_energy_wh_per_kg,
            "cell_energy_density_wh_per_l": self.cell_energy_density_wh_per_l,
            "layers": {
                name: {"mass_mg_per_cm2": layer.mass_mg_per_cm2, "thickness_um": layer.thickness_um}
                for name, layer in self.layers.items()
            },
        }


# --------------------------------------------------------------------------------------------------
# The arithmetic
# --------------------------------------------------------------------------------------------------


def _composite_layer(
    areal_capacity_mah_per_cm2: float, porosity: float, components: tuple[ComponentSpec, ...]
) -> LayerResult:
    """Mass and thickness of a composite electrode that must hold ``areal_capacity_mah_per_cm2``.

    The active material's mass follows from the capacity it has to deliver; the other components
    come along in the recipe's proportions; the solid volume is Σ mᵢ/ρᵢ and the pores add the rest.
    """
    active = [c for c in components if c.specific_capacity_mah_per_g is not None]
    if len(active) != 1:
        raise ValueError("a composite electrode needs exactly one component with a specific capacity")
    active_component = active[0]
    active_mass_g_per_cm2 = areal_capacity_mah_per_cm2 / active_component.specific_capacity_mah_per_g
    composite_mass_g_per_cm2 = active_mass_g_per_cm2 / active_component.weight_fraction
    solid_thickness_cm = sum(
        composite_mass_g_per_cm2 * c.weight_fraction / c.density_g_per_cm3 for c in components
    )
    thickness_cm = solid_thickness_cm / (1.0 - porosity)
    return LayerResult(composite_mass_g_per_cm2 * _MG_PER_G, thickness_cm * _UM_PER_CM)


def _anode_layer(anode: AnodeSpec, cathode_capacity_mah_per_cm2: float) -> LayerResult:
    anode_capacity_mah_per_cm2 = anode.np_ratio * cathode_capacity_mah_per_cm2
    if anode.type in COMPOSITE_ANODE_TYPES:
        return _composite_layer(anode_capacity_mah_per_cm2, anode.porosity, anode.components)
    if anode.type in METAL_ANODE_TYPES:
        # Mass as built: the lithium reservoir only (nothing for anode-free). Thickness in the charged
        # state, when the cathode's lithium has been plated on top of the reservoir: the stack must
        # have room for it, so that is the volume the cell needs.
        mass_g_per_cm2 = anode_capacity_mah_per_cm2 / LITHIUM_SPECIFIC_CAPACITY_MAH_PER_G
        charged_thickness_cm = (
            anode_capacity_mah_per_cm2 + cathode_capacity_mah_per_cm2
        ) / LITHIUM_VOLUMETRIC_CAPACITY_MAH_PER_CM3
        return LayerResult(mass_g_per_cm2 * _MG_PER_G, charged_thickness_cm * _UM_PER_CM)
    raise ValueError(f"unknown anode type {anode.type!r}; use one of {', '.join(ANODE_TYPES)}")


def _collector_layer(collector: CollectorSpec | None, shared: bool) -> LayerResult:
    if collector is None:
        return LayerResult(0.0, 0.0)
    share = 0.5 if shared else 1.0
    thickness_cm = collector.thickness_um / _UM_PER_CM
    mass_g_per_cm2 = thickness_cm * collector.density_g_per_cm3
    return LayerResult(share * mass_g_per_cm2 * _MG_PER_G, share * collector.thickness_um)


def stack_energy(design: StackDesign) -> StackEnergyResult:
    """Areal energy, specific energy and energy density of one repeat unit, and of the packaged cell.

    Pure arithmetic on an already checked design (``run_stack_energy`` does the checking for JSON).
    """
    cathode = design.cathode
    separator = design.separator
    separator_thickness_cm = separator.thickness_um / _UM_PER_CM
    layers = {
        "cathode_collector": _collector_layer(design.cathode_collector, design.collectors_shared),
        "cathode": _composite_layer(cathode.areal_capacity_mah_per_cm2, cathode.porosity, cathode.components),
        "separator": LayerResult(
            separator_thickness_cm * separator.density_g_per_cm3 * (1.0 - separator.porosity) * _MG_PER_G,
            separator.thickness_um,
        ),
        "anode": _anode_layer(design.anode, cathode.areal_capacity_mah_per_cm2),
        "anode_collector": _collector_layer(design.anode_collector, design.collectors_shared),
    }
    total_mass_mg_per_cm2 = sum(layer.mass_mg_per_cm2 for layer in layers.values())
    total_thickness_cm = sum(layer.thickness_um for layer in layers.values()) / _UM_PER_CM

    cell_voltage_v = cathode.voltage_v - design.anode.voltage_v
    areal_energy_mwh_per_cm2 = cathode.areal_capacity_mah_per_cm2 * cell_voltage_v
    # mWh/mg = Wh/g, so ×1000 for Wh/kg; mWh/cm³ is already Wh/L.
    stack_wh_per_kg = areal_energy_mwh_per_cm2 / total_mass_mg_per_cm2 * 1e3
    stack_wh_per_l = areal_energy_mwh_per_cm2 / total_thickness_cm
    return StackEnergyResult(
        areal_energy_mwh_per_cm2=areal_energy_mwh_per_cm2,
        stack_specific_energy_wh_per_kg=stack_wh_per_kg,
        stack_energy_density_wh_per_l=stack_wh_per_l,
        cell_specific_energy_wh_per_kg=stack_wh_per_kg * design.mass_packaging_fraction,
        cell_energy_density_wh_per_l=stack_wh_per_l * design.volume_packaging_fraction,
        layers=layers,
    )


# --------------------------------------------------------------------------------------------------
# Presets a–g
# --------------------------------------------------------------------------------------------------

_PRESET_METADATA_KEYS = ("label", "base")


@lru_cache(maxsize=1)
def _scenario_file() -> dict[str, Any]:
    with SCENARIOS_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


def scenario_names() -> tuple[str, ...]:
    return tuple(_scenario_file()["scenarios"])


def scenario_labels() -> dict[str, str]:
    """``{"a": "Lab half cell: ...", ...}`` for legends and the waterfall plot."""
    return {name: preset.get("label", name) for name, preset in _scenario_file()["scenarios"].items()}


def scenario_inputs(name: str) -> dict[str, Any]:
    """The model inputs of preset ``name``, with its ``base`` chain resolved.

    Each preset lists only what changes from its base. A top-level key given by the later preset
    replaces the base's value wholesale, nested objects included: preset ``f`` gives an anode of only
    ``type``, ``np_ratio`` and ``voltage_v``, and must not inherit the graphite components of ``d``.
    A fresh copy is returned, so callers may modify it.
    """
    presets = _scenario_file()["scenarios"]
    if name not in presets:
        raise ModelInputError("scenario", f"must be one of {', '.join(presets)}")
    chain: list[dict[str, Any]] = []
    current: str | None = name
    while current is not None:
        if current not in presets:
            raise ValueError(f"preset {chain[-1]!r} has unknown base {current!r}")
        if any(preset is presets[current] for preset in chain):
            raise ValueError(f"preset {name!r} has a cyclic base chain")
        chain.append(presets[current])
        current = presets[current].get("base")
    merged: dict[str, Any] = {}
    for preset in reversed(chain):
        merged.update({key: value for key, value in preset.items() if key not in _PRESET_METADATA_KEYS})
    return json.loads(json.dumps(merged))  # a deep copy: the cached file must never be modified


# --------------------------------------------------------------------------------------------------
# Reading the JSON contract
# --------------------------------------------------------------------------------------------------


def _read_components(section: Inputs) -> tuple[ComponentSpec, ...]:
    items = section.objects("components", min_items=1, max_items=50)
    components: list[ComponentSpec] = []
    for item in items:
        capacity = item.number("specific_capacity_mah_per_g", default=None, greater_than=0.0)
        components.append(
            ComponentSpec(
                name=item.text("name"),
                weight_fraction=item.number("weight_fraction", greater_than=0.0, maximum=1.0),
                density_g_per_cm3=item.number("density_g_per_cm3", greater_than=0.0),
                specific_capacity_mah_per_g=capacity,
            )
        )
        item.finish()
    field = section.field("components")
    total = sum(c.weight_fraction for c in components)
    if abs(total - 1.0) > WEIGHT_FRACTION_TOLERANCE:
        raise ModelInputError(field, f"weight fractions sum to {total:.4f}, not 1 (within 0.1 %)")
    active = [index for index, c in enumerate(components) if c.specific_capacity_mah_per_g is not None]
    if len(active) != 1:
        raise ModelInputError(
            field,
            "specific_capacity_mah_per_g must be given on exactly one component (the active material), "
            f"found on {len(active)}",
        )
    return tuple(components)


def _read_cathode(section: Inputs) -> CathodeSpec:
    cathode = CathodeSpec(
        areal_capacity_mah_per_cm2=section.number("areal_capacity_mah_per_cm2", greater_than=0.0),
        voltage_v=section.number("voltage_v", greater_than=0.0),
        porosity=section.number("porosity", minimum=0.0, less_than=1.0),
        components=_read_components(section),
    )
    section.finish()
    return cathode


def _read_separator(section: Inputs) -> SeparatorSpec:
    separator = SeparatorSpec(
        thickness_um=section.number("thickness_um", greater_than=0.0),
        density_g_per_cm3=section.number("density_g_per_cm3", greater_than=0.0),
        porosity=section.number("porosity", minimum=0.0, less_than=1.0),
    )
    section.finish()
    return separator


def _read_anode(section: Inputs, cathode: CathodeSpec) -> AnodeSpec:
    anode_type = section.choice("type", ANODE_TYPES)
    voltage_v = section.number("voltage_v", minimum=0.0)
    if voltage_v >= cathode.voltage_v:
        raise ModelInputError(
            section.field("voltage_v"), f"must be below the cathode's voltage ({cathode.voltage_v:g} V)"
        )
    if anode_type in COMPOSITE_ANODE_TYPES:
        anode = AnodeSpec(
            type=anode_type,
            np_ratio=section.number("np_ratio", greater_than=0.0),
            voltage_v=voltage_v,
            porosity=section.number("porosity", minimum=0.0, less_than=1.0),
            components=_read_components(section),
        )
    else:
        # A metal anode is dense lithium by definition: its porosity is exactly 0, which may be stated;
        # any other porosity, or a recipe, would be ignored, and a value that is silently ignored is worse
        # than a refusal.
        porosity = section.number("porosity", default=None, minimum=0.0, less_than=1.0)
        if porosity not in (None, 0.0):
            raise ModelInputError(
                section.field("porosity"),
                f"must be 0 or left out for an anode of type {anode_type} (dense lithium has no pores)",
            )
        if section.raw("components", None) not in (None, []):
            raise ModelInputError(section.field("components"), f"does not apply to an anode of type {anode_type}")
        if anode_type == "anode_free":
            np_ratio = section.number("np_ratio", default=0.0)
            if np_ratio != 0.0:
                raise ModelInputError(
                    section.field("np_ratio"),
                    "must be 0 for an anode-free cell (use li_metal for a lithium reservoir)",
                )
        else:
            np_ratio = section.number("np_ratio", greater_than=0.0)
        anode = AnodeSpec(type=anode_type, np_ratio=np_ratio, voltage_v=voltage_v)
    section.finish()
    return anode


def _read_collector(data: Inputs, key: str) -> CollectorSpec | None:
    if key not in data:
        raise ModelInputError(data.field(key), "is required (null for a cell without this current collector)")
    section = data.obj(key, allow_none=True)
    if section is None:
        return None
    collector = CollectorSpec(
        material=section.text("material"),
        thickness_um=section.number("thickness_um", greater_than=0.0),
        density_g_per_cm3=section.number("density_g_per_cm3", greater_than=0.0),
    )
    section.finish()
    return collector


def stack_design_from_inputs(data: Mapping[str, Any]) -> StackDesign:
    """Check a JSON object of the ``stack_energy`` contract and build the design it describes.

    With ``scenario``, the preset's inputs come first and every other top-level key given replaces
    the preset's value of that key (a nested object wholesale, as within the presets themselves).
    """
    if not isinstance(data, Mapping):
        raise ModelInputError("input", "must be a JSON object")
    if "scenario" in data:
        scenario = data["scenario"]
        if not isinstance(scenario, str):
            raise ModelInputError("scenario", f"must be one of {', '.join(scenario_names())}")
        overrides = {key: value for key, value in data.items() if key != "scenario"}
        data = {**scenario_inputs(scenario), **overrides}
    inputs = Inputs(data)
    cathode = _read_cathode(inputs.obj("cathode"))
    design = StackDesign(
        cathode=cathode,
        separator=_read_separator(inputs.obj("separator")),
        anode=_read_anode(inputs.obj("anode"), cathode),
        cathode_collector=_read_collector(inputs, "cathode_collector"),
        anode_collector=_read_collector(inputs, "anode_collector"),
        collectors_shared=inputs.boolean("collectors_shared", default=True),
        mass_packaging_fraction=inputs.number(
            "mass_packaging_fraction", default=1.0, greater_than=0.0, maximum=1.0
        ),
        volume_packaging_fraction=inputs.number(
            "volume_packaging_fraction", default=1.0, greater_than=0.0, maximum=1.0
        ),
    )
    inputs.finish()
    return design


def run_stack_energy(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``stack_energy`` model: JSON object in, JSON object out (see MODELS.md)."""
    return stack_energy(stack_design_from_inputs(data)).as_dict()
