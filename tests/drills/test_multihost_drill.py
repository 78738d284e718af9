"""Scale-out drill: assbtrack on five hosts of the test's own, on real PostgreSQL, Redis, gunicorn and Celery.

The hosts are network namespaces the test makes (``ip netns``), joined by veth pairs to a bridge on the
database host, with addresses in a private /24 that exists only inside those namespaces (nothing is routed
to or from the machine's own network, and none of the machine's services is touched):

    db        10.219.47.1   PostgreSQL (Debian's binaries, a temporary cluster) and redis-server
    web       10.219.47.2   gunicorn (production settings) and the one celery beat
    worker-a  10.219.47.3   celery worker, node assbtrack@worker-a
    worker-b  10.219.47.4   celery worker, node assbtrack@worker-b
    lab       10.219.47.5   the API client (a lab PC)

Model runs submitted through the API spread over both workers; when the link of the worker host running
a job is cut mid-job, the job finishes on the other host, exactly once (two claims, one result, and no
write to the row after it, even once the cut host is back). Everything is removed afterwards.

It brings its own servers, so it runs once per ``make test``: in the PostgreSQL half (TEST_DATABASE_URL
set). It needs root and iproute2 (``assbtrack/scripts/services.sh netns`` installs iproute2); where the
namespaces cannot be made it fails, saying why.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
NET = "10.219.47"
HOSTS = {"db": 1, "web": 2, "worker-a": 3, "worker-b": 4, "lab": 5}
WORKERS = ("worker-a", "worker-b")
STALE_S = 3  # the heartbeat window of the drill's hosts
CUT_JOB_S = 8  # how long the job whose worker loses its link takes

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") and not os.environ.get("ASSBTRACK_MULTIHOST_DRILL"),
    reason="runs once per `make test`, in the PostgreSQL half (it brings its own PostgreSQL and Redis); "
    "ASSBTRACK_MULTIHOST_DRILL=1 runs it here too",
)


def run(argv: list[str], *, timeout: float = 60, check: bool = True, env: dict | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}: {done.stderr.strip() or done.stdout}")
    return done.stdout


class Lab:
    """The drill's hosts: namespaces, links, processes and temporary directories, all removed by ``close``."""

    def __init__(self, workdir: Path):
        tag = f"{os.getpid() % 100000}"
        self.workdir = workdir
        self.ns = {role: f"asb{tag}-{role}" for role in HOSTS}
        self.made: list[str] = []
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.pg_data: Path | None = None

    def ip(self, role: str) -> str:
        return f"{NET}.{HOSTS[role]}"

    # --- the network -------------------------------------------------------------------------------
    def build_network(self) -> None:
        if shutil.which("ip") is None:
            pytest.fail("the multi-host drill needs iproute2 (`ip`); `make test` installs it "
                        "(assbtrack/scripts/services.sh netns)")
        remove_leftovers()
        try:
            for name in self.ns.values():
                run(["ip", "netns", "add", name])
                self.made.append(name)
                run(["ip", "-n", name, "link", "set", "lo", "up"])
            db = self.ns["db"]
            run(["ip", "-n", db, "link", "add", "br0", "type", "bridge"])
            run(["ip", "-n", db, "addr", "add", f"{self.ip('db')}/24", "dev", "br0"])
            run(["ip", "-n", db, "link", "set", "br0", "up"])
            for role in HOSTS:
                if role == "db":
                    continue
                port = f"to-{role}"
                run(["ip", "-n", db, "link", "add", port, "type", "veth", "peer", "name", "eth0",
                     "netns", self.ns[role]])
                run(["ip", "-n", db, "link", "set", port, "master", "br0", "up"])
                run(["ip", "-n", self.ns[role], "addr", "add", f"{self.ip(role)}/24", "dev", "eth0"])
                run(["ip", "-n", self.ns[role], "link", "set", "eth0", "up"])
        except (RuntimeError, OSError) as error:
            pytest.fail(f"the multi-host drill could not make its network namespaces (it needs root and "
                        f"iproute2, as in CI): {error}")

    def link(self, role: str, state: str) -> None:
        run(["ip", "-n", self.ns[role], "link", "set", "eth0", state])

    # --- processes on the hosts --------------------------------------------------------------------
    def spawn(self, name: str, role: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        self.logs[name] = log
        with open(log, "ab") as handle:
            process = subprocess.Popen(
                ["ip", "netns", "exec", self.ns[role], *argv], cwd=ROOT, env=env or os.environ.copy(),
                stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.processes[name] = process
        return process

    def on(self, role: str, argv: list[str], *, env: dict | None = None, timeout: float = 60) -> str:
        return run(["ip", "netns", "exec", self.ns[role], *argv], env=env, timeout=timeout)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name, signal.SIGINT if name == "postgres" else signal.SIGTERM)
        for name in reversed(self.made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        if self.pg_data is not None:
            shutil.rmtree(self.pg_data, ignore_errors=True)

    # --- the database host -------------------------------------------------------------------------
    def start_postgres(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(re.findall(r"/(\d+)/", p)[0]))
        if not bins:
            pytest.fail("the multi-host drill needs Debian's PostgreSQL binaries (/usr/lib/postgresql/*/bin); "
                        "`make test-postgres` installs them (assbtrack/scripts/services.sh postgres)")
        self.pg_bin = Path(bins[-1]).parent
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("the multi-host drill runs its PostgreSQL as the `postgres` user, which does not exist")
        self.pg_data = Path(tempfile.mkdtemp(prefix="assbtrack-drill-pg-"))
        os.chown(self.pg_data, owner.pw_uid, owner.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
        run([*as_postgres, str(self.pg_bin / "initdb"), "-D", str(self.pg_data / "data"), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--no-sync"], timeout=120)
        with open(self.pg_data / "data" / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {NET}.0/24 trust\n")
        self.spawn("postgres", "db", [
            *as_postgres, str(self.pg_bin / "postgres"), "-D", str(self.pg_data / "data"),
            "-c", f"listen_addresses={self.ip('db')}", "-c", "port=5432",
            "-c", f"unix_socket_directories={self.pg_data}", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=60",
        ])
        wait_for(lambda: self.psql("SELECT 1", database="postgres", check=False) == "1",
                 timeout_s=60, interval_s=0.3, message="the drill's PostgreSQL to accept connections")
        self.psql("CREATE DATABASE assbtrack", database="postgres")

    def psql(self, sql: str, *, database: str = "assbtrack", check: bool = True) -> str:
        """One query from the lab host across the network; rows as lines, columns separated by |."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.ns["lab"], str(self.pg_bin / "psql"), "-h", self.ip("db"), "-U",
             "postgres", "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=30,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {done.stderr.strip()}")
        return done.stdout.strip()

    def start_redis(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed; `make test` installs it (assbtrack/scripts/services.sh)")
        self.spawn("redis", "db", [binary, "--bind", self.ip("db"), "--port", "6379", "--save", "",
                                   "--appendonly", "no", "--protected-mode", "no"])

    # --- the application hosts ---------------------------------------------------------------------
    def app_env(self) -> dict:
        """The configuration every application host gets: the one the README documents."""
        drop = {"DJANGO_SETTINGS_MODULE", "TEST_DATABASE_URL", "DATABASE_URL", "ASSBTRACK_TEST_BROKER_URL",
                "CELERY_BROKER_URL", "REDIS_URL"}
        env = {key: value for key, value in os.environ.items() if key not in drop and not key.startswith("PYTEST")}
        env.update({
            "DJANGO_SETTINGS_MODULE": "assbtrack.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SECURE_SSL_REDIRECT": "0",  # the drill speaks plain HTTP; production puts a TLS proxy in front
            "DATABASE_URL": f"postgres://postgres@{self.ip('db')}:5432/assbtrack",
            "REDIS_URL": f"redis://{self.ip('db')}:6379/0",
            "ALLOWED_HOSTS": self.ip("web"),
            "ASSBTRACK_MEDIA_ROOT": str(self.workdir / "media"),
            "ASSBTRACK_JOB_HEARTBEAT_STALE_S": str(STALE_S),
            "ASSBTRACK_JOB_SWEEP_EVERY_S": "1",
            "PYTHONUNBUFFERED": "1",
        })
        return env


def remove_leftovers() -> None:
    """Namespaces of an earlier drill whose test process died before its finalizer ran (SIGKILL)."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    roles = "|".join(HOSTS)
    for name in re.findall(rf"^(asb\d+-(?:{roles}))\b", listing, flags=re.M):
        pid = int(re.match(r"asb(\d+)", name).group(1))
        if pid != os.getpid() % 100000 and not any(
            int(other) % 100000 == pid for other in os.listdir("/proc") if other.isdigit()
        ):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


HTTP_CLIENT = """
import json, sys, urllib.request, urllib.error
base, token, requests = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
answers = []
for method, path, body in requests:
    request = urllib.request.Request(base + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Token " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append([response.status, json.loads(response.read() or b"null")])
    except urllib.error.HTTPError as error:
        answers.append([error.code, error.read().decode()[:2000]])
print(json.dumps(answers))
"""

LONG_JOB = f"""
from django.contrib.auth.models import User
from assbtrack.jobs.services import job_submit
user = User.objects.get(username="drill-scientist")
job = job_submit(kind="diagnostic", inputs={{"seconds": {CUT_JOB_S}, "note": "cut"}}, user=user)
print("JOB=" + str(job.pk))
"""

SETUP_USER = """
from assbtrack.access.roles import SCIENTIST
from assbtrack.access.services import api_token_create, user_create
user = user_create(username="drill-scientist", password="correct-horse-battery", role=SCIENTIST)
print("KEY=" + api_token_create(user=user, name="multi-host drill")[1])
"""


@pytest.fixture
def lab_hosts():
    if os.geteuid() != 0:
        pytest.fail("the multi-host drill makes network namespaces and needs root (CI runs `make test` as root)")
    workdir = Path(tempfile.mkdtemp(prefix="assbtrack-drill-"))
    lab = Lab(workdir)
    try:
        lab.build_network()
        lab.start_postgres()
        lab.start_redis()
        env = lab.app_env()
        for role in WORKERS:
            # without -Q: the worker consumes its instance's queues (the database name, the same on every host)
            lab.spawn(role, role, [venv_bin("celery"), "-A", "assbtrack", "worker", "-c", "1", "-n",
                                   f"assbtrack@{role}", "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
                      env=env)
        lab.spawn("gunicorn", "web", [venv_bin("gunicorn"), "assbtrack.wsgi", "-w", "2", "-b",
                                      f"{lab.ip('web')}:8000"], env=env)
        lab.spawn("beat", "web", [venv_bin("celery"), "-A", "assbtrack", "beat", "--loglevel", "INFO",
                                  "-s", str(workdir / "beat-schedule")], env=env)
        # The servers start while the web host migrates the database (none of them needs it before a request).
        python = sys.executable
        lab.on("web", [python, "manage.py", "migrate", "--noinput", "-v0"], env=env, timeout=240)
        key = lab.on("web", [python, "manage.py", "shell", "-c", SETUP_USER], env=env, timeout=60)
        lab.token = re.search(r"KEY=(\S+)", key).group(1)
        lab.env = env
        for role in WORKERS:
            wait_for(lambda role=role: "ready." in lab.log(role) or lab.processes[role].poll() is not None,
                     timeout_s=90, interval_s=0.3, message=f"the Celery worker on {role}")
            assert lab.processes[role].poll() is None, f"the worker on {role} exited:\n{lab.log(role)[-3000:]}"
        wait_for(lambda: lab_api(lab, [("GET", "/api/v1/jobs/", None)], check=False)[0][0] == 200,
                 timeout_s=60, interval_s=0.5, message="gunicorn on the web host")
        yield lab
    finally:
        lab.close()
        shutil.rmtree(workdir, ignore_errors=True)


def lab_api(lab: Lab, requests: list, *, check: bool = True) -> list:
    """API calls from the lab host to the web host, in one client process."""
    done = subprocess.run(
        ["ip", "netns", "exec", lab.ns["lab"], sys.executable, "-c", HTTP_CLIENT, f"http://{lab.ip('web')}:8000",
         lab.token, json.dumps(requests)],
        capture_output=True, text=True, timeout=120,
    )
    if done.returncode != 0:
        if check:
            raise AssertionError(f"the lab's API client failed: {done.stderr[-2000:]}")
        return [[0, done.stderr]]
    return json.loads(done.stdout)


def job_row(lab: Lab, job_id: int) -> dict:
    line = lab.psql(
        "SELECT json_build_object('status', status, 'worker', worker, 'attempts', attempts, 'progress', "
        f"progress_percent, 'result', result, 'finished_at', finished_at, 'xmin', xmin::text) FROM jobs_job "
        f"WHERE id = {int(job_id)}"
    )
    return json.loads(line)


def finished_tasks(log: str) -> int:
    return len(re.findall(r"Task assbtrack\.jobs\.run_job\[[^\]]+\] (succeeded|retry|raised)", log))


def test_jobs_spread_over_two_worker_hosts_and_survive_a_cut_link(lab_hosts):
    lab = lab_hosts
    started = time.monotonic()

    # 1. Model runs from the lab PC, through the web host, spread over both worker hosts.
    resistances_ohm = [20, 25, 40, 50, 64, 80, 100, 125]
    answers = lab_api(lab, [
        ("POST", "/api/v1/jobs/", {"kind": "conductivity",
                                   "inputs": {"thickness_mm": 1, "diameter_mm": 10, "resistance_ohm": r}})
        for r in resistances_ohm
    ])
    assert [status for status, _ in answers] == [201] * len(resistances_ohm), answers
    ids = [body["id"] for _, body in answers]

    def all_done() -> list[dict] | None:
        rows = [job_row(lab, job_id) for job_id in ids]
        return rows if all(row["status"] == "succeeded" for row in rows) else None

    rows = wait_for(all_done, timeout_s=60, interval_s=0.5, message="the model runs to finish")
    assert {row["worker"] for row in rows} == {f"assbtrack@{role}" for role in WORKERS}, rows
    assert [row["attempts"] for row in rows] == [1] * len(rows)
    # sigma = t / (R * A): 0.1 cm / (R * pi * (0.5 cm)^2) = 127.324 / R mS/cm
    for row, resistance_ohm in zip(rows, resistances_ohm, strict=True):
        assert row["result"]["conductivity_ms_per_cm"] == pytest.approx(127.324 / resistance_ohm, rel=1e-4)

    # 2. A longer job (an internal kind, so submitted through the service on the web host, as a page would);
    #    the link of the host that runs it is cut mid-job.
    submitted = lab.on("web", [sys.executable, "manage.py", "shell", "-c", LONG_JOB], env=lab.env, timeout=60)
    job_id = int(re.search(r"JOB=(\d+)", submitted).group(1))
    running = wait_for(
        lambda: (row := job_row(lab, job_id))["status"] == "running" and row["progress"] >= 10 and row,
        timeout_s=30, interval_s=0.2, message="the diagnostic job to be running",
    )
    victim = running["worker"].split("@", 1)[1]
    survivor = next(role for role in WORKERS if role != victim)
    ended_on_victim = finished_tasks(lab.log(victim))
    lab.link(victim, "down")
    cut_at = time.monotonic()

    # The web host still answers while a worker host is away.
    [(status, body)] = lab_api(lab, [("GET", f"/api/v1/jobs/{job_id}/", None)])
    assert status == 200 and body["status"] in ("running", "succeeded")

    done = wait_for(lambda: (row := job_row(lab, job_id))["status"] == "succeeded" and row,
                    timeout_s=60, interval_s=0.5, message="the job to finish on the other worker host")
    assert done["worker"] == f"assbtrack@{survivor}", done
    assert done["attempts"] == 2, done  # claimed by the cut host, then once by the other
    assert done["result"]["waited_s"] >= CUT_JOB_S
    assert time.monotonic() - cut_at < STALE_S + 2 + CUT_JOB_S + 20

    # 3. The cut host comes back: its late end of the same job writes nothing (the row's version stays).
    lab.link(victim, "up")
    wait_for(lambda: finished_tasks(lab.log(victim)) > ended_on_victim, timeout_s=60, interval_s=0.5,
             message=f"the task on {victim} to end once its link is back")
    after = job_row(lab, job_id)
    assert after == done, (done, after)
    [(status, body)] = lab_api(lab, [("GET", f"/api/v1/jobs/{job_id}/", None)])
    assert status == 200 and body["status"] == "succeeded" and body["worker"] == f"assbtrack@{survivor}"
    assert lab.psql("SELECT count(*) FROM jobs_job WHERE kind = 'diagnostic'") == "1"
    assert time.monotonic() - started < 150
