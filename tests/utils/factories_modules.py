"""Modules test data through the modules services: housing designs, modules of real cells, readings, scans.

``film_png`` draws a scanned pressure film (colour density = 255 − grey level) for the scan tests.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from PIL import Image

from assbtrack.access.models import Project
from modules.models import HousingDesign, Module, PressureMapResult, PressureScan
from modules.parsing import two_point_calibration
from modules.pressure import load_scan, pressure_map
from modules.services import (
    housing_design_create,
    module_assemble,
    pressure_map_result_store,
    pressure_scan_create,
)
from tests.utils.factories_cells import make_cell_films, make_cells

# Calibration of the test films: density 0 → 0 MPa, density 200 → 10 MPa, i.e. 0.05 MPa per density unit.
CALIBRATION = two_point_calibration(low_intensity=0, low_pressure_mpa=0, high_intensity=200, high_pressure_mpa=10)


def make_design(project: Project, user: User, **overrides: Any) -> HousingDesign:
    """A steel housing for 300 × 100 mm cells at 5 MPa (plate 320 × 120 mm, 16 mm thick: within L/500 and 200 MPa)."""
    data: dict[str, Any] = {
        "name": f"Housing {HousingDesign.objects.count() + 1}",
        "plate_length_mm": 320.0,
        "plate_width_mm": 120.0,
        "plate_thickness_mm": 16.0,
        "target_stack_pressure_mpa": 5.0,
        "bolt_count": 8,
        "bolt_size": "M8",
    }
    data.update(overrides)
    return housing_design_create(project=project, user=user, **data)


def make_module(
    project: Project, user: User, *, cells: list | None = None, cell_count: int = 2,
    design: HousingDesign | None = None, series: int | None = None, parallel: int = 1, pressure_mpa: float = 5.0,
    films=None,
) -> Module:
    """A module of ``cells`` (or of ``cell_count`` fresh cells), series by default."""
    if cells is None:
        cells = make_cells(project, user, cell_count, films=films)
    design = design or make_design(project, user)
    return module_assemble(
        project=project, user=user, housing_design=design, series_count=series or len(cells) // parallel,
        parallel_count=parallel, cell_codes=[cell.item.code for cell in cells], assembled_on=date(2025, 3, 1),
        applied_stack_pressure_mpa=pressure_mpa,
    )


def film_png(density: np.ndarray, fmt: str = "PNG") -> bytes:
    """An 8-bit greyscale scan whose colour density (255 − grey) is ``density``."""
    grey = np.clip(np.rint(255.0 - np.asarray(density, dtype=float)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format=fmt)
    return buffer.getvalue()


def uniform_density(height_px: int = 80, width_px: int = 80, value: float = 100.0) -> np.ndarray:
    return np.full((height_px, width_px), value)


def centre_heavy_density(height_px: int = 80, width_px: int = 80, edge: float = 40.0, centre: float = 160.0
                         ) -> np.ndarray:
    """``edge`` density everywhere, ``centre`` in the middle half (rows and columns), as a domed stack."""
    density = np.full((height_px, width_px), edge)
    density[height_px // 4: 3 * height_px // 4, width_px // 4: 3 * width_px // 4] = centre
    return density


def make_scan(user: User, *, design: HousingDesign | None = None, module: Module | None = None,
              density: np.ndarray | None = None, submit_job: bool = False, **overrides: Any) -> PressureScan:
    data: dict[str, Any] = {
        "label": "test film",
        "calibration": CALIBRATION,
        "scanned_on": date(2025, 3, 2),
        "grid_rows": 20,
        "grid_cols": 20,
        "original_filename": "film.png",
    }
    data.update(overrides)
    content = film_png(uniform_density() if density is None else density)
    return pressure_scan_create(user=user, design=design, module=module, content=content, submit_job=submit_job,
                                **data)


def map_scan_quickly(scan: PressureScan) -> PressureMapResult:
    """The scan's map stored through the service, with a 1-pixel stand-in for the heat map.

    For tests about pages and queries, where drawing 30 real heat maps would only cost time; the
    map tests use ``pressure_scan_process``, which draws it.
    """
    with scan.image.open("rb") as handle:
        pixels = load_scan(handle.read())
    result = pressure_map(pixels, scan.calibration, (scan.grid_rows, scan.grid_cols), scan.threshold_fraction)
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    return pressure_map_result_store(scan=scan, job_id=None, result=result, heatmap_png=buffer.getvalue())


__all__ = ["make_cell_films", "make_cells", "make_design", "make_module", "make_scan", "film_png", "map_scan_quickly"]
