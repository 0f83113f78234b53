"""Budgets API: CRUD, validation (422), roles, tenancy, the Slack secret, history and alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from tests.budget_support import add_warehouse_metering, demo_org_id, make_connector

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cid(db) -> UUID:
    connector = make_connector(db, demo_org_id(db))
    add_warehouse_metering(db, connector, "ETL_WH", datetime.now(UTC) - timedelta(hours=5), 3, 1.5)
    db.run(
        "INSERT INTO enterprise.snowflake_warehouses (connector_id, warehouse_name, size) VALUES (:c, 'BI_WH', 'XS')",
        c=connector,
    )
    return connector


def _base(cid: UUID) -> str:
    return f"/api/connectors/{cid}/budgets"


def _budget(**over):
    body = {
        "name": "Monthly compute",
        "scope_type": "account",
        "period": "monthly",
        "amount": 1000,
        "amount_unit": "credits",
        "thresholds": [{"type": "percent", "value": 80}, {"type": "percent", "value": 100, "basis": "forecast"}],
        "alert_emails": ["finops@example.com"],
    }
    body.update(over)
    return body


def test_create_get_list_update_delete(api, cid) -> None:
    """Given an admin, when a budget is created, read, listed, replaced and deleted, then each answer is right."""
    created = api.post(_base(cid), json_body=_budget(name="crud"))
    assert created.status == 201, created.body
    b = created.json()
    assert b["thresholds"][0] == {"type": "percent", "value": 80.0, "basis": "actual"}
    assert b["status"]["period_start"] == datetime.now(UTC).date().replace(day=1).isoformat()
    assert b["slack"] is None

    got = api.get(f"{_base(cid)}/{b['id']}", as_="member")
    assert got.status == 200 and got.json()["name"] == "crud"
    listed = api.get(_base(cid), as_="member").json()
    assert b["id"] in [x["id"] for x in listed["items"]]

    replaced = api.call(
        "PUT", f"{_base(cid)}/{b['id']}", json_body=_budget(name="crud", period="weekly", amount=50, active=False)
    )
    assert replaced.status == 200, replaced.body
    assert replaced.json()["period"] == "weekly" and replaced.json()["active"] is False

    assert api.call("DELETE", f"{_base(cid)}/{b['id']}").status == 204
    assert api.get(f"{_base(cid)}/{b['id']}").status == 404


def test_members_read_but_cannot_write(api, cid) -> None:
    """Given a member, when they create a budget, then 403."""
    assert api.post(_base(cid), as_="member", json_body=_budget(name="nope")).status == 403
    assert api.get(_base(cid), as_="member").status == 200


def test_other_org_sees_404(api, cid) -> None:
    """Given another org's admin, when they read our connector's budgets, then 404."""
    assert api.get(_base(cid), as_="other").status == 404
    assert api.post(_base(cid), as_="other", json_body=_budget(name="x")).status == 404


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"amount": -5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"thresholds": [{"type": "percent", "value": 80}, {"type": "percent", "value": 80.0}]}, "duplicate"),
        ({"thresholds": [{"type": "percent", "value": i} for i in range(1, 12)]}, "thresholds"),
        ({"alert_emails": ["not-an-email"]}, "email"),
        ({"alert_emails": ["a@b"]}, "email"),
        ({"scope_type": "warehouses", "warehouses": []}, "warehouse"),
        ({"scope_type": "query_tag"}, "query_tag"),
        ({"period": "hourly"}, "period"),
        ({"thresholds": [{"type": "percent", "value": -1}]}, "value"),
        ({"slack": {"channel": "#alerts"}}, "bot_token"),
    ],
)
def test_bad_input_is_422(api, cid, override, needle) -> None:
    """Given invalid input, when a budget is created, then 422 naming the problem."""
    answer = api.post(_base(cid), json_body=_budget(name="bad", **override))
    assert answer.status == 422, answer.body
    assert needle in answer.body


def test_unknown_warehouse_is_422_and_known_ones_pass(api, cid) -> None:
    """Given warehouses from metering and from the warehouse list, when one is unknown, then 422 pointing at
    its position (never echoing the value)."""
    bad = api.post(_base(cid), json_body=_budget(name="wh", scope_type="warehouses", warehouses=["ETL_WH", "NOPE_WH"]))
    assert bad.status == 422
    assert [d["loc"] for d in bad.json()["error"]["details"]] == [["body", "warehouses", 1]]
    assert "NOPE_WH" not in bad.body
    ok = api.post(_base(cid), json_body=_budget(name="wh", scope_type="warehouses", warehouses=["ETL_WH", "BI_WH"]))
    assert ok.status == 201, ok.body
    assert ok.json()["warehouses"] == ["ETL_WH", "BI_WH"]


def test_duplicate_name_is_409(api, cid) -> None:
    assert api.post(_base(cid), json_body=_budget(name="dup")).status == 201
    assert api.post(_base(cid), json_body=_budget(name="dup")).status == 409


def test_slack_token_goes_to_secrets_manager_and_is_never_returned(api, cid, db) -> None:
    """Given a bot token, when the budget is created, then a secret reference is stored and the token never shown."""
    import boto3

    token = "xoxb-secret-token-123"
    answer = api.post(_base(cid), json_body=_budget(name="slack", slack={"channel": "#finops", "bot_token": token}))
    assert answer.status == 201, answer.body
    assert token not in answer.body
    assert answer.json()["slack"] == {"kind": "bot", "channel": "#finops"}
    row = db.run("SELECT slack_secret_ref FROM enterprise.snowflake_budgets WHERE id = :id", id=answer.json()["id"])
    ref = row[0][0]
    assert ref.startswith("arn:")
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=ref)["SecretString"]
    assert token in secret

    # PUT without `slack` keeps it; with a webhook replaces it; with null removes it
    bid = answer.json()["id"]
    kept = api.call("PUT", f"{_base(cid)}/{bid}", json_body=_budget(name="slack"))
    assert kept.json()["slack"] == {"kind": "bot", "channel": "#finops"}
    hook = {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"}
    hooked = api.call("PUT", f"{_base(cid)}/{bid}", json_body=_budget(name="slack", slack=hook))
    assert hooked.json()["slack"] == {"kind": "webhook", "channel": None}
    removed = api.call("PUT", f"{_base(cid)}/{bid}", json_body=_budget(name="slack", slack=None))
    assert removed.json()["slack"] is None
    # added again within the secret's recovery window: restored and replaced, not a 500
    again = api.call("PUT", f"{_base(cid)}/{bid}", json_body=_budget(name="slack", slack=hook))
    assert again.status == 200, again.body
    assert again.json()["slack"] == {"kind": "webhook", "channel": None}


def test_history_and_alerts_start_empty_and_validate_ranges(api, cid) -> None:
    bid = api.post(_base(cid), json_body=_budget(name="hist")).json()["id"]
    assert api.get(f"{_base(cid)}/{bid}/history").json() == []
    assert api.get(f"{_base(cid)}/{bid}/alerts").json()["items"] == []
    bad = api.get(f"{_base(cid)}/{bid}/history", query={"start": "2026-05-01", "end": "2026-01-01"})
    assert bad.status == 422
    assert api.get(f"{_base(cid)}/{'0' * 8}/alerts").status == 404
