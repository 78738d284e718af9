"""The materials QC series of the control charts: room-temperature conductivity of the batches of one
composition and route in one project, in the order they were measured (one point per batch)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Sum
from django.db.models.functions import TruncMonth

from assbtrack.quality.registry import DesignRecord, QcPoint, QcSeriesData, YieldRow
from assbtrack.tracing.choices import ItemKind

from .models import ConditioningStep, SynthesisBatch
from .selectors import QC_TEMPERATURE_WINDOW_C, ROOM_TEMPERATURE_C, batches_annotated


def conductivity_series_for_item(item) -> list[QcSeriesData]:
    if item.kind != ItemKind.SSE_BATCH:
        return []
    batch = SynthesisBatch.objects.select_related("item__project").filter(pk=item.pk).first()
    if batch is None:
        return []
    project = batch.item.project
    rows = (
        batches_annotated(SynthesisBatch.objects.filter(
            item__project=project, composition=batch.composition, route=batch.route,
        ))
        .filter(conductivity_temperature_c__gte=ROOM_TEMPERATURE_C - QC_TEMPERATURE_WINDOW_C,
                conductivity_temperature_c__lte=ROOM_TEMPERATURE_C + QC_TEMPERATURE_WINDOW_C)
        .order_by("conductivity_measured_at", "item_id")
        .values_list("item_id", "item__code", "conductivity_measured_at", "conductivity_ms_per_cm")
    )
    points = [QcPoint(item_id, code, measured_at, value) for item_id, code, measured_at, value in rows]
    return [QcSeriesData(
        key=f"materials.conductivity:{project.code}:{batch.composition}:{batch.route}",
        title=f"Conductivity of {batch.composition} batches ({batch.get_route_display()}), {project.code}",
        unit="mS/cm", value_label="Ionic conductivity near 25 °C (mS/cm)", project_id=project.pk, points=points,
    )]


def _month(value) -> str:
    return value.strftime("%Y-%m")


def batch_yield_rows(projects) -> list[YieldRow]:
    """Batch yield after conditioning: precursor mass in, the mass the last conditioning step recovered out (the
    batch mass as synthesised for a batch without conditioning), by the month the batch was made. Three queries."""
    batches = SynthesisBatch.objects.filter(item__project__in=projects).annotate(month=TruncMonth("item__created_at"))
    totals = {(row["month"], row["item__project__code"]): [row["amount_in"], 0.0] for row in
              batches.values("month", "item__project__code").annotate(amount_in=Sum("precursor_mass_g"))}
    unconditioned = batches.filter(~Exists(ConditioningStep.objects.filter(batch=OuterRef("pk"))))
    for row in unconditioned.values("month", "item__project__code").annotate(out=Sum("batch_mass_g")):
        totals[(row["month"], row["item__project__code"])][1] += row["out"]
    last_steps = (
        ConditioningStep.objects.filter(batch__item__project__in=projects)
        .filter(~Exists(ConditioningStep.objects.filter(batch=OuterRef("batch"), position__gt=OuterRef("position"))))
        .annotate(month=TruncMonth("batch__item__created_at"))
        .values("month", "batch__item__project__code").annotate(out=Sum("recovered_mass_g"))
    )
    for row in last_steps:
        totals[(row["month"], row["batch__item__project__code"])][1] += row["out"]
    return [YieldRow("batch", _month(month), project, amount_in, amount_out)
            for (month, project), (amount_in, amount_out) in totals.items()]


MILLING_PARAMETERS = (
    ("speed_rpm", "Milling speed (rpm)"),
    ("milling_time_h", "Milling time (h)"),
    ("ball_to_powder_ratio", "Ball-to-powder mass ratio (–)"),
    ("heat_treatment_temperature_c", "Heat-treatment temperature (°C; 25 without)"),
    ("heat_treatment_time_h", "Heat-treatment time (h; 0 without)"),
)


def milling_design_records(project, outcome: str) -> list[DesignRecord]:
    """Batches of the project with a ball-to-powder ratio and a room-temperature conductivity (one query). A batch
    without heat treatment counts as 25 °C for 0 h, so that both kinds of batches inform one model."""
    rows = (
        batches_annotated(SynthesisBatch.objects.filter(item__project=project, ball_to_powder_ratio__isnull=False))
        .filter(conductivity_temperature_c__gte=ROOM_TEMPERATURE_C - QC_TEMPERATURE_WINDOW_C,
                conductivity_temperature_c__lte=ROOM_TEMPERATURE_C + QC_TEMPERATURE_WINDOW_C)
        .order_by("item_id")
        .values("item__code", "speed_rpm", "milling_time_h", "ball_to_powder_ratio", "heat_treatment_temperature_c",
                "heat_treatment_time_h", "conductivity_ms_per_cm")
    )
    records = []
    for row in rows:
        x = {"speed_rpm": row["speed_rpm"], "milling_time_h": row["milling_time_h"],
             "ball_to_powder_ratio": row["ball_to_powder_ratio"],
             "heat_treatment_temperature_c": row["heat_treatment_temperature_c"] or ROOM_TEMPERATURE_C,
             "heat_treatment_time_h": row["heat_treatment_time_h"] or 0.0}
        records.append(DesignRecord(row["item__code"], {k: float(v) for k, v in x.items()},
                                    float(row["conductivity_ms_per_cm"])))
    return records
