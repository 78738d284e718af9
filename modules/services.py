"""Every write of the modules app: housing designs, module assembly, pressure readings, film scans and maps.

Each service runs in one transaction, calls ``full_clean()`` and raises ``ValidationError`` keyed by
the field a form sent, so a refusal shows beside the field and nothing half-written remains. The services
take typed values: text a person types is read by ``modules.parsing`` (and the forms) first.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from assbtrack.access.models import Project
from assbtrack.domain.inputs import ModelInputError
from assbtrack.domain.plotting import figure_files
from assbtrack.jobs.models import Job
from assbtrack.jobs.services import job_submit
from assbtrack.quality.services import control_charts_refresh_on_commit
from assbtrack.tracing.choices import ItemKind, LineageRole, QuantityUnit
from assbtrack.tracing.refusals import full_clean_fields as _full_clean
from assbtrack.tracing.registry import consuming_path
from assbtrack.tracing.services import edge_create, item_create, records_bulk_create
from cells.models import Cell
from cells.services import cell_stack_energy_submit

from .choices import (
    JOB_EFFICIENCY_SWEEP_PLOT,
    JOB_MODULE_EFFICIENCY,
    JOB_PRESSURE_MAPS_SIDE_BY_SIDE,
    JOB_PRESSURE_SCAN,
    MAX_SCAN_BYTES,
    MAX_SYSTEM_SIZES,
    PressureReadingKind,
    ScanFormat,
)
from .housing import DEFAULT_SYSTEM_SIZES_KWH
from .models import HousingDesign, Module, ModuleCell, PressureMapResult, PressureReading, PressureScan
from .plots import pressure_heatmap_figure
from .pressure import MAX_SCAN_MEGAPIXELS, PressureCalibration, load_scan, pressure_map
from .selectors import cells_without_energy_figures, module_cells, module_efficiency_inputs

# --- housing designs ---------------------------------------------------------------------------------


@transaction.atomic
def housing_design_create(
    *,
    project: Project,
    user: User,
    name: str,
    plate_length_mm: float,
    plate_width_mm: float,
    plate_thickness_mm: float,
    target_stack_pressure_mpa: float,
    plate_material: str = "steel",
    plate_modulus_gpa: float = 200.0,
    plate_density_kg_per_m3: float = 7850.0,
    deflection_ratio: float = 500.0,
    plate_allowable_stress_mpa: float = 200.0,
    bolt_count: int = 4,
    bolt_size: str = "",
    bolt_torque_nm: float | None = None,
    spring_count: int = 0,
    spring_constant_n_per_mm: float | None = None,
    gasket_material: str = "none",
    gasket_shore_a_hardness: float | None = None,
    gasket_thickness_mm: float | None = None,
    expected_swelling_percent: float = 0.0,
    notes: str = "",
) -> HousingDesign:
    """A new housing design in ``project``. Springs need their constant and gaskets their thickness."""
    design = HousingDesign(
        project=project, created_by=user, name=(name or "").strip(), plate_material=plate_material,
        plate_modulus_gpa=plate_modulus_gpa, plate_density_kg_per_m3=plate_density_kg_per_m3,
        plate_length_mm=plate_length_mm, plate_width_mm=plate_width_mm, plate_thickness_mm=plate_thickness_mm,
        deflection_ratio=deflection_ratio, plate_allowable_stress_mpa=plate_allowable_stress_mpa,
        bolt_count=bolt_count, bolt_size=(bolt_size or "").strip(), bolt_torque_nm=bolt_torque_nm,
        spring_count=spring_count, spring_constant_n_per_mm=spring_constant_n_per_mm,
        gasket_material=gasket_material, gasket_shore_a_hardness=gasket_shore_a_hardness,
        gasket_thickness_mm=gasket_thickness_mm, target_stack_pressure_mpa=target_stack_pressure_mpa,
        expected_swelling_percent=expected_swelling_percent, notes=notes or "",
    )
    problems: dict[str, str] = {}
    if design.spring_count and design.spring_constant_n_per_mm is None:
        problems["spring_constant_n_per_mm"] = "give the spring constant of the springs"
    if not design.spring_count and design.spring_constant_n_per_mm is not None:
        problems["spring_count"] = "a spring constant is given: how many springs are there?"
    if design.has_gaskets and design.gasket_thickness_mm is None:
        problems["gasket_thickness_mm"] = "give the gasket thickness"
    if not design.has_gaskets and (design.gasket_thickness_mm is not None
                                   or design.gasket_shore_a_hardness is not None):
        problems["gasket_material"] = "gasket figures are given: choose the gasket material"
    if problems:
        raise ValidationError(problems)
    _full_clean(design, exclude=["created_by"])
    design.save()
    return design


# Below these a proposal means "none": the design space counts a housing without springs or gasket as 0.
PLANNED_SPRING_MIN_N_PER_MM = 1.0
PLANNED_GASKET_MIN_SHORE_A = 10.0
PLANNED_GASKET_THICKNESS_MM = 1.0


@transaction.atomic
def housing_design_plan(*, project: Project, user: User, parameters: Mapping[str, float], source: str
                        ) -> HousingDesign:
    """A draft housing design from a design-space proposal: the proposed springs, gasket, plate, bolt torque and
    set pressure; the rest (spans, bolt count, materials) copied from the project's recorded design nearest to the
    proposal, so that it can be built as it stands. Its notes name the run that proposed it; once its scans are
    mapped it is one of the records the next model trains on."""
    names = ("spring_constant_n_per_mm", "gasket_shore_a_hardness", "plate_thickness_mm", "plate_modulus_gpa",
             "bolt_torque_nm", "target_stack_pressure_mpa")
    problems = {name: "the proposal gives no number" for name in names
                if not isinstance(parameters.get(name), (int, float)) or not math.isfinite(parameters[name])}
    if problems:
        raise ValidationError(problems)
    designs = list(HousingDesign.objects.filter(project=project).order_by("pk"))
    if not designs:
        raise ValidationError({"project": f"{project.code} has no housing design to take the spans from"})

    def distance(design: HousingDesign) -> float:
        total = 0.0
        for name in names:
            values = [float(getattr(d, name) or 0.0) for d in designs]
            span = (max(values) - min(values)) or 1.0
            total += ((float(getattr(design, name) or 0.0) - float(parameters[name])) / span) ** 2
        return total

    nearest = min(designs, key=distance)
    springs = float(parameters["spring_constant_n_per_mm"]) >= PLANNED_SPRING_MIN_N_PER_MM
    gasket = float(parameters["gasket_shore_a_hardness"]) >= PLANNED_GASKET_MIN_SHORE_A
    gasket_material = nearest.gasket_material if nearest.has_gaskets else "silicone"
    return housing_design_create(
        project=project, user=user, name=f"Planned: {nearest.name}"[:120],
        plate_length_mm=nearest.plate_length_mm, plate_width_mm=nearest.plate_width_mm,
        plate_thickness_mm=round(float(parameters["plate_thickness_mm"]), 2),
        target_stack_pressure_mpa=round(float(parameters["target_stack_pressure_mpa"]), 2),
        plate_material=nearest.plate_material, plate_modulus_gpa=round(float(parameters["plate_modulus_gpa"]), 1),
        plate_density_kg_per_m3=nearest.plate_density_kg_per_m3, deflection_ratio=nearest.deflection_ratio,
        plate_allowable_stress_mpa=nearest.plate_allowable_stress_mpa, bolt_count=nearest.bolt_count,
        bolt_size=nearest.bolt_size, bolt_torque_nm=round(float(parameters["bolt_torque_nm"]), 2),
        spring_count=(nearest.spring_count or nearest.bolt_count) if springs else 0,
        spring_constant_n_per_mm=round(float(parameters["spring_constant_n_per_mm"]), 2) if springs else None,
        gasket_material=gasket_material if gasket else "none",
        gasket_shore_a_hardness=round(float(parameters["gasket_shore_a_hardness"]), 1) if gasket else None,
        gasket_thickness_mm=(nearest.gasket_thickness_mm or PLANNED_GASKET_THICKNESS_MM) if gasket else None,
        expected_swelling_percent=nearest.expected_swelling_percent,
        notes=f"Planned from {source}; spans and materials as {nearest.name} (design {nearest.pk}).",
    )


# --- module assembly ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellFigures:
    """What a module takes from one cell."""

    energy_wh: float
    voltage_v: float
    capacity_ah: float
    mass_kg: float | None


def cell_figures(cell: Cell) -> CellFigures:
    specific = cell.specific_energy_wh_per_kg
    energy_wh = float(cell.energy_wh)
    if cell.mass_g is not None:
        mass_kg = float(cell.mass_g) / 1000.0
    elif specific:
        mass_kg = energy_wh / float(specific)
    else:
        mass_kg = None
    return CellFigures(energy_wh, float(cell.nominal_voltage_v), float(cell.nominal_capacity_ah), mass_kg)


def _cell_refusal(problems: dict[int, list[str]]) -> ValidationError:
    """One error on ``cell_codes`` listing every refused position; ``cell_problems`` keeps them per position."""
    messages = [f"position {position}: {text}" for position, texts in sorted(problems.items()) for text in texts]
    error = ValidationError({"cell_codes": messages})
    error.cell_problems = {position: list(texts) for position, texts in problems.items()}
    return error


@consuming_path("use")
@transaction.atomic
def module_assemble(
    *,
    project: Project,
    user: User,
    housing_design: HousingDesign,
    series_count: int,
    parallel_count: int,
    cell_codes: Sequence[str],
    assembled_on: date,
    applied_stack_pressure_mpa: float,
    applied_at: datetime | None = None,
    notes: str = "",
) -> Module:
    """Put scanned cells into a housing as a new module, position by position in scan order.

    Every cell becomes a lineage edge cell → module (role ``module_cell``, 1 pcs): the core refuses a
    quarantined or rejected cell (with its reason) and the mass balance refuses a cell used already.
    Every refused position is reported at once, and nothing is written unless all are accepted. The
    applied pressure is also the module's first pressure reading.
    """
    if housing_design.project_id != project.pk:
        raise ValidationError({"housing_design": f"{housing_design.name} belongs to another project"})
    codes = [(code or "").strip().upper() for code in cell_codes]
    codes = [code for code in codes if code]
    if not codes:
        raise ValidationError({"cell_codes": "scan the codes of the module's cells"})
    if len(codes) != series_count * parallel_count:
        raise ValidationError({"cell_codes": f"{series_count}S{parallel_count}P takes "
                                             f"{series_count * parallel_count} cells; {len(codes)} scanned"})

    cells = {
        cell.item.code: cell
        for cell in Cell.objects.select_related("item", "item__project").filter(item__code__in=set(codes))
    }
    problems: dict[int, list[str]] = {}
    first_position: dict[str, int] = {}
    for position, code in enumerate(codes, start=1):
        cell = cells.get(code)
        if code in first_position:
            problems.setdefault(position, []).append(f"{code} is scanned twice (also at {first_position[code]})")
        elif cell is None:
            problems.setdefault(position, []).append(f"no cell has the code {code}")
        elif cell.item.project_id != project.pk:
            problems.setdefault(position, []).append(
                f"{code} belongs to project {cell.item.project.code}, not {project.code}"
            )
        first_position.setdefault(code, position)
    if problems:
        raise _cell_refusal(problems)

    ordered = [cells[code] for code in codes]
    figures = [cell_figures(cell) for cell in ordered]
    masses = [figure.mass_kg for figure in figures]
    item = item_create(kind=ItemKind.MODULE, project=project, user=user, quantity=1, unit=QuantityUnit.PIECE,
                       notes=notes)
    module = Module(
        item=item, housing_design=housing_design, series_count=series_count, parallel_count=parallel_count,
        assembled_on=assembled_on,
        system_energy_kwh=sum(figure.energy_wh for figure in figures) / 1000.0,
        cells_mass_kg=None if None in masses else sum(masses),
        # Cells in series add voltage, cells in parallel add capacity.
        nominal_voltage_v=series_count * sum(figure.voltage_v for figure in figures) / len(figures),
        nominal_capacity_ah=parallel_count * sum(figure.capacity_ah for figure in figures) / len(figures),
        applied_stack_pressure_mpa=applied_stack_pressure_mpa,
    )
    _full_clean(module, exclude=["item"])
    module.save()

    for position, cell in enumerate(ordered, start=1):
        try:
            edge_create(parent=cell.item, child=item, role=LineageRole.MODULE_CELL, user=user, amount=1,
                        unit=QuantityUnit.PIECE)
        except ValidationError as error:
            problems[position] = [text for texts in error.message_dict.values() for text in texts]
            continue
        ModuleCell.objects.create(module=module, cell=cell, position=position)
    if problems:
        # a cell used up by another module: say which module holds it, beside the core's mass-balance refusal
        housed = dict(ModuleCell.objects.filter(cell__in=[ordered[position - 1] for position in problems])
                      .exclude(module=module).values_list("cell__item__code", "module__item__code"))
        for position in problems:
            code = ordered[position - 1].item.code
            if code in housed:
                problems[position].insert(0, f"{code} is already in module {housed[code]}")
        raise _cell_refusal(problems)

    pressure_reading_create(
        module=module, user=user, kind=PressureReadingKind.SET, pressure_mpa=applied_stack_pressure_mpa,
        measured_at=applied_at or timezone.now(), method="applied at assembly",
    )
    return module


# --- pressure readings -------------------------------------------------------------------------------


@transaction.atomic
def pressure_reading_create(
    *,
    module: Module,
    user: User,
    kind: str,
    pressure_mpa: float,
    measured_at: datetime,
    method: str = "",
    notes: str = "",
    supersedes: PressureReading | None = None,
) -> PressureReading:
    """Log a set or measured stack pressure; a correction names the reading it supersedes.

    The module's applied pressure follows the latest applied reading that nothing supersedes.
    """
    if measured_at is not None and measured_at > timezone.now() + timedelta(hours=1):
        raise ValidationError({"measured_at": "is in the future"})
    if kind == PressureReadingKind.SET and pressure_mpa is not None and not pressure_mpa > 0:
        raise ValidationError({"pressure_mpa": "an applied pressure must be greater than 0"})
    if supersedes is not None:
        if supersedes.module_id != module.pk:
            raise ValidationError({"supersedes": "that reading belongs to another module"})
        if PressureReading.objects.filter(supersedes=supersedes).exists():
            raise ValidationError({"supersedes": "that reading has been corrected already; correct the correction"})
    reading = PressureReading(
        module=module, kind=kind, pressure_mpa=pressure_mpa, measured_at=measured_at, method=(method or "").strip(),
        notes=notes or "", supersedes=supersedes, created_by=user,
    )
    _full_clean(reading, exclude=["created_by", "module"])
    reading.save()
    latest_set = (
        PressureReading.objects.filter(module=module, kind=PressureReadingKind.SET, superseded_by__isnull=True)
        .order_by("-measured_at", "-id")
        .first()
    )
    if latest_set is not None and latest_set.pressure_mpa != module.applied_stack_pressure_mpa:
        module.applied_stack_pressure_mpa = latest_set.pressure_mpa
        module._change_reason = f"applied pressure reading {latest_set.pk}"
        module.save(update_fields=["applied_stack_pressure_mpa"])
    return reading


# --- pressure-film scans -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanImage:
    format: str
    width_px: int
    height_px: int


def scan_image_check(content: bytes) -> ScanImage:
    """PNG, JPEG or TIFF, within the size limits, and intact: checked from the file's content, not its name."""
    if not content:
        raise ValidationError({"image": "The file is empty."})
    if len(content) > MAX_SCAN_BYTES:
        raise ValidationError({"image": f"The file is {len(content) / 1e6:.1f} MB; at most "
                                        f"{MAX_SCAN_BYTES // (1024 * 1024)} MB is accepted."})
    try:
        with Image.open(io.BytesIO(content)) as picture:
            detected = {"PNG": ScanFormat.PNG, "JPEG": ScanFormat.JPEG, "MPO": ScanFormat.JPEG,
                        "TIFF": ScanFormat.TIFF}.get(picture.format or "")
            if detected is None:
                raise ValidationError({"image": f"This is a {picture.format} image; upload a PNG, JPEG or TIFF scan."})
            width_px, height_px = picture.size
            if width_px * height_px > MAX_SCAN_MEGAPIXELS * 1e6:
                raise ValidationError({"image": f"The scan has {width_px * height_px / 1e6:.1f} megapixels; at most "
                                                f"{MAX_SCAN_MEGAPIXELS:g} are accepted."})
            picture.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ValidationError({"image": "This file is not a PNG, JPEG or TIFF image."}) from None
    except (OSError, ValueError, SyntaxError) as error:
        raise ValidationError({"image": f"The image is damaged and cannot be read ({error})."}) from None
    return ScanImage(detected, width_px, height_px)


def calibration_check(calibration: Mapping[str, Any]) -> PressureCalibration:
    """The calibration as ``pressure_map`` reads it; a problem is keyed like the form field.

    ``calibration.high.intensity`` becomes ``calibration_high_intensity``.
    """
    try:
        return PressureCalibration.from_mapping(calibration)
    except ModelInputError as error:
        field = error.field.replace(".", "_").replace("[", "_").replace("]", "")
        raise ValidationError({field: error.reason}) from None


@transaction.atomic
def pressure_scan_create(
    *,
    user: User,
    content: bytes,
    label: str,
    calibration: Mapping[str, Any],
    scanned_on: date,
    design: HousingDesign | None = None,
    module: Module | None = None,
    original_filename: str = "",
    grid_rows: int = 20,
    grid_cols: int = 20,
    threshold_fraction: float = 0.1,
    submit_job: bool = True,
) -> PressureScan:
    """Store a film scan of a module (or of a design's test rig) and queue its pressure map on a worker."""
    if module is not None:
        if design is not None and design.pk != module.housing_design_id:
            raise ValidationError({"module": f"{module.item.code} is built on another housing design"})
        design = module.housing_design
    if design is None:
        raise ValidationError({"design": "choose the housing design (or give the module) the film was pressed in"})
    picture = scan_image_check(content)
    calibration_check(calibration)
    scan = PressureScan(
        design=design, module=module, label=(label or "").strip(), image_format=picture.format,
        original_filename=(original_filename or "")[:255], size_bytes=len(content), width_px=picture.width_px,
        height_px=picture.height_px, calibration=dict(calibration), grid_rows=grid_rows, grid_cols=grid_cols,
        threshold_fraction=threshold_fraction, scanned_on=scanned_on, created_by=user,
    )
    _full_clean(scan, exclude=["image", "created_by", "job", "design", "module"])
    if grid_rows > picture.height_px or grid_cols > picture.width_px:
        raise ValidationError({"grid_rows": f"the {grid_rows}×{grid_cols} grid is finer than the "
                                            f"{picture.height_px}×{picture.width_px} pixel scan"})
    scan.image.save("scan", ContentFile(content), save=False)
    scan.save()
    if submit_job:
        scan.job = job_submit(
            kind=JOB_PRESSURE_SCAN, inputs={"scan_id": scan.pk}, user=user,
            subject=module.item if module is not None else None,
        )
        scan.save(update_fields=["job"])
    return scan


def pressure_scan_process(
    *, scan_id: int, job_id: int | None = None, progress: Callable[[int, str], None] | None = None
) -> tuple[PressureMapResult, dict[str, bytes]]:
    """The pressure map of a stored scan, saved as its result with a heat map; what the job runs.

    Returns the result row and the heat map files (PNG and SVG) for the job page. Raises
    ``ModelInputError`` (on ``image``) when the scan cannot be used, and ``PressureScan.DoesNotExist``.
    """
    report = progress or (lambda percent, message: None)
    scan = PressureScan.objects.select_related("design", "module__item").get(pk=scan_id)
    report(10, "reading the scan")
    with scan.image.open("rb") as handle:
        pixels = load_scan(handle.read())
    report(40, "computing the pressure map")
    result = pressure_map(pixels, scan.calibration, (scan.grid_rows, scan.grid_cols), scan.threshold_fraction)
    report(70, "drawing the heat map")
    where = scan.module.item.code if scan.module else scan.design.name
    figure = pressure_heatmap_figure(
        result.grid_mpa,
        f"{where}: {scan.label} (mean {result.mean_mpa:.3g} MPa, CV {100 * result.coefficient_of_variation:.1f} %)",
    )
    files = figure_files(figure, f"pressure-map-scan-{scan.pk}")
    report(90, "storing the result")
    stored = pressure_map_result_store(scan=scan, job_id=job_id, result=result,
                                       heatmap_png=files[f"pressure-map-scan-{scan.pk}.png"])
    return stored, files


@transaction.atomic
def pressure_map_result_store(*, scan: PressureScan, job_id: int | None, result, heatmap_png: bytes
                              ) -> PressureMapResult:
    """Write (or rewrite, for a repeated run) the map of ``scan``: running twice leaves one result."""
    stored = PressureMapResult.objects.select_for_update().filter(scan=scan).first() or PressureMapResult(scan=scan)
    old_file = stored.heatmap_png.name if stored.heatmap_png else ""
    ratio = result.centre_to_edge_ratio
    stored.mean_mpa = result.mean_mpa
    stored.std_mpa = result.std_mpa
    stored.coefficient_of_variation = result.coefficient_of_variation
    stored.min_mpa = result.min_mpa
    stored.max_mpa = result.max_mpa
    stored.coverage_fraction = result.coverage
    stored.centre_to_edge_ratio = ratio if math.isfinite(ratio) else None
    stored.grid_mpa = result.grid_mpa.tolist()
    stored.job = Job.objects.filter(pk=job_id).first() if job_id else None
    stored.heatmap_png.save("heatmap.png", ContentFile(heatmap_png), save=False)
    stored.save()
    if old_file and old_file != stored.heatmap_png.name:
        transaction.on_commit(lambda: stored.heatmap_png.storage.delete(old_file))
    if scan.module is not None:
        control_charts_refresh_on_commit(item=scan.module.item, user=scan.created_by)
    return stored


def pressure_map_payload(result: PressureMapResult) -> dict[str, Any]:
    """The result as the job records it (the numbers; the grid is on the result row)."""
    return {
        "scan_id": result.scan_id,
        "mean_mpa": result.mean_mpa,
        "std_mpa": result.std_mpa,
        "coefficient_of_variation": result.coefficient_of_variation,
        "min_mpa": result.min_mpa,
        "max_mpa": result.max_mpa,
        "coverage": result.coverage_fraction,
        "centre_to_edge_ratio": result.centre_to_edge_ratio,
    }


def pressure_maps_side_by_side_submit(*, scans: Sequence[PressureScan], user: User, title: str) -> Job:
    """Queue the shared-colour-scale figure of several maps (a page never waits for a plot)."""
    ids = [scan.pk for scan in scans if hasattr(scan, "result")]
    if not ids:
        raise ValidationError({"scans": "none of these scans has a pressure map yet"})
    return job_submit(kind=JOB_PRESSURE_MAPS_SIDE_BY_SIDE, inputs={"scan_ids": ids, "title": title[:200]},
                      user=user)


# --- cell-to-module efficiency -----------------------------------------------------------------------


def system_sizes_check(sizes: Sequence[float] | None) -> list[float]:
    """The system sizes (kWh) a model run is asked for, sorted and without repeats; None → Figure 5's defaults."""
    if sizes is None or (not isinstance(sizes, (str, bytes)) and len(sizes) == 0):
        return list(DEFAULT_SYSTEM_SIZES_KWH)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise ValidationError({"system_sizes_kwh": "give the sizes as a list of numbers (kWh)"})
    checked = []
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, float)):
            raise ValidationError({"system_sizes_kwh": f"{size!r} is not a number"})
        if not (math.isfinite(size) and 0 < size <= 1e6):
            raise ValidationError({"system_sizes_kwh": "sizes must be greater than 0 and at most 1000000 kWh"})
        checked.append(float(size))
    if len(checked) > MAX_SYSTEM_SIZES:
        raise ValidationError({"system_sizes_kwh": f"at most {MAX_SYSTEM_SIZES} sizes"})
    return sorted(set(checked))


def module_efficiency_submit(*, module: Module, user: User, system_sizes_kwh: Sequence[float] | None = None) -> Job:
    """Queue the cell-to-module model on a real module: its own cells, housing and applied pressure.

    The model's inputs are read from the records now and kept on the job row, so the job shows what
    was run, and a module whose cells or pressure have not changed reuses the earlier result.

    Cells whose energy (Wh/kg and Wh/L) has not been computed get their cell energy job first, and the
    module job waits for them ("waiting for N cell energy jobs") and reads its inputs once they are done.
    A cell whose energy cannot be computed (its layers lack a figure) is refused now, naming the cell.
    """
    sizes = system_sizes_check(system_sizes_kwh)
    cells = module_cells(module)
    missing = cells_without_energy_figures(cells)
    if not cells or not missing:
        inputs = {"module": module.item.code, "model": module_efficiency_inputs(module), "system_sizes_kwh": sizes}
        return job_submit(kind=JOB_MODULE_EFFICIENCY, inputs=inputs, user=user, subject=module.item)
    with transaction.atomic():
        problems, cell_jobs = [], []
        for cell in missing:
            try:
                cell_jobs.append(cell_stack_energy_submit(cell=cell, user=user))
            except ValidationError as error:
                problems.extend(message for messages in error.message_dict.values() for message in messages)
        if problems:
            raise ValidationError({"cells": [f"the energy of this module's cells is needed and cannot be computed: "
                                             f"{problem}" for problem in problems]})
        inputs = {"module": module.item.code, "cell_energy_jobs": [job.pk for job in cell_jobs],
                  "system_sizes_kwh": sizes}
        return job_submit(kind=JOB_MODULE_EFFICIENCY, inputs=inputs, user=user, subject=module.item)


def design_sweep_submit(
    *,
    design: HousingDesign,
    user: User,
    cell_specific_energy_wh_per_kg: float,
    cell_energy_density_wh_per_l: float,
    cell_length_mm: float,
    cell_width_mm: float,
    system_sizes_kwh: Sequence[float] | None = None,
) -> Job:
    """Queue the Figure 5d–f sweep for cells of a given format in this design's plates."""
    model = {
        "cell_specific_energy_wh_per_kg": cell_specific_energy_wh_per_kg,
        "cell_energy_density_wh_per_l": cell_energy_density_wh_per_l,
        "cell_length_mm": cell_length_mm,
        "cell_width_mm": cell_width_mm,
        "plate_modulus_gpa": design.plate_modulus_gpa,
        "plate_density_kg_per_m3": design.plate_density_kg_per_m3,
        "deflection_ratio": design.deflection_ratio,
        "plate_allowable_stress_mpa": design.plate_allowable_stress_mpa,
        "system_sizes_kwh": system_sizes_check(system_sizes_kwh),
    }
    title = (f"{design.name}: {cell_specific_energy_wh_per_kg:g} Wh/kg, {cell_energy_density_wh_per_l:g} Wh/L "
             f"cells, {cell_length_mm:g} × {cell_width_mm:g} mm")
    return job_submit(kind=JOB_EFFICIENCY_SWEEP_PLOT, inputs={"title": title, "model": model}, user=user)


def module_release_problems(item) -> list[str]:
    """A module is released only once its stack pressure has been measured, not just set."""
    measured = PressureReading.objects.filter(
        module_id=item.pk, kind=PressureReadingKind.MEASURED, superseded_by__isnull=True
    ).exists()
    return [] if measured else [f"{item.code} has no measured stack pressure yet: log a measured reading"]


# --- bulk paths: imports and synthetic labs (see assbtrack.tracing.services.records_bulk_create) ------------


def modules_bulk_create(*, rows: list[dict], positions: list[dict], user: User, history: bool = True) -> list[Module]:
    """Module records for module items made by ``items_bulk_create``, with their cells in position.

    ``rows``: ``item_id`` and the module's fields; ``positions``: ``module_id``, ``cell_id``, ``position``.
    Each module holds exactly series × parallel cells. The lineage is written separately
    (``edges_bulk_create``); for a person's input there is ``module_assemble``.
    """
    held: dict[int, int] = {}
    for position in positions:
        held[position.get("module_id")] = held.get(position.get("module_id"), 0) + 1
    for index, row in enumerate(rows):
        expected = (row.get("series_count") or 0) * (row.get("parallel_count") or 0)
        if held.get(row.get("item_id"), 0) != expected:
            raise ValidationError({f"rows.{index}.series_count": f"{row.get('series_count')}S"
                                   f"{row.get('parallel_count')}P needs {expected} cells, "
                                   f"{held.get(row.get('item_id'), 0)} given"})
    modules = records_bulk_create(Module, rows=rows, kind=ItemKind.MODULE, history=history, user=user)
    records_bulk_create(ModuleCell, rows=positions, history=history, user=user)
    return modules
