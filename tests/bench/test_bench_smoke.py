"""A smoke run of the benchmark: a tiny synthetic lab (--scale 0.01) and every workload on it, in-process.

Not a measurement (the suite's machine is busy): it proves the lab builds through the bulk services, that
each workload runs and reports, and that a lineage trace stays one query. ``make bench`` measures.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.models import LineageEdge, TracedItem
from bench.synth import SYNTH_PROJECT, campaign_factors, plan_campaign
from bench.workloads import WORKLOADS

# Every row the table must have, by the start of its workload name.
EXPECTED_ROWS = (
    "lineage upstream of a cell",
    "lineage downstream of a busy precursor lot",
    "API /api/v1/items/",
    "API /api/v1/cells/",
    "export all cells as CSV",
    "admin change list /admin/tracing/traceditem/",
    "admin change list /admin/cells/cell/",
    "module_efficiency_sweep",
    "plot:",
    "cycler file:",
    "job round trip",
)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_synth_lab_and_bench_on_it(celery_worker_process, tmp_path):
    out = StringIO()
    call_command("synth_lab", "--scale", "0.01", "--seed", "7", stdout=out)
    assert "synthetic lab at scale 0.01" in out.getvalue()
    items = TracedItem.objects.filter(project__code=SYNTH_PROJECT)
    kinds = set(items.values_list("kind", flat=True))
    assert kinds == set(ItemKind.values)  # lots, batches, three kinds of film, sheets, cells, modules
    assert LineageEdge.objects.count() > items.count()  # shared ancestors: more uses than items
    # Mass balance held through the bulk path: no item is drawn beyond its quantity.
    assert all(item.quantity_used <= item.quantity for item in items.exclude(quantity=None))

    report = tmp_path / "bench.json"
    out = StringIO()
    call_command("bench", "--worker", "running", "--quick", "--json", str(report), "--scale-label", "smoke",
                 stdout=out)
    printed = out.getvalue()
    rows = json.loads(report.read_text())["rows"]
    names = [row["workload"] for row in rows]
    for expected in EXPECTED_ROWS:
        assert any(name.startswith(expected) for name in names), f"no row for {expected!r} in {names}"
        assert expected in printed
    assert not [row for row in rows if row["figures"].startswith("FAILED")], printed
    lineage_rows = [row for row in rows if row["workload"].startswith("lineage")]
    assert lineage_rows and all(row["data"]["queries"] == 1 for row in lineage_rows), lineage_rows
    assert all(row["data"]["reference_queries"] == row["data"]["items"] + 1 for row in lineage_rows), lineage_rows
    assert all("1 query," in row["figures"] for row in lineage_rows)
    # The honest references (issue 19): beside every figure, what the database alone does with the same SQL.
    for row in lineage_rows:
        assert row["data"]["p95_ms"] > 0 and row["data"]["sql_only_ms"] > 0, row
    api_rows = [row for row in rows if row["workload"].startswith("API /api/v1/")]
    assert len(api_rows) >= 2
    for row in api_rows:
        data = row["data"]
        assert data["queries_500"] >= 1 and data["p95_500_ms"] > 0 and data["sql_only_500_ms"] > 0, row
        assert data["queries_500"] == data["list_500"]["queries"]
    export_rows = [row for row in rows if row["workload"].startswith("export all")]
    assert export_rows
    for row in export_rows:
        data = row["data"]
        assert data["rows_per_s"] > 0 and data["copy_same_content_rows_per_s"] > 0, row
        assert data["copy_same_content_bytes"] > 0 and data["rss_growth_fresh_process"] is True, row
        assert data["rss_growth_mb"] >= 0 and data["fresh_rows"] == data["rows"], row
    cells_export = next(row for row in export_rows if "cells" in row["workload"])
    same_columns = set(cells_export["data"]["copy_same_content_columns"])
    assert {"code", "layers", "densifications", "cycling_tests"} <= same_columns


@pytest.mark.django_db
def test_the_same_content_reference_nests_what_the_api_nests():
    """The export's database-alone reference (bench.same_content) gives each cell the layers the API gives it."""
    from django.db import connection
    from django.test import Client

    from assbtrack.access.services import api_token_create
    from bench.runner import lab_users
    from bench.same_content import same_content_sql
    from cells.api import CellViewSet

    call_command("synth_lab", "--scale", "0.01", "--seed", "7", stdout=StringIO())
    partner = lab_users()["partner"]
    _token, key = api_token_create(user=partner, name="same content")
    listed = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/cells/?page_size=500")
    assert listed.status_code == 200
    by_code = {cell["code"]: cell for cell in listed.json()["results"]}
    assert len(by_code) == 14  # 1,400 cells a campaign at scale 0.01

    sql, params, columns = same_content_sql(CellViewSet.queryset.all(), CellViewSet.serializer_class())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        reference = cursor.fetchall()
    assert len(reference) == len(by_code)
    code_at, layers_at = columns.index("code"), columns.index("layers")
    for row in reference:
        layers = row[layers_at] if isinstance(row[layers_at], list) else json.loads(row[layers_at])
        api_layers = by_code[row[code_at]]["layers"]
        assert [(layer["position"], layer["cathode"], layer["separator"]) for layer in layers] == [
            (layer["position"], layer["cathode"], layer["separator"]) for layer in api_layers
        ]
        assert layers, "every synthetic cell has at least one layer"


@pytest.mark.django_db
def test_a_second_lab_in_the_same_database_is_refused():
    call_command("synth_lab", "--scale", "0.01", stdout=StringIO())
    with pytest.raises(CommandError, match="holds a synthetic lab already"):
        call_command("synth_lab", "--scale", "0.01", stdout=StringIO())
    out = StringIO()
    call_command("synth_lab", "--scale", "0.01", "--reuse", stdout=out)
    assert "reusing" in out.getvalue()
    with pytest.raises(CommandError, match="another synthetic lab"):
        call_command("synth_lab", "--scale", "0.02", "--reuse", stdout=StringIO())


def test_bench_refuses_a_database_without_a_lab(db):
    with pytest.raises(CommandError, match="no synthetic lab"):
        call_command("bench", "--worker", "skip", stdout=StringIO())


def test_bench_refuses_an_unknown_workload(db):
    with pytest.raises(CommandError, match="unknown workload"):
        call_command("bench", "--only", "teleport", stdout=StringIO())


def test_the_plan_is_seeded_and_scales():
    import random

    first = plan_campaign(random.Random(3), 1).counts()
    assert first == plan_campaign(random.Random(3), 1).counts()
    small = plan_campaign(random.Random(3), 0.01).counts()
    assert all(count >= 1 for count in small.values()), small
    assert small["cells"] == 14 and first["cells"] == 1400  # 1,400 cells a campaign, scaled
    # A campaign is about 10⁴ items with about two uses per item.
    assert 8_000 <= sum(first.values()) <= 12_000
    assert campaign_factors(100) == [1.0] * 100
    assert campaign_factors(2.5) == pytest.approx([2.5 / 3] * 3)
    assert campaign_factors(0.01) == [0.01]


def test_every_workload_has_a_name():
    names = [name for name, _ in WORKLOADS]
    assert names == ["lineage", "api", "export", "admin", "sweep", "plot", "cycler", "job"]


def test_cycler_workload_reports_rows_per_second_beside_navani():
    from bench.workloads import BenchContext, cycler_read

    (row,) = cycler_read(BenchContext(users={}, quick=True))
    assert row.data["assbtrack"]["points"] == row.data["navani"]["points"] == 200_000
    assert row.data["assbtrack"]["rows_per_s"] > 0 and row.data["navani"]["rows_per_s"] > 0
    assert "rows/s" in row.figures and "navani" in row.reference and row.met
