"""Every detection rule against the synthetic account: it fires on its planted positive case and stays
quiet on the near-miss negatives planted beside it (local/snowwatch_local/synthetic/security.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch.db import query
from snowwatch.models.security import Finding
from snowwatch.services import security_reads
from snowwatch.services import security_rules as rules
from snowwatch.services.security_rules.base import Rule

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def extracted(stack: Any, db: Any) -> UUID:
    """The demo connector after one security run (extraction + evaluation)."""
    out = stack.run_job("security", connector_id=str(stack.connector_id))
    assert out["status"] == "succeeded", out
    return UUID(str(stack.connector_id))


def run(rule_id: str, db: Any, cid: UUID) -> list[Finding]:
    r = next(x for x in rules.RULES if x.id == rule_id)
    return r.run(db, cid, datetime.now(UTC))


def subjects(findings: list[Finding]) -> set[str]:
    return {f.subject for f in findings}


def test_mfa_password_user(db, extracted) -> None:
    """Given CAROL (password, no MFA) and DAVE (Duo+HAS_MFA), ERIN (HAS_MFA only), FRANK (SSO, no password),
    KATE (disabled), LEO (deleted), SVC_LEGACY (service), when evaluated, then only CAROL (BOB is an admin)."""
    assert subjects(run("mfa_password_user", db, extracted)) == {"CAROL_ANALYST"}


def test_mfa_admin(db, extracted) -> None:
    """Given BOB (admin, password, no MFA) and ALICE (admin with MFA), then only BOB, critical."""
    found = run("mfa_admin", db, extracted)
    assert subjects(found) == {"ADMIN_BOB"}
    assert found[0].severity == "critical"
    assert 'ALTER USER "ADMIN_BOB" SET AUTHENTICATION POLICY' in (found[0].remediation_sql or "")


def test_mfa_bypass_active(db, extracted) -> None:
    """Given NINA (bypass 2 days ahead) and OSCAR (bypass ended 3 days ago), then only NINA."""
    assert subjects(run("mfa_bypass_active", db, extracted)) == {"NINA_BYPASS"}


def test_admin_count_too_many_through_inheritance(db, extracted) -> None:
    """Given 11 effective admins (direct, via SEC_OPS, via OPS_TEAM, 4 hops through a role cycle), and a
    revoked, a disabled, a deleted and a SYSADMIN-only user, then one 'account' finding listing exactly 11."""
    from snowwatch_local.synthetic.security import PLANTED_ADMINS

    found = run("admin_count", db, extracted)
    assert subjects(found) == {"account"}
    users = {e["user_name"] for e in found[0].evidence}
    assert users == set(PLANTED_ADMINS)
    assert not users & {"TOM_REVOKED", "KATE_DISABLED", "LEO_DELETED", "RACHEL_NESTED"}
    sam = next(e for e in found[0].evidence if e["user_name"] == "SAM_DEEP")
    assert sam["path"] == ["ROLE_A", "ROLE_B", "SEC_OPS", "SECURITYADMIN"]


def test_admin_grant_new(db, extracted) -> None:
    """Given ACCOUNTADMIN granted to QUINN yesterday and SECURITYADMIN to SEC_OPS 2 days ago, and old or
    revoked admin grants, then exactly the two new grants."""
    assert subjects(run("admin_grant_new", db, extracted)) == {
        "ACCOUNTADMIN to USER QUINN_NEWADMIN",
        "SECURITYADMIN to ROLE SEC_OPS",
    }


def test_admin_default_role(db, extracted) -> None:
    """Given BOB (default ACCOUNTADMIN) and ALICE (admin, default SYSADMIN), then only BOB."""
    assert subjects(run("admin_default_role", db, extracted)) == {"ADMIN_BOB"}


def test_admin_role_to_custom_role(db, extracted) -> None:
    """Given admin roles granted to SEC_OPS and OPS_TEAM, the system grant SECURITYADMIN->ACCOUNTADMIN and a
    revoked SECURITYADMIN->ANALYST, then only the two custom roles."""
    assert subjects(run("admin_role_to_custom_role", db, extracted)) == {
        "SECURITYADMIN to ROLE SEC_OPS",
        "ACCOUNTADMIN to ROLE OPS_TEAM",
    }


def test_stale_user(db, extracted) -> None:
    """Given HENRY (120 days idle), IVY (never, created 150 days ago), GRACE (89 days), JACK (never, created
    10 days ago), KATE (disabled, 200 days), LEO (deleted), then HENRY and IVY, also in snowflake_stale_users."""
    assert subjects(run("stale_user", db, extracted)) == {"HENRY_STALE", "IVY_NEVER"}
    rows = query(
        db,
        "SELECT user_name, days_inactive FROM enterprise.snowflake_stale_users WHERE connector_id = :c",
        c=extracted,
    )
    assert {r["user_name"]: r["days_inactive"] for r in rows} == {"HENRY_STALE": 120, "IVY_NEVER": 150}


def test_service_user_password(db, extracted) -> None:
    """Given SVC_ETL (SERVICE + password), SVC_LEGACY (LEGACY_SERVICE + password), SVC_KEYONLY (key only)."""
    found = run("service_user_password", db, extracted)
    assert subjects(found) == {"SVC_ETL", "SVC_LEGACY"}
    legacy = next(f for f in found if f.subject == "SVC_LEGACY")
    assert "SET TYPE = SERVICE" in (legacy.remediation_sql or "")


def test_keypair_user_password_login(db, extracted) -> None:
    """Given MIKE (RSA key) signing in with PASSWORD and key-pair users signing in with RSA_KEYPAIR."""
    assert subjects(run("keypair_user_password_login", db, extracted)) == {"MIKE_KEYPAIR"}


def test_legacy_service_password_login(db, extracted) -> None:
    """Given SVC_LEGACY (LEGACY_SERVICE) signing in with a password, SVC_ETL (SERVICE, holds a password, signs in
    with its key) and MIKE (a PERSON signing in with a password), then only SVC_LEGACY, with the fix SQL."""
    found = run("legacy_service_password_login", db, extracted)
    assert subjects(found) == {"SVC_LEGACY"}
    assert "SET TYPE = SERVICE" in (found[0].remediation_sql or "") and found[0].links == [
        "ip:10.30.0.1",
        "user:SVC_LEGACY",
    ]


def test_failed_login_burst_user(db, extracted) -> None:
    """Given CAROL (6 failures in 30 min), DAVE (exactly 4), ERIN/JACK (3 each) and SVC_KEYONLY (10 JWT
    394304 noise failures), then only CAROL."""
    assert subjects(run("failed_login_burst_user", db, extracted)) == {"CAROL_ANALYST"}


def test_failed_login_burst_ip(db, extracted) -> None:
    """Given 192.0.2.66 (6), the sprayer 203.0.113.99 (8, two with USER_NAME NULL), 198.51.100.20 (4),
    CAROL's three IPs (2 each) and 0.0.0.0 (30 noise 390156), then the first two only."""
    assert subjects(run("failed_login_burst_ip", db, extracted)) == {"192.0.2.66", "203.0.113.99"}


def test_password_spraying(db, extracted) -> None:
    """Given 203.0.113.99 (6 distinct users + unidentified), 198.51.100.20 (4 users), 192.0.2.66 (2 users)."""
    found = run("password_spraying", db, extracted)
    assert subjects(found) == {"203.0.113.99"}
    assert found[0].evidence[0]["max_users_in_window"] == 6  # NULL user names are not counted


def test_failures_then_success(db, extracted) -> None:
    """Given BOB (3 failures, success 5 min later) and DAVE (4 failures, success 3 h later), then BOB."""
    assert subjects(run("failures_then_success", db, extracted)) == {"ADMIN_BOB"}


def test_malicious_ip_login(db, extracted) -> None:
    """Given a success from a HIGH-risk TOR exit, a blocked LOW-risk failure and clean details, then the
    first IP only, critical because the login succeeded."""
    found = run("malicious_ip_login", db, extracted)
    assert subjects(found) == {"45.155.205.10"}
    assert found[0].severity == "critical"


def test_network_policy_account_open(db, extracted) -> None:
    """Given ACCOUNT_POLICY on the account allowing 0.0.0.0/0, an unattached open policy, a dropped open
    policy and a restrictive user-level policy, then one finding about ACCOUNT_POLICY only."""
    found = run("network_policy_account", db, extracted)
    assert subjects(found) == {"account"}
    assert "ACCOUNT_POLICY" in found[0].title
    assert all(name not in found[0].description for name in ("OLD_POLICY", "DROPPED_POLICY", "SVC_POLICY"))


def test_network_policy_change(db, extracted) -> None:
    """Given a CREATE and an ALTER NETWORK POLICY and a failed DROP, then the two successful changes."""
    assert subjects(run("network_policy_change", db, extracted)) == {"sec-np-1", "sec-np-2"}


def test_security_integration_change(db, extracted) -> None:
    """Given ALTER SECURITY INTEGRATION, a DESCRIBE of it and an ALTER STORAGE INTEGRATION, then the first."""
    assert subjects(run("security_integration_change", db, extracted)) == {"sec-int-1"}


def test_attack_tooling(db, extracted) -> None:
    """Given rapeflake (CAROL), DBeaver Ultimate on Windows Server 2022 (BOB), DBeaver Ultimate on Windows 11
    (ALICE), DBeaver Community on Windows Server 2022 (DAVE) and a non-JSON environment, then CAROL and BOB."""
    assert subjects(run("attack_tooling", db, extracted)) == {"CAROL_ANALYST", "ADMIN_BOB"}


def test_exfiltration_chain(db, extracted) -> None:
    """Given CAROL's temp stage -> COPY INTO -> GET within an hour, ALICE's chain without a temporary stage,
    JACK's spread over 3 days and a chain split between ERIN and DAVE, then only CAROL."""
    found = run("exfiltration_chain", db, extracted)
    assert subjects(found) == {"CAROL_ANALYST"}
    assert found[0].evidence[0]["get_query_id"] == "sec-exf-3"


# ---------------------------------------------------------------- ACCESS_HISTORY rules (Enterprise edition)


@pytest.fixture(scope="module")
def with_access_history(stack: Any, db: Any, extracted: UUID) -> Iterator[UUID]:
    """The test account is Standard edition: give it ACCESS_HISTORY with the synthetic account's planted access
    story (anchored on the seeded 'now'), run the job once for a twin of the demo connector (same account, same
    org: the demo connector's alerts and incidents stay as the other modules expect), then take the view away
    and drop the twin."""
    from snowwatch_local import services
    from snowwatch_local.synthetic import security as seed

    row = query(
        db,
        "SELECT event_timestamp FROM enterprise.snowflake_login_history WHERE connector_id = :c AND event_id = :e",
        c=extracted,
        e=seed.STORY_LOGIN,
    )
    anchor = row[0]["event_timestamp"] + timedelta(hours=6, minutes=15)
    twin = query(
        db,
        """INSERT INTO enterprise.connectors (org_id, name, account_identifier, username, role_name, warehouse,
               auth_method, secret_ref)
           SELECT org_id, 'access-history twin', account_identifier, username, role_name, warehouse, auth_method,
                  secret_ref
           FROM enterprise.connectors WHERE id = :c RETURNING id""",
        c=extracted,
    )[0]["id"]
    try:
        with contextlib.closing(services.snowflake_connection(stack.fakesnow)) as sf:
            cur = sf.cursor()
            cur.execute(f"CREATE TABLE {seed.AU}.ACCESS_HISTORY ({seed.DDL['ACCESS_HISTORY']})")
            try:
                seed._insert(cur, "ACCESS_HISTORY", seed.ACCESS_COLUMNS, seed.access_story(anchor))
                out = stack.run_job("security", connector_id=str(twin))
            finally:
                cur.execute(f"DROP TABLE {seed.AU}.ACCESS_HISTORY")
        assert out["status"] == "succeeded" and out["rows"]["security.ACCESS_HISTORY"] > 100, out
        yield UUID(str(twin))
    finally:
        db.run("DELETE FROM enterprise.connectors WHERE id = :c", c=twin)


def test_access_beyond_baseline(db, with_access_history) -> None:
    """Given ERIN and DAVE reading 2 objects a day for 28 days, then today ERIN 40 (positive) and DAVE 8, and JACK
    (no baseline) 40, then only ERIN."""
    found = run("access_beyond_baseline", db, with_access_history)
    assert subjects(found) == {"ERIN_TOTP"}
    assert "40 distinct objects" in found[0].description


def test_masked_object_first_access(db, with_access_history) -> None:
    """Given CAROL's first read of CUSTOMERS (masking policy PII_MASK), ALICE reading it again after 10 days, and
    DAVE's first read of PAYROLL (no policy), then only CAROL."""
    found = run("masked_object_first_access", db, with_access_history)
    assert subjects(found) == {"CAROL_ANALYST"}
    assert found[0].evidence[0]["policies"] == ["PII_MASK"]


def test_new_ip_bulk_read(db, with_access_history) -> None:
    """Given QUINN reading 12 tables within the hour after a login from a never-seen IP, ALICE reading 12 after a
    login from her usual IP, and NINA reading 3 after a new-IP login, then only QUINN."""
    found = run("new_ip_bulk_read", db, with_access_history)
    assert subjects(found) == {"QUINN_NEWADMIN"}
    assert found[0].evidence[0]["tables"] == 12 and found[0].evidence[0]["client_ip"] == "198.18.0.7"


# ---------------------------------------------------------------- the other halves, on an isolated connector


def test_admin_count_too_few(db, lone_connector) -> None:
    """Given an account whose only admin is one user, then admin_count fires (fewer than 2)."""
    now = datetime.now(UTC)
    db.run(
        """INSERT INTO enterprise.snowflake_users (connector_id, user_id, name, has_password, has_mfa)
           VALUES (:c, 1, 'ONLY_ADMIN', false, false)""",
        c=lone_connector.id,
    )
    db.run(
        """INSERT INTO enterprise.snowflake_user_role_grants (connector_id, grantee_name, role, created_on)
           VALUES (:c, 'ONLY_ADMIN', 'ACCOUNTADMIN', :t)""",
        c=lone_connector.id, t=now - timedelta(days=400),
    )  # fmt: skip
    found = run("admin_count", db, lone_connector.id)
    assert subjects(found) == {"account"}
    assert "Only 1" in found[0].description


def test_network_policy_missing(db, lone_connector) -> None:
    """Given only a user-level restrictive policy (no account-level one), then network_policy_account fires
    as 'no account-level network policy', critical."""
    db.run(
        """INSERT INTO enterprise.snowflake_network_policies (connector_id, name, allowed_ip_list, attached_to)
           VALUES (:c, 'USER_ONLY', '10.0.0.0/8', '[{"domain": "USER", "entity": "SVC", "status": "ACTIVE"}]')""",
        c=lone_connector.id,
    )
    found = run("network_policy_account", db, lone_connector.id)
    assert subjects(found) == {"account"}
    assert found[0].severity == "critical"
    assert "ALTER ACCOUNT SET NETWORK_POLICY" in (found[0].remediation_sql or "")


def _bad_sql(conn: Any, connector_id: UUID, now: datetime) -> list[dict[str, Any]]:
    return query(conn, "SELECT no_such_column FROM enterprise.snowflake_users WHERE connector_id = :c", c=connector_id)


def test_a_failing_rule_is_recorded_in_the_run_and_never_stops_the_others(stack, db, extracted, monkeypatch) -> None:
    """Given a rule whose statement fails in Postgres, registered first, when the job runs, then the run
    succeeds, its rows record the failure under the rule id, and the other rules still report findings."""
    broken = Rule(id="broken_rule", severity="high", title="B", fires="f", rationale="r", fetch=_bad_sql,
                  judge=lambda rows, now: [])  # fmt: skip
    monkeypatch.setattr(rules, "RULES", [broken, *rules.RULES])
    out = stack.run_job("security", connector_id=str(extracted))
    assert out["status"] == "succeeded", out
    assert "UndefinedColumn" in out["rows"]["rule_errors"]["broken_rule"] or "no_such_column" in str(
        out["rows"]["rule_errors"]["broken_rule"]
    )
    assert out["rows"]["rules"]["mfa_admin"] == 1 and out["rows"]["findings"] > 20
    summary = security_reads.summary(db, extracted)
    assert summary.last_extraction is not None and "broken_rule" in summary.last_extraction.failed_rules


def test_every_rule_has_a_test_here() -> None:
    """Given the rule registry, then each rule id has a test function in this module."""
    names = set(globals())
    for r in rules.RULES:
        assert any(n.startswith(f"test_{r.id}") for n in names), r.id
