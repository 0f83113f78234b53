"""Property-based API testing: schemathesis generates requests from the OpenAPI document and sends
them over HTTP to the local stack. No answer may be a 5xx.

(schemathesis' own pytest plugin does not run under pytest 9, so each operation's hypothesis
strategy is driven here directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from snowwatch import routes as route_table
from snowwatch_local.handlers import load
from tests.conftest import count

pytestmark = pytest.mark.e2e

EXAMPLES = 15


@pytest.fixture(scope="module")
def operations(server) -> dict:
    spec = load("api", "openapi").build(load("api").app)
    spec["servers"] = [{"url": server}]
    schema = schemathesis.openapi.from_dict(spec)
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[(operation.method.upper(), operation.path)] = operation
    return found


@pytest.mark.parametrize("route", route_table.ROUTES, ids=lambda r: r.name)
def test_no_server_errors(route, operations, server, api, connector_id) -> None:
    """Given any generated request for the route (valid or not), when sent as the admin, then never a 5xx."""
    operation = operations.get((route.method, route.path))
    if operation is None:
        pytest.fail(f"{route.name} is in the route table but not in the OpenAPI document")
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
    )
    def check(case) -> None:
        if "connector_id" in (case.path_parameters or {}):
            case.path_parameters["connector_id"] = connector_id  # reach the handlers, not only the 404
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api.tokens['admin']}"}
        response = case.call(base_url=server, timeout=30)
        count("schemathesis")
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}: {response.text[:300]}"
            )

    check()
    assert not failures, failures[:5]
