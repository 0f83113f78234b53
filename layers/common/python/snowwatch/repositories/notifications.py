"""The notification outbox: all its SQL.

States: pending -> sending (claimed, with a lease) -> sent | pending (the send failed; retried) | failed.
Every transition is one conditional UPDATE, so two notifiers racing on the same row cannot both send.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one

COLUMNS = """id, org_id, connector_id, source_type, source_id, channel, recipients, payload, status, attempts,
    last_error, dedupe_key, created_at, published_at, sent_at"""


def insert(
    conn: Connection,
    *,
    org_id: UUID,
    connector_id: UUID | None,
    source_type: str,
    source_id: UUID,
    channel: str,
    recipients: list[str],
    payload: dict[str, Any],
    dedupe_key: str,
) -> UUID | None:
    """Insert one outbox row; None when its dedupe key exists already (enqueued before)."""
    row = query_one(
        conn,
        """INSERT INTO enterprise.notifications
               (org_id, connector_id, source_type, source_id, channel, recipients, payload, dedupe_key)
           VALUES (:org, :cid, :stype, :sid, :channel, CAST(:recipients AS text[]), CAST(:payload AS jsonb), :key)
           ON CONFLICT (dedupe_key) DO NOTHING
           RETURNING id""",
        org=org_id,
        cid=connector_id,
        stype=source_type,
        sid=source_id,
        channel=channel,
        recipients=recipients,
        payload=json.dumps(payload, default=str),
        key=dedupe_key,
    )
    return UUID(str(row["id"])) if row else None


def unpublished(conn: Connection, limit: int) -> list[UUID]:
    rows = query(
        conn,
        """SELECT id FROM enterprise.notifications
           WHERE status = 'pending' AND published_at IS NULL ORDER BY created_at LIMIT :limit""",
        limit=limit,
    )
    return [r["id"] for r in rows]


def mark_published(conn: Connection, ids: Sequence[UUID]) -> None:
    if ids:
        conn.run(
            "UPDATE enterprise.notifications SET published_at = now(), updated_at = now() "
            "WHERE id = ANY(CAST(:ids AS uuid[]))",
            ids=[str(i) for i in ids],
        )


def claim(conn: Connection, notification_id: UUID, lease_seconds: int, max_attempts: int) -> dict[str, Any] | None:
    """Take the row for one send attempt, or None (sent, failed, claimed by another, or out of attempts)."""
    return query_one(
        conn,
        f"""UPDATE enterprise.notifications
            SET status = 'sending', attempts = attempts + 1, updated_at = now(),
                locked_until = now() + make_interval(secs => :lease)
            WHERE id = :id AND attempts < :max
              AND (status = 'pending' OR (status = 'sending' AND locked_until < now()))
            RETURNING {COLUMNS}""",
        id=notification_id,
        lease=lease_seconds,
        max=max_attempts,
    )


def mark_sent(conn: Connection, notification_id: UUID) -> bool:
    row = query_one(
        conn,
        """UPDATE enterprise.notifications
           SET status = 'sent', sent_at = now(), locked_until = NULL, updated_at = now()
           WHERE id = :id AND status = 'sending' RETURNING id""",
        id=notification_id,
    )
    return row is not None


def release_failed(
    conn: Connection, notification_id: UUID, error: str, max_attempts: int, permanent: bool
) -> dict[str, Any] | None:
    """After a failed send: back to pending for a retry, or failed when permanent or out of attempts."""
    return query_one(
        conn,
        """UPDATE enterprise.notifications
           SET status = CASE WHEN :permanent OR attempts >= :max THEN 'failed' ELSE 'pending' END,
               last_error = :error, locked_until = NULL, updated_at = now()
           WHERE id = :id AND status = 'sending'
           RETURNING status, attempts""",
        id=notification_id,
        error=error[:1000],
        max=max_attempts,
        permanent=permanent,
    )


# The relay's statements cover every org (the schedule) or one org (a manual run): org None = every org.
IN_ORG = "(CAST(:org AS uuid) IS NULL OR org_id = :org)"


def expire_leases(conn: Connection, org_id: UUID | None = None) -> int:
    """Rows whose notifier died mid-send go back to pending (they will be sent again: at-least-once)."""
    rows = query(
        conn,
        f"""UPDATE enterprise.notifications
           SET status = 'pending', locked_until = NULL, updated_at = now(),
               last_error = COALESCE(last_error || '; ', '') || 'lease expired during a send'
           WHERE status = 'sending' AND locked_until < now() AND {IN_ORG}
           RETURNING id""",
        org=org_id,
    )
    return len(rows)


def fail_exhausted(conn: Connection, max_attempts: int, org_id: UUID | None = None) -> int:
    rows = query(
        conn,
        f"""UPDATE enterprise.notifications
           SET status = 'failed', locked_until = NULL, updated_at = now(),
               last_error = COALESCE(last_error, 'no delivery') || ' (gave up after ' || attempts || ' attempts)'
           WHERE status = 'pending' AND attempts >= :max AND {IN_ORG}
           RETURNING id""",
        max=max_attempts,
        org=org_id,
    )
    return len(rows)


def due_for_relay(conn: Connection, relay_after_seconds: int, limit: int, org_id: UUID | None = None) -> list[UUID]:
    """Pending rows never published, or published longer ago than the relay delay."""
    rows = query(
        conn,
        f"""SELECT id FROM enterprise.notifications
           WHERE status = 'pending' AND {IN_ORG}
             AND (published_at IS NULL OR published_at < now() - make_interval(secs => :after))
           ORDER BY created_at LIMIT :limit""",
        after=relay_after_seconds,
        limit=limit,
        org=org_id,
    )
    return [r["id"] for r in rows]


def get(conn: Connection, notification_id: UUID) -> dict[str, Any] | None:
    return query_one(conn, f"SELECT {COLUMNS} FROM enterprise.notifications WHERE id = :id", id=notification_id)


def counts(conn: Connection, ids: Sequence[UUID] | None = None) -> dict[str, int]:
    rows = query(
        conn,
        """SELECT status, count(*) AS n FROM enterprise.notifications
           WHERE CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])) GROUP BY status""",
        ids=None if ids is None else [str(i) for i in ids],
    )
    return {r["status"]: int(r["n"]) for r in rows}
