"""Which assbtrack servers and workers are running, so that ``manage.py restore`` can refuse while any is.

Two signs, because neither alone sees everything:

- **Process marks**: every web process (runserver or gunicorn, through ``assbtrack.wsgi``) and every Celery worker
  (through its ``worker_ready`` signal) writes ``<ASSBTRACK_RUN_DIR>/<role>-<host>-<pid>.pid`` and removes it when
  it stops. A mark whose process is gone (killed, host rebooted) is stale: restore removes it and goes on. A mark
  of another host cannot be checked from here and counts as running (the message names the file to delete).
- **The broker**: workers on any host answer a Celery ``ping``; one that answers is running. A broker that cannot be
  reached is reported too: restore cannot tell whether workers are idle, so it refuses.

On several hosts, put ``ASSBTRACK_RUN_DIR`` on storage they share, or stop the web servers before restoring.
"""

from __future__ import annotations

import atexit
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from celery import Celery

WEB, WORKER = "web", "worker"


def run_dir() -> Path:
    return Path(getattr(settings, "ASSBTRACK_RUN_DIR", Path(settings.BASE_DIR) / "var" / "run"))


def _mark_path(role: str, pid: int) -> Path:
    return run_dir() / f"{role}-{socket.gethostname()}-{pid}.pid"


def process_mark(role: str) -> Path | None:
    """Mark this process as a running ``role`` until it exits. Never stops a server from starting."""
    path = _mark_path(role, os.getpid())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{os.getpid()}\n")
    except OSError:
        return None
    atexit.register(process_unmark, path)
    return path


def process_unmark(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that id
    return True


@dataclass(frozen=True)
class Running:
    what: str  # a sentence: "web server (pid 123 on lab-pc, var/run/web-lab-pc-123.pid)"


def processes_marked() -> list[Running]:
    """The marks of live processes; stale marks of this host are removed."""
    found = []
    host = socket.gethostname()
    folder = run_dir()
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.pid")):
        role, _, rest = path.stem.partition("-")
        mark_host, _, pid_text = rest.rpartition("-")
        if role not in (WEB, WORKER) or not pid_text.isdigit():
            continue
        label = "web server" if role == WEB else "worker"
        if mark_host != host:
            found.append(Running(f"{label} on {mark_host} (pid {pid_text}; {path}: delete it if that is stopped)"))
        elif _alive(int(pid_text)) and int(pid_text) != os.getpid():
            found.append(Running(f"{label} (pid {pid_text}, {path})"))
        else:
            process_unmark(path)
    return found


def workers_answering(app: Celery, timeout_s: float = 1.5) -> list[Running]:
    """Workers of the Celery ``app`` that answer a ping on the broker; raises ``ConnectionError`` if the
    broker cannot be reached."""
    url = getattr(settings, "CELERY_BROKER_URL", None) or app.conf.broker_url
    try:
        with app.connection_for_write(url=url) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout_s)
            replies = app.control.ping(timeout=timeout_s, connection=connection) or []
    except Exception as error:  # noqa: BLE001  (kombu and redis raise many kinds; all mean "no broker")
        raise ConnectionError(f"the broker {url} cannot be reached ({type(error).__name__})") from None
    return [Running(f"worker {name} (answered on the broker)") for reply in replies for name in reply]
