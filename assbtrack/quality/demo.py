"""Demo records for process learning: a project whose milling batches vary speed, time, ball-to-powder ratio and
heat treatment, measured one after another, so that the control chart, the yield panel and the design-space
model have something real to show. Two routine batches from a contaminated jar fall below the limits (WE1); the
campaign that follows changes the recipe on purpose, and the chart says so too."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from assbtrack.access.services import project_create
from assbtrack.tracing.services import item_release

DEMO_LEARNING_PROJECT = "process-learning"
PELLET_DIAMETER_MM = 10.0
PELLET_THICKNESS_MM = 0.9


def _sigma_ms_per_cm(speed_rpm: float, time_h: float, bpr: float, ht_c: float) -> float:
    """A smooth response like Figure 2b: saturation with milling time, an optimum speed and heat treatment."""
    saturation = 1.0 - math.exp(-time_h / 0.6)
    speed = math.exp(-((speed_rpm - 520.0) / 180.0) ** 2)
    treatment = math.exp(-((ht_c - 540.0) / 120.0) ** 2)
    return 0.6 + 3.6 * saturation * speed * (0.55 + 0.45 * treatment) * (0.9 + 0.1 * min(bpr, 40.0) / 40.0)


def load(context) -> None:
    from materials.choices import ConditioningKind, MaterialRole, SseClass, SynthesisRoute
    from materials.services import batch_create, lot_create, measurement_add, step_add

    from .design import design_submit

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
    transaction.on_commit(lambda: design_submit(user=scientist, step="milling", outcome="conductivity_ms_per_cm",
                                                project=project, bounds=None, count=3))
