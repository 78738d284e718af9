"""Bulk import of equipment (with an optional first calibration) through the instruments services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.imports import fields as cell
from assbtrack.imports.registry import Column, Importer, ParsedRow, RowContext, register_importer

from .choices import ROOM_KINDS, EquipmentKind
from .models import Equipment
from .services import calibration_add, equipment_create


class EquipmentImporter(Importer):
    kind = "equipment"
    title = "Equipment"
    description = "Mills, calenders, presses, analysers, cyclers, gloveboxes and dry rooms, with a first calibration."
    columns = (
        Column("name", "name", required=True, parse=cell.text(100), example="Mill 2",
               help="What the lab calls it; unique."),
        Column("kind", "kind", required=True, parse=cell.choice(EquipmentKind), example="ball_mill",
               help="One of: " + ", ".join(EquipmentKind.values)),
        Column("make_model", "make and model", parse=cell.text(120), example="Fritsch Pulverisette 7"),
        Column("serial_number", "serial number", parse=cell.text(80), example="P7-10234"),
        Column("location", "location", parse=cell.text(120), example="Lab B.112, glovebox 1"),
        Column("dew_point_limit_c", "dew-point limit (°C)", parse=cell.number(minimum=-100, maximum=30),
               example="", help="Dry rooms and gloveboxes only; empty for the usual limit of the kind."),
        Column("calibrated_on", "calibrated on (date)", parse=cell.iso_date, example="2026-01-15"),
        Column("due_on", "calibration due on (date)", parse=cell.iso_date_due, example="2027-01-15"),
        Column("notes", "notes", parse=cell.text(2000), example=""),
    )
    error_columns = {"certificate": "calibrated_on", "performed_by": "calibrated_on"}

    def check_rows(self, rows: list[ParsedRow], *, project: Project, user: User) -> list[tuple[int, str, str]]:
        problems: list[tuple[int, str, str]] = []
        # a lab has hundreds of instruments at most: one query for every name, compared without case
        existing = {name.lower() for name in Equipment.objects.values_list("name", flat=True)}
        first_row: dict[str, int] = {}
        for row in rows:
            values = row.values
            if row.has("name"):
                key = values["name"].lower()
                if key in existing:
                    problems.append((row.number, "name", f"there is already equipment called {values['name']!r}"))
                elif key in first_row:
                    problems.append((row.number, "name", f"the name is also on row {first_row[key]}"))
                else:
                    first_row[key] = row.number
            if row.has("dew_point_limit_c", "kind") and values["kind"] not in ROOM_KINDS:
                problems.append((row.number, "dew_point_limit_c", "only dry rooms and gloveboxes have a limit"))
            if {"calibrated_on", "due_on"} & row.invalid:
                continue
            if (values["calibrated_on"] is None) != (values["due_on"] is None):
                missing = "due_on" if values["due_on"] is None else "calibrated_on"
                problems.append((row.number, missing, "give both the calibration date and the due date, or neither"))
            elif values["calibrated_on"] and values["due_on"] <= values["calibrated_on"]:
                problems.append((row.number, "due_on", "must be after the calibration date"))
        return problems

    def import_row(self, values: dict[str, Any], *, project: Project, user: User, context: RowContext) -> Equipment:
        equipment = equipment_create(
            user=user, kind=values["kind"], name=values["name"], make_model=values["make_model"] or "",
            serial_number=values["serial_number"] or "", location=values["location"] or "", project=project,
            dew_point_limit_c=values["dew_point_limit_c"], notes=values["notes"] or "",
        )
        if values["calibrated_on"] is not None:
            calibration_add(equipment=equipment, user=user, calibrated_on=values["calibrated_on"],
                            due_on=values["due_on"])
        return equipment

    def describe(self, record: Equipment) -> str:
        return record.name


register_importer(EquipmentImporter())
