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


def _plant_connector(db: Any, stack: LocalStack, secret_ref: str) -> uuid.UUID:
    """A connector of the other org whose secret_ref was planted (straight into the database)."""
    cid = uuid.uuid4()
    db.run(
        """INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, warehouse, secret_ref)
           SELECT :id, org_id, :name, 'fakesnow', 'SNOWWATCH', 'SNOWWATCH_WH', :ref
           FROM enterprise.connectors WHERE id = :other""",
        id=cid, name=f"planted-{cid.hex[:8]}", ref=secret_ref, other=stack.other_connector_id,
    )  # fmt: skip
    return cid


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
    cid = _plant_connector(db, stack, victim_ref)
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
    cid = _plant_connector(db, stack, victim_ref)
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


# ---------------------------------------------------------------- 5. org-wide jobs, run by hand
@pytest.mark.parametrize("job", ["budget_check", "snapshot", "notify"])
def test_a_manual_org_wide_run_never_blocks_another_org_or_the_schedule(
    api: Api, stack: LocalStack, db: Any, job: str
) -> None:
    """Given the demo org's manual run of an org-wide job still queued, when the other org starts the same job
    and the schedule fires, then both run (no 409, no skip)."""
    from snowwatch.repositories import jobs as jobs_repo

    demo_org = db.run("SELECT org_id FROM enterprise.connectors WHERE id = :c", c=stack.connector_id)[0][0]
    held = jobs_repo.create(
        db, job=job, connector_id=None, org_id=demo_org, trigger="manual", mode=None, status="queued"
    )
    assert held is not None
    try:
        other = api.post(f"/api/jobs/{job}/run", as_="other", json_body={})
        assert other.status == 202, other.body
        scheduled = stack.run_job(job, trigger="schedule")
        assert scheduled.get("status") == "succeeded", scheduled
    finally:
        jobs_repo.finish(db, held["id"], "succeeded", {}, None)


def test_a_manual_notify_run_touches_and_reports_only_the_callers_outbox(api: Api, stack: LocalStack, db: Any) -> None:
    """Given a pending, never-published notification in each org, when the other org runs notify by hand,
    then only its own row is republished and its run's counts cover only its org."""
    from snowwatch.models.notifications import OutboxDelivery
    from snowwatch.services import notifications

    rows = {}
    for key, connector in (("demo", stack.connector_id), ("other", stack.other_connector_id)):
        org = db.run("SELECT org_id FROM enterprise.connectors WHERE id = :c", c=connector)[0][0]
        (rows[key],) = notifications.enqueue_in_tx(
            db,
            org_id=org,
            connector_id=connector,
            source_type="budget_alert",
            source_id=uuid.uuid4(),
            deliveries=[OutboxDelivery(channel="email", recipients=[f"{key}@example.com"])],
            payload={"subject": key},
            dedupe_key=f"hostile-notify-{uuid.uuid4()}",
        )
    run = api.post("/api/jobs/notify/run", as_="other", json_body={})
    assert run.status == 202, run.body
    result = api.get(f"/api/jobs/runs/{run.json()['run_id']}", as_="other").json()
    assert result["status"] == "succeeded", result
    published = {
        key: db.run("SELECT published_at IS NOT NULL FROM enterprise.notifications WHERE id = :i", i=nid)[0][0]
        for key, nid in rows.items()
    }
    assert published == {"demo": False, "other": True}
    assert result["rows"]["republished"] == 1


# ---------------------------------------------------------------- 7. one person, two orgs
def test_one_person_in_two_orgs_has_a_row_and_a_role_in_each(api: Api, stack: LocalStack, db: Any) -> None:
    """Given one IdP subject, admin in the demo org and member in the other, when they call alternately, then
    each call sees its own org, the roles stay apart, and each org's fallback admins are its own."""
    from snowwatch.repositories import users as users_repo

    person = {"subject": f"two-orgs-{uuid.uuid4().hex[:6]}", "email": "dual@example.com"}
    as_admin = stack.token({**person, "org": "demo", "role": "admin"})
    as_member = stack.token({**person, "org": OTHER_ADMIN["org"], "role": "member"})
    for _ in range(3):
        for token, org, role in ((as_admin, "demo", "admin"), (as_member, OTHER_ADMIN["org"], "member")):
            me = api.gateway.handle("GET", "/api/me", {"Authorization": f"Bearer {token}"}, {}, None)
            assert me.status == 200 and me.json()["org_external_id"] == org and me.json()["role"] == role
    other_org = db.run("SELECT id FROM enterprise.organizations WHERE external_id = :o", o=OTHER_ADMIN["org"])[0][0]
    demo_org = db.run("SELECT id FROM enterprise.organizations WHERE external_id = 'demo'")[0][0]
    assert "dual@example.com" in users_repo.admin_emails(db, demo_org)
    assert "dual@example.com" not in users_repo.admin_emails(db, other_org)
    assert db.run("SELECT count(*) FROM enterprise.users WHERE subject = :s", s=person["subject"])[0][0] == 2


# ---------------------------------------------------------------- 11. caches
def test_an_expired_token_is_refused_even_when_the_gateway_cached_its_authorization(stack: LocalStack) -> None:
    """Given the authorizer's cached answer for a token that has since expired (API Gateway keeps it for the
    authorizer TTL), when the API function gets the request, then 401: the API checks `exp` itself."""
    import time

    from snowwatch_local.apigw import rest_event
    from snowwatch_local.handlers import load
    from snowwatch_local.stack import ADMIN, FakeLambdaContext

    context = {"subject": ADMIN["subject"], "email": ADMIN["email"], "org": ADMIN["org"], "role": "admin", "name": ""}
    for exp, status in ((int(time.time()) - 120, 401), (int(time.time()) + 120, 200)):
        event = rest_event("GET", "/api/me", authorizer={**context, "exp": str(exp)})
        assert load("api").lambda_handler(event, FakeLambdaContext("api"))["statusCode"] == status


def test_a_deleted_connectors_cached_answers_go_with_it(api: Api) -> None:
    """Given a connector whose cost overview is in the stage cache, when it is deleted, then the next GET is
    not served from the cache (404, not a HIT with the old figures)."""
    created = api.post("/api/connectors", json_body=_connector_body(private_key=new_private_key_pem()))
    cid = created.json()["id"]
    path = f"/api/connectors/{cid}/cost/overview"
    assert api.get(path).headers["X-Cache"] == "MISS"
    assert api.get(path).headers["X-Cache"] == "HIT"
    assert api.call("DELETE", f"/api/connectors/{cid}").status == 204
    after = api.get(path)
    assert after.status == 404 and after.headers.get("X-Cache") != "HIT"
