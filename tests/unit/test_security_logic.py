"""Security logic without services: normalisation, network policies, the alert lifecycle, the score,
the rule registry, the queries against the guard, and the synthetic seeder's determinism."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from snowwatch.models.notifications import Notification
from snowwatch.notify.render import render
from snowwatch.services import security, security_alerts, security_posture, security_reads, security_timeline
from snowwatch.services import security_rules as rules
from snowwatch.services.security_rules import base, network
from snowwatch.snowflake import guard
from snowwatch.snowflake.queries import (
    security_access_history,
    security_grants,
    security_login_history,
    security_network_policies,
    security_query_history,
    security_session_queries,
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
    assert row.event_id == 7 and row.user_name is None and row.is_success is False and row.error_code == 390100


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [("0.0.0.0/0", True), ("10.0.0.0/8,0.0.0.0/0", True), ("0.0.0.0", True), ("'0.0.0.0/0'", True),
     ("10.0.0.0/8", False), ("", False), (None, False), ("0.0.0.0/1", False), ("::/0", True), ("garbage", False)],
)  # fmt: skip
def test_allows_everything(allowed, expected) -> None:
    assert network.allows_everything(allowed) is expected


def test_only_active_account_attachments_count_as_account_policies() -> None:
    """Given policies attached to a user, to nothing, and to the account, then only the last is account-level."""
    policies = [
        {"name": "U", "attached_to": [{"domain": "USER", "entity": "SVC", "status": "ACTIVE"}]},
        {"name": "NONE", "attached_to": []},
        {"name": "ACC", "attached_to": [{"domain": "ACCOUNT", "entity": "X", "status": "ACTIVE"}]},
    ]
    assert [p["name"] for p in network.account_policies(policies)] == ["ACC"]


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
    rows = {r.name: r for r in security.policy_rows(policies, refs)}
    assert rows["A"].attached_to[0]["domain"] == "ACCOUNT"
    assert rows["B"].attached_to == []


def test_lifecycle_transitions() -> None:
    """Given each alert state, when a finding arrives, then insert / recur / reopen only after resolved_at."""
    resolved_at = NOW
    resolved = {"status": "resolved", "resolved_at": resolved_at}
    assert security_alerts.transition(None, NOW) == "insert"
    assert security_alerts.transition({"status": "open", "resolved_at": None}, NOW) == "recur"
    assert security_alerts.transition(resolved, NOW - timedelta(minutes=1)) == "keep_resolved"
    assert security_alerts.transition(resolved, NOW) == "keep_resolved"  # at resolved_at exactly: not after
    assert security_alerts.transition(resolved, NOW + timedelta(seconds=1)) == "reopen"


def test_fingerprint_is_rule_plus_subject() -> None:
    assert security_alerts.fingerprint("stale_user", "A") == security_alerts.fingerprint("stale_user", "A")
    assert security_alerts.fingerprint("stale_user", "A") != security_alerts.fingerprint("stale_user", "B")
    assert security_alerts.fingerprint("stale_user", "A") != security_alerts.fingerprint("mfa_admin", "A")


def test_security_score_formula() -> None:
    """100 - (20 critical + 8 high + 3 medium + 1 low), floored at 0; info weighs nothing."""
    assert security_reads.security_score({}) == 100
    assert security_reads.security_score({"critical": 1, "high": 2, "medium": 3, "low": 4, "info": 9}) == 100 - 49
    assert security_reads.security_score({"critical": 6}) == 0


def test_identifiers_in_remediation_sql_are_quoted() -> None:
    assert base.ident('we"ird') == '"we""ird"'
    assert base.literal("o'k") == "'o''k'"


def test_every_rule_is_registered_once_with_a_valid_severity_and_rationale() -> None:
    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids)) >= 20
    for r in rules.RULES:
        assert r.severity in ("critical", "high", "medium", "low", "info")
        assert len(r.rationale) > 40, r.id


ALL_QUERIES = [
    security_users.SELECT,
    security_users.SELECT_WITHOUT_WORKLOAD_IDENTITY,
    security_users.HAS_WORKLOAD_IDENTITY,
    security_login_history.SELECT,
    security_login_history.SELECT_WITHOUT_DETAILS,
    security_login_history.HAS_LOGIN_DETAILS,
    security_grants.SELECT_TO_USERS,
    security_grants.SELECT_TO_ROLES,
    security_network_policies.SELECT_POLICIES,
    security_network_policies.SELECT_REFERENCES,
    security_sessions.SELECT,
    security_access_history.SELECT,
    security_session_queries.SELECT,
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


# ---------------------------------------------------------------- rules as declarations: judges over hand-made rows


def test_docs_rules_table_matches_the_registry() -> None:
    """Given docs/security-rules.md, when its table is regenerated from the registry, then nothing changes."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "security-rules.md").read_text()
    assert rules.with_rules_table(doc) == doc, "run `make security-docs`"
    assert f"{len(rules.RULES)} rules." in doc


def test_rendered_table_follows_a_changed_registry() -> None:
    """Given one rule more than the registry, when rendered, then its row appears (the drift test can fail)."""
    extra = base.Rule(
        id="zz_extra", severity="low", title="t", fires="f", rationale="r" * 50,
        fetch=lambda conn, c, now: [], judge=lambda rows, now: [],
    )  # fmt: skip
    doc = (Path(__file__).resolve().parents[2] / "docs" / "security-rules.md").read_text()
    assert "`zz_extra`" in rules.with_rules_table(doc, [*rules.RULES, extra])


def _raise(conn: object, c: object, now: datetime) -> list[dict[str, object]]:
    raise RuntimeError("boom")


def test_a_failing_rule_is_recorded_and_the_others_still_run() -> None:
    """Given a rule whose fetch raises placed before a working rule, when evaluated, then the error is recorded
    under its id and the working rule's finding is still produced."""
    broken = base.Rule(id="broken", severity="high", title="B", fires="f", rationale="r",
                       fetch=_raise, judge=lambda rows, now: [])  # fmt: skip
    working = base.Rule(
        id="working", severity="low", title="W", fires="f", rationale="r",
        fetch=lambda conn, c, now: [{"user_name": "U"}],
        judge=lambda rows, now: [base.Draft(r["user_name"], "d", [r], None, now) for r in rows],
    )  # fmt: skip
    out = rules.evaluate(None, None, NOW, [broken, working])  # type: ignore[arg-type]
    assert out.errors == {"broken": "RuntimeError: boom"}
    assert [(f.rule_id, f.subject, f.title) for f in out.findings] == [("working", "U", "W: U")]
    assert out.per_rule == {"working": 1}


def test_every_judge_is_pure_and_quiet_on_no_rows() -> None:
    """Given no rows, when each rule judges, then nothing fires except the two 'missing' findings
    (no account network policy; fewer than 2 admins)."""
    fired = {r.id for r in rules.RULES if r.findings([], NOW)}
    assert fired == {"network_policy_account", "admin_count"}


def _no_mfa(name: str, admin: bool) -> dict[str, object]:
    return {"user_name": name, "email": None, "type": None, "default_role": None, "ext_authn_duo": False,
            "has_mfa": False, "last_success_login": None, "created_on": None, "is_admin": admin}  # fmt: skip


def test_mfa_rules_split_admins_from_other_users() -> None:
    """Given an admin and a non-admin without MFA, then mfa_admin has the admin, mfa_password_user the other."""
    rows = [_no_mfa("A", True), _no_mfa("U", False)]
    by_id = {r.id: r for r in rules.RULES}
    assert [f.subject for f in by_id["mfa_admin"].findings(rows, NOW)] == ["A"]
    found = by_id["mfa_password_user"].findings(rows, NOW)
    assert [f.subject for f in found] == ["U"] and found[0].observed_at == NOW
    assert found[0].evidence == [_no_mfa("U", False)]


def test_admin_count_bounds() -> None:
    """Given 2 and 9 admins nothing fires; 1 and 10 fire."""
    r = next(x for x in rules.RULES if x.id == "admin_count")

    def admins(n: int) -> list[dict[str, object]]:
        return [{"user_name": f"U{i}", "admin_role": "ACCOUNTADMIN", "path": ["ACCOUNTADMIN"]} for i in range(n)]

    assert not r.findings(admins(2), NOW) and not r.findings(admins(9), NOW)
    assert "Only 1" in r.findings(admins(1), NOW)[0].description
    assert r.findings(admins(10), NOW)[0].title.endswith("(10 admins)")


def test_malicious_ip_is_critical_only_when_a_login_succeeded() -> None:
    """Given one IP with a failed and one with a successful flagged login, then high and critical."""
    r = next(x for x in rules.RULES if x.id == "malicious_ip_login")

    def login(ip: str, ok: bool) -> dict[str, object]:
        return {"event_id": 1, "event_timestamp": NOW, "user_name": "U", "client_ip": ip, "is_success": ok,
                "first_authentication_factor": "PASSWORD", "info": {"categories": ["TOR_EXITS"]}}  # fmt: skip

    found = {f.subject: f.severity for f in r.findings([login("1.1.1.1", False), login("2.2.2.2", True)], NOW)}
    assert found == {"1.1.1.1": "high", "2.2.2.2": "critical"}


def test_account_policy_open_is_high_and_user_policy_does_not_count() -> None:
    """Given an open account policy and a user-level one, then one high finding about the account policy."""
    r = next(x for x in rules.RULES if x.id == "network_policy_account")
    policies = [
        {"name": "ACC", "allowed_ip_list": "0.0.0.0/0", "attached_to": [{"domain": "ACCOUNT", "status": "ACTIVE"}]},
        {"name": "USR", "allowed_ip_list": "0.0.0.0/0", "attached_to": [{"domain": "USER", "status": "ACTIVE"}]},
    ]
    found = r.findings(policies, NOW)
    assert [(f.severity, f.title) for f in found] == [
        ("high", "Account network policy missing or open: ACC allows 0.0.0.0/0")
    ]


def test_evidence_is_capped_and_json_ready() -> None:
    """Given a judge with 30 evidence rows holding datetimes, then 25 rows with ISO strings."""
    r = base.Rule(id="x", severity="low", title="X", fires="f", rationale="r", fetch=lambda conn, c, now: [],
                  judge=lambda rows, now: [base.Draft("s", "d", [{"at": NOW}] * 30, None, NOW)])  # fmt: skip
    (f,) = r.findings([], NOW)
    assert len(f.evidence) == 25 and f.evidence[0] == {"at": NOW.isoformat()}


def test_incident_links_come_from_the_subject_and_the_evidence() -> None:
    """Given a user-subject finding whose evidence names IPs and an unidentified user, then its links are the
    user and the IPs, without the placeholder; a rule that does not group has no links."""
    burst = next(r for r in rules.RULES if r.id == "failed_login_burst_user")
    row = {"subject": "EVE", "max_in_window": 5, "failures": 5, "first_failure": NOW, "last_failure": NOW,
           "users": ["EVE", "(unidentified)"], "ips": ["1.1.1.1", None]}  # fmt: skip
    (f,) = burst.findings([row], NOW)
    assert f.links == ["ip:1.1.1.1", "user:EVE"]
    stale = next(r for r in rules.RULES if r.id == "stale_user")
    row2 = {"user_name": "OLD", "created_on": None, "last_success_login": None, "days_inactive": 100,
            "has_password": True, "default_role": None}  # fmt: skip
    assert stale.findings([row2], NOW)[0].links == []


@pytest.mark.parametrize(
    ("query_type", "text", "expected"),
    [("UNLOAD", "COPY INTO @s FROM t", "unload to a stage (COPY INTO @)"),
     ("COPY", "  copy into @s from t", "unload to a stage (COPY INTO @)"),
     ("COPY", "COPY INTO t FROM @s", None),
     ("GET_FILES", "GET @s file:///tmp", "download from a stage (GET)"),
     ("CREATE", "CREATE OR REPLACE TEMPORARY STAGE s", "stage created"),
     ("SELECT", "SELECT 'COPY INTO @x'", None), (None, None, None)],
)  # fmt: skip
def test_timeline_flags_stage_unload_get_put(query_type, text, expected) -> None:
    """Given steps of a session, then stage creation, unloads (COPY INTO @), GET and PUT are flagged, by type or
    by text, and a load from a stage or a string mentioning one is not."""
    assert security_timeline.flag(query_type, text) == expected


def _user(typ: str | None, password: bool, mfa: bool, methods: list[str], key: bool = False) -> dict[str, object]:
    return {"user_name": "U", "type": typ, "has_password": password, "has_mfa": mfa, "has_rsa_public_key": key,
            "has_pat": False, "has_workload_identity": False,
            "sign_in_methods": [{"method": m, "logins": 1, "last_at": NOW} for m in methods]}  # fmt: skip


@pytest.mark.parametrize(
    ("user", "expected", "fix_has"),
    [(_user("LEGACY_SERVICE", True, False, ["PASSWORD"]), "blocked", "SET TYPE = SERVICE"),
     (_user("LEGACY_SERVICE", False, False, ["RSA_KEYPAIR"], key=True), "at_risk", "SET TYPE = SERVICE"),
     (_user("SERVICE", True, False, ["RSA_KEYPAIR"], key=True), "at_risk", "UNSET PASSWORD"),
     (_user("SERVICE", False, False, ["RSA_KEYPAIR"], key=True), "ready", None),
     (_user("PERSON", True, False, ["PASSWORD"]), "blocked", "AUTHENTICATION POLICY"),
     (_user(None, True, False, ["SAML2_ASSERTION"]), "at_risk", "AUTHENTICATION POLICY"),
     (_user("PERSON", True, True, ["PASSWORD+TOTP"]), "ready", None),
     (_user("PERSON", True, True, ["PASSWORD"]), "at_risk", "AUTHENTICATION POLICY"),
     (_user("PERSON", False, False, ["SAML2_ASSERTION"]), "ready", None)],
)  # fmt: skip
def test_posture_verdicts(user, expected, fix_has) -> None:
    """Given each kind of user, then ready / at risk / blocked under the password deprecation, with the fix."""
    verdict, reasons, fix = security_posture.verdict(user)
    assert verdict == expected
    assert (fix is None) if fix_has is None else (fix_has in (fix or "") and reasons)


class _Broken:
    broken = False


def test_a_lost_connection_is_recorded_for_every_rule_left() -> None:
    """Given a rule whose failure discards the connection (a client-side error), then it and every later rule
    are recorded as failed or not run, instead of each failing on the dead connection."""
    conn = _Broken()

    def breaks(c: _Broken, cid: object, now: datetime) -> list[dict[str, object]]:
        c.broken = True
        raise RuntimeError("socket gone")

    first = base.Rule(id="a", severity="low", title="A", fires="f", rationale="r", fetch=breaks, judge=lambda r, n: [])
    later = base.Rule(id="b", severity="low", title="B", fires="f", rationale="r", fetch=_raise, judge=lambda r, n: [])
    out = rules.evaluate(conn, None, NOW, [first, later])  # type: ignore[arg-type]
    assert out.errors == {"a": "RuntimeError: socket gone", "b": "not run: the database connection was lost"}


def test_an_incident_notification_says_incident_and_links_to_it() -> None:
    """Given an incident's outbox payload, when rendered, then the subject and the button say incident and the
    link opens the incident on its connector."""
    payload = {
        "kind": "security_incident",
        "severity": "critical",
        "title": "Known attack tooling: X (+2 related alerts)",
        "description": "- [critical] a",
        "dashboard_path": "/connectors/c/security?incident=i",
    }
    n = Notification.model_construct(source_type="security_incident", payload=payload)
    out = render(n, "https://dash.example")
    assert out.subject == "[snowwatch] CRITICAL security incident: Known attack tooling: X (+2 related alerts)"
    assert out.link == "https://dash.example/connectors/c/security?incident=i"
    assert out.blocks[-1]["elements"][0]["text"]["text"] == "Open incident"
