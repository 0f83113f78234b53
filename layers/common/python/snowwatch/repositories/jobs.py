"""job_runs: one row per run, one active run per (job, connector) enforced by a partial unique index."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one

RUN_COLUMNS = """id, job, connector_id, org_id, trigger, mode, status, created_at, started_at, finished_at,
    heartbeat_at, (EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000)::bigint AS duration_ms, rows, error,
    progress, continues"""

# A running run beats every HEARTBEAT_SECONDS (services/jobs.py); after STALE_SECONDS of silence its function
# is gone (timeout, crash, a lost database connection) and the reaper fails it. A queued run that never
# started within QUEUED_STALE_SECONDS was never delivered.
STALE_SECONDS = 300
QUEUED_STALE_SECONDS = 1200


def reap_stale(conn: Connection) -> list[dict[str, Any]]:
    """Fail every run whose heartbeat stopped, saying why; return what was reaped (job, id)."""
    return query(
        conn,
        """UPDATE enterprise.job_runs SET status = 'failed', finished_at = now(),
                  error = CASE WHEN status = 'queued'
                      THEN 'never started: the job function did not pick the run up within '
                           || :queued || ' s'
                      ELSE 'no heartbeat since ' || to_char(COALESCE(heartbeat_at, started_at) AT TIME ZONE 'UTC',
                           'YYYY-MM-DD HH24:MI:SS') || ' UTC: the function stopped (timeout, crash or a lost '
                           || 'database connection)' END
           WHERE status IN ('queued', 'running')
             AND COALESCE(heartbeat_at, started_at, created_at) < now() - CASE WHEN status = 'queued'
                 THEN make_interval(secs => :queued) ELSE make_interval(secs => :stale) END
           RETURNING id, job""",
        queued=QUEUED_STALE_SECONDS,
        stale=STALE_SECONDS,
    )


def heartbeat(conn: Connection, run_id: UUID) -> bool:
    """Mark the run alive; False when it is no longer running (reaped or interrupted meanwhile)."""
    conn.run("UPDATE enterprise.job_runs SET heartbeat_at = now() WHERE id = :id AND status = 'running'", id=run_id)
    return bool(conn.row_count)


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
    continues: UUID | None = None,
) -> dict[str, Any] | None:
    """Insert a queued or running run; None when the same job already runs for that connector (or, for an
    org-wide job, for that org; the scheduled org-wide run has no org)."""
    reap_stale(conn)
    started = "now()" if status == "running" else "NULL"
    return query_one(
        conn,
        f"""INSERT INTO enterprise.job_runs (job, connector_id, org_id, trigger, mode, status, requested_by, started_at,
                heartbeat_at, continues)
            VALUES (:job, :connector, :org, :trigger, :mode, :status, :requested_by, {started}, {started}, :continues)
            ON CONFLICT DO NOTHING
            RETURNING {RUN_COLUMNS}""",
        job=job,
        connector=connector_id,
        org=org_id,
        trigger=trigger,
        mode=mode,
        status=status,
        requested_by=requested_by,
        continues=continues,
    )


def set_progress(conn: Connection, run_id: UUID, progress: dict[str, Any]) -> None:
    """What a running run has done and has left (its own statement, outside the window's transaction)."""
    conn.run(
        "UPDATE enterprise.job_runs SET progress = CAST(:p AS jsonb) WHERE id = :id",
        id=run_id,
        p=json.dumps(progress, default=str),
    )


def bound_statements(conn: Connection, seconds: float) -> None:
    """A server-side statement_timeout for the rest of this session (every job sets its own)."""
    conn.run(f"SET statement_timeout = {int(seconds * 1000)}")
    # JIT compiles a large-estimate statement for seconds before running it (2.8 s of a 50k-row query load measured
    # here); a job's set-based steps are bounded by their windows and run faster interpreted.
    conn.run("SET jit = off")
    # A query window's staged attribution (at most SYNC_WINDOW_ROWS rows, ~9 MB hashed) is joined in one batch: a
    # hash join of several batches emits the window's rows out of order, and their inserts lose the indexes'
    # locality (200k rows: 5.9 s at the default 4 MB, 4.7 s at 64 MB, /work/notes/loader_probe.py). One job holds
    # one connection; a statement uses a few such nodes at most.
    conn.run("SET work_mem = '32MB'")
    # A job ANALYZEs only its staging tables (repositories/cost_sync.py), for the row count and the join columns'
    # distinct values: 3,000 sampled rows (the default samples 30,000, i.e. most of a window: 2.7 s of a 600k-row
    # sync's 33 s, /work/notes/sync_probe.py).
    conn.run("SET default_statistics_target = 10")


def start_queued(conn: Connection, run_id: UUID) -> dict[str, Any] | None:
    """Move a queued run to running; None if it is not queued (a redelivered event)."""
    return query_one(
        conn,
        f"""UPDATE enterprise.job_runs SET status = 'running', started_at = now(), heartbeat_at = now()
            WHERE id = :id AND status = 'queued' RETURNING {RUN_COLUMNS}""",
        id=run_id,
    )


def finish(conn: Connection, run_id: UUID, status: str, rows: dict[str, Any], error: str | None) -> None:
    """Record the outcome of an active run. A run already ended (interrupted by a shutdown, failed by the
    reaper) keeps that status: the late outcome is not written over it."""
    conn.run(
        """UPDATE enterprise.job_runs SET status = :status, finished_at = now(), rows = CAST(:rows AS jsonb),
                  error = :error
           WHERE id = :id AND status IN ('queued', 'running')""",
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


def last_finished_runs(conn: Connection, connector_id: UUID, jobs: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The newest finished run of each of ``jobs`` for the connector (a sync: its full mode only)."""
    rows = query(
        conn,
        f"""SELECT DISTINCT ON (job) {RUN_COLUMNS} FROM enterprise.job_runs
            WHERE connector_id = :c AND job = ANY(:jobs) AND finished_at IS NOT NULL
              AND status IN ('succeeded', 'partial', 'failed') AND COALESCE(mode, 'full') <> 'metering'
            ORDER BY job, finished_at DESC""",
        c=connector_id,
        jobs=list(jobs),
    )
    return {r["job"]: r for r in rows}


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
