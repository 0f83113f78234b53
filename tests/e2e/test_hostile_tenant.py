"""Issue 11: a hostile second organization against the running system (the API through the local
gateway, the real job handlers, moto's Secrets Manager, real Postgres). Each test names the item of the
issue it proves."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from snowwatch_local.stack import OTHER_ADMIN, LocalStack, new_private_key_pem
from tests.conftest import Api

pytestmark = pytest.mark.e2e


def _secrets() -> Any:
    return boto3.client("secretsmanager", region_name="us-east-1")


def _connector_body(**extra: Any) -> dict[str, Any]:
    return {
        "name": f"hostile-{uuid.uuid4().hex[:8]}",
        "account_identifier": "fakesnow",
        "username": "SNOWWATCH",
        "warehouse": "SNOWWATCH_WH",
        **extra,
    }


def _secret_ref(db: Any, connector_id: Any) -> str:
    return str(db.run("SELECT secret_ref FROM enterprise.connectors WHERE id = :c", c=connector_id)[0][0])


# ---------------------------------------------------------------- 1. borrowed credentials
@pytest.mark.parametrize("form", ["arn", "name"])
def test_another_orgs_secret_is_refused_on_create(api: Api, stack: LocalStack, db: Any, form: str) -> None:
    """Given the demo connector's secret (by ARN or by its name), when the other org's admin creates a
    connector with it, then 422, no connector is created, and the answer does not say whether it exists."""
    victim_ref = _secret_ref(db, stack.connector_id)
    ref = victim_ref if form == "arn" else _secrets().describe_secret(SecretId=victim_ref)["Name"]
    body = _connector_body(secret_arn=ref)
    answer = api.post("/api/connectors", as_="other", json_body=body)
    assert answer.status == 422, answer.body
    assert answer.json()["error"]["code"] == "validation_error"
    missing = api.post(
        "/api/connectors",
        as_="other",
        json_body=_connector_body(secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"),
    )
    assert missing.status == 422
    assert missing.json()["error"]["message"] == answer.json()["error"]["message"]
    assert not db.run("SELECT 1 FROM enterprise.connectors WHERE name = :n", n=body["name"])


def test_a_secret_tagged_for_the_callers_org_is_accepted(api: Api, db: Any) -> None:
    """Given a secret the operator created and tagged with the other org's id, when that org's admin
    brings it, then the connector is created and reads it; deleting the connector leaves that secret."""
    org = db.run(
        "SELECT id FROM enterprise.organizations WHERE external_id = :o", o=OTHER_ADMIN["org"]
    )[0][0]  # fmt: skip
    name = f"customer-owned/{uuid.uuid4().hex[:8]}"
    arn = _secrets().create_secret(
        Name=name,
        SecretString=json.dumps({"private_key": new_private_key_pem()}),
        Tags=[{"Key": "snowwatch:org", "Value": str(org)}],
    )["ARN"]
    created = api.post("/api/connectors", as_="other", json_body=_connector_body(secret_arn=arn))
    assert created.status == 201, created.body
    cid = created.json()["id"]
    assert api.call("DELETE", f"/api/connectors/{cid}", as_="other").status == 204
    assert "DeletedDate" not in _secrets().describe_secret(SecretId=arn)


def test_a_planted_reference_to_another_orgs_secret_is_refused_at_read_time(
    stack: LocalStack, db: Any, job_settings: Any
) -> None:
    """Given a connector of the other org whose secret_ref was planted (in the database) to the demo
    connector's secret, when its sync runs, then the run fails without reading that secret."""
    victim_ref = _secret_ref(db, stack.connector_id)
    cid = uuid.uuid4()
    db.run(
        """INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, warehouse, secret_ref)
           SELECT :id, org_id, :name, 'fakesnow', 'SNOWWATCH', 'SNOWWATCH_WH', :ref
           FROM enterprise.connectors WHERE id = :other""",
        id=cid, name=f"planted-{cid.hex[:8]}", ref=victim_ref, other=stack.other_connector_id,
    )  # fmt: skip
    try:
        with pytest.raises(Exception, match="does not belong"):
            stack.run_job("sync", connector_id=str(cid))
        run = db.run(
            "SELECT status, error FROM enterprise.job_runs WHERE connector_id = :c ORDER BY created_at DESC LIMIT 1",
            c=cid,
        )[0]
        assert run[0] == "failed" and "does not belong" in run[1]
        assert not db.run("SELECT 1 FROM enterprise.snowflake_query_history WHERE connector_id = :c LIMIT 1", c=cid)
    finally:
        db.run("DELETE FROM enterprise.connectors WHERE id = :c", c=cid)


def test_deleting_a_connector_never_deletes_another_orgs_secret(stack: LocalStack, api: Api, db: Any) -> None:
    """Given a connector of the other org whose secret_ref points (planted) at the demo connector's secret,
    when the other org's admin deletes it, then the demo connector's secret is untouched."""
    victim_ref = _secret_ref(db, stack.connector_id)
    cid = uuid.uuid4()
    db.run(
        """INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, warehouse, secret_ref)
           SELECT :id, org_id, :name, 'fakesnow', 'SNOWWATCH', 'SNOWWATCH_WH', :ref
           FROM enterprise.connectors WHERE id = :other""",
        id=cid, name=f"planted-{cid.hex[:8]}", ref=victim_ref, other=stack.other_connector_id,
    )  # fmt: skip
    assert api.call("DELETE", f"/api/connectors/{cid}", as_="other").status == 204
    assert "DeletedDate" not in _secrets().describe_secret(SecretId=victim_ref)


def test_snowwatch_names_and_tags_the_secrets_it_creates(api: Api, db: Any) -> None:
    """Given a connector created with a private key, then its secret is named
    <namespace>/<org id>/connectors/<connector id> and tagged with both; deleting it removes exactly it."""
    created = api.post("/api/connectors", json_body=_connector_body(private_key=new_private_key_pem()))
    assert created.status == 201, created.body
    cid = created.json()["id"]
    org = db.run("SELECT org_id FROM enterprise.connectors WHERE id = :c", c=uuid.UUID(cid))[0][0]
    described = _secrets().describe_secret(SecretId=_secret_ref(db, uuid.UUID(cid)))
    assert described["Name"].endswith(f"/{org}/connectors/{cid}")
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags["snowwatch:org"] == str(org) and tags["snowwatch:connector"] == cid
    assert api.call("DELETE", f"/api/connectors/{cid}").status == 204
    assert "DeletedDate" in _secrets().describe_secret(SecretId=described["ARN"])
