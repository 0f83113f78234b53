"""Security alerts: upserts by fingerprint, the lifecycle updates and their history, and the alert reads.
Every statement filters on ``connector_id`` (or on an alert id admission already checked).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from snowwatch.db import Connection, query, query_one

ALERT_COLUMNS = """a.id, a.connector_id, a.rule_id, a.severity, a.fingerprint, a.subject, a.title, a.description,
    a.evidence, a.remediation_sql, a.status, a.first_seen_at, a.last_seen_at, a.occurrences, a.resolved_at,
    a.resolved_by, a.resolution_note, a.reopened_count, a.reopened_at, a.acknowledged_at, a.snoozed_until,
    a.incident_id"""
# The alert columns plus the people's emails, for the reads.
ALERT_READ = f"""SELECT {ALERT_COLUMNS}, u.email AS resolved_by_email, k.email AS acknowledged_by_email
    FROM enterprise.snowflake_security_alerts a
    LEFT JOIN enterprise.users u ON u.id = a.resolved_by
    LEFT JOIN enterprise.users k ON k.id = a.acknowledged_by"""
# Alerts that count as open: open or acknowledged, and not snoozed right now.
COUNTS_AS_OPEN = "a.status IN ('open', 'acknowledged') AND (a.snoozed_until IS NULL OR a.snoozed_until <= now())"
EventKind = Literal["opened", "acknowledged", "snoozed", "resolved", "reopened"]
# A recurrence with ``:reopen`` turns a resolved alert or incident open again and drops its acknowledgement.
REOPEN_SET = """status = CASE WHEN :reopen THEN 'open' ELSE status END,
               reopened_count = reopened_count + CASE WHEN :reopen THEN 1 ELSE 0 END,
               reopened_at = CASE WHEN :reopen THEN now() ELSE reopened_at END,
               acknowledged_at = CASE WHEN :reopen THEN NULL ELSE acknowledged_at END,
               acknowledged_by = CASE WHEN :reopen THEN NULL ELSE acknowledged_by END"""


def most_severe_first(alias: str) -> str:
    return f"""CASE {alias}.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                     WHEN 'low' THEN 3 ELSE 4 END"""


def open_first(alias: str) -> str:
    """The list order of alerts and incidents: open, acknowledged, resolved; most severe; latest seen."""
    return f"""CASE {alias}.status WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END,
                     {most_severe_first(alias)}, {alias}.last_seen_at DESC, {alias}.id"""


def alerts_by_fingerprint(
    conn: Connection, connector_id: UUID, fingerprints: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Existing alerts for these fingerprints, locked for the rest of the transaction."""
    if not fingerprints:
        return {}
    rows = query(
        conn,
        f"""SELECT {ALERT_COLUMNS} FROM enterprise.snowflake_security_alerts a
            WHERE a.connector_id = :c AND a.fingerprint = ANY (CAST(:f AS text[])) FOR UPDATE""",
        c=connector_id,
        f=list(fingerprints),
    )
    return {r["fingerprint"]: r for r in rows}


def insert_alert(conn: Connection, connector_id: UUID, fingerprint: str, f: dict[str, Any]) -> UUID:
    row = query_one(
        conn,
        """INSERT INTO enterprise.snowflake_security_alerts
               (connector_id, rule_id, severity, fingerprint, subject, title, description, evidence, remediation_sql,
                status, first_seen_at, last_seen_at, occurrences)
           VALUES (:c, :rule, :sev, :fp, :subject, :title, :descr, CAST(:evidence AS jsonb), :remediation, 'open',
                   :seen, :seen, 1)
           RETURNING id, first_seen_at""",
        c=connector_id,
        rule=f["rule_id"],
        sev=f["severity"],
        fp=fingerprint,
        subject=f["subject"],
        title=f["title"],
        descr=f["description"],
        evidence=json.dumps(f["evidence"], default=str),
        remediation=f["remediation_sql"],
        seen=f["observed_at"],
    )
    assert row is not None
    alert_id = UUID(str(row["id"]))
    add_event(conn, alert_id, "opened", at=row["first_seen_at"])
    return alert_id


def update_alert(conn: Connection, alert_id: UUID, f: dict[str, Any], *, new_evidence: bool, reopen: bool) -> None:
    """Record a recurrence: refresh the finding's text and evidence; last_seen_at moves forward only;
    occurrences count evaluations with new evidence; ``reopen`` turns a resolved alert open again."""
    conn.run(
        f"""UPDATE enterprise.snowflake_security_alerts
           SET severity = :sev, title = :title, description = :descr, evidence = CAST(:evidence AS jsonb),
               remediation_sql = :remediation,
               last_seen_at = GREATEST(last_seen_at, :seen),
               occurrences = occurrences + CASE WHEN :new THEN 1 ELSE 0 END,
               {REOPEN_SET}
           WHERE id = :id""",
        id=alert_id,
        sev=f["severity"],
        title=f["title"],
        descr=f["description"],
        evidence=json.dumps(f["evidence"], default=str),
        remediation=f["remediation_sql"],
        seen=f["observed_at"],
        new=new_evidence,
        reopen=reopen,
    )


def list_alerts(
    conn: Connection,
    connector_id: UUID,
    *,
    status: str | None,
    severity: str | None,
    rule: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    where = "a.connector_id = :c"
    params: dict[str, Any] = {"c": connector_id}
    for column, value in (("status", status), ("severity", severity), ("rule_id", rule)):
        if value is not None:
            where += f" AND a.{column} = :{column}"
            params[column] = value
    total = query_one(conn, f"SELECT count(*) AS n FROM enterprise.snowflake_security_alerts a WHERE {where}", **params)
    rows = query(
        conn,
        f"""{ALERT_READ} WHERE {where} ORDER BY {open_first("a")} LIMIT :limit OFFSET :offset""",
        **params,
        limit=limit,
        offset=offset,
    )
    return rows, int(total["n"]) if total else 0


def get_alert(conn: Connection, connector_id: UUID, alert_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        f"""{ALERT_READ} WHERE a.connector_id = :c AND a.id = :id""",
        c=connector_id,
        id=alert_id,
    )


def resolve_alert(conn: Connection, connector_id: UUID, alert_id: UUID, user_id: UUID, note: str) -> bool:
    """Resolve an open or acknowledged alert and record it; False when there is no such unresolved alert."""
    conn.run(
        """UPDATE enterprise.snowflake_security_alerts
           SET status = 'resolved', resolved_at = now(), resolved_by = :u, resolution_note = :note
           WHERE connector_id = :c AND id = :id AND status <> 'resolved'""",
        c=connector_id,
        id=alert_id,
        u=user_id,
        note=note,
    )
    if not conn.row_count:
        return False
    add_event(conn, alert_id, "resolved", actor=user_id, note=note)
    return True


def acknowledge_alert(conn: Connection, connector_id: UUID, alert_id: UUID, user_id: UUID, note: str | None) -> bool:
    """Acknowledge an open alert (someone is on it) and record it; False when it is not open."""
    conn.run(
        """UPDATE enterprise.snowflake_security_alerts
           SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = :u
           WHERE connector_id = :c AND id = :id AND status = 'open'""",
        c=connector_id,
        id=alert_id,
        u=user_id,
    )
    if not conn.row_count:
        return False
    add_event(conn, alert_id, "acknowledged", actor=user_id, note=note)
    return True


def snooze_alert(
    conn: Connection, connector_id: UUID, alert_id: UUID, user_id: UUID, until: datetime, note: str | None
) -> bool:
    """Snooze an unresolved alert until ``until`` and record it; False when it is resolved."""
    conn.run(
        """UPDATE enterprise.snowflake_security_alerts SET snoozed_until = :until
           WHERE connector_id = :c AND id = :id AND status <> 'resolved'""",
        c=connector_id,
        id=alert_id,
        until=until,
    )
    if not conn.row_count:
        return False
    add_event(conn, alert_id, "snoozed", actor=user_id, note=note, until=until)
    return True


def add_event(
    conn: Connection,
    alert_id: UUID,
    kind: EventKind,
    *,
    actor: UUID | None = None,
    note: str | None = None,
    until: datetime | None = None,
    at: datetime | None = None,
) -> None:
    conn.run(
        """INSERT INTO enterprise.snowflake_security_alert_events (alert_id, at, kind, actor, note, until)
           VALUES (:a, COALESCE(CAST(:at AS timestamptz), now()), :kind, :actor, :note, :until)""",
        a=alert_id,
        at=at,
        kind=kind,
        actor=actor,
        note=note,
        until=until,
    )


def alert_history(conn: Connection, alert_id: UUID) -> list[dict[str, Any]]:
    """An alert's events, oldest first, with the actor's email."""
    return query(
        conn,
        """SELECT e.kind, e.at, e.note, e.until, u.email AS actor_email
           FROM enterprise.snowflake_security_alert_events e
           LEFT JOIN enterprise.users u ON u.id = e.actor
           WHERE e.alert_id = :a ORDER BY e.at, e.id""",
        a=alert_id,
    )


def open_alert_counts(conn: Connection, connector_id: UUID) -> dict[str, int]:
    rows = query(
        conn,
        f"""SELECT a.severity, count(*) AS n FROM enterprise.snowflake_security_alerts a
            WHERE a.connector_id = :c AND {COUNTS_AS_OPEN} GROUP BY a.severity""",
        c=connector_id,
    )
    return {r["severity"]: int(r["n"]) for r in rows}
