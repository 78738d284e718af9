"""Metrics of a dry-process film (cathode, anode or SSE separator), from what was weighed and measured.

A film's record holds component masses, area and thickness; loading, capacity, density and porosity
are derived here every time rather than typed in, so that they can never disagree with the masses
they come from. Porosity uses the theoretical density of the mixture, 1/Σ(wᵢ/ρᵢ), which is the
density the film would have with no voids at all.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from assbtrack.domain.inputs import ModelInputError, check_number
from materials.conductivity import ConductivityRetention, checked_array

WEIGHT_FRACTION_TOLERANCE = 1e-3  # MODELS.md: fractions sum to 1 within 0.1 %
UM_PER_CM = 1e4
MG_PER_G = 1e3


@dataclass(frozen=True)
class FilmComponent:
    name: str
    mass_g: float
    density_g_per_cm3: float
    specific_capacity_mah_per_g: float | None = None
    is_active: bool = False


@dataclass(frozen=True)
class FilmMetrics:
    """``weight_fractions`` follow the order of the components given (names may repeat, e.g. two lots)."""

    mass_g: float
    weight_fractions: tuple[float, ...]
    areal_loading_mg_per_cm2: float
    areal_capacity_mah_per_cm2: float | None  # None for a film without active material (a separator)
    density_g_per_cm3: float
    theoretical_density_g_per_cm3: float
    porosity: float  # fraction 0–1

    @property
    def porosity_percent(self) -> float:
        return self.porosity * 100.0


def check_weight_fractions(fractions: npt.ArrayLike, *, field: str = "components") -> np.ndarray:
    """Refuse fractions that do not add up to one: a recipe that sums to 98 % has a component missing."""
    values = checked_array(fractions, field, minimum=0.0)
    if values.ndim != 1 or values.size == 0:
        raise ModelInputError(field, "needs at least one component")
    total = float(values.sum())
    if abs(total - 1.0) > WEIGHT_FRACTION_TOLERANCE:
        raise ModelInputError(
            field,
            f"weight fractions sum to {total:.2%}, not 100 % (within {WEIGHT_FRACTION_TOLERANCE:.1%})",
        )
    return values


def weight_fractions(masses_g: npt.ArrayLike, *, field: str = "components") -> np.ndarray:
    masses = checked_array(masses_g, field, greater_than=0.0)
    if masses.ndim != 1 or masses.size == 0:
        raise ModelInputError(field, "needs at least one component")
    return check_weight_fractions(masses / masses.sum(), field=field)


def _check_components(components: Sequence[FilmComponent]) -> None:
    if len(components) == 0:
        raise ModelInputError("components", "needs at least one component")
    for index, component in enumerate(components):
        field = f"components[{index}]"
        check_number(component.mass_g, f"{field}.mass_g", greater_than=0.0)
        check_number(component.density_g_per_cm3, f"{field}.density_g_per_cm3", greater_than=0.0)
        if component.specific_capacity_mah_per_g is not None:
            check_number(
                component.specific_capacity_mah_per_g,
                f"{field}.specific_capacity_mah_per_g",
                greater_than=0.0,
            )
        elif component.is_active:
            # An active material without a capacity would silently count as zero mAh/cm².
            raise ModelInputError(
                f"{field}.specific_capacity_mah_per_g", "is required for an active component"
            )


def film_metrics(components: Sequence[FilmComponent], *, area_cm2: float, thickness_um: float) -> FilmMetrics:
    """Loading, capacity, density and porosity of one film (MODELS.md, "Film metrics").

    The porosity is not clipped at zero: a slightly negative value points at a thickness or mass
    that was recorded wrong, and hiding it would hide that.
    """
    _check_components(components)
    area = check_number(area_cm2, "area_cm2", greater_than=0.0)
    thickness_cm = check_number(thickness_um, "thickness_um", greater_than=0.0) / UM_PER_CM
    masses_g = np.array([component.mass_g for component in components], dtype=float)
    densities = np.array([component.density_g_per_cm3 for component in components], dtype=float)
    capacities = np.array(
        [component.specific_capacity_mah_per_g or 0.0 for component in components], dtype=float
    )
    active = np.array([component.is_active for component in components], dtype=bool)

    fractions = weight_fractions(masses_g)
    mass_g = float(masses_g.sum())
    loading_mg_per_cm2 = mass_g * MG_PER_G / area
    areal_capacity = (
        float(loading_mg_per_cm2 / MG_PER_G * np.sum(fractions[active] * capacities[active]))
        if active.any()
        else None
    )
    density = mass_g / (area * thickness_cm)
    theoretical_density = float(1.0 / np.sum(fractions / densities))
    return FilmMetrics(
        mass_g=mass_g,
        weight_fractions=tuple(float(fraction) for fraction in fractions),
        areal_loading_mg_per_cm2=loading_mg_per_cm2,
        areal_capacity_mah_per_cm2=areal_capacity,
        density_g_per_cm3=density,
        theoretical_density_g_per_cm3=theoretical_density,
        porosity=1.0 - density / theoretical_density,
    )


def binder_fraction(components: Sequence[FilmComponent], *, binder_names: Collection[str]) -> float:
    """Weight fraction of the binder (PTFE in dry films), which decides whether a film is free-standing."""
    _check_components(components)
    names = {component.name for component in components}
    missing = sorted(set(binder_names) - names)
    if missing:
        raise ModelInputError("binder_names", f"{', '.join(missing)} is not a component of this film")
    fractions = weight_fractions([component.mass_g for component in components])
    is_binder = np.array([component.name in binder_names for component in components], dtype=bool)
    return float(fractions[is_binder].sum())


def separator_conductivity_retention(
    film_conductivity_ms_per_cm: float, batch_conductivity_ms_per_cm: float
) -> ConductivityRetention:
    """σ_film/σ_batch: how much of the pristine powder's conductivity survived mixing, fibrillation and
    rolling."""
    batch = check_number(batch_conductivity_ms_per_cm, "batch_conductivity_ms_per_cm", greater_than=0.0)
    film = check_number(film_conductivity_ms_per_cm, "film_conductivity_ms_per_cm", minimum=0.0)
    return ConductivityRetention(retention_fraction=film / batch, retention_percent=film / batch * 100.0)


def check_thickness_decreases(thicknesses_um: npt.ArrayLike, *, tolerance_um: float = 0.0) -> int | None:
    """Index of the first calendering pass that left the film thicker than the pass before, or None.

    Calendering only compresses; a film that grows between passes means a wrong entry or a
    mixed-up film, which is worth flagging before the thickness is used for porosity.
    """
    thicknesses = checked_array(thicknesses_um, "thicknesses_um", greater_than=0.0)
    tolerance = check_number(tolerance_um, "tolerance_um", minimum=0.0)
    if thicknesses.ndim != 1:
        raise ModelInputError("thicknesses_um", "must be a list of thicknesses, one per pass")
    increases = np.flatnonzero(np.diff(thicknesses) > tolerance)
    return int(increases[0]) + 1 if increases.size else None
