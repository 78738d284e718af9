"""The stack geometry of cells/geometry.py, with values worked out by hand (no database)."""

import math

import pytest

from cells import geometry


def test_footprint_and_sides():
    assert geometry.footprint_cm2(50.0, 40.0) == pytest.approx(20.0)
    # 8 cm² at 2:1 is 40 mm × 20 mm
    length, width = geometry.sides_mm(8.0, 2.0)
    assert (length, width) == (pytest.approx(40.0), pytest.approx(20.0))


def test_a_sheet_may_reach_the_margin_beyond_each_edge_and_no_further():
    # 4 cm² square: 20 mm sides; with a 1 mm margin the other sheet may be 22 × 22 mm = 4.84 cm²
    assert geometry.aligned(4.0, 4.84, margin_mm=1.0, aspect=1.0)
    assert not geometry.aligned(4.0, 4.85, margin_mm=1.0, aspect=1.0)
    # no margin: only the same area lines up
    assert geometry.aligned(4.0, 4.0, margin_mm=0.0, aspect=1.0)
    assert not geometry.aligned(4.0, 4.0 * (1 + 1e-6), margin_mm=0.0, aspect=1.0)


def test_typed_in_areas_that_round_differently_still_fit():
    assert geometry.fits_within(0.1 + 0.2, 0.3)
    assert not geometry.fits_within(math.nextafter(0.3, 1) * (1 + 1e-8), 0.3)
