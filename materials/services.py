"""Every write of the materials app: lots, batches with their precursors, conditioning, measurements, exposure, QC.

Each service takes keyword-only arguments, runs in one transaction, and raises ``ValidationError``
keyed by the field a form or an API client sent. Precursor rows are keyed ``precursors.<row>.lot`` and
``precursors.<row>.mass_g`` so that the batch form can show a refusal beside the row it concerns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from assbtrack.access.models import Project
from assbtrack.domain.inputs import ModelInputError
from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.models import Equipment
from assbtrack.instruments.selectors import calibration_overdue_warning, item_exposure_between
from assbtrack.instruments.services import equipment_for_use
from assbtrack.jobs.plots import plot_submit
from assbtrack.quality.services import control_charts_refresh_on_commit
from assbtrack.tracing.choices import ItemKind, ItemStatus, LineageRole
from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.plausibility import warnings_confirm
from assbtrack.tracing.problems import Problems
from assbtrack.tracing.refusals import error_rekey as _rekey
from assbtrack.tracing.refusals import full_clean_fields as _full_clean
from assbtrack.tracing.registry import consuming_path
from assbtrack.tracing.services import (
    draw_problem,
    edge_create,
    item_create,
    record_correction_check,
    records_bulk_create,
    warnings_confirmed_record,
)
from assbtrack.tracing.values import number_value
from materials.conductivity import conductivity_retention, run_conductivity

from .choices import CONDUCTIVITY_TREND, MILLING_KINDS, ConditioningKind, ProcessEnvironment
from .models import (
    ConditioningStep,
    ConductivityMeasurement,
    ConductivitySpec,
    DryRoomExposure,
    MaterialLot,
    SynthesisBatch,
)
from .selectors import (
    batch_detail_queryset,
    batch_plot_specs,
    composition_batches,
    composition_plot_specs,
    conductivity_trend_inputs,
    spec_for,
)

GRAM = "g"
# Floats read from forms and Decimals stored on items meet here; a microgram is below any balance we use.
MASS_TOLERANCE_G = 1e-6
MAX_QUANTITY_G = 1e9  # the item quantity column holds 10 integer digits


_number = number_value  # the core's rules and messages for typed and imported numbers


def _mass_g(value: Any, field: str) -> float:
    return _number(value, field, greater_than=0.0, maximum=MAX_QUANTITY_G)


def _quantity(mass_g: float) -> Decimal:
    """A float mass as the item's Decimal quantity, rounded to the column's six decimals (µg)."""
    return Decimal(repr(mass_g)).quantize(Decimal("0.000001"))


# ---------------------------------------------------------------------------------------------- lots


@transaction.atomic
def lot_create(
    *,
    project: Project,
    user: User,
    chemical_name: str,
    formula: str,
    role: str,
    mass_g: float,
    supplier: str = "",
    supplier_lot: str = "",
    received_on=None,
    purity_percent: float | None = None,
    storage_atmosphere: str = "",
    density_g_per_cm3: float | None = None,
    specific_capacity_mah_per_g: float | None = None,
    notes: str = "",
) -> MaterialLot:
    """A new material lot of ``mass_g`` grams, in draft, with its LOT code."""
    mass_g = _mass_g(mass_g, "mass_g")
    purity_percent = _number(purity_percent, "purity_percent", required=False, greater_than=0.0, maximum=100.0)
    density_g_per_cm3 = _number(density_g_per_cm3, "density_g_per_cm3", required=False, greater_than=0.0)
    specific_capacity_mah_per_g = _number(
        specific_capacity_mah_per_g, "specific_capacity_mah_per_g", required=False, minimum=0.0
    )
    try:
        item = item_create(
            kind=ItemKind.MATERIAL_LOT, project=project, user=user, quantity=_quantity(mass_g), unit=GRAM,
            notes=notes,
        )
    except ValidationError as error:
        raise _rekey(error, {"quantity": "mass_g", "notes": "notes"}, "mass_g") from None
    lot = MaterialLot(
        item=item,
        chemical_name=(chemical_name or "").strip(),
        formula=(formula or "").strip(),
        role=role,
        supplier=(supplier or "").strip(),
        supplier_lot=(supplier_lot or "").strip(),
        received_on=received_on,
        purity_percent=purity_percent,
        storage_atmosphere=storage_atmosphere or "",
        density_g_per_cm3=density_g_per_cm3,
        specific_capacity_mah_per_g=specific_capacity_mah_per_g,
    )
    _full_clean(lot, exclude=["item"])
    lot.save()
    return lot


# ------------------------------------------------------------------------------------------- batches


def _lot_item(value: Any) -> TracedItem | None:
    if isinstance(value, MaterialLot):
        return value.item
    if isinstance(value, TracedItem):
        return value
    return None


@consuming_path("use")
@transaction.atomic
def batch_create(
    *,
    project: Project,
    user: User,
    composition: str,
    sse_class: str,
    route: str,
    precursors: Sequence[tuple[TracedItem, float]],
    batch_mass_g: float,
    milling_time_h: float,
    speed_rpm: float,
    density_g_per_cm3: float | None = None,
    mill: str = "",
    jar_material: str = "",
    media_material: str = "",
    ball_diameter_mm: float | None = None,
    ball_to_powder_ratio: float | None = None,
    heat_treatment_temperature_c: float | None = None,
    heat_treatment_time_h: float | None = None,
    heat_treatment_atmosphere: str = "",
    environment: str = ProcessEnvironment.GLOVEBOX,
    glovebox_o2_ppm: float | None = None,
    glovebox_h2o_ppm: float | None = None,
    dew_point_c: float | None = None,
    notes: str = "",
    equipment: Equipment | None = None,
    confirm_warnings: bool = False,
) -> SynthesisBatch:
    """A synthesis batch made from ``precursors`` (lot item, grams used), each drawn from its lot.

    Refused before anything is written: no precursor, a lot of another kind or project, a lot listed
    twice, a mass that is not a positive number, a batch heavier than its precursors. Refused by the
    lineage (with the row named): a held lot or one without enough left.
    """
    problems = Problems()  # every refusal of the form at once, each beside its field or row
    refuse = problems.add

    rows: list[tuple[TracedItem, float]] = []
    if not precursors:
        refuse("precursors", "add at least one precursor lot")
    seen: dict[int, int] = {}
    for index, row in enumerate(precursors or ()):
        try:
            lot_value, mass_value = row
        except (TypeError, ValueError):
            refuse(f"precursors.{index}.lot", "each precursor is a lot and a mass in g")
            continue
        lot_item = _lot_item(lot_value)
        usable = False
        if lot_item is None or lot_item.kind != ItemKind.MATERIAL_LOT:
            refuse(f"precursors.{index}.lot", "is not a material lot")
        elif lot_item.project_id != project.pk:
            refuse(f"precursors.{index}.lot", f"{lot_item.code} belongs to another project")
        elif lot_item.pk in seen:
            refuse(f"precursors.{index}.lot", f"{lot_item.code} is listed twice (row {seen[lot_item.pk] + 1})")
        else:
            seen[lot_item.pk] = index
            usable = True
        mass_g = problems.check(_mass_g, mass_value, f"precursors.{index}.mass_g")
        if mass_g is None:
            continue
        if usable:
            # Checked now so that an overdrawn lot is reported with every other problem; the lineage checks
            # again under the row lock when the batch is written.
            problem = draw_problem(lot_item, _quantity(mass_g), GRAM)
            if problem is not None:
                where, message = problem
                refuse(f"precursors.{index}.{'lot' if where == 'parent' else 'mass_g'}", message)
        if lot_item is not None:
            rows.append((lot_item, mass_g))

    precursor_mass_g = float(sum((_quantity(mass) for _, mass in rows), Decimal(0)))
    batch_mass = problems.check(_mass_g, batch_mass_g, "batch_mass_g")
    if batch_mass is not None:
        batch_mass_g = batch_mass
        every_row_weighed = bool(rows) and len(rows) == len(precursors or ())
        if every_row_weighed and batch_mass_g > precursor_mass_g + MASS_TOLERANCE_G:
            refuse("batch_mass_g", f"{batch_mass_g:g} g is more than the {precursor_mass_g:g} g of precursors used")
    problems.check(_number, milling_time_h, "milling_time_h", minimum=0.0)
    problems.check(_number, speed_rpm, "speed_rpm", minimum=0.0)
    equipment = problems.check(equipment_for_use, equipment, kinds=(EquipmentKind.BALL_MILL,), field="equipment")
    optional = {
        name: problems.check(_number, value, name, required=False, **limits)
        for name, value, limits in (
            ("ball_diameter_mm", ball_diameter_mm, {"greater_than": 0.0}),
            ("ball_to_powder_ratio", ball_to_powder_ratio, {"greater_than": 0.0}),
            ("heat_treatment_temperature_c", heat_treatment_temperature_c, {"minimum": -273.15}),
            ("heat_treatment_time_h", heat_treatment_time_h, {"greater_than": 0}),
            ("glovebox_o2_ppm", glovebox_o2_ppm, {"minimum": 0.0}),
            ("glovebox_h2o_ppm", glovebox_h2o_ppm, {"minimum": 0.0}),
            ("dew_point_c", dew_point_c, {"minimum": -100.0, "maximum": 30.0}),
            ("density_g_per_cm3", density_g_per_cm3, {"greater_than": 0.0}),
        )
    }
    heat_given = {name: heat is not None or name in problems
                  for name, heat in (("heat_treatment_temperature_c", heat_treatment_temperature_c),
                                     ("heat_treatment_time_h", heat_treatment_time_h))}
    if heat_given["heat_treatment_temperature_c"] and not heat_given["heat_treatment_time_h"]:
        refuse("heat_treatment_time_h", "give the heat-treatment time as well as its temperature")
    if heat_given["heat_treatment_time_h"] and not heat_given["heat_treatment_temperature_c"]:
        refuse("heat_treatment_temperature_c", "give the heat-treatment temperature as well as its time")
    if environment == ProcessEnvironment.DRY_ROOM and optional["dew_point_c"] is None and "dew_point_c" not in problems:
        refuse("dew_point_c", "a dry-room synthesis needs the dew point")
    # An implausible but possible value (an overdue mill) asks to be confirmed, reported with the rest.
    confirmed = problems.check(warnings_confirm, [calibration_overdue_warning(equipment)],
                               confirmed=confirm_warnings) or []
    problems.raise_if_any()

    item = item_create(
        kind=ItemKind.SSE_BATCH, project=project, user=user, quantity=_quantity(batch_mass_g), unit=GRAM, notes=notes
    )
    batch = SynthesisBatch(
        item=item,
        composition=(composition or "").strip(),
        sse_class=sse_class,
        route=route,
        mill=(mill or "").strip() or ((equipment.make_model or equipment.name)[:80] if equipment else ""),
        equipment=equipment,
        jar_material=jar_material or "",
        media_material=media_material or "",
        speed_rpm=float(speed_rpm),
        milling_time_h=float(milling_time_h),
        heat_treatment_atmosphere=heat_treatment_atmosphere or "",
        environment=environment,
        precursor_mass_g=precursor_mass_g,
        batch_mass_g=batch_mass_g,
        **optional,
    )
    _full_clean(batch, exclude=["item"])
    batch.save()

    for index, (lot_item, mass_g) in enumerate(rows):
        try:
            edge_create(
                parent=lot_item, child=item, role=LineageRole.PRECURSOR, user=user, amount=_quantity(mass_g), unit=GRAM
            )
        except ValidationError as error:
            rekeyed = _rekey(
                error, {"amount": f"precursors.{index}.mass_g", "unit": f"precursors.{index}.mass_g"},
                f"precursors.{index}.lot",
            )
            problems.merge(rekeyed)
    problems.raise_if_any()
    warnings_confirmed_record(item=item, user=user, warnings=confirmed)
    return batch


# What a correction may change on a batch: its recorded facts. Its precursors and mass are lineage (amounts
# drawn from lots), its equipment and environment are checked at entry; those are never rewritten.
BATCH_CORRECTABLE_FIELDS = (
    "composition", "density_g_per_cm3", "milling_time_h", "speed_rpm", "ball_diameter_mm", "ball_to_powder_ratio",
    "heat_treatment_temperature_c", "heat_treatment_time_h", "glovebox_o2_ppm", "glovebox_h2o_ppm",
)
_BATCH_LIMITS = {
    "density_g_per_cm3": {"required": False, "greater_than": 0.0, "maximum": 30.0},
    "milling_time_h": {"minimum": 0.0},
    "speed_rpm": {"minimum": 0.0},
    "ball_diameter_mm": {"required": False, "greater_than": 0.0},
    "ball_to_powder_ratio": {"required": False, "greater_than": 0.0},
    "heat_treatment_temperature_c": {"required": False, "minimum": -273.15},
    "heat_treatment_time_h": {"required": False, "greater_than": 0.0},
    "glovebox_o2_ppm": {"required": False, "minimum": 0.0},
    "glovebox_h2o_ppm": {"required": False, "minimum": 0.0},
}


@transaction.atomic
def batch_correct(*, batch: SynthesisBatch, user: User, change_reason: str = "", **changes: Any) -> SynthesisBatch:
    """Correct the recorded facts of ``batch`` (``BATCH_CORRECTABLE_FIELDS``): by its maker or a scientist, with
    a reason once it is past draft (``record_correction_check``). Every problem is reported at once; the history
    keeps the version before, and the new one carries the reason."""
    item = _locked_item(batch)
    locked = SynthesisBatch.objects.select_for_update().get(pk=batch.pk)
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(changes) - set(BATCH_CORRECTABLE_FIELDS))
    if unknown:
        errors[unknown[0]] = ["is not corrected here (precursors, masses and equipment are kept as recorded)"]
    try:
        history_reason = record_correction_check(item=item, user=user, reason=change_reason)
    except ValidationError as error:
        errors.update(error.message_dict)
    for field, value in changes.items():
        if field == "composition":
            if not (value or "").strip():
                errors["composition"] = ["give the target composition"]
            else:
                locked.composition = value.strip()
        elif field in _BATCH_LIMITS:
            try:
                setattr(locked, field, _number(value, field, **_BATCH_LIMITS[field]))
            except ValidationError as error:
                errors.update(error.message_dict)
    if locked.heat_treatment_temperature_c is not None and locked.heat_treatment_time_h is None:
        errors.setdefault("heat_treatment_time_h", []).append("give the heat-treatment time as well as its temperature")
    if locked.heat_treatment_time_h is not None and locked.heat_treatment_temperature_c is None:
        errors.setdefault("heat_treatment_temperature_c", []).append(
            "give the heat-treatment temperature as well as its time")
    if errors:
        raise ValidationError(errors)
    _full_clean(locked, exclude=["item"])
    locked._change_reason = history_reason
    locked._history_user = user  # the corrector, on every path (a page, the shell, an import)
    locked.save()
    return locked


def _locked_item(batch: SynthesisBatch) -> TracedItem:
    return TracedItem.objects.select_for_update().get(pk=batch.pk)


# -------------------------------------------------------------------------------------- conditioning


@transaction.atomic
def step_add(
    *,
    batch: SynthesisBatch,
    user: User,
    kind: str,
    recovered_mass_g: float,
    mass_in_g: float | None = None,
    speed_rpm: float | None = None,
    duration_h: float | None = None,
    solvent: str = "",
    solvent_volume_ml: float | None = None,
    drying_temperature_c: float | None = None,
    drying_time_h: float | None = None,
    mesh_um: float | None = None,
    passes: int | None = None,
    d10_um: float | None = None,
    d50_um: float | None = None,
    d90_um: float | None = None,
    performed_at: datetime | None = None,
    notes: str = "",
) -> ConditioningStep:
    """The next conditioning step of ``batch``. What the step loses comes off the batch's stock."""
    item = _locked_item(batch)
    if item.status in (ItemStatus.REJECTED, ItemStatus.CONSUMED):
        raise ValidationError({"kind": f"{item.code} is {item.get_status_display().lower()}: it is not conditioned"})
    if kind not in ConditioningKind.values:
        raise ValidationError({"kind": f"unknown step {kind!r}"})
    remaining_g = float(item.quantity - item.quantity_used)
    errors: dict[str, list[str]] = {}

    def check(field: str, value: Any, **limits) -> Any:
        try:
            return _number(value, field, required=False, **limits)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.message_dict[field])
            return None

    mass_in = check("mass_in_g", mass_in_g, greater_than=0.0, maximum=MAX_QUANTITY_G)
    if mass_in_g in (None, ""):
        mass_in = remaining_g
    recovered = check("recovered_mass_g", recovered_mass_g, minimum=0.0, maximum=MAX_QUANTITY_G)
    if recovered_mass_g in (None, ""):
        errors.setdefault("recovered_mass_g", []).append("is required")
    values = {
        "speed_rpm": check("speed_rpm", speed_rpm, greater_than=0.0),
        "duration_h": check("duration_h", duration_h, greater_than=0.0),
        "solvent_volume_ml": check("solvent_volume_ml", solvent_volume_ml, greater_than=0.0),
        "drying_temperature_c": check("drying_temperature_c", drying_temperature_c, minimum=-273.15),
        "drying_time_h": check("drying_time_h", drying_time_h, greater_than=0.0),
        "mesh_um": check("mesh_um", mesh_um, greater_than=0.0),
        "d10_um": check("d10_um", d10_um, greater_than=0.0),
        "d50_um": check("d50_um", d50_um, greater_than=0.0),
        "d90_um": check("d90_um", d90_um, greater_than=0.0),
    }
    passes_value = check("passes", passes, minimum=1, maximum=1000)
    if passes_value is not None and not float(passes_value).is_integer():
        errors.setdefault("passes", []).append("must be a whole number")
    if mass_in is not None and mass_in > remaining_g + MASS_TOLERANCE_G:
        errors.setdefault("mass_in_g", []).append(f"{item.code} has only {remaining_g:g} g left")
    if mass_in is not None and recovered is not None and recovered > mass_in + MASS_TOLERANCE_G:
        errors.setdefault("recovered_mass_g", []).append(f"cannot exceed the {mass_in:g} g put in")
    if kind in MILLING_KINDS and values["duration_h"] is None and "duration_h" not in errors:
        errors.setdefault("duration_h", []).append("a milling step needs its milling time")
    if kind == ConditioningKind.WET_MILLING and not (solvent or "").strip():
        errors.setdefault("solvent", []).append("wet milling needs the solvent (e.g. xylene, toluene)")
    if kind == ConditioningKind.SIEVING and values["mesh_um"] is None and "mesh_um" not in errors:
        errors.setdefault("mesh_um", []).append("sieving needs the mesh size")
    d10, d50, d90 = values["d10_um"], values["d50_um"], values["d90_um"]
    if d10 is not None and d50 is not None and d10 > d50:
        errors.setdefault("d10_um", []).append("D10 cannot be larger than D50")
    if d50 is not None and d90 is not None and d50 > d90:
        errors.setdefault("d90_um", []).append("D90 cannot be smaller than D50")
    if errors:
        raise ValidationError(errors)

    if kind == ConditioningKind.SIEVING and passes_value is None:
        passes_value = 1
    position = (batch.steps.aggregate(last=Max("position"))["last"] or 0) + 1
    step = ConditioningStep(
        batch=batch,
        position=position,
        kind=kind,
        mass_in_g=mass_in,
        recovered_mass_g=min(recovered, mass_in),
        solvent=(solvent or "").strip(),
        passes=int(passes_value) if passes_value is not None else None,
        performed_at=performed_at or timezone.now(),
        notes=notes or "",
        created_by=user,
        **values,
    )
    _full_clean(step, exclude=["batch", "created_by"])
    step.save()

    loss = _quantity(mass_in) - _quantity(step.recovered_mass_g)
    if loss > 0:
        item.quantity = max(item.quantity - loss, item.quantity_used)
        item._change_reason = f"conditioning step {position} ({step.get_kind_display().lower()}) lost {loss:f} g"
        item.save(update_fields=["quantity", "updated_at"])
    return step


# -------------------------------------------------------------------------------------- measurements


def _conductivity_inputs(
    *, temperature_c: Any, thickness_mm: Any, resistance_ohm: Any, area_cm2: Any, diameter_mm: Any
) -> dict[str, Any]:
    """The ``conductivity`` model's inputs, each checked as a number first so the error names our field."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, value, required in (
        ("temperature_c", temperature_c, True),
        ("thickness_mm", thickness_mm, True),
        ("resistance_ohm", resistance_ohm, True),
        ("area_cm2", area_cm2, False),
        ("diameter_mm", diameter_mm, False),
    ):
        try:
            number = _number(value, field, required=required)
        except ValidationError as error:
            errors.update(error.message_dict)
            continue
        if number is not None:
            data[field] = number
    if errors:
        raise ValidationError(errors)
    return data


def conductivity_compute(
    *, temperature_c: Any, thickness_mm: Any, resistance_ohm: Any, area_cm2: Any = None, diameter_mm: Any = None
) -> dict[str, float]:
    """σ and the pellet area from the numbers a technician typed, by the ``conductivity`` model."""
    data = _conductivity_inputs(
        temperature_c=temperature_c, thickness_mm=thickness_mm, resistance_ohm=resistance_ohm,
        area_cm2=area_cm2, diameter_mm=diameter_mm,
    )
    if "area_cm2" not in data and "diameter_mm" not in data:
        raise ValidationError({"diameter_mm": "give the pellet diameter (mm) or its area (cm²)"})
    try:
        result = run_conductivity(data)
    except ModelInputError as error:
        raise ValidationError({error.field: error.reason}) from None
    if not math.isfinite(result["conductivity_ms_per_cm"]) or result["conductivity_ms_per_cm"] <= 0:
        raise ValidationError({"resistance_ohm": "gives no finite conductivity; check the numbers"})
    return result


@transaction.atomic
def measurement_add(
    *,
    batch: SynthesisBatch,
    user: User,
    temperature_c: float,
    thickness_mm: float,
    resistance_ohm: float,
    area_cm2: float | None = None,
    diameter_mm: float | None = None,
    stack_pressure_mpa: float | None = None,
    measured_at: datetime | None = None,
    impedance_file: UploadedFile | None = None,
    notes: str = "",
    supersedes: ConductivityMeasurement | None = None,
    correction_reason: str = "",
    equipment: Equipment | None = None,
) -> ConductivityMeasurement:
    """Record an impedance measurement of a pellet of ``batch``; σ = L/(R·A) is computed here.

    With ``supersedes`` the new row corrects an earlier one of the same batch, which is kept and
    marked as superseded; exposure studies that used the old value are moved to the correction.
    """
    result = conductivity_compute(
        temperature_c=temperature_c, thickness_mm=thickness_mm, resistance_ohm=resistance_ohm,
        area_cm2=area_cm2, diameter_mm=diameter_mm,
    )
    pressure = _number(stack_pressure_mpa, "stack_pressure_mpa", required=False, minimum=0.0, maximum=10_000.0)
    equipment = equipment_for_use(equipment, kinds=(EquipmentKind.IMPEDANCE_ANALYSER,), field="equipment")
    old = None
    if supersedes is not None:
        old = ConductivityMeasurement.objects.select_for_update().filter(pk=supersedes.pk).first()
        if old is None or old.batch_id != batch.pk:
            raise ValidationError({"supersedes": "the corrected measurement belongs to another batch"})
        if old.superseded_by_id is not None:
            raise ValidationError({"supersedes": "that measurement was already corrected; correct the newer one"})
        if not (correction_reason or "").strip():
            raise ValidationError({"correction_reason": "say why the earlier measurement is corrected"})
    measurement = ConductivityMeasurement(
        batch=batch,
        temperature_c=result["temperature_c"],
        thickness_mm=float(thickness_mm),
        diameter_mm=_number(diameter_mm, "diameter_mm", required=False),
        area_cm2=result["area_cm2"],
        stack_pressure_mpa=pressure,
        equipment=equipment,
        resistance_ohm=float(resistance_ohm),
        conductivity_ms_per_cm=result["conductivity_ms_per_cm"],
        measured_at=measured_at or timezone.now(),
        notes=notes or "",
        correction_reason=(correction_reason or "").strip(),
        created_by=user,
    )
    if impedance_file:
        measurement.impedance_file = impedance_file
    _full_clean(measurement, exclude=["batch", "created_by", "superseded_by"])
    measurement.save()
    if old is not None:
        # The one change a measurement ever sees: pointing at its correction.
        old.superseded_by = measurement
        old._change_reason = f"superseded: {measurement.correction_reason}"
        old.save(update_fields=["superseded_by"])
        _exposures_follow_correction(old=old, new=measurement)
    control_charts_refresh_on_commit(item=batch.item, user=user)
    return measurement


def measurement_correct(
    *, measurement: ConductivityMeasurement, user: User, reason: str, **values: Any
) -> ConductivityMeasurement:
    """A corrected copy of ``measurement``: the numbers not given are taken over from it."""
    fields = ("temperature_c", "thickness_mm", "resistance_ohm", "stack_pressure_mpa", "measured_at", "notes",
              "equipment")
    data = {field: getattr(measurement, field) for field in fields}
    if "area_cm2" in values or "diameter_mm" in values:
        data.update(area_cm2=values.pop("area_cm2", None), diameter_mm=values.pop("diameter_mm", None))
    elif measurement.diameter_mm is not None:
        data["diameter_mm"] = measurement.diameter_mm
    else:
        data["area_cm2"] = measurement.area_cm2
    data.update(values)
    return measurement_add(
        batch=measurement.batch, user=user, supersedes=measurement, correction_reason=reason, **data
    )


def _exposures_follow_correction(*, old: ConductivityMeasurement, new: ConductivityMeasurement) -> None:
    for exposure in DryRoomExposure.objects.select_for_update().filter(batch_id=old.batch_id).select_related(
        "measurement_before", "measurement_after"
    ):
        if old.pk not in (exposure.measurement_before_id, exposure.measurement_after_id):
            continue
        if exposure.measurement_before_id == old.pk:
            exposure.measurement_before = new
        if exposure.measurement_after_id == old.pk:
            exposure.measurement_after = new
        exposure.retention_percent = float(
            conductivity_retention(
                exposure.measurement_before.conductivity_ms_per_cm, exposure.measurement_after.conductivity_ms_per_cm
            ).retention_percent
        )
        exposure._change_reason = f"measurement {old.pk} corrected by {new.pk}"
        exposure.save(update_fields=["measurement_before", "measurement_after", "retention_percent"])


# -------------------------------------------------------------------------------------------- exposure


@transaction.atomic
def exposure_add(
    *,
    batch: SynthesisBatch,
    user: User,
    dew_point_c: float,
    duration_h: float,
    measurement_before: ConductivityMeasurement,
    measurement_after: ConductivityMeasurement,
    phase_retained: bool | None = None,
    phase_notes: str = "",
    xrd_file: UploadedFile | None = None,
    h2s_observed: bool = False,
    h2s_peak_ppm: float | None = None,
    exposed_at: datetime | None = None,
    notes: str = "",
    from_log: bool | None = None,
) -> DryRoomExposure:
    """A dry-room exposure study of ``batch``: retention = σ after / σ before, from two of its measurements.

    With ``from_log`` (or by default, when no dew point and time are typed and the batch was opened in a
    logged room between the two measurements) the dew point and the time come from the log: the time out of
    sealed storage between the measurements and the effective dew point (the constant one that gives the same
    water-vapour dose), with the worst dew point and the hours above the room's limit added to the notes.
    """
    errors: dict[str, list[str]] = {}
    if from_log is None:
        from_log = dew_point_c in (None, "") and duration_h in (None, "") and batch.item.storage_events.exists()
    if from_log:
        logged = _exposure_from_log(batch, measurement_before, measurement_after)
        dew_point_c, duration_h = logged["dew_point_c"], logged["duration_h"]
        exposed_at = exposed_at or logged["exposed_at"]
        notes = "\n".join(part for part in ((notes or "").strip(), logged["summary"]) if part)
    for field, value, limits in (
        ("dew_point_c", dew_point_c, {"minimum": -100.0, "maximum": 30.0}),
        ("duration_h", duration_h, {"minimum": 0.0, "maximum": 100_000.0}),
        ("h2s_peak_ppm", h2s_peak_ppm, {"minimum": 0.0}),
    ):
        try:
            _number(value, field, required=field != "h2s_peak_ppm", **limits)
        except ValidationError as error:
            errors.update(error.message_dict)
    for field, measurement in (("measurement_before", measurement_before), ("measurement_after", measurement_after)):
        if measurement is None:
            errors.setdefault(field, []).append("choose a measurement of this batch")
        elif measurement.batch_id != batch.pk:
            errors.setdefault(field, []).append("is a measurement of another batch")
        elif measurement.superseded_by_id is not None:
            errors.setdefault(field, []).append("was corrected; choose the correction")
    if not errors and measurement_before.pk == measurement_after.pk:
        errors.setdefault("measurement_after", []).append("must differ from the measurement before")
    if errors:
        raise ValidationError(errors)
    retention = conductivity_retention(
        measurement_before.conductivity_ms_per_cm, measurement_after.conductivity_ms_per_cm
    )
    exposure = DryRoomExposure(
        batch=batch,
        dew_point_c=float(dew_point_c),
        duration_h=float(duration_h),
        from_log=bool(from_log),
        measurement_before=measurement_before,
        measurement_after=measurement_after,
        retention_percent=float(retention.retention_percent),
        phase_retained=phase_retained,
        phase_notes=phase_notes or "",
        h2s_observed=bool(h2s_observed),
        h2s_peak_ppm=_number(h2s_peak_ppm, "h2s_peak_ppm", required=False),
        exposed_at=exposed_at or timezone.now(),
        notes=notes or "",
        created_by=user,
    )
    if xrd_file:
        exposure.xrd_file = xrd_file
    _full_clean(exposure, exclude=["batch", "created_by", "measurement_before", "measurement_after"])
    exposure.save()
    return exposure


def _exposure_from_log(
    batch: SynthesisBatch, before: ConductivityMeasurement | None, after: ConductivityMeasurement | None
) -> dict[str, Any]:
    """The dew point and hours of an exposure study from the batch's open/close events between two measurements."""
    if before is None or after is None or before.batch_id != batch.pk or after.batch_id != batch.pk:
        raise ValidationError({"from_log": "choose the measurements before and after first"})
    if after.measured_at <= before.measured_at:
        raise ValidationError({"measurement_after": "was measured before the measurement before; the log cannot "
                                                    "give an exposure between them"})
    logged = item_exposure_between(batch.item, start=before.measured_at, end=after.measured_at)
    if logged.open_h <= 0:
        raise ValidationError({"from_log": f"{batch.item.code} was not out of sealed storage between the two "
                                           "measurements; type the dew point and the time"})
    if logged.effective_dew_point_c is None:
        raise ValidationError({"from_log": "the room has no sensor readings for that time; import its log first "
                                           "or type the dew point and the time"})
    rooms = ", ".join(part.room.name for part in logged.rooms)
    worst = logged.worst_dew_point_c
    summary = (
        f"From the dry-room log ({rooms}): {logged.open_h:.2f} h out of sealed storage, "
        f"{logged.above_limit_h:.2f} h above the limit, {logged.no_data_h:.2f} h without readings; "
        f"worst dew point {worst:.1f} °C, {logged.excess_c_h:.2f} °C·h above the limit, "
        f"water-vapour dose {logged.vapour_pressure_pa_h:.2f} Pa·h."
    )
    first_open = min(event.opened_at for part in logged.rooms for event in part.events)
    return {
        "dew_point_c": round(logged.effective_dew_point_c, 2),
        "duration_h": round(logged.open_h, 4),
        "exposed_at": max(first_open, before.measured_at),
        "summary": summary,
    }


# ------------------------------------------------------------------------------------------------- QC


@transaction.atomic
def conductivity_spec_set(
    *, project: Project, composition: str, minimum_ms_per_cm: float, user: User
) -> ConductivitySpec:
    """Set (or change) the minimum conductivity a batch of ``composition`` in ``project`` needs for release."""
    composition = (composition or "").strip()
    if not composition:
        raise ValidationError({"composition": "is required"})
    minimum = _number(minimum_ms_per_cm, "minimum_ms_per_cm", greater_than=0.0, maximum=10_000.0)
    spec = ConductivitySpec.objects.select_for_update().filter(project=project, composition=composition).first()
    if spec is None:
        spec = ConductivitySpec(project=project, composition=composition)
    spec.minimum_ms_per_cm = minimum
    spec.set_by = user
    _full_clean(spec, exclude=["project", "set_by"] + (["composition"] if spec.pk else []))
    spec.save()
    return spec


# ---------------------------------------------------------------------------------------------- plots


def batch_plots_submit(*, batch: SynthesisBatch, user: User | None, force: bool = False) -> list:
    """Draw (on a worker) the batch's Arrhenius and exposure plots whose data changed since the last drawing."""
    batch = batch_detail_queryset().get(pk=batch.pk)
    return [
        plot_submit(kind=kind, inputs=inputs, user=user, subject=batch.item, force=force)
        for kind, _, inputs, _ in batch_plot_specs(batch)
        if inputs is not None
    ]


def composition_plots_submit(*, project: Project, composition: str, user: User | None, force: bool = False) -> list:
    """Draw the composition's Figure 2b (one per route) and its control chart, if their data changed."""
    batches = composition_batches(project, composition)
    specs = composition_plot_specs(project, composition, batches, spec_for(project.pk, composition))
    return [
        plot_submit(kind=kind, inputs=inputs, user=user, subject=None, force=force)
        for kind, _, inputs, _ in specs
        if inputs is not None
    ]


def conductivity_trend_submit(*, project: Project, user: User | None, force: bool = False):
    """Draw the project's conductivity-over-time plot for the dashboard if its data changed (None: no data)."""
    inputs = conductivity_trend_inputs(project)
    if inputs is None:
        return None
    return plot_submit(kind=CONDUCTIVITY_TREND, inputs=inputs, user=user, subject=None, force=force)


# --- bulk paths: imports and synthetic labs (see assbtrack.tracing.services.records_bulk_create) ------------


def lots_bulk_create(*, rows: list[dict], user: User, history: bool = True) -> list[MaterialLot]:
    """Lot records for items made by ``items_bulk_create``: one row per item (``item_id`` and the fields).

    Fields are checked one by one and the table's constraints hold; the lineage is written separately
    (``edges_bulk_create``). For data whose shape is known, not for a person's input: that is ``lot_create``.
    """
    return records_bulk_create(MaterialLot, rows=rows, kind=ItemKind.MATERIAL_LOT, history=history, user=user)


def batches_bulk_create(*, rows: list[dict], user: User, history: bool = True) -> list[SynthesisBatch]:
    """Synthesis batch records for SSE items made by ``items_bulk_create`` (``item_id`` and the fields)."""
    return records_bulk_create(SynthesisBatch, rows=rows, kind=ItemKind.SSE_BATCH, history=history, user=user)


def measurements_bulk_create(*, rows: list[dict], user: User, history: bool = True) -> list[ConductivityMeasurement]:
    """Conductivity measurements (``batch_id`` and the fields), appended as ``measurement_add`` would.

    Each row's conductivity must be the one its resistance, thickness and area give (σ = L / (R·A)).
    """
    for index, row in enumerate(rows):
        try:
            expected = row["thickness_mm"] / 10 / (row["resistance_ohm"] * row["area_cm2"]) * 1000
            given = row["conductivity_ms_per_cm"]
        except (KeyError, TypeError, ZeroDivisionError):
            raise ValidationError({f"rows.{index}.conductivity_ms_per_cm": "give thickness, resistance, area and "
                                   "conductivity as numbers"}) from None
        if not math.isclose(given, expected, rel_tol=1e-6):
            raise ValidationError({f"rows.{index}.conductivity_ms_per_cm": f"{given:g} mS/cm does not follow from "
                                   f"the resistance, thickness and area ({expected:g} mS/cm)"})
    return records_bulk_create(ConductivityMeasurement, rows=rows, history=history, user=user)
