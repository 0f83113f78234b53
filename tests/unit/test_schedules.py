"""The schedule table: cron semantics for the local scheduler and the EventBridge form for the CDK."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from snowwatch.schedules import JOBS, SCHEDULES, Schedule


def test_every_job_has_a_schedule() -> None:
    assert {s.job for s in SCHEDULES} == set(JOBS)


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("0 2 * * *", datetime(2026, 11, 25, 21, 40, tzinfo=UTC), datetime(2026, 11, 26, 2, 0, tzinfo=UTC)),
        ("*/5 * * * *", datetime(2026, 11, 25, 21, 40, tzinfo=UTC), datetime(2026, 11, 25, 21, 45, tzinfo=UTC)),
        ("20 * * * *", datetime(2026, 11, 25, 21, 20, tzinfo=UTC), datetime(2026, 11, 25, 22, 20, tzinfo=UTC)),
        ("0 0 1 * *", datetime(2026, 11, 25, 0, 0, tzinfo=UTC), datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_next_run(cron: str, after: datetime, expected: datetime) -> None:
    assert Schedule("x", "sync", cron).next_run(after, "UTC") == expected


def test_next_run_respects_the_timezone() -> None:
    """Given 02:00 in Berlin, when asked after 00:00 UTC in winter, then it is 01:00 UTC."""
    nxt = Schedule("x", "sync", "0 2 * * *").next_run(datetime(2026, 11, 25, 0, 0, tzinfo=UTC), "Europe/Berlin")
    assert nxt.astimezone(UTC) == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def test_eventbridge_expressions() -> None:
    assert Schedule("x", "sync", "0 2 * * *").eventbridge_expression() == "cron(0 2 * * ? *)"
    assert Schedule("x", "sync", "*/5 * * * *").eventbridge_expression() == "cron(*/5 * * * ? *)"
    assert Schedule("x", "sync", "0 0 * * 1").eventbridge_expression() == "cron(0 0 ? * 2 *)"
