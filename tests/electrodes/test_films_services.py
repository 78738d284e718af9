"""Films through the services: derived metrics by hand, the 100 % rule, stock and quarantine refusals, passes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from assbtrack.tracing.choices import ItemKind, ItemStatus, LineageRole
from assbtrack.tracing.models import LineageEdge
from assbtrack.tracing.services import item_quarantine, item_release
from electrodes.choices import FilmProcess
from electrodes.models import CalenderingPass, Film
from electrodes.services import film_create, film_pass_add, film_result_record, sheets_cut
from tests.utils.factories_electrodes import make_component_sources, make_film, make_sheets
from tests.utils.factories_materials import make_lot, make_released_batch

pytestmark = pytest.mark.django_db


def test_cathode_metrics_match_the_hand_computation(project, tech):
    film = make_film(project, tech, ItemKind.CATHODE_FILM)
    # See the factory's docstring: 1.92 g on 80 cm², 82 µm, NCM811 80 % at 200 mAh/g.
    assert film.areal_loading_mg_per_cm2 == pytest.approx(24.0)
    assert film.areal_capacity_mah_per_cm2 == pytest.approx(3.84)
    assert film.density_g_per_cm3 == pytest.approx(1.92 / (80 * 82e-4))
    sum_w_over_rho = 0.8 / 4.75 + 0.185 / 1.64 + 0.01 / 1.9 + 0.005 / 2.2
    assert film.theoretical_density_g_per_cm3 == pytest.approx(1 / sum_w_over_rho)
    assert film.porosity == pytest.approx(0.154843, abs=1e-5)
    assert film.binder_fraction == pytest.approx(0.005)
    assert film.active_weight_fraction == pytest.approx(0.8)
    assert film.free_standing is True
    fractions = [c.weight_fraction for c in film.components.order_by("position")]
    assert fractions == pytest.approx([0.8, 0.185, 0.01, 0.005])
    assert film.item.quantity == 80 and film.item.unit == "cm2"


def test_anode_and_separator_metrics(project, tech):
    anode = make_film(project, tech, ItemKind.ANODE_FILM)
    assert anode.areal_capacity_mah_per_cm2 == pytest.approx(0.0192 * 0.6 * 372)
    assert anode.porosity == pytest.approx(0.201529, abs=1e-5)
    separator = make_film(project, tech, ItemKind.SEPARATOR_FILM)
    assert separator.areal_capacity_mah_per_cm2 is None
    assert separator.active_weight_fraction is None
    assert separator.areal_loading_mg_per_cm2 == pytest.approx(480 / 110)
    assert separator.porosity == pytest.approx(0.114211, abs=1e-5)


def test_separator_conductivity_against_the_pristine_batch(project, tech, sci):
    batch = make_released_batch(project, sci, conductivity_ms_per_cm=3.0, density_g_per_cm3=1.64)
    separator = make_film(
        project, tech, ItemKind.SEPARATOR_FILM, sse_batch=batch, film_conductivity_ms_per_cm=1.2
    )
    assert separator.batch_conductivity_ms_per_cm == pytest.approx(3.0, rel=1e-6)
    assert separator.conductivity_retention == pytest.approx(0.4, rel=1e-6)


def test_conductivity_refused_on_a_cathode(project, tech):
    film = make_film(project, tech, result=False)
    with pytest.raises(ValidationError) as error:
        film_result_record(film=film, user=tech, thickness_um=82, mass_g=1.92, free_standing=True,
                           film_conductivity_ms_per_cm=1.0)
    assert "film_conductivity_ms_per_cm" in error.value.message_dict


def test_recipe_that_does_not_add_up_is_refused(project, tech):
    components = make_component_sources(project, tech)
    with pytest.raises(ValidationError) as error:
        film_create(project=project, user=tech, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
                    components=components, area_cm2=80, recipe_weight_percents=[80, 18.5, 1, 0.3])
    assert "sum to 99.80%" in error.value.message_dict["components"][0]
    assert not Film.objects.exists()


def test_weighed_masses_must_match_the_recipe(project, tech):
    components = make_component_sources(project, tech)
    # 1.600 g of 2.000 g is 80 %; a recipe of 79.8 % is 0.2 points off, beyond the 0.1 % allowed.
    with pytest.raises(ValidationError) as error:
        film_create(project=project, user=tech, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
                    components=components, area_cm2=80, recipe_weight_percents=[79.8, 18.7, 1, 0.5])
    assert set(error.value.message_dict) == {"components[0].mass_g", "components[1].mass_g"}
    film = film_create(project=project, user=tech, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
                       components=components, area_cm2=80, recipe_weight_percents=[80, 18.5, 1, 0.5])
    assert film.components.count() == 4


def test_mass_beyond_stock_is_refused_beside_the_row(project, tech):
    components = make_component_sources(project, tech)
    small = make_lot(project, tech, chemical_name="PTFE", formula="(C2F4)n", role="binder", mass_g=0.005,
                     density_g_per_cm3=2.2)
    components[3] = (small.item, 0.010)
    with pytest.raises(ValidationError) as error:
        film_create(project=project, user=tech, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
                    components=components, area_cm2=80)
    assert list(error.value.message_dict) == ["components[3].mass_g"]
    assert "has only 0.005 g left" in error.value.message_dict["components[3].mass_g"][0]
    small.item.refresh_from_db()
    assert small.item.quantity_used == 0
    assert not LineageEdge.objects.filter(parent=components[0][0]).exists()


def test_quarantined_lot_is_refused_beside_the_row(project, tech, sci):
    components = make_component_sources(project, tech)
    item_quarantine(item=components[2][0], user=sci, reason="moisture above spec")
    with pytest.raises(ValidationError) as error:
        film_create(project=project, user=tech, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
                    components=components, area_cm2=80)
    message = error.value.message_dict["components[2].source"][0]
    assert "quarantined" in message and "moisture above spec" in message
    assert not Film.objects.exists()


def test_other_projects_and_wrong_kinds_are_refused(project, other_project, tech):
    components = make_component_sources(project, tech)
    foreign = make_lot(other_project, tech, chemical_name="PTFE", formula="(C2F4)n", role="binder",
                       density_g_per_cm3=2.2)
    precursor = make_lot(project, tech)  # Li2S: a precursor, not a film ingredient
    rows = components[:2] + [(foreign.item, 0.02), (precursor.item, 0.01)]
    with pytest.raises(ValidationError) as error:
        film_create(project=project, user=tech, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
                    components=rows, area_cm2=80)
    assert "another project" in error.value.message_dict["components[2].source"][0]
    assert "precursor" in error.value.message_dict["components[3].source"][0]


def test_cathode_needs_an_active_material_and_separator_none(project, tech):
    sources = make_component_sources(project, tech)
    with pytest.raises(ValidationError) as error:
        film_create(project=project, user=tech, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
                    components=sources[1:], area_cm2=80)
    assert "active material" in error.value.message_dict["components"][0]
    with pytest.raises(ValidationError) as error:
        film_create(project=project, user=tech, kind=ItemKind.SEPARATOR_FILM, process=FilmProcess.DRY,
                    components=sources, area_cm2=80)
    assert "components[0].source" in error.value.message_dict


@pytest.mark.parametrize("mass", [float("nan"), float("inf"), -1.0, 0.0, "abc", None])
def test_bad_masses_name_the_row(project, tech, mass):
    sources = make_component_sources(project, tech)
    sources[1] = (sources[1][0], mass)
    with pytest.raises(ValidationError) as error:
        film_create(project=project, user=tech, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
                    components=sources, area_cm2=80)
    assert "components[1].mass_g" in error.value.message_dict


def test_components_are_lineage_edges_with_masses(project, tech):
    film = make_film(project, tech)
    edges = {edge.role: edge for edge in LineageEdge.objects.filter(child=film.item)}
    assert set(edges) == {LineageRole.ACTIVE_MATERIAL, LineageRole.ELECTROLYTE, LineageRole.CONDUCTIVE_ADDITIVE,
                          LineageRole.BINDER}
    assert float(edges[LineageRole.ACTIVE_MATERIAL].amount) == pytest.approx(1.6)
    assert float(edges[LineageRole.BINDER].amount) == pytest.approx(0.01)


def test_a_pass_that_thickens_the_film_is_refused(project, tech):
    film = make_film(project, tech, passes=[300.0, 200.0], result=False)
    with pytest.raises(ValidationError) as error:
        film_pass_add(film=film, user=tech, roll_temperature_c=100, gap_um=180, line_force_n_per_mm=100,
                      speed_m_per_min=1, thickness_um=210)
    assert "thicker than after pass 2 (200 µm)" in error.value.message_dict["thickness_um"][0]
    step = film_pass_add(film=film, user=tech, roll_temperature_c=100, gap_um=150, line_force_n_per_mm=100,
                         speed_m_per_min=1, thickness_um=200)
    assert step.pass_number == 3
    assert list(film.passes.values_list("pass_number", flat=True)) == [1, 2, 3]


def test_result_refusals(project, tech):
    film = make_film(project, tech, passes=[200.0, 100.0], result=False)
    with pytest.raises(ValidationError) as error:
        film_result_record(film=film, user=tech, thickness_um=120, mass_g=1.9, free_standing=True)
    assert "thicker than after the last pass" in error.value.message_dict["thickness_um"][0]
    with pytest.raises(ValidationError) as error:
        film_result_record(film=film, user=tech, thickness_um=90, mass_g=2.5, free_standing=True)
    assert "more than the 2 g of components" in error.value.message_dict["mass_g"][0]
    # 1.92 g in 80 cm² × 40 µm would be 6.0 g/cm³, denser than the 3.46 g/cm³ of the solids.
    with pytest.raises(ValidationError) as error:
        film_result_record(film=film, user=tech, thickness_um=40, mass_g=1.92, free_standing=True)
    assert "check the thickness and the mass" in error.value.message_dict["thickness_um"][0]
    film.refresh_from_db()
    assert film.porosity is None and film.thickness_um is None


def test_no_pass_after_the_result(project, tech):
    film = make_film(project, tech)
    with pytest.raises(ValidationError):
        film_pass_add(film=film, user=tech, roll_temperature_c=100, gap_um=50, line_force_n_per_mm=100,
                      speed_m_per_min=1, thickness_um=60)
    assert CalenderingPass.objects.filter(film=film).count() == 5


def test_sheets_draw_area_from_the_film(project, tech):
    film = make_film(project, tech)
    sheets = make_sheets(film, tech, count=5, area_cm2=10.0)
    assert [sheet.position for sheet in sheets] == ["r1c1", "r1c2", "r1c3", "r1c4", "r2c1"]
    assert all(sheet.item.kind == ItemKind.SHEET and sheet.item.quantity == 1 for sheet in sheets)
    assert sheets[0].areal_capacity_mah_per_cm2 == pytest.approx(3.84)
    assert sheets[0].capacity_mah == pytest.approx(38.4)
    film.item.refresh_from_db()
    assert film.item.quantity_used == 50
    with pytest.raises(ValidationError) as error:
        sheets_cut(film=film, user=tech, count=4, area_cm2=10.0)
    assert "has 30 cm² left" in error.value.message_dict["count"][0]
    edge = LineageEdge.objects.get(child=sheets[0].item)
    assert edge.parent_id == film.pk and edge.role == LineageRole.CUT_FROM and edge.amount == 10


def test_sheets_need_a_result_and_a_film_not_held(project, tech, sci):
    film = make_film(project, tech, result=False)
    with pytest.raises(ValidationError):
        sheets_cut(film=film, user=tech, count=1, area_cm2=5)
    done = make_film(project, tech)
    item_quarantine(item=done.item, user=sci, reason="edge cracks")
    with pytest.raises(ValidationError) as error:
        sheets_cut(film=done, user=tech, count=1, area_cm2=5)
    assert "edge cracks" in error.value.message_dict["count"][0]


def test_release_needs_the_result(project, tech, sci):
    film = make_film(project, tech, result=False)
    with pytest.raises(ValidationError):
        item_release(item=film.item, user=sci)
    film_result_record(film=film, user=tech, thickness_um=82, mass_g=1.92, free_standing=True)
    item_release(item=film.item, user=sci)
    film.item.refresh_from_db()
    assert film.item.status == ItemStatus.RELEASED
