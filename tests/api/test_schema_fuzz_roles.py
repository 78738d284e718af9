"""Schemathesis against every operation of the API (POST included), as a partner and as lab staff, each
with a token: generated requests, valid and not, must never answer a server error. Bounded by examples
(a few per operation) so that the run stays within a couple of minutes."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from assbtrack.access.services import api_token_create

from .helpers import make_chain
from .test_schema_fuzz import connections_kept_open  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 3


@pytest.mark.parametrize("role", ["partner", "sci"])
def test_no_generated_request_is_a_server_error(request, role, project, sci, partner, connections_kept_open):  # noqa: F811
    make_chain(project, sci, cells=1)
    user = request.getfixturevalue(role)
    _, key = api_token_create(user=user, name=f"schemathesis {role}")
    headers = {"Authorization": f"Token {key}", "Host": "127.0.0.1"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if operation.path.startswith("/api/v1/")]
    methods = {operation.method.upper() for operation in operations}
    assert "POST" in methods and "GET" in methods
    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        fuzz()
