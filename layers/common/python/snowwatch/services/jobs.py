"""Jobs: the one runner every job function goes through, and the Jobs API use cases.

The runner records each run in ``job_runs`` (status, timings, per-source row counts, error) and
guarantees one run per (job, connector) at a time. A scheduled event without a connector fans
out: one unit of work per active connector, each dispatched on its own, so one broken
connector never stops the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.errors import ConflictError, NotFoundError, ValidationFailedError
from snowwatch.models.common import Accepted, Caller, Page
from snowwatch.models.connectors import Connector
from snowwatch.models.jobs import JobEvent, JobOut, JobRun, JobScheduleOut, RunRequest
from snowwatch.observability import logger, metrics
from snowwatch.repositories import connectors as connectors_repo
from snowwatch.repositories import jobs as repo
from snowwatch.schedules import DEFAULT_TIMEZONE, JOB_DESCRIPTIONS, JOBS, PER_CONNECTOR_JOBS, SCHEDULES
from snowwatch.services import connectors as connectors_service
from snowwatch.services.dispatch import dispatch
from snowwatch.settings import JobSettings

MAX_ERROR_CHARS = 2000


@dataclass
class JobContext:
    """What a unit of job work receives."""

    run_id: UUID
    job: str
    trigger: str
    mode: str | None
    connector: Connector | None
    org_id: UUID | None
    settings: JobSettings
    rows: dict[str, Any] = field(default_factory=dict)


Work = Callable[[Connection, JobContext], dict[str, Any] | None]


def handle(
    conn: Connection,
    settings: JobSettings,
    job: str,
    raw_event: dict[str, Any] | None,
    work: Work,
) -> dict[str, Any]:
    """Entry point of every job function's handler."""
    event = JobEvent.model_validate(raw_event or {})
    if job in PER_CONNECTOR_JOBS and event.connector_id is None:
        return fan_out(conn, settings, job, event)
    return run(conn, settings, job, event, work)


def fan_out(conn: Connection, settings: JobSettings, job: str, event: JobEvent) -> dict[str, Any]:
    """One dispatched unit per active connector (metering runs: only connectors with active budgets)."""
    targets = connectors_repo.list_active(conn, with_active_budgets=(job == "sync" and event.mode == "metering"))
    failed = 0
    for target in targets:
        if event.org_id is not None and target["org_id"] != event.org_id:
            continue
        try:
            dispatch(
                settings,
                job,
                {"connector_id": target["id"], "trigger": event.trigger, "mode": event.mode},
            )
        except Exception:
            failed += 1
            logger.exception("dispatch failed", extra={"job": job, "connector_id": str(target["id"])})
    metrics.add_metric(name=f"{job}_fanout", unit="Count", value=len(targets))
    return {"job": job, "fanned_out": len(targets), "dispatch_failures": failed}


def run(conn: Connection, settings: JobSettings, job: str, event: JobEvent, work: Work) -> dict[str, Any]:
    connector = connectors_service.load(conn, event.connector_id) if event.connector_id else None
    org_id = connector.org_id if connector else event.org_id
    if event.run_id is not None:
        row = repo.start_queued(conn, event.run_id)
        if row is None:
            logger.info("run is not queued (redelivered or already handled)", extra={"run_id": str(event.run_id)})
            return {"job": job, "run_id": str(event.run_id), "status": "skipped"}
    else:
        row = repo.create(
            conn,
            job=job,
            connector_id=event.connector_id,
            org_id=org_id,
            trigger=event.trigger,
            mode=event.mode,
            status="running",
        )
        if row is None:
            logger.info("already running", extra={"job": job, "connector_id": str(event.connector_id)})
            return {"job": job, "status": "skipped", "reason": "already running"}
    ctx = JobContext(
        run_id=row["id"],
        job=job,
        trigger=event.trigger,
        mode=event.mode,
        connector=connector,
        org_id=org_id,
        settings=settings,
    )
    logger.append_keys(job=job, run_id=str(ctx.run_id), connector_id=str(event.connector_id or ""))
    try:
        result = work(conn, ctx) or {}
        ctx.rows.update(result)
    except Exception as exc:
        with contextlib.suppress(Exception):  # leave no half-open transaction behind the failure record
            conn.run("ROLLBACK")
        repo.finish(conn, ctx.run_id, "failed", ctx.rows, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
        metrics.add_metric(name=f"{job}_failed", unit="Count", value=1)
        logger.exception("job failed")
        raise
    repo.finish(conn, ctx.run_id, "succeeded", ctx.rows, None)
    metrics.add_metric(name=f"{job}_succeeded", unit="Count", value=1)
    return {"job": job, "run_id": str(ctx.run_id), "status": "succeeded", "rows": ctx.rows}


# ---------------------------------------------------------------- the Jobs API


def _run_out(row: dict[str, Any], org_id: UUID) -> JobRun:
    data = dict(row)
    if data.get("org_id") != org_id:  # a system-wide run: show that it ran, not what it saw
        data["rows"] = {}
        data["error"] = "see the operator's logs" if data.get("error") else None
    return JobRun.model_validate(data)


def list_jobs(conn: Connection, caller: Caller, now: datetime | None = None) -> list[JobOut]:
    now = now or datetime.now(UTC)
    last = repo.last_runs(conn, caller.org_id)
    out = []
    for job in JOBS:
        schedules = [
            JobScheduleOut(
                id=s.id,
                cron=s.cron,
                timezone=DEFAULT_TIMEZONE,
                payload=s.payload,
                description=s.description,
                next_run=s.next_run(now, DEFAULT_TIMEZONE),
            )
            for s in SCHEDULES
            if s.job == job
        ]
        out.append(
            JobOut(
                name=job,
                description=JOB_DESCRIPTIONS[job],
                per_connector=job in PER_CONNECTOR_JOBS,
                schedules=schedules,
                next_run=min(s.next_run for s in schedules),
                last_run=_run_out(last[job], caller.org_id) if job in last else None,
            )
        )
    return out


def start(conn: Connection, caller: Caller, settings: JobSettings, job: str, body: RunRequest) -> Accepted:
    """Queue a manual run and hand it to the job function; 409 while the same run is active."""
    if job not in JOBS:
        raise NotFoundError("no such job", details={"jobs": list(JOBS)})
    if job in PER_CONNECTOR_JOBS and body.connector_id is None:
        raise ValidationFailedError(f"{job} runs per connector: give connector_id")
    if body.mode is not None and job != "sync":
        raise ValidationFailedError("mode applies to sync only")
    connector_id = None
    if body.connector_id is not None:
        connector_id = connectors_service.require(conn, caller, body.connector_id).id
    mode = body.mode or ("full" if job == "sync" else None)
    row = repo.create(
        conn,
        job=job,
        connector_id=connector_id,
        org_id=caller.org_id,
        trigger="manual",
        mode=mode,
        status="queued",
        requested_by=caller.user_id,
    )
    if row is None:
        raise ConflictError(f"{job} is already running for this connector" if connector_id else f"{job} is running")
    payload = {
        "run_id": row["id"],
        "connector_id": connector_id,
        "org_id": caller.org_id,
        "trigger": "manual",
        "mode": mode,
        "requested_by": caller.user_id,
    }
    try:
        dispatch(settings, job, payload)
    except Exception as exc:
        repo.finish(conn, row["id"], "failed", {}, f"could not start: {type(exc).__name__}")
        raise
    return Accepted(run_id=row["id"], job=job, status="queued")


def get_run(conn: Connection, caller: Caller, run_id: str) -> JobRun:
    try:
        rid = UUID(run_id)
    except ValueError as exc:
        raise NotFoundError("run not found") from exc
    row = repo.get_for_org(conn, caller.org_id, rid)
    if row is None:
        raise NotFoundError("run not found")
    return _run_out(row, caller.org_id)


def list_runs(
    conn: Connection,
    caller: Caller,
    *,
    job: str | None,
    connector_id: UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> Page[JobRun]:
    rows, total = repo.list_for_org(
        conn, caller.org_id, job=job, connector_id=connector_id, status=status, limit=limit, offset=offset
    )
    return Page[JobRun](items=[_run_out(r, caller.org_id) for r in rows], total=total, limit=limit, offset=offset)
