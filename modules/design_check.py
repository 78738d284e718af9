"""Is a housing's end plate thick enough? The Roark check a design page shows (pure; no Django).

The plate is checked at the design's target stack pressure, edge-supported under a uniform load
(``modules.housing``: Roark Table 11.4 case 1a). Two things can go wrong, and each gets a warning:
the plate bows more than (shorter span)/N, so the cells in the middle lose pressure; or its bending
stress exceeds what the material allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .housing import plate_deflection_mm, plate_stress_mpa, required_plate_thickness_mm, roark_coefficients


@dataclass(frozen=True)
class PlateCheck:
    pressure_mpa: float
    thickness_mm: float
    deflection_mm: float
    allowed_deflection_mm: float
    stress_mpa: float
    allowable_stress_mpa: float
    stiffness_thickness_mm: float  # thinnest plate within the deflection tolerance
    strength_thickness_mm: float  # thinnest plate within the allowable stress
    required_thickness_mm: float  # the larger of the two

    @property
    def too_flexible(self) -> bool:
        return self.deflection_mm > self.allowed_deflection_mm

    @property
    def over_stressed(self) -> bool:
        return self.stress_mpa > self.allowable_stress_mpa

    @property
    def ok(self) -> bool:
        return not (self.too_flexible or self.over_stressed)

    @property
    def thickness_margin_mm(self) -> float:
        """Chosen minus required thickness: negative when the plate is too thin."""
        return self.thickness_mm - self.required_thickness_mm

    @property
    def warnings(self) -> list[str]:
        messages = []
        if self.too_flexible:
            messages.append(
                f"The {self.thickness_mm:g} mm plate deflects {self.deflection_mm:.3g} mm at "
                f"{self.pressure_mpa:g} MPa, beyond the tolerance of {self.allowed_deflection_mm:.3g} mm: "
                f"it needs at least {self.stiffness_thickness_mm:.3g} mm."
            )
        if self.over_stressed:
            messages.append(
                f"The {self.thickness_mm:g} mm plate is over-stressed at {self.pressure_mpa:g} MPa: "
                f"{self.stress_mpa:.4g} MPa against the allowable {self.allowable_stress_mpa:g} MPa; "
                f"it needs at least {self.strength_thickness_mm:.3g} mm."
            )
        return messages


def plate_check(
    *,
    pressure_mpa: float,
    length_mm: float,
    width_mm: float,
    thickness_mm: float,
    modulus_gpa: float,
    deflection_ratio: float,
    allowable_stress_mpa: float,
) -> PlateCheck:
    """The chosen plate against the tolerance and the allowable stress, with the thickness each needs.

    The tolerance applies to the shorter span ``b`` (the same convention as ``module_efficiency``).
    """
    shorter_mm = min(length_mm, width_mm)
    stiffness_mm = float(required_plate_thickness_mm(pressure_mpa, length_mm, width_mm, modulus_gpa,
                                                     deflection_ratio))
    # From σ = β·q·b²/t² ≤ σ_allow: t = √(β·q·b²/σ_allow).
    _, beta = roark_coefficients(max(length_mm, width_mm) / shorter_mm)
    strength_mm = math.sqrt(beta * pressure_mpa * shorter_mm**2 / allowable_stress_mpa)
    return PlateCheck(
        pressure_mpa=float(pressure_mpa),
        thickness_mm=float(thickness_mm),
        deflection_mm=float(plate_deflection_mm(pressure_mpa, length_mm, width_mm, thickness_mm, modulus_gpa)),
        allowed_deflection_mm=shorter_mm / deflection_ratio,
        stress_mpa=float(plate_stress_mpa(pressure_mpa, length_mm, width_mm, thickness_mm)),
        allowable_stress_mpa=float(allowable_stress_mpa),
        stiffness_thickness_mm=stiffness_mm,
        strength_thickness_mm=strength_mm,
        required_thickness_mm=max(stiffness_mm, strength_mm),
    )
