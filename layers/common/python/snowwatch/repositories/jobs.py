"""job_runs: one row per run, one active run per (job, connector) enforced by a partial unique index."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one

RUN_COLUMNS = """id, job, connector_id, org_id, trigger, mode, status, created_at, started_at, finished_at,
    (EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000)::bigint AS duration_ms, rows, error"""

# A run that has been active longer than any function may live (15 min) died without saying so.
STALE_AFTER = "20 minutes"


def _reap(conn: Connection, job: str, connector_id: UUID | None) -> None:
    conn.run(
        f"""UPDATE enterprise.job_runs SET status = 'interrupted', finished_at = now(),
                   error = 'no heartbeat: the run was cut off (timeout or shutdown)'
            WHERE job = :job AND connector_id IS NOT DISTINCT FROM :connector
              AND status IN ('queued', 'running')
              AND COALESCE(started_at, created_at) < now() - interval '{STALE_AFTER}'""",
        job=job,
        connector=connector_id,
    )


def create(
    conn: Connection,
    *,
    job: str,
    connector_id: UUID | None,
    org_id: UUID | None,
    trigger: str,
    mode: str | None,
    status: str,
    requested_by: UUID | None = None,
) -> dict[str, Any] | None:
    """Insert a queued or running run; None when the same job already runs for that connector."""
    _reap(conn, job, connector_id)
    started = "now()" if status == "running" else "NULL"
    return query_one(
        conn,
        f"""INSERT INTO enterprise.job_runs (job, connector_id, org_id, trigger, mode, status, requested_by, started_at)
            VALUES (:job, :connector, :org, :trigger, :mode, :status, :requested_by, {started})
            ON CONFLICT DO NOTHING
            RETURNING {RUN_COLUMNS}""",
        job=job,
        connector=connector_id,
        org=org_id,
        trigger=trigger,
        mode=mode,
        status=status,
        requested_by=requested_by,
    )


def start_queued(conn: Connection, run_id: UUID) -> dict[str, Any] | None:
    """Move a queued run to running; None if it is not queued (a redelivered event)."""
    return query_one(
        conn,
        f"""UPDATE enterprise.job_runs SET status = 'running', started_at = now()
            WHERE id = :id AND status = 'queued' RETURNING {RUN_COLUMNS}""",
        id=run_id,
    )


def finish(conn: Connection, run_id: UUID, status: str, rows: dict[str, Any], error: str | None) -> None:
    conn.run(
        """UPDATE enterprise.job_runs SET status = :status, finished_at = now(), rows = CAST(:rows AS jsonb),
                  error = :error
           WHERE id = :id""",
        id=run_id,
        status=status,
        rows=json.dumps(rows, default=str),
        error=error,
    )


def interrupt_active(conn: Connection, reason: str) -> int:
    """Mark every active run interrupted (local shutdown)."""
    conn.run(
        """UPDATE enterprise.job_runs SET status = 'interrupted', finished_at = now(), error = :reason
           WHERE status IN ('queued', 'running')""",
        reason=reason,
    )
    return int(conn.row_count)


def get_for_org(conn: Connection, org_id: UUID, run_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        f"SELECT {RUN_COLUMNS} FROM enterprise.job_runs WHERE id = :id AND org_id = :org",
        id=run_id,
        org=org_id,
    )


def list_for_org(
    conn: Connection,
    org_id: UUID,
    *,
    job: str | None,
    connector_id: UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    rows = query(
        conn,
        f"""SELECT {RUN_COLUMNS}, count(*) OVER () AS _total FROM enterprise.job_runs
            WHERE org_id = :org
              AND (CAST(:job AS text) IS NULL OR job = :job)
              AND (CAST(:connector AS uuid) IS NULL OR connector_id = :connector)
              AND (CAST(:status AS text) IS NULL OR status = :status)
            ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset""",
        org=org_id,
        job=job,
        connector=connector_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    total = int(rows[0]["_total"]) if rows else 0
    for r in rows:
        r.pop("_total")
    return rows, total


def last_runs(conn: Connection, org_id: UUID) -> dict[str, dict[str, Any]]:
    """The newest run of each job visible to the org: its own runs and the system's global runs."""
    rows = query(
        conn,
        f"""SELECT DISTINCT ON (job) {RUN_COLUMNS} FROM enterprise.job_runs
            WHERE org_id = :org OR (org_id IS NULL AND connector_id IS NULL)
            ORDER BY job, created_at DESC""",
        org=org_id,
    )
    return {r["job"]: r for r in rows}
