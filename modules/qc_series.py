"""The modules QC series and design space.

Control chart: the pressure-map coefficient of variation of the scans of one housing design, one point per scan
of a module pressed in it (a flag needs a traced record: a scan of a bare design has none), in scan order.

Design space: housing designs (springs, gasket, plate, bolts, set pressure) against the uniformity of their stack
pressure (mean pressure-map CV of the design's scans) or the cell-to-module gravimetric efficiency of the modules
built in them (the latest finished efficiency run of each module, averaged over the design's modules).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Avg

from assbtrack.jobs.models import Job, JobStatus
from assbtrack.quality.registry import DesignRecord, QcPoint, QcSeriesData
from assbtrack.tracing.choices import ItemKind

from .models import HousingDesign, Module, PressureScan
from .services import JOB_MODULE_EFFICIENCY

HOUSING_PARAMETERS = (
    ("spring_constant_n_per_mm", "Spring constant (N/mm; 0 without springs)"),
    ("gasket_shore_a_hardness", "Gasket hardness (Shore A; 0 without gasket)"),
    ("plate_thickness_mm", "Plate thickness (mm)"),
    ("plate_modulus_gpa", "Plate Young's modulus (GPa)"),
    ("bolt_torque_nm", "Bolt torque (N·m)"),
    ("target_stack_pressure_mpa", "Set stack pressure (MPa)"),
)
PRESSURE_CV = "pressure_map_cv"
GRAVIMETRIC_EFFICIENCY = "gravimetric_efficiency"


def _pressure_series(design: HousingDesign) -> QcSeriesData:
    rows = (
        PressureScan.objects.filter(design=design, module__isnull=False, result__isnull=False)
        .order_by("scanned_on", "created_at", "pk")
        .values_list("module_id", "module__item__code", "created_at", "result__coefficient_of_variation")
    )
    points = [QcPoint(module_id, code, at, float(cv)) for module_id, code, at, cv in rows]
    return QcSeriesData(
        key=f"modules.pressure_cv:{design.project.code}:{design.pk}",
        title=f"Pressure-map CV of housing design {design.name} (design {design.pk}), {design.project.code}",
        unit="–", value_label="Pressure-map coefficient of variation (–)", project_id=design.project_id,
        points=points,
    )


def pressure_series_for_item(item) -> list[QcSeriesData]:
    if item.kind != ItemKind.MODULE:
        return []
    module = Module.objects.select_related("housing_design__project").filter(pk=item.pk).first()
    if module is None or module.housing_design is None:
        return []
    return [_pressure_series(module.housing_design)]


def _efficiency_by_design(project) -> dict[int, float]:
    """Mean gravimetric cell-to-module efficiency per design: the latest finished run of each module (one query)."""
    runs = (
        Job.objects.filter(kind=JOB_MODULE_EFFICIENCY, status=JobStatus.SUCCEEDED,
                           subject__kind=ItemKind.MODULE, subject__project=project,
                           subject__module__housing_design__isnull=False)
        .order_by("subject_id", "-finished_at", "-id")
        .values_list("subject_id", "subject__module__housing_design_id", "result")
    )
    latest: dict[int, tuple[int, float]] = {}
    for module_id, design_id, result in runs:
        if module_id in latest:
            continue
        value = ((result or {}).get("module_efficiency") or {}).get("gravimetric_efficiency")
        if isinstance(value, (int, float)):
            latest[module_id] = (design_id, float(value))
    by_design: dict[int, list[float]] = defaultdict(list)
    for design_id, value in latest.values():
        by_design[design_id].append(value)
    return {design_id: sum(values) / len(values) for design_id, values in by_design.items()}


def housing_design_code(design_name: str, design_pk: int) -> str:
    return f"{design_name} (design {design_pk})"


def housing_design_records(project, outcome: str) -> list[DesignRecord]:
    """Designs of the project with a bolt torque and the outcome measured (one or two queries); no springs or no
    gasket count as 0, so designs with and without them inform one model."""
    designs = HousingDesign.objects.filter(project=project, bolt_torque_nm__isnull=False).order_by("pk")
    if outcome == GRAVIMETRIC_EFFICIENCY:
        efficiency = _efficiency_by_design(project)
        rows = designs.filter(pk__in=list(efficiency)).values("pk", "name", *(name for name, _ in HOUSING_PARAMETERS))
        outcomes = {row["pk"]: efficiency[row["pk"]] for row in rows}
    else:
        rows = (designs.annotate(cv=Avg("scans__result__coefficient_of_variation")).filter(cv__isnull=False)
                .values("pk", "name", "cv", *(name for name, _ in HOUSING_PARAMETERS)))
        outcomes = {row["pk"]: row["cv"] for row in rows}
    return [DesignRecord(housing_design_code(row["name"], row["pk"]),
                         {name: float(row[name] or 0.0) for name, _ in HOUSING_PARAMETERS}, float(outcomes[row["pk"]]))
            for row in rows]
