"""Bulk import of material lots, synthesis batches and conductivity measurements through the materials services.

Rows refer to existing records by code (``LOT-000012``, ``SSE-000042``) and to equipment by name. The check
looks codes up in one query per file and adds up what the rows draw from each lot, so that a file asking
more of a lot than it has left is reported row by row before anything is written; the services then apply
the same mass balance, QC and audit as the forms.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.imports import fields as cell
from assbtrack.imports.registry import Column, Importer, ParsedRow, RowContext, register_importer
from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.models import Equipment
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.models import TracedItem

from .choices import Atmosphere, MaterialRole, MillingMaterial, ProcessEnvironment, SseClass, SynthesisRoute
from .models import MaterialLot, SynthesisBatch
from .services import batch_create, lot_create, measurement_add

PRECURSOR_SLOTS = 6


def _items_by_code(codes: set[str], kind: str) -> dict[str, TracedItem]:
    return {item.code: item for item in TracedItem.objects.filter(code__in=codes, kind=kind)}


def _equipment_problems(rows, key: str, kinds: tuple[str, ...], label: str) -> tuple[list, dict[str, Equipment]]:
    names = {row.values[key] for row in rows if row.values.get(key)}
    found = {equipment.name.lower(): equipment for equipment in Equipment.objects.filter(kind__in=kinds)
             if equipment.name.lower() in {name.lower() for name in names}}
    problems = []
    for row in rows:
        name = row.values.get(key)
        if name and name.lower() not in found:
            problems.append((row.number, key, f"no {label} called {name!r} (see the equipment list)"))
    return problems, found


class LotImporter(Importer):
    kind = "material_lots"
    title = "Material lots"
    description = "Received precursor, active-material, carbon, binder and foil lots (mass in g)."
    columns = (
        Column("chemical_name", "chemical name", required=True, parse=cell.text(120), example="Lithium sulfide"),
        Column("formula", "formula", parse=cell.text(60), example="Li2S"),
        Column("role", "role", required=True, parse=cell.choice(MaterialRole), example="precursor",
               help="One of: " + ", ".join(MaterialRole.values)),
        Column("mass_g", "mass (g)", required=True, parse=cell.number(greater_than=0, maximum=1e9), example="250"),
        Column("supplier", "supplier", parse=cell.text(120), example="Sigma-Aldrich"),
        Column("supplier_lot", "supplier lot", parse=cell.text(80), example="MKCN1234"),
        Column("received_on", "received on (date)", parse=cell.iso_date, example="2026-02-01"),
        Column("purity_percent", "purity (%)", parse=cell.number(greater_than=0, maximum=100), example="99.98"),
        Column("storage_atmosphere", "storage atmosphere", parse=cell.choice(Atmosphere), example="argon"),
        Column("density_g_per_cm3", "density (g/cm³)", parse=cell.number(greater_than=0), example="1.66"),
        Column("specific_capacity_mah_per_g", "specific capacity (mAh/g)", parse=cell.number(minimum=0),
               example=""),
        Column("notes", "notes", parse=cell.text(2000), example=""),
    )

    def import_row(self, values: dict[str, Any], *, project: Project, user: User, context: RowContext) -> MaterialLot:
        return lot_create(
            project=project, user=user, chemical_name=values["chemical_name"], formula=values["formula"] or "",
            role=values["role"], mass_g=values["mass_g"], supplier=values["supplier"] or "",
            supplier_lot=values["supplier_lot"] or "", received_on=values["received_on"],
            purity_percent=values["purity_percent"], storage_atmosphere=values["storage_atmosphere"] or "",
            density_g_per_cm3=values["density_g_per_cm3"],
            specific_capacity_mah_per_g=values["specific_capacity_mah_per_g"], notes=values["notes"] or "",
        )


def _precursor_columns() -> tuple[Column, ...]:
    columns = []
    for slot in range(1, PRECURSOR_SLOTS + 1):
        columns.append(Column(f"precursor_{slot}_lot", f"precursor {slot} lot (code)", required=slot == 1,
                              parse=cell.text(20), example={1: "LOT-000001", 2: "LOT-000002"}.get(slot, "")))
        columns.append(Column(f"precursor_{slot}_mass_g", f"precursor {slot} mass (g)", required=slot == 1,
                              parse=cell.number(greater_than=0, maximum=1e9),
                              example={1: "7.5", 2: "2.5"}.get(slot, "")))
    return tuple(columns)


class BatchImporter(Importer):
    kind = "synthesis_batches"
    title = "SSE synthesis batches"
    description = "Synthesis batches with up to six precursor lots (by code) and the mill (by equipment name)."
    columns = (
        Column("composition", "target composition", required=True, parse=cell.text(60), example="Li6PS5Cl"),
        Column("sse_class", "SSE class", required=True, parse=cell.choice(SseClass), example="sulfide"),
        Column("route", "synthesis route", required=True, parse=cell.choice(SynthesisRoute),
               example="mechanochemical"),
        *_precursor_columns(),
        Column("batch_mass_g", "batch mass (g)", required=True, parse=cell.number(greater_than=0), example="9.6"),
        Column("milling_time_h", "milling time (h)", required=True, parse=cell.number(minimum=0), example="10"),
        Column("speed_rpm", "milling speed (rpm)", required=True, parse=cell.number(minimum=0), example="510"),
        Column("mill_equipment", "mill (equipment name)", parse=cell.text(100), example="Mill 2"),
        Column("jar_material", "jar material", parse=cell.choice(MillingMaterial), example="zirconia"),
        Column("media_material", "media material", parse=cell.choice(MillingMaterial), example="zirconia"),
        Column("ball_diameter_mm", "ball diameter (mm)", parse=cell.number(greater_than=0), example="5"),
        Column("ball_to_powder_ratio", "ball-to-powder mass ratio (–)", parse=cell.number(greater_than=0),
               example="30"),
        Column("heat_treatment_temperature_c", "heat treatment temperature (°C)", parse=cell.number(minimum=-273.15),
               example="550"),
        Column("heat_treatment_time_h", "heat treatment time (h)", parse=cell.number(greater_than=0), example="5"),
        Column("heat_treatment_atmosphere", "heat treatment atmosphere", parse=cell.choice(Atmosphere),
               example="argon"),
        Column("environment", "environment", parse=cell.choice(ProcessEnvironment), example="glovebox"),
        Column("glovebox_o2_ppm", "glovebox O2 (ppm)", parse=cell.number(minimum=0), example="0.3"),
        Column("glovebox_h2o_ppm", "glovebox H2O (ppm)", parse=cell.number(minimum=0), example="0.2"),
        Column("dew_point_c", "dry-room dew point (°C)", parse=cell.number(minimum=-100, maximum=30), example=""),
        Column("density_g_per_cm3", "SSE density (g/cm³)", parse=cell.number(greater_than=0), example="1.86"),
        Column("notes", "notes", parse=cell.text(2000), example=""),
    )
    error_columns = {
        **{f"precursors.{slot - 1}.lot": f"precursor_{slot}_lot" for slot in range(1, PRECURSOR_SLOTS + 1)},
        **{f"precursors.{slot - 1}.mass_g": f"precursor_{slot}_mass_g" for slot in range(1, PRECURSOR_SLOTS + 1)},
        "precursors": "precursor_1_lot",
        "equipment": "mill_equipment",
    }

    @staticmethod
    def _pairs(values: dict[str, Any], invalid: frozenset[str] = frozenset()) -> list[tuple[int, str | None,
                                                                                              float | None]]:
        """The precursor slots that are filled in (a slot with an unreadable cell is reported already)."""
        return [
            (slot, values[f"precursor_{slot}_lot"], values[f"precursor_{slot}_mass_g"])
            for slot in range(1, PRECURSOR_SLOTS + 1)
            if (values[f"precursor_{slot}_lot"] or values[f"precursor_{slot}_mass_g"] is not None)
            and not {f"precursor_{slot}_lot", f"precursor_{slot}_mass_g"} & invalid
        ]

    def check_rows(self, rows: list[ParsedRow], *, project: Project, user: User) -> list[tuple[int, str, str]]:
        problems: list[tuple[int, str, str]] = []
        codes = {code.upper() for row in rows for _, code, _ in self._pairs(row.values, row.invalid) if code}
        lots = _items_by_code(codes, ItemKind.MATERIAL_LOT)
        drawn: dict[int, Decimal] = defaultdict(Decimal)
        for row in rows:
            for slot, code, mass in self._pairs(row.values, row.invalid):
                if not code:
                    problems.append((row.number, f"precursor_{slot}_lot", "give the lot of this mass"))
                    continue
                if mass is None:
                    problems.append((row.number, f"precursor_{slot}_mass_g", f"give the mass used of {code}"))
                    continue
                lot = lots.get(code.upper())
                if lot is None:
                    problems.append((row.number, f"precursor_{slot}_lot", f"no material lot {code}"))
                elif lot.project_id != project.pk:
                    problems.append((row.number, f"precursor_{slot}_lot", f"{lot.code} belongs to another project"))
                elif lot.quantity is not None:
                    drawn[lot.pk] += Decimal(repr(mass))
                    left = lot.quantity - lot.quantity_used
                    if drawn[lot.pk] > left:
                        problems.append((row.number, f"precursor_{slot}_mass_g",
                                         f"{lot.code} has {left.normalize():f} g left; the rows up to this one "
                                         f"draw {drawn[lot.pk].normalize():f} g"))
        more, _ = _equipment_problems(rows, "mill_equipment", (EquipmentKind.BALL_MILL,), "ball mill")
        return problems + more

    def import_row(self, values: dict[str, Any], *, project: Project, user: User,
                   context: RowContext) -> SynthesisBatch:
        codes = [code.upper() for _, code, _ in self._pairs(values)]
        lots = _items_by_code(set(codes), ItemKind.MATERIAL_LOT)
        precursors = [(lots.get(code.upper()), mass) for _, code, mass in self._pairs(values)]
        mill = None
        if values["mill_equipment"]:
            mill = Equipment.objects.filter(name__iexact=values["mill_equipment"],
                                            kind=EquipmentKind.BALL_MILL).first()
        optional = {key: values[key] for key in (
            "density_g_per_cm3", "ball_diameter_mm", "ball_to_powder_ratio", "heat_treatment_temperature_c",
            "heat_treatment_time_h", "glovebox_o2_ppm", "glovebox_h2o_ppm", "dew_point_c")}
        texts = {key: values[key] or "" for key in (
            "jar_material", "media_material", "heat_treatment_atmosphere", "notes")}
        return batch_create(
            project=project, user=user, composition=values["composition"], sse_class=values["sse_class"],
            route=values["route"], precursors=precursors, batch_mass_g=values["batch_mass_g"],
            milling_time_h=values["milling_time_h"], speed_rpm=values["speed_rpm"],
            environment=values["environment"] or ProcessEnvironment.GLOVEBOX,
            mill=(mill.make_model or mill.name) if mill else "", equipment=mill, **optional, **texts,
            # the person applying the import has read its check; a mill out of calibration is kept, confirmed by
            # them, and flagged on the batch as on a batch typed in
            confirm_warnings=True,
        )


class MeasurementImporter(Importer):
    kind = "conductivity_measurements"
    title = "Conductivity measurements"
    description = "Impedance results of pressed pellets, per batch code; σ = L/(R·A) is computed on import."
    columns = (
        Column("batch", "batch (code)", required=True, parse=cell.text(20), example="SSE-000001"),
        Column("temperature_c", "temperature (°C)", required=True, parse=cell.number(minimum=-273.15, maximum=1000),
               example="25"),
        Column("thickness_mm", "pellet thickness (mm)", required=True, parse=cell.number(greater_than=0),
               example="1.02"),
        Column("resistance_ohm", "bulk resistance (Ω)", required=True, parse=cell.number(greater_than=0),
               example="41.5"),
        Column("diameter_mm", "pellet diameter (mm)", parse=cell.number(greater_than=0), example="10"),
        Column("area_cm2", "pellet area (cm²)", parse=cell.number(greater_than=0), example=""),
        Column("stack_pressure_mpa", "stack pressure (MPa)", parse=cell.number(minimum=0, maximum=10_000),
               example="375"),
        Column("measured_at", "measured at (date and time)", parse=cell.iso_datetime, example="2026-03-02T14:30"),
        Column("analyser", "impedance analyser (equipment name)", parse=cell.text(100), example="EIS 1"),
        Column("notes", "notes", parse=cell.text(2000), example=""),
    )
    error_columns = {"equipment": "analyser"}

    def check_rows(self, rows: list[ParsedRow], *, project: Project, user: User) -> list[tuple[int, str, str]]:
        problems: list[tuple[int, str, str]] = []
        batches = _items_by_code({row.values["batch"].upper() for row in rows if row.has("batch")},
                                 ItemKind.SSE_BATCH)
        for row in rows:
            values = row.values
            if row.has("batch"):
                batch = batches.get(values["batch"].upper())
                if batch is None:
                    problems.append((row.number, "batch", f"no synthesis batch {values['batch']}"))
                elif batch.project_id != project.pk:
                    problems.append((row.number, "batch", f"{batch.code} belongs to another project"))
            if {"diameter_mm", "area_cm2"} & row.invalid:
                continue
            if values["diameter_mm"] is None and values["area_cm2"] is None:
                problems.append((row.number, "diameter_mm", "give the pellet diameter (mm) or its area (cm²)"))
        more, _ = _equipment_problems(rows, "analyser", (EquipmentKind.IMPEDANCE_ANALYSER,), "impedance analyser")
        return problems + more

    def import_row(self, values: dict[str, Any], *, project: Project, user: User, context: RowContext):
        batch = SynthesisBatch.objects.select_related("item").get(item__code=values["batch"].upper())
        analyser = None
        if values["analyser"]:
            analyser = Equipment.objects.filter(name__iexact=values["analyser"],
                                                kind=EquipmentKind.IMPEDANCE_ANALYSER).first()
        return measurement_add(
            batch=batch, user=user, temperature_c=values["temperature_c"], thickness_mm=values["thickness_mm"],
            resistance_ohm=values["resistance_ohm"], diameter_mm=values["diameter_mm"], area_cm2=values["area_cm2"],
            stack_pressure_mpa=values["stack_pressure_mpa"], measured_at=values["measured_at"],
            notes=values["notes"] or "", equipment=analyser,
        )

    def describe(self, record) -> str:
        return f"{record.batch.item.code}: {record.conductivity_ms_per_cm:.3g} mS/cm at {record.temperature_c:g} °C"


register_importer(LotImporter())
register_importer(BatchImporter())
register_importer(MeasurementImporter())
