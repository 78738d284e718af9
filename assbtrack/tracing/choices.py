"""Kinds, statuses, units and lineage roles of traced items: one place for the whole project."""

from django.db import models


class ItemKind(models.TextChoices):
    MATERIAL_LOT = "material_lot", "Material lot"
    SSE_BATCH = "sse_batch", "SSE synthesis batch"
    CATHODE_FILM = "cathode_film", "Cathode film"
    ANODE_FILM = "anode_film", "Anode film"
    SEPARATOR_FILM = "separator_film", "Separator film"
    SHEET = "sheet", "Sheet"
    CELL = "cell", "Cell"
    MODULE = "module", "Module"


# The human code of an item is PREFIX-000042, numbered without gaps per kind.
KIND_PREFIX: dict[str, str] = {
    ItemKind.MATERIAL_LOT: "LOT",
    ItemKind.SSE_BATCH: "SSE",
    ItemKind.CATHODE_FILM: "CAT",
    ItemKind.ANODE_FILM: "ANO",
    ItemKind.SEPARATOR_FILM: "SEP",
    ItemKind.SHEET: "SHT",
    ItemKind.CELL: "CELL",
    ItemKind.MODULE: "MOD",
}
CODE_DIGITS = 6


class ItemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"
    CONSUMED = "consumed", "Consumed"
    QUARANTINED = "quarantined", "Quarantined"
    REJECTED = "rejected", "Rejected"


HELD_STATUSES = (ItemStatus.QUARANTINED, ItemStatus.REJECTED)


class QuantityUnit(models.TextChoices):
    GRAM = "g", "g"
    MILLIGRAM = "mg", "mg"
    KILOGRAM = "kg", "kg"
    PIECE = "pcs", "pieces"
    SQUARE_CENTIMETRE = "cm2", "cm²"


class LineageRole(models.TextChoices):
    PRECURSOR = "precursor", "Precursor"
    ACTIVE_MATERIAL = "active_material", "Active material"
    ELECTROLYTE = "electrolyte", "Solid electrolyte"
    CONDUCTIVE_ADDITIVE = "conductive_additive", "Conductive additive"
    BINDER = "binder", "Binder"
    CUT_FROM = "cut_from", "Cut from film"
    CATHODE_LAYER = "cathode_layer", "Cathode layer"
    SEPARATOR_LAYER = "separator_layer", "Separator layer"
    ANODE_LAYER = "anode_layer", "Anode layer"
    CURRENT_COLLECTOR = "current_collector", "Current collector"
    MODULE_CELL = "module_cell", "Module cell"
    OTHER = "other", "Other"
