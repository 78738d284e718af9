"""Admin change lists of big tables: no COUNT(*) over the whole table on PostgreSQL, exact counts otherwise."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assbtrack.tracing.admin_mixins import EstimatedCountPaginator
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.services import items_bulk_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(project, tech):
    return items_bulk_create(kind=ItemKind.CELL, project=project, user=tech, quantities=[1] * 40, unit="pcs")


def count_sql(paginator) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        count = paginator.count
    return count, [query["sql"] for query in queries.captured_queries]


def test_a_filtered_list_is_counted_exactly(items, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", 0)
    paginator = EstimatedCountPaginator(TracedItem.objects.filter(kind=ItemKind.CELL).order_by("-id"), 10)
    count, sql = count_sql(paginator)
    assert count == 40
    assert any("COUNT(" in statement.upper() for statement in sql)


def test_a_small_table_is_counted_exactly(items):
    paginator = EstimatedCountPaginator(TracedItem.objects.order_by("-id"), 10)
    count, _sql = count_sql(paginator)
    assert count == 40  # far below ESTIMATE_ABOVE: exact everywhere


def test_an_unfiltered_big_list_on_postgresql_takes_the_estimate(items, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite counts exactly (it has no cheap estimate)")
    table = TracedItem._meta.db_table
    with connection.cursor() as cursor:
        # The planner's estimate says 123,456 rows (as after ANALYZE of a big table); the table holds 40.
        cursor.execute(f"UPDATE pg_class SET reltuples = 123456 WHERE oid = '{table}'::regclass")
    count, sql = count_sql(EstimatedCountPaginator(TracedItem.objects.order_by("-id"), 10))
    assert count == 123456 and len(sql) == 1 and "pg_class" in sql[0]
    # Below the threshold the same single query counts exactly.
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", 200_000)
    count, sql = count_sql(EstimatedCountPaginator(TracedItem.objects.order_by("-id"), 10))
    assert count == 40 and len(sql) == 1
