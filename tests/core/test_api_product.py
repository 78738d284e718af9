"""Issue 8, core parts: streamed exports with a log, ?fields=, per-token throttling, web log-in lockout."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest
from django.urls import reverse

from assbtrack.access.models import ExportLog
from assbtrack.access.services import api_token_create
from assbtrack.tracing.services import item_create
from tests.utils.checks import client_for
from tests.utils.factories import traced_item

pytestmark = pytest.mark.django_db


def token_client(user):
    from django.test import Client

    _, key = api_token_create(user=user, name="tests")
    return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")


def test_csv_export_streams_the_filtered_list_and_is_logged(project, other_project, sci, partner):
    mine = [traced_item(project=project, user=sci) for _ in range(5)]
    traced_item(project=other_project, user=sci)
    client = token_client(partner)
    response = client.get("/api/v1/items/", {"export": "csv", "kind": "material_lot"})
    assert response.status_code == 200
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(row["code"] for row in rows) == sorted(item.code for item in mine)
    log = ExportLog.objects.get()
    assert (log.user, log.rows, log.export_format, log.completed) == (partner, 5, "csv", True)
    assert "kind=material_lot" in log.query


def test_jsonl_export_with_chosen_fields(project, sci):
    items = [traced_item(project=project, user=sci) for _ in range(3)]
    response = client_for(sci).get("/api/v1/items/", {"export": "jsonl", "fields": "code,status"})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert sorted(lines, key=lambda row: row["code"]) == [{"code": i.code, "status": "draft"} for i in items]


def test_fields_parameter_on_a_page_and_unknown_fields_are_refused(project, sci):
    traced_item(project=project, user=sci)
    client = client_for(sci)
    page = client.get("/api/v1/items/", {"fields": "code,kind"}).json()
    assert set(page["results"][0]) == {"code", "kind"}
    refused = client.get("/api/v1/items/", {"fields": "code,colour"})
    assert refused.status_code == 400
    assert "colour" in refused.json()["fields"][0]


def test_unknown_export_format_is_refused(sci):
    response = client_for(sci).get("/api/v1/items/", {"export": "xlsx"})
    assert response.status_code == 400
    assert "export" in response.json()
    assert not ExportLog.objects.exists()


def test_export_memory_does_not_grow_with_rows(project, sci):
    """Peak memory while streaming 2,000 rows stays close to that of 200 rows (rows are not held)."""

    def peak_for(extra: int) -> int:
        for _ in range(extra):
            item_create(kind="material_lot", project=project, user=sci, quantity=1, unit="g")
        response = client_for(sci).get("/api/v1/items/", {"export": "csv"})
        tracemalloc.start()
        total = 0
        for chunk in response.streaming_content:
            total += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, total

    small_peak, small_bytes = peak_for(200)
    large_peak, large_bytes = peak_for(1800)
    assert large_bytes > 8 * small_bytes
    # ten times the rows: the body grew tenfold, the peak must not (allow chunk-size noise)
    assert large_peak < small_peak * 2 + 2_000_000, (small_peak, large_peak)


def test_api_is_throttled_per_token(settings, project, partner):
    from tests.utils.shared_cache import shared_cache_clear

    shared_cache_clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "3/minute"}}
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        first = token_client(partner)
        answers = [first.get("/api/v1/items/").status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        # another token of the same partner has its own allowance
        assert token_client(partner).get("/api/v1/items/").status_code == 200
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "100000/hour"}}
        api_settings.reload()
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        shared_cache_clear()


def test_web_login_locks_out_after_repeated_failures(settings, tech):
    from django.test import Client

    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    client = Client(HTTP_HOST="127.0.0.1")
    url = reverse("login")
    for _ in range(2):
        refused = client.post(url, {"username": tech.username, "password": "wrong"})
        assert refused.status_code == 200  # the form again, with its error
    # the third failure reaches the limit: locked out, and so is the right password afterwards
    assert client.post(url, {"username": tech.username, "password": "wrong"}).status_code == 429
    locked = client.post(url, {"username": tech.username, "password": "correct-horse-battery"})
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    # another user from the same address is not locked out
    from tests.utils.factories import technician

    other = technician()
    ok = client.post(url, {"username": other.username, "password": "correct-horse-battery"})
    assert ok.status_code == 302
