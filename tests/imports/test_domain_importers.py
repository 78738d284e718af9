"""The domain import kinds: lots, synthesis batches, conductivity measurements, module pressure readings. Each goes
through the app's services (mass balance, σ, audit), and problems that need other rows or the database are
reported row by row before anything is written."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from assbtrack.imports.models import ImportStatus
from assbtrack.imports.registry import importer_for
from assbtrack.imports.services import import_apply, import_check, import_upload
from assbtrack.instruments.choices import EquipmentKind
from assbtrack.tracing.models import LineageEdge
from materials.models import ConductivityMeasurement, MaterialLot, SynthesisBatch
from modules.models import PressureReading
from tests.utils.checks import client_for
from tests.utils.factories_imports import csv_bytes, fill_csv_template
from tests.utils.factories_instruments import make_equipment
from tests.utils.factories_materials import make_batch, make_lot
from tests.utils.factories_modules import make_module

pytestmark = pytest.mark.django_db


def run_import(kind, project, user, content: bytes, name: str = "rows.csv"):
    run = import_check(run=import_upload(kind=kind, project=project, user=user, file_name=name, content=content))
    if run.status == ImportStatus.CHECKED:
        run = import_apply(run=run, user=user)
    return run


def headers(kind: str, *keys: str) -> list[str]:
    importer = importer_for(kind)
    return [importer.header_of(key) for key in keys]


def test_every_kind_has_a_template_with_units(tech):
    client = client_for(tech)
    for kind, header in (("material_lots", "mass (g)"), ("synthesis_batches", "precursor 1 mass (g)"),
                         ("conductivity_measurements", "bulk resistance (Ω)"),
                         ("pressure_readings", "stack pressure (MPa)")):
        template = client.get(f"/imports/templates/{kind}.csv").content.decode()
        assert header in template.splitlines()[-1], kind
        assert client.get(f"/imports/templates/{kind}.xlsx").status_code == 200


def test_lots_round_trip_through_the_template(tech, project):
    template = client_for(tech).get("/imports/templates/material_lots.csv").content
    content = fill_csv_template(template, [
        {"chemical name": "Lithium sulfide", "formula": "Li2S", "role": "precursor", "mass (g)": "250",
         "supplier lot": "MKCN1", "received on (date)": "2026-02-01", "purity (%)": "99.98"},
        {"chemical name": "Lithium chloride", "formula": "LiCl", "role": "Precursor", "mass (g)": "100,5"},
    ])
    run = run_import("material_lots", project, tech, content)
    assert (run.status, run.created_count) == (ImportStatus.IMPORTED, 2)
    lots = list(MaterialLot.objects.order_by("item__code"))
    assert [lot.item.quantity for lot in lots] == [Decimal("250"), Decimal("100.5")]
    assert lots[0].received_on.isoformat() == "2026-02-01" and lots[0].purity_percent == 99.98
    assert [created["label"] for created in run.created_labels] == [lot.item.code for lot in lots]
    assert set(MaterialLot.history.model.objects.values_list("history_user", flat=True)) == {tech.pk}


def test_batches_draw_from_their_lots_with_the_mass_balance_checked_across_rows(tech, project, other_project):
    li2s = make_lot(project, tech, mass_g=10.0)
    p2s5 = make_lot(project, tech, chemical_name="Phosphorus pentasulfide", formula="P2S5", mass_g=10.0)
    foreign = make_lot(other_project, tech, mass_g=10.0)
    mill = make_equipment(tech, kind=EquipmentKind.BALL_MILL, name="Mill 4", make_model="Fritsch P7")
    columns = headers("synthesis_batches", "composition", "sse_class", "route", "precursor_1_lot",
                      "precursor_1_mass_g", "precursor_2_lot", "precursor_2_mass_g", "batch_mass_g",
                      "milling_time_h", "speed_rpm", "mill_equipment")
    bad = csv_bytes(columns, [
        ["Li6PS5Cl", "sulfide", "mechanochemical", li2s.item.code, "6", p2s5.item.code, "4", "9.5", "10", "510",
         "Mill 4"],
        ["Li6PS5Cl", "sulfide", "mechanochemical", li2s.item.code, "5", p2s5.item.code, "4", "8.5", "10", "510",
         ""],  # row 3: 6 + 5 g of a 10 g lot
        ["Li6PS5Cl", "sulfide", "mechanochemical", "LOT-999999", "1", foreign.item.code, "1", "1.9", "10", "510",
         "Mill 99"],  # row 4: unknown lot, another project's lot, unknown mill
    ])
    run = run_import("synthesis_batches", project, tech, bad)
    assert run.status == ImportStatus.INVALID
    assert [(p["row"], p["column"]) for p in run.problems] == [
        (3, "precursor 1 mass (g)"), (4, "mill (equipment name)"), (4, "precursor 1 lot (code)"),
        (4, "precursor 2 lot (code)"),
    ]
    assert "has 10 g left; the rows up to this one draw 11 g" in run.problems[0]["reason"]
    assert not SynthesisBatch.objects.exists()
    li2s.item.refresh_from_db()
    assert li2s.item.quantity_used == 0

    good = csv_bytes(columns, [
        ["Li6PS5Cl", "sulfide", "mechanochemical", li2s.item.code, "6", p2s5.item.code, "4", "9.5", "10", "510",
         "mill 4"],
        ["Li6PS5Cl", "sulfide", "mechanochemical", li2s.item.code, "4", "", "", "3.8", "10", "510", ""],
    ])
    run = run_import("synthesis_batches", project, tech, good)
    assert (run.status, run.created_count) == (ImportStatus.IMPORTED, 2), run.problems
    li2s.item.refresh_from_db()
    assert li2s.item.quantity_used == Decimal("10")  # the lineage drew 6 + 4 g: the lot is used up
    first = SynthesisBatch.objects.get(item__code=run.created_labels[0]["label"])
    assert (first.equipment, first.mill, first.precursor_mass_g) == (mill, "Fritsch P7", 10.0)
    assert LineageEdge.objects.filter(child=first.item).count() == 2


def test_conductivity_measurements_compute_sigma_and_name_their_analyser(tech, project):
    batch = make_batch(project, tech)
    analyser = make_equipment(tech, kind=EquipmentKind.IMPEDANCE_ANALYSER, name="EIS 2")
    columns = headers("conductivity_measurements", "batch", "temperature_c", "thickness_mm", "resistance_ohm",
                      "diameter_mm", "measured_at", "analyser")
    bad = csv_bytes(columns, [
        ["SSE-999999", "25", "1", "40", "10", "", ""],
        [batch.item.code, "25", "1", "40", "", "", ""],
        [batch.item.code, "25", "-1", "40", "10", "", "EIS 9"],
    ])
    run = run_import("conductivity_measurements", project, tech, bad)
    assert [(p["row"], p["column"]) for p in run.problems] == [
        (2, "batch (code)"), (3, "pellet diameter (mm)"), (4, "impedance analyser (equipment name)"),
        (4, "pellet thickness (mm)"),
    ]
    good = csv_bytes(columns, [
        [batch.item.code, "25", "1", "40", "10", "2026-03-02T14:30", "EIS 2"],
        [batch.item.code.lower(), "60", "1", "20", "10", "", ""],
    ])
    run = run_import("conductivity_measurements", project, tech, good)
    assert (run.status, run.created_count) == (ImportStatus.IMPORTED, 2), run.problems
    # σ = L/(R·A) = 0.1 cm / (40 Ω · π·0.5² cm²) = 3.183 mS/cm, and twice that at 20 Ω
    first, second = ConductivityMeasurement.objects.order_by("temperature_c")
    assert first.conductivity_ms_per_cm == pytest.approx(0.1 / (40 * math.pi * 0.25) * 1000)
    assert second.conductivity_ms_per_cm == pytest.approx(2 * first.conductivity_ms_per_cm)
    assert first.equipment == analyser and first.measured_at.isoformat().startswith("2026-03-02T14:30")


def test_pressure_readings_follow_the_module_service(tech, project):
    module = make_module(project, tech, cell_count=2, pressure_mpa=5.0)
    # after the assembly's own set-point reading (made "now"), so the imported set point is the latest
    now = timezone.now().replace(microsecond=0) + timedelta(seconds=1)
    set_at, measured_at = now.isoformat(), (now + timedelta(seconds=1)).isoformat()
    columns = headers("pressure_readings", "module", "kind", "pressure_mpa", "measured_at", "method")
    run = run_import("pressure_readings", project, tech, csv_bytes(columns, [
        ["MOD-999999", "set", "5", "2026-03-01T09:00", ""],
        [module.item.code, "sideways", "5", "2026-03-01T09:00", ""],
        [module.item.code, "set", "5", "tomorrow", ""],
    ]))
    assert [(p["row"], p["column"]) for p in run.problems] == [
        (2, "module (code)"), (3, "kind"), (4, "at (date and time)"),
    ]
    run = run_import("pressure_readings", project, tech, csv_bytes(columns, [
        [module.item.code, "set", "6.5", set_at, "torque wrench"],
        [module.item.code, "measured", "6.1", measured_at, "load cell"],
    ]))
    assert (run.status, run.created_count) == (ImportStatus.IMPORTED, 2), run.problems
    module.refresh_from_db()
    assert module.applied_stack_pressure_mpa == 6.5
    imported = PressureReading.objects.filter(module=module, method__in=["torque wrench", "load cell"])
    assert list(imported.order_by("measured_at").values_list("pressure_mpa", flat=True)) == [6.5, 6.1]
