"""Reads of the modules app, scoped to what the user may see, with their joins (a fixed number of queries)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet

from assbtrack.access.selectors import scope_to_user

from .models import HousingDesign, Module, ModuleCell, PressureReading, PressureScan


def designs_visible_to(user: User | AnonymousUser) -> QuerySet[HousingDesign]:
    return scope_to_user(HousingDesign.objects.select_related("project", "created_by"), user)


def design_list(user: User | AnonymousUser) -> QuerySet[HousingDesign]:
    return designs_visible_to(user).annotate(
        module_count=Count("modules", distinct=True), scan_count=Count("scans", distinct=True)
    )


def design_get_for_user(design_id: int, user: User | AnonymousUser) -> HousingDesign | None:
    return designs_visible_to(user).filter(pk=design_id).first()


def modules_visible_to(user: User | AnonymousUser) -> QuerySet[Module]:
    return scope_to_user(
        Module.objects.select_related("item", "item__project", "housing_design"), user, project_field="item__project"
    )


def module_get_for_user(code: str, user: User | AnonymousUser) -> Module | None:
    return modules_visible_to(user).filter(item__code=(code or "").strip().upper()).first()


def module_positions_prefetch() -> Prefetch:
    return Prefetch("positions", queryset=ModuleCell.objects.select_related("cell", "cell__item").order_by("position"))


def module_readings_prefetch() -> Prefetch:
    return Prefetch(
        "pressure_readings",
        queryset=PressureReading.objects.select_related("created_by", "supersedes", "superseded_by"),
    )


def scans_visible_to(user: User | AnonymousUser) -> QuerySet[PressureScan]:
    return scope_to_user(
        PressureScan.objects.select_related("design", "design__project", "module", "module__item", "result", "job",
                                            "created_by"),
        user, project_field="design__project",
    )


def scan_get_for_user(scan_id: int, user: User | AnonymousUser) -> PressureScan | None:
    return scans_visible_to(user).filter(pk=scan_id).first()


def pressure_map_comparison(
    user: User | AnonymousUser, *, design_ids: Iterable[int] = (), limit_designs: int = 8
) -> list[tuple[HousingDesign, list[PressureScan]]]:
    """Designs with their scans, for the side-by-side page: two queries whatever the number of maps.

    Without ``design_ids`` the designs that have scans are shown, newest first.
    """
    designs = designs_visible_to(user)
    ids = [int(pk) for pk in design_ids]
    if ids:
        designs = designs.filter(pk__in=ids)
    else:
        designs = designs.filter(scans__isnull=False).distinct()
    designs = designs.prefetch_related(
        Prefetch("scans", queryset=PressureScan.objects.select_related("result", "module__item", "job")
                 .order_by("scanned_on", "id"))
    )[:limit_designs]
    return [(design, list(design.scans.all())) for design in designs]


def module_cells(module: Module) -> list:
    """The module's cells in position order (with their items)."""
    return [position.cell for position in ModuleCell.objects.select_related("cell", "cell__item")
            .filter(module=module).order_by("position")]


def _cell_figures(cell) -> tuple[float | None, float | None]:
    """A cell's Wh/kg (stored, else from its energy and mass) and Wh/L; None where not known."""
    specific = cell.specific_energy_wh_per_kg
    if specific is None and cell.mass_g:
        specific = float(cell.energy_wh) / (float(cell.mass_g) / 1000.0)
    return specific, cell.energy_density_wh_per_l


def cells_without_energy_figures(cells) -> list:
    """The cells the module model cannot use yet: no Wh/kg or no Wh/L (the cell energy model gives both)."""
    return [cell for cell in cells if not all(_cell_figures(cell))]


def module_efficiency_inputs(module: Module) -> dict:
    """The ``module_efficiency`` inputs of a real module, from its own cells and housing.

    System energy: the sum of the cells' energies. Cell Wh/kg and Wh/L: the cells' stored figures,
    combined as the model combines them (total energy over total mass, total energy over total
    volume), so a module of mixed cells is counted cell by cell. Footprint: the largest cell length
    and width, which the plates must cover. Plate: the housing's modulus, density, deflection
    tolerance and allowable stress. Pressure: the module's applied stack pressure.
    """
    cells = module_cells(module)
    if not cells:
        raise ValidationError({"cells": f"{module.item.code} has no cells"})
    missing = []
    energy_wh = mass_kg = volume_l = 0.0
    for cell in cells:
        cell_energy_wh = float(cell.energy_wh)
        specific, density = _cell_figures(cell)
        if not specific or not density:
            missing.append(cell.item.code)
            continue
        energy_wh += cell_energy_wh
        mass_kg += cell_energy_wh / float(specific)
        volume_l += cell_energy_wh / float(density)
    if missing:
        raise ValidationError({"cells": f"no specific energy (Wh/kg) or energy density (Wh/L) recorded for "
                                        f"{', '.join(missing)}: the model needs both for every cell"})
    if not energy_wh > 0:
        raise ValidationError({"cells": f"the cells of {module.item.code} store no energy"})
    design = module.housing_design
    return {
        "system_energy_kwh": energy_wh / 1000.0,
        "cell_specific_energy_wh_per_kg": energy_wh / mass_kg,
        "cell_energy_density_wh_per_l": energy_wh / volume_l,
        "cell_length_mm": max(float(cell.length_mm) for cell in cells),
        "cell_width_mm": max(float(cell.width_mm) for cell in cells),
        "stack_pressure_mpa": float(module.applied_stack_pressure_mpa),
        "plate_modulus_gpa": float(design.plate_modulus_gpa),
        "plate_density_kg_per_m3": float(design.plate_density_kg_per_m3),
        "deflection_ratio": float(design.deflection_ratio),
        "plate_allowable_stress_mpa": float(design.plate_allowable_stress_mpa),
    }
