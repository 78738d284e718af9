"""Reads of the cells app: cells with their joins, a cell's stack-energy inputs, its latest jobs and cycles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from assbtrack.access.models import Project
from assbtrack.access.selectors import scope_to_user
from assbtrack.domain.inputs import ModelInputError
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.tracing.choices import LineageRole
from assbtrack.tracing.models import TracedItem
from electrodes.models import Film, FilmComponent, Sheet
from materials.models import MaterialLot

from .choices import COLLECTOR_DENSITY_G_PER_CM3, COMPOSITE_SHEET_ANODES, AnodeType, CellFormat, ImportStatus
from .cycling import CycleMetrics
from .models import Cell, CellDensification, CellEvent, CellLayer, CycleRecord, CyclingTest, RetentionSpec

LAYER_SELECT = (
    "cathode__item", "cathode__film__item",
    "separator__item", "separator__film__item",
    "anode__item", "anode__film__item",
    "anode_lot__item",
)


def cells_visible_to(user: User | AnonymousUser) -> QuerySet[Cell]:
    return scope_to_user(Cell.objects.select_related("item", "item__project"), user, project_field="item__project")


def cell_get_for_user(code: str, user: User | AnonymousUser) -> Cell | None:
    return cells_visible_to(user).filter(item__code=str(code).strip().upper()[:20]).first()


def layer_sheets_by_id(layers: Sequence[Mapping[str, Any]]) -> dict[int, Sheet]:
    """The sheets the layers of a cell to be built name (cathode, separator, anode), by id: one query."""
    ids = {
        item.pk
        for layer in layers
        for key in ("cathode", "separator", "anode")
        if isinstance(item := layer.get(key), TracedItem)
    }
    return {sheet.pk: sheet for sheet in Sheet.objects.select_related("item", "film__item").filter(pk__in=ids)}


def layer_lots_by_id(layers: Sequence[Mapping[str, Any]]) -> dict[int, MaterialLot]:
    """The foil lots the layers of a cell to be built name, by id: one query."""
    ids = {layer["anode_lot"].pk for layer in layers if isinstance(layer.get("anode_lot"), TracedItem)}
    return {lot.pk: lot for lot in MaterialLot.objects.select_related("item").filter(pk__in=ids)}


def layers_prefetch() -> Prefetch:
    return Prefetch("layers", queryset=CellLayer.objects.select_related(*LAYER_SELECT))


def cell_page_queryset(user: User | AnonymousUser) -> QuerySet[Cell]:
    """A cell with everything its page shows, in a fixed number of queries."""
    return cells_visible_to(user).prefetch_related(
        layers_prefetch(),
        Prefetch(
            "densifications",
            queryset=CellDensification.objects.select_related("created_by", "supersedes", "superseded_by", "equipment")
            .prefetch_related("equipment__calibrations"),
        ),
        Prefetch("events", queryset=CellEvent.objects.select_related("created_by")),
        Prefetch(
            "cycling_tests",
            queryset=CyclingTest.objects.select_related("import_job", "created_by", "cycler_channel__equipment")
            .prefetch_related("cycler_channel__equipment__calibrations"),
        ),
    )


def latest_job(subject_id: int, kind: str, *, finished_only: bool = False) -> Job | None:
    jobs = Job.objects.filter(subject_id=subject_id, kind=kind).prefetch_related("files")
    if finished_only:
        jobs = jobs.filter(status=JobStatus.SUCCEEDED)
    return jobs.order_by("-created_at", "-id").first()


def cycle_records(test: CyclingTest) -> QuerySet[CycleRecord]:
    return CycleRecord.objects.filter(test=test).order_by("cycle_number")


def cycle_metrics_of(test: CyclingTest) -> CycleMetrics:
    """The stored per-cycle table as the domain's ``CycleMetrics`` (for plots); one query."""
    rows = list(
        cycle_records(test).values_list(
            "cycle_number", "charge_capacity_mah", "discharge_capacity_mah", "charge_energy_mwh",
            "discharge_energy_mwh", "coulombic_efficiency", "energy_efficiency", "retention", "complete",
            "diagnostic",
        )
    )
    table = np.array(rows, dtype=float).reshape(-1, 10) if rows else np.zeros((0, 10))
    referred = np.flatnonzero(np.isfinite(table[:, 7]))
    return CycleMetrics(
        cycle=table[:, 0].astype(np.int64),
        charge_capacity_mah=table[:, 1],
        discharge_capacity_mah=table[:, 2],
        charge_energy_mwh=table[:, 3],
        discharge_energy_mwh=table[:, 4],
        coulombic_efficiency=table[:, 5],
        energy_efficiency=table[:, 6],
        retention=table[:, 7],
        complete=table[:, 8].astype(bool),
        diagnostic=table[:, 9].astype(bool),
        reference_index=int(referred[0]) if referred.size else None,
    )


# --------------------------------------------------------------------------------------------------
# The stack_energy inputs of a real cell
# --------------------------------------------------------------------------------------------------


def _components(film: Film, components: Iterable[FilmComponent], field: str) -> list[dict[str, Any]]:
    """The film's recipe in the model's terms; the specific capacity goes on the active material only."""
    rows = list(components)
    if not rows:
        raise ModelInputError(field, f"{film.item.code} has no components recorded")
    active = [row for row in rows if row.role == LineageRole.ACTIVE_MATERIAL and row.specific_capacity_mah_per_g]
    if len(active) != 1:
        active = [row for row in rows if row.specific_capacity_mah_per_g]
    if len(active) != 1:
        raise ModelInputError(
            field, f"{film.item.code} needs exactly one active material with a specific capacity, has {len(active)}"
        )
    return [
        {
            "name": row.name,
            "weight_fraction": row.weight_fraction,
            "density_g_per_cm3": row.density_g_per_cm3,
            **({"specific_capacity_mah_per_g": row.specific_capacity_mah_per_g} if row is active[0] else {}),
        }
        for row in rows
    ]


def _area_weighted(pairs: list[tuple[float | None, float]], field: str, what: str) -> float:
    if any(value is None for value, _ in pairs):
        raise ModelInputError(field, f"a film of the stack has no {what} recorded")
    total_area = sum(area for _, area in pairs)
    return sum(value * area for value, area in pairs) / total_area


def _main_film(sheets: list, field: str) -> Film:
    """The film that gives most of the stack's area of one kind: its recipe stands for the layer."""
    areas: dict[int, float] = {}
    films: dict[int, Film] = {}
    for sheet in sheets:
        areas[sheet.film_id] = areas.get(sheet.film_id, 0.0) + sheet.area_cm2
        films[sheet.film_id] = sheet.film
    if not films:
        raise ModelInputError(field, "no sheet of this kind in the stack")
    return films[max(areas, key=areas.get)]


def _collector(material: str, thickness_um: float | None) -> dict[str, Any] | None:
    if not material:
        return None
    density = COLLECTOR_DENSITY_G_PER_CM3[material]
    return {"material": material, "thickness_um": thickness_um, "density_g_per_cm3": density}


def cell_stack_energy_inputs(cell: Cell) -> dict[str, Any]:
    """The ``stack_energy`` input (MODELS.md) of one repeat unit of ``cell``, from its own layers.

    Cathode: areal capacity = the layers' cathode capacity over their area; porosity area-weighted
    over the sheets' films; recipe of the film giving most of the area (components and densities as
    weighed). Separator: thickness area-weighted; the dense electrolyte's density is the film's
    theoretical density, with the film's porosity (so mass = thickness × measured density). Anode:
    N/P = the layers' anode capacity over their cathode capacity; a composite sheet anode brings its
    film's recipe and porosity, a Li-In foil lot its density and capacity. Collectors: shared (half
    each) in a multi-layer pouch, whole in a single-layer pouch, none in a pellet.
    """
    layers = list(CellLayer.objects.filter(cell=cell).select_related(*LAYER_SELECT).order_by("position"))
    if not layers:
        raise ModelInputError("layers", f"{cell.item.code} has no layers")
    film_ids = {sheet.film_id for layer in layers for sheet in (layer.cathode, layer.separator, layer.anode) if sheet}
    components: dict[int, list[FilmComponent]] = {film_id: [] for film_id in film_ids}
    for component in FilmComponent.objects.filter(film_id__in=film_ids).order_by("film_id", "position"):
        components[component.film_id].append(component)

    cathodes = [layer.cathode for layer in layers]
    cathode_area = sum(sheet.area_cm2 for sheet in cathodes)
    cathode_capacity = sum(layer.cathode_capacity_mah for layer in layers)
    cathode_film = _main_film(cathodes, "cathode")
    design: dict[str, Any] = {
        "cathode": {
            "areal_capacity_mah_per_cm2": cathode_capacity / cathode_area,
            "voltage_v": cell.cathode_voltage_v,
            "porosity": _area_weighted([(s.film.porosity, s.area_cm2) for s in cathodes], "cathode.porosity",
                                       "porosity"),
            "components": _components(cathode_film, components[cathode_film.pk], "cathode.components"),
        }
    }

    separators = [layer.separator for layer in layers]
    thickness = _area_weighted([(s.film.thickness_um, s.area_cm2) for s in separators], "separator.thickness_um",
                               "thickness")
    dense = [(s.film.theoretical_density_g_per_cm3, s.film.porosity, s.film.density_g_per_cm3, s.area_cm2)
             for s in separators]
    if all(theoretical is not None and porosity is not None for theoretical, porosity, _, _ in dense):
        density = _area_weighted([(t, a) for t, _, _, a in dense], "separator.density_g_per_cm3", "density")
        porosity = _area_weighted([(p, a) for _, p, _, a in dense], "separator.porosity", "porosity")
    else:  # no recipe densities: the measured film density, as if dense
        density = _area_weighted([(d, a) for _, _, d, a in dense], "separator.density_g_per_cm3", "density")
        porosity = 0.0
    design["separator"] = {"thickness_um": thickness, "density_g_per_cm3": density, "porosity": max(porosity, 0.0)}

    anode: dict[str, Any] = {"type": cell.anode_type, "voltage_v": cell.anode_voltage_v}
    anode_capacity = sum(layer.anode_capacity_mah for layer in layers)
    anode["np_ratio"] = anode_capacity / cathode_capacity
    anode_sheets = [layer.anode for layer in layers if layer.anode_id]
    if cell.anode_type in COMPOSITE_SHEET_ANODES:
        if anode_sheets:
            anode_film = _main_film(anode_sheets, "anode")
            anode["porosity"] = _area_weighted([(s.film.porosity, s.area_cm2) for s in anode_sheets],
                                               "anode.porosity", "porosity")
            anode["components"] = _components(anode_film, components[anode_film.pk], "anode.components")
        else:
            lot = next(layer.anode_lot for layer in layers if layer.anode_lot_id)
            if not lot.density_g_per_cm3 or not lot.specific_capacity_mah_per_g:
                raise ModelInputError(
                    "anode.components", f"{lot.item.code} needs its density and specific capacity recorded"
                )
            anode["porosity"] = 0.0
            anode["components"] = [{
                "name": lot.chemical_name, "weight_fraction": 1.0, "density_g_per_cm3": lot.density_g_per_cm3,
                "specific_capacity_mah_per_g": lot.specific_capacity_mah_per_g,
            }]
    elif cell.anode_type == AnodeType.ANODE_FREE:
        anode["np_ratio"] = 0.0
    design["anode"] = anode

    pellet = cell.cell_format == CellFormat.PELLET
    design["cathode_collector"] = None if pellet else _collector(cell.cathode_collector,
                                                                 cell.cathode_collector_thickness_um)
    design["anode_collector"] = None if pellet else _collector(cell.anode_collector, cell.anode_collector_thickness_um)
    design["collectors_shared"] = cell.cell_format == CellFormat.MULTI_LAYER_POUCH
    return design


def cell_energy_breakdown(job: Job | None) -> list[dict[str, Any]]:
    """The layers of a cell_stack_energy result as rows with their share of mass and thickness."""
    if job is None or not job.result or "layers" not in job.result:
        return []
    layers = job.result["layers"]
    total_mass = sum(layer["mass_mg_per_cm2"] for layer in layers.values()) or 1.0
    total_thickness = sum(layer["thickness_um"] for layer in layers.values()) or 1.0
    return [
        {
            "name": name.replace("_", " "),
            "mass_mg_per_cm2": layer["mass_mg_per_cm2"],
            "thickness_um": layer["thickness_um"],
            "mass_percent": 100.0 * layer["mass_mg_per_cm2"] / total_mass,
            "thickness_percent": 100.0 * layer["thickness_um"] / total_thickness,
        }
        for name, layer in layers.items()
    ]


TREND_POINTS = 1000
DEFAULT_TREND_CYCLE = 100


def retention_trend_inputs(project: Project, *, limit: int = TREND_POINTS) -> dict[str, Any] | None:
    """Capacity retention at the spec's cycle of the project's latest ``limit`` imported tests that reached it,
    by cell format, dated by the test's start: what the dashboard's trend plot draws. Tests short of the
    cycle are counted, not drawn."""
    spec = RetentionSpec.objects.filter(project=project).first()
    at_cycle = spec.at_cycle if spec is not None else DEFAULT_TREND_CYCLE
    at_spec_cycle = CycleRecord.objects.filter(test=OuterRef("pk"), cycle_number=at_cycle).values("retention")[:1]
    tests = (
        CyclingTest.objects.filter(cell__item__project=project, status=ImportStatus.IMPORTED)
        .annotate(tested_on=Coalesce(F("started_at"), F("created_at")), retention_at_cycle=Subquery(at_spec_cycle))
        .order_by("-tested_on", "-id")
    )
    rows = list(tests.values_list("cell__item__code", "cell__cell_format", "tested_on", "retention_at_cycle")[:limit])
    if not rows:
        return None
    formats = dict(CellFormat.choices)
    points = [
        {"tested_at": tested_on.isoformat(), "retention_percent": retention * 100.0,
         "group": str(formats.get(cell_format, cell_format)), "label": code}
        for code, cell_format, tested_on, retention in reversed(rows)
        if retention is not None
    ]
    if not points:
        return None
    return {
        "title": f"Capacity retention at cycle {at_cycle} over time, {project.code}",
        "project": project.code,
        "at_cycle": at_cycle,
        "minimum_percent": spec.minimum_percent if spec is not None else None,
        "points": points,
        "short_of_cycle": len(rows) - len(points),
    }
