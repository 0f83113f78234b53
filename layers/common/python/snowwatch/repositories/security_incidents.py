"""Security incidents: related alerts grouped by the users and IPs they share, with their lifecycle and
history. Every statement filters on ``connector_id`` (or on an incident id admission already checked)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from snowwatch.db import Connection, query, query_one
from snowwatch.repositories.security_alerts import ALERT_READ, REOPEN_SET, most_severe_first, open_first

INCIDENT_COLUMNS = """i.id, i.connector_id, i.subject, i.keys, i.severity, i.title, i.status, i.first_seen_at,
    i.last_seen_at, i.acknowledged_at, i.resolved_at, i.resolution_note, i.reopened_count, i.reopened_at,
    i.notified_round"""
INCIDENT_READ = f"""SELECT {INCIDENT_COLUMNS}, u.email AS resolved_by_email, k.email AS acknowledged_by_email,
        (SELECT count(*) FROM enterprise.snowflake_security_alerts a WHERE a.incident_id = i.id) AS alert_count
    FROM enterprise.snowflake_security_incidents i
    LEFT JOIN enterprise.users u ON u.id = i.resolved_by
    LEFT JOIN enterprise.users k ON k.id = i.acknowledged_by"""
EventKind = Literal["opened", "alert_joined", "acknowledged", "resolved", "reopened"]


def related(conn: Connection, connector_id: UUID, keys: Sequence[str], since: datetime) -> dict[str, Any] | None:
    """The most recent incident sharing a user or IP with ``keys`` and seen since ``since``, locked for the
    transaction (unresolved incidents first)."""
    return query_one(
        conn,
        f"""SELECT {INCIDENT_COLUMNS} FROM enterprise.snowflake_security_incidents i
            WHERE i.connector_id = :c AND i.keys && CAST(:k AS text[]) AND i.last_seen_at >= :since
            ORDER BY (i.status = 'resolved'), i.last_seen_at DESC LIMIT 1 FOR UPDATE""",
        c=connector_id,
        k=list(keys),
        since=since,
    )


def get_for_update(conn: Connection, incident_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        f"SELECT {INCIDENT_COLUMNS} FROM enterprise.snowflake_security_incidents i WHERE i.id = :id FOR UPDATE",
        id=incident_id,
    )


def insert(
    conn: Connection,
    connector_id: UUID,
    *,
    subject: str,
    keys: Sequence[str],
    severity: str,
    title: str,
    seen: datetime,
) -> UUID:
    row = query_one(
        conn,
        """INSERT INTO enterprise.snowflake_security_incidents
               (connector_id, subject, keys, severity, title, first_seen_at, last_seen_at)
           VALUES (:c, :subject, CAST(:k AS text[]), :sev, :title, :seen, :seen) RETURNING id""",
        c=connector_id,
        subject=subject,
        k=sorted(set(keys)),
        sev=severity,
        title=title,
        seen=seen,
    )
    assert row is not None
    return UUID(str(row["id"]))


def update(
    conn: Connection,
    incident_id: UUID,
    *,
    keys: Sequence[str],
    severity: str,
    title: str,
    seen: datetime,
    reopen: bool,
) -> None:
    """Widen the incident with a joining or recurring alert; ``reopen`` turns a resolved incident open again."""
    conn.run(
        f"""UPDATE enterprise.snowflake_security_incidents
           SET keys = ARRAY(SELECT DISTINCT unnest(keys || CAST(:k AS text[])) ORDER BY 1),
               severity = :sev, title = :title, last_seen_at = GREATEST(last_seen_at, :seen),
               {REOPEN_SET}
           WHERE id = :id""",
        id=incident_id,
        k=list(keys),
        sev=severity,
        title=title,
        seen=seen,
        reopen=reopen,
    )


def link_alert(conn: Connection, alert_id: UUID, incident_id: UUID) -> None:
    conn.run(
        "UPDATE enterprise.snowflake_security_alerts SET incident_id = :i WHERE id = :a", i=incident_id, a=alert_id
    )


def set_notified(conn: Connection, incident_id: UUID, round_: int) -> None:
    conn.run(
        "UPDATE enterprise.snowflake_security_incidents SET notified_round = :r WHERE id = :id",
        r=round_,
        id=incident_id,
    )


def update_pending_notification(conn: Connection, dedupe_prefix: str, payload_json: str) -> int:
    """Refresh the payload of the incident's notification while it is still pending (not sent yet)."""
    conn.run(
        """UPDATE enterprise.notifications SET payload = CAST(:p AS jsonb)
           WHERE dedupe_key LIKE :k AND status = 'pending' AND sent_at IS NULL""",
        p=payload_json,
        k=dedupe_prefix + ":%",
    )
    return int(conn.row_count)


def alerts(conn: Connection, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's alerts (the alert read columns), most severe first."""
    return query(
        conn,
        f"""{ALERT_READ} WHERE a.incident_id = :i ORDER BY {most_severe_first("a")}, a.first_seen_at""",
        i=incident_id,
    )


def add_event(
    conn: Connection,
    incident_id: UUID,
    kind: EventKind,
    *,
    actor: UUID | None = None,
    note: str | None = None,
    alert_id: UUID | None = None,
) -> None:
    conn.run(
        """INSERT INTO enterprise.snowflake_security_incident_events (incident_id, kind, actor, note, alert_id)
           VALUES (:i, :kind, :actor, :note, :alert)""",
        i=incident_id,
        kind=kind,
        actor=actor,
        note=note,
        alert=alert_id,
    )


def history(conn: Connection, incident_id: UUID) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT e.kind, e.at, e.note, e.alert_id, u.email AS actor_email
           FROM enterprise.snowflake_security_incident_events e
           LEFT JOIN enterprise.users u ON u.id = e.actor
           WHERE e.incident_id = :i ORDER BY e.at, e.id""",
        i=incident_id,
    )


def list_incidents(
    conn: Connection, connector_id: UUID, *, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    where = "i.connector_id = :c"
    params: dict[str, Any] = {"c": connector_id}
    if status is not None:
        where += " AND i.status = :status"
        params["status"] = status
    total = query_one(
        conn, f"SELECT count(*) AS n FROM enterprise.snowflake_security_incidents i WHERE {where}", **params
    )
    rows = query(
        conn,
        f"""{INCIDENT_READ} WHERE {where} ORDER BY {open_first("i")} LIMIT :limit OFFSET :offset""",
        **params,
        limit=limit,
        offset=offset,
    )
    return rows, int(total["n"]) if total else 0


def get(conn: Connection, connector_id: UUID, incident_id: UUID) -> dict[str, Any] | None:
    return query_one(conn, f"{INCIDENT_READ} WHERE i.connector_id = :c AND i.id = :id", c=connector_id, id=incident_id)


def acknowledge(conn: Connection, connector_id: UUID, incident_id: UUID, user_id: UUID) -> bool:
    conn.run(
        """UPDATE enterprise.snowflake_security_incidents
           SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = :u
           WHERE connector_id = :c AND id = :id AND status = 'open'""",
        c=connector_id,
        id=incident_id,
        u=user_id,
    )
    return bool(conn.row_count)


def resolve(conn: Connection, connector_id: UUID, incident_id: UUID, user_id: UUID, note: str) -> bool:
    conn.run(
        """UPDATE enterprise.snowflake_security_incidents
           SET status = 'resolved', resolved_at = now(), resolved_by = :u, resolution_note = :note
           WHERE connector_id = :c AND id = :id AND status <> 'resolved'""",
        c=connector_id,
        id=incident_id,
        u=user_id,
        note=note,
    )
    return bool(conn.row_count)


def unresolved_alert_ids(conn: Connection, incident_id: UUID) -> list[UUID]:
    rows = query(
        conn,
        """SELECT id FROM enterprise.snowflake_security_alerts WHERE incident_id = :i AND status <> 'resolved'""",
        i=incident_id,
    )
    return [UUID(str(r["id"])) for r in rows]
