"""What a detection rule is, and the one path from a rule's judgement to a :class:`Finding`.

A rule is a declaration: id, default severity, title, what fires it and why (both rendered into
docs/security-rules.md), a ``fetch`` (one statement in the repositories, returning typed rows) and a
``judge`` (a pure function from those rows and the evaluation time to :class:`Draft` findings). Judges
never touch Postgres, so each is unit-tested with hand-made rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.models.security import Finding, Severity

EVENT_LOOKBACK = timedelta(days=7)
MAX_EVIDENCE = 25

R = TypeVar("R")


@dataclass(frozen=True)
class Draft:
    """One finding as a judge sees it; the rule adds its id, default severity and title."""

    subject: str
    description: str
    evidence: Sequence[Mapping[str, Any]]
    remediation_sql: str | None
    observed_at: datetime
    severity: Severity | None = None
    title: str | None = None


Fetch = Callable[[Connection, UUID, datetime], Sequence[R]]
Judge = Callable[[Sequence[R], datetime], Iterable[Draft]]


@dataclass(frozen=True)
class Rule(Generic[R]):
    id: str
    severity: Severity
    title: str
    fires: str
    rationale: str
    fetch: Fetch[R]
    judge: Judge[R]
    # What the subject is, for event rules whose findings group into incidents; None: never grouped.
    incident: Literal["user", "ip"] | None = None

    def findings(self, rows: Sequence[R], now: datetime) -> list[Finding]:
        """Judge ``rows`` (pure: no I/O)."""
        return [self.finding(d) for d in self.judge(rows, now)]

    def run(self, conn: Connection, connector_id: UUID, now: datetime) -> list[Finding]:
        """Fetch, then judge."""
        return self.findings(self.fetch(conn, connector_id, now), now)

    def finding(self, d: Draft) -> Finding:
        return Finding(
            rule_id=self.id,
            severity=d.severity or self.severity,
            subject=d.subject,
            title=d.title or f"{self.title}: {d.subject}",
            description=d.description,
            evidence=[jsonable(r) for r in d.evidence[:MAX_EVIDENCE]],
            remediation_sql=d.remediation_sql,
            observed_at=d.observed_at,
            links=links(self.incident, d) if self.incident else [],
        )


USER_FIELDS = ("user_name", "users")
IP_FIELDS = ("client_ip", "success_ip", "ips", "failure_ips")
UNKNOWN = ("(unidentified)", "(unknown)", "")


def links(kind: str, d: Draft) -> list[str]:
    """The users and IPs a finding is about: its subject, then those named in its evidence rows."""
    found = {f"{kind}:{d.subject}"}
    for row in d.evidence:
        for prefix, fields in (("user", USER_FIELDS), ("ip", IP_FIELDS)):
            for name in fields:
                value = row.get(name)
                for v in value if isinstance(value, list | tuple) else [value]:
                    if isinstance(v, str) and v not in UNKNOWN:
                        found.add(f"{prefix}:{v}")
    return sorted(found - {f"{kind}:{u}" for u in UNKNOWN})


def jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def ident(name: str) -> str:
    """A Snowflake identifier, double-quoted (exact case, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def block_ip_sql(ip: str) -> str:
    return (
        f"-- add {ip} to the BLOCKED_IP_LIST of the account network policy (keep its existing entries):\n"
        f"ALTER NETWORK POLICY <account_policy> SET BLOCKED_IP_LIST = (<existing entries>, {literal(ip)});"
    )


def disable_sql(user: str, why: str) -> str:
    return f"ALTER USER {ident(user)} SET DISABLED = TRUE;  -- {why}"
