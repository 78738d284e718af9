"""Bulk paths: a block of gap-free codes with one counter UPDATE, and many uses checked in aggregate."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from assbtrack.tracing.choices import ItemKind, ItemStatus, LineageRole
from assbtrack.tracing.models import CodeCounter, LineageEdge, StatusEvent, TracedItem
from assbtrack.tracing.selectors import lineage_downstream, lineage_upstream
from assbtrack.tracing.services import (
    edges_bulk_create,
    item_create,
    item_quarantine,
    item_release,
    items_bulk_create,
)
from tests.utils.factories import release_checks_set_aside, traced_item, use

pytestmark = pytest.mark.django_db

ITEMS = TracedItem._meta.db_table
COUNTERS = CodeCounter._meta.db_table


def statements(queries: CaptureQueriesContext, verb: str, table: str) -> list[str]:
    return [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(verb) and table in q["sql"]
    ]


# --- items_bulk_create -----------------------------------------------------------------------------------


def test_bulk_items_take_the_next_block_of_codes_with_one_counter_update(project, tech):
    item_create(kind=ItemKind.SSE_BATCH, project=project, user=tech, quantity="10", unit="g")  # SSE-000001
    with CaptureQueriesContext(connection) as queries:
        items = items_bulk_create(
            kind=ItemKind.SSE_BATCH, project=project, user=tech, quantities=["5", "6.5", None, 7], unit="g"
        )
    assert [item.code for item in items] == ["SSE-000002", "SSE-000003", "SSE-000004", "SSE-000005"]
    assert len(statements(queries, "UPDATE", COUNTERS)) == 1
    assert all(item.pk for item in items)
    stored = {item.code: item for item in TracedItem.objects.filter(kind=ItemKind.SSE_BATCH)}
    assert stored["SSE-000003"].quantity == Decimal("6.5")
    assert stored["SSE-000004"].quantity is None and stored["SSE-000004"].unit == ""
    assert stored["SSE-000005"].unit == "g" and stored["SSE-000005"].status == ItemStatus.DRAFT
    # The single path continues right after the block.
    assert item_create(kind=ItemKind.SSE_BATCH, project=project, user=tech).code == "SSE-000006"


def test_statements_grow_with_batches_not_with_rows(project, tech):
    # 10 and 50 rows both fit one INSERT batch (SQLite's 999 parameters allow 58 history rows).
    with CaptureQueriesContext(connection) as small:
        items_bulk_create(kind=ItemKind.CELL, project=project, user=tech, quantities=[1] * 10, unit="pcs")
    with CaptureQueriesContext(connection) as large:
        items_bulk_create(kind=ItemKind.CELL, project=project, user=tech, quantities=[1] * 50, unit="pcs")
    assert len(small) == len(large)
    items_bulk_create(kind=ItemKind.CELL, project=project, user=tech, quantities=[1] * 2940, unit="pcs")
    assert TracedItem.objects.filter(kind=ItemKind.CELL).count() == 3000
    assert TracedItem.objects.get(code="CELL-003000").quantity == 1


def test_a_rolled_back_block_leaves_no_gap(project, tech):
    item_create(kind=ItemKind.MODULE, project=project, user=tech)  # MOD-000001
    with pytest.raises(RuntimeError), transaction.atomic():
        items_bulk_create(kind=ItemKind.MODULE, project=project, user=tech, quantities=[None] * 50, unit="")
        raise RuntimeError("the import failed after the items were made")
    assert not TracedItem.objects.filter(code="MOD-000002").exists()
    assert item_create(kind=ItemKind.MODULE, project=project, user=tech).code == "MOD-000002"


def test_bulk_items_keep_their_creation_in_the_history(project, tech):
    items = items_bulk_create(kind=ItemKind.SHEET, project=project, user=tech, quantities=[2, 3], unit="cm2")
    history = TracedItem.history.filter(id__in=[item.pk for item in items])
    assert history.count() == 2
    assert {row.history_type for row in history} == {"+"}
    assert {row.history_user_id for row in history} == {tech.pk}


@pytest.mark.parametrize(
    ("quantities", "unit", "field"),
    [
        (["1", "NaN"], "g", "quantities"),
        ([1, "lots"], "g", "quantities"),
        ([1, -2], "g", "quantities"),
        ([Decimal("12345678901")], "g", "quantities"),  # 11 digits before the point: does not fit
        ([Decimal("1.0000001")], "g", "quantities"),  # 7 decimals
        ([1, 2], "", "unit"),
        ([1, 2], "litre", "unit"),
    ],
)
def test_bad_bulk_items_are_refused_and_nothing_is_written(project, tech, quantities, unit, field):
    before = TracedItem.objects.count()
    with pytest.raises(ValidationError) as refused:
        items_bulk_create(kind=ItemKind.MATERIAL_LOT, project=project, user=tech, quantities=quantities, unit=unit)
    assert field in refused.value.message_dict
    assert TracedItem.objects.count() == before
    assert item_create(kind=ItemKind.MATERIAL_LOT, project=project, user=tech).code == "LOT-000001"


def test_unknown_kind_is_refused(project, tech):
    with pytest.raises(ValidationError) as refused:
        items_bulk_create(kind="teapot", project=project, user=tech, quantities=[1], unit="g")
    assert "kind" in refused.value.message_dict


def test_no_quantities_make_no_items(project, tech):
    assert items_bulk_create(kind=ItemKind.CELL, project=project, user=tech, quantities=[], unit="pcs") == []
    assert not CodeCounter.objects.filter(kind=ItemKind.CELL, last_number__gt=0).exists()


# --- edges_bulk_create -----------------------------------------------------------------------------------


def lots(project, user, *quantities_g):
    return items_bulk_create(kind=ItemKind.MATERIAL_LOT, project=project, user=user,
                             quantities=list(quantities_g), unit="g")


def children(project, user, n, kind=ItemKind.SSE_BATCH):
    return items_bulk_create(kind=kind, project=project, user=user, quantities=[None] * n, unit="")


def test_bulk_uses_draw_from_their_parents_in_aggregate(project, tech):
    first, second = lots(project, tech, "100", "50")
    batches = children(project, tech, 3)
    edges_bulk_create(
        edges=[
            (first.pk, batches[0].pk, "10", "g", LineageRole.PRECURSOR),
            (first.pk, batches[1].pk, "2500", "mg", LineageRole.PRECURSOR),  # 2.5 g
            *[(second.pk, batch.pk, 7, "g", LineageRole.ELECTROLYTE) for batch in batches],
        ],
        user=tech,
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.quantity_used == Decimal("12.5")  # 10 g + 2500 mg
    assert second.quantity_used == Decimal("21")  # 3 × 7 g
    assert LineageEdge.objects.filter(parent=first).count() == 2
    stored = LineageEdge.objects.get(parent=first, child=batches[1])
    assert (stored.amount, stored.unit) == (Decimal("2.5"), "g")  # kept in the parent's unit
    downstream = lineage_downstream(second)
    assert {node.code for node in downstream.nodes.values()} == {batch.code for batch in batches}
    upstream = lineage_upstream(batches[0])
    assert {node.code for node in upstream.nodes.values()} == {first.code, second.code}


def test_an_overdrawn_parent_is_named_and_nothing_is_written(project, tech):
    ample, scarce = lots(project, tech, "100", "10")
    batches = children(project, tech, 3)
    edges = [(ample.pk, batch.pk, 1, "g", LineageRole.PRECURSOR) for batch in batches]
    # Each 4 g use fits the 10 g alone; together they need 12 g.
    edges += [(scarce.pk, batch.pk, 4, "g", LineageRole.PRECURSOR) for batch in batches]
    with pytest.raises(ValidationError) as refused:
        edges_bulk_create(edges=edges, user=tech)
    message = refused.value.message_dict["parent"][0]
    assert scarce.code in message and "10 g left" in message and "12 g" in message
    assert LineageEdge.objects.count() == 0
    ample.refresh_from_db()
    assert ample.quantity_used == 0


def test_bulk_uses_count_what_earlier_single_uses_took(project, tech):
    (lot,) = lots(project, tech, "10")
    earlier = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH, quantity=None)
    use(lot, earlier, user=tech, amount="8", unit="g")
    batches = children(project, tech, 2)
    with pytest.raises(ValidationError) as refused:
        edges_bulk_create(edges=[(lot.pk, b.pk, "1.5", "g", LineageRole.PRECURSOR) for b in batches], user=tech)
    assert "only 2 g left" in refused.value.message_dict["parent"][0]
    edges_bulk_create(edges=[(lot.pk, b.pk, "1", "g", LineageRole.PRECURSOR) for b in batches], user=tech)
    lot.refresh_from_db()
    assert lot.quantity_used == lot.quantity == Decimal("10")


def test_a_held_parent_is_refused(project, tech, sci):
    (lot,) = lots(project, tech, "10")
    item_quarantine(item=lot, user=sci, reason="moisture in the jar")
    (batch,) = children(project, tech, 1)
    with pytest.raises(ValidationError) as refused:
        edges_bulk_create(edges=[(lot.pk, batch.pk, 1, "g", LineageRole.PRECURSOR)], user=tech)
    assert "moisture in the jar" in refused.value.message_dict["parent"][0]
    assert LineageEdge.objects.count() == 0


@pytest.mark.parametrize(
    ("edge", "field"),
    [
        (lambda p, c: (p, p, 1, "g", LineageRole.PRECURSOR), "parent"),
        (lambda p, c: (p, c, 1, "g", "glue"), "role"),
        (lambda p, c: (p, c, 0, "g", LineageRole.PRECURSOR), "amount"),
        (lambda p, c: (p, c, "NaN", "g", LineageRole.PRECURSOR), "amount"),
        (lambda p, c: (p, c, None, "", LineageRole.PRECURSOR), "amount"),  # the lot has a quantity: say how much
        (lambda p, c: (p, c, 1, "pcs", LineageRole.PRECURSOR), "unit"),
        (lambda p, c: (p, c, 1), "edges"),
        (lambda p, c: (p, 10**9, 1, "g", LineageRole.PRECURSOR), "child"),
        (lambda p, c: (10**9, c, 1, "g", LineageRole.PRECURSOR), "parent"),
    ],
)
def test_bad_bulk_uses_are_refused(project, tech, edge, field):
    (lot,) = lots(project, tech, "10")
    (batch,) = children(project, tech, 1)
    with pytest.raises(ValidationError) as refused:
        edges_bulk_create(edges=[edge(lot.pk, batch.pk)], user=tech)
    assert field in refused.value.message_dict
    assert LineageEdge.objects.count() == 0


def test_a_use_repeated_in_the_batch_or_already_recorded_is_refused(project, tech):
    (lot,) = lots(project, tech, "10")
    (batch,) = children(project, tech, 1)
    twice = [(lot.pk, batch.pk, 1, "g", LineageRole.PRECURSOR)] * 2
    with pytest.raises(ValidationError) as refused:
        edges_bulk_create(edges=twice, user=tech)
    assert "twice" in refused.value.message_dict["parent"][0]
    edges_bulk_create(edges=twice[:1], user=tech)
    with pytest.raises(ValidationError) as again:
        edges_bulk_create(edges=twice[:1], user=tech)
    assert "recorded already" in again.value.message_dict["parent"][0]
    lot.refresh_from_db()
    assert lot.quantity_used == Decimal("1")  # the refused batch drew nothing


def test_a_released_parent_used_up_becomes_consumed(project, tech, sci):
    with release_checks_set_aside():
        (lot,) = lots(project, tech, "4")
        item_release(item=lot, user=sci)
    batches = children(project, tech, 2)
    edges_bulk_create(edges=[(lot.pk, b.pk, 2, "g", LineageRole.PRECURSOR) for b in batches], user=tech)
    lot.refresh_from_db()
    assert lot.status == ItemStatus.CONSUMED
    event = StatusEvent.objects.filter(item=lot).first()
    assert event.to_status == ItemStatus.CONSUMED and batches[0].code in event.reason


def test_quantity_used_grows_by_one_update_per_batch_of_parents(project, tech):
    parents = lots(project, tech, *["100"] * 5)
    batches = children(project, tech, 40)
    edges = [(parent.pk, batch.pk, "0.5", "g", LineageRole.PRECURSOR) for parent in parents for batch in batches]
    with CaptureQueriesContext(connection) as queries:
        edges_bulk_create(edges=edges, user=tech)
    updates = [q["sql"] for q in queries.captured_queries if re.search(r"\bSET\b[^,]*quantity_used", q["sql"])]
    assert len(updates) == 1
    used = set(TracedItem.objects.filter(pk__in=[p.pk for p in parents]).values_list("quantity_used", flat=True))
    assert used == {Decimal("20")}  # 40 × 0.5 g each
    assert LineageEdge.objects.count() == 200
    assert LineageEdge.history.count() == 200


def test_bulk_use_queries_do_not_grow_with_the_number_of_edges(project, tech):
    parents = lots(project, tech, "1000", "1000")
    # 10 and 80 edges both fit one INSERT batch, also on SQLite.
    few, many = children(project, tech, 5), children(project, tech, 40)
    with CaptureQueriesContext(connection) as small:
        edges_bulk_create(edges=[(p.pk, c.pk, 1, "g", LineageRole.PRECURSOR) for p in parents for c in few], user=tech)
    with CaptureQueriesContext(connection) as large:
        edges_bulk_create(edges=[(p.pk, c.pk, 1, "g", LineageRole.PRECURSOR) for p in parents for c in many],
                          user=tech)
    assert len(small) == len(large)


# --- records_bulk_create (the domain apps' bulk paths are thin wrappers around it) -------------------------


def test_bulk_records_are_checked_field_by_field_and_by_kind(project, tech):
    from assbtrack.tracing.services import records_bulk_create
    from materials.models import MaterialLot

    lots_ = lots(project, tech, "10", "20")
    good = [{"item_id": lot.pk, "chemical_name": "Lithium sulfide", "formula": "Li2S", "role": "precursor",
             "purity_percent": 99.9} for lot in lots_]
    with pytest.raises(ValidationError) as refused:
        records_bulk_create(MaterialLot, rows=[good[0], {**good[1], "role": "teapot"}], kind=ItemKind.MATERIAL_LOT,
                            user=tech)
    assert "rows.1.role" in refused.value.message_dict
    (batch,) = children(project, tech, 1)
    with pytest.raises(ValidationError) as wrong_kind:
        records_bulk_create(MaterialLot, rows=[{**good[0], "item_id": batch.pk}], kind=ItemKind.MATERIAL_LOT,
                            user=tech)
    assert "material_lot" in wrong_kind.value.message_dict["rows"][0]
    assert MaterialLot.objects.count() == 0

    made = records_bulk_create(MaterialLot, rows=good, kind=ItemKind.MATERIAL_LOT, user=tech)
    assert [lot.pk for lot in made] == [lot.pk for lot in lots_]
    assert MaterialLot.objects.get(pk=lots_[1].pk).formula == "Li2S"
    assert MaterialLot.history.count() == 2


def test_bulk_records_meet_the_database_constraints(project, tech):
    from django.db import IntegrityError

    from assbtrack.tracing.services import records_bulk_create
    from materials.models import MaterialLot

    (lot,) = lots(project, tech, "10")
    # A purity above 100 % passes the field checks (a float) but not the table's constraint.
    row = {"item_id": lot.pk, "chemical_name": "Lithium chloride", "role": "precursor", "purity_percent": 120.0}
    with pytest.raises(IntegrityError), transaction.atomic():
        records_bulk_create(MaterialLot, rows=[row], kind=ItemKind.MATERIAL_LOT, user=tech)
    assert MaterialLot.objects.count() == 0
