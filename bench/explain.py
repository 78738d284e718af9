"""``manage.py bench --explain``: PostgreSQL's plans for the lineage walks and the API list pages.

Each plan is run with EXPLAIN (ANALYZE, BUFFERS) on the lab, and summarised by the indexes it uses and
any sequential scan of a big table (which a page of 50 rows must not need).
"""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from assbtrack.tracing.selectors import DOWNSTREAM, UPSTREAM, _walk_sql

BIG_TABLE_ROWS = 50_000


def _plan(sql: str, params: list) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def _big_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > %s", [BIG_TABLE_ROWS])
        return {row[0] for row in cursor.fetchall()}


def summary(lines: list[str], big: set[str]) -> str:
    text = "\n".join(lines)
    indexes = sorted(set(re.findall(r"Index(?: Only)? Scan(?: Backward)? using (\S+)", text)))
    seq = sorted({table for table in re.findall(r"Seq Scan on (\S+)", text) if table in big})
    time_ms = re.search(r"Execution Time: ([\d.]+) ms", text)
    return (f"indexes: {', '.join(indexes) or 'none'}; sequential scans of big tables: {', '.join(seq) or 'none'}; "
            f"{time_ms.group(1) if time_ms else '?'} ms")


def page_sql(client, url: str, table: str) -> tuple[str, list]:
    """The SQL of the page's main SELECT on ``table`` (the first query that reads it)."""
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    for query in queries.captured_queries:
        if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"]:
            return query["sql"], []
    raise RuntimeError(f"no query on {table} for {url}")


def explain(ctx, write) -> None:
    from .workloads import _partner_client, busiest_cell, busiest_precursor_lot

    if connection.vendor != "postgresql":
        write("--explain needs PostgreSQL (SQLite's EXPLAIN QUERY PLAN is not comparable)")
        return
    big = _big_tables()
    targets = []
    lot, cell = busiest_precursor_lot(), busiest_cell()
    targets.append((f"lineage downstream of {lot.code}", _walk_sql(DOWNSTREAM), [lot.pk]))
    targets.append((f"lineage upstream of {cell.code}", _walk_sql(UPSTREAM), [cell.pk]))
    client = _partner_client(ctx)
    for prefix, table in (("items", "tracing_traceditem"), ("cells", "cells_cell"), ("sheets", "electrodes_sheet")):
        sql, params = page_sql(client, f"/api/v1/{prefix}/?page_size=50", table)
        targets.append((f"API /api/v1/{prefix}/ page of 50", sql, params))
    for label, sql, params in targets:
        lines = _plan(sql, params)
        write(f"== {label}: {summary(lines, big)}")
        for line in lines:
            write(f"   {line}")
