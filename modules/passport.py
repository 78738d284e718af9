"""What the modules app adds to passports (registered from ``ModulesConfig.ready()``): a module has a passport,
with the mass of its cells and, in ``performanceAndDurability``, its rated capacity, voltage and energy."""

from __future__ import annotations

from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.registry import PassportSubject, register_passport

from .models import Module


def module_mass_kg(module: Module) -> float | None:
    return module.cells_mass_kg or None


def module_performance(module: Module) -> dict:
    return {
        "ratedCapacity": {"value": module.nominal_capacity_ah, "unit": "Ah"},
        "nominalVoltage": {"value": module.nominal_voltage_v, "unit": "V"},
        "ratedEnergy": {"value": module.system_energy_kwh * 1000.0, "unit": "Wh"},
    }


def register() -> None:
    register_passport(ItemKind.MODULE, PassportSubject(
        category="laboratory prototype module", mass_kg=module_mass_kg, performance=module_performance))
