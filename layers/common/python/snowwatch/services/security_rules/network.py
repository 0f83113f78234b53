"""Network policy and security integration rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from snowwatch.repositories import security_events as events
from snowwatch.repositories import security_identity as identity
from snowwatch.repositories.security_events import ChangeRow
from snowwatch.repositories.security_identity import PolicyRow
from snowwatch.services.security_rules.base import EVENT_LOOKBACK, Draft, Rule, ident, literal

OPEN_NETWORKS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
TITLE = "Account network policy missing or open"


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


def account_policies(policies: Sequence[PolicyRow]) -> list[PolicyRow]:
    """The live policies attached at account level (POLICY_REFERENCES REF_ENTITY_DOMAIN = 'ACCOUNT')."""
    return [
        p
        for p in policies
        if any(
            str(a.get("domain", "")).upper() == "ACCOUNT" and str(a.get("status") or "ACTIVE").upper() == "ACTIVE"
            for a in (p["attached_to"] or [])
        )
    ]


def judge_account_policy(rows: Sequence[PolicyRow], now: datetime) -> Iterator[Draft]:
    attached = account_policies(rows)
    if not attached:
        yield Draft(
            "account",
            "No network policy is attached to the account: every user can sign in from any IP.",
            [{"policies": [p["name"] for p in rows]}],
            "CREATE NETWORK POLICY corp_only ALLOWED_IP_LIST = ('<your egress CIDRs>');\n"
            "ALTER ACCOUNT SET NETWORK_POLICY = corp_only;",
            now,
            title=f"{TITLE}: no account-level network policy",
        )
        return
    for p in attached:
        if allows_everything(p["allowed_ip_list"]):
            yield Draft(
                "account",
                f"The account network policy {p['name']} allows 0.0.0.0/0 (ALLOWED_IP_LIST {p['allowed_ip_list']}).",
                [p],
                f"ALTER NETWORK POLICY {ident(p['name'])} SET ALLOWED_IP_LIST = ('<your egress CIDRs>');",
                now,
                severity="high",
                title=f"{TITLE}: {p['name']} allows 0.0.0.0/0",
            )


def judge_changes(title: str) -> Callable[[Sequence[ChangeRow], datetime], Iterator[Draft]]:
    """One finding per recent statement (who ran what, as which role); subject = the query id."""

    def judge(rows: Sequence[ChangeRow], now: datetime) -> Iterator[Draft]:
        for r in rows:
            yield Draft(
                r["query_id"],
                f"{r['user_name']} ran {r['query_type']} as {r['role_name']} at {r['start_time'].isoformat()}: "
                f"{(r['query_text'] or '')[:300]}",
                [r],
                "-- review (snowwatch never changes your account):\n"
                f"SELECT * FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY WHERE QUERY_ID = {literal(r['query_id'])};",
                r["start_time"],
                title=f"{title} by {r['user_name']} ({r['query_type']})",
            )

    return judge


RULES = [
    Rule(
        id="network_policy_account",
        severity="critical",
        title=TITLE,
        fires="No live network policy attached at account level (`POLICY_REFERENCES.REF_ENTITY_DOMAIN = "
        "'ACCOUNT'`): critical; or the account policy's `ALLOWED_IP_LIST` allows everything (0.0.0.0/0, 0.0.0.0, "
        "::/0): high. User-level policies do not count",
        rationale="Without an account-level network policy (or with one that allows 0.0.0.0/0) a stolen "
        "credential works from anywhere: the second gap of the 2024 campaign. User-level policies do not "
        "protect other users.",
        fetch=lambda conn, c, now: identity.network_policies(conn, c),
        judge=judge_account_policy,
    ),
    Rule(
        id="network_policy_change",
        severity="medium",
        title="Network policy changed",
        fires="Successful CREATE/ALTER/DROP NETWORK POLICY, or ALTER ACCOUNT/USER touching NETWORK_POLICY (one "
        "alert per query)",
        rationale="Creating, altering, dropping or re-attaching a network policy changes who can reach the "
        "account; attackers loosen them to keep access.",
        fetch=lambda conn, c, now: events.security_changes(conn, c, now - EVENT_LOOKBACK, kind="network_policy"),
        judge=judge_changes("Network policy changed"),
    ),
    Rule(
        id="security_integration_change",
        severity="medium",
        title="Security integration changed",
        fires="Successful CREATE/ALTER/DROP [OR REPLACE] SECURITY INTEGRATION",
        rationale="SAML/OAuth/SCIM security integrations decide who can sign in and how; a change can disable "
        "SSO enforcement or add an identity provider an attacker controls.",
        fetch=lambda conn, c, now: events.security_changes(conn, c, now - EVENT_LOOKBACK, kind="security_integration"),
        judge=judge_changes("Security integration changed"),
    ),
]
