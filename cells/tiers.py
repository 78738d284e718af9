"""Cell scale tiers (the paper's Table 1), N/P ratio and the nominal rating of a stack of layers.

A cell is filed as laboratory, pilot or production by its nominal capacity, because the paper's
comparisons of energy density only make sense within one scale. The nominal rating of a multilayer
cell follows from how its layers are connected: parallel layers add capacity at one voltage,
series (bipolar) layers add voltage at one capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assbtrack.domain.inputs import ModelInputError, check_number

SCALE_TIERS = ("laboratory", "pilot", "production")
LABORATORY_BELOW_AH = 0.1
PRODUCTION_ABOVE_AH = 10.0

CONNECTIONS = ("parallel", "series")

# Parallel layers share one voltage; nominal values of one chemistry agree to far better than this.
PARALLEL_VOLTAGE_TOLERANCE = 0.01


def scale_tier(nominal_capacity_ah: float) -> str:
    """"laboratory" below 0.1 Ah, "pilot" from 0.1 Ah to 10 Ah inclusive, "production" above 10 Ah.

    The paper's laboratory and pilot ranges overlap between 0.1 and 1 Ah; MODELS.md gives that
    overlap to the pilot tier, so both boundaries (0.1 and 10 Ah) belong to "pilot".
    """
    capacity_ah = check_number(nominal_capacity_ah, "nominal_capacity_ah", greater_than=0.0)
    if capacity_ah < LABORATORY_BELOW_AH:
        return "laboratory"
    if capacity_ah <= PRODUCTION_ABOVE_AH:
        return "pilot"
    return "production"


def np_ratio(anode_areal_capacity: float, cathode_areal_capacity: float) -> float:
    """Negative-to-positive capacity ratio; both capacities in the same unit (e.g. mAh/cm²).

    0 is allowed for the anode (an anode-free cell); the cathode must hold some capacity.
    """
    anode = check_number(anode_areal_capacity, "anode_areal_capacity", minimum=0.0)
    cathode = check_number(cathode_areal_capacity, "cathode_areal_capacity", greater_than=0.0)
    return anode / cathode


@dataclass(frozen=True)
class StackLayer:
    """One cell layer and how it joins the layer before it (the first layer's connection is not used)."""

    capacity_mah: float
    voltage_v: float
    connection: str = "parallel"  # one of CONNECTIONS


@dataclass(frozen=True)
class StackNominal:
    capacity_mah: float
    voltage_v: float
    series_count: int  # number of parallel groups connected in series

    @property
    def capacity_ah(self) -> float:
        return self.capacity_mah / 1000.0

    @property
    def energy_mwh(self) -> float:
        return self.capacity_mah * self.voltage_v


def stack_nominal(layers: Sequence[StackLayer]) -> StackNominal:
    """Nominal capacity and voltage of a stack of layers.

    Reading the layers in stacking order, a "parallel" layer joins the current group and a "series"
    layer starts a new group. Within a group capacities add and the voltage is common; the groups in
    series add their voltages and the string delivers the capacity of its smallest group, which is
    the one that reaches its cut-off first.
    """
    if not layers:
        raise ModelInputError("layers", "needs at least one layer")
    group_capacities_mah: list[float] = []
    group_voltages_v: list[float] = []
    for index, layer in enumerate(layers):
        field = f"layers[{index}]"
        capacity_mah = check_number(layer.capacity_mah, f"{field}.capacity_mah", greater_than=0.0)
        voltage_v = check_number(layer.voltage_v, f"{field}.voltage_v", greater_than=0.0)
        if layer.connection not in CONNECTIONS:
            raise ModelInputError(f"{field}.connection", f"must be one of {', '.join(CONNECTIONS)}")
        if index == 0 or layer.connection == "series":
            group_capacities_mah.append(capacity_mah)
            group_voltages_v.append(voltage_v)
            continue
        group_voltage_v = group_voltages_v[-1]
        if abs(voltage_v - group_voltage_v) > PARALLEL_VOLTAGE_TOLERANCE * group_voltage_v:
            raise ModelInputError(
                f"{field}.voltage_v",
                f"{voltage_v:g} V differs from the {group_voltage_v:g} V of the layers in parallel with it",
            )
        group_capacities_mah[-1] += capacity_mah
    return StackNominal(
        capacity_mah=min(group_capacities_mah),
        voltage_v=sum(group_voltages_v),
        series_count=len(group_voltages_v),
    )
