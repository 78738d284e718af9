"""The backup drill: ``backup`` writes one archive with the database and every media file; ``restore`` into a new
folder (a new SQLite database file and a new media root) gives identical traces, history rows and files. Restore
refuses while a web server or a worker runs, when the broker cannot be asked, and when the archive is damaged.

Restores run as ``manage.py`` subprocesses with their own database, media root, run folder and a private
redis-server (so that no other test's worker answers its ping)."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from assbtrack.tracing.services import item_quarantine
from tests.api.helpers import make_chain
from tests.cells.test_cells_api import imported
from tests.utils.workers import WorkerProcess

from .backup_snapshot import snapshot
from .conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SCAN_BYTES = bytes(range(256)) * 4096  # 1 MiB that does not compress away


@pytest.fixture
def new_site(tmp_path, private_broker):
    """The environment of a fresh host: nothing in its database file, media root or run folder yet."""
    folder = tmp_path / "new-host"
    folder.mkdir()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "assbtrack.settings.test",
        "TEST_DATABASE_URL": f"sqlite:///{folder / 'restored.sqlite3'}",
        "ASSBTRACK_MEDIA_ROOT": str(folder / "media"),
        "ASSBTRACK_RUN_DIR": str(folder / "run"),
        "ASSBTRACK_TEST_BROKER_URL": private_broker,
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def lab_with_files(project, sci) -> None:
    chain = make_chain(project, sci, cells=2)
    imported(chain["cells"][0], sci)  # a cycler file under media/
    default_storage.save("scans/2026/film-scan.tif", ContentFile(SCAN_BYTES))
    item_quarantine(item=chain["films"]["cathode"].item, user=sci, reason="drill: cracked edge")


@pytest.fixture
def archive(project, sci, tmp_path, settings):
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("the drill restores into a new SQLite file; PostgreSQL runs pg_dump/pg_restore (see README)")
    lab_with_files(project, sci)
    path = tmp_path / "lab.tar.gz"
    call_command("backup", str(path), stdout=io.StringIO())
    return path


def test_a_restore_to_a_new_host_has_identical_traces_history_and_files(archive, new_site):
    before = snapshot()
    assert len(before["traces"]) >= 8 and any(trace["upstream"] for trace in before["traces"].values())
    assert sum(len(rows) for rows in before["history"].values()) >= 20
    assert len(before["files"]) == 2 and "scans/2026/film-scan.tif" in before["files"]
    with tarfile.open(archive) as packed:
        names = packed.getnames()
        manifest = json.load(packed.extractfile("manifest.json"))
    assert names[0] == "database/assbtrack.sqlite3" and names[-1] == "manifest.json"
    assert {name.removeprefix("media/") for name in names if name.startswith("media/")} == set(before["files"])
    assert manifest["files"]["media/scans/2026/film-scan.tif"]["size_bytes"] == len(SCAN_BYTES)

    restored = manage(new_site, "restore", str(archive), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "restored the database and 2 media files" in restored.stdout
    after = subprocess.run([sys.executable, "-m", "tests.drills.backup_snapshot"], cwd=ROOT, env=new_site,
                           capture_output=True, text=True, timeout=300)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(json.dumps(before, sort_keys=True))


def test_restore_refuses_a_damaged_archive_and_changes_nothing(archive, new_site, tmp_path):
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for info in source:
            data = source.extractfile(info).read()
            if info.name == "media/scans/2026/film-scan.tif":
                data = data[:-1] + b"X"
            target.addfile(info, io.BytesIO(data))
    refused = manage(new_site, "restore", str(damaged), "--yes")
    assert refused.returncode != 0
    assert "does not match its manifest (checksum differs: media/scans/2026/film-scan.tif); nothing was restored" \
        in refused.stderr
    assert not Path(new_site["ASSBTRACK_MEDIA_ROOT"]).exists()
    assert not Path(new_site["TEST_DATABASE_URL"].removeprefix("sqlite:///")).exists()


def test_restore_refuses_while_a_web_server_runs(archive, new_site):
    port = free_port()
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=new_site, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    run_dir = Path(new_site["ASSBTRACK_RUN_DIR"])
    mark = run_dir / f"web-{socket.gethostname()}-{server.pid}.pid"
    try:
        deadline = time.monotonic() + 120
        while not mark.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
        assert mark.exists(), "runserver wrote no mark"
        refused = manage(new_site, "restore", str(archive), "--yes")
        assert refused.returncode != 0
        assert f"not restored: stop these first, they could write to what is replaced: web server (pid {server.pid}" \
            in refused.stderr
        assert not Path(new_site["ASSBTRACK_MEDIA_ROOT"]).exists()
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # as a crash would: the mark stays behind
        server.wait(timeout=20)
    assert mark.exists()
    restored = manage(new_site, "restore", str(archive), "--yes")  # a stale mark does not block
    assert restored.returncode == 0, restored.stderr
    assert not mark.exists()


def test_restore_refuses_while_a_worker_answers_on_the_broker(archive, new_site, tmp_path):
    # The worker's marks go elsewhere (as on another host): only the ping on the broker can see it.
    worker = WorkerProcess(broker=new_site["ASSBTRACK_TEST_BROKER_URL"], database_url=new_site["TEST_DATABASE_URL"],
                           media=Path(new_site["ASSBTRACK_MEDIA_ROOT"]), log_path=tmp_path / "worker.log",
                           env={"ASSBTRACK_RUN_DIR": str(tmp_path / "elsewhere")})
    try:
        refused = manage(new_site, "restore", str(archive), "--yes")
    finally:
        worker.stop()
    assert refused.returncode != 0
    assert "not restored: stop these first" in refused.stderr and "(answered on the broker)" in refused.stderr
    assert not Path(new_site["ASSBTRACK_MEDIA_ROOT"]).exists()


def test_restore_refuses_when_the_broker_cannot_be_asked(archive, new_site):
    offline = {**new_site, "ASSBTRACK_TEST_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    refused = manage(offline, "restore", str(archive), "--yes")
    assert refused.returncode != 0
    assert "cannot be reached" in refused.stderr and "cannot tell whether workers run" in refused.stderr
