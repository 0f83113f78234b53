"""Issue 11: hostile input against the running API (through the local API Gateway emulation and the real
handler): every answer is a 4xx with the JSON error body, nothing leaks, and the next request is unharmed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from snowwatch import routes as route_table
from snowwatch_local.apigw import rest_event
from snowwatch_local.handlers import load
from snowwatch_local.stack import FakeLambdaContext, LocalStack, new_private_key_pem
from tests.conftest import Api

pytestmark = pytest.mark.e2e

HOOKS = "https://hooks.slack.com/services/T000/B000/XXXX"


def _error(answer: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert answer.status == status, answer.body
    body = answer.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body["error"])


def _concrete(path: str, stack: LocalStack) -> str:
    return (
        path.replace("{connector_id}", str(stack.connector_id))
        .replace("{budget_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{alert_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{incident_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{event_id}", "1")
        .replace("{run_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{job}", "sync")
    )


# ---------------------------------------------------------------- 2. SSRF: webhook URLs
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3/hook",
        "https://hooks.slack.com.evil.example/services/T/B/X",
        "http://hooks.slack.com/services/T/B/X",
    ],
)
def test_a_webhook_off_the_allow_list_is_refused(api: Api, stack: LocalStack, url: str) -> None:
    """Given a budget whose Slack webhook points inside (or at a look-alike host), when created, then 422 with
    the field named, the URL not echoed, and no budget created."""
    body = {"name": f"ssrf-{abs(hash(url))}", "amount": 10, "slack": {"webhook_url": url}}
    answer = api.post(f"/api/connectors/{stack.connector_id}/budgets", json_body=body)
    error = _error(answer, 422, "egress_refused")
    assert error["details"][0]["loc"] == ["body", "slack", "webhook_url"]
    assert url not in answer.body and "169.254" not in answer.body
    names = [b["name"] for b in api.get(f"/api/connectors/{stack.connector_id}/budgets").json()["items"]]
    assert body["name"] not in names


def test_an_allowed_webhook_is_accepted(api: Api, stack: LocalStack) -> None:
    body = {"name": "allowed-hook", "amount": 10, "slack": {"webhook_url": HOOKS}}
    answer = api.post(f"/api/connectors/{stack.connector_id}/budgets", json_body=body)
    assert answer.status == 201, answer.body
    assert api.call("DELETE", f"/api/connectors/{stack.connector_id}/budgets/{answer.json()['id']}").status == 204


# ---------------------------------------------------------------- 3. driver desync
POISON = {"start": "0001-01-01T00:00:00+14:00"}


def test_the_poison_date_is_a_422_and_the_next_20_requests_from_two_orgs_are_right(api: Api, stack: LocalStack) -> None:
    """Given the request that overflowed inside pg8000 mid-query, when sent, then 422; and then 20 requests
    alternating between two orgs on the same connection all answer their own org's data."""
    path = f"/api/connectors/{stack.connector_id}/security/snowflake/login-history"
    _error(api.get(path, query=POISON), 422, "validation_error")
    for i in range(20):
        if i % 2:
            answer = api.get("/api/connectors", as_="other")
            assert answer.status == 200 and [c["id"] for c in answer.json()["items"]] == [str(stack.other_connector_id)]
        else:
            answer = api.get(path, query={"limit": 5})
            assert answer.status == 200, answer.body
            assert set(answer.json()) == {"items", "total", "limit", "offset"}


def test_every_date_near_year_1_or_9999_is_a_422_on_every_route(api: Api, stack: LocalStack) -> None:
    """Given every route with a start/end query, when asked for dates near year 1 or 9999 (plain or with an
    extreme offset), then 422 — never a 500."""
    values = ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
    checked = 0
    for route in route_table.ROUTES:
        if route.method != "GET" or "start" not in route.query:
            continue
        path = _concrete(route.path, stack)
        for value in values:
            for name in ("start", "end"):
                answer = api.get(path, query={name: value})
                if answer.status == 404 and "{budget_id}" in route.path:
                    continue  # the budget does not exist: refused before the query is read
                assert answer.status == 422, (route.name, name, value, answer.body)
                checked += 1
    assert checked >= 40


# ---------------------------------------------------------------- 8. NUL, nesting, content type
def test_a_freshness_key_past_its_limit_is_a_422(api: Api, stack: LocalStack) -> None:
    """Given a cached route, when `v` (in the cache key, ignored by the API) is longer than 64 characters, then 422:
    a caller cannot fill the stage cache with arbitrarily long keys; 64 characters are still fine."""
    path = f"/api/connectors/{stack.connector_id}/cost/overview"
    assert api.get(path, query={"v": "x" * 64}).status == 200
    _error(api.get(path, query={"v": "x" * 20_000}), 422, "validation_error")


@pytest.mark.parametrize(
    ("method", "path", "body", "query"),
    [
        ("GET", "/api/jobs/runs", None, {"status": "run\x00ning"}),
        ("GET", "/api/connectors/{cid}/security/snowflake/login-history", None, {"user": "A\x00B"}),
        ("POST", "/api/connectors/{cid}/budgets", {"name": "nul\x00name", "amount": 10}, None),
        (
            "POST",
            "/api/connectors",
            {"name": "nul\x00", "account_identifier": "a", "username": "U", "warehouse": "W", "private_key": "x"},
            None,
        ),
        ("PATCH", "/api/connectors/{cid}", {"name": "a\x00b"}, None),
        (
            "PUT",
            "/api/connectors/{cid}/security/snowflake/alerts/{alert}/resolve",
            {"note": "ok\x00"},
            None,
        ),
    ],
)
def test_a_nul_character_anywhere_is_a_422(
    api: Api, stack: LocalStack, db: Any, method: str, path: str, body: Any, query: Any
) -> None:
    """Given a NUL character in a query string, a path or any JSON string, then 422 before any SQL."""
    if "{alert}" in path:
        if not db.run(
            "SELECT 1 FROM enterprise.snowflake_security_alerts WHERE connector_id = :c", c=stack.connector_id
        ):
            assert stack.run_job("security", connector_id=str(stack.connector_id))["status"] == "succeeded"
        alert = db.run("SELECT id FROM enterprise.snowflake_security_alerts WHERE connector_id = :c LIMIT 1",
                       c=stack.connector_id)[0][0]  # fmt: skip
        path = path.replace("{alert}", str(alert))
    answer = api.call(method, path.replace("{cid}", str(stack.connector_id)), json_body=body, query=query)
    error = _error(answer, 422, "validation_error")
    assert "\x00" not in json.dumps(error) and "\\u0000" not in answer.body


def test_json_nested_50000_deep_is_a_400(api: Api, stack: LocalStack) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    raw = _raw(api, "POST", f"/api/connectors/{stack.connector_id}/budgets", deep, "application/json")
    _error(raw, 400, "bad_request")


def test_a_json_body_sent_as_text_plain_is_a_415(api: Api, stack: LocalStack) -> None:
    raw = _raw(api, "POST", f"/api/connectors/{stack.connector_id}/budgets", '{"name": "x", "amount": 1}', "text/plain")
    _error(raw, 415, "unsupported_media_type")


def test_a_body_over_the_limit_is_a_413(api: Api, stack: LocalStack) -> None:
    big = json.dumps({"name": "x", "amount": 1, "pad": "a" * 300_000})
    _error(_raw(api, "POST", f"/api/connectors/{stack.connector_id}/budgets", big, "application/json"), 413)


def _raw(api: Api, method: str, path: str, body: str, content_type: str, as_: str = "admin") -> Any:
    headers = {"Authorization": f"Bearer {api.tokens[as_]}", "Content-Type": content_type}
    return api.gateway.handle(method, path, headers, {}, body)


# ---------------------------------------------------------------- 9. no echo of input values
def test_a_private_key_sent_as_the_timezone_is_not_echoed(api: Api) -> None:
    pem = new_private_key_pem()
    body = {"name": "echo", "account_identifier": "a", "username": "U", "warehouse": "W", "timezone": pem,
            "private_key": new_private_key_pem()}  # fmt: skip
    answer = api.post("/api/connectors", json_body=body)
    _error(answer, 422, "validation_error")
    assert "PRIVATE KEY" not in answer.body and pem[40:80] not in answer.body


# ---------------------------------------------------------------- 6. the edge fails closed
@pytest.mark.parametrize("path", ["/api/connectors/", "/api/jobs/", "/api/connectors//budgets", "/api/nope", "/"])
def test_trailing_slashes_and_unknown_paths_answer_404_without_running_a_handler(api: Api, path: str) -> None:
    for as_ in ("admin", None):
        _error(api.get(path, as_=as_), 404, "not_found")
    _error(api.call("POST", path, json_body={"name": "x" * 500}), 404, "not_found")


def test_a_handler_never_runs_without_an_identity() -> None:
    """Given a protected route's event with no authorizer context (a misconfigured gateway), when the API
    function gets it, then 401 before any validation."""
    for method, path, body in (
        ("GET", "/api/connectors", None),
        ("POST", "/api/connectors", '{"name": ""}'),
        ("GET", "/api/me", None),
    ):
        event = rest_event(method, path, headers={"Content-Type": "application/json"}, body=body, authorizer=None)
        answer = load("api").lambda_handler(event, FakeLambdaContext("api"))
        assert answer["statusCode"] == 401, answer
        assert json.loads(answer["body"])["error"]["code"] == "unauthorized"


def test_authorization_runs_before_body_validation(api: Api, stack: LocalStack) -> None:
    """Given a member and an invalid body on an admin route, then 403, not 422 (validation never ran)."""
    for path in ("/api/connectors", f"/api/connectors/{stack.connector_id}/budgets", "/api/jobs/sync/run"):
        _error(api.post(path, as_="member", json_body={"bogus": "\x00" * 3}), 403, "forbidden")
        _error(_raw(api, "POST", path, "[" * 50_000, "text/plain", as_="member"), 403, "forbidden")
