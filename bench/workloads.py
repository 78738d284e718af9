"""The benchmark's workloads: plain functions of a ``BenchContext`` returning ``Row``s.

Each compares assbtrack's path with a reference measured in the same run on the same data: a naive
walk of the same graph, the scalar model in a loop, the database driver alone. Budgets are the ones
of the Performance section of the README (issue 10); a row says whether its budget is met.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count

from assbtrack.tracing.choices import ItemKind, LineageRole
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.selectors import DOWNSTREAM, UPSTREAM, lineage_trace

from .measure import Timing, captured_sql, ms, plural, run_timed, sql_only_timing
from .report import Row

ROOT = Path(__file__).resolve().parent.parent

LINEAGE_BUDGET_MS = 50.0
LINEAGE_BUDGET_ITEMS = 5000
SWEEP_BUDGET_RATIO = 20.0
JOB_BUDGET_OVERHEAD_S = 1.0


@dataclass
class BenchContext:
    """What the workloads share: the users, how to reach a worker, how many repetitions, a log."""

    users: dict[str, User]
    worker: str = "start"  # "start" a worker subprocess, use a "running" one, or "skip" the job row
    quick: bool = False  # fewer repetitions (the smoke test)
    log: Callable[[str], None] = lambda line: None
    state: dict = field(default_factory=dict)

    def runs(self, full: int, quick: int = 2) -> int:
        return quick if self.quick else full


# --- lineage ---------------------------------------------------------------------------------------------


def naive_walk(item: TracedItem, direction: str) -> dict[int, str]:
    """The reference: breadth first, ONE query per node (its edges with the far item), as a loop of
    ``LineageEdge.objects.filter(...)`` would do. Returns {item id: code} of everything reached."""
    near, far = ("child_id", "parent") if direction == UPSTREAM else ("parent_id", "child")
    reached: dict[int, str] = {}
    frontier = [item.pk]
    seen = {item.pk}
    while frontier:
        following = []
        for node_id in frontier:
            for edge in LineageEdge.objects.filter(**{near: node_id}).select_related(far):
                other = getattr(edge, far)
                if other.pk not in seen:
                    seen.add(other.pk)
                    reached[other.pk] = other.code
                    following.append(other.pk)
        frontier = following
    return reached


def busiest_cell() -> TracedItem | None:
    """Of the latest cells, the one with the most inputs (layers and foil): the deepest upstream trace."""
    latest = TracedItem.objects.filter(kind=ItemKind.CELL).order_by("-id").values("id")[:500]
    row = (
        LineageEdge.objects.filter(child_id__in=latest).values("child_id").annotate(n=Count("id"))
        .order_by("-n", "-child_id").first()
    )
    return TracedItem.objects.get(pk=row["child_id"]) if row else None


def busiest_precursor_lot() -> TracedItem | None:
    """Of the latest material lots used as precursors, the one that fed the most batches."""
    latest = TracedItem.objects.filter(kind=ItemKind.MATERIAL_LOT).order_by("-id").values("id")[:300]
    row = (
        LineageEdge.objects.filter(parent_id__in=latest, role=LineageRole.PRECURSOR).values("parent_id")
        .annotate(n=Count("id")).order_by("-n", "-parent_id").first()
    )
    return TracedItem.objects.get(pk=row["parent_id"]) if row else None


def _lineage_row(label: str, item: TracedItem, direction: str, ctx: BenchContext) -> Row:
    ours = run_timed(lambda: lineage_trace(item, direction=direction), runs=ctx.runs(20, 3))
    naive = run_timed(lambda: naive_walk(item, direction), runs=ctx.runs(2, 1), warmup=0, count_in_timed=True)
    sql_only = sql_only_timing(captured_sql(lambda: lineage_trace(item, direction=direction)), runs=ctx.runs(20, 3))
    items = len(ours.result)
    if set(ours.result.nodes) != set(naive.result):
        raise AssertionError(f"{label}: the recursive query and the naive walk disagree for {item.code}")
    within = items <= LINEAGE_BUDGET_ITEMS
    met = (ours.queries == 1 and ours.p95_ms <= LINEAGE_BUDGET_MS) if within else None
    note = ""
    if not within:
        note = f"{items:,} items is beyond the budget's 5,000; the time is shown, not judged"
    elif not met:
        note = f"p95 {ours.p95_ms:.1f} ms with {plural(ours.queries, 'query', 'queries')}: over budget"
    return Row(
        workload=f"lineage {label} ({item.code})",
        figures=f"{items:,} items, {plural(ours.queries, 'query', 'queries')}, median {ms(ours.median_ms)}, "
                f"p95 {ms(ours.p95_ms)}",
        reference=f"naive walk: {naive.queries:,} queries, {ms(naive.median_ms)}; its SQL alone: "
                  f"{ms(sql_only.median_ms)}",
        ratio=naive.median_ms / ours.median_ms,
        budget="≤ 5,000 items in ≤ 50 ms (p95), 1 query",
        met=met,
        note=note,
        data={"items": items, "queries": ours.queries, "median_ms": ours.median_ms, "p95_ms": ours.p95_ms,
              "reference_queries": naive.queries, "reference_median_ms": naive.median_ms,
              "sql_only_ms": sql_only.median_ms, "sql_only_p95_ms": sql_only.p95_ms,
              "over_sql_only": ours.median_ms / sql_only.median_ms if sql_only.median_ms else None},
    )


def busiest_binder_lot() -> TracedItem | None:
    """Of the latest lots used as binder, the one that went into the most films: the widest recall."""
    latest = TracedItem.objects.filter(kind=ItemKind.MATERIAL_LOT).order_by("-id").values("id")[:300]
    row = (
        LineageEdge.objects.filter(parent_id__in=latest, role=LineageRole.BINDER).values("parent_id")
        .annotate(n=Count("id")).order_by("-n", "-parent_id").first()
    )
    return TracedItem.objects.get(pk=row["parent_id"]) if row else None


def lineage(ctx: BenchContext) -> list[Row]:
    rows = []
    cell = busiest_cell()
    lot = busiest_precursor_lot()
    if cell is None or lot is None:
        raise RuntimeError("no cells or precursor lots: build the lab first (manage.py synth_lab --scale N)")
    rows.append(_lineage_row("upstream of a cell", cell, UPSTREAM, ctx))
    rows.append(_lineage_row("downstream of a busy precursor lot", lot, DOWNSTREAM, ctx))
    binder = busiest_binder_lot()
    if binder is not None and not ctx.quick:
        rows.append(_lineage_row("downstream of a binder lot (every film of a campaign)", binder, DOWNSTREAM, ctx))
    return rows


# --- the module efficiency sweep --------------------------------------------------------------------------

SWEEP_CELL = {
    "cell_specific_energy_wh_per_kg": 400.0,
    "cell_energy_density_wh_per_l": 1000.0,
    "cell_length_mm": 300.0,
    "cell_width_mm": 100.0,
}


def sweep(ctx: BenchContext) -> list[Row]:
    import numpy as np

    from modules.housing import (
        DEFAULT_STACK_PRESSURES_MPA,
        DEFAULT_SYSTEM_SIZES_KWH,
        ModuleDesign,
        module_efficiency,
        module_efficiency_sweep,
    )

    pressures, sizes = DEFAULT_STACK_PRESSURES_MPA, DEFAULT_SYSTEM_SIZES_KWH  # 50 pressures × 3 sizes

    def vectorised():
        return module_efficiency_sweep(stack_pressures_mpa=pressures, system_sizes_kwh=sizes, **SWEEP_CELL)

    def scalar_loop():
        return [
            [module_efficiency(ModuleDesign(system_energy_kwh=size, stack_pressure_mpa=pressure, **SWEEP_CELL))
             .gravimetric_efficiency for pressure in pressures]
            for size in sizes
        ]

    ours = run_timed(vectorised, runs=ctx.runs(200, 5))
    loop = run_timed(scalar_loop, runs=ctx.runs(20, 2))
    if not np.allclose(ours.result.gravimetric_efficiency, np.array(loop.result), rtol=1e-12):
        raise AssertionError("the vectorised sweep and the scalar loop disagree")
    ratio = loop.median_ms / ours.median_ms
    met = ratio >= SWEEP_BUDGET_RATIO
    return [Row(
        workload=f"module_efficiency_sweep ({len(pressures)} pressures × {len(sizes)} sizes)",
        figures=f"median {ours.median_ms:.3f} ms",
        reference=f"scalar module_efficiency in a loop: {ms(loop.median_ms)}",
        ratio=ratio, budget="≥ 20× the scalar loop", met=met,
        note="" if met else f"only {ratio:.1f}× faster than the loop",
        data={"median_ms": ours.median_ms, "reference_median_ms": loop.median_ms,
              "points": len(pressures) * len(sizes)},
    )]


# --- plot rendering ---------------------------------------------------------------------------------------


def plot(ctx: BenchContext) -> list[Row]:
    from assbtrack.domain.plotting import figure_bytes
    from modules.housing import run_module_efficiency_sweep
    from modules.plots import efficiency_sweep_figure

    curves = run_module_efficiency_sweep(SWEEP_CELL)["curves"]

    def render(fmt: str):
        return figure_bytes(efficiency_sweep_figure(curves, "Cell-to-module efficiency, synthetic cell"), fmt)

    png = run_timed(lambda: render("png"), runs=ctx.runs(5, 1))
    svg = run_timed(lambda: render("svg"), runs=ctx.runs(5, 1))
    return [Row(
        workload="plot: efficiency sweep figure (3 panels) as PNG and SVG",
        figures=f"PNG {ms(png.median_ms)} ({len(png.result) / 1000:.0f} kB), SVG {ms(svg.median_ms)} "
                f"({len(svg.result) / 1000:.0f} kB)",
        reference="", ratio=None, budget="runs on a worker, never in a request", met=None,
        data={"png_ms": png.median_ms, "svg_ms": svg.median_ms, "png_bytes": len(png.result),
              "svg_bytes": len(svg.result)},
    )]


# --- a job round trip through a real worker --------------------------------------------------------------


def database_url() -> str:
    """The URL of the database this process uses, for a worker subprocess to open the same one."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class BenchWorker:
    """A ``celery worker`` subprocess on this process's broker and database; ``stop()`` ends it."""

    def __init__(self) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix="bench-worker-", suffix=".log")[1])
        env = subprocess_env()
        celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        self._log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            # no -Q: the worker consumes this instance's queues (<instance>.models, .plots, .imports)
            [celery, "-A", "assbtrack", "worker", "-c", "1", "--pool", "prefork",
             "--loglevel", "INFO", "-n", f"bench-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the benchmark's worker exited at start; see {self.log_path}")
            if "ready." in self.log_path.read_text():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the benchmark's worker did not start within 90 s; see {self.log_path}")

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def job_round_trip(ctx: BenchContext) -> list[Row]:
    from assbtrack.jobs.models import Job, JobStatus
    from assbtrack.jobs.services import job_submit

    if ctx.worker == "skip":
        return [Row(workload="job round trip (diagnostic, 0 s)", figures="skipped (--worker skip)",
                    budget="≤ 1 s + compute", met=None, note="not measured: no worker was asked for")]
    worker = BenchWorker() if ctx.worker == "start" else None
    try:
        totals, computes = [], []
        for attempt in range(ctx.runs(5, 2)):
            note = f"bench round trip {time.time_ns()}-{attempt}"  # new inputs: never a reused result
            started = time.perf_counter()
            job = job_submit(kind="diagnostic", inputs={"seconds": 0, "note": note}, user=ctx.users["scientist"])
            deadline = started + 60
            while True:
                row = Job.objects.filter(pk=job.pk).values("status", "started_at", "finished_at", "error").get()
                if row["status"] in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                    break
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"job {job.pk} did not finish within 60 s; is a worker running on "
                                       f"{settings.CELERY_BROKER_URL} with this database?")
                time.sleep(0.005)
            total = time.perf_counter() - started
            if row["status"] != JobStatus.SUCCEEDED:
                raise RuntimeError(f"the diagnostic job failed: {row['error']}")
            totals.append(total)
            computes.append((row["finished_at"] - row["started_at"]).total_seconds())
    finally:
        if worker is not None:
            worker.stop()
    timing = Timing(seconds=totals, queries=0)
    overheads = [total - compute for total, compute in zip(totals, computes)]
    worst = max(overheads)
    met = worst <= JOB_BUDGET_OVERHEAD_S
    return [Row(
        workload="job round trip through a real worker (diagnostic, 0 s)",
        figures=f"submit → done median {ms(timing.median_ms)}, worst {ms(max(totals) * 1000)} "
                f"(compute {ms(max(computes) * 1000)})",
        reference="", ratio=None, budget="≤ 1 s + compute", met=met,
        note="" if met else f"worst overhead {worst:.2f} s",
        data={"median_ms": timing.median_ms, "worst_ms": max(totals) * 1000, "compute_ms": max(computes) * 1000,
              "runs": len(totals)},
    )]


# --- the partner API: lists at 50 and 500 rows, and details ----------------------------------------------

API_BUDGET_QUERIES = 4  # token and user, roles, the page, what of the page is affected (one lineage query)
API_BUDGET_P95_MS = 100.0
# The lists partners pull, in the order of the chain (the items list is the core's).
API_LISTS = ("items", "material-lots", "sse-batches", "conductivity-measurements", "films", "sheets", "cells",
             "modules")


def _partner_client(ctx: BenchContext):
    """A test client that speaks to the API as the lab's partner, with a token (the way partners do)."""
    from django.test import Client

    from assbtrack.access.services import api_token_create

    if "partner_client" not in ctx.state:
        _token, key = api_token_create(user=ctx.users["partner"], name=f"bench {time.time_ns()}", lifetime_days=1)
        ctx.state["partner_client"] = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")
    return ctx.state["partner_client"]


def _get(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    return response


def _request_timing(client, url: str, runs: int) -> Timing:
    return run_timed(lambda: _get(client, url), runs=runs)


def api(ctx: BenchContext) -> list[Row]:
    from assbtrack.api.urls import router

    client = _partner_client(ctx)
    registered = {prefix for prefix, _viewset, _basename in router.registry}
    rows = []
    for prefix in API_LISTS:
        if prefix not in registered:
            continue
        base = f"/api/v1/{prefix}/"
        figures, data, met, problems = [], {}, True, []
        for size in (50, 500):
            timing = _request_timing(client, f"{base}?page_size={size}", ctx.runs(20, 2))
            shown = len(timing.result.json()["results"])
            data[f"list_{size}"] = {"queries": timing.queries, "median_ms": timing.median_ms,
                                    "p95_ms": timing.p95_ms, "rows": shown}
            figures.append(f"{size}: {plural(timing.queries, 'query', 'queries')}, p95 {ms(timing.p95_ms)}")
            if size == 500:
                url = f"{base}?page_size={size}"
                sql_only = sql_only_timing(captured_sql(lambda url=url: _get(client, url)), runs=ctx.runs(20, 2))
                data |= {"queries_500": timing.queries, "p95_500_ms": timing.p95_ms,
                         "median_500_ms": timing.median_ms, "sql_only_500_ms": sql_only.median_ms,
                         "over_sql_only_500": timing.median_ms / sql_only.median_ms if sql_only.median_ms else None}
                figures.append(f"its SQL alone {ms(sql_only.median_ms)}")
            if timing.queries > API_BUDGET_QUERIES or timing.p95_ms > API_BUDGET_P95_MS:
                met = False
                problems.append(f"list of {size}: {timing.queries} queries, p95 {timing.p95_ms:.0f} ms")
        first = _get(client, f"{base}?page_size=1").json()["results"]
        if first:
            code = first[0].get("code") or first[0].get("item_code") or first[0].get("id")
            detail = _request_timing(client, f"{base}{code}/", ctx.runs(20, 2))
            data["detail"] = {"queries": detail.queries, "median_ms": detail.median_ms, "p95_ms": detail.p95_ms}
            figures.append(f"detail: {plural(detail.queries, 'query', 'queries')}, p95 {ms(detail.p95_ms)}")
            if detail.queries > API_BUDGET_QUERIES or detail.p95_ms > API_BUDGET_P95_MS:
                met = False
                problems.append(f"detail: {detail.queries} queries, p95 {detail.p95_ms:.0f} ms")
        rows.append(Row(
            workload=f"API {base} (partner token)", figures="; ".join(figures), reference="", ratio=None,
            budget=f"≤ {API_BUDGET_QUERIES} queries, p95 ≤ 100 ms", met=met, note="; ".join(problems), data=data,
        ))
    return rows


# --- export of all cells as CSV ---------------------------------------------------------------------------

EXPORT_BUDGET_ROWS_PER_S = 40_000
EXPORT_BUDGET_MB_PER_MILLION = 50.0


class _NullSink:
    """A CSV writer's file that keeps only the number of characters written."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, value):
        self.size += len(value)
        return len(value)


def _stream(response) -> tuple[int, int]:
    """Consume a streamed CSV: (rows without the header, bytes)."""
    rows = size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    return rows - 1, size


def _export_sql(queryset) -> tuple[str, list]:
    """The SQL of the rows the export reads (the model's own columns), for the driver-only references."""
    sql, params = queryset.order_by().values_list(*[f.attname for f in queryset.model._meta.concrete_fields]) \
        .query.sql_with_params()
    return sql, list(params)


def _driver_read(sql: str, params: list) -> int:
    """The reference: the same rows through the DB-API cursor alone (streamed), each written as CSV."""
    return _driver_csv(sql, params)[0]


def _driver_csv(sql: str, params: list) -> tuple[int, int]:
    """``_driver_read``, also giving the size of the CSV written (rows, characters)."""
    import csv

    from django.db import transaction

    sink = _NullSink()
    writer = csv.writer(sink)
    rows = 0
    with transaction.atomic():  # a PostgreSQL server-side cursor lives in a transaction
        raw = connection.connection
        cursor = raw.cursor(name="bench_export") if connection.vendor == "postgresql" else raw.cursor()
        if connection.vendor != "postgresql":
            sql = sql.replace("%s", "?")
        cursor.execute(sql, params)
        while True:
            chunk = cursor.fetchmany(2000)
            if not chunk:
                break
            writer.writerows(chunk)
            rows += len(chunk)
        cursor.close()
    return rows, sink.size


def _copy_read(sql: str, params: list) -> int:
    """PostgreSQL's COPY of the same query to CSV: what the database alone can stream."""
    connection.ensure_connection()
    size = 0
    with connection.connection.cursor() as cursor:
        query = cursor.mogrify(sql, params)
        with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                size += len(block)
    return size


# The exports measured: (API prefix, viewset) — a nested list and the flat list of every item.
EXPORTS = (("cells", "cells.api.CellViewSet"), ("items", "assbtrack.tracing.api.TracedItemViewSet"))


def _viewset(path: str):
    module_name, class_name = path.rsplit(".", 1)
    return getattr(__import__(module_name, fromlist=[class_name]), class_name)


def _same_content_read(viewset, user) -> dict:
    """The reference of an export: the same columns and nesting made by the database alone (bench.same_content),
    over the rows the user's export reads; COPY to CSV on PostgreSQL, a raw sqlite3 cursor on SQLite."""
    from assbtrack.access.selectors import scope_to_user

    from .same_content import same_content_sql

    queryset = scope_to_user(viewset.queryset.all(), user, project_field=viewset.project_field)
    sql, params, columns = same_content_sql(queryset, viewset.serializer_class())
    rows = queryset.count()
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        size = _copy_read(sql, params)
    else:
        size = _driver_csv(sql, params)[1]
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds if seconds else 0.0, "bytes": size,
            "columns": columns}


def subprocess_env() -> dict:
    """This process's database and broker for a subprocess (a worker, a fresh export), test settings included."""
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
           "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "assbtrack.settings.dev"),
           "DEBUG": "0", "PYTHONUNBUFFERED": "1", "ASSBTRACK_INSTANCE": settings.ASSBTRACK_INSTANCE}
    if env["DJANGO_SETTINGS_MODULE"].endswith(".test"):
        env["TEST_DATABASE_URL"] = env["DATABASE_URL"]
        env["ASSBTRACK_TEST_BROKER_URL"] = settings.CELERY_BROKER_URL
        env["ASSBTRACK_TEST_INSTANCE"] = settings.ASSBTRACK_INSTANCE
    return env


def _fresh_export(ctx: BenchContext, path: str) -> dict:
    """The same export in a fresh process (bench.fresh_export): its memory growth is the honest one."""
    import json

    from assbtrack.access.services import api_token_create

    _token, key = api_token_create(user=ctx.users["partner"], name=f"bench fresh {time.time_ns()}", lifetime_days=1)
    done = subprocess.run([sys.executable, "-m", "bench.fresh_export", path], cwd=ROOT, capture_output=True,
                          text=True, timeout=3600, env=subprocess_env() | {"BENCH_API_KEY": key})
    if done.returncode != 0:
        raise RuntimeError(f"the fresh export process failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def export(ctx: BenchContext) -> list[Row]:
    from .measure import RssPeak

    client = _partner_client(ctx)
    rows = []
    for prefix, viewset_path in EXPORTS:
        if prefix == "items" and ctx.quick:
            continue
        viewset = _viewset(viewset_path)
        model = viewset.queryset.model
        url = f"/api/v1/{prefix}/?export=csv"
        with RssPeak() as memory:
            started = time.perf_counter()
            response = client.get(url)
            exported, size = _stream(response)
            seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        rate = exported / seconds if seconds else 0.0
        sql, params = _export_sql(model.objects.all())
        started = time.perf_counter()
        driver_rows = _driver_read(sql, params)
        driver_s = time.perf_counter() - started
        driver_rate = driver_rows / driver_s if driver_s else 0.0
        same = _same_content_read(viewset, ctx.users["partner"])
        fresh = _fresh_export(ctx, f"/api/v1/{prefix}/")
        engine = "COPY" if connection.vendor == "postgresql" else "raw sqlite3 cursor"
        reference = f"same content by the database ({engine}): {same['rows_per_s']:,.0f} rows/s"
        reference += f" ({same['bytes'] / 1e6:,.1f} MB)"
        reference += f"; table alone, driver cursor: {driver_rate:,.0f} rows/s"
        data = {"rows": exported, "bytes": size, "seconds": seconds, "rows_per_s": rate,
                "copy_same_content_rows_per_s": same["rows_per_s"], "copy_same_content_bytes": same["bytes"],
                "copy_same_content_engine": engine, "copy_same_content_columns": same["columns"],
                "rss_growth_mb": fresh["growth_mb"], "rss_growth_fresh_process": True,
                "rss_growth_warm_mb": memory.growth_mb, "fresh_rows": fresh["rows"],
                "fresh_rows_per_s": fresh["rows"] / fresh["seconds"] if fresh["seconds"] else 0.0,
                "driver_rows_per_s": driver_rate}
        if connection.vendor == "postgresql":
            started = time.perf_counter()
            _copy_read(sql, params)
            copy_s = time.perf_counter() - started
            data["copy_rows_per_s"] = driver_rows / copy_s if copy_s else 0.0
            reference += f"; COPY of the table alone: {data['copy_rows_per_s']:,.0f} rows/s"
        growth_mb = fresh["growth_mb"]
        mb_per_million = growth_mb * 1e6 / max(exported, 1)
        fast = rate >= EXPORT_BUDGET_ROWS_PER_S
        flat = mb_per_million <= EXPORT_BUDGET_MB_PER_MILLION
        met = (fast and flat) if exported >= 10_000 else None
        problems = []
        if met is False:
            if not fast:
                problems.append(f"{rate:,.0f} rows/s is below 40,000")
            if not flat:
                problems.append(f"memory grew {growth_mb:.0f} MB in a fresh process")
        elif met is None:
            problems.append("too few rows to judge a rate")
        ratio = rate / same["rows_per_s"] if same["rows_per_s"] else None
        rows.append(Row(
            workload=f"export all {prefix} as CSV (?export=csv, streamed)",
            figures=f"{exported:,} rows, {size / 1e6:,.1f} MB in {seconds:,.1f} s: {rate:,.0f} rows/s; "
                    f"memory +{growth_mb:.1f} MB in a fresh process (+{memory.growth_mb:.1f} MB warm)",
            reference=reference, ratio=ratio,
            budget="≥ 40,000 rows/s; ≤ 50 MB growth for 10⁶ rows", met=met, note="; ".join(problems),
            data=data | {"mb_per_million_rows": mb_per_million},
        ))
    return rows


# --- admin change lists of the largest tables -------------------------------------------------------------

ADMIN_BUDGET_QUERIES = 6
ADMIN_BUDGET_MS = 500.0
ADMIN_LISTS = ("tracing/traceditem", "tracing/lineageedge", "electrodes/sheet", "cells/cell",
               "materials/synthesisbatch", "electrodes/film")


def admin(ctx: BenchContext) -> list[Row]:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(ctx.users["admin"])
    rows = []
    for path in ADMIN_LISTS:
        url = f"/admin/{path}/"
        timing = _request_timing(client, url, ctx.runs(10, 2))
        met = timing.queries <= ADMIN_BUDGET_QUERIES and timing.p95_ms <= ADMIN_BUDGET_MS
        rows.append(Row(
            workload=f"admin change list {url}",
            figures=f"{plural(timing.queries, 'query', 'queries')}, median {ms(timing.median_ms)}, "
                    f"p95 {ms(timing.p95_ms)}",
            reference="", ratio=None, budget="≤ 6 queries, ≤ 500 ms", met=met,
            note="" if met else f"{timing.queries} queries, p95 {timing.p95_ms:.0f} ms",
            data={"queries": timing.queries, "median_ms": timing.median_ms, "p95_ms": timing.p95_ms},
        ))
    return rows


def cycler_read(ctx: BenchContext) -> list[Row]:
    """A synthetic BDF CSV read by assbtrack's chunked reader and by navani, each in a fresh process."""
    from .cycler import measure_in_subprocess, write_cycling_bdf_csv

    points = 200_000 if ctx.quick else 2_000_000
    with tempfile.TemporaryDirectory(prefix="assbtrack-bench-cycler-") as folder:
        path = Path(folder) / "bench.bdf.csv"
        write_cycling_bdf_csv(path, points)
        ours = measure_in_subprocess(path)
        theirs = measure_in_subprocess(path, navani=True)
    ratio = ours["rows_per_s"] / theirs["rows_per_s"] if theirs["rows_per_s"] else None
    return [Row(
        workload=f"cycler file: {ours['file_mb']:.0f} MB CSV, {points:,} points, read into per-cycle sums",
        figures=f"{ours['rows_per_s']:,.0f} rows/s, peak +{ours['peak_growth_mb']:.0f} MB",
        reference=f"navani's own read: {theirs['rows_per_s']:,.0f} rows/s, peak +{theirs['peak_growth_mb']:.0f} MB",
        ratio=ratio, budget="500 MB file under 1 GB of memory", met=ours["peak_growth_mb"] < 1024 - 200,
        data={"assbtrack": ours, "navani": theirs},
    )]


# The order of the table.
WORKLOADS: list[tuple[str, Callable[[BenchContext], list[Row]]]] = [
    ("lineage", lineage),
    ("api", api),
    ("export", export),
    ("admin", admin),
    ("sweep", sweep),
    ("plot", plot),
    ("cycler", cycler_read),
    ("job", job_round_trip),
]


def api_list_paths() -> list[str]:
    """Every list endpoint of the partner API (/api/v1/<prefix>/), from the router."""
    from assbtrack.api.urls import router

    return [f"/api/v1/{prefix}/" for prefix, _viewset, _basename in router.registry]
