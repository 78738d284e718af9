"""Demo materials, through the services: lots for the whole chain, a released Li6PS5Cl batch with its
measurements, conditioning and exposure, a milling-time series for Figure 2b, and a Li2ZrCl6 batch.

Hands on ``context.items["lots"]`` (name → MaterialLot) and ``context.items["sse_batch"]`` (released
Li6PS5Cl, 1.86 g/cm³). The conductivities follow σ(t) = σ_sat·(1 − exp(−t/τ)) with σ_sat = 3.2 mS/cm and
τ = 0.33 h (saturation near 1 h, as the perspective reports for Li6PS5Cl), and σ(T) an Arrhenius law
with Ea = 0.30 eV, with a few per cent of scatter so the fits have something to do.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from django.utils import timezone

from assbtrack.tracing.services import item_release

from .choices import (
    Atmosphere,
    ConditioningKind,
    MaterialRole,
    MillingMaterial,
    ProcessEnvironment,
    SseClass,
    SynthesisRoute,
)
from .services import (
    batch_create,
    batch_plots_submit,
    composition_plots_submit,
    conductivity_spec_set,
    conductivity_trend_submit,
    exposure_add,
    lot_create,
    measurement_add,
    measurement_correct,
    step_add,
)

BOLTZMANN_EV_PER_K = 8.617333262e-5
SIGMA_SAT_MS_PER_CM = 3.2
TAU_H = 0.33
ACTIVATION_ENERGY_EV = 0.30
PELLET_DIAMETER_MM = 10.0
# Li6PS5Cl from 5 Li2S + P2S5 + 2 LiCl, by mass; Li2ZrCl6 from 2 LiCl + ZrCl4.
LPSCL_FRACTIONS = {"Li2S": 0.428, "P2S5": 0.414, "LiCl": 0.158}
LZC_FRACTIONS = {"LiCl": 0.267, "ZrCl4": 0.733}

LOTS = (
    # key, chemical name, formula, role, mass (g), supplier, density, capacity, purity
    ("NCM811", "LiNi0.8Co0.1Mn0.1O2 (single crystal)", "LiNi0.8Co0.1Mn0.1O2", MaterialRole.ACTIVE_MATERIAL, 2000.0,
     "Cathode Materials Co.", 4.78, 200.0, 99.5),
    ("carbon", "Vapour-grown carbon fibre", "C", MaterialRole.CARBON, 200.0, "Carbon Supply AG", 2.0, None, 99.9),
    ("PTFE", "PTFE binder powder", "(C2F4)n", MaterialRole.BINDER, 200.0, "Fluoropolymers Ltd", 2.2, None, 99.0),
    ("Li foil", "Lithium foil, 50 µm", "Li", MaterialRole.FOIL, 100.0, "Lithium Metals Inc.", 0.534, 3861.0, 99.9),
    ("Li2S", "Lithium sulfide", "Li2S", MaterialRole.PRECURSOR, 500.0, "Sulfide Chemicals", 1.66, None, 99.98),
    ("P2S5", "Phosphorus pentasulfide", "P2S5", MaterialRole.PRECURSOR, 500.0, "Sulfide Chemicals", 2.09, None, 99.0),
    ("LiCl", "Lithium chloride, anhydrous", "LiCl", MaterialRole.PRECURSOR, 250.0, "Halide Chemicals", 2.07, None,
     99.99),
)


def _sigma_saturation(milling_time_h: float) -> float:
    return SIGMA_SAT_MS_PER_CM * (1.0 - math.exp(-milling_time_h / TAU_H))


def _sigma_at(sigma_25c: float, temperature_c: float) -> float:
    """σ(T) with σ·T ∝ exp(−Ea/k_B·T), through σ(25 °C)."""
    t_k, t25_k = temperature_c + 273.15, 298.15
    return sigma_25c * (t25_k / t_k) * math.exp(-ACTIVATION_ENERGY_EV / BOLTZMANN_EV_PER_K * (1 / t_k - 1 / t25_k))


def _resistance_ohm(sigma_ms_per_cm: float, thickness_mm: float) -> float:
    area_cm2 = math.pi * (PELLET_DIAMETER_MM / 10.0) ** 2 / 4.0
    return (thickness_mm / 10.0) / (sigma_ms_per_cm / 1000.0 * area_cm2)


def _measure(batch, user, sigma: float, *, temperature_c: float = 25.0, thickness_mm: float = 0.92, when=None,
             notes: str = "", typed_thickness_mm: float | None = None):
    """A measurement whose resistance gives ``sigma`` on a pellet ``thickness_mm`` thick (typed maybe wrongly)."""
    return measurement_add(
        batch=batch, user=user, temperature_c=temperature_c, thickness_mm=typed_thickness_mm or thickness_mm,
        diameter_mm=PELLET_DIAMETER_MM, resistance_ohm=round(_resistance_ohm(sigma, thickness_mm), 2),
        stack_pressure_mpa=370.0, measured_at=when, notes=notes,
    )


def _lpscl_batch(context, lots, *, precursor_g: float, milling_time_h: float, recovered: float, days_ago: int,
                 notes: str = ""):
    technician = context.users["technician"]
    precursors = [(lots[name].item, round(precursor_g * fraction, 3)) for name, fraction in LPSCL_FRACTIONS.items()]
    total = sum(mass for _, mass in precursors)
    return batch_create(
        project=context.project, user=technician, composition="Li6PS5Cl", sse_class=SseClass.SULFIDE,
        route=SynthesisRoute.MECHANOCHEMICAL, precursors=precursors, batch_mass_g=round(total * recovered, 3),
        milling_time_h=milling_time_h, speed_rpm=510.0, mill="Fritsch Pulverisette 7 premium line",
        jar_material=MillingMaterial.ZIRCONIA, media_material=MillingMaterial.ZIRCONIA, ball_diameter_mm=5.0,
        ball_to_powder_ratio=30.0, heat_treatment_temperature_c=550.0, heat_treatment_time_h=5.0,
        heat_treatment_atmosphere=Atmosphere.ARGON, environment=ProcessEnvironment.GLOVEBOX, glovebox_o2_ppm=0.3,
        glovebox_h2o_ppm=0.1, density_g_per_cm3=1.86, notes=notes or f"milling series, made {days_ago} days ago",
    )


def load(context) -> None:
    technician, scientist = context.users["technician"], context.users["scientist"]
    now = timezone.now()
    lots = {}
    for index, (key, name, formula, role, mass_g, supplier, density, capacity, purity) in enumerate(LOTS):
        lots[key] = lot_create(
            project=context.project, user=technician, chemical_name=name, formula=formula, role=role, mass_g=mass_g,
            supplier=supplier, supplier_lot=f"{supplier.split()[0][:4].upper()}-24{index + 11:03d}",
            received_on=date.today() - timedelta(days=60 - index), purity_percent=purity,
            storage_atmosphere=Atmosphere.ARGON, density_g_per_cm3=density, specific_capacity_mah_per_g=capacity,
        )
    for lot in lots.values():
        item_release(item=lot.item, user=scientist, reason="certificate of analysis checked")
    context.items["lots"] = lots
    conductivity_spec_set(project=context.project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=scientist)

    # The milling-time series of Figure 2b: 10 g batches, one measurement each at 25 °C.
    scatter = {0.25: 1.03, 0.5: 0.97, 1.0: 1.02, 4.0: 0.98}
    series = []
    for offset, (milling_time_h, factor) in enumerate(scatter.items()):
        batch = _lpscl_batch(context, lots, precursor_g=10.0, milling_time_h=milling_time_h, recovered=0.93,
                             days_ago=30 - 3 * offset)
        _measure(batch, technician, _sigma_saturation(milling_time_h) * factor,
                 when=now - timedelta(days=28 - 3 * offset))
        series.append(batch)
    for batch in series:
        if batch.milling_time_h >= 0.5:
            item_release(item=batch.item, user=scientist, reason="QC passed")

    # The batch the rest of the chain uses: 100 g, milled 2 h, several temperatures, conditioned, exposed.
    main = _lpscl_batch(context, lots, precursor_g=100.0, milling_time_h=2.0, recovered=0.96, days_ago=12,
                        notes="scale-up batch for the separator and cathode films")
    sigma_25c = _sigma_saturation(2.0) * 0.995
    first = _measure(main, technician, sigma_25c, when=now - timedelta(days=10, hours=4), typed_thickness_mm=1.20,
                     notes="thickness read before pressing was finished")
    before = measurement_correct(measurement=first, user=technician, reason="pellet thickness re-measured after "
                                 "pressing: 0.92 mm, not 1.20 mm", thickness_mm=0.92)
    _measure(main, technician, sigma_25c * 1.01, when=now - timedelta(days=10, hours=3), notes="second pellet")
    for hours, temperature_c in enumerate((40.0, 60.0, 80.0), start=1):
        _measure(main, technician, _sigma_at(sigma_25c, temperature_c), temperature_c=temperature_c,
                 when=now - timedelta(days=10, hours=3 - hours))
    step_add(batch=main, user=technician, kind=ConditioningKind.DRY_MILLING, mass_in_g=96.0, recovered_mass_g=94.8,
             speed_rpm=200.0, duration_h=0.5, d10_um=1.1, d50_um=4.2, d90_um=11.5,
             performed_at=now - timedelta(days=9))
    step_add(batch=main, user=technician, kind=ConditioningKind.SIEVING, recovered_mass_g=92.9, mesh_um=20.0,
             passes=2, d10_um=0.9, d50_um=3.1, d90_um=7.8, performed_at=now - timedelta(days=9))
    step_add(batch=main, user=technician, kind=ConditioningKind.WET_MILLING, recovered_mass_g=91.6, speed_rpm=150.0,
             duration_h=1.0, solvent="xylene", solvent_volume_ml=60.0, drying_temperature_c=80.0, drying_time_h=12.0,
             d10_um=0.5, d50_um=1.6, d90_um=3.9, performed_at=now - timedelta(days=8))
    step_add(batch=main, user=technician, kind=ConditioningKind.SIEVING, recovered_mass_g=90.5, mesh_um=10.0,
             passes=1, d10_um=0.5, d50_um=1.5, d90_um=3.4, performed_at=now - timedelta(days=8))
    for dew_point_c, duration_h, retention, h2s in ((-45.0, 4.0, 0.91, False), (-20.0, 4.0, 0.58, True)):
        after = _measure(main, technician, before.conductivity_ms_per_cm * retention,
                         when=now - timedelta(days=6), notes=f"after {duration_h:g} h at {dew_point_c:g} °C dew point")
        exposure_add(
            batch=main, user=technician, dew_point_c=dew_point_c, duration_h=duration_h, measurement_before=before,
            measurement_after=after, phase_retained=not h2s, h2s_observed=h2s, h2s_peak_ppm=4.5 if h2s else None,
            phase_notes="argyrodite reflections unchanged" if not h2s else "Li2S and LiCl reflections appear",
            exposed_at=now - timedelta(days=7),
        )
    item_release(item=main.item, user=scientist, reason="QC passed; released for film making")
    main.item.refresh_from_db()
    context.items["sse_batch"] = main

    # A halide batch in the halide screening project: 3 h of milling, no heat treatment.
    other = context.other_project
    halide_lots = {
        name: lot_create(project=other, user=technician, chemical_name=chemical, formula=name,
                         role=MaterialRole.PRECURSOR, mass_g=100.0, supplier="Halide Chemicals",
                         supplier_lot=f"HAL-{name}", storage_atmosphere=Atmosphere.ARGON)
        for name, chemical in (("LiCl", "Lithium chloride, anhydrous"), ("ZrCl4", "Zirconium(IV) chloride"))
    }
    halide = batch_create(
        project=other, user=technician, composition="Li2ZrCl6", sse_class=SseClass.HALIDE,
        route=SynthesisRoute.MECHANOCHEMICAL,
        precursors=[(halide_lots[name].item, round(10.0 * fraction, 3)) for name, fraction in LZC_FRACTIONS.items()],
        batch_mass_g=9.6, milling_time_h=3.0, speed_rpm=600.0, mill="Fritsch Pulverisette 7 premium line",
        jar_material=MillingMaterial.ZIRCONIA, media_material=MillingMaterial.ZIRCONIA, ball_diameter_mm=5.0,
        ball_to_powder_ratio=40.0, environment=ProcessEnvironment.DRY_ROOM, dew_point_c=-50.0,
        density_g_per_cm3=2.95, notes="no heat treatment",
    )
    _measure(halide, technician, 0.42, when=now - timedelta(days=2))
    context.items["halide_batch"] = halide

    for batch in (*series, main, halide):
        batch_plots_submit(batch=batch, user=scientist)
    composition_plots_submit(project=context.project, composition="Li6PS5Cl", user=scientist)
    for project in (context.project, other):
        conductivity_trend_submit(project=project, user=scientist)
    context.log.append(
        f"materials: {len(lots)} lots ({', '.join(lots)}), Li6PS5Cl batches "
        f"{', '.join(b.item.code for b in series)} (milling series) and {main.item.code} (released, "
        f"{main.item.quantity_remaining.normalize():f} g left), Li2ZrCl6 {halide.item.code} in {other.code}"
    )
