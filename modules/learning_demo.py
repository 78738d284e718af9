"""Demo records for process learning: a project whose milling batches vary speed, time, ball-to-powder ratio and
heat treatment, measured one after another, so that the control chart, the yield panel and the design-space
model have something real to show. Two routine batches from a contaminated jar fall below the limits (WE1); the
campaign that follows changes the recipe on purpose, and the chart says so too. A housing campaign in the same
project presses one film per design, across springs, gaskets, plates, bolt torque and set pressure, so that the
housing design space has records too.

It runs after the whole chain's demo (``assbtrack.tracing.demo.LATE_DEMOS``), in a project of its own."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from assbtrack.access.services import project_create
from assbtrack.quality.design import design_submit
from assbtrack.tracing.services import item_release
from materials.choices import ConditioningKind, MaterialRole, SseClass, SynthesisRoute
from materials.services import batch_create, lot_create, measurement_add, step_add

from .demo import DEMO_CALIBRATION, synthetic_film_png
from .services import housing_design_create, pressure_scan_create, pressure_scan_process

DEMO_LEARNING_PROJECT = "process-learning"
PELLET_DIAMETER_MM = 10.0
PELLET_THICKNESS_MM = 0.9


def _sigma_ms_per_cm(speed_rpm: float, time_h: float, bpr: float, ht_c: float) -> float:
    """A smooth response like Figure 2b: saturation with milling time, an optimum speed and heat treatment."""
    saturation = 1.0 - math.exp(-time_h / 0.6)
    speed = math.exp(-((speed_rpm - 520.0) / 180.0) ** 2)
    treatment = math.exp(-((ht_c - 540.0) / 120.0) ** 2)
    return 0.6 + 3.6 * saturation * speed * (0.55 + 0.45 * treatment) * (0.9 + 0.1 * min(bpr, 40.0) / 40.0)


def _edge_gain(spring_n_per_mm: float, shore_a: float, thickness_mm: float, modulus_gpa: float, torque_nm: float,
               pressure_mpa: float) -> float:
    """How much harder the film is pressed at the rim than in the middle: a stiff plate, springs and a gasket
    even it out; too much torque for the set pressure crushes the rim."""
    stiffness = (modulus_gpa / 200.0) * (thickness_mm / 20.0) ** 3
    compliance = 0.5 * math.exp(-((spring_n_per_mm - 300.0) / 250.0) ** 2) + 0.35 * math.exp(
        -((shore_a - 55.0) / 25.0) ** 2)
    overtorque = max(0.0, torque_nm / (2.4 * pressure_mpa) - 1.0)
    return max(0.02, 1.3 - 0.45 * min(stiffness, 2.0) - compliance + 0.6 * overtorque)


def _housing_campaign(project, technician, scientist, rng) -> int:

    count = 0
    for index in range(12):
        spring = float(rng.choice([0.0, 150.0, 300.0, 450.0, 600.0]))
        shore = float(rng.choice([0.0, 40.0, 55.0, 70.0]))
        thickness, modulus = float(rng.uniform(12.0, 30.0)), float(rng.choice([70.0, 110.0, 200.0]))
        pressure = float(rng.choice([3.0, 5.0, 8.0]))
        torque = round(float(rng.uniform(1.8, 3.2)) * pressure, 1)
        design = housing_design_create(
            project=project, user=scientist, name=f"Campaign housing {index + 1}", plate_length_mm=130.0,
            plate_width_mm=90.0, plate_thickness_mm=round(thickness, 1), target_stack_pressure_mpa=pressure,
            plate_material="steel" if modulus == 200.0 else "aluminium" if modulus == 70.0 else "titanium",
            plate_modulus_gpa=modulus, bolt_count=4, bolt_size="M6", bolt_torque_nm=torque,
            spring_count=4 if spring else 0, spring_constant_n_per_mm=spring or None,
            gasket_material="silicone" if shore else "none", gasket_shore_a_hardness=shore or None,
            gasket_thickness_mm=1.0 if shore else None, notes="housing campaign: one film pressed per design",
        )
        gain = _edge_gain(spring, shore, thickness, modulus, torque, pressure)
        scan = pressure_scan_create(
            user=technician, design=design, label=f"campaign film {index + 1}", calibration=DEMO_CALIBRATION,
            content=synthetic_film_png(height_px=60, width_px=90, mean_density=20.0 * pressure, edge_gain=gain,
                                       noise=3.0, seed=100 + index),
            original_filename="campaign-film.png", scanned_on=timezone.localdate(), submit_job=False,
        )
        pressure_scan_process(scan_id=scan.pk)
        count += 1
    return count


def load(context) -> None:


    technician, scientist = context.users["technician"], context.users["scientist"]
    project = project_create(code=DEMO_LEARNING_PROJECT, name="Process learning",
                             description="Li6PS5Cl milling campaign: control charts and the next experiments.")
    # one pre-weighed precursor blend (5 Li2S : 1 P2S5 : 2 LiCl by mole) feeds the whole campaign, so that the
    # campaign's batches differ only in how they were milled, and its lot is not mistaken for a single precursor
    blend = lot_create(project=project, user=technician, chemical_name="Li6PS5Cl precursor blend, pre-weighed",
                       formula="5Li2S+P2S5+2LiCl", role=MaterialRole.PRECURSOR, mass_g=2000.0,
                       supplier="Example Chemicals", supplier_lot="PL-BLEND-01")
    item_release(item=blend.item, user=scientist, reason="certificate of analysis checked")
    rng = np.random.default_rng(21)
    start = timezone.now() - timedelta(days=80)
    area_cm2 = math.pi * (PELLET_DIAMETER_MM / 10.0) ** 2 / 4.0
    routine, campaign = 22, 14
    for index in range(routine + campaign):
        # the routine recipe with small variations (the first 20 are the baseline), then a campaign that explores
        if index < routine:
            speed, time_h, bpr, ht_c, ht_h = 510.0 + rng.normal(0, 8), 2.0, 30.0, 550.0, 5.0
        else:
            speed, time_h, bpr, ht_c, ht_h = (
                float(rng.uniform(300, 750)), float(rng.uniform(0.25, 5.0)), float(rng.choice([20.0, 30.0, 40.0])),
                float(rng.choice([450.0, 500.0, 550.0, 600.0])), float(rng.choice([2.0, 5.0, 8.0])))
        sigma = _sigma_ms_per_cm(speed, time_h, bpr, ht_c) * (1.0 + rng.normal(0, 0.015))
        if index in (routine - 2, routine - 1):
            sigma *= 0.55  # a contaminated jar: the chart flags it
        made = start + timedelta(days=3 * index)
        batch = batch_create(
            project=project, user=technician, composition="Li6PS5Cl", sse_class=SseClass.SULFIDE,
            route=SynthesisRoute.MECHANOCHEMICAL, precursors=[(blend.item, 10.0)],
            batch_mass_g=round(10.0 * float(rng.uniform(0.90, 0.97)), 3), milling_time_h=round(time_h, 3),
            speed_rpm=round(speed, 1), ball_to_powder_ratio=bpr, heat_treatment_temperature_c=ht_c,
            heat_treatment_time_h=ht_h, density_g_per_cm3=1.86, notes=f"milling campaign, batch {index + 1}",
        )
        if index % 3 == 0:
            step_add(batch=batch, user=technician, kind=ConditioningKind.SIEVING,
                     recovered_mass_g=round(batch.batch_mass_g * 0.95, 3), mesh_um=20.0, passes=1,
                     performed_at=made + timedelta(hours=4))
        resistance = (PELLET_THICKNESS_MM / 10.0) / (sigma / 1000.0 * area_cm2)
        measurement_add(batch=batch, user=technician, temperature_c=25.0, thickness_mm=PELLET_THICKNESS_MM,
                        diameter_mm=PELLET_DIAMETER_MM, resistance_ohm=round(resistance, 3), stack_pressure_mpa=370.0,
                        measured_at=made + timedelta(hours=6))
    housings = _housing_campaign(project, technician, scientist, rng)
    context.log.append(f"quality: {routine + campaign} milling batches and {housings} mapped housing designs in "
                       f"{DEMO_LEARNING_PROJECT}")
    transaction.on_commit(lambda: design_submit(user=scientist, step="milling", outcome="conductivity_ms_per_cm",
                                                project=project, bounds=None, count=3))
    transaction.on_commit(lambda: design_submit(user=scientist, step="housing", outcome="pressure_map_cv",
                                                project=project, bounds=None, count=3))
