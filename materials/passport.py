"""What the materials app adds to passports (registered from ``MaterialsConfig.ready()``): the solid electrolytes
upstream in ``batteryChemistry``, and the ``measurements`` section (the current ionic conductivity measurements of
the SSE batches upstream)."""

from __future__ import annotations

from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.registry import (
    PassportChemistry,
    PassportSection,
    register_passport_chemistry,
    register_passport_section,
)

from .models import ConductivityMeasurement, SynthesisBatch


def batch_composition(batch: SynthesisBatch) -> str:
    return batch.composition or ""


def conductivity_measurements(batch_ids: list[int]) -> list[dict]:
    """The ``measurements`` rows of the batches (one query; superseded measurements left out)."""
    rows = (ConductivityMeasurement.objects.current().filter(batch_id__in=batch_ids)
            .select_related("batch__item").order_by("measured_at", "id"))
    return [
        {
            "item": row.batch.item.code, "quantity": "ionic conductivity", "valueMsPerCm": row.conductivity_ms_per_cm,
            "temperatureC": row.temperature_c, "stackPressureMpa": row.stack_pressure_mpa,
            "measuredAt": row.measured_at.isoformat(),
        }
        for row in rows
    ]


def register() -> None:
    register_passport_chemistry(ItemKind.SSE_BATCH, PassportChemistry(label="solid electrolyte",
                                                                      name=batch_composition))
    register_passport_section(PassportSection(
        name="measurements", kinds=(ItemKind.SSE_BATCH,), build=conductivity_measurements, after="processParameters"))
