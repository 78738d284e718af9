"""The generated per-model tests (tests/utils/generated.py) for modules, housing designs and pressure maps."""

from __future__ import annotations

from django.test import TestCase

from modules.models import HousingDesign, Module, PressureMapResult
from tests.materials.test_generated import quarantine
from tests.utils.factories_cells import make_cell_films
from tests.utils.factories_modules import make_design, make_module, make_scan, map_scan_quickly
from tests.utils.generated import GeneratedModelTests, ModelCase


def _modules(project, user, count: int) -> list[Module]:
    films = make_cell_films(project, user)
    design = make_design(project, user)
    return [make_module(project, user, cell_count=1, films=films, design=design) for _ in range(count)]


class TestModules(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=Module, make=lambda project, user: make_module(project, user, cell_count=1), make_many=_modules,
        api="modules", change=quarantine, pages=("/modules/",), page_of=lambda module: f"/items/{module.item.code}/",
        new_page="/modules/assemble/", partner_pages=True,
    )


class TestHousingDesigns(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=HousingDesign, make=make_design, api="housing-designs", key="id", key_of=lambda design: design.pk,
        pages=("/modules/designs/",), page_of=lambda design: f"/modules/designs/{design.pk}/",
        new_page="/modules/designs/new/", partner_pages=True,
    )


def _pressure_map(project, user) -> PressureMapResult:
    return map_scan_quickly(make_scan(user, design=make_design(project, user)))


def _pressure_maps(project, user, count: int) -> list[PressureMapResult]:
    design = make_design(project, user)
    return [map_scan_quickly(make_scan(user, design=design)) for _ in range(count)]


class TestPressureMaps(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=PressureMapResult, make=_pressure_map, make_many=_pressure_maps, api="pressure-maps", key="scan_id",
        key_of=lambda result: result.scan_id, pages=("/modules/pressure-maps/",),
        page_of=lambda result: f"/modules/scans/{result.scan_id}/", new_page="/modules/scans/new/", partner_pages=True,
    )
