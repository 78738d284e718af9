"""Materials test data, built through the materials services exactly as the forms build it."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.tracing.services import item_release
from materials.choices import MaterialRole, SseClass, SynthesisRoute
from materials.models import ConductivityMeasurement, MaterialLot, SynthesisBatch
from materials.services import batch_create, conductivity_spec_set, lot_create, measurement_add

_numbers = itertools.count(1)

# A 10 mm pellet, 1 mm thick: σ (mS/cm) = 10 / (R · π·0.25) = 12.732 / R
PELLET_DIAMETER_MM = 10.0
PELLET_THICKNESS_MM = 1.0


def resistance_for_ms_per_cm(conductivity_ms_per_cm: float, *, thickness_mm: float = PELLET_THICKNESS_MM,
                             diameter_mm: float = PELLET_DIAMETER_MM) -> float:
    """The bulk resistance (Ω) that gives ``conductivity_ms_per_cm`` on the given pellet: R = L/(σ·A)."""
    from math import pi

    area_cm2 = pi * (diameter_mm / 10.0) ** 2 / 4.0
    return (thickness_mm / 10.0) / (conductivity_ms_per_cm / 1000.0 * area_cm2)


def make_lot(project: Project, user: User, **overrides: Any) -> MaterialLot:
    n = next(_numbers)
    data: dict[str, Any] = {
        "chemical_name": "Lithium sulfide",
        "formula": "Li2S",
        "role": MaterialRole.PRECURSOR,
        "mass_g": 100.0,
        "supplier": "Example Chemicals",
        "supplier_lot": f"SUP-{n:05d}",
        "purity_percent": 99.9,
    }
    data.update(overrides)
    return lot_create(project=project, user=user, **data)


def make_batch(project: Project, user: User, **overrides: Any) -> SynthesisBatch:
    """A Li6PS5Cl batch; without ``precursors`` it makes its own three precursor lots (Li2S, P2S5, LiCl)."""
    precursors = overrides.pop("precursors", None)
    if precursors is None:
        precursors = [
            (make_lot(project, user, chemical_name="Lithium sulfide", formula="Li2S").item, 4.0),
            (make_lot(project, user, chemical_name="Phosphorus pentasulfide", formula="P2S5").item, 4.0),
            (make_lot(project, user, chemical_name="Lithium chloride", formula="LiCl").item, 2.0),
        ]
    precursor_mass = sum(float(mass) for _, mass in precursors)
    data: dict[str, Any] = {
        "composition": "Li6PS5Cl",
        "sse_class": SseClass.SULFIDE,
        "route": SynthesisRoute.MECHANOCHEMICAL,
        "batch_mass_g": round(precursor_mass * 0.95, 6),
        "milling_time_h": 1.0,
        "speed_rpm": 500.0,
        "density_g_per_cm3": 1.86,
    }
    data["confirm_warnings"] = True  # an instrument out of calibration is confirmed (False to see the ask)
    data.update(overrides)
    return batch_create(project=project, user=user, precursors=precursors, **data)


def make_measurement(batch: SynthesisBatch, user: User, *, conductivity_ms_per_cm: float = 3.0,
                     temperature_c: float = 25.0, **overrides: Any) -> ConductivityMeasurement:
    """A measurement on the standard 10 mm × 1 mm pellet whose resistance gives ``conductivity_ms_per_cm``."""
    data: dict[str, Any] = {
        "temperature_c": temperature_c,
        "thickness_mm": PELLET_THICKNESS_MM,
        "diameter_mm": PELLET_DIAMETER_MM,
        "resistance_ohm": resistance_for_ms_per_cm(conductivity_ms_per_cm),
        "stack_pressure_mpa": 100.0,
    }
    data.update(overrides)
    return measurement_add(batch=batch, user=user, **data)


def make_released_batch(
    project: Project,
    scientist_user: User,
    *,
    conductivity_ms_per_cm: float = 3.0,
    spec_ms_per_cm: float = 2.0,
    **overrides: Any,
) -> SynthesisBatch:
    """A batch that passed QC: a spec for its composition, a passing 25 °C measurement, then released."""
    batch = make_batch(project, scientist_user, **overrides)
    conductivity_spec_set(
        project=project, composition=batch.composition, minimum_ms_per_cm=spec_ms_per_cm, user=scientist_user
    )
    make_measurement(batch, scientist_user, conductivity_ms_per_cm=conductivity_ms_per_cm)
    item_release(item=batch.item, user=scientist_user, reason="QC passed")
    batch.item.refresh_from_db()
    return batch
