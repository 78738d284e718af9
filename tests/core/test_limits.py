"""Limits that must hold for a whole installation, not one process: the API throttle in the shared cache,
the client address behind trusted proxies (log-in lockout and throttle), and the signing password's limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from assbtrack.access.client_ip import client_ip
from assbtrack.access.services import api_token_create
from assbtrack.tracing.choices import ItemStatus
from assbtrack.tracing.models import StatusEvent
from tests.utils.factories import PASSWORD, technician, traced_item
from tests.utils.workers import test_database_url

ROOT = Path(__file__).resolve().parent.parent.parent

# One process: send `requests` API requests with the token and print the status codes as JSON.
CLIENT_SCRIPT = textwrap.dedent("""
    import json, sys
    import django
    django.setup()
    from django.test import Client
    key, requests = sys.argv[1], int(sys.argv[2])
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")
    print(json.dumps([client.get("/api/v1/items/").status_code for _ in range(requests)]))
""")


@pytest.mark.django_db(transaction=True)
def test_two_processes_together_keep_to_one_api_limit(project, partner):
    """10 requests a day for one token, 8 asked by each of two separate processes: 10 pass in all, not 16
    (a per-process count, as before, let each process pass its 8)."""
    _, key = api_token_create(user=partner, name="two processes")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "assbtrack.settings.test",
           "TEST_DATABASE_URL": test_database_url(), "ASSBTRACK_TEST_API_RATE": "10/day"}
    processes = [
        subprocess.Popen([sys.executable, "-c", CLIENT_SCRIPT, key, "8"], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    answers = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        answers.extend(json.loads(out.strip().splitlines()[-1]))
    assert sorted(answers) == [200] * 10 + [429] * 6


def test_client_address_is_taken_behind_the_configured_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9, 10.0.0.1")
    settings.ASSBTRACK_TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.2"  # the header is not believed
    settings.ASSBTRACK_TRUSTED_PROXIES = 1
    assert client_ip(request) == "10.0.0.1"
    settings.ASSBTRACK_TRUSTED_PROXIES = 2
    assert client_ip(request) == "203.0.113.9"


def test_a_forged_forwarded_for_cannot_lock_out_another_user(settings, tech):
    """Behind one TLS proxy every request comes from the proxy's address. The attacker fails three log-ins
    as ``tech``, claiming the victim's address; the victim's own log-in from their address still works."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.ASSBTRACK_TRUSTED_PROXIES = 1
    url = reverse("login")
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    attacker = Client(HTTP_HOST="127.0.0.1", **proxy, HTTP_X_FORWARDED_FOR="192.0.2.50, 203.0.113.66")
    for _ in range(3):
        attacker.post(url, {"username": tech.username, "password": "wrong"})
    assert attacker.post(url, {"username": tech.username, "password": PASSWORD}).status_code == 429
    victim = Client(HTTP_HOST="127.0.0.1", **proxy, HTTP_X_FORWARDED_FOR="192.0.2.50")
    answer = victim.post(url, {"username": tech.username, "password": PASSWORD})
    assert answer.status_code == 302, answer.status_code


def test_signing_password_is_locked_after_repeated_failures(settings, client, project, sci):
    settings.ASSBTRACK_SIGNING_FAILURE_LIMIT = 3
    settings.ASSBTRACK_SIGNING_COOLOFF_MIN = 15
    lot = traced_item(project=project, user=technician())
    client.force_login(sci)
    url = reverse("tracing:status-action", args=[lot.code, "quarantine"])
    for _ in range(3):
        page = client.post(url, {"reason": "seal broken", "password": "guess"}, follow=True).content.decode()
        assert "the password is not correct" in page
    page = client.post(url, {"reason": "seal broken", "password": PASSWORD}, follow=True).content.decode()
    assert "too many wrong passwords: signing is locked for 15 minutes" in page
    lot.refresh_from_db()
    assert lot.status == ItemStatus.DRAFT and not StatusEvent.objects.filter(item=lot).exists()


def test_a_right_signing_password_resets_the_count(settings, client, project, sci):
    settings.ASSBTRACK_SIGNING_FAILURE_LIMIT = 3
    lot = traced_item(project=project, user=technician())
    client.force_login(sci)
    url = reverse("tracing:status-action", args=[lot.code, "quarantine"])
    for _ in range(2):
        client.post(url, {"reason": "seal broken", "password": "guess"})
    client.post(url, {"reason": "seal broken", "password": PASSWORD})
    lot.refresh_from_db()
    assert lot.status == ItemStatus.QUARANTINED
    release = reverse("tracing:status-action", args=[lot.code, "release"])
    for _ in range(2):
        client.post(release, {"reason": "re-tested", "password": "guess"})
    client.post(release, {"reason": "re-tested", "password": PASSWORD})
    lot.refresh_from_db()
    assert lot.status == ItemStatus.RELEASED
