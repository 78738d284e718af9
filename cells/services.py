"""Every write of the cells app: build a cell from its layers, densify it, test it, import its cycler data.

Each service runs in one transaction and raises ``ValidationError`` keyed by the field a form or an
API client sent. A layer's problems are keyed ``layers-<i>-<field>`` (i counts from 0 in stacking
order; field is cathode, separator, anode, anode_lot or anode_mass_g), which is also the name of the
field in the build form's formset, so the page shows each message beside the code that caused it.
The derived numbers come from the pure modules ``cells.tiers``, ``cells.energy``, ``cells.geometry`` and
``cells.cycling``; cycler uploads are cleaned and read back by ``cells.cycler_import``; reads are in
``cells.selectors`` and the job kinds and limits in ``cells.choices``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from assbtrack.access.models import Project
from assbtrack.domain.inputs import ModelInputError
from assbtrack.instruments.choices import PRESS_KINDS, EquipmentKind
from assbtrack.instruments.models import CyclerChannel, Equipment
from assbtrack.instruments.selectors import calibration_overdue_warning
from assbtrack.instruments.services import equipment_for_use
from assbtrack.jobs.models import Job
from assbtrack.jobs.plots import plot_submit
from assbtrack.jobs.services import job_submit
from assbtrack.quality.services import control_charts_refresh_on_commit
from assbtrack.tracing.choices import ItemKind, LineageRole, QuantityUnit
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.plausibility import np_ratio_warning, warnings_confirm
from assbtrack.tracing.problems import Problems
from assbtrack.tracing.refusals import error_rekey
from assbtrack.tracing.registry import consuming_path
from assbtrack.tracing.services import edge_create, item_create, records_bulk_create, warnings_confirmed_record
from assbtrack.tracing.values import checked_number as _number
from assbtrack.tracing.values import checked_number_optional as _optional_number
from electrodes.models import Sheet
from materials.choices import MaterialRole
from materials.models import MaterialLot

from . import cycling, geometry, tiers
from .choices import (
    DEFAULT_ANODE_VOLTAGE_V,
    DEFAULT_CATHODE_VOLTAGE_V,
    DEFAULT_COLLECTOR_THICKNESS_UM,
    DEFAULT_COLLECTORS,
    FOIL_ANODE_TYPES,
    JOB_CELL_STACK_ENERGY,
    JOB_CYCLING_IMPORT,
    JOB_CYCLING_PLOTS,
    JOB_FIGURE1,
    JOB_RETENTION_TREND,
    LAYER_ROLES,
    MAX_FOOTPRINT_MM,
    MAX_LAYERS,
    MAX_PRESSURE_MPA,
    SHEET_ANODE_TYPES,
    SINGLE_LAYER_FORMATS,
    AnodeType,
    CellEventKind,
    CellFormat,
    CollectorMaterial,
    Connection,
    DensificationMethod,
    ImportStatus,
    Stacking,
)
from .cycler_import import (
    column_map_clean,
    cycler_file_name,
    cycler_reader_for,
    cycling_import_options_clean,
    cycling_test_metrics,
)
from .energy import LITHIUM_SPECIFIC_CAPACITY_MAH_PER_G
from .models import (
    Cell,
    CellDensification,
    CellEvent,
    CellLayer,
    CycleRecord,
    CyclingTest,
    CyclingTestFile,
    RetentionSpec,
)
from .selectors import cell_stack_energy_inputs, layer_lots_by_id, layer_sheets_by_id, retention_trend_inputs

# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _choice(value: Any, field: str, choices: type) -> str:
    if value not in choices.values:
        raise ValidationError({field: f"choose one of {', '.join(str(label) for label in choices.labels)}"})
    return value


def _layer_field(index: int, field: str) -> str:
    return f"layers-{index}-{field}"


# --------------------------------------------------------------------------------------------------
# Building a cell
# --------------------------------------------------------------------------------------------------


@dataclass
class _ResolvedLayer:
    index: int
    cathode: Sheet
    separator: Sheet
    anode: Sheet | None
    anode_lot: MaterialLot | None
    anode_mass_g: float | None
    cathode_capacity_mah: float = 0.0
    anode_capacity_mah: float = 0.0
    np_ratio: float = 0.0


def _sheet_for(
    value: Any, *, field: str, film_kind: str, label: str, project: Project, sheets: dict[int, Sheet]
) -> Sheet:
    """The sheet behind a code given as ``label`` (cathode, separator or anode), or a message saying what it is."""
    if not isinstance(value, TracedItem):
        raise ValidationError({field: f"give the {label} sheet's code"})
    if value.kind != ItemKind.SHEET:
        if value.kind in (ItemKind.CATHODE_FILM, ItemKind.ANODE_FILM, ItemKind.SEPARATOR_FILM):
            raise ValidationError(
                {field: f"{value.code} is a {value.get_kind_display().lower()}; cut sheets from it and give a "
                 "sheet code"}
            )
        raise ValidationError({field: f"{value.code} is a {value.get_kind_display().lower()}, not a {label} sheet"})
    sheet = sheets.get(value.pk)
    if sheet is None:
        raise ValidationError({field: f"{value.code} has no sheet record"})
    if sheet.film.item.kind != film_kind:
        kind = sheet.film.item.get_kind_display().lower().replace(" film", "")
        raise ValidationError(
            {field: f"{value.code} is a {kind} sheet (cut from {sheet.film.item.code}), not a {label} sheet"}
        )
    if sheet.item.project_id != project.pk:
        raise ValidationError({field: f"{value.code} belongs to another project"})
    return sheet


def _resolve_layer(
    index: int,
    layer: Mapping[str, Any],
    *,
    anode_type: str,
    project: Project,
    sheets: dict[int, Sheet],
    lots: dict[int, MaterialLot],
) -> _ResolvedLayer:
    if not isinstance(layer, Mapping):
        raise ValidationError({_layer_field(index, "cathode"): "each layer needs a cathode, a separator and an anode"})
    unknown = set(layer) - {"cathode", "separator", "anode", "anode_lot", "anode_mass_g"}
    if unknown:
        raise ValidationError({_layer_field(index, "cathode"): f"unknown layer keys: {', '.join(sorted(unknown))}"})
    row = Problems()  # a row with several wrong sheets is told about each of them
    cathode = row.check(
        _sheet_for, layer.get("cathode"), field=_layer_field(index, "cathode"), film_kind=ItemKind.CATHODE_FILM,
        label="cathode", project=project, sheets=sheets,
    )
    separator = row.check(
        _sheet_for, layer.get("separator"), field=_layer_field(index, "separator"),
        film_kind=ItemKind.SEPARATOR_FILM, label="separator", project=project, sheets=sheets,
    )
    anode_item, lot_item = layer.get("anode"), layer.get("anode_lot")
    if row:
        if anode_item is not None and lot_item is None:
            row.check(_sheet_for, anode_item, field=_layer_field(index, "anode"), film_kind=ItemKind.ANODE_FILM,
                      label="anode", project=project, sheets=sheets)
        row.raise_if_any()
    mass_value = layer.get("anode_mass_g")
    anode: Sheet | None = None
    lot: MaterialLot | None = None
    anode_mass_g: float | None = None
    type_label = AnodeType(anode_type).label.lower()

    if anode_type == AnodeType.ANODE_FREE:
        if anode_item is not None or lot_item is not None:
            raise ValidationError(
                {_layer_field(index, "anode" if anode_item is not None else "anode_lot"):
                 "an anode-free cell has no anode: leave the anode empty"}
            )
    elif anode_item is not None and lot_item is not None:
        raise ValidationError({_layer_field(index, "anode_lot"): "give an anode sheet or a foil lot, not both"})
    elif lot_item is not None:
        if anode_type not in FOIL_ANODE_TYPES:
            raise ValidationError(
                {_layer_field(index, "anode_lot"): f"a {type_label} anode is a sheet cut from an anode film, "
                 "not a foil"}
            )
        lot = lots.get(lot_item.pk) if isinstance(lot_item, TracedItem) else None
        if lot is None:
            code = getattr(lot_item, "code", str(lot_item))
            raise ValidationError({_layer_field(index, "anode_lot"): f"{code} is not a material lot"})
        if lot.role != MaterialRole.FOIL:
            raise ValidationError(
                {_layer_field(index, "anode_lot"): f"{lot.item.code} is a {lot.get_role_display().lower()} lot, "
                 "not a foil"}
            )
        if lot.item.project_id != project.pk:
            raise ValidationError({_layer_field(index, "anode_lot"): f"{lot.item.code} belongs to another project"})
        if mass_value is None or mass_value == "":
            raise ValidationError({_layer_field(index, "anode_mass_g"): "say how much foil this layer uses (g)"})
        anode_mass_g = _number(mass_value, _layer_field(index, "anode_mass_g"), greater_than=0.0, maximum=1e5)
    elif anode_item is not None:
        anode = _sheet_for(
            anode_item, field=_layer_field(index, "anode"), film_kind=ItemKind.ANODE_FILM, label="anode",
            project=project, sheets=sheets,
        )
    else:
        where = "an anode sheet or a foil lot" if anode_type in FOIL_ANODE_TYPES else "an anode sheet"
        raise ValidationError({_layer_field(index, "anode"): f"a {type_label} cell needs {where} in every layer"})
    if anode is not None or lot is None:
        if mass_value not in (None, ""):
            raise ValidationError({_layer_field(index, "anode_mass_g"): "a foil mass goes with a foil lot only"})
    if anode is not None and anode_type not in (*SHEET_ANODE_TYPES, *FOIL_ANODE_TYPES):
        raise ValidationError({_layer_field(index, "anode"): f"a {type_label} cell has no anode sheet"})
    return _ResolvedLayer(index, cathode, separator, anode, lot, anode_mass_g)


def _layer_capacities(layer: _ResolvedLayer, anode_type: str) -> None:
    """Cathode and anode capacity (mAh) and N/P of one layer, from the films' areal capacities or the foil."""
    index = layer.index
    cathode_areal = layer.cathode.areal_capacity_mah_per_cm2
    if cathode_areal is None or cathode_areal <= 0:
        raise ValidationError(
            {_layer_field(index, "cathode"): f"{layer.cathode.item.code} has no areal capacity: record the result "
             f"of {layer.cathode.film.item.code} (thickness and mass) first"}
        )
    layer.cathode_capacity_mah = cathode_areal * layer.cathode.area_cm2
    if layer.anode is not None:
        anode_areal = layer.anode.areal_capacity_mah_per_cm2
        if anode_areal is None or anode_areal <= 0:
            raise ValidationError(
                {_layer_field(index, "anode"): f"{layer.anode.item.code} has no areal capacity: record the result "
                 f"of {layer.anode.film.item.code} first"}
            )
        layer.anode_capacity_mah = anode_areal * layer.anode.area_cm2
        # N/P compares areal capacities: the sheets face each other over the cathode's area.
        layer.np_ratio = tiers.np_ratio(anode_areal, cathode_areal)
    elif layer.anode_lot is not None:
        specific = layer.anode_lot.specific_capacity_mah_per_g
        if not specific and anode_type == AnodeType.LI_METAL:
            specific = LITHIUM_SPECIFIC_CAPACITY_MAH_PER_G
        if not specific:
            raise ValidationError(
                {_layer_field(index, "anode_lot"): f"{layer.anode_lot.item.code} has no specific capacity (mAh/g) "
                 "recorded: the N/P ratio needs it"}
            )
        layer.anode_capacity_mah = layer.anode_mass_g * specific
        layer.np_ratio = tiers.np_ratio(layer.anode_capacity_mah, layer.cathode_capacity_mah)
    else:
        layer.anode_capacity_mah = 0.0
        layer.np_ratio = 0.0


def _check_alignment(
    layers: list[_ResolvedLayer], *, length_mm: float, width_mm: float, margin_mm: float
) -> None:
    aspect = length_mm / width_mm
    footprint_cm2 = geometry.footprint_cm2(length_mm, width_mm)
    reference = layers[0].cathode
    for layer in layers:
        index = layer.index
        parts = [("cathode", layer.cathode), ("separator", layer.separator)]
        if layer.anode is not None:
            parts.append(("anode", layer.anode))
        for field, sheet in parts:
            if not geometry.fits_within(sheet.area_cm2, footprint_cm2):
                raise ValidationError(
                    {_layer_field(index, field): f"{sheet.item.code} ({sheet.area_cm2:g} cm²) does not fit the "
                     f"{length_mm:g} × {width_mm:g} mm footprint ({footprint_cm2:g} cm²)"}
                )
        for field, sheet in parts:
            if field != "separator" and not geometry.fits_within(sheet.area_cm2, layer.separator.area_cm2):
                raise ValidationError(
                    {_layer_field(index, "separator"): f"{layer.separator.item.code} ({layer.separator.area_cm2:g} "
                     f"cm²) is smaller than the {field} {sheet.item.code} ({sheet.area_cm2:g} cm²): the separator "
                     "must cover both electrodes"}
                )
        smallest = min(sheet.area_cm2 for _, sheet in parts)
        for field, sheet in parts:
            if not geometry.aligned(smallest, sheet.area_cm2, margin_mm=margin_mm, aspect=aspect):
                smallest_code = next(s.item.code for _, s in parts if s.area_cm2 == smallest)
                raise ValidationError(
                    {_layer_field(index, field): f"layer {index + 1} is misaligned: {sheet.item.code} "
                     f"({sheet.area_cm2:g} cm²) reaches more than the {margin_mm:g} mm edge margin beyond "
                     f"{smallest_code} ({smallest:g} cm²)"}
                )
        cathode = layer.cathode
        small, large = sorted((reference.area_cm2, cathode.area_cm2))
        if not geometry.aligned(small, large, margin_mm=margin_mm, aspect=aspect):
            raise ValidationError(
                {_layer_field(index, "cathode"): f"{cathode.item.code} ({cathode.area_cm2:g} cm²) does not line up "
                 f"with layer 1's cathode {reference.item.code} ({reference.area_cm2:g} cm²) within the "
                 f"{margin_mm:g} mm edge margin"}
            )


def _check_unused(layers: list[_ResolvedLayer]) -> None:
    """A sheet goes into one layer of one cell; name the layer or the cell that has it already."""
    seen: dict[int, str] = {}
    for layer in layers:
        for field, sheet in (("cathode", layer.cathode), ("separator", layer.separator), ("anode", layer.anode)):
            if sheet is None:
                continue
            if sheet.pk in seen:
                raise ValidationError(
                    {_layer_field(layer.index, field): f"{sheet.item.code} is already in {seen[sheet.pk]} of this cell"}
                )
            seen[sheet.pk] = f"layer {layer.index + 1}"
    used = (
        LineageEdge.objects.filter(parent_id__in=seen, role__in=LAYER_ROLES)
        .values_list("parent_id", "child__code")
        .order_by("id")
    )
    used_in = dict(used)
    if not used_in:
        return
    for layer in layers:
        for field, sheet in (("cathode", layer.cathode), ("separator", layer.separator), ("anode", layer.anode)):
            if sheet is not None and sheet.pk in used_in:
                raise ValidationError(
                    {_layer_field(layer.index, field): f"{sheet.item.code} is already used in {used_in[sheet.pk]}"}
                )


def _collector(
    material: str | None, thickness_um: float | None, *, side: str, cell_format: str
) -> tuple[str, float | None]:
    field = f"{side}_collector"
    if material is None:
        if cell_format == CellFormat.PELLET:
            return CollectorMaterial.NONE, None
        material, default_thickness = DEFAULT_COLLECTORS[side]
        thickness = _optional_number(thickness_um, f"{field}_thickness_um", greater_than=0.0, maximum=1000.0)
        return material, thickness if thickness is not None else default_thickness
    material = _choice(material, field, CollectorMaterial)
    if material == CollectorMaterial.NONE:
        if thickness_um not in (None, ""):
            raise ValidationError({f"{field}_thickness_um": "no collector, no thickness"})
        return material, None
    thickness = _optional_number(thickness_um, f"{field}_thickness_um", greater_than=0.0, maximum=1000.0)
    return material, thickness if thickness is not None else DEFAULT_COLLECTOR_THICKNESS_UM[material]


def _rekey_edge_error(error: ValidationError, field: str) -> ValidationError:
    """edge_create speaks of "parent" and "amount"; the form knows the layer's field."""
    return error_rekey(error, {}, field)


@consuming_path("use")
@transaction.atomic
def cell_build(
    *,
    project: Project,
    user: User,
    cell_format: str,
    stacking: str,
    connection: str,
    length_mm: float,
    width_mm: float,
    layers: Sequence[Mapping[str, Any]],
    edge_margin_mm: float = 1.0,
    operating_stack_pressure_mpa: float | None = None,
    anode_type: str = AnodeType.LI_METAL,
    cathode_voltage_v: float | None = None,
    anode_voltage_v: float | None = None,
    cathode_collector: str | None = None,
    cathode_collector_thickness_um: float | None = None,
    anode_collector: str | None = None,
    anode_collector_thickness_um: float | None = None,
    measured_capacity_ah: float | None = None,
    mass_g: float | None = None,
    notes: str = "",
    confirm_warnings: bool = False,
) -> Cell:
    """A new cell (1 pcs) from its layers in stacking order, with its rating, N/P ratio and scale tier.

    Each layer is ``{"cathode": sheet item, "separator": sheet item, "anode": sheet item or None,
    "anode_lot": foil lot item or None, "anode_mass_g": grams of foil or None}``. Each sheet becomes a
    lineage edge into the cell (cathode, separator or anode layer), drawing the whole sheet, so the
    core's mass balance refuses a sheet used before; a foil lot gives the grams used. Collectors left
    as ``None`` take the pouch defaults (Al 12 µm, Ni 10 µm), none for a pellet.
    """
    problems = Problems()  # every refusal of the form at once: the cell's fields and each layer row
    check = problems.check
    cell_format = check(_choice, cell_format, "cell_format", CellFormat)
    stacking = check(_choice, stacking, "stacking", Stacking)
    connection = check(_choice, connection, "connection", Connection)
    anode_type = check(_choice, anode_type, "anode_type", AnodeType)
    length = check(_number, length_mm, "length_mm", greater_than=0.0, maximum=MAX_FOOTPRINT_MM)
    width = check(_number, width_mm, "width_mm", greater_than=0.0, maximum=MAX_FOOTPRINT_MM)
    margin = check(_number, edge_margin_mm, "edge_margin_mm", minimum=0.0, maximum=100.0)
    pressure = check(
        _optional_number, operating_stack_pressure_mpa, "operating_stack_pressure_mpa", minimum=0.0,
        maximum=MAX_PRESSURE_MPA,
    )
    cathode_v = check(_optional_number, cathode_voltage_v, "cathode_voltage_v", greater_than=0.0, maximum=10.0)
    cathode_v = DEFAULT_CATHODE_VOLTAGE_V if cathode_v is None else cathode_v
    anode_v = check(_optional_number, anode_voltage_v, "anode_voltage_v", minimum=0.0, maximum=10.0)
    if anode_v is None and anode_type is not None:
        anode_v = DEFAULT_ANODE_VOLTAGE_V[anode_type]
    if anode_v is not None and anode_v >= cathode_v:
        problems.add("anode_voltage_v", f"must be below the cathode's {cathode_v:g} V")
    measured = check(_optional_number, measured_capacity_ah, "measured_capacity_ah", greater_than=0.0, maximum=1e6)
    mass = check(_optional_number, mass_g, "mass_g", greater_than=0.0, maximum=1e7)
    cathode_material, cathode_thickness = check(
        _collector, cathode_collector, cathode_collector_thickness_um, side="cathode", cell_format=cell_format
    ) or (None, None)
    anode_material, anode_thickness = check(
        _collector, anode_collector, anode_collector_thickness_um, side="anode", cell_format=cell_format
    ) or (None, None)

    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        problems.add("layers", "a cell needs at least one layer: cathode, separator and anode")
        problems.raise_if_any()
    if len(layers) > MAX_LAYERS:
        problems.add("layers", f"at most {MAX_LAYERS} layers")
        problems.raise_if_any()
    if cell_format in SINGLE_LAYER_FORMATS and len(layers) != 1:
        label = CellFormat(cell_format).label.lower()
        problems.add("layers", f"a {label} holds one layer, not {len(layers)}; use a multi-layer pouch")
    if cell_format == CellFormat.MULTI_LAYER_POUCH and len(layers) < 2:
        problems.add("layers", "a multi-layer pouch needs at least two layers")
    if cell_format == CellFormat.PELLET and stacking != Stacking.SINGLE_SHEET:
        problems.add("stacking", "a pellet is pressed from single sheets")

    sheets = layer_sheets_by_id(layers)
    lots = layer_lots_by_id(layers)
    resolved = [
        check(_resolve_layer, index, layer, anode_type=anode_type, project=project, sheets=sheets, lots=lots)
        for index, layer in enumerate(layers)
    ] if anode_type is not None else []
    if all(layer is not None for layer in resolved):
        # Across layers: a sheet used twice or before, edges that do not line up (when the footprint is known).
        check(_check_unused, resolved)
        if None not in (length, width, margin):
            check(_check_alignment, resolved, length_mm=length, width_mm=width, margin_mm=margin)
    for layer in resolved:
        if layer is None or anode_type is None:
            continue
        try:
            _layer_capacities(layer, anode_type)
        except ValidationError as error:
            problems.merge(error)
            continue
        if anode_type != AnodeType.ANODE_FREE and layer.np_ratio <= 0:
            problems.add(_layer_field(layer.index, "anode"), "the anode holds no capacity")
    problems.raise_if_any()

    np_ratio = min(layer.np_ratio for layer in resolved)
    confirmed = warnings_confirm([np_ratio_warning(np_ratio, anode_type)], confirmed=confirm_warnings)

    layer_voltage_v = cathode_v - anode_v
    nominal = tiers.stack_nominal(
        [tiers.StackLayer(layer.cathode_capacity_mah, layer_voltage_v, connection) for layer in resolved]
    )

    item = item_create(kind=ItemKind.CELL, project=project, user=user, quantity=1, unit=QuantityUnit.PIECE, notes=notes)
    cell = Cell(
        item=item,
        cell_format=cell_format,
        stacking=stacking,
        connection=connection,
        length_mm=length,
        width_mm=width,
        edge_margin_mm=margin,
        operating_stack_pressure_mpa=pressure,
        anode_type=anode_type,
        cathode_voltage_v=cathode_v,
        anode_voltage_v=anode_v,
        cathode_collector=cathode_material,
        cathode_collector_thickness_um=cathode_thickness,
        anode_collector=anode_material,
        anode_collector_thickness_um=anode_thickness,
        layer_count=len(resolved),
        np_ratio=np_ratio,
        nominal_capacity_ah=nominal.capacity_ah,
        nominal_voltage_v=nominal.voltage_v,
        scale_tier=tiers.scale_tier(nominal.capacity_ah),
        measured_capacity_ah=measured,
        mass_g=mass,
    )
    cell.full_clean(exclude=["item"])
    cell.save()

    # One edge per parent and role: a foil lot feeding several layers is one use of the summed mass.
    uses: dict[tuple[int, str], list] = {}
    for layer in resolved:
        for field, sheet, role in (
            ("cathode", layer.cathode, LineageRole.CATHODE_LAYER),
            ("separator", layer.separator, LineageRole.SEPARATOR_LAYER),
            ("anode", layer.anode, LineageRole.ANODE_LAYER),
        ):
            if sheet is not None:
                whole = (Decimal("1"), sheet.item.unit) if sheet.item.quantity is not None else (None, "")
                uses[(sheet.pk, role)] = [_layer_field(layer.index, field), sheet.item, role, *whole]
        if layer.anode_lot is not None:
            key = (layer.anode_lot.pk, LineageRole.ANODE_LAYER)
            mass = Decimal(repr(layer.anode_mass_g))
            if key in uses:
                uses[key][3] += mass
            else:
                uses[key] = [_layer_field(layer.index, "anode_lot"), layer.anode_lot.item, LineageRole.ANODE_LAYER,
                             mass, QuantityUnit.GRAM]
    for field, parent, role, amount, unit in uses.values():
        try:
            edge_create(parent=parent, child=item, role=role, user=user, amount=amount, unit=unit)
        except ValidationError as error:
            raise _rekey_edge_error(error, field) from None
    for layer in resolved:
        record = CellLayer(
            cell=cell,
            position=layer.index + 1,
            cathode=layer.cathode,
            separator=layer.separator,
            anode=layer.anode,
            anode_lot=layer.anode_lot,
            anode_mass_g=layer.anode_mass_g,
            cathode_capacity_mah=layer.cathode_capacity_mah,
            anode_capacity_mah=layer.anode_capacity_mah,
            np_ratio=layer.np_ratio,
        )
        record.full_clean(exclude=["cell", "cathode", "separator", "anode", "anode_lot"])
        record.save()
    warnings_confirmed_record(item=item, user=user, warnings=confirmed)
    return cell


def _cell_change(cell: Cell, fields: list[str], reason: str) -> None:
    cell._change_reason = reason
    cell.save(update_fields=fields)


@transaction.atomic
def cell_energy_set(
    *, cell: Cell, user: User, specific_energy_wh_per_kg: float, energy_density_wh_per_l: float,
    reason: str = "energy figures set",
) -> Cell:
    """Store the cell's specific energy and energy density (from a cell_stack_energy run or measurements)."""
    locked = Cell.objects.select_for_update().select_related("item").get(pk=cell.pk)
    locked.specific_energy_wh_per_kg = _number(
        specific_energy_wh_per_kg, "specific_energy_wh_per_kg", greater_than=0.0, maximum=1e5
    )
    locked.energy_density_wh_per_l = _number(
        energy_density_wh_per_l, "energy_density_wh_per_l", greater_than=0.0, maximum=1e5
    )
    locked._history_user = user
    _cell_change(locked, ["specific_energy_wh_per_kg", "energy_density_wh_per_l"], reason)
    cell.specific_energy_wh_per_kg = locked.specific_energy_wh_per_kg
    cell.energy_density_wh_per_l = locked.energy_density_wh_per_l
    return locked


@transaction.atomic
def cell_measurements_set(
    *, cell: Cell, user: User, measured_capacity_ah: float | None, mass_g: float | None, reason: str = ""
) -> Cell:
    """Record the weighed mass and the measured capacity of the finished cell."""
    locked = Cell.objects.select_for_update().select_related("item").get(pk=cell.pk)
    locked.measured_capacity_ah = _optional_number(
        measured_capacity_ah, "measured_capacity_ah", greater_than=0.0, maximum=1e6
    )
    locked.mass_g = _optional_number(mass_g, "mass_g", greater_than=0.0, maximum=1e7)
    locked._history_user = user
    _cell_change(locked, ["measured_capacity_ah", "mass_g"], reason.strip() or "measurements recorded")
    return locked


# --------------------------------------------------------------------------------------------------
# Densification and events (append-only)
# --------------------------------------------------------------------------------------------------


@transaction.atomic
def cell_densification_record(
    *,
    cell: Cell,
    user: User,
    method: str,
    pressure_mpa: float,
    hold_time_min: float,
    temperature_c: float = 25.0,
    performed_at: datetime | None = None,
    notes: str = "",
    supersedes: CellDensification | None = None,
    equipment: Equipment | None = None,
    confirm_warnings: bool = False,
) -> CellDensification:
    """One pressing step of ``cell``; with ``supersedes`` it corrects an earlier record of the same cell."""
    method = _choice(method, "method", DensificationMethod)
    equipment = equipment_for_use(equipment, kinds=(*PRESS_KINDS, EquipmentKind.CALENDER), field="equipment")
    pressure = _number(pressure_mpa, "pressure_mpa", greater_than=0.0, maximum=MAX_PRESSURE_MPA)
    hold = _number(hold_time_min, "hold_time_min", minimum=0.0, maximum=1e5)
    temperature = _number(temperature_c, "temperature_c", minimum=-273.15, maximum=1000.0)
    confirmed = warnings_confirm([calibration_overdue_warning(equipment, performed_at)], confirmed=confirm_warnings)
    if supersedes is not None:
        if supersedes.cell_id != cell.pk:
            raise ValidationError({"supersedes": "a correction must be of a record of the same cell"})
        if CellDensification.objects.filter(supersedes=supersedes).exists():
            raise ValidationError({"supersedes": "that record has been corrected already; correct the correction"})
    record = CellDensification(
        cell=cell, method=method, pressure_mpa=pressure, hold_time_min=hold, temperature_c=temperature,
        performed_at=performed_at or timezone.now(), notes=notes, supersedes=supersedes, created_by=user,
        equipment=equipment,
    )
    record.full_clean(exclude=["cell", "created_by", "supersedes", "equipment"])
    record.save()
    warnings_confirmed_record(item=cell.item, user=user, warnings=confirmed)
    return record


@transaction.atomic
def cell_event_record(
    *,
    cell: Cell,
    user: User,
    kind: str,
    occurred_at: datetime | None = None,
    ocv_v: float | None = None,
    notes: str = "",
) -> CellEvent:
    """An OCV check, a short, a disassembly, with when it happened and what was seen."""
    kind = _choice(kind, "kind", CellEventKind)
    # a cell's open-circuit voltage is not negative: a negative reading is a swapped lead, to be re-measured
    ocv = _optional_number(ocv_v, "ocv_v", minimum=0.0, maximum=1000.0)
    if kind == CellEventKind.OCV_CHECK and ocv is None:
        raise ValidationError({"ocv_v": "an OCV check needs the voltage read"})
    event = CellEvent(
        cell=cell, kind=kind, occurred_at=occurred_at or timezone.now(), ocv_v=ocv, notes=notes, created_by=user
    )
    event.full_clean(exclude=["cell", "created_by"])
    event.save()
    return event


# --------------------------------------------------------------------------------------------------
# The energy model on a real cell
# --------------------------------------------------------------------------------------------------


def cell_stack_energy_submit(*, cell: Cell, user: User) -> Job:
    """Run ``stack_energy`` on the cell's own layers on a worker; the result is stored on the cell."""
    try:
        design = cell_stack_energy_inputs(cell)
    except ModelInputError as error:
        raise ValidationError({"cell": f"{cell.item.code}: {error.reason}"}) from None
    job = job_submit(
        kind=JOB_CELL_STACK_ENERGY, inputs={"cell": cell.item.code, "design": design}, user=user, subject=cell.item
    )
    if job.reused_from_id and job.result:
        # The same layers were computed before: the worker does not run again, so store the figures here
        # (they may have been overwritten by measurements since).
        cell_energy_set(
            cell=cell, user=user, specific_energy_wh_per_kg=job.result["cell_specific_energy_wh_per_kg"],
            energy_density_wh_per_l=job.result["cell_energy_density_wh_per_l"],
            reason=f"stack_energy model, job {job.reused_from_id} (reused)",
        )
    return job


def figure1_submit(*, cells: Sequence[Cell], user: User) -> Job:
    """The Figure 1 waterfall: presets a–g, then each of ``cells`` as a bar computed from its layers."""
    entries = []
    for cell in cells:
        try:
            entries.append({"code": cell.item.code, "design": cell_stack_energy_inputs(cell)})
        except ModelInputError as error:
            raise ValidationError({"cells": f"{cell.item.code}: {error.reason}"}) from None
    return job_submit(kind=JOB_FIGURE1, inputs={"cells": entries}, user=user)


# --------------------------------------------------------------------------------------------------
# Cycling tests and cycler files
# --------------------------------------------------------------------------------------------------


@transaction.atomic
def cycling_test_create(
    *,
    cell: Cell,
    user: User,
    data_file: File,
    cycler: str,
    channel: str = "",
    temperature_c: float = 25.0,
    stack_pressure_mpa: float | None = None,
    protocol: str = "",
    c_rate: float | None = None,
    voltage_min_v: float | None = None,
    voltage_max_v: float | None = None,
    started_at: datetime | None = None,
    column_map: Mapping[str, str] | None = None,
    submit: bool = True,
    cycler_channel: CyclerChannel | None = None,
    more_files: Sequence[File] = (),
    import_options: Mapping[str, Any] | None = None,
) -> CyclingTest:
    """A cycling test with its cycler file(s) stored; with ``submit`` they are parsed on the imports queue.

    The reader follows the file's ending (BioLogic .mpr/.mpt, Arbin .res/.xlsx, Neware .nda/.ndax, Maccor
    text and numbered files, BDF, CSV); ``more_files`` are later files of the same test, joined in order.
    A CSV's columns are recognised from their names unless ``column_map`` (role → column name) says;
    ``import_options`` are those of ``cycling_import_options_clean``.
    """
    file_name = cycler_file_name(data_file, "data_file")
    options = cycling_import_options_clean(import_options)
    reader = cycler_reader_for(file_name, options.get("cycler"))
    more_names = [cycler_file_name(extra, "more_files") for extra in more_files]
    if len(more_names) > 200:
        raise ValidationError({"more_files": "at most 200 further files"})
    for name in more_names:
        cycler_reader_for(name, options.get("cycler"))
    columns = column_map_clean(column_map)
    if cycler_channel is not None:
        if not isinstance(cycler_channel, CyclerChannel):
            raise ValidationError({"cycler_channel": "choose a channel from the list"})
        equipment_for_use(cycler_channel.equipment, kinds=(EquipmentKind.CYCLER,), field="cycler_channel")
        cycler = (cycler or "").strip() or cycler_channel.equipment.name
        channel = (channel or "").strip() or cycler_channel.label
    cycler = (cycler or "").strip()
    if not cycler:
        raise ValidationError({"cycler": "name the cycler"})
    voltage_min = _optional_number(voltage_min_v, "voltage_min_v", minimum=-10.0, maximum=100.0)
    voltage_max = _optional_number(voltage_max_v, "voltage_max_v", minimum=-10.0, maximum=100.0)
    if voltage_min is not None and voltage_max is not None and voltage_max <= voltage_min:
        raise ValidationError({"voltage_max_v": f"must be above the lower cut-off ({voltage_min:g} V)"})
    test = CyclingTest(
        cell=cell,
        cycler=cycler[:80],
        channel=(channel or "").strip()[:40],
        cycler_channel=cycler_channel,
        temperature_c=_number(temperature_c, "temperature_c", minimum=-273.15, maximum=1000.0),
        stack_pressure_mpa=_optional_number(stack_pressure_mpa, "stack_pressure_mpa", minimum=0.0,
                                            maximum=MAX_PRESSURE_MPA),
        protocol=(protocol or "").strip()[:200],
        c_rate=_optional_number(c_rate, "c_rate", greater_than=0.0, maximum=1000.0),
        voltage_min_v=voltage_min,
        voltage_max_v=voltage_max,
        started_at=started_at,
        file_name=file_name,
        reader=reader,
        column_map=columns,
        import_options=options,
        created_by=user,
    )
    test.full_clean(exclude=["cell", "created_by", "data_file", "import_job", "cycler_channel"])
    test.data_file.save(file_name, data_file, save=False)
    test.save()
    for position, (extra, name) in enumerate(zip(more_files, more_names, strict=True), start=2):
        part = CyclingTestFile(test=test, position=position, file_name=name)
        part.data_file.save(name, extra, save=False)
        part.save()
    if submit:
        _import_submit(test, user)
    return test


def _import_submit(test: CyclingTest, user: User) -> None:
    test.import_job = job_submit(kind=JOB_CYCLING_IMPORT, inputs={"test": test.pk}, user=user, subject=test.cell.item)
    test.save(update_fields=["import_job"])


@transaction.atomic
def cycling_test_retry(
    *, test: CyclingTest, user: User, import_options: Mapping[str, Any] | None = None,
    column_map: Mapping[str, str] | None = None, data_file: File | None = None, submit: bool = True,
) -> CyclingTest:
    """Import a failed test again with other options, or with a replacement file; the old error goes."""
    locked = CyclingTest.objects.select_for_update().select_related("cell__item").get(pk=test.pk)
    if locked.status != ImportStatus.FAILED:
        raise ValidationError({"data_file": f"{locked.file_name} is {locked.get_status_display()}: only a failed "
                               "import is tried again"})
    options = cycling_import_options_clean(import_options if import_options is not None else locked.import_options)
    columns = column_map_clean(column_map if column_map is not None else locked.column_map)
    if data_file is not None:
        file_name = cycler_file_name(data_file, "data_file")
        locked.reader = cycler_reader_for(file_name, options.get("cycler"))
        old = locked.data_file.name
        locked.data_file.save(file_name, data_file, save=False)
        locked.file_name = file_name
        if old and old != locked.data_file.name:
            locked.data_file.storage.delete(old)
    else:
        locked.reader = cycler_reader_for(locked.file_name, options.get("cycler"))
    locked.import_options, locked.column_map = options, columns
    locked.status, locked.error = ImportStatus.PENDING, ""
    locked._change_reason = "import tried again"
    locked.save()
    if submit:
        _import_submit(locked, user)
    return locked


@transaction.atomic
def cycling_test_discard(*, test: CyclingTest, user: User) -> None:
    """Remove a test whose import failed, with its stored files, so failed uploads do not clutter the cell."""
    locked = CyclingTest.objects.select_for_update().get(pk=test.pk)
    if locked.status == ImportStatus.IMPORTED:
        raise ValidationError({"data_file": f"{locked.file_name} is imported: imported data are kept"})
    names = [locked.data_file.name, *(part.data_file.name for part in locked.more_files.all())]
    storage = locked.data_file.storage
    locked._change_reason = f"failed import discarded by {user}"
    locked.delete()
    transaction.on_commit(lambda: [storage.delete(name) for name in names if name])


class CyclingImportError(ValidationError):
    """A cycler file that cannot be imported; the message names the file and the reason."""


def _summary_fields(summary: cycling.CyclingSummary, metrics: cycling.CycleMetrics) -> dict[str, Any]:
    counted = metrics.cycle[metrics.complete & ~metrics.diagnostic]
    return {
        "first_discharge_capacity_mah": summary.first_discharge_capacity_mah,
        "retention_at_100": summary.retention_at_100,
        "retention_at_last": summary.retention_at_last,
        "cycle_at_80_percent": summary.cycle_at_80_percent,
        "last_cycle": int(counted[-1]) if counted.size else None,
    }


def _finite_or_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def cycling_test_fail(*, test: CyclingTest, error: str) -> CyclingTest:
    with transaction.atomic():
        locked = CyclingTest.objects.select_for_update().get(pk=test.pk)
        if locked.status == ImportStatus.IMPORTED:
            return locked
        locked.status = ImportStatus.FAILED
        locked.error = error[:4000]
        locked._change_reason = "import failed"
        locked.save(update_fields=["status", "error"])
    return locked


def cycling_test_import(
    *, test: CyclingTest, progress: Callable[[int, str], None] | None = None, submit_plots: bool = True
) -> CyclingTest:
    """Parse the test's files into per-cycle rows and the cell's summary, all in one transaction.

    A file that cannot be read, or whose capacities are implausible for the cell (a unit error), marks
    the test failed and raises ``CyclingImportError`` naming the file, why, and the option that fixes
    it; no cycle row is kept. Importing a test that is already imported does nothing.
    """
    report = progress or (lambda percent, message: None)
    if test.status == ImportStatus.IMPORTED:
        return test
    report(5, f"reading {test.file_name}")
    try:
        metrics, _ = cycling_test_metrics(test, report)
        summary = cycling.cycling_summary(metrics)
    except ModelInputError as error:
        field = error.field.removeprefix("column_map.")
        where = "" if error.field in ("file", "units") or error.reason.startswith(test.file_name) else f"{field}: "
        message = f"Cannot import {test.file_name}: {where}{error.reason}"
        if error.reason.startswith(test.file_name):
            message = f"Cannot import {error.reason}"
        cycling_test_fail(test=test, error=message)
        raise CyclingImportError({"data_file": message}) from None

    report(70, f"storing {len(metrics)} cycles")
    with transaction.atomic():
        locked = CyclingTest.objects.select_for_update().select_related("cell__item").get(pk=test.pk)
        if locked.status == ImportStatus.IMPORTED:
            return locked
        rows = metrics.as_dict()
        records = [
            CycleRecord(
                test=locked,
                cycle_number=rows["cycle"][index],
                charge_capacity_mah=rows["charge_capacity_mah"][index],
                discharge_capacity_mah=rows["discharge_capacity_mah"][index],
                charge_energy_mwh=rows["charge_energy_mwh"][index],
                discharge_energy_mwh=rows["discharge_energy_mwh"][index],
                coulombic_efficiency=rows["coulombic_efficiency"][index],
                energy_efficiency=rows["energy_efficiency"][index],
                retention=rows["retention"][index],
                complete=rows["complete"][index],
                diagnostic=rows["diagnostic"][index],
            )
            for index in range(len(metrics))
        ]
        CycleRecord.objects.filter(test=locked).delete()
        bulk_create_with_history(
            records, CycleRecord, batch_size=1000, default_user=locked.created_by,
            default_change_reason=f"imported from {locked.file_name}",
        )
        fields = _summary_fields(summary, metrics)
        for name, value in fields.items():
            setattr(locked, name, _finite_or_none(value) if isinstance(value, float) else value)
        locked.cycle_count = len(metrics)
        locked.status = ImportStatus.IMPORTED
        locked.error = ""
        locked.imported_at = timezone.now()
        locked._change_reason = f"imported {len(metrics)} cycles"
        locked.save()
        cell = Cell.objects.select_for_update().get(pk=locked.cell_id)
        for name in fields:
            setattr(cell, name, getattr(locked, name))
        _cell_change(cell, list(fields), f"cycling summary from {locked.file_name}")
        control_charts_refresh_on_commit(item=locked.cell.item, user=locked.created_by)
        if submit_plots:
            job_submit(
                kind=JOB_CYCLING_PLOTS,
                inputs={"test": locked.pk, "cycles": cycling.default_plot_cycles(rows["cycle"])},
                user=locked.created_by,
                subject=locked.cell.item,
            )
    if submit_plots:
        transaction.on_commit(lambda: retention_trend_submit(project=locked.cell.item.project, user=locked.created_by))
    report(95, "stored")
    return locked


def cycling_plots_submit(*, test: CyclingTest, user: User, cycles: Sequence[int]) -> Job:
    """Capacity and coulombic efficiency against cycle, and voltage against capacity for ``cycles``."""
    if test.status != ImportStatus.IMPORTED:
        raise ValidationError({"cycles": f"{test.file_name} is not imported yet"})
    cleaned = sorted({int(cycle) for cycle in cycles})
    if len(cleaned) > 20:
        raise ValidationError({"cycles": "choose at most 20 cycles"})
    if any(cycle < 0 for cycle in cleaned):
        raise ValidationError({"cycles": "cycle numbers are not negative"})
    return job_submit(
        kind=JOB_CYCLING_PLOTS, inputs={"test": test.pk, "cycles": cleaned}, user=user, subject=test.cell.item
    )


@transaction.atomic
def retention_spec_set(*, project: Project, minimum_percent: Any, at_cycle: Any = 100, user: User) -> RetentionSpec:
    """Set (or change) the capacity retention the project's cells must keep at ``at_cycle``."""
    minimum = _number(minimum_percent, "minimum_percent", greater_than=0.0, maximum=100.0)
    cycle = _number(at_cycle, "at_cycle", minimum=1.0, maximum=1_000_000.0)
    if not float(cycle).is_integer():
        raise ValidationError({"at_cycle": "must be a whole cycle number"})
    spec = RetentionSpec.objects.select_for_update().filter(project=project).first() or RetentionSpec(project=project)
    spec.minimum_percent, spec.at_cycle, spec.set_by = minimum, int(cycle), user
    spec.save()
    return spec


def retention_trend_submit(*, project: Project, user: User | None, force: bool = False) -> Job | None:
    """Draw the project's capacity-retention-over-time plot for the dashboard if its data changed."""
    inputs = retention_trend_inputs(project)
    if inputs is None:
        return None
    return plot_submit(kind=JOB_RETENTION_TREND, inputs=inputs, user=user, subject=None, force=force)


def cell_release_problems(item) -> list[str]:
    """A cell is released only once it has been densified: an undensified stack is not a finished cell."""
    if CellDensification.objects.filter(cell_id=item.pk).exists():
        return []
    return [f"{item.code} has no densification recorded yet: record its pressing first"]


# --- bulk paths: imports and synthetic labs (see assbtrack.tracing.services.records_bulk_create) ------------


def cells_bulk_create(*, rows: list[dict], layers: list[dict], user: User, history: bool = True) -> list[Cell]:
    """Cell records for cell items made by ``items_bulk_create``, with their layers in stacking order.

    ``rows``: ``item_id`` and the cell's fields (derived figures included, as ``cell_build`` stores them);
    ``layers``: ``cell_id``, ``position`` (1, 2, …) and the layer's fields. Each cell's ``layer_count``
    must match its layers. The lineage is written separately (``edges_bulk_create``).
    """
    positions: dict[int, list[int]] = {}
    for layer in layers:
        positions.setdefault(layer.get("cell_id"), []).append(layer.get("position"))
    for index, row in enumerate(rows):
        found = sorted(positions.get(row.get("item_id"), []))
        if found != list(range(1, (row.get("layer_count") or 0) + 1)):
            raise ValidationError({f"rows.{index}.layer_count": f"{row.get('layer_count')} layers declared, "
                                   f"positions {found} given"})
    cells = records_bulk_create(Cell, rows=rows, kind=ItemKind.CELL, history=history, user=user)
    records_bulk_create(CellLayer, rows=layers, history=history, user=user)
    return cells
