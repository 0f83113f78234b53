"""The shared job runner: run records, failures, one run at a time, fan-out, redelivery, reaping."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from snowwatch.db import query_one
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


def test_runs_left_running_by_a_killed_function_are_reaped(db) -> None:
    """Given a run 'running' for an hour (its function died), when the job starts again, then the old run
    is marked interrupted and the new one runs."""
    stale = repo.create(
        db, job="notify", connector_id=None, org_id=None, trigger="schedule", mode=None, status="running"
    )
    assert stale is not None
    db.run("UPDATE enterprise.job_runs SET started_at = now() - interval '1 hour' WHERE id = :id", id=stale["id"])
    result = jobs.run(db, get_settings(JobSettings), "notify", JobEvent(trigger="schedule"), lambda c, ctx: {})
    assert result["status"] == "succeeded"
    assert _run_row(db, stale["id"])["status"] == "interrupted"


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
