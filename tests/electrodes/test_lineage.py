"""A sheet traces back through its film to the SSE batch and its precursor lots in ONE query."""

from __future__ import annotations

import pytest

from assbtrack.tracing.choices import ItemKind, LineageRole
from assbtrack.tracing.selectors import lineage_downstream, lineage_hydrate, lineage_upstream
from assbtrack.tracing.services import item_quarantine
from electrodes.models import Film, Sheet
from tests.utils.factories_electrodes import make_film, make_sheets

pytestmark = pytest.mark.django_db


def test_sheet_upstream_reaches_batches_and_precursors_in_one_query(project, tech, django_assert_num_queries):
    film = make_film(project, tech, ItemKind.CATHODE_FILM)
    sheet = make_sheets(film, tech, count=1)[0]
    batch_item = film.components.get(role=LineageRole.ELECTROLYTE).source

    with django_assert_num_queries(1):
        lineage = lineage_upstream(sheet.item)

    by_code = {node.code: node for node in lineage.nodes.values()}
    assert by_code[film.code].depth == 1
    assert by_code[batch_item.code].depth == 2
    kinds = [node.kind for node in lineage.nodes.values()]
    # film + 4 components (NCM, SSE batch, carbon, PTFE) + the batch's 3 precursor lots
    assert kinds.count(ItemKind.CATHODE_FILM) == 1
    assert kinds.count(ItemKind.SSE_BATCH) == 1
    assert kinds.count(ItemKind.MATERIAL_LOT) == 6
    precursors = {node.code for node in lineage.nodes.values() if node.depth == 3}
    assert len(precursors) == 3
    cut = next(link for link in lineage.links if link.child_id == sheet.pk)
    assert cut.role == LineageRole.CUT_FROM and cut.amount == 10 and cut.unit == "cm2"


def test_depth_does_not_change_the_query_count(project, tech, django_assert_num_queries):
    separator = make_film(project, tech, ItemKind.SEPARATOR_FILM)
    sheets = make_sheets(separator, tech, count=3)
    with django_assert_num_queries(1):
        lineage_upstream(sheets[2].item)
    batch_item = separator.components.select_related("source").get(role=LineageRole.ELECTROLYTE).source
    with django_assert_num_queries(1):
        down = lineage_downstream(batch_item)
    assert {node.code for node in down.nodes.values()} >= {separator.code, *[s.code for s in sheets]}


def test_hydrating_a_trace_costs_one_query_per_kind(project, tech, django_assert_num_queries):
    film = make_film(project, tech)
    sheet = make_sheets(film, tech, count=1)[0]
    lineage = lineage_upstream(sheet.item)
    with django_assert_num_queries(3):  # films, lots, batches
        records = lineage_hydrate(lineage)
    assert isinstance(records[film.pk], Film)
    down = lineage_downstream(film.item)
    assert isinstance(lineage_hydrate(down)[sheet.pk], Sheet)


def test_quarantined_batch_shows_its_sheets_as_affected(project, tech, sci):
    film = make_film(project, tech)
    sheets = make_sheets(film, tech, count=2)
    batch_item = film.components.get(role=LineageRole.ELECTROLYTE).source
    item_quarantine(item=batch_item, user=sci, reason="H2S smell on opening")
    held = lineage_upstream(sheets[0].item).held()
    assert [node.code for node in held] == [batch_item.code]
    impact = {node.code for node in lineage_downstream(batch_item).nodes.values()}
    assert {film.code, sheets[0].code, sheets[1].code} <= impact
