"""Schemathesis against /api/schema/, in the suite, through the WSGI app, as a partner with a token and real
data: every GET operation, a few generated examples each plus one with real codes and ids, must answer
without a server error and with a body that matches the schema."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from assbtrack.access.services import api_token_create
from assbtrack.jobs.models import Job
from tests.utils.factories_materials import make_measurement
from tests.utils.factories_modules import make_scan, map_scan_quickly

from .helpers import make_chain

pytestmark = pytest.mark.django_db
CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES_PER_OPERATION = 2


def real_values(chain, measurement, scan_map, job) -> dict[str, dict[str, object]]:
    """Path parameters of real records, by the first segment after /api/v1/."""
    cell, module = chain["cells"][0], chain["module"]
    return {
        "items": {"code": cell.item.code}, "cells": {"code": cell.item.code}, "modules": {"code": module.item.code},
        "films": {"code": chain["films"]["cathode"].item.code}, "sse-batches": {"code": chain["batch"].item.code},
        "material-lots": {"code": chain["films"]["foil"].item.code},
        "sheets": {"code": cell.layers.first().cathode.item.code},
        "jobs": {"pk": job.pk}, "housing-designs": {"pk": module.housing_design_id},
        "pressure-maps": {"pk": scan_map.pk}, "conductivity-measurements": {"pk": measurement.pk},
    }


@pytest.fixture
def connections_kept_open():
    """The WSGI handler closes the database connection after each request; in a test that would close the
    test transaction, so (as Django's test client does) that signal handler is set aside meanwhile."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_get_operation_keeps_to_the_schema(project, sci, partner, connections_kept_open):
    chain = make_chain(project, sci, cells=1)
    measurement = make_measurement(chain["batch"], sci)
    scan_map = map_scan_quickly(make_scan(sci, design=chain["module"].housing_design, module=chain["module"]))
    job = Job.objects.create(kind="api_export", queue="imports", inputs={}, inputs_sha256="1" * 64,
                             subject=chain["cells"][0].item, requested_by=sci, result={"rows": 0})
    _, key = api_token_create(user=partner, name="schemathesis")
    headers = {"Authorization": f"Token {key}", "Host": "127.0.0.1"}
    values = real_values(chain, measurement, scan_map, job)

    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    gets = [operation for operation in operations if operation.method.upper() == "GET"
            and operation.path.startswith("/api/v1/")]
    assert len(gets) >= 20
    real_calls = 0
    for operation in gets:
        segment = operation.path.split("/")[3]
        names = re.findall(r"{(\w+)}", operation.path)
        if names:
            known = values.get(segment, {})
            if all(name in known for name in names):
                case = operation.Case(path_parameters={name: known[name] for name in names})
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                assert response.status_code == 200, (operation.path, response.status_code)
                real_calls += 1

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
    assert real_calls >= 15
