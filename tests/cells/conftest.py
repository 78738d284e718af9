"""Fixtures of the cells tests: films (and lithium foil) that many cells can cut their sheets from."""

from __future__ import annotations

import pytest

from cells.choices import AnodeType
from tests.utils.factories_cells import make_cell_films


@pytest.fixture
def films(project, tech):
    """Cathode (80 cm², 3.84 mAh/cm²) and separator (110 cm², 30 µm) films, and 10 g of lithium foil."""
    return make_cell_films(project, tech, anode_type=AnodeType.LI_METAL)


@pytest.fixture
def graphite_films(project, tech):
    """Cathode and separator films, and a graphite anode film (50 cm², 4.28544 mAh/cm²)."""
    return make_cell_films(project, tech, anode_type=AnodeType.GRAPHITE)
