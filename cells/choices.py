"""Choices of the cells app: formats, stacking, connection, anodes, densification, cycling and events."""

from __future__ import annotations

from django.db import models

from assbtrack.tracing.choices import LineageRole
from cells import energy, tiers


class CellFormat(models.TextChoices):
    PELLET = "pellet", "Pellet (lab die)"
    SINGLE_LAYER_POUCH = "single_layer_pouch", "Single-layer pouch"
    MULTI_LAYER_POUCH = "multi_layer_pouch", "Multi-layer pouch"


# A pellet and a single-layer pouch hold exactly one repeat unit.
SINGLE_LAYER_FORMATS = (CellFormat.PELLET, CellFormat.SINGLE_LAYER_POUCH)


class Stacking(models.TextChoices):
    SINGLE_SHEET = "single_sheet", "Single sheet"
    Z_FOLD = "z_fold", "Z-fold"
    WINDING = "winding", "Winding"


class Connection(models.TextChoices):
    PARALLEL = "parallel", "Parallel (bi-layer)"
    SERIES = "series", "Series (bipolar)"


class AnodeType(models.TextChoices):
    LI_METAL = "li_metal", "Lithium metal"
    LI_IN = "li_in", "Li-In alloy"
    GRAPHITE = "graphite", "Graphite"
    SILICON = "silicon", "Silicon"
    ANODE_FREE = "anode_free", "Anode-free (bare current collector)"


# Anode types whose layer is an anode sheet cut from an anode film; the metal anodes may also be a foil lot.
SHEET_ANODE_TYPES = (AnodeType.GRAPHITE, AnodeType.SILICON)
FOIL_ANODE_TYPES = (AnodeType.LI_METAL, AnodeType.LI_IN)
# Anode types the stack_energy model treats as a composite layer with a recipe and a porosity.
COMPOSITE_SHEET_ANODES = (AnodeType.GRAPHITE, AnodeType.SILICON, AnodeType.LI_IN)

# Average voltage of each anode against Li/Li⁺ (V): the values of the paper's Figure 1 presets.
DEFAULT_ANODE_VOLTAGE_V = {
    AnodeType.LI_METAL: 0.0,
    AnodeType.ANODE_FREE: 0.0,
    AnodeType.LI_IN: 0.62,
    AnodeType.GRAPHITE: 0.15,
    AnodeType.SILICON: 0.4,
}
# Average discharge voltage of a layered-oxide (NCM811) cathode against Li/Li⁺ (V).
DEFAULT_CATHODE_VOLTAGE_V = 3.8

assert set(AnodeType.values) == set(energy.ANODE_TYPES), "anode types must match the stack_energy model"


class ScaleTier(models.TextChoices):
    LABORATORY = "laboratory", "Laboratory (< 0.1 Ah)"
    PILOT = "pilot", "Pilot (0.1–10 Ah)"
    PRODUCTION = "production", "Production (> 10 Ah)"


assert tuple(ScaleTier.values) == tiers.SCALE_TIERS, "scale tiers must match cells.tiers"


class CollectorMaterial(models.TextChoices):
    NONE = "", "None"
    ALUMINIUM = "al", "Aluminium"
    NICKEL = "ni", "Nickel"
    COPPER = "cu", "Copper"
    STAINLESS_STEEL = "stainless_steel", "Stainless steel"


COLLECTOR_DENSITY_G_PER_CM3 = {
    CollectorMaterial.ALUMINIUM: 2.70,
    CollectorMaterial.NICKEL: 8.91,
    CollectorMaterial.COPPER: 8.96,
    CollectorMaterial.STAINLESS_STEEL: 7.90,
}
# Default current collectors of a pouch cell (the Figure 1 presets): Al on the cathode, Ni on the anode
# (copper reacts with sulfide electrolytes).
DEFAULT_COLLECTORS = {
    "cathode": (CollectorMaterial.ALUMINIUM, 12.0),
    "anode": (CollectorMaterial.NICKEL, 10.0),
}
DEFAULT_COLLECTOR_THICKNESS_UM = {
    CollectorMaterial.ALUMINIUM: 12.0,
    CollectorMaterial.NICKEL: 10.0,
    CollectorMaterial.COPPER: 10.0,
    CollectorMaterial.STAINLESS_STEEL: 10.0,
}


class DensificationMethod(models.TextChoices):
    LINE_PRESSING = "line_pressing", "Line pressing (calender)"
    UNIAXIAL = "uniaxial", "Uniaxial pressing"
    ISOSTATIC = "isostatic", "Isostatic pressing (WIP/CIP)"


class CyclerReader(models.TextChoices):
    CSV = "csv", "Plain CSV with a column mapping"
    NAVANI = "navani", "Cycler file read by navani"


# File endings navani reads (BioLogic, Arbin, Maccor/Ivium text, Arbin/Landt Excel, Neware, Battery Data Format).
NAVANI_EXTENSIONS = (".mpr", ".mpt", ".res", ".txt", ".xlsx", ".xls", ".nda", ".ndax", ".bdf", ".parquet", ".gz")
CSV_EXTENSIONS = (".csv", ".tsv")


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the worker"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"


class CellEventKind(models.TextChoices):
    OCV_CHECK = "ocv_check", "OCV check"
    SHORT = "short", "Short circuit"
    DISASSEMBLY = "disassembly", "Disassembly"
    OTHER = "other", "Other"


# The lineage roles by which a sheet (or a foil) goes into a cell's stack.
LAYER_ROLES = (LineageRole.CATHODE_LAYER, LineageRole.SEPARATOR_LAYER, LineageRole.ANODE_LAYER)

# Limits of what a cell record and a cycler upload may hold.
MAX_LAYERS = 200
MAX_FOOTPRINT_MM = 5000.0
MAX_PRESSURE_MPA = 1000.0
MAX_CYCLER_FILE_BYTES = 500 * 1024 * 1024

# Job kinds of the cells app (their handlers are registered by ``cells.tasks``).
JOB_CELL_STACK_ENERGY = "cell_stack_energy"
JOB_CYCLING_IMPORT = "cells_cycling_import"
JOB_CYCLING_PLOTS = "cells_cycling_plots"
JOB_FIGURE1 = "cells_figure1"
JOB_RETENTION_TREND = "cells_retention_trend"
