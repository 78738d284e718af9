"""Demo cells, through the services: four pouch cells (and a pellet) built from the electrodes demo's sheets,
densified, with the stack_energy figures on each, and one with a cycling test imported from a generated
CSV through the same service the import job uses, so its page shows the per-cycle table and summary.

Takes ``context.items["cathode_sheets"]``, ``["separator_sheets"]``, ``["anode_sheets"]`` (Sheet records)
and the lithium foil lot of ``context.items["lots"]``; cuts more sheets from the same films when the lists
run short. Hands on ``context.items["cells"]`` (list of Cell).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone

from assbtrack.domain.inputs import ModelInputError
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.models import TracedItem
from electrodes.models import Sheet
from electrodes.services import sheets_cut
from materials.choices import MaterialRole
from materials.models import MaterialLot

from .choices import AnodeType, CellEventKind, CellFormat, Connection, DensificationMethod, Stacking
from .energy import run_stack_energy
from .models import Cell
from .selectors import cell_stack_energy_inputs
from .services import (
    cell_build,
    cell_densification_record,
    cell_energy_set,
    cell_event_record,
    cell_stack_energy_submit,
    cycling_test_create,
    cycling_test_import,
    retention_spec_set,
)

SEAL_MM = 8.0  # pouch seal and tab room around the stack
ASPECT = 1.5  # length / width of the demo pouches
CYCLES = 150


class _SheetSupply:
    """Unused sheets of one kind from the electrodes demo; cuts more from the same film when they run out."""

    def __init__(self, sheets: list[Any], user):
        self.sheets = [_as_sheet(sheet) for sheet in sheets]
        self.sheets = [sheet for sheet in self.sheets if sheet is not None and sheet.item.quantity_used == 0]
        self.films = [sheet.film for sheet in self.sheets]
        self.user = user

    def take(self, count: int) -> list[Sheet]:
        while len(self.sheets) < count and self.films:
            film = self.films[0]
            area = self.sheets[0].area_cm2 if self.sheets else _typical_area(film)
            remaining = float(TracedItem.objects.get(pk=film.pk).quantity_remaining or 0)
            can_cut = int(remaining // area)
            if can_cut < 1:
                self.films.pop(0)
                continue
            self.sheets += sheets_cut(film=film, user=self.user, count=min(can_cut, count - len(self.sheets)),
                                      area_cm2=area)
        if len(self.sheets) < count:
            return []
        taken, self.sheets = self.sheets[:count], self.sheets[count:]
        return taken


def _typical_area(film) -> float:
    sheet = film.sheets.order_by("item_id").first()
    return sheet.area_cm2 if sheet else 10.0


def _as_sheet(value: Any) -> Sheet | None:
    if isinstance(value, Sheet):
        return Sheet.objects.select_related("item", "film__item").get(pk=value.pk)
    if isinstance(value, TracedItem) and value.kind == ItemKind.SHEET:
        return Sheet.objects.select_related("item", "film__item").get(pk=value.pk)
    return None


def _foil_lot(context) -> MaterialLot | None:
    lots = context.items.get("lots") or {}
    values = lots.values() if isinstance(lots, dict) else lots
    for lot in values:
        if isinstance(lot, MaterialLot) and lot.role == MaterialRole.FOIL:
            return lot
    return MaterialLot.objects.filter(item__project=context.project, role=MaterialRole.FOIL).first()


def _margin_mm(areas: list[float]) -> float:
    """The smallest edge margin (mm, to 0.5 mm, at least 1 mm) within which sheets of these areas line up."""
    small, large = min(areas), max(areas)
    a, b = math.sqrt(small * 100 * ASPECT), math.sqrt(small * 100 / ASPECT)
    # (a + 2m)(b + 2m) = large: 4m² + 2(a + b)m + ab − large = 0
    m = (-(2 * (a + b)) + math.sqrt(4 * (a + b) ** 2 - 16 * (a * b - large * 100))) / 8
    return max(1.0, math.ceil(m * 2 + 1e-9) / 2)


def _footprint_mm(areas: list[float]) -> tuple[float, float]:
    largest = max(areas) * 100
    return (round(math.sqrt(largest * ASPECT) + 2 * SEAL_MM, 1), round(math.sqrt(largest / ASPECT) + 2 * SEAL_MM, 1))


def _build(context, *, cathodes, separators, anodes=None, foil=None, foil_mass_g=None, anode_type, cell_format,
           stacking, connection=Connection.PARALLEL, pressure_mpa=5.0, notes=""):
    layers = []
    for index, (cathode, separator) in enumerate(zip(cathodes, separators, strict=True)):
        layers.append({
            "cathode": cathode.item, "separator": separator.item,
            "anode": anodes[index].item if anodes else None,
            "anode_lot": foil.item if foil is not None else None,
            "anode_mass_g": foil_mass_g if foil is not None else None,
        })
    areas = [sheet.area_cm2 for sheet in (*cathodes, *separators, *(anodes or []))]
    length, width = _footprint_mm(areas)
    return cell_build(
        project=context.project, user=context.users["technician"], cell_format=cell_format, stacking=stacking,
        connection=connection, length_mm=length, width_mm=width, edge_margin_mm=_margin_mm(areas),
        operating_stack_pressure_mpa=pressure_mpa, anode_type=anode_type, notes=notes, layers=layers,
    )


def _energy(cell: Cell, context) -> None:
    """Figures on the cell now (the modules demo computes with them) and the job for the page's breakdown."""
    try:
        result = run_stack_energy(cell_stack_energy_inputs(cell))
    except ModelInputError as error:
        context.log.append(f"cells: no energy figures for {cell.item.code}: {error}")
        return
    cell_energy_set(
        cell=cell, user=context.users["scientist"], specific_energy_wh_per_kg=result["cell_specific_energy_wh_per_kg"],
        energy_density_wh_per_l=result["cell_energy_density_wh_per_l"], reason="stack_energy model (demo)",
    )
    cell_stack_energy_submit(cell=cell, user=context.users["scientist"])
    cell.refresh_from_db()


def cycling_csv(first_discharge_mah: float, *, cycles: int = CYCLES, seed: int = 7, fade: float = 0.0012) -> str:
    """A galvanostatic test as a cycler logs it: time (s), cycle, current (mA, + charging), voltage (V).

    Discharge capacity fades linearly by ``fade`` (0.12 %) per cycle after a 2 % first-cycle loss; coulombic
    efficiency climbs from 92 % to 99.8 %; 9 points per half cycle at C/5.
    """
    rng = np.random.default_rng(seed)
    current_ma = first_discharge_mah / 5.0
    lines = ["time_s,cycle,current_ma,voltage_v"]
    time_s = 0.0
    lines.append(f"{time_s:.1f},1,0,3.0")
    for cycle in range(1, cycles + 1):
        discharge = first_discharge_mah * (1.0 - fade * (cycle - 1)) * (1.0 + rng.normal(0, 0.002))
        efficiency = 0.998 - 0.078 * math.exp(-(cycle - 1) / 2.0)
        charge = discharge / efficiency
        for sign, capacity, (v_start, v_end) in ((1, charge, (3.5, 4.25)), (-1, discharge, (4.15, 2.9))):
            duration = capacity / current_ma * 3600.0
            for fraction in np.linspace(0.0, 1.0, 9):
                voltage = v_start + (v_end - v_start) * (fraction ** 0.8)
                lines.append(f"{time_s + fraction * duration:.1f},{cycle},{sign * current_ma:.6f},{voltage:.4f}")
            time_s += duration
            lines.append(f"{time_s:.1f},{cycle},0,{v_end - 0.05 * sign:.4f}")
            time_s += 600.0
            lines.append(f"{time_s:.1f},{cycle},0,{v_end - 0.06 * sign:.4f}")
    return "\n".join(lines) + "\n"


def load(context) -> None:
    technician, scientist = context.users["technician"], context.users["scientist"]
    cathodes = _SheetSupply(context.items.get("cathode_sheets") or [], technician)
    separators = _SheetSupply(context.items.get("separator_sheets") or [], technician)
    anodes = _SheetSupply(context.items.get("anode_sheets") or [], technician)
    foil = _foil_lot(context)
    cells: list[Cell] = []
    plans = [
        # (name, layers, anode type, format, stacking, connection, pressure)
        ("single-layer pouch, Li foil", 1, AnodeType.LI_METAL, CellFormat.SINGLE_LAYER_POUCH, Stacking.SINGLE_SHEET,
         Connection.PARALLEL, 5.0),
        ("Z-fold pouch, graphite", 2, AnodeType.GRAPHITE, CellFormat.MULTI_LAYER_POUCH, Stacking.Z_FOLD,
         Connection.PARALLEL, 10.0),
        ("Z-fold pouch, Li foil", 3, AnodeType.LI_METAL, CellFormat.MULTI_LAYER_POUCH, Stacking.Z_FOLD,
         Connection.PARALLEL, 2.0),
        ("anode-free single-layer pouch", 1, AnodeType.ANODE_FREE, CellFormat.SINGLE_LAYER_POUCH,
         Stacking.SINGLE_SHEET, Connection.PARALLEL, 5.0),
        ("bipolar stack, Li foil", 2, AnodeType.LI_METAL, CellFormat.MULTI_LAYER_POUCH, Stacking.Z_FOLD,
         Connection.SERIES, 5.0),
    ]
    for name, count, anode_type, cell_format, stacking, connection, pressure in plans:
        cathode_sheets, separator_sheets = cathodes.take(count), separators.take(count)
        anode_sheets = anodes.take(count) if anode_type == AnodeType.GRAPHITE else None
        uses_foil = anode_type == AnodeType.LI_METAL
        if not cathode_sheets or not separator_sheets or (anode_sheets == []) or (uses_foil and foil is None):
            context.log.append(f"cells: skipped the {name}: not enough sheets or no lithium foil")
            continue
        foil_mass_g = None
        if uses_foil:
            # N/P about 2: lithium for twice the cathode's capacity (3861 mAh/g).
            cathode_mah = cathode_sheets[0].area_cm2 * (cathode_sheets[0].film.areal_capacity_mah_per_cm2 or 0)
            foil_mass_g = round(max(2.0 * cathode_mah / 3861.0, 0.001), 4)
        cell = _build(
            context, cathodes=cathode_sheets, separators=separator_sheets, anodes=anode_sheets,
            foil=foil if uses_foil else None, foil_mass_g=foil_mass_g, anode_type=anode_type,
            cell_format=cell_format, stacking=stacking, connection=connection, pressure_mpa=pressure,
            notes=f"demo: {name}",
        )
        cell_densification_record(
            cell=cell, user=technician, method=DensificationMethod.ISOSTATIC if count > 1 else
            DensificationMethod.UNIAXIAL, pressure_mpa=500.0 if count > 1 else 370.0, temperature_c=80.0,
            hold_time_min=5.0, performed_at=timezone.now() - timedelta(days=20), notes="warm pressing after stacking",
        )
        _energy(cell, context)
        cells.append(cell)
        context.log.append(
            f"cells: {cell.item.code} {name}: {cell.nominal_capacity_ah * 1000:.1f} mAh at "
            f"{cell.nominal_voltage_v:.2f} V,"
            f" N/P {cell.np_ratio:.2f}, {cell.get_scale_tier_display()}"
            + (f", {cell.specific_energy_wh_per_kg:.0f} Wh/kg" if cell.specific_energy_wh_per_kg else "")
        )

    if cells:
        first = cells[0]
        cell_densification_record(
            cell=first, user=technician, method=DensificationMethod.LINE_PRESSING, pressure_mpa=200.0,
            temperature_c=25.0, hold_time_min=0.0, performed_at=timezone.now() - timedelta(days=21),
            notes="calender pass of the stack before isostatic pressing",
        )
        cell_event_record(cell=first, user=technician, kind=CellEventKind.OCV_CHECK, ocv_v=2.95,
                          occurred_at=timezone.now() - timedelta(days=19), notes="after formation rest")
        # the dashboard's retention trend: a specification line and three tests started weeks apart, the
        # latest with a faster fade that falls below the line at cycle 100
        retention_spec_set(project=first.item.project, minimum_percent=80.0, at_cycle=100, user=scientist)
        for index, (cell, days_ago, fade) in enumerate(zip(cells, (18, 40, 62), (0.0012, 0.0009, 0.0025))):
            capacity_mah = cell.nominal_capacity_ah * 1000 * 0.93
            test = cycling_test_create(
                cell=cell, user=technician,
                data_file=ContentFile(cycling_csv(capacity_mah, seed=7 + index, fade=fade).encode(),
                                      name=f"{cell.item.code}_C05.csv"),
                cycler="BioLogic BCS-815", channel=str(7 + index), temperature_c=25.0, stack_pressure_mpa=5.0,
                protocol="CC charge and discharge, C/5", c_rate=0.2, voltage_min_v=2.5, voltage_max_v=4.3,
                started_at=timezone.now() - timedelta(days=days_ago),
                column_map={"cycle": "cycle", "voltage_v": "voltage_v", "current_ma": "current_ma", "time_s": "time_s"},
                submit=False,
            )
            test = cycling_test_import(test=test)
            context.log.append(
                f"cells: {cell.item.code} cycling test imported: {test.cycle_count} cycles, first discharge "
                f"{test.first_discharge_capacity_mah:.2f} mAh, retention {test.retention_at_last * 100:.1f} % at "
                f"cycle {test.last_cycle}"
            )
    for cell in cells:
        cell.refresh_from_db()
    context.items["cells"] = cells
    context.log.append(f"cells: {len(cells)} cells for {scientist.username} to compare on /cells/figure1/")
