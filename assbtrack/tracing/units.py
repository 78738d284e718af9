"""Quantity units and their conversion: pure, so every service agrees on what 500 mg of a 2 g lot is."""

from __future__ import annotations

from decimal import Decimal

# Units of one dimension and their factor to the dimension's base unit.
_MASS_TO_G = {"mg": Decimal("0.001"), "g": Decimal("1"), "kg": Decimal("1000")}
_DIMENSION = {"mg": "mass", "g": "mass", "kg": "mass", "pcs": "count", "cm2": "area"}


class UnitMismatch(ValueError):
    pass


def convert_amount(amount: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``amount`` in ``from_unit`` expressed in ``to_unit``; only units of one dimension convert."""
    if from_unit == to_unit:
        return amount
    if _DIMENSION.get(from_unit) != _DIMENSION.get(to_unit) or _DIMENSION.get(from_unit) != "mass":
        raise UnitMismatch(f"cannot use an amount in {from_unit} from a stock counted in {to_unit}")
    return amount * _MASS_TO_G[from_unit] / _MASS_TO_G[to_unit]
