"""Cells test data, built through the cells services exactly as the build form builds it.

``make_cell`` cuts its sheets from films made by the electrodes factories (or from ``films`` handed
in, so that many cells can share three films) and, for a lithium-metal cell, uses a lithium foil lot.

The default cell by hand (electrodes factory recipes): cathode sheets of 10 cm² at 3.84 mAh/cm² hold
38.4 mAh each; the layer voltage is 3.8 V − 0 V = 3.8 V; 0.02 g of lithium foil per layer holds
0.02 · 3861 = 77.22 mAh, so N/P = 77.22 / 38.4 = 2.0109. One layer: 0.0384 Ah (laboratory tier).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.tracing.choices import ItemKind
from cells.choices import AnodeType, CellFormat, Connection, Stacking
from cells.models import Cell
from cells.services import cell_build, cell_energy_set
from electrodes.models import Film
from materials.choices import MaterialRole
from materials.models import MaterialLot
from tests.utils.factories_electrodes import make_film, make_sheets
from tests.utils.factories_materials import make_lot

LITHIUM_DENSITY_G_PER_CM3 = 0.534
LITHIUM_CAPACITY_MAH_PER_G = 3861.0
DEFAULT_FOIL_MASS_G = 0.02
DEFAULT_SHEET_AREA_CM2 = 10.0
# The figures the modules app computes with (MODELS.md: cells of 400 Wh/kg and 1000 Wh/L, 300 × 100 mm).
DEFAULT_ENERGY = (400.0, 1000.0)


def make_li_foil(project: Project, user: User, *, mass_g: float = 10.0, **overrides: Any) -> MaterialLot:
    data: dict[str, Any] = {
        "chemical_name": "Lithium foil, 50 µm",
        "formula": "Li",
        "role": MaterialRole.FOIL,
        "mass_g": mass_g,
        "density_g_per_cm3": LITHIUM_DENSITY_G_PER_CM3,
        "specific_capacity_mah_per_g": LITHIUM_CAPACITY_MAH_PER_G,
    }
    data.update(overrides)
    return make_lot(project, user, **data)


def make_cell_films(
    project: Project, user: User, *, anode_type: str = AnodeType.LI_METAL
) -> dict[str, Film | MaterialLot]:
    """The films (and the lithium foil) a series of cells can share: cut sheets from them per cell."""
    films: dict[str, Film | MaterialLot] = {
        "cathode": make_film(project, user, ItemKind.CATHODE_FILM),
        "separator": make_film(project, user, ItemKind.SEPARATOR_FILM),
    }
    if anode_type in (AnodeType.GRAPHITE, AnodeType.SILICON):
        films["anode"] = make_film(project, user, ItemKind.ANODE_FILM)
    elif anode_type in (AnodeType.LI_METAL, AnodeType.LI_IN):
        films["foil"] = make_li_foil(project, user)
    return films


def make_layers(
    films: dict[str, Any],
    user: User,
    *,
    count: int,
    anode_type: str,
    sheet_area_cm2: float = DEFAULT_SHEET_AREA_CM2,
    foil_mass_g: float = DEFAULT_FOIL_MASS_G,
) -> list[dict[str, Any]]:
    """Layer dicts for ``cell_build``: fresh sheets cut from ``films``."""
    cathodes = make_sheets(films["cathode"], user, count=count, area_cm2=sheet_area_cm2)
    separators = make_sheets(films["separator"], user, count=count, area_cm2=sheet_area_cm2)
    anodes = [None] * count
    if "anode" in films and anode_type in (AnodeType.GRAPHITE, AnodeType.SILICON):
        anodes = make_sheets(films["anode"], user, count=count, area_cm2=sheet_area_cm2)
    layers = []
    for cathode, separator, anode in zip(cathodes, separators, anodes, strict=True):
        layer: dict[str, Any] = {"cathode": cathode.item, "separator": separator.item, "anode": None,
                                 "anode_lot": None, "anode_mass_g": None}
        if anode is not None:
            layer["anode"] = anode.item
        elif anode_type in (AnodeType.LI_METAL, AnodeType.LI_IN):
            layer["anode_lot"] = films["foil"].item
            layer["anode_mass_g"] = foil_mass_g
        layers.append(layer)
    return layers


def make_cell(project: Project, user: User, layers: int = 1, **overrides: Any) -> Cell:
    """A built cell of ``layers`` layers (single-layer pouch for one, Z-fold multi-layer pouch for more).

    Overrides: any ``cell_build`` argument, plus ``films`` (from ``make_cell_films``, to share films),
    ``sheet_area_cm2``, ``foil_mass_g``, ``energy`` ((Wh/kg, Wh/L) written with ``cell_energy_set``;
    None to leave them empty).
    """
    anode_type = overrides.pop("anode_type", AnodeType.LI_METAL)
    films = overrides.pop("films", None) or make_cell_films(project, user, anode_type=anode_type)
    energy = overrides.pop("energy", DEFAULT_ENERGY)
    layer_dicts = make_layers(
        films, user, count=layers, anode_type=anode_type,
        sheet_area_cm2=overrides.pop("sheet_area_cm2", DEFAULT_SHEET_AREA_CM2),
        foil_mass_g=overrides.pop("foil_mass_g", DEFAULT_FOIL_MASS_G),
    )
    data: dict[str, Any] = {
        "cell_format": CellFormat.SINGLE_LAYER_POUCH if layers == 1 else CellFormat.MULTI_LAYER_POUCH,
        "stacking": Stacking.SINGLE_SHEET if layers == 1 else Stacking.Z_FOLD,
        "connection": Connection.PARALLEL,
        "length_mm": 300.0,
        "width_mm": 100.0,
        "edge_margin_mm": 1.0,
        "operating_stack_pressure_mpa": 5.0,
        "anode_type": anode_type,
        "confirm_warnings": True,  # an N/P below 1 is confirmed, as a technician would (False to see the ask)
    }
    data.update(overrides)
    cell = cell_build(project=project, user=user, layers=layer_dicts, **data)
    if energy is not None:
        cell_energy_set(
            cell=cell, user=user, specific_energy_wh_per_kg=energy[0], energy_density_wh_per_l=energy[1]
        )
        cell.refresh_from_db()
    return cell


def make_cells(project: Project, user: User, count: int, **overrides: Any) -> list[Cell]:
    """``count`` one-layer cells sharing one set of films (1 cm² sheets, so a set serves 80 cells)."""
    anode_type = overrides.get("anode_type", AnodeType.LI_METAL)
    films = overrides.pop("films", None) or make_cell_films(project, user, anode_type=anode_type)
    overrides.setdefault("sheet_area_cm2", 1.0)
    overrides.setdefault("foil_mass_g", 0.002)
    return [make_cell(project, user, 1, films=films, **overrides) for _ in range(count)]
