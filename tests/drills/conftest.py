"""Drill fixtures: a private redis-server, so that a restore's ping on the broker hears only this test's workers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_broker(tmp_path):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.fail("redis-server is not installed (assbtrack/scripts/services.sh redis installs it)")
    port = free_port()
    process = subprocess.Popen([redis_server, "--port", str(port), "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url, socket_connect_timeout=0.5).ping():
                break
        except redis.RedisError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the private redis-server did not start")
    yield url
    process.terminate()
    process.wait(timeout=20)
