"""The in-process scheduler runs the schedule table as EventBridge Scheduler would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from snowwatch.schedules import SCHEDULES
from snowwatch.services import dispatch
from snowwatch_local.scheduler import Scheduler

pytestmark = pytest.mark.integration


def test_due_schedules_dispatch_their_job_with_the_payload(stack, monkeypatch) -> None:
    """Given every schedule due, when the scheduler ticks, then each job is dispatched once with its payload
    and trigger=schedule, and its next run moves into the future."""
    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(dispatch, "_local_handlers", {})
    for job in {s.job for s in SCHEDULES}:
        dispatch.register_local(job, lambda event, ctx, j=job: calls.append((j, event)))
    scheduler = Scheduler()
    now = datetime.now(UTC)
    scheduler.next_runs = {s.id: now - timedelta(minutes=1) for s in SCHEDULES}
    fired = scheduler.due(now)
    assert sorted(fired) == sorted(s.id for s in SCHEDULES)
    assert ("sync", {"trigger": "schedule", "mode": "metering"}) in calls
    assert all(event["trigger"] == "schedule" for _, event in calls)
    assert all(t > now for t in scheduler.next_runs.values())
    assert scheduler.due(now) == []
