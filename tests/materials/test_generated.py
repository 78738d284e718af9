"""The generated per-model tests (tests/utils/generated.py) for the materials records."""

from __future__ import annotations

from django.test import TestCase

from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.services import item_quarantine
from materials.models import ConductivityMeasurement, MaterialLot, SynthesisBatch
from materials.services import measurement_correct
from tests.utils.factories import PASSWORD
from tests.utils.factories_materials import make_batch, make_lot, make_measurement
from tests.utils.generated import GeneratedModelTests, ModelCase


def quarantine(record, user) -> TracedItem:
    return item_quarantine(item=record.item, user=user, reason="caked powder", password=PASSWORD)


class TestMaterialLots(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=MaterialLot, make=make_lot, api="material-lots", change=quarantine,
        pages=("/materials/lots/",), page_of=lambda lot: f"/items/{lot.item.code}/", new_page="/materials/lots/new/",
    )


class TestSynthesisBatches(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=SynthesisBatch, make=make_batch, api="sse-batches", change=quarantine,
        pages=("/materials/batches/",), page_of=lambda batch: f"/materials/batches/{batch.item.code}/",
        new_page="/materials/batches/new/",
    )


def _measurement(project, user) -> ConductivityMeasurement:
    return make_measurement(make_batch(project, user), user)


def _measurements(project, user, count: int) -> list[ConductivityMeasurement]:
    batch = make_batch(project, user)
    return [make_measurement(batch, user) for _ in range(count)]


class TestConductivityMeasurements(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=ConductivityMeasurement, make=_measurement, make_many=_measurements, api="conductivity-measurements",
        key="id", key_of=lambda measurement: measurement.pk,
        change=lambda measurement, user: measurement_correct(measurement=measurement, user=user,
                                                             reason="pellet thickness re-measured", thickness_mm=1.1),
        page_of=lambda measurement: f"/materials/batches/{measurement.batch.item.code}/measurements/new/",
    )
