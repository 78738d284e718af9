"""Every route of /api/v1/ walked as partner A with partner B's codes and ids: 404 on every detail and
action, absent from every list and every export. The routes come from the URL resolver, so an endpoint
added later is walked too without touching this test."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.urls import URLResolver, get_resolver

from assbtrack.jobs.models import Job
from assbtrack.tracing.models import TracedItem
from tests.utils.factories_materials import make_measurement
from tests.utils.factories_modules import make_scan, map_scan_quickly

from .helpers import make_chain, token_client

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
KWARG = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def api_routes() -> list[tuple[str, object]]:
    """(regex of the whole path, callback) of every route under /api/v1/, format-suffix variants left out."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                route = prefix + str(pattern.pattern)
                if route.startswith(API_PREFIX) and "format" not in route:
                    found.append((route, pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def concrete(route: str, value) -> str:
    path = KWARG.sub(str(value), route).replace("^", "").replace("$", "")
    return "/" + path.replace("\\.", ".")


def kwarg_names(route: str) -> list[str]:
    return [match.group("name") for match in KWARG.finditer(route)]


def model_of(callback):
    view_class = getattr(callback, "cls", None)
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        return queryset.model
    if view_class is not None and view_class.__name__ == "JobViewSet":
        return Job
    return None


def pk_snapshot() -> dict:
    return {model: set(model.objects.values_list("pk", flat=True)) for model in apps.get_models()}


def build_everything(project, user):
    chain = make_chain(project, user, cells=1)
    make_measurement(chain["batch"], user)
    map_scan_quickly(make_scan(user, design=chain["module"].housing_design, module=chain["module"]))
    job = Job.objects.create(kind="api_export", queue="imports", inputs={}, inputs_sha256="0" * 64,
                             subject=chain["cells"][0].item, requested_by=user, result={"rows": 0})
    flag_record(chain["batch"].item, job)
    return chain


def flag_record(item, job) -> None:
    """An out-of-control flag on ``item``, stored as a finished chart stores it."""
    from assbtrack.quality.registry import QcSeriesData
    from assbtrack.quality.services import control_flags_replace, control_series_ensure

    series = control_series_ensure(QcSeriesData(key=f"walk:{item.code}", title=f"walk {item.code}", unit="",
                                                value_label="value", project_id=item.project_id, points=()))
    point = {"item_id": item.pk, "code": item.code, "measured_at": "2026-01-01T00:00:00+00:00", "value": 9.0}
    control_flags_replace(series_key=series.key, job_id=job.pk, inputs={"points": [point]},
                          result={"center": 1.0, "sigma": 1.0, "z": [8.0], "violations": [{"index": 0, "rule": "we1"}]})


def test_no_route_of_the_api_shows_another_partners_records(project, other_project, sci, partner):
    build_everything(project, sci)  # A's own records, so lists are not trivially empty
    before = pk_snapshot()
    build_everything(other_project, sci)
    after = pk_snapshot()
    b_pks = {model: after[model] - before.get(model, set()) for model in after}
    b_codes = set(TracedItem.objects.filter(project=other_project).values_list("code", flat=True))
    assert len(b_codes) >= 7  # lots, batch, films, sheets, cell, module
    client = token_client(partner)

    routes = api_routes()
    assert any(route.endswith("passport/$") for route, _ in routes)
    walked_details = walked_lists = seen_rows = 0
    for route, callback in routes:
        names = kwarg_names(route)
        if not names:
            response = client.get(concrete(route, ""))
            assert response.status_code == 200, route
            body = response.json()
            if not isinstance(body, dict) or "results" not in body:
                continue  # the API root: links only
            walked_lists += 1
            model = model_of(callback)
            for row in body["results"]:
                seen_rows += 1
                assert row.get("code") not in b_codes, (route, row)
                if model is not None and "id" in row:
                    assert row["id"] not in b_pks.get(model, set()), (route, row)
            export = client.get(concrete(route, ""), {"export": "jsonl"})
            if export.status_code == 200 and export.streaming:
                text = b"".join(export.streaming_content).decode()
                assert not any(f'"{code}"' in text for code in b_codes), route
            continue
        assert names in (["code"], ["pk"]), f"{route}: walk this new kind of address too"
        if names == ["code"]:
            values = b_codes
        else:
            values = b_pks.get(model_of(callback), set())
            assert values, f"{route}: build one of these in partner B's project"
        for value in values:
            response = client.get(concrete(route, value))
            assert response.status_code == 404, (concrete(route, value), response.status_code)
            walked_details += 1
    assert walked_lists >= 10
    assert walked_details > 100
    assert seen_rows > 0  # A saw its own records, so the lists were not empty by accident
