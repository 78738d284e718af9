"""The modules design space: housing designs (springs, gasket, plate, bolts, set pressure) against the uniformity of
their stack pressure (mean pressure-map CV of the design's scans)."""

from __future__ import annotations

from django.db.models import Avg

from assbtrack.quality.registry import DesignRecord

from .models import HousingDesign

HOUSING_PARAMETERS = (
    ("spring_constant_n_per_mm", "Spring constant (N/mm; 0 without springs)"),
    ("gasket_shore_a_hardness", "Gasket hardness (Shore A; 0 without gasket)"),
    ("plate_thickness_mm", "Plate thickness (mm)"),
    ("plate_modulus_gpa", "Plate Young's modulus (GPa)"),
    ("bolt_torque_nm", "Bolt torque (N·m)"),
    ("target_stack_pressure_mpa", "Set stack pressure (MPa)"),
)


def housing_design_records(project, outcome: str) -> list[DesignRecord]:
    """Designs of the project with at least one mapped scan and a bolt torque (one query); no springs or no gasket
    count as 0, so designs with and without them inform one model."""
    rows = (
        HousingDesign.objects.filter(project=project, bolt_torque_nm__isnull=False)
        .annotate(cv=Avg("scans__result__coefficient_of_variation"))
        .filter(cv__isnull=False).order_by("pk")
        .values("pk", "name", "cv", *(name for name, _ in HOUSING_PARAMETERS))
    )
    return [DesignRecord(f"{row['name']} (design {row['pk']})",
                         {name: float(row[name] or 0.0) for name, _ in HOUSING_PARAMETERS}, float(row["cv"]))
            for row in rows]
