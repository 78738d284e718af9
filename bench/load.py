"""``python manage.py shell -c 'import bench.load; bench.load.main()'`` via ``make load``: a bounded load test.

Starts gunicorn with 2 workers on 127.0.0.1 against the current database (a synthetic lab), runs locust
headless for at most LOAD_RUN_TIME and LOAD_MAX_REQUESTS requests, prints requests per second and the
p50/p95/p99 response times per request kind, and stops gunicorn.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _executable(name: str) -> str:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


def _wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited at start")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout_s:.0f} s")


def _setup() -> dict[str, str]:
    """A partner token and some item codes from the lab (the database must hold a synthetic lab)."""
    from assbtrack.access.services import api_token_create
    from assbtrack.tracing.choices import ItemKind
    from assbtrack.tracing.models import TracedItem
    from bench.runner import lab_users
    from bench.synth import SYNTH_PASSWORD, SYNTH_PROJECT

    users = lab_users()
    if not users:
        raise SystemExit("this database holds no synthetic lab: run manage.py synth_lab --scale N first")
    _token, key = api_token_create(user=users["partner"], name=f"load test {time.strftime('%Y-%m-%d %H:%M')}",
                                   lifetime_days=1)
    codes = []
    for kind in (ItemKind.CELL, ItemKind.SHEET, ItemKind.SSE_BATCH, ItemKind.MODULE):
        codes += TracedItem.objects.filter(kind=kind, project__code=SYNTH_PROJECT).order_by("-id").values_list(
            "code", flat=True)[:50]
    from bench.workloads import api_list_paths

    return {"LOAD_TOKEN": key, "LOAD_CODES": ",".join(codes), "LOAD_USERNAME": users["technician"].username,
            "LOAD_PASSWORD": SYNTH_PASSWORD, "LOAD_LIST_PATHS": ",".join(api_list_paths())}


def _print_stats(stats_csv: Path, write) -> None:
    rows = list(csv.DictReader(stats_csv.open()))
    header = f"{'request':48} {'count':>7} {'fail':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    write(header)
    write("-" * len(header))
    for row in rows:
        name = "all requests" if row["Name"] == "Aggregated" else row["Name"]
        write(f"{name[:48]:48} {int(row['Request Count']):7d} {int(row['Failure Count']):5d} "
              f"{float(row['Requests/s']):7.1f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}")


def main() -> None:
    port = os.environ.get("LOAD_PORT", "8765")
    users = os.environ.get("LOAD_USERS", "4")
    run_time = os.environ.get("LOAD_RUN_TIME", "60s")
    max_requests = os.environ.get("LOAD_MAX_REQUESTS", "20000")
    write = sys.stdout.write
    env = {**os.environ, **_setup(), "LOAD_MAX_REQUESTS": max_requests, "DEBUG": "0"}
    host = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [_executable("gunicorn"), "assbtrack.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--log-level", "warning", "--timeout", "60"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        _wait_until_up(f"{host}/accounts/login/", gunicorn)
        out = Path(tempfile.mkdtemp(prefix="assbtrack-load-"))
        command = [_executable("locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                   "--host", host, "--users", users, "--spawn-rate", users, "--run-time", run_time,
                   "--csv", str(out / "load"), "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"]
        write(f"load test: gunicorn (2 workers) on {host}; locust {users} users, at most {run_time} "
              f"and {max_requests} requests\n")
        started = time.monotonic()
        with open(out / "locust.log", "w") as log:
            subprocess.run(command, cwd=ROOT, env=env, check=False, stdout=log, stderr=subprocess.STDOUT)
        write(f"ran {time.monotonic() - started:.0f} s (locust's own log: {out / 'locust.log'})\n")
        _print_stats(out / "load_stats.csv", lambda line: write(line + "\n"))
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)
