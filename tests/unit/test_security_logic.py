"""Security logic without services: normalisation, network policies, the alert lifecycle, the score,
the rule registry, the queries against the guard, and the synthetic seeder's determinism."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from snowwatch.services import security
from snowwatch.services import security_rules as rules
from snowwatch.snowflake import guard
from snowwatch.snowflake.queries import (
    security_access_history,
    security_grants,
    security_login_history,
    security_network_policies,
    security_query_history,
    security_sessions,
    security_users,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ('"true"', True), ("false", False), ('"false"', False),
     ("TRUE", True), ("YES", True), ("NO", False), (None, False), (1, True), (0, False), (Decimal(1), True)],
)  # fmt: skip
def test_flags_accept_variant_text(value, expected) -> None:
    """Given DISABLED/IS_SUCCESS as VARIANT text, bools or numbers, when normalised, then a real bool."""
    assert security.as_flag(value) is expected


def test_timestamps_are_utc_and_the_fakesnow_epoch_null_is_none() -> None:
    """Given a naive time, an aware time and fakesnow's epoch-for-NULL, when normalised, then UTC or None."""
    assert security.as_ts(datetime(2026, 1, 1, 10)) == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert security.as_ts(datetime(1970, 1, 1, tzinfo=UTC)) is None
    assert security.as_ts(None) is None


def test_login_details_nested_json_string_is_parsed() -> None:
    """Given LOGIN_DETAILS whose malicious_ip_protection_info is itself a JSON string, then both levels parse."""
    inner = json.dumps({"categories": ["TOR_EXITS"], "result": "OPTED_OUT", "riskClassification": "HIGH"})
    parsed = security.login_details(json.dumps({"malicious_ip_protection_info": inner}))
    assert parsed["malicious_ip_protection_info"]["categories"] == ["TOR_EXITS"]
    assert security.login_details(None) is None
    assert security.login_details("not json") == {"raw": "not json"}


def test_login_row_keeps_null_user_and_maps_yes_no() -> None:
    """Given a failed login without a user, when mapped, then USER_NAME stays NULL and IS_SUCCESS is False."""
    row = security.login_row(
        {"EVENT_ID": 7, "EVENT_TIMESTAMP": NOW, "USER_NAME": None, "IS_SUCCESS": "NO", "ERROR_CODE": 390100}
    )
    assert row[0] == 7 and row[3] is None and row[9] is False and row[10] == 390100


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [("0.0.0.0/0", True), ("10.0.0.0/8,0.0.0.0/0", True), ("0.0.0.0", True), ("'0.0.0.0/0'", True),
     ("10.0.0.0/8", False), ("", False), (None, False), ("0.0.0.0/1", False), ("::/0", True), ("garbage", False)],
)  # fmt: skip
def test_allows_everything(allowed, expected) -> None:
    assert rules.allows_everything(allowed) is expected


def test_only_active_account_attachments_count_as_account_policies() -> None:
    """Given policies attached to a user, to nothing, and to the account, then only the last is account-level."""
    policies = [
        {"name": "U", "attached_to": [{"domain": "USER", "entity": "SVC", "status": "ACTIVE"}]},
        {"name": "NONE", "attached_to": []},
        {"name": "ACC", "attached_to": [{"domain": "ACCOUNT", "entity": "X", "status": "ACTIVE"}]},
    ]
    assert [p["name"] for p in rules.account_policies(policies)] == ["ACC"]


def test_policy_rows_attach_references_and_drop_them_from_deleted_policies() -> None:
    """Given NETWORK_POLICIES and POLICY_REFERENCES, then attached_to comes from the references (live only)."""
    policies = [
        {"ID": 1, "NAME": "A", "DELETED": None, "ALLOWED_IP_LIST": "0.0.0.0/0"},
        {"ID": 2, "NAME": "B", "DELETED": NOW, "ALLOWED_IP_LIST": "0.0.0.0/0"},
    ]
    refs = [
        {"POLICY_ID": 1, "POLICY_NAME": "A", "REF_ENTITY_DOMAIN": "ACCOUNT", "REF_ENTITY_NAME": "ACC"},
        {"POLICY_ID": 2, "POLICY_NAME": "B", "REF_ENTITY_DOMAIN": "ACCOUNT", "REF_ENTITY_NAME": "ACC"},
    ]
    rows = {r[0]: r for r in security.policy_rows(policies, refs)}
    assert rows["A"][8][0]["domain"] == "ACCOUNT"
    assert rows["B"][8] == []


def test_lifecycle_transitions() -> None:
    """Given each alert state, when a finding arrives, then insert / recur / reopen only after resolved_at."""
    resolved_at = NOW
    resolved = {"status": "resolved", "resolved_at": resolved_at}
    assert security.transition(None, NOW) == "insert"
    assert security.transition({"status": "open", "resolved_at": None}, NOW) == "recur"
    assert security.transition(resolved, NOW - timedelta(minutes=1)) == "keep_resolved"
    assert security.transition(resolved, NOW) == "keep_resolved"  # at resolved_at exactly: not after
    assert security.transition(resolved, NOW + timedelta(seconds=1)) == "reopen"


def test_fingerprint_is_rule_plus_subject() -> None:
    assert security.fingerprint("stale_user", "A") == security.fingerprint("stale_user", "A")
    assert security.fingerprint("stale_user", "A") != security.fingerprint("stale_user", "B")
    assert security.fingerprint("stale_user", "A") != security.fingerprint("mfa_admin", "A")


def test_security_score_formula() -> None:
    """100 - (20 critical + 8 high + 3 medium + 1 low), floored at 0; info weighs nothing."""
    assert security.security_score({}) == 100
    assert security.security_score({"critical": 1, "high": 2, "medium": 3, "low": 4, "info": 9}) == 100 - 49
    assert security.security_score({"critical": 6}) == 0


def test_identifiers_in_remediation_sql_are_quoted() -> None:
    assert rules.ident('we"ird') == '"we""ird"'
    assert rules.literal("o'k") == "'o''k'"


def test_every_rule_is_registered_once_with_a_valid_severity_and_rationale() -> None:
    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids)) >= 20
    for r in rules.RULES:
        assert r.severity in ("critical", "high", "medium", "low", "info")
        assert len(r.rationale) > 40, r.id


ALL_QUERIES = [
    security_users.SELECT,
    security_login_history.SELECT,
    security_login_history.SELECT_WITHOUT_DETAILS,
    security_login_history.HAS_LOGIN_DETAILS,
    security_grants.SELECT_TO_USERS,
    security_grants.SELECT_TO_ROLES,
    security_network_policies.SELECT_POLICIES,
    security_network_policies.SELECT_REFERENCES,
    security_sessions.SELECT,
    security_access_history.SELECT,
    security_query_history.SELECT,
]


@pytest.mark.parametrize("sql", ALL_QUERIES)
def test_every_security_query_passes_the_statement_guard(sql) -> None:
    assert guard.check(sql) in ("SELECT", "WITH")


class _Recorder:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str, *args: object) -> None:
        self.statements.append(sql)

    def fetchone(self) -> tuple[int]:
        return (0,)


def test_synthetic_seed_is_deterministic() -> None:
    """Given the same scale and now, when seeded twice, then the exact same statements are sent."""
    from snowwatch_local.synthetic import SCALES
    from snowwatch_local.synthetic import security as seed

    a, b = _Recorder(), _Recorder()
    seed.seed(a, SCALES["tiny"], NOW)
    seed.seed(b, SCALES["tiny"], NOW)
    assert a.statements == b.statements
    assert not any("RANDOM(" in s.upper() for s in a.statements)
