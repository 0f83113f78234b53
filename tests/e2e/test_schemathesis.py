"""Property-based API testing: schemathesis generates requests from the OpenAPI document and sends
them over HTTP to the local stack. No answer may be a 5xx.

(schemathesis' own pytest plugin does not run under pytest 9, so each operation's hypothesis
strategy is driven here directly.)
"""

from __future__ import annotations

from uuid import uuid4

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from snowwatch import routes as route_table
from snowwatch_local.handlers import load
from tests.conftest import count

pytestmark = pytest.mark.e2e

EXAMPLES = 15


FUZZ_ADMIN = {"subject": "fuzz-admin", "email": "admin@fuzz.snowwatch.local", "org": "fuzz-org", "role": "admin"}


@pytest.fixture(scope="module")
def fuzz_tenant(stack) -> tuple[str, str]:
    """A tenant of its own (generated PATCHes and DELETEs must not touch other suites' data) with a
    synced and extracted connector, so generated requests reach the handlers with data behind them."""
    from snowwatch.db import get_connection
    from snowwatch.models.users import Claims
    from snowwatch.repositories import connectors, users
    from snowwatch.services import connectors as connectors_service
    from snowwatch.settings import JobSettings, get_settings
    from snowwatch_local.stack import new_private_key_pem

    settings = get_settings(JobSettings)
    conn = get_connection(settings)
    org_id = users.upsert_from_claims(conn, Claims(**FUZZ_ADMIN))["org_id"]
    connector_id = uuid4()
    ref = connectors_service.put_secret(settings, org_id, connector_id, {"private_key": new_private_key_pem()})
    connectors.insert(
        conn,
        org_id,
        {
            "id": connector_id,
            "name": "Fuzzed account",
            "account_identifier": "fakesnow",
            "username": "SNOWWATCH",
            "warehouse": "SNOWWATCH_WH",
            "secret_ref": ref,
        },
    )
    stack.run_job("sync", connector_id=connector_id, mode="full")
    stack.run_job("security", connector_id=connector_id)
    return stack.token(FUZZ_ADMIN), str(connector_id)


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
def test_no_server_errors(route, operations, server, fuzz_tenant) -> None:
    """Given any generated request for the route (valid or not), when sent as the admin, then never a 5xx."""
    operation = operations.get((route.method, route.path))
    if operation is None:
        pytest.fail(f"{route.name} is in the route table but not in the OpenAPI document")
    token, connector_id = fuzz_tenant
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
    )
    def check(case) -> None:
        if "connector_id" in (case.path_parameters or {}) and route.name != "connectors_delete":
            case.path_parameters["connector_id"] = connector_id  # reach the handlers, not only the 404
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call(base_url=server, timeout=30)
        count("schemathesis")
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}: {response.text[:300]}"
            )

    check()
    assert not failures, failures[:5]
