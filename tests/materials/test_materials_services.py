"""Materials services: mass balance across lots, yields, conditioning losses, σ from impedance, append-only
measurements with supersede, exposure retention, and the QC gate on release."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assbtrack.tracing.choices import ItemStatus
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.services import item_quarantine, item_release
from materials.choices import ConditioningKind, MaterialRole
from materials.models import ConductivityMeasurement, DryRoomExposure, SynthesisBatch
from materials.selectors import batch_conductivity_ms_per_cm, batch_qc_problems, batches_annotated
from materials.services import (
    batch_create,
    conductivity_spec_set,
    exposure_add,
    lot_create,
    measurement_add,
    measurement_correct,
    step_add,
)
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

pytestmark = pytest.mark.django_db


def remaining_g(item: TracedItem) -> Decimal:
    item.refresh_from_db()
    return item.quantity - item.quantity_used


# --------------------------------------------------------------------------------------------- lots


def test_lot_mass_is_the_item_quantity_in_grams(project, tech):
    lot = lot_create(project=project, user=tech, chemical_name="NCM811", formula="LiNi0.8Co0.1Mn0.1O2",
                     role=MaterialRole.ACTIVE_MATERIAL, mass_g=250.5, density_g_per_cm3=4.78,
                     specific_capacity_mah_per_g=200)
    assert lot.item.code.startswith("LOT-")
    assert lot.item.quantity == Decimal("250.5") and lot.item.unit == "g"
    assert lot.item.status == ItemStatus.DRAFT


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("mass_g", {"mass_g": 0}),
        ("mass_g", {"mass_g": float("nan")}),
        ("mass_g", {"mass_g": "lots"}),
        ("purity_percent", {"purity_percent": 101}),
        ("density_g_per_cm3", {"density_g_per_cm3": -1}),
        ("role", {"role": "catalyst"}),
    ],
)
def test_lot_refusals_name_the_field_and_write_nothing(project, tech, field, overrides):
    before = TracedItem.objects.count()
    with pytest.raises(ValidationError) as refused:
        make_lot(project, tech, **overrides)
    assert field in refused.value.message_dict
    assert TracedItem.objects.count() == before


# ------------------------------------------------------------------------------------ batches and mass


def test_batch_draws_its_precursors_from_their_lots(project, tech):
    li2s, p2s5 = make_lot(project, tech, mass_g=10), make_lot(project, tech, mass_g=10, formula="P2S5")
    batch = batch_create(project=project, user=tech, composition="Li6PS5Cl", sse_class="sulfide",
                         route="mechanochemical", precursors=[(li2s.item, 4.0), (p2s5.item, 6.0)],
                         batch_mass_g=9.5, milling_time_h=1, speed_rpm=500)
    assert batch.item.code.startswith("SSE-")
    assert remaining_g(li2s.item) == Decimal("6") and remaining_g(p2s5.item) == Decimal("4")
    assert batch.precursor_mass_g == 10.0
    assert batch.yield_percent == pytest.approx(95.0)
    edges = LineageEdge.objects.filter(child=batch.item).order_by("parent_id")
    assert [(edge.parent_id, edge.amount, edge.role) for edge in edges] == [
        (li2s.pk, Decimal("4"), "precursor"), (p2s5.pk, Decimal("6"), "precursor"),
    ]


def test_mass_balance_across_batches_of_one_lot(project, tech):
    lot = make_lot(project, tech, mass_g=10)
    make_batch(project, tech, precursors=[(lot.item, 6.0)])
    batches = SynthesisBatch.objects.count()
    with pytest.raises(ValidationError) as refused:
        make_batch(project, tech, precursors=[(lot.item, 5.0)])
    assert "only 4 g left" in refused.value.message_dict["precursors.0.mass_g"][0]
    assert SynthesisBatch.objects.count() == batches
    assert remaining_g(lot.item) == Decimal("4")
    make_batch(project, tech, precursors=[(lot.item, 4.0)])
    assert remaining_g(lot.item) == Decimal("0")


def test_a_refused_second_row_leaves_the_first_lot_untouched(project, tech):
    plenty, scarce = make_lot(project, tech, mass_g=50), make_lot(project, tech, mass_g=1)
    with pytest.raises(ValidationError) as refused:
        make_batch(project, tech, precursors=[(plenty.item, 5.0), (scarce.item, 2.0)])
    assert set(refused.value.message_dict) == {"precursors.1.mass_g"}
    assert remaining_g(plenty.item) == Decimal("50")


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no_rows", "precursors"),
        ("other_project", "precursors.0.lot"),
        ("twice", "precursors.1.lot"),
        ("heavier_than_precursors", "batch_mass_g"),
        ("negative_mass", "precursors.0.mass_g"),
        ("dry_room_without_dew_point", "dew_point_c"),
        ("half_heat_treatment", "heat_treatment_time_h"),
    ],
)
def test_batch_refusals(project, other_project, tech, case, field):
    lot = make_lot(project, tech, mass_g=20)
    foreign = make_lot(other_project, tech, mass_g=20)
    arguments = {
        "no_rows": {"precursors": []},
        "other_project": {"precursors": [(foreign.item, 1.0)]},
        "twice": {"precursors": [(lot.item, 1.0), (lot.item, 2.0)]},
        "heavier_than_precursors": {"precursors": [(lot.item, 5.0)], "batch_mass_g": 5.5},
        "negative_mass": {"precursors": [(lot.item, -1.0)]},
        "dry_room_without_dew_point": {"precursors": [(lot.item, 5.0)], "environment": "dry_room"},
        "half_heat_treatment": {"precursors": [(lot.item, 5.0)], "heat_treatment_temperature_c": 550},
    }[case]
    arguments.setdefault("batch_mass_g", 1.0)
    with pytest.raises(ValidationError) as refused:
        make_batch(project, tech, **arguments)
    assert field in refused.value.message_dict
    assert not SynthesisBatch.objects.exists()
    assert remaining_g(lot.item) == Decimal("20")


def test_a_quarantined_lot_cannot_be_used(project, tech, sci):
    lot = make_lot(project, tech, mass_g=20)
    item_quarantine(item=lot.item, user=sci, reason="moisture in the bottle")
    with pytest.raises(ValidationError) as refused:
        make_batch(project, tech, precursors=[(lot.item, 5.0)])
    assert "quarantined" in refused.value.message_dict["precursors.0.lot"][0]


# -------------------------------------------------------------------------------------- conditioning


def test_conditioning_chain_takes_its_losses_off_the_batch(project, tech):
    batch = make_batch(project, tech, batch_mass_g=9.5)  # 10 g of precursors
    first = step_add(batch=batch, user=tech, kind=ConditioningKind.DRY_MILLING, recovered_mass_g=9.0,
                     duration_h=0.5, speed_rpm=200)
    assert first.position == 1 and first.mass_in_g == 9.5
    assert first.yield_percent == pytest.approx(100 * 9.0 / 9.5)
    assert remaining_g(batch.item) == Decimal("9")
    second = step_add(batch=batch, user=tech, kind=ConditioningKind.SIEVING, mass_in_g=5, recovered_mass_g=4.5,
                      mesh_um=20)
    assert second.position == 2 and second.passes == 1
    assert remaining_g(batch.item) == Decimal("8.5")
    again = step_add(batch=batch, user=tech, kind=ConditioningKind.WET_MILLING, recovered_mass_g=8.0,
                     duration_h=1, solvent="xylene")
    assert [step.position for step in batch.steps.all()] == [1, 2, 3] and again.mass_in_g == 8.5
    assert batch.batch_mass_g == 9.5  # the synthesis yield stays what it was


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": "sieving", "recovered_mass_g": 1.0}, "mesh_um"),
        ({"kind": "wet_milling", "recovered_mass_g": 1.0, "duration_h": 1}, "solvent"),
        ({"kind": "dry_milling", "recovered_mass_g": 1.0}, "duration_h"),
        ({"kind": "sieving", "mesh_um": 20, "mass_in_g": 2, "recovered_mass_g": 3}, "recovered_mass_g"),
        ({"kind": "sieving", "mesh_um": 20, "mass_in_g": 50, "recovered_mass_g": 3}, "mass_in_g"),
        ({"kind": "sieving", "mesh_um": 20, "recovered_mass_g": 1, "d10_um": 5, "d50_um": 2}, "d10_um"),
    ],
)
def test_step_refusals(project, tech, arguments, field):
    batch = make_batch(project, tech)
    with pytest.raises(ValidationError) as refused:
        step_add(batch=batch, user=tech, **arguments)
    assert field in refused.value.message_dict
    assert not batch.steps.exists()
    assert remaining_g(batch.item) == batch.item.quantity


# ----------------------------------------------------------------------------------- conductivity


def test_conductivity_is_computed_from_the_pellet(project, tech):
    batch = make_batch(project, tech)
    # MODELS.md check: L = 1.0 mm, d = 10 mm, R = 40 Ω → σ = 0.1 cm / (40 Ω · 0.7854 cm²) = 3.183 mS/cm
    round_pellet = measurement_add(batch=batch, user=tech, temperature_c=25, thickness_mm=1.0, diameter_mm=10,
                                   resistance_ohm=40)
    assert round_pellet.area_cm2 == pytest.approx(math.pi / 4)
    assert round_pellet.conductivity_ms_per_cm == pytest.approx(3.1831, rel=1e-4)
    # L = 2 mm over 1 cm² at 20 Ω → 0.2 cm / 20 Ω·cm² = 0.01 S/cm = 10 mS/cm
    square = measurement_add(batch=batch, user=tech, temperature_c=25, thickness_mm=2, area_cm2=1,
                             resistance_ohm=20)
    assert square.conductivity_ms_per_cm == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"thickness_mm": 1, "resistance_ohm": 0, "diameter_mm": 10}, "resistance_ohm"),
        ({"thickness_mm": float("inf"), "resistance_ohm": 5, "diameter_mm": 10}, "thickness_mm"),
        ({"thickness_mm": 1, "resistance_ohm": 5}, "diameter_mm"),
        ({"thickness_mm": 1, "resistance_ohm": 5, "diameter_mm": 10, "area_cm2": 1}, "diameter_mm"),
        ({"thickness_mm": 1, "resistance_ohm": 5, "diameter_mm": 10, "temperature_c": -300}, "temperature_c"),
    ],
)
def test_measurement_refusals(project, tech, arguments, field):
    batch = make_batch(project, tech)
    arguments.setdefault("temperature_c", 25)
    with pytest.raises(ValidationError) as refused:
        measurement_add(batch=batch, user=tech, **arguments)
    assert field in refused.value.message_dict
    assert not ConductivityMeasurement.objects.exists()


def test_measurements_are_append_only_and_a_correction_supersedes(project, tech):
    batch = make_batch(project, tech)
    wrong = measurement_add(batch=batch, user=tech, temperature_c=25, thickness_mm=1.2, diameter_mm=10,
                            resistance_ohm=40)
    corrected = measurement_correct(measurement=wrong, user=tech, reason="thickness misread", thickness_mm=1.0)
    wrong.refresh_from_db()
    assert wrong.superseded_by_id == corrected.pk and not wrong.is_current
    assert wrong.thickness_mm == 1.2  # the old numbers stay as they were recorded
    assert corrected.resistance_ohm == 40 and corrected.diameter_mm == 10
    assert corrected.conductivity_ms_per_cm == pytest.approx(3.1831, rel=1e-4)
    assert ConductivityMeasurement.objects.filter(batch=batch).count() == 2
    assert batch_conductivity_ms_per_cm(SynthesisBatch.objects.get(pk=batch.pk)) == pytest.approx(3.1831, rel=1e-4)
    with pytest.raises(ValidationError) as twice:
        measurement_correct(measurement=wrong, user=tech, reason="again", thickness_mm=0.9)
    assert "supersedes" in twice.value.message_dict
    with pytest.raises(ValidationError) as no_reason:
        measurement_correct(measurement=corrected, user=tech, reason=" ", thickness_mm=0.9)
    assert "correction_reason" in no_reason.value.message_dict
    assert ConductivityMeasurement.objects.filter(batch=batch).count() == 2


def test_a_correction_must_be_of_the_same_batch(project, tech):
    one, two = make_batch(project, tech), make_batch(project, tech)
    measurement = make_measurement(one, tech)
    with pytest.raises(ValidationError) as refused:
        make_measurement(two, tech, supersedes=measurement, correction_reason="wrong batch")
    assert "supersedes" in refused.value.message_dict


def test_batch_conductivity_is_the_current_value_nearest_25_c(project, tech):
    batch = make_batch(project, tech)
    assert batch_conductivity_ms_per_cm(SynthesisBatch.objects.get(pk=batch.pk)) is None
    make_measurement(batch, tech, conductivity_ms_per_cm=4.0, temperature_c=30)
    make_measurement(batch, tech, conductivity_ms_per_cm=2.0, temperature_c=22)
    make_measurement(batch, tech, conductivity_ms_per_cm=9.0, temperature_c=60)
    fresh = SynthesisBatch.objects.get(pk=batch.pk)
    assert batch_conductivity_ms_per_cm(fresh) == pytest.approx(2.0)  # 3 °C away beats 5 °C away
    annotated = batches_annotated().get(pk=batch.pk)
    assert annotated.conductivity_ms_per_cm == pytest.approx(2.0)
    assert annotated.conductivity_temperature_c == 22
    make_measurement(batch, tech, conductivity_ms_per_cm=3.0, temperature_c=25)
    assert batch_conductivity_ms_per_cm(SynthesisBatch.objects.get(pk=batch.pk)) == pytest.approx(3.0)
    assert batches_annotated().get(pk=batch.pk).conductivity_ms_per_cm == pytest.approx(3.0)


# ------------------------------------------------------------------------------------------ exposure


def test_exposure_retention_and_it_follows_a_correction(project, tech):
    batch = make_batch(project, tech)
    before = make_measurement(batch, tech, conductivity_ms_per_cm=3.0)
    after = make_measurement(batch, tech, conductivity_ms_per_cm=2.4)
    exposure = exposure_add(batch=batch, user=tech, dew_point_c=-40, duration_h=4, measurement_before=before,
                            measurement_after=after, h2s_observed=True, phase_retained=False)
    assert exposure.retention_percent == pytest.approx(80.0)
    # The exposed powder does not speak for the batch: its conductivity stays the one before exposure.
    assert batch_conductivity_ms_per_cm(SynthesisBatch.objects.get(pk=batch.pk)) == pytest.approx(3.0)
    assert batches_annotated().get(pk=batch.pk).conductivity_ms_per_cm == pytest.approx(3.0)
    corrected = make_measurement(batch, tech, conductivity_ms_per_cm=2.7, supersedes=after,
                                 correction_reason="contact resistance subtracted")
    exposure.refresh_from_db()
    assert exposure.measurement_after_id == corrected.pk
    assert exposure.retention_percent == pytest.approx(90.0)


def test_exposure_refusals(project, tech):
    batch, other = make_batch(project, tech), make_batch(project, tech)
    mine = make_measurement(batch, tech)
    theirs = make_measurement(other, tech)
    with pytest.raises(ValidationError) as foreign:
        exposure_add(batch=batch, user=tech, dew_point_c=-40, duration_h=4, measurement_before=mine,
                     measurement_after=theirs)
    assert "measurement_after" in foreign.value.message_dict
    with pytest.raises(ValidationError) as same:
        exposure_add(batch=batch, user=tech, dew_point_c=-40, duration_h=4, measurement_before=mine,
                     measurement_after=mine)
    assert "measurement_after" in same.value.message_dict
    with pytest.raises(ValidationError) as wet:
        exposure_add(batch=batch, user=tech, dew_point_c=45, duration_h=4, measurement_before=mine,
                     measurement_after=make_measurement(batch, tech))
    assert "dew_point_c" in wet.value.message_dict
    assert not DryRoomExposure.objects.exists()


# ------------------------------------------------------------------------------------------------ QC


def test_release_needs_a_spec(project, tech, sci):
    batch = make_batch(project, tech)
    make_measurement(batch, tech, conductivity_ms_per_cm=5.0)
    with pytest.raises(ValidationError) as refused:
        item_release(item=batch.item, user=sci)
    assert "no conductivity specification" in refused.value.message_dict["status"][0]
    batch.item.refresh_from_db()
    assert batch.item.status == ItemStatus.DRAFT


def test_release_needs_a_measurement_at_or_above_the_spec(project, tech, sci):
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    batch = make_batch(project, tech)
    with pytest.raises(ValidationError) as unmeasured:
        item_release(item=batch.item, user=sci)
    assert "no conductivity measurement" in unmeasured.value.message_dict["status"][0]
    make_measurement(batch, tech, conductivity_ms_per_cm=1.5)
    with pytest.raises(ValidationError) as low:
        item_release(item=batch.item, user=sci)
    assert "below the specification 2 mS/cm" in low.value.message_dict["status"][0]
    make_measurement(batch, tech, conductivity_ms_per_cm=2.0)  # exactly at the spec passes
    item_release(item=batch.item, user=sci, reason="QC passed")
    batch.item.refresh_from_db()
    assert batch.item.status == ItemStatus.RELEASED


def test_qc_needs_a_room_temperature_value(project, tech, sci):
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    batch = make_batch(project, tech)
    make_measurement(batch, tech, conductivity_ms_per_cm=8.0, temperature_c=60)
    problems = batch_qc_problems(SynthesisBatch.objects.get(pk=batch.pk))
    assert len(problems) == 1 and "taken at 60 °C" in problems[0]


def test_spec_is_per_project_and_composition_and_can_change(project, other_project, sci):
    first = conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    changed = conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.5, user=sci)
    elsewhere = conductivity_spec_set(project=other_project, composition="Li6PS5Cl", minimum_ms_per_cm=1.0,
                                      user=sci)
    assert changed.pk == first.pk and changed.minimum_ms_per_cm == 2.5
    assert elsewhere.pk != first.pk
    assert changed.history.count() == 2
    with pytest.raises(ValidationError) as refused:
        conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=0, user=sci)
    assert "minimum_ms_per_cm" in refused.value.message_dict
