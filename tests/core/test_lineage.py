"""Lineage reads: one recursive query per trace whatever the depth or fan-out, diamonds once, scoping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assbtrack.tracing.choices import ItemKind, ItemStatus, LineageRole
from assbtrack.tracing.registry import kind_info
from assbtrack.tracing.selectors import (
    DOWNSTREAM,
    UPSTREAM,
    held_ancestors_for,
    lineage_downstream,
    lineage_hydrate,
    lineage_trace,
    lineage_upstream,
)
from assbtrack.tracing.services import item_quarantine, item_reject
from tests.utils.factories import stand_in_detail_tables, traced_item, use, use_across_projects

pytestmark = pytest.mark.django_db

ROLES = [LineageRole.CATHODE_LAYER, LineageRole.ACTIVE_MATERIAL, LineageRole.ELECTROLYTE, LineageRole.BINDER,
         LineageRole.PRECURSOR, LineageRole.CONDUCTIVE_ADDITIVE]


def layered_graph(*, project, user, depth: int, width: int):
    """A root (level 0) that uses every item of level 1, each of which uses every item of level 2, ...

    The edge from a level-k child to a level-(k+1) parent takes (k+1)·100 mg, recorded as role ROLES[k].
    Every item below the root is therefore shared by all the items of the level above: a stack of diamonds.
    """
    root = traced_item(project=project, user=user, kind=ItemKind.CELL, quantity="1", unit="pcs")
    levels = [[root]]
    for _ in range(depth):
        levels.append([traced_item(project=project, user=user, quantity="100", unit="g") for _ in range(width)])
    for k in range(depth):
        for child in levels[k]:
            for parent in levels[k + 1]:
                use(parent, child, user=user, amount=(k + 1) * 100, unit="mg", role=ROLES[k])
    return levels


def expected_amount_g(child_level: int) -> Decimal:
    return Decimal(child_level + 1) * 100 / 1000


def test_trace_is_one_query_whatever_the_depth_and_fan_out(project, tech, partner):
    shallow = layered_graph(project=project, user=tech, depth=2, width=1)
    deep = layered_graph(project=project, user=tech, depth=6, width=10)

    counts = {}
    for name, levels in (("shallow", shallow), ("deep", deep)):
        with CaptureQueriesContext(connection) as up:
            upstream = lineage_upstream(levels[0][0])
        with CaptureQueriesContext(connection) as down:
            downstream = lineage_downstream(levels[-1][0])
        fresh_partner = User.objects.get(pk=partner.pk)  # roles not cached yet: the scoping queries count too
        with CaptureQueriesContext(connection) as scoped:
            partner_view = lineage_upstream(levels[0][0], user=fresh_partner)
        counts[name] = (len(up), len(down), len(scoped))
        # every item below the root, once, at its level
        assert {node.id: node.depth for node in upstream.nodes.values()} == {
            item.pk: k for k, level in enumerate(levels) for item in level if k > 0
        }
        assert len(downstream) == sum(len(level) for level in levels[:-1])
        assert len(partner_view) == len(upstream)

    assert counts["shallow"][:2] == counts["deep"][:2] == (1, 1)
    assert counts["shallow"][2] == counts["deep"][2]

    # the same (costly) graph shows the deep trace is complete and exact
    assert_every_link_once_with_amounts_and_roles(deep, depth=6, width=10)


def assert_every_link_once_with_amounts_and_roles(levels, *, depth: int, width: int) -> None:
    level_of = {item.pk: k for k, level in enumerate(levels) for item in level}

    upstream = lineage_upstream(levels[0][0])
    assert len(upstream.links) == width + (depth - 1) * width * width
    assert len({(link.parent_id, link.child_id, link.role) for link in upstream.links}) == len(upstream.links)
    codes = [node.code for node in upstream.ordered()]
    assert len(codes) == len(set(codes)) == depth * width
    for link in upstream.links:
        child_level = level_of[link.child_id]
        assert level_of[link.parent_id] == child_level + 1
        assert link.role == ROLES[child_level]
        assert (link.amount, link.unit) == (expected_amount_g(child_level), "g")

    bottom = levels[-1][0]
    downstream = lineage_downstream(bottom)
    assert {node.id: node.depth for node in downstream.nodes.values()} == {
        item.pk: depth - k for k in range(depth) for item in levels[k]
    }
    # the bottom item's own uses, then every edge between the levels above it
    assert len(downstream.links) == width + (depth - 2) * width * width + width


def test_diamond_shared_ancestor_appears_once_with_both_uses(project, tech):
    lot = traced_item(project=project, user=tech, quantity="10", unit="g")
    film = traced_item(project=project, user=tech, kind=ItemKind.CATHODE_FILM, quantity="5", unit="g")
    separator = traced_item(project=project, user=tech, kind=ItemKind.SEPARATOR_FILM, quantity="4", unit="g")
    cell = traced_item(project=project, user=tech, kind=ItemKind.CELL, quantity="1", unit="pcs")
    use(lot, film, user=tech, amount="3", unit="g", role=LineageRole.ACTIVE_MATERIAL)
    use(lot, separator, user=tech, amount="500", unit="mg", role=LineageRole.ELECTROLYTE)
    use(film, cell, user=tech, amount="2", unit="g", role=LineageRole.CATHODE_LAYER)
    use(separator, cell, user=tech, amount="1", unit="g", role=LineageRole.SEPARATOR_LAYER)

    upstream = lineage_upstream(cell)
    assert [node.code for node in upstream.ordered()].count(lot.code) == 1
    assert {node.code: node.depth for node in upstream.nodes.values()} == {
        film.code: 1, separator.code: 1, lot.code: 2,
    }
    links = sorted((link.parent_id, link.child_id, link.amount, link.unit, link.role) for link in upstream.links)
    assert links == sorted(
        [
            (lot.pk, film.pk, Decimal("3"), "g", LineageRole.ACTIVE_MATERIAL),
            (lot.pk, separator.pk, Decimal("0.5"), "g", LineageRole.ELECTROLYTE),
            (film.pk, cell.pk, Decimal("2"), "g", LineageRole.CATHODE_LAYER),
            (separator.pk, cell.pk, Decimal("1"), "g", LineageRole.SEPARATOR_LAYER),
        ]
    )
    rows = upstream.rows()
    assert [(row["node"].code, row["other"]) for row in rows][:2] == sorted(
        [(film.code, cell.code), (separator.code, cell.code)]
    )
    assert sorted((row["node"].code, row["other"]) for row in rows[2:]) == sorted(
        [(lot.code, film.code), (lot.code, separator.code)]
    )

    downstream = lineage_downstream(lot)
    assert {node.code: node.depth for node in downstream.nodes.values()} == {
        film.code: 1, separator.code: 1, cell.code: 2,
    }
    assert len(downstream.links) == 4


def test_item_without_lineage_has_an_empty_trace_and_direction_is_checked(project, tech):
    lonely = traced_item(project=project, user=tech)
    assert len(lineage_upstream(lonely)) == 0 and lineage_downstream(lonely).links == []
    with pytest.raises(ValueError, match="direction"):
        lineage_trace(lonely, direction="sideways")
    assert lineage_trace(lonely, direction=UPSTREAM).direction == UPSTREAM
    assert lineage_trace(lonely, direction=DOWNSTREAM).direction == DOWNSTREAM


PRESENT_KINDS = (ItemKind.MATERIAL_LOT, ItemKind.SSE_BATCH, ItemKind.CATHODE_FILM)


def test_hydrate_costs_one_query_per_kind_with_a_detail_table(project, tech, django_assert_num_queries):
    cell = traced_item(project=project, user=tech, kind=ItemKind.CELL, quantity="1", unit="pcs")
    lots = [traced_item(project=project, user=tech) for _ in range(6)]
    batches = [traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH) for _ in range(4)]
    films = [traced_item(project=project, user=tech, kind=ItemKind.CATHODE_FILM) for _ in range(3)]
    for parent in lots + batches + films:
        use(parent, cell, user=tech, amount="1", unit="g")
    lineage = lineage_upstream(cell)

    with stand_in_detail_tables(ItemKind.MATERIAL_LOT, ItemKind.SSE_BATCH):
        # one query per kind present that has a detail table: lots, batches, and films if their app has one
        kinds_with_table = {kind for kind in PRESENT_KINDS if kind_info(kind).model is not None}
        assert {ItemKind.MATERIAL_LOT, ItemKind.SSE_BATCH} <= kinds_with_table
        with django_assert_num_queries(len(kinds_with_table)):
            records = lineage_hydrate(lineage)
        with django_assert_num_queries(0):
            loaded = {pk: str(record.item) for pk, record in records.items()}
    # the films were made bare, without a record of their app: nothing to load for them
    assert loaded == {item.pk: item.code for item in lots + batches}

    nothing_upstream = lineage_upstream(lots[0])
    with django_assert_num_queries(0):
        assert lineage_hydrate(nothing_upstream) == {}


def test_held_ancestors_lists_held_items_upstream_in_one_query(project, sci, django_assert_num_queries):
    lot = traced_item(project=project, user=sci)
    batch = traced_item(project=project, user=sci, kind=ItemKind.SSE_BATCH)
    film = traced_item(project=project, user=sci, kind=ItemKind.CATHODE_FILM)
    cell = traced_item(project=project, user=sci, kind=ItemKind.CELL, quantity="1", unit="pcs")
    unrelated = traced_item(project=project, user=sci)
    use(lot, batch, user=sci, amount="1")
    use(batch, film, user=sci, amount="1")
    use(film, cell, user=sci, amount="1")
    item_quarantine(item=lot, user=sci, reason="H2S smell on opening")
    item_reject(item=batch, user=sci, reason="wrong phase in XRD")

    with django_assert_num_queries(1):
        found = held_ancestors_for([cell.pk, film.pk, batch.pk, lot.pk, unrelated.pk, cell.pk])
    held = {pk: [(a.code, a.status) for a in ancestors] for pk, ancestors in found.items()}
    expected_both = sorted([(lot.code, ItemStatus.QUARANTINED), (batch.code, ItemStatus.REJECTED)])
    assert held == {
        cell.pk: expected_both,
        film.pk: expected_both,
        batch.pk: [(lot.code, ItemStatus.QUARANTINED)],
    }
    with django_assert_num_queries(0):
        assert held_ancestors_for([]) == {}


def test_partner_lineage_leaves_out_projects_not_shared(project, other_project, tech, sci, partner):
    hidden_lot = traced_item(project=project, user=tech)
    hidden_batch = traced_item(project=other_project, user=tech, kind=ItemKind.SSE_BATCH)
    visible_lot = traced_item(project=project, user=tech)
    film = traced_item(project=project, user=tech, kind=ItemKind.CATHODE_FILM)
    cell = traced_item(project=project, user=tech, kind=ItemKind.CELL, quantity="1", unit="pcs")
    use_across_projects(hidden_lot, hidden_batch, user=tech, amount="1")
    use_across_projects(hidden_batch, film, user=tech, amount="1")
    use(visible_lot, film, user=tech, amount="1")
    use(film, cell, user=tech, amount="1")

    assert {node.code for node in lineage_upstream(cell, user=sci).nodes.values()} == {
        film.code, visible_lot.code, hidden_batch.code, hidden_lot.code,
    }

    upstream = lineage_upstream(cell, user=partner)
    # the batch of the other project is absent, and so is what is reachable only through it
    assert {node.code for node in upstream.nodes.values()} == {film.code, visible_lot.code}
    assert all(node.project_id == project.pk for node in upstream.nodes.values())
    shown_ids = {cell.pk, film.pk, visible_lot.pk}
    assert {(link.parent_id, link.child_id) for link in upstream.links} == {
        (visible_lot.pk, film.pk), (film.pk, cell.pk),
    }
    assert all(link.parent_id in shown_ids and link.child_id in shown_ids for link in upstream.links)

    assert len(lineage_downstream(hidden_lot, user=partner)) == 0
    assert {node.code for node in lineage_downstream(hidden_lot, user=sci).nodes.values()} == {
        hidden_batch.code, film.code, cell.code,
    }
