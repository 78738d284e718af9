"""The generated per-model tests (tests/utils/generated.py) for cells."""

from __future__ import annotations

from django.test import TestCase

from cells.models import Cell
from cells.services import cell_energy_set
from tests.utils.factories_cells import make_cell, make_cells
from tests.utils.generated import GeneratedModelTests, ModelCase


def _energy_revised(cell: Cell, user) -> Cell:
    return cell_energy_set(cell=cell, user=user, specific_energy_wh_per_kg=390.0, energy_density_wh_per_l=990.0,
                           reason="re-weighed pouch")


class TestCells(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=Cell, make=make_cell, make_many=lambda project, user, n: make_cells(project, user, n) if n else [],
        api="cells", change=_energy_revised,
        pages=("/cells/",), page_of=lambda cell: f"/cells/{cell.item.code}/", new_page="/cells/new/",
    )
