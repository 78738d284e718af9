"""Lineage stays inside one project, by every path that writes edges.

DESIGN.md has items belong to a project and partners read whole projects; nothing in it shares material across
projects. So ``edge_create`` and ``edges_bulk_create`` refuse a parent of another project than the child's,
naming both items and both projects, and the domain services refuse it earlier, beside their own field. Every
registered path that uses parents (``CONSUMING_PATHS``) has a scenario here, so a new one cannot skip the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError

from assbtrack.tracing.choices import ItemKind, LineageRole
from assbtrack.tracing.models import LineageEdge
from assbtrack.tracing.registry import CONSUMING_PATHS
from assbtrack.tracing.services import edge_create, edges_bulk_create
from cells.choices import AnodeType
from cells.services import cell_build
from electrodes.services import sheets_cut
from tests.core.test_consuming_paths import CELL, snapshot
from tests.utils.factories import ProjectFactory, traced_item, use_across_projects
from tests.utils.factories_cells import make_cell, make_cell_films, make_layers
from tests.utils.factories_electrodes import make_component_sources, make_film, make_sse_batch
from tests.utils.factories_materials import make_batch, make_lot
from tests.utils.factories_modules import make_design, make_module

pytestmark = pytest.mark.django_db


@dataclass
class Crossing:
    attempt: Callable[[], object]  # the path, asked to use ``parent_code`` (of another project) in ``project``
    field: str  # where the refusal lands
    parent_code: str


def edge_create_crossing(project, foreign, tech) -> Crossing:
    parent = traced_item(project=foreign, user=tech)
    child = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    return Crossing(lambda: edge_create(parent=parent, child=child, role=LineageRole.PRECURSOR, user=tech,
                                        amount="5", unit="g"), "parent", parent.code)


def edges_bulk_create_crossing(project, foreign, tech) -> Crossing:
    own = traced_item(project=project, user=tech)
    parent = traced_item(project=foreign, user=tech)
    child = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    rows = [(own.pk, child.pk, "5", "g", LineageRole.PRECURSOR), (parent.pk, child.pk, "5", "g", LineageRole.PRECURSOR)]
    return Crossing(lambda: edges_bulk_create(edges=rows, user=tech), "parent", parent.code)


def batch_create_crossing(project, foreign, tech) -> Crossing:
    lot = make_lot(foreign, tech).item
    return Crossing(lambda: make_batch(project, tech, precursors=[(lot, 5.0)]), "precursors.0.lot", lot.code)


def film_create_crossing(project, foreign, tech) -> Crossing:
    foreign_batch = make_sse_batch(foreign, tech)
    components = make_component_sources(project, tech, ItemKind.CATHODE_FILM, sse_batch=foreign_batch)
    sse_row = next(index for index, (item, _mass) in enumerate(components) if item.pk == foreign_batch.item.pk)
    return Crossing(lambda: make_film(project, tech, ItemKind.CATHODE_FILM, components=components),
                    f"components[{sse_row}].source", foreign_batch.item.code)


def cell_build_crossing(project, foreign, tech) -> Crossing:
    foreign_films = make_cell_films(foreign, tech)
    layers = make_layers(foreign_films, tech, count=1, anode_type=AnodeType.LI_METAL)
    return Crossing(lambda: cell_build(project=project, user=tech, layers=layers, **CELL), "layers-0-cathode",
                    layers[0]["cathode"].code)


def module_assemble_crossing(project, foreign, tech) -> Crossing:
    cell = make_cell(foreign, tech)
    design = make_design(project, tech)
    return Crossing(lambda: make_module(project, tech, cells=[cell], design=design), "cell_codes", cell.item.code)


CROSSINGS: dict[str, Callable] = {
    "assbtrack.tracing.services.edge_create": edge_create_crossing,
    "assbtrack.tracing.services.edges_bulk_create": edges_bulk_create_crossing,
    "materials.services.batch_create": batch_create_crossing,
    "electrodes.services.film_create": film_create_crossing,
    "cells.services.cell_build": cell_build_crossing,
    "modules.services.module_assemble": module_assemble_crossing,
}
# Paths whose children are made by the path itself, in the parent's project: nothing to cross.
MADE_IN_THE_PARENTS_PROJECT = {"electrodes.services.sheets_cut"}


def test_every_path_that_uses_parents_has_a_crossing():
    uses = {path for path, purpose in CONSUMING_PATHS.items() if purpose == "use"}
    assert uses == set(CROSSINGS) | MADE_IN_THE_PARENTS_PROJECT


@pytest.mark.parametrize("path", sorted(CROSSINGS))
def test_a_path_refuses_a_parent_of_another_project_and_writes_nothing(path, project, tech):
    foreign = ProjectFactory()
    crossing = CROSSINGS[path](project, foreign, tech)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        crossing.attempt()
    messages = " ".join(refused.value.message_dict.get(crossing.field, []))
    assert crossing.parent_code in messages, refused.value.message_dict
    assert "project" in messages, messages
    assert snapshot() == before, "a refused use wrote something"


@pytest.mark.parametrize("writer", ["edge_create", "edges_bulk_create"])
def test_the_core_refusal_names_both_items_and_both_projects(writer, project, tech):
    foreign = ProjectFactory()
    parent = traced_item(project=foreign, user=tech)
    child = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    with pytest.raises(ValidationError) as refused:
        if writer == "edge_create":
            edge_create(parent=parent, child=child, role=LineageRole.PRECURSOR, user=tech, amount="5", unit="g")
        else:
            edges_bulk_create(edges=[(parent.pk, child.pk, "5", "g", LineageRole.PRECURSOR)], user=tech)
    [message] = refused.value.message_dict["parent"]
    prefix = "row 1: " if writer == "edges_bulk_create" else ""
    assert message == (f"{prefix}{parent.code} belongs to project {foreign.code} and {child.code} to project "
                       f"{project.code}: an item is used only in items of its own project")
    parent.refresh_from_db()
    assert parent.quantity_used == 0 and not LineageEdge.objects.exists()


def test_sheets_are_cut_into_the_films_project(project, tech):
    film = make_film(project, tech)
    sheets = sheets_cut(film=film, user=tech, count=2, area_cm2=5.0)
    assert {sheet.item.project_id for sheet in sheets} == {project.pk}


def test_an_edge_kept_from_before_the_rule_is_one_the_core_now_refuses(project, tech):
    """The helper that stands for old cross-project edges makes exactly what the services refuse."""
    foreign = ProjectFactory()
    parent = traced_item(project=foreign, user=tech)
    child = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    with pytest.raises(ValidationError):
        edge_create(parent=parent, child=child, role=LineageRole.OTHER, user=tech, amount="1", unit="g")
    edge = use_across_projects(parent, child, user=tech, amount="1")
    parent.refresh_from_db()
    assert (edge.parent.project_id, edge.child.project_id) == (foreign.pk, project.pk)
    assert parent.quantity_used == 1
