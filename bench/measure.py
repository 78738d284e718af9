"""Timing, query counting and memory sampling for the workloads."""

from __future__ import annotations

import gc
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Timing:
    """Seconds per run of ``runs`` runs; the result of the last run is kept for checks."""

    seconds: list[float]
    queries: int
    result: Any = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.seconds, 95) * 1000

    @property
    def best_ms(self) -> float:
        return min(self.seconds) * 1000


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (p95 of 20 runs is the 19th fastest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def run_timed(fn: Callable[[], Any], *, runs: int, warmup: int = 1, count_in_timed: bool = False) -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``runs`` times timed.

    Queries are counted in a separate, untimed run, so that capturing SQL does not slow the timed ones;
    ``count_in_timed`` counts them in the first timed run instead (for slow references run once), with a
    counter that only adds one (a walk of thousands of queries would overflow Django's query log).
    """
    for _ in range(warmup):
        fn()
    queries = None
    if not count_in_timed:
        with CaptureQueriesContext(connection) as captured:
            fn()
        queries = len(captured)
    seconds = []
    result = None
    gc.collect()
    for run in range(runs):
        if queries is None and run == 0:
            with QueryCounter() as counter:
                started = time.perf_counter()
                result = fn()
                seconds.append(time.perf_counter() - started)
            queries = counter.count
            continue
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return Timing(seconds=seconds, queries=queries or 0, result=result)


class QueryCounter:
    """Counts every statement run on the connection (no cap, unlike Django's query log of 9,000)."""

    def __init__(self) -> None:
        self.count = 0
        self._wrapper = None

    def _count(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self) -> QueryCounter:
        self._wrapper = connection.execute_wrapper(self._count)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._wrapper.__exit__(*exc)


TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")


def captured_sql(fn: Callable[[], Any]) -> list[str]:
    """The statements ``fn`` runs, as Django's query log records them (parameters interpolated by the driver)."""
    with CaptureQueriesContext(connection) as captured:
        fn()
    return [query["sql"] for query in captured.captured_queries
            if not query["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)]


def sql_only_timing(statements: list[str], *, runs: int) -> Timing:
    """The same statements alone on the raw DB-API cursor, every row fetched: what the database and the driver
    take without Django. Run in a transaction that is rolled back (a request may write, e.g. a token's last use)."""
    from django.db import transaction

    def once() -> int:
        fetched = 0
        raw = connection.connection
        cursor = raw.cursor()
        try:
            for sql in statements:
                cursor.execute(sql)
                if cursor.description is not None:
                    fetched += len(cursor.fetchall())
        finally:
            cursor.close()
        return fetched

    with transaction.atomic():
        connection.ensure_connection()
        timing = run_timed(once, runs=runs, count_in_timed=True)
        transaction.set_rollback(True)
    return Timing(seconds=timing.seconds, queries=len(statements), result=timing.result)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssPeak:
    """Samples this process's resident memory every few milliseconds: ``growth_mb`` is peak minus start."""

    def __init__(self, interval_s: float = 0.005):
        self.interval_s = interval_s
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RssPeak:
        gc.collect()
        self.start = self.peak = _rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(self.interval_s)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 1e6


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"
