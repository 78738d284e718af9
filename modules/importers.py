"""Bulk import of module stack-pressure readings (set points and measurements) through the modules services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.imports import fields as cell
from assbtrack.imports.registry import Column, Importer, ParsedRow, RowContext, register_importer
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.models import TracedItem

from .choices import PressureReadingKind
from .models import Module, PressureReading
from .services import pressure_reading_create


class PressureReadingImporter(Importer):
    kind = "pressure_readings"
    title = "Module pressure readings"
    description = "Applied (set) or measured stack pressures of modules, by module code."
    columns = (
        Column("module", "module (code)", required=True, parse=cell.text(20), example="MOD-000001"),
        Column("kind", "kind", required=True, parse=cell.choice(PressureReadingKind), example="measured",
               help="set (applied set point) or measured"),
        Column("pressure_mpa", "stack pressure (MPa)", required=True, parse=cell.number(minimum=0, maximum=1000),
               example="5.2"),
        Column("measured_at", "at (date and time)", required=True, parse=cell.iso_datetime,
               example="2026-03-02T09:00"),
        Column("method", "method", parse=cell.text(120), example="load cell"),
        Column("notes", "notes", parse=cell.text(2000), example=""),
    )

    def check_rows(self, rows: list[ParsedRow], *, project: Project, user: User) -> list[tuple[int, str, str]]:
        codes = {row.values["module"].upper() for row in rows if row.has("module")}
        modules = {item.code: item for item in TracedItem.objects.filter(code__in=codes, kind=ItemKind.MODULE)}
        problems = []
        for row in rows:
            if not row.has("module"):
                continue
            module = modules.get(row.values["module"].upper())
            if module is None:
                problems.append((row.number, "module", f"no module {row.values['module']}"))
            elif module.project_id != project.pk:
                problems.append((row.number, "module", f"{module.code} belongs to another project"))
        return problems

    def import_row(self, values: dict[str, Any], *, project: Project, user: User,
                   context: RowContext) -> PressureReading:
        module = Module.objects.select_related("item").get(item__code=values["module"].upper())
        reading = pressure_reading_create(
            module=module, user=user, kind=values["kind"], pressure_mpa=values["pressure_mpa"],
            measured_at=values["measured_at"], method=values["method"] or "", notes=values["notes"] or "",
        )
        reading.module = module
        return reading

    def describe(self, record: PressureReading) -> str:
        return f"{record.module.item.code}: {record.pressure_mpa:g} MPa ({record.kind})"


register_importer(PressureReadingImporter())
