"""The platform end to end in-process: health, provisioning, connectors, jobs, errors, caching."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_health_needs_no_token_and_reports_schema(api) -> None:
    """Given the stack, when /health is called without a token, then it reports db, schema and build."""
    answer = api.get("/health", as_=None)
    assert answer.status == 200
    body = answer.json()
    assert body["database"] == "ok"
    assert body["schema_version"].startswith("0")


def test_me_provisions_the_caller_from_claims(api) -> None:
    """Given a token for the demo admin, when /api/me is called, then the user exists with the claims."""
    body = api.get("/api/me").json()
    assert body["email"] == "admin@demo.snowwatch.local"
    assert body["role"] == "admin"
    assert body["org_external_id"] == "demo"


def test_jobs_list_shows_five_jobs_with_next_runs(api) -> None:
    answer = api.get("/api/jobs")
    assert answer.status == 200
    names = [j["name"] for j in answer.json()]
    assert names == ["sync", "budget_check", "notify", "snapshot", "security"]
    assert all(j["next_run"] for j in answer.json())


def test_manual_run_is_recorded_and_readable(api, connector_id) -> None:
    """Given an admin, when a sync is started, then 202 with a run id that reads back finished."""
    answer = api.post("/api/jobs/sync/run", json_body={"connector_id": connector_id})
    assert answer.status == 202, answer.body
    run_id = answer.json()["run_id"]
    run = api.get(f"/api/jobs/runs/{run_id}").json()
    assert run["status"] in ("succeeded", "failed")
    assert run["trigger"] == "manual"
    listed = api.get("/api/jobs/runs", query={"job": "sync"}).json()
    assert run_id in [r["id"] for r in listed["items"]]


def test_second_run_while_one_is_active_conflicts(api, stack, connector_id) -> None:
    """Given a queued sync for the connector, when another is requested, then 409."""
    from snowwatch.db import get_connection
    from snowwatch.repositories import jobs as repo
    from snowwatch.settings import JobSettings, get_settings

    conn = get_connection(get_settings(JobSettings))
    row = repo.create(
        conn,
        job="sync",
        connector_id=stack.connector_id,
        org_id=None,
        trigger="manual",
        mode="full",
        status="running",
    )
    assert row is not None
    try:
        answer = api.post("/api/jobs/sync/run", json_body={"connector_id": connector_id})
        assert answer.status == 409
        assert answer.json()["error"]["code"] == "conflict"
    finally:
        repo.finish(conn, row["id"], "succeeded", {}, None)


def test_unknown_job_is_404_and_missing_connector_is_422(api) -> None:
    assert api.post("/api/jobs/nope/run", json_body={}).status == 404
    assert api.post("/api/jobs/sync/run", json_body={}).status == 422


def test_connector_create_stores_secret_reference_and_never_returns_key(api) -> None:
    """Given a PEM key, when a connector is created, then the key is in Secrets Manager, not in the answer."""
    from snowwatch_local.stack import new_private_key_pem

    pem = new_private_key_pem()
    answer = api.post(
        "/api/connectors",
        json_body={
            "name": "created-in-test",
            "account_identifier": "ACME-PROD",
            "username": "SNOWWATCH",
            "warehouse": "SNOWWATCH_WH",
            "private_key": pem,
            "timezone": "Europe/Berlin",
        },
    )
    assert answer.status == 201, answer.body
    assert "PRIVATE KEY" not in answer.body and "secret" not in answer.body
    cid = answer.json()["id"]
    assert api.get(f"/api/connectors/{cid}").json()["timezone"] == "Europe/Berlin"
    assert api.call("PATCH", f"/api/connectors/{cid}", json_body={"credit_price": 2.5}).json()["credit_price"] == 2.5
    assert (
        api.post(
            "/api/connectors",
            json_body={
                "name": "created-in-test",
                "account_identifier": "A",
                "username": "U",
                "warehouse": "W",
                "private_key": pem,
            },
        ).status
        == 409
    )
    assert api.call("DELETE", f"/api/connectors/{cid}").status == 204
    assert api.get(f"/api/connectors/{cid}").status == 404


def test_bad_connector_input_is_422_without_echoing_secrets(api) -> None:
    answer = api.post(
        "/api/connectors",
        json_body={
            "name": "x",
            "account_identifier": "bad account!",
            "username": "u",
            "warehouse": "w",
            "password": "hunter2",
            "timezone": "Mars/Base",
        },
    )
    assert answer.status == 422
    assert "hunter2" not in answer.body
    assert answer.json()["error"]["code"] == "validation_error"


def test_other_orgs_connector_is_404(api, other_connector_id) -> None:
    assert api.get(f"/api/connectors/{other_connector_id}").status == 404
    assert api.get(f"/api/connectors/{other_connector_id}", as_="other").status == 200


def test_member_cannot_create_connectors(api) -> None:
    answer = api.post("/api/connectors", as_="member", json_body={})
    assert answer.status == 403


def test_claims_update_the_user_and_a_steady_caller_is_not_rewritten(api, stack) -> None:
    """Given a user seen a moment ago, when the same claims come again, then the row is not rewritten;
    when the IdP changes the email or role, then the next request updates it."""
    from snowwatch.db import get_connection, query_one
    from snowwatch.models.users import Claims
    from snowwatch.repositories import users
    from snowwatch.settings import JobSettings, get_settings

    conn = get_connection(get_settings(JobSettings))
    claims = Claims(subject="claims-test", email="one@claims.example", org="claims-test-org", role="member")
    first = users.upsert_from_claims(conn, claims)
    before = query_one(conn, "SELECT xmin::text AS v FROM enterprise.users WHERE id = :i", i=first["user_id"])
    again = users.upsert_from_claims(conn, claims)
    after = query_one(conn, "SELECT xmin::text AS v FROM enterprise.users WHERE id = :i", i=first["user_id"])
    assert again == first and before == after
    promoted = users.upsert_from_claims(
        conn, claims.model_copy(update={"email": "two@claims.example", "role": "admin"})
    )
    assert promoted["user_id"] == first["user_id"]
    assert (promoted["email"], promoted["role"]) == ("two@claims.example", "admin")
    assert "two@claims.example" in users.admin_emails(conn, first["org_id"])


def test_a_connector_scoped_get_costs_one_identity_and_one_connector_statement(api, stack, monkeypatch) -> None:
    """Given a steady caller, when admission handles a connector-scoped GET, then it issues at most two
    statements (identity, connector) before the route's own queries; the routers never look the connector
    up again."""
    from snowwatch.db.connection import SafeConnection
    from snowwatch_local.apigw import rest_event
    from snowwatch_local.handlers import load
    from snowwatch_local.stack import FakeLambdaContext

    path = f"/api/connectors/{stack.connector_id}/cost/overview"
    assert api.get(path).status == 200  # provisions the caller
    authorizer = api.gateway._authorize({"Authorization": f"Bearer {api.tokens['admin']}"})
    event = rest_event("GET", path, authorizer=authorizer)
    seen: list[str] = []
    original = SafeConnection.run

    def counting(self, sql, *args, **kwargs):
        seen.append(" ".join(sql.split())[:60])
        return original(self, sql, *args, **kwargs)

    monkeypatch.setattr(SafeConnection, "run", counting)
    load("api", "admission").admit(event)
    assert len(seen) <= 2, seen
    seen.clear()
    answer = load("api").lambda_handler(event, FakeLambdaContext("api"))
    assert answer["statusCode"] == 200
    routed = seen[2:]
    assert not any("FROM enterprise.connectors" in s for s in routed), routed
