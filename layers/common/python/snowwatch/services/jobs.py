"""Jobs: the one runner every job function goes through, and the Jobs API use cases.

The runner records each run in ``job_runs`` (status, timings, per-source row counts, error) and
guarantees one run per (job, connector) at a time — for org-wide jobs (budget_check, snapshot, notify)
one per org for manual runs, which are scoped to the caller's org, and one for the schedule, which
covers every org, so no org's manual run blocks another org or the schedule. A scheduled event
without a connector fans out: one unit of work per active connector, each dispatched on its own, so
one broken connector never stops the others.

A running run beats a heartbeat every ``HEARTBEAT_SECONDS`` from a thread with its own connection;
runs whose heartbeat stopped (the function timed out or crashed, or its connection died) are failed
with the reason by the reaper that every run start calls. A failure is recorded on a fresh connection,
since the one the work used may be the reason it failed.

A job function receives either one event (a direct invoke: `aws lambda invoke` with
``{"connector_id": ...}``) or a batch of SQS records from its job queue, each record's body being
such an event. Records go through Powertools' BatchProcessor: a record whose run fails (recorded in
job_runs) is reported in ``batchItemFailures`` and comes back after the visibility timeout, then
goes to the DLQ; the others are done.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from snowwatch.db import Connection, connect
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
from snowwatch.settings import ApiSettings, RunnerSettings

MAX_ERROR_CHARS = 2000
HEARTBEAT_SECONDS = 60.0

S = TypeVar("S", bound=RunnerSettings)


@dataclass
class JobContext(Generic[S]):
    """What a unit of job work receives. ``org_id`` without a connector scopes an org-wide job to one org
    (a manual run); both None is the scheduled run over every org."""

    run_id: UUID
    job: str
    trigger: str
    mode: str | None
    connector: Connector | None
    org_id: UUID | None
    settings: S
    rows: dict[str, Any] = field(default_factory=dict)
    # time.monotonic() by which the function must be done (its Lambda context, or the settings budget)
    deadline: float | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # what the run could not do, and why: ends `partial`
    continuation: dict[str, Any] | None = None  # the work stopped early on purpose: the runner queues the rest
    resume: dict[str, Any] | None = None  # what the run this one continues left for it (its continuation)

    def remaining_seconds(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def skip(self, what: str, reason: str) -> None:
        self.skipped[what] = reason

    def continue_later(self, state: dict[str, Any]) -> None:
        """Queue the rest after this run: the next run gets ``state`` as its ``resume``."""
        self.continuation = state


Work = Callable[[Connection, JobContext[Any]], dict[str, Any] | None]


class LambdaTime(Protocol):
    """The part of the Lambda context the runner reads."""

    def get_remaining_time_in_millis(self) -> int: ...


def deadline(settings: RunnerSettings, context: LambdaTime | None) -> float | None:
    """When this invocation must be done: the Lambda context's remaining time, capped by the settings
    budget (JOB_TIME_BUDGET_SECONDS: a simulated per-run limit, locally and in benchmarks)."""
    limits = [float(settings.job_time_budget_seconds)] if settings.job_time_budget_seconds else []
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        limits.append(context.get_remaining_time_in_millis() / 1000)
    return time.monotonic() + min(limits) if limits else None


class Heartbeat:
    """Beats ``heartbeat_at`` of a running run from a daemon thread on its own connection."""

    def __init__(self, settings: RunnerSettings, run_id: UUID) -> None:
        self.settings, self.run_id = settings, run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        conn: Connection | None = None
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    conn = conn or connect(self.settings)
                    if not repo.heartbeat(conn, self.run_id):
                        return  # ended elsewhere (interrupted, reaped): nothing left to prove
                except Exception:
                    logger.warning("heartbeat failed; retrying on a new connection")
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.close()
                    conn = None
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()


def _record_failure(conn: Connection, settings: RunnerSettings, ctx: JobContext[Any], exc: Exception) -> None:
    """On a fresh connection: the work's connection may be dead, or mid-transaction."""
    with contextlib.suppress(Exception):
        conn.run("ROLLBACK")
    error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    try:
        with contextlib.closing(connect(settings)) as fresh:
            repo.finish(fresh, ctx.run_id, "failed", ctx.rows, error)
    except Exception:
        logger.exception("could not record the failure; the reaper will fail the run when its heartbeat stops")


# All-failed batches are reported item by item too (not raised), so SQS retries exactly the failed ones.
_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle(
    conn: Connection,
    settings: RunnerSettings,
    job: str,
    raw_event: dict[str, Any] | None,
    work: Work,
    context: LambdaTime | None = None,
) -> dict[str, Any]:
    """Entry point of every job function's handler: one event, or a batch from the job's queue."""
    if raw_event and "Records" in raw_event:
        if not is_job_batch(settings, job, raw_event):
            raise ValueError(f"SQS records from a queue that is not {job}'s (JOB_QUEUES)")
        return dict(
            process_partial_response(
                event=raw_event,
                record_handler=partial(_record, conn, settings, job, work, context),
                processor=_processor,
            )
        )
    event = JobEvent.model_validate(raw_event or {})
    if job in PER_CONNECTOR_JOBS and event.connector_id is None:
        return fan_out(conn, settings, job, event)
    return run(conn, settings, job, event, work, context)


def is_job_batch(settings: RunnerSettings, job: str, raw_event: dict[str, Any]) -> bool:
    """True when every record comes from ``job``'s own queue (the notify function also consumes the
    notifications queue, whose records are outbox ids)."""
    queue = settings.job_queues.get(job, "").rstrip("/").rsplit("/", 1)[-1]
    records = raw_event.get("Records") or []
    return bool(queue and records) and all(
        str(r.get("eventSourceARN", "")).rsplit(":", 1)[-1] == queue for r in records
    )


def _record(
    conn: Connection, settings: RunnerSettings, job: str, work: Work, context: LambdaTime | None, record: SQSRecord
) -> dict[str, Any]:
    """One message of the job's queue: its body is the event a direct invoke would carry."""
    body = json.loads(record.body)
    if not isinstance(body, dict) or "Records" in body:
        raise ValueError("a job message is one JSON event object")
    return handle(conn, settings, job, body, work, context)


def fan_out(conn: Connection, settings: RunnerSettings, job: str, event: JobEvent) -> dict[str, Any]:
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


def run(
    conn: Connection,
    settings: RunnerSettings,
    job: str,
    event: JobEvent,
    work: Work,
    context: LambdaTime | None = None,
) -> dict[str, Any]:
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
    ctx: JobContext[Any] = JobContext(
        run_id=row["id"],
        job=job,
        trigger=event.trigger,
        mode=event.mode,
        connector=connector,
        org_id=org_id,
        settings=settings,
        deadline=deadline(settings, context),
        resume=event.resume,
    )
    logger.append_keys(job=job, run_id=str(ctx.run_id), connector_id=str(event.connector_id or ""))
    try:
        repo.bound_statements(conn, settings.job_statement_timeout_seconds)
        with Heartbeat(settings, ctx.run_id):
            result = work(conn, ctx) or {}
        ctx.rows.update(result)
    except Exception as exc:
        _record_failure(conn, settings, ctx, exc)
        metrics.add_metric(name=f"{job}_failed", unit="Count", value=1)
        logger.exception("job failed")
        raise
    status = "partial" if ctx.skipped else "succeeded"
    error = "; ".join(f"{what}: {why}" for what, why in ctx.skipped.items())[:MAX_ERROR_CHARS] or None
    repo.finish(conn, ctx.run_id, status, ctx.rows, error)
    metrics.add_metric(name=f"{job}_{status}", unit="Count", value=1)
    out: dict[str, Any] = {"job": job, "run_id": str(ctx.run_id), "status": status, "rows": ctx.rows}
    if ctx.continuation is not None:
        out["continuation"] = _continue(conn, settings, ctx, ctx.continuation)
    return out


def _continue(conn: Connection, settings: RunnerSettings, ctx: JobContext[Any], state: dict[str, Any]) -> str | None:
    """Queue the rest of a run that stopped early on purpose (its time budget) and dispatch it the way
    every run is dispatched (the job's own queue in AWS). None when another run of the job is active."""
    row = repo.create(
        conn,
        job=ctx.job,
        connector_id=ctx.connector.id if ctx.connector else None,
        org_id=ctx.org_id,
        trigger=ctx.trigger,
        mode=ctx.mode,
        status="queued",
        continues=ctx.run_id,
    )
    if row is None:
        return None
    payload = {
        "run_id": row["id"],
        "connector_id": ctx.connector.id if ctx.connector else None,
        "org_id": ctx.org_id,
        "trigger": ctx.trigger,
        "mode": ctx.mode,
        "resume": state,
    }
    metrics.add_metric(name=f"{ctx.job}_continued", unit="Count", value=1)
    try:
        dispatch(settings, ctx.job, payload)
    except Exception as exc:
        repo.finish(conn, row["id"], "failed", {}, f"could not continue: {type(exc).__name__}")
        raise
    return str(row["id"])


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


def start(conn: Connection, caller: Caller, settings: ApiSettings, job: str, body: RunRequest) -> Accepted:
    """Queue a manual run and hand it to the job function; 409 while the same run is active. A manual run
    of an org-wide job covers the caller's org only (its budgets, its outbox, its counts)."""
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
