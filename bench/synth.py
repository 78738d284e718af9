"""A synthetic lab: lots → SSE batches → films → sheets → cells → modules, with shared ancestors.

The lab is built in *campaigns* (one per unit of ``--scale``; about 10⁴ traced items and 2·10⁴ lineage
edges each), so memory stays bounded and the lab grows the way a real one does: each campaign opens new
lots as the old ones run out, makes batches from them, films from the batches, cuts sheets, builds cells
and assembles modules. Work is local in time (a film uses recent batches, a cell uses sheets of recent
films), and a few precursor lots are big enough to feed a hundred batches: their downstream trace is
thousands of items, which is what a recall looks like.

Everything is written through the bulk services (``items_bulk_create``, ``edges_bulk_create``), so mass
balance and units are checked exactly as for an import. The plan is pure Python (``plan_campaign``) and
seeded, so the same ``--scale`` and ``--seed`` give the same lab.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from assbtrack.access.models import Organisation, Project
from assbtrack.access.roles import PARTNER, SCIENTIST, TECHNICIAN
from assbtrack.access.services import organisation_create, project_create, project_grant, user_create
from assbtrack.tracing.choices import ItemKind, LineageRole, QuantityUnit
from assbtrack.tracing.services import edges_bulk_create, items_bulk_create

SYNTH_PROJECT = "synthetic-lab"
SYNTH_OTHER_PROJECT = "synthetic-other"
SYNTH_PASSWORD = "synthetic-lab-password"
SYNTH_USERS = {
    "technician": ("synth-technician", TECHNICIAN),
    "scientist": ("synth-scientist", SCIENTIST),
    "partner": ("synth-partner", PARTNER),
}
SYNTH_ADMIN = "synth-admin"

# One campaign at scale 1 (the counts shrink with a fractional scale, never below 1).
CELLS_PER_CAMPAIGN = 1400
LAYERS_CHOICES = (1, 1, 2, 2, 3, 4)  # layers per cell: lab single-layer pouches to small multi-layer stacks
LI_FOIL_SHARE = 0.5  # cells whose anode is Li foil from a lot; the others use anode sheets
SHEETS_PER_FILM = 12
SHEET_AREA_CM2 = Decimal("20")
CELLS_PER_MODULE = 12
MODULE_SHARE = 0.8  # cells that end up in a module
SEPARATOR_SSE_G = Decimal("6.0")  # SSE per separator film
CATHODE_SSE_G = Decimal("4.5")
ANODE_SSE_G = Decimal("2.0")
BATCH_MASS_G = (Decimal("20"), Decimal("30"), Decimal("40"))
# Li6PS5Cl from Li2S, P2S5 and LiCl: mass fractions of the precursors (5 Li2S + P2S5 + 2 LiCl per 2 f.u.).
PRECURSOR_FRACTIONS = {"Li2S": Decimal("0.428"), "P2S5": Decimal("0.414"), "LiCl": Decimal("0.158")}
BATCH_YIELD = Decimal("0.95")


@dataclass(frozen=True)
class LotType:
    key: str
    chemical: str
    formula: str
    lot_g: Decimal  # the size of one lot; a new one is opened when the last cannot give what is asked


# The precursor lots are the busy shared ancestors: a lot feeds 35 to 50 batches, and through them about
# 4,000 to 5,000 films, sheets, cells and modules. A binder lot feeds every film of a campaign (10⁴ items).
LOT_TYPES = {
    "Li2S": LotType("Li2S", "Lithium sulfide", "Li2S", Decimal("600")),
    "P2S5": LotType("P2S5", "Phosphorus pentasulfide", "P2S5", Decimal("500")),
    "LiCl": LotType("LiCl", "Lithium chloride", "LiCl", Decimal("230")),
    "NCM": LotType("NCM", "NCM811 cathode active material", "LiNi0.8Co0.1Mn0.1O2", Decimal("5000")),
    "VGCF": LotType("VGCF", "Vapour-grown carbon fibre", "C", Decimal("500")),
    "PTFE": LotType("PTFE", "PTFE binder powder", "(C2F4)n", Decimal("500")),
    "Si": LotType("Si", "Micro-silicon anode powder", "Si", Decimal("1000")),
    "Li": LotType("Li", "Lithium foil, 30 µm", "Li", Decimal("100")),
}


@dataclass
class LotPool:
    """Lots of one type, opened one after the other as they run out."""

    lot_type: LotType
    lots: list[int] = field(default_factory=list)  # indices into CampaignPlan.lots
    remaining: Decimal = Decimal(0)

    def draw(self, plan: CampaignPlan, grams: Decimal) -> int:
        if grams > self.remaining:
            plan.lots.append(self.lot_type)
            self.lots.append(len(plan.lots) - 1)
            self.remaining = self.lot_type.lot_g
        self.remaining -= grams
        return self.lots[-1]


@dataclass
class FilmPlan:
    film_kind: str  # an ItemKind: cathode, separator or anode film
    components: list[tuple[str, int, Decimal, str]]  # ("lot"|"batch", index, grams, role)
    sheets: int
    area_cm2: Decimal


@dataclass
class CellPlan:
    layers: list[tuple[int, int, int | None]]  # sheet indices: cathode, separator, anode (None: Li foil)
    li_lot: tuple[int, Decimal] | None  # (lot index, grams) for a Li-foil anode


@dataclass
class CampaignPlan:
    lots: list[LotType] = field(default_factory=list)
    batches: list[tuple[list[tuple[int, Decimal]], Decimal]] = field(default_factory=list)  # precursors, mass
    films: list[FilmPlan] = field(default_factory=list)
    sheets: list[int] = field(default_factory=list)  # film index of each sheet
    cells: list[CellPlan] = field(default_factory=list)
    modules: list[list[int]] = field(default_factory=list)  # cell indices

    def counts(self) -> dict[str, int]:
        return {"lots": len(self.lots), "batches": len(self.batches), "films": len(self.films),
                "sheets": len(self.sheets), "cells": len(self.cells), "modules": len(self.modules)}


def _grams(value: float) -> Decimal:
    return Decimal(f"{value:.3f}")


def plan_campaign(rng: random.Random, factor: float) -> CampaignPlan:
    """One campaign's lab work, as indices and amounts; ``factor`` ≤ 1 shrinks it (a fractional scale)."""
    plan = CampaignPlan()
    pools = {key: LotPool(lot_type) for key, lot_type in LOT_TYPES.items()}

    # Cells first: they decide how many sheets, hence films, hence batches the campaign needs.
    n_cells = max(1, round(CELLS_PER_CAMPAIGN * factor))
    layer_counts = [rng.choice(LAYERS_CHOICES) for _ in range(n_cells)]
    li_anode = [rng.random() < LI_FOIL_SHARE for _ in range(n_cells)]
    need = {
        ItemKind.CATHODE_FILM: sum(layer_counts),
        ItemKind.SEPARATOR_FILM: sum(layer_counts),
        ItemKind.ANODE_FILM: sum(k for k, li in zip(layer_counts, li_anode) if not li),
    }

    # Films, made in an interleaved order (the lab runs all three lines), each cut into sheets.
    film_kinds: list[str] = []
    for kind, sheets_needed in need.items():
        film_kinds += [kind] * math.ceil(sheets_needed / SHEETS_PER_FILM)
    rng.shuffle(film_kinds)
    sse_need = sum({ItemKind.CATHODE_FILM: CATHODE_SSE_G, ItemKind.SEPARATOR_FILM: SEPARATOR_SSE_G,
                    ItemKind.ANODE_FILM: ANODE_SSE_G}[kind] for kind in film_kinds)

    # Batches: enough SSE for the films, plus a margin; each drawn from the current precursor lots.
    batch_stock: list[Decimal] = []
    made = Decimal(0)
    while made < sse_need * Decimal("1.15") or not plan.batches:
        mass = rng.choice(BATCH_MASS_G)
        precursor_g = mass / BATCH_YIELD
        precursors = []
        for key, fraction in PRECURSOR_FRACTIONS.items():
            grams = _grams(float(precursor_g * fraction) * rng.uniform(0.99, 1.01))
            precursors.append((pools[key].draw(plan, grams), grams))
        plan.batches.append((precursors, mass))
        batch_stock.append(mass)
        made += mass

    next_batch = 0  # films use the oldest batch with SSE left, then the next: locality in time

    def draw_sse(grams: Decimal) -> list[tuple[int, Decimal]]:
        nonlocal next_batch
        uses = []
        while grams > 0:
            take = min(grams, batch_stock[next_batch])
            if take > 0:
                uses.append((next_batch, take))
                batch_stock[next_batch] -= take
                grams -= take
            if batch_stock[next_batch] <= 0:
                next_batch += 1
        return uses

    sheets_by_kind: dict[str, list[int]] = {kind: [] for kind in need}
    for kind in film_kinds:
        components: list[tuple[str, int, Decimal, str]] = []
        if kind == ItemKind.CATHODE_FILM:
            sse = CATHODE_SSE_G
            for key, grams, role in (("NCM", _grams(rng.uniform(12, 14)), LineageRole.ACTIVE_MATERIAL),
                                     ("VGCF", _grams(rng.uniform(0.2, 0.3)), LineageRole.CONDUCTIVE_ADDITIVE),
                                     ("PTFE", _grams(rng.uniform(0.1, 0.2)), LineageRole.BINDER)):
                components.append(("lot", pools[key].draw(plan, grams), grams, role))
        elif kind == ItemKind.SEPARATOR_FILM:
            sse = SEPARATOR_SSE_G
            grams = _grams(rng.uniform(0.05, 0.1))
            components.append(("lot", pools["PTFE"].draw(plan, grams), grams, LineageRole.BINDER))
        else:
            sse = ANODE_SSE_G
            for key, grams, role in (("Si", _grams(rng.uniform(3, 4)), LineageRole.ACTIVE_MATERIAL),
                                     ("PTFE", _grams(rng.uniform(0.05, 0.1)), LineageRole.BINDER)):
                components.append(("lot", pools[key].draw(plan, grams), grams, role))
        for batch_index, grams in draw_sse(sse):
            components.append(("batch", batch_index, grams, LineageRole.ELECTROLYTE))
        film_index = len(plan.films)
        plan.films.append(FilmPlan(kind, components, SHEETS_PER_FILM,
                                   SHEET_AREA_CM2 * SHEETS_PER_FILM * Decimal("1.1")))
        for _ in range(SHEETS_PER_FILM):
            sheets_by_kind[kind].append(len(plan.sheets))
            plan.sheets.append(film_index)

    # Cells take sheets in the order they were cut, shuffled within a small window (a stack of sheets).
    for sheets in sheets_by_kind.values():
        for start in range(0, len(sheets), 24):
            window = sheets[start:start + 24]
            rng.shuffle(window)
            sheets[start:start + 24] = window
    cursor = {kind: 0 for kind in need}

    def take(kind: str) -> int:
        sheet = sheets_by_kind[kind][cursor[kind]]
        cursor[kind] += 1
        return sheet

    for layers, li in zip(layer_counts, li_anode):
        stack = [(take(ItemKind.CATHODE_FILM), take(ItemKind.SEPARATOR_FILM),
                  None if li else take(ItemKind.ANODE_FILM)) for _ in range(layers)]
        li_lot = None
        if li:
            grams = _grams(0.11 * layers)  # 30 µm of Li over about 20 cm² per layer
            li_lot = (pools["Li"].draw(plan, grams), grams)
        plan.cells.append(CellPlan(stack, li_lot))

    # At least one module, also in a tiny lab.
    in_modules = list(range(n_cells))[: max(int(n_cells * MODULE_SHARE) // CELLS_PER_MODULE * CELLS_PER_MODULE,
                                            min(n_cells, CELLS_PER_MODULE))]
    plan.modules = [in_modules[i:i + CELLS_PER_MODULE] for i in range(0, len(in_modules), CELLS_PER_MODULE)]
    return plan


@dataclass
class SynthLab:
    project: Project
    other_project: Project
    users: dict[str, User]
    history: bool = False


def lab_description(scale: float, seed: int) -> str:
    return f"Generated by manage.py synth_lab --scale {scale:g} --seed {seed} for the benchmark."


def existing_lab() -> str | None:
    """How the synthetic lab in this database was built (its project's description), or None."""
    return Project.objects.filter(code=SYNTH_PROJECT).values_list("description", flat=True).first()


def lab_setup(*, scale: float, seed: int) -> SynthLab:
    """The synthetic lab's project, a second project (for scoping), one user per role and an admin."""
    if existing_lab() is not None:
        raise ValueError(f"this database holds a synthetic lab already ({existing_lab()}); "
                         "build it in a fresh database")
    with transaction.atomic():
        project = project_create(code=SYNTH_PROJECT, name="Synthetic lab", description=lab_description(scale, seed))
        other = project_create(code=SYNTH_OTHER_PROJECT, name="Synthetic lab, other project")
        organisation = Organisation.objects.filter(name="Synthetic partner").first() or organisation_create(
            name="Synthetic partner"
        )
        project_grant(organisation=organisation, project=project)
        users = {}
        for key, (username, role) in SYNTH_USERS.items():
            users[key] = user_create(username=username, password=SYNTH_PASSWORD, role=role,
                                     organisation=organisation if role == PARTNER else None)
        admin = User.objects.create_superuser(username=SYNTH_ADMIN, password=SYNTH_PASSWORD, email="")
        users["admin"] = admin
    return SynthLab(project, other, users)


def _housing_design(lab: SynthLab):
    """The lab's module housing (one design, made through the service like any other)."""
    from modules.models import HousingDesign
    from modules.services import housing_design_create

    if "housing" not in lab.__dict__:
        lab.__dict__["housing"] = (
            HousingDesign.objects.filter(project=lab.project).first()
            or housing_design_create(project=lab.project, user=lab.users["scientist"], name="Steel end plates, 4 bolts",
                                     plate_length_mm=220, plate_width_mm=160, plate_thickness_mm=12,
                                     target_stack_pressure_mpa=5.0, bolt_count=4, bolt_size="M8")
        )
    return lab.__dict__["housing"]


@dataclass
class CampaignIds:
    """The primary keys the campaign's items got, per layer, in plan order."""

    lots: list[int] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    films: list[int] = field(default_factory=list)
    sheets: list[int] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)
    modules: list[int] = field(default_factory=list)
    # Figures a later layer needs: areal capacity (mAh/cm²) per film index, energy (Wh) and mass (g) per cell.
    film_capacity: dict[int, float] = field(default_factory=dict)
    cell_energy_wh: dict[int, float] = field(default_factory=dict)
    cell_mass_g: dict[int, float] = field(default_factory=dict)
    cell_voltage_v: dict[int, float] = field(default_factory=dict)
    cell_capacity_ah: dict[int, float] = field(default_factory=dict)


# Hooks the domain apps' records are written by, layer by layer: (lab, plan, ids) -> rows written.
RecordWriter = Callable[[SynthLab, CampaignPlan, CampaignIds], int]
RECORD_WRITERS: dict[str, RecordWriter] = {}


def _items(lab: SynthLab, kind: str, quantities: list, unit: str, history: bool) -> list[int]:
    user = lab.users["technician"]
    made = items_bulk_create(kind=kind, project=lab.project, user=user, quantities=quantities, unit=unit,
                             history=history)
    return [item.pk for item in made]


def _edges(lab: SynthLab, edges: list[tuple], history: bool) -> int:
    edges_bulk_create(edges=edges, user=lab.users["technician"], history=history)
    return len(edges)


def write_campaign(lab: SynthLab, plan: CampaignPlan) -> tuple[CampaignIds, int, int, int]:
    """Write one campaign in one transaction, layer by layer. Returns the ids, items, edges and records."""
    history = lab.history
    ids = CampaignIds()
    grams, pcs, cm2 = QuantityUnit.GRAM, QuantityUnit.PIECE, QuantityUnit.SQUARE_CENTIMETRE
    edges = 0
    rows = 0
    with transaction.atomic():
        ids.lots = _items(lab, ItemKind.MATERIAL_LOT, [lot.lot_g for lot in plan.lots], grams, history)
        rows += RECORD_WRITERS["lots"](lab, plan, ids) if "lots" in RECORD_WRITERS else 0

        ids.batches = _items(lab, ItemKind.SSE_BATCH, [mass for _, mass in plan.batches], grams, history)
        edges += _edges(lab, [
            (ids.lots[lot], ids.batches[b], g, grams, LineageRole.PRECURSOR)
            for b, (precursors, _) in enumerate(plan.batches) for lot, g in precursors
        ], history)
        rows += RECORD_WRITERS["batches"](lab, plan, ids) if "batches" in RECORD_WRITERS else 0

        ids.films = []
        for kind in (ItemKind.CATHODE_FILM, ItemKind.SEPARATOR_FILM, ItemKind.ANODE_FILM):
            indices = [i for i, film in enumerate(plan.films) if film.film_kind == kind]
            made = _items(lab, kind, [plan.films[i].area_cm2 for i in indices], cm2, history)
            ids.films += list(zip(indices, made))
        ids.films = [pk for _, pk in sorted(ids.films)]
        film_edges: dict[tuple[int, int, str], tuple] = {}
        for f, film in enumerate(plan.films):
            for source, index, g, role in film.components:
                parent = ids.lots[index] if source == "lot" else ids.batches[index]
                key = (parent, ids.films[f], role)
                earlier = film_edges.get(key)
                film_edges[key] = (parent, ids.films[f], g + (earlier[2] if earlier else 0), grams, role)
        edges += _edges(lab, list(film_edges.values()), history)
        rows += RECORD_WRITERS["films"](lab, plan, ids) if "films" in RECORD_WRITERS else 0

        ids.sheets = _items(lab, ItemKind.SHEET, [1] * len(plan.sheets), pcs, history)
        edges += _edges(lab, [
            (ids.films[film], ids.sheets[s], SHEET_AREA_CM2, cm2, LineageRole.CUT_FROM)
            for s, film in enumerate(plan.sheets)
        ], history)
        rows += RECORD_WRITERS["sheets"](lab, plan, ids) if "sheets" in RECORD_WRITERS else 0

        ids.cells = _items(lab, ItemKind.CELL, [1] * len(plan.cells), pcs, history)
        cell_edges = []
        for c, cell in enumerate(plan.cells):
            for cathode, separator, anode in cell.layers:
                cell_edges.append((ids.sheets[cathode], ids.cells[c], 1, pcs, LineageRole.CATHODE_LAYER))
                cell_edges.append((ids.sheets[separator], ids.cells[c], 1, pcs, LineageRole.SEPARATOR_LAYER))
                if anode is not None:
                    cell_edges.append((ids.sheets[anode], ids.cells[c], 1, pcs, LineageRole.ANODE_LAYER))
            if cell.li_lot is not None:
                lot, g = cell.li_lot
                cell_edges.append((ids.lots[lot], ids.cells[c], g, grams, LineageRole.ANODE_LAYER))
        edges += _edges(lab, cell_edges, history)
        rows += RECORD_WRITERS["cells"](lab, plan, ids) if "cells" in RECORD_WRITERS else 0

        ids.modules = _items(lab, ItemKind.MODULE, [1] * len(plan.modules), pcs, history)
        edges += _edges(lab, [
            (ids.cells[c], ids.modules[m], 1, pcs, LineageRole.MODULE_CELL)
            for m, cells in enumerate(plan.modules) for c in cells
        ], history)
        rows += RECORD_WRITERS["modules"](lab, plan, ids) if "modules" in RECORD_WRITERS else 0
    items = sum(len(getattr(ids, layer)) for layer in ("lots", "batches", "films", "sheets", "cells", "modules"))
    return ids, items, edges, rows


def campaign_factors(scale: float) -> list[float]:
    """Scale 100 is 100 full campaigns; 2.5 is three of 0.833; 0.01 is one campaign a hundredth the size."""
    if scale <= 0:
        raise ValueError("the scale must be greater than 0")
    if scale < 1:
        return [scale]
    count = math.ceil(scale)
    return [scale / count] * count


@dataclass
class SynthResult:
    items: int = 0
    edges: int = 0
    records: int = 0
    seconds: float = 0.0
    campaigns: int = 0


def synth_lab(*, scale: float, seed: int = 1, history: bool = False,
              log: Callable[[str], None] = lambda line: None) -> SynthResult:
    """Build the synthetic lab at ``scale`` into the current database (which must not hold one yet)."""
    started = time.monotonic()
    lab = lab_setup(scale=scale, seed=seed)
    lab.history = history
    result = SynthResult()
    factors = campaign_factors(scale)
    for number, factor in enumerate(factors, start=1):
        plan = plan_campaign(random.Random(seed * 1_000_003 + number), factor)
        _ids, items, edges, records = write_campaign(lab, plan)
        result.items += items
        result.edges += edges
        result.records += records
        result.campaigns = number
        elapsed = time.monotonic() - started
        log(f"campaign {number}/{len(factors)}: {items:,} items, {edges:,} edges, {records:,} records "
            f"(total {result.items:,} items, {result.edges:,} edges, {result.records:,} records, {elapsed:,.0f} s)")
    # Fresh statistics, as autovacuum (PostgreSQL) or a routine ANALYZE (SQLite) would leave them: without
    # them the planner guesses the sizes of tables that just grew a million rows.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result.seconds = time.monotonic() - started
    return result



# --- the domain records of each layer, through the apps' bulk services ----------------------------------------

# Per lot type: material role, density (g/cm³), specific capacity (mAh/g) or None, supplier.
LOT_DETAILS = {
    "Li2S": ("precursor", 1.66, None, "Supplier A"),
    "P2S5": ("precursor", 2.09, None, "Supplier B"),
    "LiCl": ("precursor", 2.07, None, "Supplier B"),
    "NCM": ("active_material", 4.75, 200.0, "Supplier C"),
    "VGCF": ("carbon", 2.0, None, "Supplier D"),
    "PTFE": ("binder", 2.2, None, "Supplier E"),
    "Si": ("active_material", 2.33, 3000.0, "Supplier F"),
    "Li": ("foil", 0.534, 3860.0, "Supplier G"),
}
SSE_DENSITY_G_PER_CM3 = 1.64
SSE_CONDUCTIVITY_MS_PER_CM = 2.5
CATHODE_VOLTAGE_V = 3.8
ANODE_VOLTAGE_V = {"li_metal": 0.0, "silicon": 0.4}


def _rng(plan: CampaignPlan, layer: str) -> random.Random:
    return random.Random(f"{len(plan.cells)}-{len(plan.sheets)}-{layer}")


def write_lot_records(lab: SynthLab, plan: CampaignPlan, ids: CampaignIds) -> int:
    from datetime import date, timedelta

    from materials.services import lots_bulk_create

    rng = _rng(plan, "lots")
    rows = []
    for index, lot in enumerate(plan.lots):
        role, density, capacity, supplier = LOT_DETAILS[lot.key]
        rows.append({
            "item_id": ids.lots[index], "chemical_name": lot.chemical, "formula": lot.formula, "role": role,
            "supplier": supplier, "supplier_lot": f"{lot.key}-{rng.randrange(10**6):06d}",
            "received_on": date(2026, 1, 1) - timedelta(days=rng.randrange(1500)),
            "purity_percent": 99.9, "storage_atmosphere": "argon", "density_g_per_cm3": density,
            "specific_capacity_mah_per_g": capacity,
        })
    return len(lots_bulk_create(rows=rows, user=lab.users["technician"], history=lab.history))


def write_batch_records(lab: SynthLab, plan: CampaignPlan, ids: CampaignIds) -> int:
    from django.utils import timezone

    from materials.services import batches_bulk_create, measurements_bulk_create

    rng = _rng(plan, "batches")
    rows, measurements = [], []
    for index, (precursors, mass) in enumerate(plan.batches):
        item_id = ids.batches[index]
        rows.append({
            "item_id": item_id, "composition": "Li6PS5Cl", "sse_class": "sulfide", "route": "mechanochemical",
            "mill": "planetary mill", "jar_material": "zirconia", "media_material": "zirconia",
            "ball_diameter_mm": 5.0, "ball_to_powder_ratio": 30.0, "speed_rpm": float(rng.choice((450, 510, 550))),
            "milling_time_h": float(rng.choice((10, 15, 20, 25))), "heat_treatment_temperature_c": 550.0,
            "heat_treatment_time_h": 5.0, "heat_treatment_atmosphere": "argon", "environment": "glovebox",
            "glovebox_o2_ppm": round(rng.uniform(0.1, 1.0), 2), "glovebox_h2o_ppm": round(rng.uniform(0.1, 1.0), 2),
            "precursor_mass_g": float(sum(grams for _lot, grams in precursors)), "batch_mass_g": float(mass),
            "density_g_per_cm3": SSE_DENSITY_G_PER_CM3,
        })
        # A room-temperature EIS pellet for every batch, a second temperature for some.
        for temperature_c in (25.0, 60.0) if rng.random() < 0.3 else (25.0,):
            sigma = SSE_CONDUCTIVITY_MS_PER_CM * rng.uniform(0.7, 1.3) * (3.0 if temperature_c > 25 else 1.0)
            thickness_mm, area_cm2 = round(rng.uniform(0.6, 1.0), 3), 0.785
            resistance = (thickness_mm / 10) / (sigma / 1000 * area_cm2)
            measurements.append({
                "batch_id": item_id, "temperature_c": temperature_c, "thickness_mm": thickness_mm,
                "diameter_mm": 10.0, "area_cm2": area_cm2, "stack_pressure_mpa": 375.0,
                "resistance_ohm": resistance, "conductivity_ms_per_cm": (thickness_mm / 10) / (resistance * area_cm2)
                * 1000, "measured_at": timezone.now(), "created_by_id": lab.users["technician"].pk,
            })
    user = lab.users["technician"]
    written = len(batches_bulk_create(rows=rows, user=user, history=lab.history))
    return written + len(measurements_bulk_create(rows=measurements, user=user, history=lab.history))


def write_film_records(lab: SynthLab, plan: CampaignPlan, ids: CampaignIds) -> int:
    from django.utils import timezone

    from electrodes.services import films_bulk_create

    rng = _rng(plan, "films")
    rows, components = [], []
    densities = {key: details[1] for key, details in LOT_DETAILS.items()}
    capacities = {key: details[2] for key, details in LOT_DETAILS.items()}
    for index, film in enumerate(plan.films):
        item_id = ids.films[index]
        parts: dict[int, list] = {}
        for source, source_index, grams, role in film.components:
            if source == "lot":
                lot = plan.lots[source_index]
                key = (ids.lots[source_index], role)
                name, density, capacity = lot.chemical, densities[lot.key], capacities[lot.key]
            else:
                key = (ids.batches[source_index], role)
                name, density, capacity = "Li6PS5Cl", SSE_DENSITY_G_PER_CM3, None
            if key in parts:
                parts[key][1] += float(grams)
            else:
                parts[key] = [name, float(grams), density, capacity, role]
        mass_g = sum(part[1] for part in parts.values())
        area = float(film.area_cm2)
        volume_cm3 = sum(part[1] / part[2] for part in parts.values())
        thickness_um = {"separator_film": 40.0, "anode_film": 60.0}.get(film.film_kind, 120.0) * rng.uniform(0.9, 1.1)
        density = mass_g / (area * thickness_um * 1e-4)
        theoretical = mass_g / volume_cm3
        active = sum(part[1] for part in parts.values() if part[4] == "active_material")
        capacity_mah = sum(part[1] * part[3] for part in parts.values() if part[3] and part[4] == "active_material")
        ids.film_capacity[index] = capacity_mah / area if capacity_mah else 0.0
        binder = sum(part[1] for part in parts.values() if part[4] == "binder")
        row = {
            "item_id": item_id, "process": "dry", "mixer_type": "planetary_centrifugal", "mixing_speed_rpm": 2000.0,
            "mixing_time_s": 120.0, "batch_size_g": round(mass_g, 3), "area_cm2": area,
            "thickness_um": round(thickness_um, 1), "mass_g": round(mass_g, 4), "free_standing": True,
            "result_recorded_at": timezone.now(), "result_recorded_by_id": lab.users["technician"].pk,
            "areal_loading_mg_per_cm2": mass_g / area * 1000, "density_g_per_cm3": density,
            "theoretical_density_g_per_cm3": theoretical, "porosity": max(0.0, 1 - density / theoretical),
            "binder_fraction": binder / mass_g, "active_weight_fraction": active / mass_g if active else None,
            "areal_capacity_mah_per_cm2": ids.film_capacity[index] or None,
        }
        if film.film_kind == "separator_film":
            retention = rng.uniform(0.35, 0.6)
            row |= {"batch_conductivity_ms_per_cm": SSE_CONDUCTIVITY_MS_PER_CM,
                    "film_conductivity_ms_per_cm": SSE_CONDUCTIVITY_MS_PER_CM * retention,
                    "conductivity_retention": retention}
        rows.append(row)
        for position, (source_id, _role) in enumerate(parts, start=1):
            name, grams, part_density, capacity, role = parts[(source_id, _role)]
            components.append({
                "film_id": item_id, "source_id": source_id, "position": position, "role": role, "name": name,
                "mass_g": grams, "weight_fraction": grams / mass_g, "density_g_per_cm3": part_density,
                "specific_capacity_mah_per_g": capacity,
            })
    written = films_bulk_create(rows=rows, components=components, user=lab.users["technician"],
                                history=lab.history)
    return len(written) + len(components)


def write_sheet_records(lab: SynthLab, plan: CampaignPlan, ids: CampaignIds) -> int:
    from electrodes.services import sheets_bulk_create

    per_film: dict[int, int] = {}
    rows = []
    for index, film_index in enumerate(plan.sheets):
        number = per_film.get(film_index, 0)
        per_film[film_index] = number + 1
        rows.append({"item_id": ids.sheets[index], "film_id": ids.films[film_index],
                     "position": f"r{number // 4 + 1}c{number % 4 + 1}", "area_cm2": float(SHEET_AREA_CM2)})
    return len(sheets_bulk_create(rows=rows, user=lab.users["technician"], history=lab.history))


def write_cell_records(lab: SynthLab, plan: CampaignPlan, ids: CampaignIds) -> int:
    from cells.services import cells_bulk_create

    rng = _rng(plan, "cells")
    area = float(SHEET_AREA_CM2)
    rows, layers = [], []
    for index, cell in enumerate(plan.cells):
        item_id = ids.cells[index]
        anode_type = "li_metal" if cell.li_lot is not None else "silicon"
        anode_v = ANODE_VOLTAGE_V[anode_type]
        np_ratios, capacity_mah = [], 0.0
        for position, (cathode, separator, anode) in enumerate(cell.layers, start=1):
            cathode_mah = ids.film_capacity[plan.sheets[cathode]] * area
            if anode is None:
                lot_index, grams = cell.li_lot
                anode_grams = float(grams) / len(cell.layers)
                anode_mah = anode_grams * LOT_DETAILS["Li"][2]
            else:
                anode_mah = ids.film_capacity[plan.sheets[anode]] * area
            np_ratios.append(anode_mah / cathode_mah)
            capacity_mah += cathode_mah
            layers.append({
                "cell_id": item_id, "position": position, "cathode_id": ids.sheets[cathode],
                "separator_id": ids.sheets[separator], "anode_id": ids.sheets[anode] if anode is not None else None,
                "anode_lot_id": ids.lots[cell.li_lot[0]] if anode is None else None,
                "anode_mass_g": anode_grams if anode is None else None, "cathode_capacity_mah": cathode_mah,
                "anode_capacity_mah": anode_mah, "np_ratio": anode_mah / cathode_mah,
            })
        capacity_ah = capacity_mah / 1000
        voltage_v = CATHODE_VOLTAGE_V - anode_v
        mass_g = len(cell.layers) * 9.0 + 4.0
        measured_ah = capacity_ah * rng.uniform(0.85, 0.98)
        last_cycle = rng.choice((50, 100, 200, 300, 500))
        retention_last = rng.uniform(0.6, 0.97)
        ids.cell_energy_wh[index] = capacity_ah * voltage_v
        ids.cell_voltage_v[index] = voltage_v
        ids.cell_capacity_ah[index] = capacity_ah
        ids.cell_mass_g[index] = mass_g
        rows.append({
            "item_id": item_id, "cell_format": "single_layer_pouch" if len(cell.layers) == 1 else "multi_layer_pouch",
            "stacking": "single_sheet" if len(cell.layers) == 1 else "z_fold", "connection": "parallel",
            "length_mm": 50.0, "width_mm": 40.0, "edge_margin_mm": 1.0, "operating_stack_pressure_mpa": 5.0,
            "anode_type": anode_type, "cathode_voltage_v": CATHODE_VOLTAGE_V, "anode_voltage_v": anode_v,
            "cathode_collector": "al", "cathode_collector_thickness_um": 12.0, "anode_collector": "ni",
            "anode_collector_thickness_um": 10.0, "layer_count": len(cell.layers), "np_ratio": min(np_ratios),
            "nominal_capacity_ah": capacity_ah, "nominal_voltage_v": voltage_v,
            "scale_tier": "laboratory" if capacity_ah < 0.1 else ("pilot" if capacity_ah <= 10 else "production"),
            "measured_capacity_ah": measured_ah, "mass_g": mass_g,
            "specific_energy_wh_per_kg": measured_ah * voltage_v / (mass_g / 1000),
            "energy_density_wh_per_l": measured_ah * voltage_v / (50 * 40 * (0.25 * len(cell.layers) + 0.2) / 1e6),
            # The summary of the cell's cycling test, as an import stores it.
            "first_discharge_capacity_mah": measured_ah * 1000, "retention_at_100": None if last_cycle < 100
            else 1 - (1 - retention_last) * 100 / last_cycle, "retention_at_last": retention_last,
            "cycle_at_80_percent": None if retention_last > 0.8 else int(last_cycle * 0.2 / (1 - retention_last)),
            "last_cycle": last_cycle,
        })
    written = cells_bulk_create(rows=rows, layers=layers, user=lab.users["technician"], history=lab.history)
    return len(written) + len(layers)


def write_module_records(lab: SynthLab, plan: CampaignPlan, ids: CampaignIds) -> int:
    from datetime import date, timedelta

    from modules.services import modules_bulk_create

    housing = _housing_design(lab)
    rng = _rng(plan, "modules")
    rows, positions = [], []
    for index, cells in enumerate(plan.modules):
        item_id = ids.modules[index]
        series = 4 if len(cells) % 4 == 0 else len(cells)
        parallel = len(cells) // series
        energy_wh = sum(ids.cell_energy_wh[c] for c in cells)
        rows.append({
            "item_id": item_id, "housing_design_id": housing.pk, "series_count": series, "parallel_count": parallel,
            "assembled_on": date(2026, 1, 1) - timedelta(days=rng.randrange(1500)),
            "system_energy_kwh": energy_wh / 1000, "cells_mass_kg": sum(ids.cell_mass_g[c] for c in cells) / 1000,
            "nominal_voltage_v": series * sum(ids.cell_voltage_v[c] for c in cells) / len(cells),
            "nominal_capacity_ah": parallel * sum(ids.cell_capacity_ah[c] for c in cells) / len(cells),
            "applied_stack_pressure_mpa": 5.0,
        })
        positions += [{"module_id": item_id, "cell_id": ids.cells[c], "position": position}
                      for position, c in enumerate(cells, start=1)]
    written = modules_bulk_create(rows=rows, positions=positions, user=lab.users["technician"], history=lab.history)
    return len(written) + len(positions)


RECORD_WRITERS.update({
    "lots": write_lot_records,
    "batches": write_batch_records,
    "films": write_film_records,
    "sheets": write_sheet_records,
    "cells": write_cell_records,
    "modules": write_module_records,
})
