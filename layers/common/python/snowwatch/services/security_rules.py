"""The detection rules. Each rule is ONE function ``(conn, connector_id, now) -> list[Finding]``,
registered with its id, default severity, title and rationale in ``RULES``.

Set-based rules are SQL in ``repositories.security``; the functions here turn rows into findings:
subject (what the alert is about: a user, an IP, a role grant, the account), evidence rows, and the
remediation SQL the customer may run themselves (snowwatch never runs it: it only reads).

Event-based rules (logins, sessions, queries) look back ``EVENT_LOOKBACK`` and report the newest
evidence time as ``observed_at``; state-based rules (users, grants, policies) report the evaluation
time. docs/security-rules.md lists every rule with its rationale.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.models.security import Finding, Severity
from snowwatch.repositories import security as repo

EVENT_LOOKBACK = timedelta(days=7)
NEW_GRANT_WINDOW = timedelta(days=7)
STALE_DAYS = 90
BURST_THRESHOLD = 5
BURST_WINDOW_MINUTES = 60
SPRAY_MIN_USERS = 5
SPRAY_WINDOW_MINUTES = 60
FAILURES_BEFORE_SUCCESS = 3
FAILURES_BEFORE_SUCCESS_WINDOW_MINUTES = 60
EXFIL_CHAIN_HOURS = 24
ADMINS_MIN = 2
ADMINS_MAX_EXCLUSIVE = 10
MAX_EVIDENCE = 25

RuleFn = Callable[[Connection, UUID, datetime], list[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    rationale: str
    fn: RuleFn


RULES: list[Rule] = []


def rule(id: str, severity: Severity, title: str, rationale: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under ``id``."""

    def register(fn: RuleFn) -> RuleFn:
        RULES.append(Rule(id, severity, title, rationale, fn))
        return fn

    return register


def ident(name: str) -> str:
    """A Snowflake identifier, double-quoted (exact case, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _evidence(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_jsonable(r) for r in rows[:MAX_EVIDENCE]]


def _finding(
    r: Rule,
    subject: str,
    description: str,
    evidence: list[dict[str, Any]],
    sql: str | None,
    observed_at: datetime,
    *,
    severity: Severity | None = None,
    title: str | None = None,
) -> Finding:
    return Finding(
        rule_id=r.id,
        severity=severity or r.severity,
        subject=subject,
        title=title or f"{r.title}: {subject}",
        description=description,
        evidence=_evidence(evidence),
        remediation_sql=sql,
        observed_at=observed_at,
    )


def _rule(id: str) -> Rule:
    return next(r for r in RULES if r.id == id)


MFA_POLICY_SQL = (
    "CREATE AUTHENTICATION POLICY IF NOT EXISTS require_mfa MFA_ENROLLMENT = REQUIRED;\n"
    "ALTER USER {user} SET AUTHENTICATION POLICY require_mfa;"
)


# ---------------------------------------------------------------- MFA
@rule(
    "mfa_password_user",
    "high",
    "Password user without MFA",
    "Stolen passwords on accounts without MFA were the way in for the 2024 UNC5537 campaign; CIS 1.4 "
    "requires MFA for every password user. HAS_MFA covers every MFA method (the legacy EXT_AUTHN_DUO flag "
    "alone misses TOTP and passkeys). Admins are reported by mfa_admin instead.",
)
def mfa_password_user(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("mfa_password_user")
    return [
        _finding(
            r,
            row["user_name"],
            f"{row['user_name']} signs in with a password and has no MFA method enrolled.",
            [row],
            MFA_POLICY_SQL.format(user=ident(row["user_name"])),
            now,
        )
        for row in repo.password_users_without_mfa(conn, connector_id)
        if not row["is_admin"]
    ]


@rule(
    "mfa_admin",
    "critical",
    "Admin with a password and no MFA",
    "An effective ACCOUNTADMIN/SECURITYADMIN holder with a single-factor password is one phished or "
    "reused password away from a full account takeover.",
)
def mfa_admin(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("mfa_admin")
    return [
        _finding(
            r,
            row["user_name"],
            f"{row['user_name']} holds an admin role, signs in with a password and has no MFA method enrolled.",
            [row],
            MFA_POLICY_SQL.format(user=ident(row["user_name"])),
            now,
        )
        for row in repo.password_users_without_mfa(conn, connector_id)
        if row["is_admin"]
    ]


@rule(
    "mfa_bypass_active",
    "medium",
    "MFA bypass window open",
    "BYPASS_MFA_UNTIL in the future lets the user sign in without the second factor until then; it is "
    "meant for minutes-long recovery, not standing access.",
)
def mfa_bypass_active(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("mfa_bypass_active")
    return [
        _finding(
            r,
            row["user_name"],
            f"{row['user_name']} may sign in without MFA until {row['bypass_mfa_until'].isoformat()}.",
            [row],
            f"ALTER USER {ident(row['user_name'])} SET MINS_TO_BYPASS_MFA = 0;",
            now,
        )
        for row in repo.mfa_bypass_active(conn, connector_id, now)
    ]


# ---------------------------------------------------------------- admins
@rule(
    "admin_count",
    "medium",
    "Number of admins out of range",
    "CIS 1.10: at least 2 users (no single point of failure) and fewer than 10 (blast radius) should "
    "hold ACCOUNTADMIN or SECURITYADMIN, counting inheritance through role grants.",
)
def admin_count(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("admin_count")
    rows = repo.effective_admins(conn, connector_id)
    users = sorted({row["user_name"] for row in rows})
    if ADMINS_MIN <= len(users) < ADMINS_MAX_EXCLUSIVE:
        return []
    if len(users) >= ADMINS_MAX_EXCLUSIVE:
        description = (
            f"{len(users)} users hold ACCOUNTADMIN or SECURITYADMIN (directly or inherited); keep it under "
            f"{ADMINS_MAX_EXCLUSIVE}."
        )
        sql = "\n".join(
            f"-- {row['user_name']}: {' -> '.join(row['path'])}\n"
            f"REVOKE ROLE {ident(row['path'][0])} FROM USER {ident(row['user_name'])};"
            for row in rows
        )
    else:
        description = f"Only {len(users)} user(s) hold ACCOUNTADMIN or SECURITYADMIN; keep at least {ADMINS_MIN}."
        sql = "GRANT ROLE ACCOUNTADMIN TO USER <a second, MFA-protected administrator>;"
    return [_finding(r, "account", description, rows, sql, now, title=f"{r.title} ({len(users)} admins)")]


@rule(
    "admin_grant_new",
    "high",
    "New admin grant",
    "A fresh grant of ACCOUNTADMIN/SECURITYADMIN (to a user or a role) is how an intruder makes access "
    "stick; every one should be expected.",
)
def admin_grant_new(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("admin_grant_new")
    out = []
    for row in repo.new_admin_grants(conn, connector_id, now - NEW_GRANT_WINDOW):
        kind = row["granted_to"]
        subject = f"{row['admin_role']} to {kind} {row['grantee_name']}"
        out.append(
            _finding(
                r,
                subject,
                f"{row['admin_role']} was granted to {kind.lower()} {row['grantee_name']} by {row['granted_by']} "
                f"on {row['created_on'].isoformat()}.",
                [row],
                f"REVOKE ROLE {ident(row['admin_role'])} FROM {kind} {ident(row['grantee_name'])};  -- if unexpected",
                row["created_on"],
            )
        )
    return out


@rule(
    "admin_default_role",
    "medium",
    "Admin role as default role",
    "CIS 1.12: a user whose default role is ACCOUNTADMIN/SECURITYADMIN runs every session, script and "
    "BI tool with full privileges.",
)
def admin_default_role(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("admin_default_role")
    return [
        _finding(
            r,
            row["user_name"],
            f"{row['user_name']} has {row['default_role']} as default role.",
            [row],
            f"ALTER USER {ident(row['user_name'])} SET DEFAULT_ROLE = PUBLIC;  -- or the user's working role",
            now,
        )
        for row in repo.admin_default_role_users(conn, connector_id)
    ]


@rule(
    "admin_role_to_custom_role",
    "medium",
    "Admin role granted to a custom role",
    "CIS 1.13: granting ACCOUNTADMIN/SECURITYADMIN to a custom role hides admins behind an innocent-looking "
    "role and makes everyone who holds it an admin.",
)
def admin_role_to_custom_role(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("admin_role_to_custom_role")
    return [
        _finding(
            r,
            f"{row['admin_role']} to ROLE {row['custom_role']}",
            f"{row['admin_role']} is granted to the custom role {row['custom_role']}.",
            [row],
            f"REVOKE ROLE {ident(row['admin_role'])} FROM ROLE {ident(row['custom_role'])};",
            now,
        )
        for row in repo.admin_roles_granted_to_custom_roles(conn, connector_id)
    ]


# ---------------------------------------------------------------- users
def stale_user_rows(conn: Connection, connector_id: UUID, now: datetime) -> list[dict[str, Any]]:
    """The stale users (also written to snowflake_stale_users by the service)."""
    return repo.stale_users(conn, connector_id, now, STALE_DAYS)


@rule(
    "stale_user",
    "low",
    "Stale user",
    "CIS 1.8: users without a successful login for 90 days (never-logged-in users counted from their "
    "creation) are unmonitored credentials; disable them. Disabled and deleted users are excluded.",
)
def stale_user(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("stale_user")
    return [
        _finding(
            r,
            row["user_name"],
            f"{row['user_name']} has not signed in successfully for {row['days_inactive']} days"
            + (" (never signed in)." if row["last_success_login"] is None else "."),
            [row],
            f"ALTER USER {ident(row['user_name'])} SET DISABLED = TRUE;",
            now,
        )
        for row in stale_user_rows(conn, connector_id, now)
    ]


@rule(
    "service_user_password",
    "medium",
    "Service user with a password",
    "Service users (TYPE SERVICE or LEGACY_SERVICE) should authenticate with key pairs or OAuth; Snowflake "
    "is retiring single-factor passwords and converting LEGACY_SERVICE users, which breaks them.",
)
def service_user_password(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("service_user_password")
    out = []
    for row in repo.service_users_with_password(conn, connector_id):
        user = ident(row["user_name"])
        sql = f"ALTER USER {user} UNSET PASSWORD;  -- after moving it to key-pair authentication"
        if row["type"] == "LEGACY_SERVICE":
            sql += f"\nALTER USER {user} SET TYPE = SERVICE;"
        out.append(
            _finding(
                r, row["user_name"], f"{row['type']} user {row['user_name']} still holds a password.", [row], sql, now
            )
        )
    return out


@rule(
    "keypair_user_password_login",
    "high",
    "Key-pair user signed in with a password",
    "A user set up for key-pair authentication who signs in with a password is using a second, weaker "
    "credential that is likely shared or stolen.",
)
def keypair_user_password_login(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("keypair_user_password_login")
    return [
        _finding(
            r,
            row["subject"],
            f"{row['subject']} has an RSA public key but signed in with a password {row['logins']} time(s), "
            f"last at {row['last_login'].isoformat()}.",
            [row],
            f"ALTER USER {ident(row['subject'])} UNSET PASSWORD;",
            row["last_login"],
        )
        for row in repo.keypair_users_password_logins(conn, connector_id, now - EVENT_LOOKBACK)
    ]


# ---------------------------------------------------------------- failed logins
@rule(
    "failed_login_burst_user",
    "medium",
    "Failed-login burst on a user",
    f"{BURST_THRESHOLD} or more failed logins for one user within {BURST_WINDOW_MINUTES} minutes: password "
    "guessing or a broken integration. Noise codes 390156 and 394304 are ignored.",
)
def failed_login_burst_user(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("failed_login_burst_user")
    rows = repo.failed_login_bursts(
        conn,
        connector_id,
        now - EVENT_LOOKBACK,
        by="user_name",
        threshold=BURST_THRESHOLD,
        window_minutes=BURST_WINDOW_MINUTES,
    )
    return [
        _finding(
            r,
            row["subject"],
            f"{row['max_in_window']} failed logins for {row['subject']} within {BURST_WINDOW_MINUTES} minutes "
            f"({row['failures']} in the last {EVENT_LOOKBACK.days} days) from {len(row['ips'])} IP(s).",
            [row],
            f"ALTER USER {ident(row['subject'])} SET MUST_CHANGE_PASSWORD = TRUE;  -- and review the source IPs",
            row["last_failure"],
        )
        for row in rows
    ]


def _block_ip_sql(ip: str) -> str:
    return (
        f"-- add {ip} to the BLOCKED_IP_LIST of the account network policy (keep its existing entries):\n"
        f"ALTER NETWORK POLICY <account_policy> SET BLOCKED_IP_LIST = (<existing entries>, {literal(ip)});"
    )


@rule(
    "failed_login_burst_ip",
    "medium",
    "Failed-login burst from an IP",
    f"{BURST_THRESHOLD} or more failed logins from one IP within {BURST_WINDOW_MINUTES} minutes. Noise codes "
    "390156 and 394304 are ignored.",
)
def failed_login_burst_ip(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("failed_login_burst_ip")
    rows = repo.failed_login_bursts(
        conn,
        connector_id,
        now - EVENT_LOOKBACK,
        by="client_ip",
        threshold=BURST_THRESHOLD,
        window_minutes=BURST_WINDOW_MINUTES,
    )
    return [
        _finding(
            r,
            row["subject"],
            f"{row['max_in_window']} failed logins from {row['subject']} within {BURST_WINDOW_MINUTES} minutes "
            f"against {len(row['users'])} user name(s).",
            [row],
            _block_ip_sql(row["subject"]),
            row["last_failure"],
        )
        for row in rows
    ]


@rule(
    "password_spraying",
    "high",
    "Password spraying",
    f"One IP failing against {SPRAY_MIN_USERS} or more distinct users within {SPRAY_WINDOW_MINUTES} minutes is "
    "the signature of credential stuffing with leaked password lists.",
)
def password_spraying(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("password_spraying")
    rows = repo.password_spraying(
        conn, connector_id, now - EVENT_LOOKBACK, min_users=SPRAY_MIN_USERS, window_minutes=SPRAY_WINDOW_MINUTES
    )
    return [
        _finding(
            r,
            row["subject"],
            f"{row['subject']} failed against {row['max_users_in_window']} distinct users within "
            f"{SPRAY_WINDOW_MINUTES} minutes.",
            [row],
            _block_ip_sql(row["subject"]),
            row["last_failure"],
        )
        for row in rows
    ]


@rule(
    "failures_then_success",
    "high",
    "Failed logins followed by a success",
    f"{FAILURES_BEFORE_SUCCESS} or more failures and then a successful login of the same user within "
    f"{FAILURES_BEFORE_SUCCESS_WINDOW_MINUTES} minutes: a guessed password, until the owner confirms.",
)
def failures_then_success(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("failures_then_success")
    rows = repo.failures_then_success(
        conn,
        connector_id,
        now - EVENT_LOOKBACK,
        min_failures=FAILURES_BEFORE_SUCCESS,
        window_minutes=FAILURES_BEFORE_SUCCESS_WINDOW_MINUTES,
    )
    return [
        _finding(
            r,
            row["subject"],
            f"{row['subject']} signed in from {row['success_ip']} at {row['success_at'].isoformat()} after "
            f"{row['failures_before']} failures.",
            [row],
            f"ALTER USER {ident(row['subject'])} SET DISABLED = TRUE;  -- until the owner confirms; then rotate",
            row["success_at"],
        )
        for row in rows
    ]


@rule(
    "malicious_ip_login",
    "high",
    "Login from a malicious IP",
    "Snowflake's malicious-IP protection classifies source IPs (anonymous VPNs, TOR exits, known bad "
    "actors) in LOGIN_DETAILS; a success from such an IP is critical.",
)
def malicious_ip_login(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("malicious_ip_login")
    by_ip: dict[str, list[dict[str, Any]]] = {}
    for row in repo.malicious_ip_logins(conn, connector_id, now - EVENT_LOOKBACK):
        by_ip.setdefault(row["client_ip"] or "(unknown)", []).append(row)
    out = []
    for ip, rows in by_ip.items():
        succeeded = [x for x in rows if x["is_success"]]
        users = sorted({x["user_name"] or "(unidentified)" for x in rows})
        sql = _block_ip_sql(ip)
        if succeeded:
            sql += "\n" + "\n".join(
                f"ALTER USER {ident(u)} SET DISABLED = TRUE;  -- until reviewed"
                for u in sorted({x["user_name"] for x in succeeded if x["user_name"]})
            )
        out.append(
            _finding(
                r,
                ip,
                f"{len(rows)} login(s) from {ip} flagged by malicious-IP protection "
                f"({', '.join(sorted({c for x in rows for c in (x['info'] or {}).get('categories', [])}))}); "
                f"{len(succeeded)} succeeded; users: {', '.join(users)}.",
                rows,
                sql,
                max(x["event_timestamp"] for x in rows),
                severity="critical" if succeeded else r.severity,
            )
        )
    return out


# ---------------------------------------------------------------- network policies and changes
OPEN_NETWORKS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def allows_everything(allowed_ip_list: str | None) -> bool:
    """Whether an ALLOWED_IP_LIST lets any IPv4 address in (0.0.0.0/0, 0.0.0.0 alone means the same)."""
    for raw in (allowed_ip_list or "").replace(";", ",").split(","):
        entry = raw.strip().strip("'\"")
        if not entry:
            continue
        if entry in ("0.0.0.0", "0.0.0.0/0", "::/0"):  # noqa: S104 (a CIDR, not a bind address)
            return True
        try:
            if ipaddress.ip_network(entry, strict=False) in OPEN_NETWORKS:
                return True
        except ValueError:
            continue
    return False


def account_policies(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The live policies attached at account level (POLICY_REFERENCES REF_ENTITY_DOMAIN = 'ACCOUNT')."""
    return [
        p
        for p in policies
        if any(
            str(a.get("domain", "")).upper() == "ACCOUNT" and str(a.get("status") or "ACTIVE").upper() == "ACTIVE"
            for a in (p.get("attached_to") or [])
        )
    ]


@rule(
    "network_policy_account",
    "critical",
    "Account network policy missing or open",
    "Without an account-level network policy (or with one that allows 0.0.0.0/0) a stolen credential works "
    "from anywhere: the second gap of the 2024 campaign. User-level policies do not protect other users.",
)
def network_policy_account(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("network_policy_account")
    policies = repo.network_policies(conn, connector_id)
    attached = account_policies(policies)
    if not attached:
        return [
            _finding(
                r,
                "account",
                "No network policy is attached to the account: every user can sign in from any IP.",
                [{"policies": [p["name"] for p in policies]}],
                "CREATE NETWORK POLICY corp_only ALLOWED_IP_LIST = ('<your egress CIDRs>');\n"
                "ALTER ACCOUNT SET NETWORK_POLICY = corp_only;",
                now,
                title=f"{r.title}: no account-level network policy",
            )
        ]
    return [
        _finding(
            r,
            "account",
            f"The account network policy {p['name']} allows 0.0.0.0/0 (ALLOWED_IP_LIST {p['allowed_ip_list']}).",
            [p],
            f"ALTER NETWORK POLICY {ident(p['name'])} SET ALLOWED_IP_LIST = ('<your egress CIDRs>');",
            now,
            severity="high",
            title=f"{r.title}: {p['name']} allows 0.0.0.0/0",
        )
        for p in attached
        if allows_everything(p["allowed_ip_list"])
    ]


def _review_sql(query_id: str) -> str:
    return (
        "-- review (snowwatch never changes your account):\n"
        f"SELECT * FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY WHERE QUERY_ID = {literal(query_id)};"
    )


@rule(
    "network_policy_change",
    "medium",
    "Network policy changed",
    "Creating, altering, dropping or re-attaching a network policy changes who can reach the account; "
    "attackers loosen them to keep access.",
)
def network_policy_change(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    return _change_findings(conn, connector_id, now, "network_policy_change", kind="network_policy")


@rule(
    "security_integration_change",
    "medium",
    "Security integration changed",
    "SAML/OAuth/SCIM security integrations decide who can sign in and how; a change can disable SSO "
    "enforcement or add an identity provider an attacker controls.",
)
def security_integration_change(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    return _change_findings(conn, connector_id, now, "security_integration_change", kind="security_integration")


def _change_findings(conn: Connection, connector_id: UUID, now: datetime, rule_id: str, kind: str) -> list[Finding]:
    """One finding per recent statement of ``kind`` in QUERY_HISTORY (who ran what, as which role)."""
    r = _rule(rule_id)
    return [
        _finding(
            r,
            row["query_id"],
            f"{row['user_name']} ran {row['query_type']} as {row['role_name']} at {row['start_time'].isoformat()}: "
            f"{(row['query_text'] or '')[:300]}",
            [row],
            _review_sql(row["query_id"]),
            row["start_time"],
            title=f"{r.title} by {row['user_name']} ({row['query_type']})",
        )
        for row in repo.security_changes(conn, connector_id, now - EVENT_LOOKBACK, kind=kind)
    ]


# ---------------------------------------------------------------- attack indicators
@rule(
    "attack_tooling",
    "critical",
    "Known attack tooling",
    "UNC5537 indicators published in 2024: CLIENT_ENVIRONMENT APPLICATION 'rapeflake', or "
    "'DBeaver_DBeaverUltimate' running on 'Windows Server 2022'.",
)
def attack_tooling(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("attack_tooling")
    by_user: dict[str, list[dict[str, Any]]] = {}
    for row in repo.attack_tooling_sessions(conn, connector_id, now - EVENT_LOOKBACK):
        by_user.setdefault(row["user_name"] or "(unidentified)", []).append(row)
    return [
        _finding(
            r,
            user,
            f"{len(rows)} session(s) of {user} used "
            + ", ".join(sorted({f"{x['application']} on {x['os']}" for x in rows}))
            + ".",
            rows,
            f"ALTER USER {ident(user)} SET DISABLED = TRUE;  -- then rotate its credentials and review its queries",
            max(x["created_on"] for x in rows),
        )
        for user, rows in by_user.items()
    ]


@rule(
    "exfiltration_chain",
    "critical",
    "Data exfiltration chain",
    f"CREATE TEMPORARY STAGE, COPY INTO that stage (UNLOAD) and GET (GET_FILES) by one user within "
    f"{EXFIL_CHAIN_HOURS} hours: how data left the 2024 victims' accounts.",
)
def exfiltration_chain(conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
    r = _rule("exfiltration_chain")
    by_user: dict[str, list[dict[str, Any]]] = {}
    for row in repo.exfiltration_chains(conn, connector_id, now - EVENT_LOOKBACK, hours=EXFIL_CHAIN_HOURS):
        by_user.setdefault(row["subject"] or "(unidentified)", []).append(row)
    return [
        _finding(
            r,
            user,
            f"{user} created a temporary stage, unloaded data into it and downloaded files "
            f"{len(rows)} time(s); last download at {max(x['get_at'] for x in rows).isoformat()}.",
            rows,
            f"ALTER USER {ident(user)} SET DISABLED = TRUE;  -- then review what was unloaded",
            max(x["get_at"] for x in rows),
        )
        for user, rows in by_user.items()
    ]


def evaluate(conn: Connection, connector_id: UUID, now: datetime) -> tuple[list[Finding], dict[str, int]]:
    """Run every rule; return the findings and the count per rule."""
    findings: list[Finding] = []
    per_rule: dict[str, int] = {}
    for r in RULES:
        found = r.fn(conn, connector_id, now)
        per_rule[r.id] = len(found)
        findings.extend(found)
    return findings, per_rule
