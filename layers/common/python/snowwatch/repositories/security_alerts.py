"""Security alerts: upserts by fingerprint, the lifecycle updates and their history, and the alert reads.
Every statement filters on ``connector_id`` (or on an alert id admission already checked).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one

ALERT_COLUMNS = """a.id, a.connector_id, a.rule_id, a.severity, a.fingerprint, a.subject, a.title, a.description,
    a.evidence, a.remediation_sql, a.status, a.first_seen_at, a.last_seen_at, a.occurrences, a.resolved_at,
    a.resolved_by, a.resolution_note, a.reopened_count"""


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
           RETURNING id""",
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
    return UUID(str(row["id"]))


def update_alert(conn: Connection, alert_id: UUID, f: dict[str, Any], *, new_evidence: bool, reopen: bool) -> None:
    """Record a recurrence: refresh the finding's text and evidence; last_seen_at moves forward only;
    occurrences count evaluations with new evidence; ``reopen`` turns a resolved alert open again."""
    conn.run(
        """UPDATE enterprise.snowflake_security_alerts
           SET severity = :sev, title = :title, description = :descr, evidence = CAST(:evidence AS jsonb),
               remediation_sql = :remediation,
               last_seen_at = GREATEST(last_seen_at, :seen),
               occurrences = occurrences + CASE WHEN :new THEN 1 ELSE 0 END,
               status = CASE WHEN :reopen THEN 'open' ELSE status END,
               reopened_count = reopened_count + CASE WHEN :reopen THEN 1 ELSE 0 END
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
        f"""SELECT {ALERT_COLUMNS}, u.email AS resolved_by_email
            FROM enterprise.snowflake_security_alerts a
            LEFT JOIN enterprise.users u ON u.id = a.resolved_by
            WHERE {where}
            ORDER BY a.status, CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                     WHEN 'low' THEN 3 ELSE 4 END, a.last_seen_at DESC, a.id
            LIMIT :limit OFFSET :offset""",
        **params,
        limit=limit,
        offset=offset,
    )
    return rows, int(total["n"]) if total else 0


def get_alert(conn: Connection, connector_id: UUID, alert_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        f"""SELECT {ALERT_COLUMNS}, u.email AS resolved_by_email
            FROM enterprise.snowflake_security_alerts a
            LEFT JOIN enterprise.users u ON u.id = a.resolved_by
            WHERE a.connector_id = :c AND a.id = :id""",
        c=connector_id,
        id=alert_id,
    )


def resolve_alert(conn: Connection, connector_id: UUID, alert_id: UUID, user_id: UUID, note: str) -> bool:
    conn.run(
        """UPDATE enterprise.snowflake_security_alerts
           SET status = 'resolved', resolved_at = now(), resolved_by = :u, resolution_note = :note
           WHERE connector_id = :c AND id = :id""",
        c=connector_id,
        id=alert_id,
        u=user_id,
        note=note,
    )
    return bool(conn.row_count)


def open_alert_counts(conn: Connection, connector_id: UUID) -> dict[str, int]:
    rows = query(
        conn,
        """SELECT severity, count(*) AS n FROM enterprise.snowflake_security_alerts
           WHERE connector_id = :c AND status = 'open' GROUP BY severity""",
        c=connector_id,
    )
    return {r["severity"]: int(r["n"]) for r in rows}
