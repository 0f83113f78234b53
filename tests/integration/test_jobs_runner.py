"""The shared job runner: run records, failures, one run at a time, fan-out, redelivery, reaping."""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import uuid4

import pytest

from snowwatch.db import connect, get_connection, query_one
from snowwatch.models.jobs import JobEvent
from snowwatch.repositories import jobs as repo
from snowwatch.services import dispatch, jobs
from snowwatch.settings import JobSettings, get_settings

pytestmark = pytest.mark.integration


def _run_row(db, run_id: Any) -> dict:
    row = query_one(db, "SELECT * FROM enterprise.job_runs WHERE id = :id", id=run_id)
    assert row is not None
    return row


def test_a_successful_run_records_rows_and_timings(db) -> None:
    """Given work returning row counts, when run, then the run is succeeded with rows, start and finish."""
    result = jobs.run(
        db, get_settings(JobSettings), "snapshot", JobEvent(trigger="schedule"), lambda c, ctx: {"budgets": 3}
    )
    row = _run_row(db, result["run_id"])
    assert row["status"] == "succeeded" and row["rows"] == {"budgets": 3}
    assert row["finished_at"] >= row["started_at"]


def test_a_failing_run_records_the_error_and_reraises(db) -> None:
    """Given work that raises, when run, then the run is failed with the error text and the error propagates."""

    def boom(c, ctx):
        ctx.rows["read"] = 5
        raise RuntimeError("warehouse exploded")

    with pytest.raises(RuntimeError):
        jobs.run(db, get_settings(JobSettings), "snapshot", JobEvent(trigger="schedule"), boom)
    row = query_one(db, "SELECT * FROM enterprise.job_runs WHERE job = 'snapshot' ORDER BY created_at DESC LIMIT 1")
    assert row is not None
    assert row["status"] == "failed" and "warehouse exploded" in row["error"] and row["rows"] == {"read": 5}


def test_only_one_run_per_job_and_connector(db, stack) -> None:
    """Given a running sync for a connector, when another starts, then it is skipped, not run."""
    active = repo.create(
        db,
        job="sync",
        connector_id=stack.connector_id,
        org_id=None,
        trigger="schedule",
        mode="full",
        status="running",
    )
    assert active is not None
    try:
        ran = []
        result = jobs.run(
            db,
            get_settings(JobSettings),
            "sync",
            JobEvent(connector_id=stack.connector_id, trigger="schedule"),
            lambda c, ctx: ran.append(1),
        )
        assert result["status"] == "skipped" and ran == []
    finally:
        repo.finish(db, active["id"], "succeeded", {}, None)


def test_a_redelivered_manual_run_does_nothing(db) -> None:
    """Given a queued run already taken, when its event arrives again, then nothing runs twice."""
    queued = repo.create(
        db, job="budget_check", connector_id=None, org_id=None, trigger="manual", mode=None, status="queued"
    )
    assert queued is not None
    calls: list[int] = []
    event = JobEvent(run_id=queued["id"], trigger="manual")
    jobs.run(db, get_settings(JobSettings), "budget_check", event, lambda c, ctx: calls.append(1))
    again = jobs.run(db, get_settings(JobSettings), "budget_check", event, lambda c, ctx: calls.append(1))
    assert calls == [1] and again["status"] == "skipped"


def test_runs_whose_heartbeat_stopped_are_failed_with_the_reason(db) -> None:
    """Given a run 'running' whose last heartbeat is 6 minutes old (its function died), when any job starts,
    then the old run is failed saying since when it was silent, and the new one runs."""
    stale = repo.create(
        db, job="notify", connector_id=None, org_id=None, trigger="schedule", mode=None, status="running"
    )
    assert stale is not None
    db.run(
        "UPDATE enterprise.job_runs SET started_at = now() - interval '1 hour', "
        "heartbeat_at = now() - interval '6 minutes' WHERE id = :id",
        id=stale["id"],
    )
    result = jobs.run(db, get_settings(JobSettings), "notify", JobEvent(trigger="schedule"), lambda c, ctx: {})
    assert result["status"] == "succeeded"
    row = _run_row(db, stale["id"])
    assert row["status"] == "failed" and row["error"].startswith("no heartbeat since ")


def test_a_long_run_with_a_live_heartbeat_is_not_reaped(db, monkeypatch) -> None:
    """Given a run that started an hour ago and beats, when the reaper runs, then it is left running."""
    alive = repo.create(
        db, job="snapshot", connector_id=None, org_id=None, trigger="schedule", mode=None, status="running"
    )
    assert alive is not None
    db.run("UPDATE enterprise.job_runs SET started_at = now() - interval '1 hour' WHERE id = :id", id=alive["id"])
    assert repo.heartbeat(db, alive["id"])
    repo.reap_stale(db)
    assert _run_row(db, alive["id"])["status"] == "running"
    repo.finish(db, alive["id"], "succeeded", {}, None)


def test_a_running_job_beats_its_heartbeat(db, monkeypatch) -> None:
    """Given a heartbeat every 0.2 s, when the work takes 1 s, then heartbeat_at moved past started_at."""
    import time

    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.2)
    seen: dict[str, Any] = {}

    def slow(c, ctx):
        time.sleep(1.0)
        seen.update(_run_row(db, ctx.run_id))

    jobs.run(db, get_settings(JobSettings), "snapshot", JobEvent(trigger="schedule"), slow)
    assert seen["heartbeat_at"] > seen["started_at"]


def test_a_failure_after_the_connection_died_is_recorded_on_a_fresh_one(db, stack) -> None:
    """Given work whose Postgres connection is killed mid-run, when it fails, then the run is failed with the
    error (recorded on a new connection), not left running, and the next run is not refused."""
    from snowwatch.db import get_connection

    settings = get_settings(JobSettings)
    conn = get_connection(settings)

    def killed(c, ctx):
        pid = c.run("SELECT pg_backend_pid()")[0][0]
        with contextlib.closing(connect(settings)) as other:
            other.run("SELECT pg_terminate_backend(:p)", p=pid)
        c.run("SELECT 1")  # the socket is gone

    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for a dead socket
        jobs.run(conn, settings, "snapshot", JobEvent(trigger="schedule"), killed)
    row = query_one(get_connection(settings), "SELECT * FROM enterprise.job_runs WHERE job = 'snapshot' "
                    "ORDER BY created_at DESC LIMIT 1")  # fmt: skip
    assert row is not None and row["status"] == "failed" and row["error"]
    again = jobs.run(get_connection(settings), settings, "snapshot", JobEvent(trigger="schedule"), lambda c, ctx: {})
    assert again["status"] == "succeeded"


def test_a_late_outcome_never_overwrites_interrupted(db) -> None:
    """Given a run the local shutdown marked interrupted, when its job ends afterwards, then it stays
    interrupted."""
    run = repo.create(db, job="snapshot", connector_id=None, org_id=None, trigger="manual", mode=None, status="running")
    assert run is not None
    repo.interrupt_active(db, "local stack stopped")
    repo.finish(db, run["id"], "failed", {}, "late error")
    assert _run_row(db, run["id"])["status"] == "interrupted"


def test_stopping_the_local_stack_honours_the_grace_period(db, stack) -> None:
    """Given a local job that runs for 5 s, when the stack stops with a 1 s grace period, then stopping takes
    about 1 s, the run is interrupted, and it stays interrupted when the job ends."""
    import threading
    import time

    release = threading.Event()
    started = threading.Event()

    def slow_handler(event, context):
        jobs.run(
            get_connection(get_settings(JobSettings)),
            get_settings(JobSettings),
            "snapshot",
            JobEvent(trigger="manual"),
            lambda c, ctx: (started.set(), release.wait(5)),
        )

    dispatch.register_local("slow-job", slow_handler)
    dispatch.dispatch(get_settings(JobSettings).model_copy(update={"dispatch_mode": "thread"}), "slow-job", {})
    assert started.wait(10)
    t0 = time.monotonic()
    assert stack.stop_jobs(grace_seconds=1.0) >= 1
    assert time.monotonic() - t0 < 3
    run = query_one(db, "SELECT * FROM enterprise.job_runs WHERE job = 'snapshot' ORDER BY created_at DESC LIMIT 1")
    assert run is not None and run["status"] == "interrupted"
    release.set()
    assert dispatch.wait_local(timeout=10)
    assert _run_row(db, run["id"])["status"] == "interrupted"


def test_a_scheduled_per_connector_job_fans_out_and_survives_a_broken_connector(db, stack, monkeypatch) -> None:
    """Given several active connectors, when the scheduled sync arrives without a connector, then one unit is
    dispatched per connector, and a dispatch failure for one does not stop the others."""
    seen: list[str] = []

    def fake_dispatch(settings, job, payload) -> None:
        if str(payload["connector_id"]) == str(stack.other_connector_id):
            raise RuntimeError("throttled")
        seen.append(str(payload["connector_id"]))

    monkeypatch.setattr(jobs, "dispatch", fake_dispatch)
    result = jobs.handle(
        db, get_settings(JobSettings), "sync", {"trigger": "schedule", "mode": "full"}, lambda c, ctx: {}
    )
    active = db.run("SELECT count(*) FROM enterprise.connectors WHERE status <> 'paused'")[0][0]
    assert result["fanned_out"] == active and result["dispatch_failures"] == 1
    assert str(stack.connector_id) in seen and str(stack.other_connector_id) not in seen


def test_local_dispatch_runs_the_registered_handler(stack) -> None:
    received: list[dict] = []
    dispatch.register_local("test-job", lambda event, ctx: received.append(event))
    dispatch.dispatch(get_settings(JobSettings), "test-job", {"connector_id": uuid4()})
    assert received and "connector_id" in received[0]


def test_migrations_are_idempotent(stack) -> None:
    from snowwatch.db import migrate
    from snowwatch.settings import CommonSettings

    assert migrate.apply(get_settings(CommonSettings)) == []


def test_migrating_a_fresh_database_prints_nothing(stack: Any) -> None:
    """Given a new, empty database, when every migration is applied (as the migrate function and `make bench` do),
    then nothing is printed: a migration's bare SELECT printed its result, which broke bench.large's JSON output."""
    import os
    import subprocess
    import sys

    from snowwatch_local import services

    url = services.ensure_database("snowwatch_migrate_quiet", fresh=True)
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "from snowwatch.db import migrate; from snowwatch.settings import CommonSettings, get_settings; "
                "migrate.apply(get_settings(CommonSettings))",
            ],
            env={**os.environ, **stack.env(), "DATABASE_URL": url, "POWERTOOLS_LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        assert out.stdout == ""
    finally:
        services.drop_database("snowwatch_migrate_quiet")
