"""Demo data of the modules app: two housing designs, a module of the demo cells, its pressures, two film scans.

Runs after the cells demo and uses ``context.items["cells"]``. The scans are synthetic films drawn
with numpy (a fairly even one for the design with springs and gaskets, an edge-heavy one for the
design with neither) and processed at once by the same function the worker runs, so the
side-by-side page has something to compare.
"""

from __future__ import annotations

import io
import math
from datetime import timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image

from assbtrack.tracing.choices import HELD_STATUSES
from assbtrack.tracing.services import item_release

from .choices import GasketMaterial, PlateMaterial, PressureReadingKind
from .design_check import plate_check
from .parsing import two_point_calibration
from .services import (
    housing_design_create,
    module_assemble,
    module_efficiency_submit,
    pressure_reading_create,
    pressure_scan_create,
    pressure_scan_process,
)

# Film calibration of the demo scans: white film (density 0) is 0 MPa, density 200 is 10 MPa.
DEMO_CALIBRATION = two_point_calibration(low_intensity=0, low_pressure_mpa=0, high_intensity=200,
                                         high_pressure_mpa=10)


def synthetic_film_png(*, height_px: int, width_px: int, mean_density: float, edge_gain: float, noise: float,
                       seed: int) -> bytes:
    """A scanned film as PNG bytes: colour density ``mean_density`` raised by ``edge_gain`` towards the edges.

    ``edge_gain`` 0 is an even film; 1 doubles the density at the very edge against the centre, as a
    stiff housing without springs or gaskets presses the stack's rim harder than its middle.
    """
    rows = np.linspace(-1.0, 1.0, height_px)[:, np.newaxis]
    cols = np.linspace(-1.0, 1.0, width_px)[np.newaxis, :]
    edge = np.maximum(np.abs(rows), np.abs(cols)) ** 3  # 0 in the centre, 1 at the rim
    density = mean_density * (1.0 + edge_gain * edge)
    density = density + np.random.default_rng(seed).normal(0.0, noise, size=density.shape)
    grey = np.clip(255.0 - density, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG")
    return buffer.getvalue()


def _usable(cell) -> bool:
    item = cell.item
    return item.status not in HELD_STATUSES and (item.quantity is None or item.quantity_used < item.quantity)


def _arrangement(count: int) -> tuple[int, int]:
    if count >= 4 and count % 2 == 0:
        return count // 2, 2
    return count, 1


def load(context) -> None:
    cells = context.items.get("cells") or []
    if isinstance(cells, dict):
        cells = list(cells.values())
    cells = [cell for cell in cells if _usable(cell)][:8]
    if len(cells) < 2:
        context.log.append("modules: fewer than 2 demo cells to build a module with; no module demo data")
        return
    technician, scientist = context.users["technician"], context.users["scientist"]
    project = context.project
    target_mpa = float(cells[0].operating_stack_pressure_mpa or 5.0)
    length_mm = max(float(cell.length_mm) for cell in cells) + 10.0
    width_mm = max(float(cell.width_mm) for cell in cells) + 10.0

    def needed_mm(allowable_mpa: float) -> float:
        check = plate_check(pressure_mpa=target_mpa, length_mm=length_mm, width_mm=width_mm, thickness_mm=1.0,
                            modulus_gpa=200.0, deflection_ratio=500.0, allowable_stress_mpa=allowable_mpa)
        return check.required_thickness_mm

    sprung = housing_design_create(
        project=project, user=scientist, name="Steel end plates, springs and gaskets",
        plate_material=PlateMaterial.STEEL, plate_length_mm=length_mm, plate_width_mm=width_mm,
        plate_thickness_mm=math.ceil(needed_mm(200.0) + 1.0), target_stack_pressure_mpa=target_mpa,
        bolt_count=8, bolt_size="M8", bolt_torque_nm=12.0, spring_count=8, spring_constant_n_per_mm=450.0,
        gasket_material=GasketMaterial.SILICONE, gasket_shore_a_hardness=60.0, gasket_thickness_mm=1.5,
        expected_swelling_percent=4.0,
        notes="Disc springs under each bolt and a silicone gasket over the stack take up the cells' swelling.",
    )
    rigid = housing_design_create(
        project=project, user=scientist, name="Steel end plates, neither springs nor gaskets",
        plate_material=PlateMaterial.STEEL, plate_length_mm=length_mm, plate_width_mm=width_mm,
        plate_thickness_mm=round(0.7 * needed_mm(200.0), 1), target_stack_pressure_mpa=target_mpa,
        bolt_count=8, bolt_size="M8", bolt_torque_nm=12.0, expected_swelling_percent=4.0,
        notes="Bolted plates straight on the stack: the reference against which compliance is judged.",
    )
    context.log.append(f"modules: housing designs '{sprung.name}' and '{rigid.name}' ({rigid.name} warns: "
                       f"{len(rigid.plate_check.warnings)} plate warnings)")

    now = timezone.now()
    series, parallel = _arrangement(len(cells))
    try:
        module = module_assemble(
            project=project, user=technician, housing_design=sprung, series_count=series, parallel_count=parallel,
            cell_codes=[cell.item.code for cell in cells], assembled_on=timezone.localdate(),
            applied_stack_pressure_mpa=target_mpa, applied_at=now - timedelta(days=2),
            notes="Demo module from the pilot-line cells.",
        )
    except ValidationError as error:
        context.log.append(f"modules: the demo module could not be assembled: {error.messages}")
        return
    readings = (
        (PressureReadingKind.MEASURED, 0.96 * target_mpa, timedelta(days=2) - timedelta(hours=1), "load cell"),
        (PressureReadingKind.MEASURED, 0.88 * target_mpa, timedelta(days=1), "load cell, after formation"),
        (PressureReadingKind.SET, target_mpa, timedelta(hours=20), "bolts re-torqued"),
        (PressureReadingKind.MEASURED, 0.98 * target_mpa, timedelta(hours=19), "load cell"),
    )
    for kind, pressure_mpa, ago, method in readings:
        pressure_reading_create(module=module, user=technician, kind=kind, pressure_mpa=round(pressure_mpa, 3),
                                measured_at=now - ago, method=method)
    context.log.append(f"modules: {module.item.code} ({module.arrangement}, {module.system_energy_kwh * 1000:.1f} Wh) "
                       f"with {len(readings) + 1} pressure readings")

    films = (
        (sprung, module, "springs and gaskets, at target pressure",
         {"mean_density": 100.0, "edge_gain": 0.08, "noise": 5.0, "seed": 11}),
        (rigid, None, "neither, at target pressure",
         {"mean_density": 70.0, "edge_gain": 1.2, "noise": 8.0, "seed": 12}),
    )
    for design, on_module, label, shape in films:
        scan = pressure_scan_create(
            user=technician, design=design, module=on_module, label=label, calibration=DEMO_CALIBRATION,
            content=synthetic_film_png(height_px=200, width_px=300, **shape), original_filename="demo-film.png",
            scanned_on=timezone.localdate(), submit_job=False,
        )
        result, _ = pressure_scan_process(scan_id=scan.pk)
        context.log.append(f"modules: pressure map of '{design.name}': mean {result.mean_mpa:.2f} MPa, "
                           f"CV {100 * result.coefficient_of_variation:.1f} %")

    try:
        item_release(item=module.item, user=scientist, reason="pressure verified with a load cell")
    except ValidationError as error:
        context.log.append(f"modules: {module.item.code} stays a draft: {error.messages}")
    try:
        module_efficiency_submit(module=module, user=scientist)
        context.log.append(f"modules: cell-to-module model of {module.item.code} queued for the worker")
    except ValidationError as error:
        context.log.append(f"modules: the cell-to-module model cannot run on {module.item.code}: {error.messages}")
    context.items["module"] = module
    context.items["housing_designs"] = [sprung, rigid]
