"""Building a cell through cell_build: rating, N/P, tier, lineage, and the layer rules that refuse a bad stack.

Numbers by hand from the electrodes factory films: cathode 3.84 mAh/cm² (24 mg/cm² · 0.8 · 200 mAh/g),
graphite anode 4.28544 mAh/cm² (19.2 mg/cm² · 0.6 · 372 mAh/g), lithium 3861 mAh/g.
"""

from __future__ import annotations

import math

import pytest
from django.core.exceptions import ValidationError

from assbtrack.tracing.choices import ItemKind, ItemStatus, LineageRole
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.services import item_quarantine
from cells.choices import AnodeType, CellEventKind, CellFormat, Connection, DensificationMethod, Stacking
from cells.models import Cell, CellDensification, CellLayer
from cells.services import cell_build, cell_densification_record, cell_energy_set, cell_event_record
from materials.choices import MaterialRole
from tests.utils.factories import ProjectFactory
from tests.utils.factories_cells import make_cell, make_cell_films
from tests.utils.factories_electrodes import make_sheets
from tests.utils.factories_materials import make_lot

pytestmark = pytest.mark.django_db

CATHODE_MAH_PER_CM2 = 0.024 * 0.8 * 200  # 3.84
GRAPHITE_MAH_PER_CM2 = 0.0192 * 0.6 * 372  # 4.28544


def sheet_item(film, tech, area_cm2=10.0):
    return make_sheets(film, tech, count=1, area_cm2=area_cm2)[0].item


def foil_layer(films, tech, *, cathode_cm2=10.0, separator_cm2=10.0, mass_g=0.02):
    return {
        "cathode": sheet_item(films["cathode"], tech, cathode_cm2),
        "separator": sheet_item(films["separator"], tech, separator_cm2),
        "anode": None,
        "anode_lot": films["foil"].item,
        "anode_mass_g": mass_g,
    }


def build(project, tech, layers, **overrides):
    data = {
        "cell_format": CellFormat.SINGLE_LAYER_POUCH if len(layers) == 1 else CellFormat.MULTI_LAYER_POUCH,
        "stacking": Stacking.SINGLE_SHEET if len(layers) == 1 else Stacking.Z_FOLD,
        "connection": Connection.PARALLEL,
        "length_mm": 300.0,
        "width_mm": 100.0,
        "anode_type": AnodeType.LI_METAL,
    }
    data.update(overrides)
    return cell_build(project=project, user=tech, layers=layers, **data)


def refused(project, tech, layers, field, fragment, **overrides):
    cells_before = TracedItem.objects.filter(kind=ItemKind.CELL).count()
    edges_before = LineageEdge.objects.count()
    with pytest.raises(ValidationError) as caught:
        build(project, tech, layers, **overrides)
    messages = caught.value.message_dict
    assert field in messages, messages
    assert any(fragment in message for message in messages[field]), messages[field]
    assert TracedItem.objects.filter(kind=ItemKind.CELL).count() == cells_before
    assert LineageEdge.objects.count() == edges_before
    return messages[field]


# ------------------------------------------------------------------------------------------ derivation


def test_single_layer_li_foil_cell(project, tech, films):
    layer = foil_layer(films, tech)
    cell = build(project, tech, [layer])
    # 10 cm² × 3.84 mAh/cm² = 38.4 mAh; 0.02 g × 3861 mAh/g = 77.22 mAh → N/P 2.0109375.
    assert cell.nominal_capacity_ah == pytest.approx(0.0384)
    assert cell.nominal_voltage_v == pytest.approx(3.8)
    assert cell.np_ratio == pytest.approx(77.22 / 38.4)
    assert cell.scale_tier == "laboratory"
    assert cell.energy_wh == pytest.approx(0.0384 * 3.8)
    assert cell.item.kind == ItemKind.CELL and cell.item.quantity == 1 and cell.item.unit == "pcs"
    # Pouch defaults: Al 12 µm and Ni 10 µm collectors.
    assert (cell.cathode_collector, cell.cathode_collector_thickness_um) == ("al", 12.0)
    assert (cell.anode_collector, cell.anode_collector_thickness_um) == ("ni", 10.0)

    record = CellLayer.objects.get(cell=cell)
    assert record.position == 1 and record.cathode_capacity_mah == pytest.approx(38.4)
    edges = {(edge.parent.code, edge.role, edge.amount) for edge in LineageEdge.objects.filter(child=cell.item)}
    assert (layer["cathode"].code, LineageRole.CATHODE_LAYER, 1) in edges
    assert (layer["separator"].code, LineageRole.SEPARATOR_LAYER, 1) in edges
    foil_edge = LineageEdge.objects.get(child=cell.item, parent=films["foil"].item)
    assert foil_edge.role == LineageRole.ANODE_LAYER and float(foil_edge.amount) == pytest.approx(0.02)
    films["foil"].item.refresh_from_db()
    assert float(films["foil"].item.quantity_used) == pytest.approx(0.02)


def test_parallel_layers_add_capacity_and_reach_the_pilot_tier(project, tech, films):
    layers = [foil_layer(films, tech) for _ in range(3)]
    cell = build(project, tech, layers)
    assert cell.nominal_capacity_ah == pytest.approx(3 * 0.0384)  # 0.1152 Ah ≥ 0.1 Ah
    assert cell.nominal_voltage_v == pytest.approx(3.8)
    assert cell.scale_tier == "pilot"
    assert cell.layer_count == 3
    # The foil feeds three layers: one edge drawing the summed 0.06 g.
    foil_edge = LineageEdge.objects.get(child=cell.item, parent=films["foil"].item)
    assert float(foil_edge.amount) == pytest.approx(0.06)


def test_series_layers_add_voltage(project, tech, films):
    layers = [foil_layer(films, tech) for _ in range(2)]
    cell = build(project, tech, layers, connection=Connection.SERIES)
    assert cell.nominal_voltage_v == pytest.approx(2 * 3.8)
    assert cell.nominal_capacity_ah == pytest.approx(0.0384)


def test_np_of_a_graphite_cell_compares_areal_capacities(project, tech, graphite_films):
    layer = {
        "cathode": sheet_item(graphite_films["cathode"], tech),
        "separator": sheet_item(graphite_films["separator"], tech),
        "anode": sheet_item(graphite_films["anode"], tech),
    }
    cell = build(project, tech, [layer], anode_type=AnodeType.GRAPHITE)
    assert cell.np_ratio == pytest.approx(GRAPHITE_MAH_PER_CM2 / CATHODE_MAH_PER_CM2)  # 1.116
    assert cell.anode_voltage_v == pytest.approx(0.15)
    assert cell.nominal_voltage_v == pytest.approx(3.8 - 0.15)


def test_anode_free_cell_has_np_zero(project, tech, films):
    layer = {"cathode": sheet_item(films["cathode"], tech), "separator": sheet_item(films["separator"], tech)}
    cell = build(project, tech, [layer], anode_type=AnodeType.ANODE_FREE)
    assert cell.np_ratio == 0.0
    assert not LineageEdge.objects.filter(child=cell.item, role=LineageRole.ANODE_LAYER).exists()


def test_bigger_sheets_scale_the_capacity(project, tech):
    # 3 layers of 20 cm² at 3.84 mAh/cm² = 230.4 mAh: pilot tier.
    cell = make_cell(project, tech, layers=3, sheet_area_cm2=20.0, foil_mass_g=0.04)
    assert cell.nominal_capacity_ah == pytest.approx(3 * 20 * CATHODE_MAH_PER_CM2 / 1000)
    assert cell.scale_tier == "pilot"


# ------------------------------------------------------------------------------------------ layer rules


def test_a_cathode_sheet_given_as_separator_is_refused(project, tech, films):
    layer = foil_layer(films, tech)
    layer["separator"] = sheet_item(films["cathode"], tech)
    refused(project, tech, [layer], "layers-0-separator", "is a cathode sheet")


def test_a_film_code_instead_of_a_sheet_is_refused(project, tech, films):
    layer = foil_layer(films, tech)
    layer["cathode"] = films["cathode"].item
    refused(project, tech, [layer], "layers-0-cathode", "cut sheets from it")


def test_a_sheet_used_in_another_cell_is_refused(project, tech, films):
    first = foil_layer(films, tech)
    cell = build(project, tech, [first])
    second = foil_layer(films, tech)
    second["cathode"] = first["cathode"]
    refused(project, tech, [second], "layers-0-cathode", f"already used in {cell.item.code}")


def test_the_core_mass_balance_refuses_a_used_sheet_even_past_the_check(project, tech, films, monkeypatch):
    """The friendly check is a courtesy: the edge itself cannot draw a sheet twice."""
    first = foil_layer(films, tech)
    build(project, tech, [first])
    second = foil_layer(films, tech)
    second["separator"] = first["separator"]
    monkeypatch.setattr("cells.services._check_unused", lambda layers: None)
    refused(project, tech, [second], "layers-0-separator", "left")


def test_the_same_sheet_twice_in_one_cell_is_refused(project, tech, films):
    first, second = foil_layer(films, tech), foil_layer(films, tech)
    second["separator"] = first["separator"]
    refused(project, tech, [first, second], "layers-1-separator", "already in layer 1")


def test_sheets_of_different_area_beyond_the_edge_margin_are_refused(project, tech, films):
    # Footprint 300 × 100 mm (aspect 3): a 10 cm² sheet is 54.8 × 18.3 mm; 1 mm around it allows
    # 56.8 × 20.3 mm = 11.5 cm², so a 14 cm² separator is misaligned; 5 mm allows 18.3 cm².
    layer = foil_layer(films, tech, separator_cm2=14.0)
    refused(project, tech, [layer], "layers-0-separator", "misaligned", edge_margin_mm=1.0)
    cell = build(project, tech, [layer], edge_margin_mm=5.0)
    assert cell.edge_margin_mm == 5.0


def test_cathodes_of_different_layers_must_line_up(project, tech, films):
    first = foil_layer(films, tech)
    second = foil_layer(films, tech, cathode_cm2=5.0, separator_cm2=5.0)
    refused(project, tech, [first, second], "layers-1-cathode", "does not line up with layer 1")


def test_a_separator_smaller_than_the_cathode_is_refused(project, tech, films):
    layer = foil_layer(films, tech, cathode_cm2=10.0, separator_cm2=9.5)
    refused(project, tech, [layer], "layers-0-separator", "must cover both electrodes")


def test_a_sheet_larger_than_the_footprint_is_refused(project, tech, films):
    layer = foil_layer(films, tech)
    refused(project, tech, [layer], "layers-0-cathode", "does not fit", length_mm=30.0, width_mm=30.0)


def test_missing_or_wrong_anodes_are_refused(project, tech, films, graphite_films):
    layer = foil_layer(films, tech)
    refused(project, tech, [layer], "layers-0-anode_lot", "anode-free cell has no anode",
            anode_type=AnodeType.ANODE_FREE)
    no_anode = {"cathode": sheet_item(graphite_films["cathode"], tech),
                "separator": sheet_item(graphite_films["separator"], tech)}
    refused(project, tech, [no_anode], "layers-0-anode", "needs an anode sheet", anode_type=AnodeType.GRAPHITE)
    no_mass = foil_layer(films, tech)
    no_mass["anode_mass_g"] = None
    refused(project, tech, [no_mass], "layers-0-anode_mass_g", "how much foil")
    binder = make_lot(project, tech, chemical_name="PTFE", role=MaterialRole.BINDER)
    wrong_lot = foil_layer(films, tech)
    wrong_lot["anode_lot"] = binder.item
    refused(project, tech, [wrong_lot], "layers-0-anode_lot", "not a foil")


def test_format_and_layer_count_must_agree(project, tech, films):
    layers = [foil_layer(films, tech), foil_layer(films, tech)]
    refused(project, tech, layers, "layers", "holds one layer", cell_format=CellFormat.PELLET)
    refused(project, tech, layers[:1], "layers", "at least two layers", cell_format=CellFormat.MULTI_LAYER_POUCH)
    refused(project, tech, [], "layers", "at least one layer")


def test_sheets_of_another_project_are_refused(project, tech):
    other = ProjectFactory()
    other_films = make_cell_films(other, tech)
    layer = foil_layer(other_films, tech)
    refused(project, tech, [layer], "layers-0-cathode", "another project")


def test_a_quarantined_sheet_is_refused(project, tech, sci, films):
    layer = foil_layer(films, tech)
    item_quarantine(item=layer["cathode"], user=sci, reason="edge cracks")
    layer["cathode"].refresh_from_db()
    assert layer["cathode"].status == ItemStatus.QUARANTINED
    refused(project, tech, [layer], "layers-0-cathode", "quarantined")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"length_mm": math.nan}, "length_mm"),
        ({"width_mm": -1.0}, "width_mm"),
        ({"edge_margin_mm": math.inf}, "edge_margin_mm"),
        ({"operating_stack_pressure_mpa": 1e9}, "operating_stack_pressure_mpa"),
        ({"cell_format": "cylinder"}, "cell_format"),
        ({"anode_voltage_v": 4.0}, "anode_voltage_v"),
        ({"cathode_collector": "gold"}, "cathode_collector"),
    ],
)
def test_bad_numbers_and_choices_name_their_field(project, tech, films, overrides, field):
    with pytest.raises(ValidationError) as caught:
        build(project, tech, [foil_layer(films, tech)], **overrides)
    assert field in caught.value.message_dict
    assert not Cell.objects.exists()


# ------------------------------------------------------------------------------------------ records


def test_densification_is_append_only_with_corrections(project, tech, films):
    cell = build(project, tech, [foil_layer(films, tech)])
    first = cell_densification_record(cell=cell, user=tech, method=DensificationMethod.ISOSTATIC, pressure_mpa=500.0,
                                      hold_time_min=5.0, temperature_c=80.0)
    correction = cell_densification_record(cell=cell, user=tech, method=DensificationMethod.ISOSTATIC,
                                           pressure_mpa=450.0, hold_time_min=5.0, supersedes=first)
    assert CellDensification.objects.filter(cell=cell).count() == 2
    assert correction.supersedes == first
    with pytest.raises(ValidationError) as caught:
        cell_densification_record(cell=cell, user=tech, method=DensificationMethod.UNIAXIAL, pressure_mpa=1.0,
                                  hold_time_min=1.0, supersedes=first)
    assert "supersedes" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        cell_densification_record(cell=cell, user=tech, method="hammer", pressure_mpa=-3, hold_time_min=1)
    assert "method" in caught.value.message_dict


def test_events_and_energy_figures(project, tech, films):
    cell = build(project, tech, [foil_layer(films, tech)])
    with pytest.raises(ValidationError) as caught:
        cell_event_record(cell=cell, user=tech, kind=CellEventKind.OCV_CHECK)
    assert "ocv_v" in caught.value.message_dict
    event = cell_event_record(cell=cell, user=tech, kind=CellEventKind.OCV_CHECK, ocv_v=3.01, notes="after rest")
    assert event.ocv_v == 3.01
    cell_energy_set(cell=cell, user=tech, specific_energy_wh_per_kg=400.0, energy_density_wh_per_l=1000.0)
    cell.refresh_from_db()
    assert (cell.specific_energy_wh_per_kg, cell.energy_density_wh_per_l) == (400.0, 1000.0)
    with pytest.raises(ValidationError) as caught:
        cell_energy_set(cell=cell, user=tech, specific_energy_wh_per_kg=math.nan, energy_density_wh_per_l=1.0)
    assert "specific_energy_wh_per_kg" in caught.value.message_dict


def test_the_factory_cell_matches_the_modules_contract(project, tech):
    cell = make_cell(project, tech)
    assert (cell.length_mm, cell.width_mm) == (300.0, 100.0)
    assert (cell.specific_energy_wh_per_kg, cell.energy_density_wh_per_l) == (400.0, 1000.0)
    assert cell.energy_wh == pytest.approx(0.0384 * 3.8)
