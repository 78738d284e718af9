"""Footprint geometry of a cell's stack: how the sheets of a layer lie over one another.

Pure: floats in, floats or booleans out; no Django. Sheets are taken as rectangles with the cell's
length-to-width aspect ratio, areas in cm², lengths in mm. ``cells.services.cell_build`` words the
refusals; this module only decides.
"""

from __future__ import annotations

import math

# Comparing areas of floats that were typed in: a relative slack far below any real misalignment.
AREA_TOLERANCE = 1e-9


def footprint_cm2(length_mm: float, width_mm: float) -> float:
    """Area of the cell's footprint (cm²) from its sides (mm)."""
    return length_mm * width_mm / 100.0


def sides_mm(area_cm2: float, aspect: float) -> tuple[float, float]:
    """Sides (mm) of a rectangle of ``area_cm2`` with length-to-width ``aspect``."""
    area_mm2 = area_cm2 * 100.0
    return math.sqrt(area_mm2 * aspect), math.sqrt(area_mm2 / aspect)


def fits_within(area_cm2: float, limit_cm2: float) -> bool:
    """Whether a sheet of ``area_cm2`` is no larger than ``limit_cm2`` (a footprint or a separator)."""
    return area_cm2 <= limit_cm2 * (1 + AREA_TOLERANCE)


def aligned(smaller_cm2: float, larger_cm2: float, *, margin_mm: float, aspect: float) -> bool:
    """Whether a sheet of ``larger_cm2`` lies within ``margin_mm`` of every edge of one of ``smaller_cm2``.

    The larger may reach ``margin_mm`` beyond each edge of the smaller, i.e. its area may be at most
    (a + 2m)(b + 2m), with a and b the smaller sheet's sides at the cell's ``aspect``.
    """
    length, width = sides_mm(smaller_cm2, aspect)
    allowed_cm2 = (length + 2 * margin_mm) * (width + 2 * margin_mm) / 100.0
    return fits_within(larger_cm2, allowed_cm2)
