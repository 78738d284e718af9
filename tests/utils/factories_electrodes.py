"""Electrodes test data, built through the electrodes services exactly as the technician forms build it.

``make_film`` makes its own lots and SSE batch (through the materials factories), mixes, rolls and
records the result, so every derived metric exists. The default recipes and their metrics by hand:

Cathode (dry, 80 cm²): NCM811 1.600 g (4.75 g/cm³, 200 mAh/g), Li6PS5Cl 0.370 g (1.64 g/cm³),
carbon 0.020 g (1.90 g/cm³), PTFE 0.010 g (2.20 g/cm³) = 2.000 g → 80 / 18.5 / 1 / 0.5 wt %.
Film 1.920 g, 82 µm: loading 1920 mg / 80 cm² = 24 mg/cm²; capacity 0.024 · 0.8 · 200 = 3.84 mAh/cm²;
Σw/ρ = 0.8/4.75 + 0.185/1.64 + 0.01/1.9 + 0.005/2.2 = 0.288762 cm³/g → ρ_th = 3.46306 g/cm³;
ρ = 1.92 / (80 · 0.0082) = 2.92683 g/cm³ → porosity 1 − 2.92683 · 0.288762 = 0.154843.

Separator (dry, 110 cm²): Li6PS5Cl 0.4975 g + PTFE 0.0025 g (99.5 / 0.5 wt %); film 0.480 g, 30 µm:
loading 4.3636 mg/cm²; Σw/ρ = 0.995/1.64 + 0.005/2.2 = 0.608980 → ρ_th 1.64210; ρ = 1.45455 g/cm³ →
porosity 0.114211.

Anode (dry, 100 cm²): graphite 1.200 g (2.26 g/cm³, 372 mAh/g), Li6PS5Cl 0.760 g, carbon 0.030 g,
PTFE 0.010 g (60 / 38 / 1.5 / 0.5 wt %); film 1.920 g, 122 µm: loading 19.2 mg/cm², capacity
0.0192 · 0.6 · 372 = 4.2854 mAh/cm²; Σw/ρ = 0.507362 → porosity 1 − 1.57377 · 0.507362 = 0.201529.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.tracing.choices import ItemKind
from electrodes.choices import FilmProcess, MixerType, PassKind
from electrodes.models import Film, Sheet
from electrodes.services import film_create, film_pass_add, film_result_record, sheets_cut
from materials.choices import MaterialRole
from tests.utils.factories_materials import make_batch, make_lot

LPSCL_DENSITY_G_PER_CM3 = 1.64

# name, formula, role, density (g/cm³), specific capacity (mAh/g)
NCM811 = ("LiNi0.8Mn0.1Co0.1O2 (NCM811)", "LiNi0.8Mn0.1Co0.1O2", MaterialRole.ACTIVE_MATERIAL, 4.75, 200.0)
GRAPHITE = ("Graphite", "C", MaterialRole.ACTIVE_MATERIAL, 2.26, 372.0)
CARBON = ("Carbon black C65", "C", MaterialRole.CARBON, 1.90, None)
PTFE = ("PTFE", "(C2F4)n", MaterialRole.BINDER, 2.20, None)

# kind: component rows [(lot spec or "sse", mass g)], film area cm², film mass g, thickness after each pass µm
RECIPES: dict[str, dict[str, Any]] = {
    ItemKind.CATHODE_FILM: {
        "rows": [(NCM811, 1.600), ("sse", 0.370), (CARBON, 0.020), (PTFE, 0.010)],
        "area_cm2": 80.0, "mass_g": 1.920, "passes": [400.0, 250.0, 150.0, 100.0, 82.0],
    },
    ItemKind.SEPARATOR_FILM: {
        "rows": [("sse", 0.4975), (PTFE, 0.0025)],
        "area_cm2": 110.0, "mass_g": 0.480, "passes": [300.0, 150.0, 60.0, 30.0],
    },
    ItemKind.ANODE_FILM: {
        "rows": [(GRAPHITE, 1.200), ("sse", 0.760), (CARBON, 0.030), (PTFE, 0.010)],
        "area_cm2": 100.0, "mass_g": 1.920, "passes": [450.0, 300.0, 180.0, 122.0],
    },
}


def make_sse_batch(project: Project, user: User, *, stock_g: float = 50.0):
    """A Li6PS5Cl batch of 0.95 × ``stock_g`` grams (its own precursor lots), density 1.64 g/cm³."""
    precursors = [
        (make_lot(project, user, chemical_name="Lithium sulfide", formula="Li2S", mass_g=stock_g).item, 0.4 * stock_g),
        (make_lot(project, user, chemical_name="Phosphorus pentasulfide", formula="P2S5", mass_g=stock_g).item,
         0.4 * stock_g),
        (make_lot(project, user, chemical_name="Lithium chloride", formula="LiCl", mass_g=stock_g).item,
         0.2 * stock_g),
    ]
    return make_batch(project, user, precursors=precursors, density_g_per_cm3=LPSCL_DENSITY_G_PER_CM3)


def make_component_sources(
    project: Project, user: User, kind: str = ItemKind.CATHODE_FILM, *, sse_batch=None, stock_g: float = 50.0
):
    """Fresh lots of ``stock_g`` grams (and an SSE batch unless one is given) for ``kind``'s recipe:
    [(item, mass g)] in the recipe's order."""
    rows = []
    for what, mass_g in RECIPES[kind]["rows"]:
        if what == "sse":
            batch = sse_batch or make_sse_batch(project, user, stock_g=stock_g)
            rows.append((batch.item, mass_g))
            continue
        name, formula, role, density, capacity = what
        lot = make_lot(
            project, user, chemical_name=name, formula=formula, role=role, mass_g=stock_g,
            density_g_per_cm3=density, specific_capacity_mah_per_g=capacity,
        )
        rows.append((lot.item, mass_g))
    return rows


def make_film(project: Project, user: User, kind: str = ItemKind.CATHODE_FILM, **overrides: Any) -> Film:
    """A mixed, rolled film with its result recorded (so its derived metrics exist).

    Overrides: ``components`` [(item, mass g)], ``sse_batch`` (reuse a batch), ``process``, ``area_cm2``,
    ``mass_g`` (film), ``passes`` (thicknesses after each pass, µm), ``thickness_um`` (final),
    ``free_standing``, ``film_conductivity_ms_per_cm`` (separators), ``result=False`` (stop after the passes).
    """
    recipe = RECIPES[kind]
    components = overrides.pop("components", None)
    sse_batch = overrides.pop("sse_batch", None)
    if components is None:
        components = make_component_sources(project, user, kind, sse_batch=sse_batch)
    passes = overrides.pop("passes", recipe["passes"])
    thickness_um = overrides.pop("thickness_um", passes[-1] if passes else 80.0)
    mass_g = overrides.pop("mass_g", recipe["mass_g"])
    free_standing = overrides.pop("free_standing", True)
    conductivity = overrides.pop("film_conductivity_ms_per_cm", None)
    record_result = overrides.pop("result", True)
    # a film made to show a trend may be porous on purpose: confirmed, as a technician would (False to see the ask)
    confirm_warnings = overrides.pop("confirm_warnings", True)
    data: dict[str, Any] = {
        "process": FilmProcess.DRY,
        "area_cm2": recipe["area_cm2"],
        "mixer_type": MixerType.PLANETARY_CENTRIFUGAL,
        "mixing_speed_rpm": 2000.0,
        "mixing_time_s": 60.0,
        "batch_size_g": sum(mass for _, mass in components),
    }
    data.update(overrides)
    film = film_create(project=project, user=user, kind=kind, components=components, **data)
    for number, thickness in enumerate(passes, start=1):
        film_pass_add(
            film=film, user=user, roll_temperature_c=80.0 if number == 1 else 100.0,
            gap_um=max(thickness - 20.0, 0.0), line_force_n_per_mm=50.0 * number, speed_m_per_min=1.0,
            thickness_um=thickness, kind=PassKind.SHEAR if number == 1 else PassKind.CALENDER,
        )
    if record_result:
        film = film_result_record(
            film=film, user=user, thickness_um=thickness_um, mass_g=mass_g, free_standing=free_standing,
            film_conductivity_ms_per_cm=conductivity, confirm_warnings=confirm_warnings,
        )
    film.refresh_from_db()
    return film


def make_sheets(film: Film, user: User, count: int = 2, area_cm2: float = 10.0) -> list[Sheet]:
    return sheets_cut(film=film, user=user, count=count, area_cm2=area_cm2)
