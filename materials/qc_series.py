"""The materials QC series of the control charts: room-temperature conductivity of the batches of one
composition and route in one project, in the order they were measured (one point per batch)."""

from __future__ import annotations

from assbtrack.quality.registry import QcPoint, QcSeriesData
from assbtrack.tracing.choices import ItemKind

from .models import SynthesisBatch
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
